"""Signals in one dimension: the same convolution, sliding along a line instead of a grid.

A signal is a row of numbers in time (a sound, a heartbeat, a sensor). A 1D
kernel of a few weights slides along it exactly like the 2D kernel slides over
an image (``cnnviz.conv.convolve1d``). This module makes the signals the lesson
uses, reads a learner's CSV column, holds the classic 1D kernels, and trains a
tiny 1D CNN that tells five kinds of signal apart ("classificação de sinais 1D",
seed 000 of the course).

numpy only at import time: torch is imported inside the model/training
functions, so the signal part (and the lesson's first half) stays light.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .errors import CnnvizError


class SignalError(CnnvizError):
    """A signal, CSV file or 1D kernel we cannot use; the message says why and what to do."""


# ---------------------------------------------------------------- synthetic signals
KINDS = ("sine", "square", "sawtooth", "noisy", "chirp")
NOISY_EXTRA = 0.5   # "noisy" is a sine buried in this much extra noise (relative to its amplitude)


def make(kind: str, n: int = 200, freq: float = 3.0, noise: float = 0.0, seed: int = 0, *,
         phase: float = 0.0, amplitude: float = 1.0) -> np.ndarray:
    """A synthetic signal of ``n`` samples with ``freq`` cycles over its whole length.

    ``noise`` is the standard deviation of Gaussian noise added on top (seeded,
    so the same sliders always draw the same signal). A chirp's frequency grows
    from ``freq / 2`` to ``2 * freq`` cycles per length, like a bird's call.
    """
    if kind not in KINDS:
        raise SignalError("signals.error.unknown_kind", kind=kind)
    if not (isinstance(n, (int, np.integer)) and 2 <= n <= MAX_ROWS):
        raise SignalError("signals.error.bad_length", n=n, max=MAX_ROWS)
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


# ---------------------------------------------------------------- a learner's CSV
MAX_ROWS = 1_000_000
MAX_BYTES = 64 * 2 ** 20
MIN_LENGTH = 2


@dataclass
class CsvTable:
    """The numeric columns of a CSV file, in file order, and the one worth showing first."""

    columns: dict[str, np.ndarray]
    default: str
    header: bool


def _decode(data) -> str:
    if isinstance(data, str):
        return data
    if hasattr(data, "read"):
        data = data.read()
    data = bytes(data)
    if len(data) > MAX_BYTES:
        raise SignalError("signals.error.csv_too_big", mb=len(data) // 2 ** 20, max_mb=MAX_BYTES // 2 ** 20)
    if b"\x00" in data[:4096]:
        raise SignalError("signals.error.csv_binary")   # an image or a spreadsheet, not text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")   # old Excel exports in Brazil


def _separator(lines: list[str]) -> str | None:
    """``;`` (Brazilian Excel), tab, ``,``, or None: numbers separated by spaces / one column."""
    sample = lines[:20]
    for sep in (";", "\t", ","):
        if any(sep in ln for ln in sample):
            return sep
    return None


def _number(cell: str) -> float | None:
    """The cell as a float, or None when it is not a number at all."""
    text = cell.strip().strip('"').strip("'").strip().replace("\u2212", "-")
    try:
        return float(text)
    except ValueError:
        return None


def _is_axis(values: np.ndarray) -> bool:
    """An index or time column (0, 1, 2, ... or 0.00, 0.01, ...): evenly spaced and increasing."""
    steps = np.diff(values)
    return len(values) > 2 and bool(np.all(steps > 0)) and bool(np.allclose(steps, steps[0], rtol=1e-6))


def read_csv(data) -> CsvTable:
    """Every numeric column of an uploaded CSV (bytes, text or file-like).

    Handles a header row or none, ``;``/``,``/tab/space separators, and decimal
    commas (``0,5`` with ``;`` separators, as Brazilian spreadsheets write it).
    Refuses, with a message, empty files, files without a numeric column,
    more than ``MAX_ROWS`` rows and non-finite values (nan, inf).
    """
    lines = [ln for ln in _decode(data).splitlines() if ln.strip()]
    if not lines:
        raise SignalError("signals.error.csv_empty")
    if len(lines) > MAX_ROWS + 1:
        raise SignalError("signals.error.csv_too_long", rows=len(lines), max=MAX_ROWS)
    sep = _separator(lines)
    decimal_comma = sep != ","
    rows = [ln.split(sep) if sep else ln.split() for ln in lines]
    if decimal_comma:
        rows = [[c.replace(",", ".") for c in row] for row in rows]
    width = max(len(r) for r in rows)
    first = rows[0]
    header = any(c.strip() and _number(c) is None for c in first)
    if header:
        names = [(first[j].strip().strip('"').strip() if j < len(first) else "") or str(j + 1)
                 for j in range(width)]
        rows = rows[1:]
    else:
        names = [str(j + 1) for j in range(width)]
    names = _unique(names)
    if not rows:
        raise SignalError("signals.error.csv_empty")
    row0 = 2 if header else 1   # file line of the first data row, for messages

    columns, first_problem = {}, None
    for j, name in enumerate(names):
        cells = [r[j] if j < len(r) else "" for r in rows]
        values = [_number(c) for c in cells]
        bad = next((i for i, v in enumerate(values) if v is None), None)
        if bad is not None:
            first_problem = first_problem or (row0 + bad, name, cells[bad].strip()[:40])
            continue
        arr = np.asarray(values, dtype=np.float64)
        if not np.isfinite(arr).all():
            i = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise SignalError("signals.error.csv_not_finite", row=row0 + i, column=name, value=cells[i].strip())
        columns[name] = arr
    if not columns:
        row, name, value = first_problem
        if value:
            raise SignalError("signals.error.csv_not_numeric", row=row, column=name, value=value)
        raise SignalError("signals.error.csv_missing", row=row, column=name)
    if len(rows) < MIN_LENGTH:
        raise SignalError("signals.error.csv_too_short", rows=len(rows), min=MIN_LENGTH)
    # The first column that is not just a time axis is the signal worth showing.
    default = next((n for n, v in columns.items() if not _is_axis(v)), next(iter(columns)))
    return CsvTable(columns, default, header)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def from_csv(data, column: str | int | None = None) -> tuple[np.ndarray, str]:
    """(signal, column name) from an uploaded CSV; ``column`` is a name or 0-based index."""
    table = read_csv(data)
    if column is None:
        name = table.default
    elif isinstance(column, (int, np.integer)):
        names = list(table.columns)
        if not 0 <= column < len(names):
            raise SignalError("signals.error.csv_no_column", column=column, columns=", ".join(names))
        name = names[column]
    else:
        name = str(column)
        if name not in table.columns:
            raise SignalError("signals.error.csv_no_column", column=name, columns=", ".join(table.columns))
    return table.columns[name], name


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
    text = token.replace("\u2212", "-").replace(",", ".")
    try:
        if "/" in text:                  # 1/3 reads better than 0.3333
            num, den = text.split("/", 1)
            value = float(num) / float(den)
        else:
            value = float(text)
    except (ValueError, ZeroDivisionError):
        raise SignalError("signals.error.kernel_not_number", position=position, value=token) from None
    if not math.isfinite(value) or abs(value) > 1e6:
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
    """``cnnviz.conv.convolve1d`` with messages about samples and signals, not pixels and images."""
    from .conv import ConvError, convolve1d

    try:
        return convolve1d(signal, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias)
    except ConvError as err:
        if err.key == "conv.error.kernel_too_big":
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
    from . import i18n

    values = [f"{float(v):.4g}" for v in np.asarray(kernel).ravel()]
    return " ".join(values if len(values) == 1 else (i18n.localize(v, lang) for v in values))


# ---------------------------------------------------------------- a labelled dataset
CLASSES = KINDS
LENGTH = 128          # every example (and every signal we classify) is resampled to this length


def prepare(signal, length: int = LENGTH) -> np.ndarray:
    """Resample to ``length`` samples and standardize (mean 0, std 1).

    The network then sees the *shape* of a signal, whatever its units or
    length: a heartbeat in millivolts and one in volts look the same.
    """
    x = np.asarray(signal, dtype=np.float64).ravel()
    if x.size < MIN_LENGTH or not np.isfinite(x).all():
        raise SignalError("signals.error.bad_signal", n=x.size)
    if x.size != length:
        x = np.interp(np.linspace(0, x.size - 1, length), np.arange(x.size), x)
    std = x.std()
    return ((x - x.mean()) / (std if std > 1e-12 else 1.0)).astype(np.float32)


FREQ_RANGE = (1.5, 8.0)     # cycles per signal in the dataset
AMPLITUDE_RANGE = (0.5, 2.0)
NOISE_MAX = 0.12            # every kind gets a little noise, so "noisy" means *much* noise


def random_example(kind: str, rng: np.random.Generator, length: int = LENGTH) -> np.ndarray:
    """One signal of ``kind`` with random frequency, phase, amplitude and a little noise."""
    return make(kind, length, freq=rng.uniform(*FREQ_RANGE), noise=rng.uniform(0.0, NOISE_MAX),
                seed=int(rng.integers(2 ** 31)), phase=rng.uniform(0, 2 * np.pi),
                amplitude=rng.uniform(*AMPLITUDE_RANGE))


def make_dataset(n_per_class: int = 200, *, length: int = LENGTH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): ``n_per_class`` prepared examples of each kind in ``CLASSES``, shuffled.

    X is float32 (N, length), y int64 (N,) with y[i] the index of the kind in ``CLASSES``.
    """
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(CLASSES)), n_per_class)
    rng.shuffle(y)
    x = np.stack([prepare(random_example(CLASSES[k], rng, length), length) for k in y])
    return x, y.astype(np.int64)


# ---------------------------------------------------------------- a tiny 1D CNN
CHANNELS = (8, 16)    # conv1 has 8 kernels, conv2 and conv3 16: tiny, and enough for 5 kinds
KERNEL = 7            # conv1's kernels have 7 weights: long enough to look like our presets


def signal_cnn(num_classes: int = len(CLASSES), channels: tuple[int, int] = CHANNELS, kernel: int = KERNEL):
    """conv1 -> relu1 -> pool1 -> conv2 -> relu2 -> pool2 -> conv3 -> relu3 -> pool3 -> fc.

    The same building blocks as an image CNN, with Conv1d: conv1's 8 kernels of
    7 weights slide along the signal like our presets do; pooling halves the
    length; pool3 keeps a coarse "where" (4 segments) so the network can tell
    a chirp (slow then fast) from a plain sine.
    """
    from collections import OrderedDict

    from torch import nn

    c1, c2 = channels
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv1d(1, c1, kernel, padding=kernel // 2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
        ("conv2", nn.Conv1d(c1, c2, 5, padding=2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool1d(2)),
        ("conv3", nn.Conv1d(c2, c2, 3, padding=1)), ("relu3", nn.ReLU()), ("pool3", nn.AdaptiveAvgPool1d(4)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(c2 * 4, num_classes)),
    ]))


@dataclass
class SignalTraining:
    """What ``train_signal_cnn`` gives back."""

    model: object                  # the trained nn.Module, in eval mode
    history: list[dict]            # one dict per epoch: loss, train_acc, val_loss, val_acc, seconds
    test_acc: float                # accuracy on a test set never used for training or early stopping
    seconds: float
    stop_reason: str               # "completed", "early_stopping" or "user"
    n_test: int = 0                # how many test signals ``test_acc`` was measured on
    classes: tuple[str, ...] = field(default=CLASSES)


def _loader(x, y, batch_size, shuffle=False, seed=0):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(torch.from_numpy(x)[:, None, :], torch.from_numpy(y))
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None)


def train_signal_cnn(epochs: int = 8, seed: int = 0, callback=None, stop=None, *,
                     n_per_class: int = 240, lr: float = 5e-3) -> SignalTraining:
    """Train ``signal_cnn`` on a fresh synthetic dataset (CPU, a few seconds).

    ``callback(state)`` is called after every epoch with ``cnnviz.train.FitState``
    (``state.history[-1]`` has that epoch's loss and accuracies); ``stop()`` is
    asked after every batch and ends training early when it returns True.
    Training, validation (early stopping) and test sets come from different seeds.
    """
    import torch

    from .train import Callback, FitConfig, evaluate, fit

    class Relay(Callback):
        def on_batch_end(self, state):
            if stop is not None and stop():
                state.stop = True

        def on_epoch_end(self, state):
            if callback is not None:
                callback(state)

    x_train, y_train = make_dataset(n_per_class, seed=seed * 3 + 1)
    x_val, y_val = make_dataset(max(n_per_class // 6, 10), seed=seed * 3 + 2)
    x_test, y_test = make_dataset(max(n_per_class // 3, 10), seed=seed * 3 + 3)
    with _one_thread():
        torch.manual_seed(seed)
        model = signal_cnn()
        config = FitConfig(epochs=epochs, lr=lr, patience=None, seed=seed)
        state = fit(model, _loader(x_train, y_train, 64, shuffle=True, seed=seed), _loader(x_val, y_val, 512),
                    config, [Relay()])
        _, test_acc = evaluate(model, _loader(x_test, y_test, 512))
    return SignalTraining(model, state.history, test_acc, state.seconds, state.stop_reason, len(y_test))


@contextmanager
def _one_thread():
    """Train on one CPU thread: batches this small gain nothing from more threads, and on a
    busy server (a class of 30, other jobs) threads fighting over cores made it 10x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def first_layer_kernels(model) -> np.ndarray:
    """conv1's learned kernels as numpy, (out_channels, kernel_size): 1D kernels like our presets."""
    weight = model.conv1.weight.detach().cpu().numpy()   # (out, in=1, k)
    return weight[:, 0, :].astype(np.float64)


def predict(model, signal) -> np.ndarray:
    """Probabilities of each kind in ``CLASSES`` for one signal (any length, any units)."""
    import torch

    x = torch.from_numpy(prepare(signal))[None, None, :]
    with torch.no_grad():
        return torch.softmax(model(x), dim=1)[0].numpy().astype(np.float64)


# ---------------------------------------------------------------- figures (plotly, imported lazily)
SIGNAL_COLOUR, WINDOW_COLOUR, OUTPUT_COLOUR, PAD_COLOUR = "#3b6ea5", "#e07b00", "#2a9d5c", "#9aa0a6"


def centres(result) -> np.ndarray:
    """Where each output value sits along the input: the middle of its window.

    Drawing the output there (not at 0, 1, 2...) shows *which part of the signal*
    each value answers to; with stride 2 they are two samples apart.
    """
    span = result.dilation * (len(result.kernel) - 1) + 1
    return np.arange(len(result.output)) * result.stride - result.padding + (span - 1) / 2


def conv_figure(result, i: int | None = None, *, names: dict[str, str], relu: bool = False, height: int = 430,
                zoom: int | None = None):
    """The signal on top and the output below, on the same time axis.

    With ``i``: the window of step ``i`` shaded on the signal, the samples the
    kernel touches marked, and the output drawn only up to step ``i`` (it fills
    in as the kernel slides). ``zoom``: show only this many samples either
    side of the window. ``names``: translated "signal", "padding", "window",
    "output", "time" labels.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    sig, out = result.signal, result.output
    out = np.maximum(out, 0) if relu else out
    n, p, d, k = len(sig), result.padding, result.dilation, len(result.kernel)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=(names["signal"], names["output"]))
    marker = {"size": 5 if n <= 200 else 2}
    fig.add_trace(go.Scatter(x=np.arange(n), y=sig, mode="lines+markers", name=names["signal"],
                             line={"color": SIGNAL_COLOUR}, marker=marker,
                             hovertemplate="x[%{x}] = %{y:.3g}<extra></extra>"), 1, 1)
    if p:
        pad_x = np.r_[np.arange(-p, 0), np.arange(n, n + p)]
        fig.add_trace(go.Scatter(x=pad_x, y=np.zeros(len(pad_x)), mode="markers", name=names["padding"],
                                 marker={"color": PAD_COLOUR, "symbol": "square-open", "size": 7},
                                 hovertemplate="0 (padding)<extra></extra>"), 1, 1)
    xs = centres(result)
    upto = len(out) if i is None else i + 1
    fig.add_trace(go.Scatter(x=xs[:upto], y=out[:upto], mode="lines+markers", name=names["output"],
                             line={"color": OUTPUT_COLOUR}, marker=marker,
                             hovertemplate="y = %{y:.3g}<extra></extra>"), 2, 1)
    if i is not None:
        left = i * result.stride - p
        taps = left + d * np.arange(k)
        fig.add_vrect(x0=left - 0.5, x1=taps[-1] + 0.5, fillcolor=WINDOW_COLOUR, opacity=0.15, line_width=0,
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=taps, y=result.windows[i], mode="markers", name=names["window"],
                                 marker={"color": WINDOW_COLOUR, "size": 11, "line": {"width": 1, "color": "#fff"}},
                                 hovertemplate="x[%{x}] = %{y:.3g}<extra></extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=[xs[i]], y=[out[i]], mode="markers", showlegend=False,
                                 marker={"color": WINDOW_COLOUR, "size": 13, "line": {"width": 1, "color": "#fff"}},
                                 hovertemplate="y = %{y:.3g}<extra></extra>"), 2, 1)
        lo, hi = float(out.min()), float(out.max())
        margin = (hi - lo) * 0.08 or 1.0
        fig.update_yaxes(range=[lo - margin, hi + margin], row=2, col=1)  # the axis stays still while stepping
    x_range = [-p - 1, n + p]
    if i is not None and zoom:
        middle = centres(result)[i]
        x_range = [middle - zoom, middle + zoom]
    fig.update_xaxes(range=x_range, row=2, col=1, title_text=names["time"])
    fig.update_annotations(x=0, xanchor="left", font={"size": 13})   # titles left, the legend right
    fig.update_layout(height=height, margin={"l": 8, "r": 8, "t": 28, "b": 8}, hovermode="closest",
                      legend={"orientation": "h", "y": 1.08, "x": 1, "xanchor": "right"})
    return fig


def examples_figure(examples: dict[str, np.ndarray], titles: dict[str, str], height: int = 170):
    """One small line plot per kind of signal, side by side (what the network learns to tell apart)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(examples), subplot_titles=[titles[k] for k in examples],
                        horizontal_spacing=0.03)
    for j, (kind, x) in enumerate(examples.items(), 1):
        fig.add_trace(go.Scatter(y=x, mode="lines", line={"color": SIGNAL_COLOUR, "width": 1.5},
                                 hoverinfo="skip", showlegend=False), 1, j)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, margin={"l": 4, "r": 4, "t": 28, "b": 4})
    return fig


def kernels_figure(kernels: np.ndarray, title: str = "{i}", cols: int = 4, height: int = 260):
    """Learned 1D kernels as small line plots (weights against position), one per kernel."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    kernels = np.asarray(kernels, dtype=np.float64)
    rows = math.ceil(len(kernels) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[title.format(i=i) for i in range(len(kernels))],
                        horizontal_spacing=0.04, vertical_spacing=0.18)
    m = float(np.abs(kernels).max()) or 1.0
    for i, w in enumerate(kernels):
        r, c = divmod(i, cols)
        fig.add_trace(go.Scatter(y=w, mode="lines+markers", line={"color": WINDOW_COLOUR}, showlegend=False,
                                 hovertemplate="w[%{x}] = %{y:.3f}<extra></extra>"), r + 1, c + 1)
    fig.update_yaxes(range=[-m * 1.1, m * 1.1], zeroline=True, zerolinecolor="#bbb", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=height * rows / 2, margin={"l": 4, "r": 4, "t": 28, "b": 4})
    return fig
