"""How sure is the network, and has it ever seen anything like this picture?

A softmax always picks a class: it turns any outputs into percentages that add up
to 100 % over the classes the network knows, and there is no "none of these". So
a cat photo given to the digits network still gets a digit, often with a high
percentage. ``assess(logits)`` reads the outputs for two warnings a learner can
use:

- **unsure**: the top probability is low (under ``UNSURE_BELOW``), so the
  network hesitates between classes. On its own test pictures such answers are
  wrong far more often than confident ones (``benchmarks/ood_check.py``).
- **unfamiliar**: the outputs carry less total evidence than the network gives
  almost all of its own test pictures, *or* what its last layer reads in the picture
  is far from what it reads in every one of them.

  The evidence is the *energy* ``logsumexp(logits)`` (Liu et al., 2020, "Energy-based
  out-of-distribution detection"): unlike the percentages, it is not normalized, so it
  drops when no class finds its features in the picture. The threshold is the
  ``REFERENCE_QUANTILE`` quantile of the energies of the network's own test pictures.

  The energy misses pictures whose outputs happen to be strong (Tiny VGG gave the
  checkerboard "frog, 89.9 %" with an ordinary energy). So the penultimate features
  (the numbers the classifier reads, ``inspect.with_features``) are compared too, by
  cosine distance to the nearest of the reference pictures' (Sun et al., 2022, "Out-of-
  distribution detection with deep nearest neighbors"); the threshold is the
  ``FEATURE_QUANTILE`` quantile of each reference picture's distance to its nearest
  other one. Both are measured once, on the network's own test pictures
  (``reference_of``); together they flag about 7-11 % of its own held-out pictures.

Neither warning is a guarantee: a picture from another world can still get a
strong, confident answer that looks familiar (noise into the digits network does).
Measured by ``benchmarks/ood_check.py --n 300`` (the reference on 300 test pictures,
as in the app; 300 held-out test pictures of the network's own dataset, 300 of each
other dataset, the app's 6 samples, 50 noise pictures; the bundled sample):

- digits: own 93 % confident (100 % right), 7 % unfamiliar; Fashion-MNIST 95 %,
  CIFAR-10 99 % unfamiliar; samples 4 of 6 (not the checkerboard, nor the digit);
  random noise 100 % confident (a softmax can be sure of nonsense).
- fashion: own 88 % confident (97 % right), 2 % unsure, 11 % unfamiliar; MNIST 42 %,
  CIFAR-10 55 %, noise 96 % unfamiliar; samples 4 of 6.
- tiny-rgb (label smoothing keeps its outputs small, so the energy tells less): own 67 %
  confident (86 % right), 28 % unsure (55 % right), 6 % unfamiliar; MNIST 7 %,
  Fashion-MNIST 20 % unfamiliar; samples 6 of 6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from cnnviz.maths.layers import probabilities

LEVELS = ("confident", "unsure", "unfamiliar")
UNSURE_BELOW = 0.6          # top probability under this: "unsure"
REFERENCE_QUANTILE = 0.05   # energy under this quantile of the network's own test pictures: "unfamiliar"
FEATURE_QUANTILE = 0.99     # nearest reference picture farther than this quantile of theirs: "unfamiliar"


@dataclass(frozen=True)
class Reference:
    """What the network's outputs (and, when measured, its penultimate features) look like on
    its own test pictures."""

    energy_low: float    # the REFERENCE_QUANTILE quantile of logsumexp(logits) on them
    energy_median: float
    n: int               # how many pictures it was measured on
    # their penultimate features, each scaled to length 1 (n, numbers), and the FEATURE_QUANTILE
    # quantile of each one's cosine distance to its nearest other one
    features: np.ndarray | None = field(default=None, compare=False, repr=False)
    distance_high: float | None = None


@dataclass(frozen=True)
class Confidence:
    """What the outputs for one picture say about the answer."""

    top: int             # index of the most probable class
    second: int          # index of the runner-up (== top when there is one class)
    top_prob: float      # its softmax probability, 0..1
    second_prob: float
    margin: float        # top_prob - second_prob
    entropy: float       # of the softmax, divided by log(classes): 0 = all on one class, 1 = uniform
    energy: float        # logsumexp(logits): the total evidence, not normalized
    level: str           # "confident", "unsure" or "unfamiliar" (see LEVELS)
    reference: Reference | None = None
    distance: float | None = None   # cosine distance of its features to the nearest reference picture's

    @property
    def weak_evidence(self) -> bool:
        return self.reference is not None and self.energy < self.reference.energy_low

    @property
    def far_features(self) -> bool:
        return self.distance is not None and self.reference is not None and \
            self.reference.distance_high is not None and self.distance > self.reference.distance_high

    @property
    def familiar(self) -> bool | None:
        """Whether the evidence (and the features, when measured) are within the network's usual
        range (None without a reference)."""
        return None if self.reference is None else not (self.weak_evidence or self.far_features)


def _as_vector(logits) -> np.ndarray:
    if hasattr(logits, "detach"):            # a torch tensor, without importing torch
        logits = logits.detach().cpu().numpy()
    z = np.asarray(logits, dtype=np.float64)
    z = z.reshape(-1) if z.ndim > 1 and z.shape[0] == 1 else z
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"expected the logits of one picture, shape (classes,), got {np.shape(logits)}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite")
    return z


def _logsumexp(z: np.ndarray, axis=-1) -> np.ndarray:
    top = z.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(z - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def assess(logits, reference: Reference | None = None, *, features=None,
           unsure_below: float = UNSURE_BELOW) -> Confidence:
    """The confidence of one prediction from its logits (the outputs before softmax).

    ``logits``: shape (classes,) or (1, classes), numpy or torch. ``reference``: the
    network's usual evidence (``reference(...)``); without it the level is only
    "confident" or "unsure". ``features``: the picture's penultimate features
    (``inspect.with_features``), compared with the reference's when it has them.
    """
    z = _as_vector(logits)
    p = probabilities(z)   # the one softmax: cnnviz.maths.layers
    order = np.argsort(-p, kind="stable")
    top, second = int(order[0]), int(order[1] if len(order) > 1 else order[0])
    n = len(p)
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum() / math.log(n)) if n > 1 else 0.0
    energy = float(_logsumexp(z))
    top_prob, second_prob = float(p[top]), float(p[second]) if second != top else 0.0
    distance = None
    if reference is not None and reference.features is not None and features is not None:
        distance = float(nearest_distance(_unit(features), reference.features)[0])
    c = Confidence(top, second, top_prob, second_prob, top_prob - second_prob, min(max(entropy, 0.0), 1.0),
                   energy, "confident", reference, distance)
    if c.familiar is False:
        return replace(c, level="unfamiliar")
    return replace(c, level="unsure") if top_prob < unsure_below else c


def _unit(features) -> np.ndarray:
    """Features (numbers,) or (pictures, numbers), numpy or torch, each scaled to length 1 (float32)."""
    if hasattr(features, "detach"):
        features = features.detach().cpu().numpy()
    f = np.asarray(features, dtype=np.float64)
    f = f.reshape(1, -1) if f.ndim == 1 else f.reshape(f.shape[0], -1)
    return (f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def nearest_distance(unit_features: np.ndarray, reference_features: np.ndarray) -> np.ndarray:
    """Cosine distance (1 - cos) of each picture's unit features to the nearest reference picture's:
    0 = the same direction, 1 = at right angles (features after ReLU are never further apart)."""
    return np.clip(1.0 - (unit_features @ reference_features.T).max(axis=1), 0.0, 2.0)


def energies(logits) -> np.ndarray:
    """logsumexp of each row of a (pictures, classes) array of logits."""
    if hasattr(logits, "detach"):
        logits = logits.detach().cpu().numpy()
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"expected (pictures, classes) logits, got shape {z.shape}")
    return _logsumexp(z, axis=1)


def reference(logits, quantile: float = REFERENCE_QUANTILE, *, features=None,
              feature_quantile: float = FEATURE_QUANTILE) -> Reference:
    """The usual evidence of a network, from its logits on its own test pictures (pictures, classes),
    and, with their penultimate ``features`` (pictures, numbers), how far apart its own pictures
    usually are: each one's distance to its nearest other one (leave one out), at ``feature_quantile``."""
    e = energies(logits)
    if features is None or len(e) < 2:
        return Reference(float(np.quantile(e, quantile)), float(np.median(e)), len(e))
    unit = _unit(features)
    if len(unit) != len(e):
        raise ValueError(f"{len(unit)} pictures' features for {len(e)} pictures' logits")
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)                 # not itself
    own = np.clip(1.0 - cos.max(axis=1), 0.0, 2.0)
    return Reference(float(np.quantile(e, quantile)), float(np.median(e)), len(e), unit,
                     float(np.quantile(own, feature_quantile)))


def reference_of(model, x, batch: int = 256) -> Reference:
    """``reference`` of ``model`` (eval mode, not changed) on preprocessed test pictures ``x`` (N, C, H, W),
    with their penultimate features."""
    import torch

    from cnnviz.analysis.inspect import with_features

    outs, feats = [], []
    for i in range(0, len(x), batch):
        out, f = with_features(model, x[i:i + batch])
        outs.append(out)
        feats.append(f)
    features = None if any(f is None for f in feats) else torch.cat(feats)
    return reference(torch.cat(outs), features=features)


def reference_of_pictures(loaded, pictures) -> Reference:
    """``reference_of`` the network of ``loaded`` (a ``LoadedModel``) on ``pictures`` (PIL images),
    each through ``loaded.preprocess`` as a learner's picture goes."""
    import torch

    return reference_of(loaded.model, torch.cat([loaded.preprocess(img) for img in pictures]))


def dataset_reference(loaded, dataset: str, n: int, *, native: bool) -> Reference | None:
    """The usual evidence of ``loaded`` on the first ``n`` test pictures of ``dataset``, or None (and
    a warning in the log) when the dataset can't be read.

    ``native``: the pictures are already in the network's input format (a bundled network on its
    own test pictures), so ``loaded.preprocess`` would only normalize them: the batch is normalized
    at once (the digits network's per-picture path costs 3.4 s for 300 pictures, this 0.6 s; a test
    checks both give the same input). Else (a learner's network, which may take another size or
    colour) each picture goes through ``loaded.preprocess`` (``reference_of_pictures``)."""
    import logging

    from cnnviz.base.errors import CnnvizError
    from cnnviz.data import datasets

    try:
        if native:
            x, _ = datasets.first_test_images(dataset, n)
            return reference_of(loaded.model, datasets.normalize(x, loaded.mean, loaded.std))
        return reference_of_pictures(loaded, datasets.first_test_pictures(dataset, n))
    except (CnnvizError, OSError) as err:
        logging.getLogger("cnnviz").warning("no reference for %s on %s: %s", loaded.name, dataset, err)
        return None
