"""Gradient descent on a loss surface you can see whole: two weights of a one-neuron model on real
pictures (the Gradient descent lesson, seed 003: w = w_i - eta dL/dw and the loss "bowl").

The model scores a picture of MNIST's 0s and 1s from two numbers computed from it: its ink (the mean
brightness) and its width (how far the ink spreads from left to right: the standard deviation of
the columns, weighted by ink, in pixels). Both are standardized over the pictures used, so the score

    s = w1 * x1 + w2 * x2          (no bias: the standardized numbers average 0)

says "1" when positive and "0" when negative. The loss is the mean squared error against y = +1
(a 1) or -1 (a 0): L(w) = mean((s - y)^2), an exact bowl (a quadratic) over the plane of the two
weights, so the whole surface is drawn, not sampled, and so are its gradient
dL/dw = 2 * mean((s - y) x) and its lowest point (where the gradient is 0).

The optimizers are written out as the update rules the lesson shows, step by step, in numpy
(``tests/test_descent.py`` checks them against ``torch.optim`` on the same problem):

- SGD: w <- w - eta * g (here every step sees all the pictures: plain gradient descent);
- momentum: v <- mu * v + g; w <- w - eta * v (``torch.optim.SGD(momentum=mu)``);
- Adam: m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; w <- w - eta * m^ / (sqrt(v^) + eps),
  with m^ = m / (1 - b1^t) and v^ = v / (1 - b2^t).

A path that overflows stops where its loss is no longer a number (``Path.blew_up``); one that
leaves the map is cut where it leaves (``Path.left_at``): a figure never gets an infinite point.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path as FilePath

import numpy as np

from cnnviz.data import datasets

DIGITS = (0, 1)                     # the two classes: y = -1 for a 0, +1 for a 1
OPTIMIZERS = ("sgd", "momentum", "adam")
MOMENTUM = 0.9                      # mu: torch.optim.SGD's momentum
BETAS = (0.9, 0.999)                # Adam's, torch's defaults
EPS = 1e-8
AREA = (-3.0, 3.0)                  # the map: both weights from -3 to 3
# The three preset rates, each checked on the real surface (full MNIST and the bundled sample alike):
# 0.01 crawls, 0.3 reaches the bottom, 0.6 overshoots more at every step (beyond 2 / the steepest curvature)
PRESETS = {"crawl": 0.01, "good": 0.3, "diverge": 0.6}
RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 2.0, 5.0, 10.0)
START = (-2.5, 2.5)                 # the default start: a corner of the map, the valley running away from it
STEPS = 50                          # the default number of steps
CLOSE = 0.01                        # "reached the bottom": the loss within 0.01 of its lowest value


@dataclass(frozen=True)
class Problem:
    """Two standardized numbers per picture and the target: the whole data of the surface (its moments,
    bottom and curvatures computed once: the arrays are read-only)."""
    features: np.ndarray            # (N, 2): ink, width, standardized
    targets: np.ndarray             # (N,): -1 (a 0) or +1 (a 1)
    raw_mean: tuple[float, float]   # ink (0..1) and width (pixels) before standardizing
    raw_std: tuple[float, float]
    source: str                     # "full" (MNIST's test set) or "sample" (the bundled 1,000 pictures)
    counts: tuple[int, int]         # pictures of 0s and of 1s

    @property
    def n(self) -> int:
        return len(self.targets)

    @cached_property
    def moments(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(C, r, q) with C = mean(x x^T), r = mean(y x), q = mean(y^2): L(w) = w^T C w - 2 w^T r + q."""
        x, y = self.features, self.targets
        return x.T @ x / len(y), x.T @ y / len(y), float(np.mean(y * y))

    def loss(self, w1, w2):
        """L at (w1, w2) (numbers or arrays of the same shape): the mean squared error."""
        c, r, q = self.moments
        w1, w2 = np.asarray(w1, float), np.asarray(w2, float)
        with np.errstate(over="ignore", invalid="ignore"):
            return c[0, 0] * w1 * w1 + 2 * c[0, 1] * w1 * w2 + c[1, 1] * w2 * w2 - 2 * (r[0] * w1 + r[1] * w2) + q

    def gradient(self, w) -> np.ndarray:
        """dL/dw at ``w`` (2 numbers): 2 * mean((s - y) x) = 2 (C w - r)."""
        c, r, _ = self.moments
        with np.errstate(over="ignore", invalid="ignore"):
            return 2 * (c @ np.asarray(w, float) - r)

    @cached_property
    def bottom(self) -> np.ndarray:
        """The lowest point of the bowl: where the gradient is 0 (C w = r)."""
        c, r, _ = self.moments
        return np.linalg.solve(c, r)

    @cached_property
    def lowest_loss(self) -> float:
        return float(self.loss(*self.bottom))

    @cached_property
    def curvatures(self) -> np.ndarray:
        """The bowl's curvatures along its two axes (the eigenvalues of 2C, smallest first): SGD
        converges when eta < 2 / the largest."""
        return np.linalg.eigvalsh(2 * self.moments[0])

    def accuracy(self, w) -> float:
        """The share of pictures the sign of the score puts in the right class."""
        return float(np.mean(np.sign(self.features @ np.asarray(w, float)) == self.targets))


def features_of(pictures: np.ndarray) -> np.ndarray:
    """(N, 2): the ink (mean brightness, 0..1) and the width (the standard deviation of the columns
    weighted by ink, in pixels) of ``pictures``, uint8 (N, H, W)."""
    x = np.asarray(pictures, float) / 255.0
    ink = x.mean(axis=(1, 2))
    columns = x.sum(axis=1)                                  # (N, W): ink per column
    pos = np.arange(x.shape[2], dtype=float)
    total = np.maximum(columns.sum(axis=1), 1e-12)
    centre = (columns * pos).sum(axis=1) / total
    width = np.sqrt((columns * (pos[None] - centre[:, None]) ** 2).sum(axis=1) / total)
    return np.stack([ink, width], axis=1)


def problem(root: str | None = None) -> Problem:
    """The 0s and 1s of MNIST's test set (the bundled sample's on a fresh machine), their two
    numbers standardized. Raises ``DataError`` when neither is there."""
    where = FilePath(root) if root else datasets.data_root()
    return _problem(str(where), datasets.source("mnist", where))


@lru_cache(maxsize=4)
def _problem(root: str, source: str | None) -> Problem:
    if source is None:
        raise datasets.DataError("data.error.sample_missing", dataset="mnist", path=str(datasets.sample_path("mnist")))
    ds = datasets.load_dataset("mnist", train=False, root=FilePath(root))
    labels = np.asarray(ds.targets)
    keep = np.isin(labels, DIGITS)
    raw = features_of(np.asarray(ds.data)[keep])
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    y = np.where(labels[keep] == DIGITS[1], 1.0, -1.0)
    x = (raw - mean) / std
    x.setflags(write=False)
    y.setflags(write=False)
    return Problem(x, y, (float(mean[0]), float(mean[1])), (float(std[0]), float(std[1])), source,
                   (int((y < 0).sum()), int((y > 0).sum())))


def surface(prob: Problem, n: int = 61, area: tuple[float, float] = AREA):
    """(w1 values, w2 values, L on the grid (n, n), rows along w2) over the square ``area``."""
    w1 = np.linspace(area[0], area[1], n)
    w2 = np.linspace(area[0], area[1], n)
    g1, g2 = np.meshgrid(w1, w2)
    return w1, w2, prob.loss(g1, g2)


# ---------------------------------------------------------------- the update rules, one step each
def sgd_step(w, g, lr):
    """w - eta * g."""
    return w - lr * g


def momentum_step(w, v, g, lr, mu=MOMENTUM):
    """(new w, new v): v <- mu * v + g; w <- w - eta * v (torch's convention)."""
    v = mu * v + g
    return w - lr * v, v


def adam_step(w, m, v, g, t, lr, betas=BETAS, eps=EPS):
    """(new w, new m, new v) at step t (1, 2, ...)."""
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# the rules as the lesson writes them (LaTeX), g being the gradient at the current weights
RULES_TEX = {
    "sgd": r"w \leftarrow w - \eta\, g",
    "momentum": r"v \leftarrow \mu v + g \qquad w \leftarrow w - \eta\, v",
    "adam": r"\begin{aligned} m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\ v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2"
            r"\\ w &\leftarrow w - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon} \end{aligned}",
}


@dataclass(frozen=True)
class Path:
    """An optimizer's walk: ``points`` (k + 1, 2) from the start, ``losses`` (k + 1,), every one finite
    and inside the map; ``steps`` asked for; ``blew_up``: the step whose loss overflowed (inf/NaN),
    ``left_at``: the first step outside the map (None if it stayed)."""
    optimizer: str
    lr: float
    points: np.ndarray
    losses: np.ndarray
    steps: int
    blew_up: int | None
    left_at: int | None
    lowest: float                   # the bowl's lowest loss
    exit_loss: float = float("nan")     # the loss at the first point off the map (when it left)

    @property
    def verdict(self) -> str:
        """"diverged" (overflowed, or flew off the map with a loss above the start's), "left" (off the map
        otherwise), "bottom" (the loss within ``CLOSE`` of the lowest), else "crawl" (still on its way)."""
        if self.blew_up is not None:
            return "diverged"
        if self.left_at is not None:
            return "diverged" if self.exit_loss > self.losses[0] else "left"
        return "bottom" if self.losses[-1] - self.lowest <= CLOSE else "crawl"

    @property
    def reached_at(self) -> int | None:
        """The first step whose loss is within ``CLOSE`` of the lowest (None if none)."""
        hits = np.nonzero(self.losses - self.lowest <= CLOSE)[0]
        return int(hits[0]) if len(hits) else None

    @property
    def zigzags(self) -> bool:
        """Whether it overshoots: two steps in a row that point against each other."""
        d = np.diff(self.points, axis=0)
        return bool(len(d) > 2 and np.any((d[1:] * d[:-1]).sum(axis=1) < 0))


def run(prob: Problem, optimizer: str, lr: float, start=START, steps: int = STEPS,
        area: tuple[float, float] = AREA, mu: float = MOMENTUM, betas=BETAS, eps: float = EPS,
        cut: bool = True) -> Path:
    """``steps`` steps of ``optimizer`` ("sgd", "momentum" or "adam") at rate ``lr`` from ``start``.

    ``cut``: stop at the first point off the map (kept out of ``points``); without it the walk goes on
    until it overflows (``tests`` compare the whole walk with torch)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    w = np.asarray(start, float).copy()
    m = np.zeros(2)
    v = np.zeros(2)
    points, losses = [w.copy()], [float(prob.loss(*w))]
    blew_up = left_at = None
    exit_loss = float("nan")
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            g = prob.gradient(w)
            if optimizer == "sgd":
                w = sgd_step(w, g, lr)
            elif optimizer == "momentum":
                w, v = momentum_step(w, v, g, lr, mu)
            else:
                w, m, v = adam_step(w, m, v, g, t, lr, betas, eps)
            loss = float(prob.loss(*w))
            if not (np.all(np.isfinite(w)) and np.isfinite(loss)):
                blew_up = t
                break
            if cut and (w.min() < area[0] or w.max() > area[1]):
                left_at, exit_loss = t, loss
                break
            points.append(w.copy())
            losses.append(loss)
    return Path(optimizer, float(lr), np.array(points), np.array(losses), steps, blew_up, left_at, prob.lowest_loss,
                exit_loss)


def limit(prob: Problem) -> float:
    """The largest rate at which SGD still converges on this bowl: 2 / the steepest curvature."""
    return float(2 / prob.curvatures[-1])
