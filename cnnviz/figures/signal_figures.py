"""Plotly figures of the 1D lesson: a kernel sliding along a signal, example signals, learned kernels.

plotly is imported inside each function: importing this module costs nothing.
"""

from __future__ import annotations

import math

import numpy as np

from cnnviz.maths.conv import kernel_span
from cnnviz.figures.scale import ACCENT

SIGNAL_COLOUR, WINDOW_COLOUR, OUTPUT_COLOUR, PAD_COLOUR = "#3b6ea5", ACCENT, "#2a9d5c", "#9aa0a6"


def centres(result) -> np.ndarray:
    """Where each output value sits along the input: the middle of its window.

    Drawing the output there (not at 0, 1, 2...) shows *which part of the signal*
    each value answers to; with stride 2 they are two samples apart.
    """
    span = kernel_span(len(result.kernel), result.dilation)
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
