"""The Fool-the-network lesson's chart (plotly, imported when it is built): accuracy against epsilon,
one line per attack. Built once per content and language and shared: callers must not modify it."""

from __future__ import annotations

from functools import lru_cache

from .. import i18n
from .plots import localize
from .scale import ACCENT, MUTED, SECOND

COLOURS = (ACCENT, SECOND, MUTED)      # FGSM, PGD, the random baseline
DASHES = ("solid", "solid", "dash")


def epsilon_curves(epsilons, series: dict[str, list[float]], *, xtitle: str, ytitle: str, font: int = 15):
    """Accuracy (0..1, drawn in %) at each epsilon, one line with markers per series, in order."""
    return _epsilon_curves(tuple(float(e) for e in epsilons),
                           tuple((k, tuple(float(v) for v in vs)) for k, vs in series.items()),
                           xtitle, ytitle, int(font), i18n.current())


@lru_cache(maxsize=16)
def _epsilon_curves(epsilons, series, xtitle, ytitle, font, lang):
    import plotly.graph_objects as go

    fig = go.Figure()
    for (name, values), colour, dash in zip(series, COLOURS, DASHES):
        fig.add_scatter(x=list(epsilons), y=[100 * v for v in values], name=name, mode="lines+markers",
                        line={"color": colour, "width": 3, "dash": dash}, marker={"size": 8},
                        hovertemplate="ε = %{x}: %{y:.1f} %<extra>" + name + "</extra>")
    fig.update_layout(height=380, margin={"l": 4, "r": 4, "t": 50, "b": 4}, font={"size": font},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": font}},
                      xaxis={"title": xtitle, "tickfont": {"size": font}},
                      yaxis={"title": ytitle, "range": [0, 102], "ticksuffix": " %", "tickfont": {"size": font}})
    return localize(fig, lang)
