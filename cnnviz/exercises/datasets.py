"""Questions of the Datasets lesson: a normalized pixel, the numbers a dataset stores, the batches
of an epoch. The answers come from the modules that own the maths (``datasets.normalize``,
``params.inputs``, ``fit.steps_per_epoch``)."""

from __future__ import annotations

from dataclasses import dataclass

from cnnviz.data.datasets import DATASETS
from cnnviz.maths import params as cparams
from .core import _kind, _pick, _q, fmt


@dataclass(frozen=True)
class Written:
    """A number written with all its ``digits`` (the constants' 4 decimals: 0.4822, not 0.482)."""
    value: float
    digits: int

    def text(self, lang: str) -> str:
        return fmt(self.value, lang, self.digits)

# (mean, std) pairs the app's networks really use: MNIST, Fashion-MNIST and each CIFAR-10 channel
_CONSTANTS = [(DATASETS[d].mean[c], DATASETS[d].std[c]) for d in ("mnist", "fashion", "cifar10-subset")
              for c in range(DATASETS[d].in_channels)]
_SHAPES = [(28, 28, 1), (32, 32, 3), (64, 64, 3), (224, 224, 3)]
_COUNTS = [1_000, 4_000, 10_000, 50_000, 60_000]


@_kind("datasets.normalize", "datasets")
def _datasets_normalize(rng):
    import torch

    from cnnviz.data.datasets import normalize

    mean, std = _pick(rng, _CONSTANTS)
    p = int(rng.integers(0, 256))
    x = p / 255
    z = float(normalize(torch.tensor([[[x]]], dtype=torch.float64), (mean,), (std,)).item())
    mean_text, std_text = Written(mean, 4), Written(std, 4)
    return _q("datasets.normalize", {"mean": mean_text, "std": std_text, "p": p}, "number", z, tolerance=0.01,
              explain={"p": p, "x": Written(x, 4), "mean": mean_text, "std": std_text, "zero": round(mean * 255, 1)},
              section="datasets.stats_header")


@_kind("datasets.values", "datasets")
def _datasets_values(rng):
    h, w, c = _pick(rng, _SHAPES)
    n = int(_pick(rng, _COUNTS))
    per = cparams.inputs((h, w, c))
    return _q("datasets.values", {"n": n, "h": h, "w": w, "c": c}, "number", n * per,
              explain={"n": n, "h": h, "w": w, "c": c, "per": per}, section="datasets.shape_header")


@_kind("datasets.steps", "datasets")
def _datasets_steps(rng):
    from cnnviz.train.fit import steps_per_epoch

    b = int(_pick(rng, [16, 32, 64, 100, 128, 256]))
    n = b
    while n % b == 0:                  # a last, smaller batch: the question is whether to count it
        n = int(rng.integers(3, 600)) * 100 + int(rng.integers(0, 100))
    steps = steps_per_epoch(n, b)
    return _q("datasets.steps", {"n": n, "b": b}, "number", steps,
              explain={"n": n, "b": b, "full": n // b, "last": n - (steps - 1) * b},
              section="datasets.loader_header")
