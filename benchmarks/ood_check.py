"""How often each confidence level fires on pictures from the network's own world and from others.

    python benchmarks/ood_check.py [--n 500]

For each bundled network: the reference (``cnnviz.analysis.confidence.reference``) is measured on the
first n test pictures of its own dataset, then ``assess`` runs on n *other* test pictures of
that dataset (in-distribution, held out from the reference) and on pictures it never saw the
like of (out-of-distribution): the two other datasets' test pictures, the app's sample images,
and random noise. Every picture goes through the model's own ``preprocess``, as in the lessons.
Prints, per set, the percentage of "confident" / "unsure" / "unfamiliar", and on the network's
own pictures its accuracy at each level (what the warnings are worth). Uses the full datasets
if present, else the bundled 1,000-image samples (then n is at most 500).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from cnnviz.analysis import confidence, inspect
from cnnviz import data, models
from cnnviz.maths import images  # noqa: E402

DATASETS = ("mnist", "fashion", "cifar10-subset")


def pictures(name: str, start: int, n: int):
    ds = data.load_dataset(name, train=False)
    stop = min(start + n, len(ds))
    return [ds[i][0].convert("RGB") for i in range(start, stop)], [int(ds.targets[i]) for i in range(start, stop)]


def logits(loaded, imgs) -> tuple[torch.Tensor, torch.Tensor]:
    """The outputs and the penultimate features (what the classifier reads) of each picture."""
    return inspect.with_features(loaded.model, torch.cat([loaded.preprocess(im) for im in imgs]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    noise = [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(50)]
    samples = [images.load_sample(k) for k in images.SAMPLES]
    print(f"unsure: top probability < {confidence.UNSURE_BELOW:.0%}; unfamiliar: energy under the "
          f"{confidence.REFERENCE_QUANTILE:.0%} quantile of the first {args.n} own test pictures, or the "
          f"nearest of their penultimate features farther than the {confidence.FEATURE_QUANTILE:.0%} quantile "
          f"of theirs\n")
    print(f"{'network':10s} {'pictures':28s} {'n':>5s} {'confident':>10s} {'unsure':>8s} {'unfamiliar':>11s}"
          f"   accuracy when confident / unsure / unfamiliar")
    for name in ("digits", "fashion", "tiny-rgb"):
        loaded = models.load(name)
        own = data.dataset_for_model(name)
        ref_imgs, _ = pictures(own, 0, args.n)
        z, f = logits(loaded, ref_imgs)
        ref = confidence.reference(z, features=f)
        sets = {f"{own} (own, held out)": pictures(own, args.n, args.n)}
        for other in DATASETS:
            if other != own:
                sets[other] = (pictures(other, 0, args.n)[0], None)   # its labels mean nothing here
        sets["app samples"] = (samples, None)
        sets["random noise"] = (noise, None)
        for label, (imgs, truth) in sets.items():
            z, f = logits(loaded, imgs)
            found = [confidence.assess(row, ref, features=v) for row, v in zip(z, f)]
            levels = np.array([c.level for c in found])
            share = {lv: 100 * np.mean(levels == lv) for lv in confidence.LEVELS}
            line = (f"{name:10s} {label:28s} {len(imgs):5d} {share['confident']:9.1f}% {share['unsure']:7.1f}%"
                    f" {share['unfamiliar']:10.1f}%")
            if truth is not None:
                right = np.array([c.top == y for c, y in zip(found, truth)])
                acc = [f"{100 * right[levels == lv].mean():5.1f}%" if (levels == lv).any() else "    -"
                       for lv in confidence.LEVELS]
                line += "   " + " / ".join(acc)
            print(line)
        print(f"{'':10s} reference: energy {confidence.REFERENCE_QUANTILE:.0%} quantile {ref.energy_low:.2f}, "
              f"median {ref.energy_median:.2f}; nearest-feature distance {confidence.FEATURE_QUANTILE:.0%} "
              f"quantile {ref.distance_high:.3f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
