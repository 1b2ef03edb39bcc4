"""How long does "look inside the network" take? Activations of every layer + their grid images.

    python benchmarks/bench_inspect.py [--repeat 10]

For resnet18 at 224x224 (weights=None: timing does not depend on the weights) and the
bundled digits net at 28x28, prints the median time of (a) a plain forward pass, the
reference measured in the same run, (b) all activations through cnnviz.analysis.inspect, and
(c) (b) plus one rendered grid per layer with activation maps (strongest 64 channels).
Targets (issue 4): resnet18 <= 300 ms, digits <= 30 ms for (c) on 2 cores.
"""

from __future__ import annotations

import argparse

from timing import median_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args()
    import torch
    import torchvision

    from cnnviz import figures
    from cnnviz.analysis import inspect as insp
    from cnnviz.models import DigitsCNN

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {a.repeat}")
    nets = [("resnet18 224x224", torchvision.models.resnet18(weights=None).eval(), (1, 3, 224, 224), 300),
            ("digits 28x28", DigitsCNN().eval(), (1, 1, 28, 28), 30)]
    print(f"{'network':18s} {'forward':>9s} {'acts':>9s} {'acts+grids':>11s} {'ratio':>6s} {'target':>7s}")
    for name, model, shape, target in nets:
        x = torch.randn(shape)

        def grids():
            acts = insp.activations(model, x)
            return [figures.map_grid(insp.to_numpy_maps(v), order=insp.rank_channels(v[0])[:64], cell=48)
                    for v in acts.values() if v.ndim == 4]

        with torch.no_grad():
            fwd = median_ms(lambda: model(x), a.repeat)
        acts = median_ms(lambda: insp.activations(model, x), a.repeat)
        full = median_ms(grids, a.repeat)
        verdict = "ok" if full <= target else "SLOW"
        print(f"{name:18s} {fwd:8.1f}ms {acts:8.1f}ms {full:10.1f}ms {full / fwd:6.2f} {target:5d}ms {verdict}")


if __name__ == "__main__":
    main()
