"""Shortcut learning: a cue planted in one class's training pictures, learned instead of the class.

A small bright square in a corner of every "shirt" of the training set is the easiest way to tell
shirts apart, so the network learns the square, not the shirt. This module plants such a cue
(``Cue``: its side, corner and colour; on a chosen share of one class's training and validation
pictures, ``plant``), trains the dataset's usual small network on the planted split
(``cnnviz.train.experiment.run_experiment``, through ``cnnviz.train.fit``) and measures on the
untouched test pictures (``measure``): the accuracy on clean pictures, the target class's accuracy
with the cue pasted on its pictures, the share of other classes' pictures that flip to the target
when the cue is pasted on them (per class, too), the clean confusion matrix and the share of
Grad-CAM's mass (``cnnviz.analysis.attribution``, for the predicted class) inside the cue's square,
to compare with the square's share of the picture's area.

The fixes (``FIXES``) train the same network again: ``clean``, the data without the cue; ``augment``,
the cue pasted on the same share of *every* class's training pictures, so that it says nothing
about the class. ``run_fix`` trains one of them; the numbers come side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from cnnviz.analysis import attribution
from cnnviz.data.datasets import DATASETS
from cnnviz.data.splits import SmallSplit
from cnnviz.train import experiment
from cnnviz.train.fit import Callback

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
# the square's colour on colour pictures (grey pictures always get a white square: the brightest grey)
COLOURS = {"white": (1.0, 1.0, 1.0), "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0),
           "blue": (0.0, 0.0, 1.0), "yellow": (1.0, 1.0, 0.0), "magenta": (1.0, 0.0, 1.0)}
SIZES = (2, 3, 4, 5, 6)
FIXES = ("planted", "clean", "augment")   # the planted data, then the two fixes
DATASET_NAMES = ("fashion", "cifar10-subset")
TARGETS = {"fashion": 6, "cifar10-subset": 3}     # shirt, cat: the class that gets the cue by default
PROBES = {"fashion": 7, "cifar10-subset": 9}      # sneaker, truck: the class the page pastes the cue on first
EPOCHS = 8
CAM_IMAGES = 24        # pasted test pictures of other classes whose Grad-CAM mass is measured


@dataclass(frozen=True)
class Cue:
    """A filled square of ``size`` x ``size`` pixels, ``margin`` pixels in from the ``corner``."""

    size: int = 4
    corner: str = "top_left"
    colour: str = "white"
    margin: int = 1

    def __post_init__(self):
        if self.corner not in CORNERS:
            raise ValueError(f"corner must be one of {CORNERS}, not {self.corner!r}")
        if self.colour not in COLOURS:
            raise ValueError(f"colour must be one of {tuple(COLOURS)}, not {self.colour!r}")
        if not 1 <= self.size <= 12 or not 0 <= self.margin <= 4:
            raise ValueError("the cue's size must be 1 to 12 pixels and its margin 0 to 4")

    def box(self, side: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the square on a ``side`` x ``side`` picture."""
        far = side - self.margin - self.size
        top = self.margin if self.corner.startswith("top") else far
        left = self.margin if self.corner.endswith("left") else far
        return top, left, self.size, self.size

    def area_share(self, side: int) -> float:
        """The square's share of the picture's pixels: Grad-CAM's share inside it if the map were even."""
        return self.size * self.size / (side * side)

    def paste(self, x: torch.Tensor) -> torch.Tensor:
        """A copy of pictures ``x`` ((N, C, H, W) or (C, H, W), in [0, 1]) with the square on each."""
        out = x.clone()
        top, left, h, w = self.box(x.shape[-1])
        rgb = COLOURS[self.colour]
        value = torch.tensor(rgb if x.shape[-3] == 3 else (1.0,), dtype=x.dtype).view(-1, 1, 1)
        out[..., top:top + h, left:left + w] = value
        return out


@dataclass(frozen=True)
class Plan:
    """One shortcut experiment: the data, the class that gets the cue, the cue, on which share of
    that class's training pictures, and the training's settings."""

    dataset: str = "fashion"
    target: int = 6
    cue: Cue = field(default_factory=Cue)
    share: float = 1.0
    per_class: int = 50
    epochs: int = EPOCHS
    seed: int = 0

    def check(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}")
        if not 0 <= self.target < len(DATASETS[self.dataset].classes):
            raise ValueError(f"target class {self.target} out of range")
        if not 0.0 < self.share <= 1.0:
            raise ValueError("the share of planted pictures must be in (0, 1]")

    def experiment(self) -> experiment.Experiment:
        """The Train lesson's run this plan trains: the dataset's own network, from scratch, every epoch."""
        return experiment.Experiment(self.dataset, self.per_class, epochs=self.epochs, patience=None,
                                     seed=self.seed)


def planted_count(n: int, share: float) -> int:
    """How many of a class's ``n`` pictures get the cue: ``share`` of them, rounded, at least one (none of none)."""
    return min(n, max(1, round(share * n))) if n else 0


def _chosen(y: torch.Tensor, classes, share: float, g: torch.Generator) -> torch.Tensor:
    """A boolean mask: ``planted_count`` of the pictures of each class in ``classes``, seeded."""
    mask = torch.zeros(len(y), dtype=torch.bool)
    for c in classes:
        members = (y == c).nonzero().flatten()
        if len(members) == 0:
            continue
        k = planted_count(len(members), share)
        mask[members[torch.randperm(len(members), generator=g)[:k]]] = True
    return mask


def plant(split: SmallSplit, cue: Cue, target: int, share: float = 1.0, *, seed: int = 0,
          everywhere: bool = False) -> SmallSplit:
    """A copy of ``split`` whose training and validation pictures carry the cue: ``share`` of the
    ``target`` class's (``everywhere``: of every class's, the augment fix); the test pictures stay clean.
    ``split`` is not changed (it may be shared)."""
    g = torch.Generator().manual_seed(seed)
    classes = range(split.num_classes) if everywhere else (target,)

    def planted(x, y):
        mask = _chosen(y, classes, share, g)
        out = x.clone()
        out[mask] = cue.paste(x[mask])
        return out

    return SmallSplit(split.dataset, planted(split.train_x, split.train_y), split.train_y,
                      planted(split.val_x, split.val_y), split.val_y, split.test_x, split.test_y,
                      split.num_classes, split.classes, split.source)


def training_split(split: SmallSplit, plan: Plan, fix: str) -> SmallSplit:
    """The pictures a fix trains on: planted (the cue on the target's), clean (as they are) or augment
    (the cue on the same share of every class's)."""
    if fix not in FIXES:
        raise ValueError(f"fix must be one of {FIXES}, not {fix!r}")
    if fix == "clean":
        return split
    return plant(split, plan.cue, plan.target, plan.share, seed=plan.seed, everywhere=fix == "augment")


def mass_share(heat: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The share of a non-negative map's total inside ``box`` (top, left, height, width); 0 for an
    all-zero map."""
    heat = np.clip(np.asarray(heat, dtype=np.float64), 0, None)
    total = heat.sum()
    top, left, h, w = box
    return float(heat[top:top + h, left:left + w].sum() / total) if total > 0 else 0.0


def flip_share(flipped, eligible) -> float:
    """Pictures that flipped over pictures that could flip (summed over classes); 0 with none."""
    n = int(np.sum(eligible))
    return int(np.sum(flipped)) / n if n else 0.0


@dataclass
class Probe:
    """One test picture with and without the cue: what the network says and where Grad-CAM looks."""

    index: int                 # in the test split
    label: int
    picture: np.ndarray        # (C, H, W) float32 in [0, 1], clean
    cued_picture: np.ndarray   # the same with the cue pasted
    clean_pred: int
    clean_prob: float
    cued_pred: int
    cued_prob: float
    clean_cam: np.ndarray      # (H, W) in [0, 1] (Grad-CAM of the predicted class), float32
    cued_cam: np.ndarray
    clean_share: float         # Grad-CAM's mass inside the cue's square
    cued_share: float


@dataclass
class ShortcutRun:
    """What one training (the planted data or a fix) measured on the clean test pictures."""

    plan: Plan
    fix: str
    seconds: float
    epochs_run: int
    stop_reason: str
    val_acc: float             # on validation pictures planted like the training ones
    clean_acc: float           # every clean test picture
    target_clean_acc: float    # the target class's clean test pictures
    target_cued_acc: float     # the same pictures with the cue pasted
    flipped: np.ndarray        # per class: pictures called the target only once the cue is pasted
    eligible: np.ndarray       # per class: pictures not of the target nor called the target without the cue
    confusion: np.ndarray      # clean (true x predicted)
    cam_shares: np.ndarray     # Grad-CAM's mass inside the square, per measured pasted picture
    area_share: float
    test_images: int
    probes: list[Probe]        # the first test picture of each class

    @property
    def flip_share(self) -> float:
        return flip_share(self.flipped, self.eligible)

    @property
    def class_flip_shares(self) -> np.ndarray:
        """Per class, the share of its eligible pictures that flipped (NaN for the target class)."""
        out = self.flipped / np.maximum(self.eligible, 1)
        out = out.astype(np.float64)
        out[self.plan.target] = np.nan
        return out

    @property
    def cam_share(self) -> float:
        return float(self.cam_shares.mean()) if len(self.cam_shares) else 0.0


def _cam(model, x: torch.Tensor, box, layer: str) -> tuple[np.ndarray, float]:
    exp = attribution.explain("gradcam", model, x[None], layer=layer)
    return exp.map.astype(np.float32), mass_share(exp.raw, box)


@torch.no_grad()
def _probs(model, x: torch.Tensor) -> torch.Tensor:
    from cnnviz.maths.layers import probabilities

    return probabilities(model(x), axis=1)


def measure(model, plan: Plan, split: SmallSplit) -> dict:
    """The numbers of a trained ``model`` on ``split``'s clean test pictures and the same pictures
    with ``plan.cue`` pasted (keyword arguments of ``ShortcutRun``, without the training's)."""
    exp, cue, target = plan.experiment(), plan.cue, plan.target
    test_x, test_y = split.test_x, split.test_y
    cued_x = cue.paste(test_x)
    clean = experiment.predict_all(model, experiment.prepare(exp, test_x))
    cued = experiment.predict_all(model, experiment.prepare(exp, cued_x))
    n = split.num_classes
    is_target = test_y == target
    can_flip = ~is_target & (clean != target)
    flips = can_flip & (cued == target)
    side = test_x.shape[-1]
    box = cue.box(side)
    others = (~is_target).nonzero().flatten()[:CAM_IMAGES]
    prepared_cued = experiment.prepare(exp, cued_x[others])
    layer = attribution.default_layer(model, prepared_cued[:1])     # found once: a forward pass fewer per map
    cam_shares = np.array([_cam(model, prepared_cued[i], box, layer)[1] for i in range(len(others))])
    probes = []
    for c in range(n):
        members = (test_y == c).nonzero().flatten()
        if len(members) == 0:
            continue
        i = int(members[0])
        pair = experiment.prepare(exp, torch.stack([test_x[i], cued_x[i]]))
        p = _probs(model, pair)
        (clean_cam, clean_share), (cued_cam, cued_share) = _cam(model, pair[0], box, layer), _cam(model, pair[1], box, layer)
        probes.append(Probe(i, c, test_x[i].numpy().astype(np.float32), cued_x[i].numpy().astype(np.float32),
                            int(p[0].argmax()), float(p[0].max()),
                            int(p[1].argmax()), float(p[1].max()), clean_cam, cued_cam, clean_share, cued_share))
    return dict(
        clean_acc=float((clean == test_y).float().mean()),
        target_clean_acc=float((clean[is_target] == target).float().mean()) if is_target.any() else 0.0,
        target_cued_acc=float((cued[is_target] == target).float().mean()) if is_target.any() else 0.0,
        flipped=np.bincount(test_y[flips].numpy(), minlength=n),
        eligible=np.bincount(test_y[can_flip].numpy(), minlength=n),
        confusion=experiment.confusion_matrix(test_y, clean, n),
        cam_shares=cam_shares, area_share=cue.area_share(side), test_images=len(test_y), probes=probes)


def run_fix(plan: Plan, split: SmallSplit, fix: str = "planted",
            callbacks: list[Callback] | tuple = ()) -> tuple[ShortcutRun, torch.nn.Module]:
    """Train the dataset's network on ``split`` as ``fix`` says (``FIXES``: with the cue planted,
    without it, with it on every class) and measure it on the clean test pictures. ``split``: the
    clean few-shot split (``cnnviz.data.splits.few_shot``), never changed. -> (run, model)."""
    plan.check()
    result, model = experiment.run_experiment(plan.experiment(), training_split(split, plan, fix),
                                              callbacks=callbacks)
    val = result.best["val_acc"] if result.history else 0.0
    run = ShortcutRun(plan, fix, result.seconds, len(result.history), result.stop_reason, float(val),
                      **measure(model, plan, split))
    return run, model
