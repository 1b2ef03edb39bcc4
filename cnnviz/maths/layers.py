"""The other layers of a CNN, computed in the open: ReLU, pooling, softmax, batch norm.

Each function returns the numbers a lesson shows (not only the result), in numpy,
and matches what torch computes (the tests check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.maths.conv import ConvError, output_size


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x): negatives become 0, positives pass unchanged."""
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


@dataclass
class Pooling:
    output: np.ndarray        # (H_out, W_out) or (C, H_out, W_out)
    argmax: np.ndarray | None  # for max pooling: (H_out, W_out, 2) winning (row, col) in the input (first channel)
    window: int
    stride: int
    mode: str

    def windows(self) -> list[tuple[int, int, int, int]]:
        """(output row, output col, top, left) of every window, in reading order: output[r, c]
        comes from input[top:top + window, left:left + window]."""
        h_out, w_out = self.output.shape[-2:]
        return [(r, c, r * self.stride, c * self.stride) for r in range(h_out) for c in range(w_out)]


def pool2d(x: np.ndarray, window: int = 2, stride: int | None = None, mode: str = "max") -> Pooling:
    """Max or average pooling of (H, W) or (C, H, W), no padding (``F.max_pool2d`` / ``F.avg_pool2d``)."""
    stride = window if stride is None else stride
    arr = np.asarray(x, dtype=np.float64)
    planes = arr[None] if arr.ndim == 2 else arr
    c, h, w = planes.shape
    h_out, w_out = output_size(h, window, stride), output_size(w, window, stride)
    if mode not in ("max", "avg"):
        raise ConvError("convolve.error.bad_shapes", image=mode, kernel=window)
    view = np.lib.stride_tricks.sliding_window_view(planes, (window, window), axis=(1, 2))
    view = view[:, ::stride, ::stride][:, :h_out, :w_out]          # (C, H_out, W_out, win, win)
    flat = view.reshape(c, h_out, w_out, window * window)
    out = flat.max(axis=-1) if mode == "max" else flat.mean(axis=-1)
    winner = None
    if mode == "max":
        k = flat[0].argmax(axis=-1)
        rows = np.arange(h_out)[:, None] * stride + k // window
        cols = np.arange(w_out)[None, :] * stride + k % window
        winner = np.stack([rows, cols], axis=-1)
    return Pooling(out[0] if arr.ndim == 2 else out, winner, window, stride, mode)


@dataclass
class Softmax:
    logits: np.ndarray
    exps: np.ndarray          # e^(z - max z): the same ratios, no overflow
    total: float
    probs: np.ndarray

    def top(self, k: int) -> list[int]:
        """The ``k`` most probable classes, most probable first."""
        return [int(i) for i in np.argsort(-self.probs, kind="stable")[:k]]


def _softmax(z, axis: int):
    """(e^(z - max z), p) along ``axis``: the softmax's maths, the one place it is written.

    ``z`` is a numpy array or a torch tensor (kept as one, in its dtype: a network's outputs)."""
    if hasattr(z, "detach"):   # a torch tensor (this module never imports torch)
        e = (z - z.amax(dim=axis, keepdim=True)).exp()
    else:
        e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e, e / e.sum(axis, keepdims=True)


def softmax(logits) -> Softmax:
    """p_i = e^{z_i} / sum_j e^{z_j}. Subtracting max(z) first changes nothing but avoids overflow."""
    z = np.asarray(logits, dtype=np.float64)
    e, p = _softmax(z, -1)
    return Softmax(z, e, float(e.sum()), p)


def probabilities(logits, axis: int = -1):
    """The softmax's probabilities only, along ``axis`` (a batch of outputs: ``axis=1``).

    A torch tensor in gives a tensor of the same dtype out (what ``torch.softmax`` gives, to
    float rounding); anything else gives float64 numpy."""
    z = logits if hasattr(logits, "detach") else np.asarray(logits, dtype=np.float64)
    return _softmax(z, axis)[1]


@dataclass
class BatchNorm:
    output: np.ndarray        # (N, C, ...) normalized, scaled and shifted
    mean: np.ndarray          # (C,) the statistics used
    var: np.ndarray           # (C,)
    running_mean: np.ndarray  # (C,) after this step
    running_var: np.ndarray


BN_DEMO_BATCH = 8   # the Layers lesson's batch: every value of it is shown, so its μ and σ² can be checked


def running_statistics(mean: float, std: float, steps: int, *, batch: int = BN_DEMO_BATCH, seed: int = 1,
                       momentum: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Batch norm's running mean and variance (one channel, shape (1,)) after ``steps`` training
    batches of ``batch`` values drawn from N(mean, std²) (generator seeded ``seed``), from torch's
    start (0 and 1): the statistics evaluation normalizes with."""
    rm, rv = np.zeros(1), np.ones(1)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        out = batch_norm(rng.normal(mean, std, size=(batch, 1)), training=True, running_mean=rm, running_var=rv,
                         momentum=momentum)
        rm, rv = out.running_mean, out.running_var
    return rm, rv


def batch_norm(x: np.ndarray, *, gamma=1.0, beta=0.0, training: bool = True, running_mean=None,
               running_var=None, momentum: float = 0.1, eps: float = 1e-5) -> BatchNorm:
    """``nn.BatchNorm2d`` / ``BatchNorm1d`` by hand for x of shape (N, C, ...).

    Training: normalize with this batch's mean and (biased) variance, and move the
    running statistics towards them (the unbiased variance, as torch does).
    Evaluation: normalize with the running statistics, so one image alone gives the
    same answer whatever batch it comes in. Then y = gamma * x_hat + beta.
    """
    x = np.asarray(x, dtype=np.float64)
    c = x.shape[1]
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape = [1, c] + [1] * (x.ndim - 2)
    rm = np.zeros(c) if running_mean is None else np.asarray(running_mean, dtype=np.float64)
    rv = np.ones(c) if running_var is None else np.asarray(running_var, dtype=np.float64)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        n = x.size / c
        unbiased = var * n / max(n - 1, 1)
        rm = (1 - momentum) * rm + momentum * mean
        rv = (1 - momentum) * rv + momentum * unbiased
    else:
        mean, var = rm, rv
    x_hat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    g = np.broadcast_to(np.asarray(gamma, dtype=np.float64), (c,)).reshape(shape)
    b = np.broadcast_to(np.asarray(beta, dtype=np.float64), (c,)).reshape(shape)
    return BatchNorm(g * x_hat + b, mean, var, rm, rv)


@dataclass
class SoftmaxTerms:
    """What a softmax formula can show without hiding anything: the chosen class's term,
    the largest other terms, and everything else summed as one remainder."""

    target: int               # the class whose probability is written out (usually the prediction)
    shown: list[int]          # classes whose e^z is written: the target first, then the largest others
    logits: np.ndarray        # z of the shown classes
    exps: np.ndarray          # e^z of the shown classes (not shifted: the numbers of the formula)
    rest: list[int]           # the classes folded into the remainder
    rest_sum: float           # sum of their e^z
    total: float              # the denominator: sum of e^z over every class
    prob: float               # e^{z_target} / total


def softmax_terms(logits, target: int | None = None, *, show: int = 4) -> SoftmaxTerms:
    """The terms of p_target = e^{z_target} / sum_j e^{z_j} worth writing down.

    ``target`` defaults to the predicted class (largest logit). The denominator is written
    as the target's term, the ``show - 1`` largest other terms, and "+ k others = rest_sum",
    so the terms shown plus the remainder add up to the whole sum. Exponentials are taken
    in float64 (e^709 is the limit; logits of real networks are far smaller).
    """
    z = np.asarray(logits, dtype=np.float64).reshape(-1)
    target = int(z.argmax()) if target is None else int(target)
    others = [int(i) for i in np.argsort(-z, kind="stable") if i != target]
    shown = [target] + others[:max(show - 1, 0)]
    rest = others[max(show - 1, 0):]
    with np.errstate(over="ignore"):
        e = np.exp(z)
    rest_sum = float(e[rest].sum()) if rest else 0.0
    total = float(e[shown].sum()) + rest_sum
    prob = float(np.exp(z[target] - z.max()) / np.exp(z - z.max()).sum())
    return SoftmaxTerms(target, shown, z[shown], e[shown], rest, rest_sum, total, prob)
