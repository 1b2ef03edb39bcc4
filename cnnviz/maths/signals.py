"""Signals in one dimension: the same convolution, sliding along a line instead of a grid.

A signal is a row of numbers in time (a sound, a heartbeat, a sensor). A 1D
kernel of a few weights slides along it exactly like the 2D kernel slides over
an image (``cnnviz.maths.conv.convolve1d``). This module makes the signals the lesson
uses and holds the classic 1D kernels. Beside it: ``cnnviz.data.signal_csv`` reads a
learner's CSV column, ``cnnviz.train.signal_cnn`` trains a tiny 1D CNN that tells five
kinds of signal apart ("classificação de sinais 1D", seed 000 of the course), and
``cnnviz.figures.signal_figures`` draws them (plotly).

numpy only: no torch, no plotly at import time, so the lesson's first half stays light.
"""

from __future__ import annotations

import re

import numpy as np

from cnnviz.base.errors import CnnvizError
from cnnviz.base.numbers import bounded, read_decimal


class SignalError(CnnvizError):
    """A signal, CSV file or 1D kernel we cannot use; the message says why and what to do."""


# ---------------------------------------------------------------- synthetic signals
KINDS = ("sine", "square", "sawtooth", "noisy", "chirp")
NOISY_EXTRA = 0.5   # "noisy" is a sine buried in this much extra noise (relative to its amplitude)
MIN_LENGTH = 2      # samples: a line needs two points
MAX_LENGTH = 1_000_000   # samples: a CSV column of a million rows (``cnnviz.data.signal_csv.MAX_ROWS``)


def make(kind: str, n: int = 200, freq: float = 3.0, noise: float = 0.0, seed: int = 0, *,
         phase: float = 0.0, amplitude: float = 1.0) -> np.ndarray:
    """A synthetic signal of ``n`` samples with ``freq`` cycles over its whole length.

    ``noise`` is the standard deviation of Gaussian noise added on top (seeded,
    so the same sliders always draw the same signal). A chirp's frequency grows
    from ``freq / 2`` to ``2 * freq`` cycles per length, like a bird's call.
    """
    if kind not in KINDS:
        raise SignalError("signals.error.unknown_kind", kind=kind)
    if not (isinstance(n, (int, np.integer)) and MIN_LENGTH <= n <= MAX_LENGTH):
        raise SignalError("signals.error.bad_length", n=n, max=MAX_LENGTH)
    t = np.arange(n) / n                       # time from 0 to 1 (one "signal length")
    if kind == "chirp":
        f0, f1 = freq / 2, freq * 2
        cycles = f0 * t + (f1 - f0) * t ** 2 / 2   # the integral of a linearly rising frequency
    else:
        cycles = freq * t
    turn = cycles + phase / (2 * np.pi)         # how many turns of the wave so far
    where = turn % 1.0                             # where we are within the current cycle, 0..1
    if kind == "square":
        wave = np.where(where < 0.5, 1.0, -1.0)    # up for the first half of each cycle, down after
    elif kind == "sawtooth":
        wave = 2 * where - 1                       # ramps from -1 up to 1, then drops
    else:
        wave = np.sin(2 * np.pi * turn)
    rng = np.random.default_rng(seed)
    sigma = noise + (NOISY_EXTRA if kind == "noisy" else 0.0)
    return amplitude * wave + amplitude * sigma * rng.standard_normal(n)


# ---------------------------------------------------------------- 1D kernels
# Classic 1D kernels. Like 2D ones, they are pattern detectors: the sum is big
# where the signal under the window looks like the kernel.
PRESETS: dict[str, np.ndarray] = {
    "moving_average": np.full(5, 1 / 5),                  # smoothing: the mean of 5 neighbours
    "gaussian": np.array([1, 4, 6, 4, 1]) / 16,           # smoothing that trusts the centre more
    "difference": np.array([-1.0, 0.0, 1.0]),             # slope / edge: next minus previous
    "second_derivative": np.array([1.0, -2.0, 1.0]),      # curvature: how fast the slope changes
    "peak": np.array([-1.0, -1.0, 4.0, -1.0, -1.0]),      # a spike above its neighbours
    "step": np.array([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]),  # a jump up (a square wave's edge)
    "identity": np.array([0.0, 1.0, 0.0]),                # output = input: checks the mechanics
}
MAX_KERNEL = 64
_SEPARATORS = re.compile(r"[\s;]+")


def _kernel_number(token: str, position: int) -> float:
    num, slash, den = token.partition("/")       # 1/3 reads better than 0.3333
    value, below = read_decimal(num), read_decimal(den) if slash else 1.0
    if value is None or not below:               # not a number, or a division by 0
        raise SignalError("signals.error.kernel_not_number", position=position, value=token)
    value /= below
    if not bounded(value):
        raise SignalError("signals.error.kernel_not_finite", position=position, value=token)
    return value


def parse_kernel(text: str) -> np.ndarray:
    """Numbers typed by a learner -> a 1D kernel.

    Accepts ``-1 0 1``, ``-1, 0, 1``, ``[-1, 0, 1]``, ``0,5; 0,5`` and ``1/3 1/3 1/3``.
    A comma between numbers with no space is a separator (``1,0,-1``) unless the
    numbers are also separated by spaces or ``;`` (then ``0,5`` is one half).
    """
    body = (text or "").strip().strip("[]()").strip()
    if not body:
        raise SignalError("signals.error.kernel_empty")
    tokens = [tok.strip(",") for tok in _SEPARATORS.split(body) if tok.strip(",")]
    if len(tokens) == 1 and "," in tokens[0]:
        tokens = [tok for tok in tokens[0].split(",") if tok]
    if not tokens:
        raise SignalError("signals.error.kernel_empty")
    if len(tokens) > MAX_KERNEL:
        raise SignalError("signals.error.kernel_too_long", n=len(tokens), max=MAX_KERNEL)
    return np.array([_kernel_number(tok, i + 1) for i, tok in enumerate(tokens)])


def convolve(signal, kernel, *, stride: int = 1, padding: int = 0, dilation: int = 1, bias: float = 0.0):
    """``cnnviz.maths.conv.convolve1d`` with messages about samples and signals, not pixels and images."""
    from cnnviz.maths.conv import ConvError, convolve1d

    try:
        return convolve1d(signal, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias)
    except ConvError as err:
        if err.key == "convolve.error.kernel_too_big":
            raise SignalError("signals.error.kernel_too_big", **err.params) from None
        raise


def torch_line(kernel_size: int, stride: int, padding: int, dilation: int) -> str:
    """The ``torch.nn.Conv1d(...)`` call that computes the same thing."""
    return (f"torch.nn.Conv1d(in_channels=1, out_channels=1, kernel_size={kernel_size}, "
            f"stride={stride}, padding={padding}, dilation={dilation})")


def kernel_text(kernel, lang: str | None = None) -> str:
    """A kernel written back as text the learner can edit (``parse_kernel`` reads it).

    In the learner's number format (``i18n.current()``): ``0,2 0,2 0,2`` in Portuguese (spaces
    separate, so the commas are decimals). A single weight keeps its point: ``parse_kernel``
    would read a lone ``0,5`` as the two weights 0 and 5.
    """
    from cnnviz import i18n

    values = [f"{float(v):.4g}" for v in np.asarray(kernel).ravel()]
    return " ".join(values if len(values) == 1 else (i18n.localize(v, lang) for v in values))
