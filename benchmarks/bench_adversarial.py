"""FGSM and PGD through cnnviz.analysis.adversarial vs a direct captum.robust call, same run.

    python benchmarks/bench_adversarial.py [--repeat 10] [--model digits] [--batch 1]

Both attack the same picture(s) of the bundled network's test sample at epsilon 0.1 in pixel units:
captum's FGSM / PGD called directly on the shared network with the normalization inside the attacked
function, against ``adversarial.fgsm`` / ``pgd`` (the private copy and its lock, denormalizing and
normalizing again, the prediction on the result). The direct call is timed alone and with the one
forward pass that gives the answer on its result (what the lesson needs, and what ours returns).
Prints the medians, the ratio to the latter (target: <= 1.3, the wrapper costs little next to the
gradients) and whether both give the same pixels.
"""

from __future__ import annotations

import argparse
import warnings

import statistics
import time

from timing import median_ms  # noqa: F401  (puts the repo on the path)

warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--model", default="digits", choices=["digits", "fashion", "tiny-rgb"])
    ap.add_argument("--batch", type=int, default=1)
    a = ap.parse_args()
    import torch
    import torch.nn.functional as F
    from captum.robust import FGSM, PGD

    from cnnviz import models
    from cnnviz.analysis import adversarial
    from cnnviz.data import datasets

    loaded = models.load(a.model)
    dataset = models.BUNDLED[a.model].dataset
    pixels = datasets.as_tensors(datasets.load_sample(dataset), a.batch)[0]
    x = datasets.normalize(pixels, loaded.mean, loaded.std)
    eps = 0.1
    with torch.no_grad():
        label = loaded.model(x).argmax(1)

    def forward(p):
        return loaded.model(datasets.normalize(p, loaded.mean, loaded.std))

    def loss(out, y):
        return F.cross_entropy(out.double(), y, reduction="none")

    def direct_fgsm():
        attack = FGSM(forward, loss, lower_bound=0.0, upper_bound=1.0)
        attack.zero_thresh = 0.0
        return attack.perturb(pixels, eps, label)

    def direct_pgd():
        attack = PGD(forward, loss, lower_bound=0.0, upper_bound=1.0)
        attack.fgsm.zero_thresh = 0.0
        return attack.perturb(pixels, eps, adversarial.PGD_STEP_SHARE * eps, adversarial.PGD_STEPS, label)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {a.model}, batch {a.batch}, "
          f"median of {a.repeat}")
    def answered(fn):
        with torch.no_grad():
            return forward(fn()).argmax(1)

    def interleaved(fns, repeat):
        """Medians (ms) of each of ``fns``, called in turn in every round: on a shared machine a
        burst of load hits all of them, not the one that happened to run then."""
        for fn in fns:
            fn()                                     # warm up
        times = [[] for _ in fns]
        for _ in range(repeat):
            for fn, kept in zip(fns, times):
                t0 = time.perf_counter()
                fn()
                kept.append((time.perf_counter() - t0) * 1e3)
        return [statistics.median(kept) for kept in times]

    for name, ours_fn, ref_fn in (("FGSM", adversarial.fgsm, direct_fgsm), ("PGD", adversarial.pgd, direct_pgd)):
        ours, alone, ref = interleaved([lambda: ours_fn(loaded, x, epsilon=eps, label=label), ref_fn,
                                        lambda: answered(ref_fn)], a.repeat)
        ours_px = loaded.denormalize(ours_fn(loaded, x, epsilon=eps, label=label)[0])
        same = float(((ours_px - ref_fn()).abs() < 1e-5).float().mean())
        print(f"{name:4s} captum direct {alone:7.2f} ms, with the answer {ref:7.2f} ms   cnnviz {ours:7.2f} ms   "
              f"ratio {ours / ref:.2f} (target <= 1.3)   same pixels {100 * same:.2f} %")


if __name__ == "__main__":
    main()
