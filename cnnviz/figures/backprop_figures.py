"""The Backpropagation lesson's charts (plotly, imported when one is built): the gradient's size per
layer on a log scale, the loss curves of two runs, and both losses (and their slopes) against the
probability given to the true class. Arrays in, figures out; each built once per content and language
and shared, so callers must not modify them (``ui.plot`` leaves a localized figure as it is)."""

from __future__ import annotations

from functools import lru_cache

from .. import i18n
from .plots import localize
from .scale import ACCENT, MUTED, SECOND

COLOURS = (SECOND, ACCENT)          # the first series (sigmoid, MSE) and the second (ReLU, cross-entropy)


def _tuple(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def gradient_bars(layers: list[str], series: dict[str, list[float]], *, ytitle: str, xtitle: str):
    """Bars of the mean |dL/dW| of each layer, one colour per series (activation), log scale."""
    return _gradient_bars(tuple(layers), tuple((k, _tuple(v)) for k, v in series.items()), ytitle, xtitle,
                          i18n.current())


@lru_cache(maxsize=16)
def _gradient_bars(layers, series, ytitle, xtitle, lang):
    import plotly.graph_objects as go

    fig = go.Figure()
    for (name, values), colour in zip(series, COLOURS):
        fig.add_bar(x=list(layers), y=list(values), name=name, marker_color=colour,
                    hovertemplate="%{x}: %{y:.2e}<extra>" + name + "</extra>")
    fig.update_layout(height=360, barmode="group", margin={"l": 4, "r": 4, "t": 40, "b": 4},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": 15}},
                      xaxis={"title": xtitle, "type": "category"}, yaxis={"type": "log", "title": ytitle})
    return localize(fig, lang)


def loss_curves(series: dict[str, list[float]], *, xtitle: str, ytitle: str):
    """The loss at each training step, one line per series (activation), on the same axes."""
    return _loss_curves(tuple((k, _tuple(v)) for k, v in series.items()), xtitle, ytitle, i18n.current())


@lru_cache(maxsize=16)
def _loss_curves(series, xtitle, ytitle, lang):
    import plotly.graph_objects as go

    fig = go.Figure()
    for (name, values), colour in zip(series, COLOURS):
        fig.add_scatter(x=list(range(len(values))), y=list(values), name=name, mode="lines",
                        line={"color": colour, "width": 3})
    fig.update_layout(height=360, margin={"l": 4, "r": 4, "t": 40, "b": 4},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": 15}},
                      xaxis={"title": xtitle}, yaxis={"title": ytitle, "rangemode": "tozero"})
    return localize(fig, lang)


def loss_against_p(ps, series: dict[str, list[float]], *, marker: float, xtitle: str, ytitle: str,
                   log: bool = False):
    """Curves of each series (a loss, or the size of its slope) against the probability of the true
    class ``ps``, with a vertical line at the learner's ``marker``."""
    return _loss_against_p(_tuple(ps), tuple((k, _tuple(v)) for k, v in series.items()), float(marker), xtitle,
                           ytitle, log, i18n.current())


@lru_cache(maxsize=64)
def _loss_against_p(ps, series, marker, xtitle, ytitle, log, lang):
    import plotly.graph_objects as go

    fig = go.Figure()
    for (name, values), colour in zip(series, COLOURS):
        fig.add_scatter(x=list(ps), y=list(values), name=name, mode="lines", line={"color": colour, "width": 3})
    fig.add_vline(x=marker, line={"color": MUTED, "width": 2, "dash": "dash"})
    fig.update_layout(height=320, margin={"l": 4, "r": 4, "t": 40, "b": 4},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": 15}},
                      xaxis={"title": xtitle, "range": [0, 1]},
                      yaxis={"title": ytitle, "rangemode": "tozero", **({"type": "log"} if log else {})})
    return localize(fig, lang)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci_text(value: float, digits: int = 2) -> str:
    """A tiny or huge number for a sentence, in the learner's format: 1.7 × 10⁻⁶ / 1,7 × 10⁻⁶ (numbers
    from 0.01 to 10,000 are written plainly, with ``digits`` significant digits)."""
    import math

    v = float(value)
    if v == 0 or not math.isfinite(v):
        return i18n.number(v)
    e = math.floor(math.log10(abs(v)))
    if -2 <= e < 4:
        return i18n.number(v, None, max(0, digits - 1 - e), trim=True)
    mantissa = round(v / 10 ** e, digits - 1)
    if abs(mantissa) >= 10:              # 9.99 rounded up to 10.0
        mantissa, e = mantissa / 10, e + 1
    return f"{i18n.number(mantissa, None, digits - 1)} × 10{str(e).translate(_SUPERSCRIPT)}"
