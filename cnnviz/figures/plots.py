"""Charts (plotly, imported when a chart is built): curves, bars, heatmaps, a confusion
matrix and a latent plane."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import i18n
from cnnviz.base.kept import Kept, content_key
from .scale import ACCENT, CHOSEN, SECOND, Scale, map_scale


def separators(lang: str) -> str:
    """Plotly's decimal mark and thousands separator for ``lang``: "12.288,5" in Portuguese."""
    return ",." if lang == "pt_BR" else ".,"


def localize(fig, lang: str):
    """``fig`` with numbers the learner's way: the language's separators, and axis ticks written
    out (12.000, not plotly's "12k"; "10B" and "100M" mean nothing in Portuguese), powers of ten
    (10⁹) on log axes. Plotly groups digits from five on, as ``i18n.number`` does. Called on a
    figure before it is shared, or by ``ui.plot`` on a fresh one."""
    fig.update_layout(separators=separators(lang))
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.tickfont.size is None:         # tick numbers a class reads from the back: 14 px at least
            axis.tickfont.size = 14
        if axis.type == "log" and axis.dtick is None:   # a label per power of ten, no small "2" and "5" between
            axis.dtick = 1
        if axis.exponentformat is None:
            axis.exponentformat = "power" if axis.type == "log" else "none"   # grouped from 5 digits, as i18n.number
    return fig


def curves_figure(fractions, deletion, insertion, *, names: tuple[str, str], xtitle: str, ytitle: str):
    """Deletion and insertion curves of one explanation (probability of the class vs pixels changed).

    Built once per curves, labels and language and shared (a class on the same picture draws the
    same three charts; a plotly figure costs 7-20 ms to build): callers must not modify it. Its
    separators are already the language's, so ``ui.plot`` leaves it as it is."""
    lang = i18n.current()
    return _curves_figure(tuple(float(v) for v in fractions), tuple(float(v) for v in deletion),
                          tuple(float(v) for v in insertion), tuple(names), xtitle, ytitle, lang)


@lru_cache(maxsize=64)
def _curves_figure(fractions, deletion, insertion, names, xtitle, ytitle, lang):
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=list(fractions), y=list(deletion), name=names[0], mode="lines", line={"color": SECOND})
    fig.add_scatter(x=list(fractions), y=list(insertion), name=names[1], mode="lines", line={"color": ACCENT})
    # the legend above the chart, one entry per line (its name may break with <br>): a narrow column
    # cut a long horizontal entry off
    fig.update_layout(height=330, margin={"l": 4, "r": 4, "t": 110, "b": 4},
                      legend={"orientation": "v", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 13}},
                      xaxis={"title": xtitle, "tickformat": ".0%"}, yaxis={"title": ytitle, "range": [0, 1]})
    return localize(fig, lang)


def heatmap(values: np.ndarray, *, hover: str = "row %{y}, col %{x}: %{z:.3f}", size: int = 360,
            scale: "Scale | None" = None):
    """One activation map, large, with its value under the mouse (plotly) and a colour bar
    with numbers, in the same colours as ``colorize``/``map_grid`` (``map_scale``'s rule:
    blue-white-red around 0 when any value is negative, the sequential scale otherwise).

    Built once per map, scale, hover text and language, and shared (a class looks at the same
    channel of the same picture; a heatmap costs ~10 ms to build): callers must not modify it.
    It carries the language's separators, so ``ui.plot`` leaves it as it is."""
    v = np.ascontiguousarray(values, dtype=np.float64)
    sc = scale or map_scale(v)
    lang = i18n.current()
    key = content_key((v.shape, hover, size, sc.lo, sc.hi, sc.diverging, lang), v.tobytes())
    return _HEATMAPS.get_or_make(key, lambda: _heatmap(v, hover, size, sc, lang))


_HEATMAPS = Kept(max_items=32)   # shared heatmaps (a 56 x 56 map's figure: ~0.1 MB)


def _heatmap(v: np.ndarray, hover: str, size: int, sc: Scale, lang: str | None):
    import plotly.graph_objects as go

    stops = np.linspace(0, 1, 11)
    colorscale = [[float(f), "rgb({},{},{})".format(*(int(c) for c in sc.lut[int(round(f * 255))]))]
                  for f in stops]
    if sc.diverging:
        m = max(abs(sc.lo), abs(sc.hi)) or 1.0
        zmin, zmax = -m, m
    else:
        zmin, zmax = sc.lo, (sc.hi if sc.hi > sc.lo else sc.lo + 1.0)
    fig = go.Figure(go.Heatmap(z=v, colorscale=colorscale, zmin=zmin, zmax=zmax,
                               hovertemplate=hover + "<extra></extra>",
                               colorbar={"thickness": 14, "tickfont": {"size": 14}}))
    fig.update_layout(width=size + 70, height=size, margin={"l": 4, "r": 4, "t": 4, "b": 4},
                      separators=separators(lang),
                      xaxis={"visible": False, "constrain": "domain"},
                      yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"})
    return fig


def probability_bars(labels: list[str], probs: list[float]):
    """The top classes as horizontal bars, most likely on top, with percentages."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=[p * 100 for p in probs][::-1], y=labels[::-1], orientation="h",
                           text=[p * 100 for p in probs][::-1], texttemplate="%{text:.1f} %",
                           textposition="auto",
                           marker={"color": ([ACCENT] + ["#9fb3c8"] * (len(probs) - 1))[::-1]},
                           hovertemplate="%{y}: %{x:.2f} %<extra></extra>"))
    fig.update_layout(height=60 + 36 * len(labels), margin={"l": 4, "r": 4, "t": 4, "b": 24},
                      xaxis={"range": [0, 100], "ticksuffix": " %"}, yaxis={"type": "category"})
    return fig


def share_bars(labels: list[str], shares: list[float], *, xtitle: str, font: int = 15):
    """Shares (0..1) as horizontal bars in %, the first label on top, each bar with its value
    (one decimal, in the learner's format once ``ui.plot`` localizes it); ``font``: the numbers' px."""
    import plotly.graph_objects as go

    pct = [100 * float(v) for v in shares][::-1]
    fig = go.Figure(go.Bar(x=pct, y=list(labels)[::-1], orientation="h", text=pct, texttemplate="%{text:.1f} %",
                           textposition="outside", cliponaxis=False, textfont={"size": font},
                           marker={"color": ACCENT}, hovertemplate="%{y}: %{x:.1f} %<extra></extra>"))
    fig.update_layout(height=70 + 34 * len(labels), margin={"l": 4, "r": 40, "t": 4, "b": 40}, font={"size": font},
                      xaxis={"range": [0, 112], "ticksuffix": " %", "title": xtitle, "tickfont": {"size": font}},
                      yaxis={"type": "category", "tickfont": {"size": font}})
    return fig


def rank_corr_figure(steps: list[str], series: dict[str, list[float]], *, ytitle: str):
    """Rank correlation with the original map, one line per method, as layers are randomized."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, values in series.items():
        fig.add_scatter(x=steps, y=values, name=name, mode="lines+markers")
    fig.update_layout(height=260, margin={"l": 4, "r": 4, "t": 4, "b": 4}, legend={"orientation": "h", "y": -0.35},
                      yaxis={"title": ytitle, "range": [-1, 1.05]}, xaxis={"type": "category"})
    return fig


def log_bars(groups: dict[str, list[tuple[str, int]]], *, ytitle: str):
    """Weights per layer on a log scale, one colour per network (an MLP's dwarf a CNN's).

    Numbers are formatted by plotly, so the layout's ``separators`` (``ui.plot``) localizes them."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, rows in groups.items():
        fig.add_bar(x=[f"{name}: {layer}" if len(groups) > 1 else layer for layer, _ in rows],
                    y=[max(n, 1) for _, n in rows], name=name, text=[i18n.number(n) for _, n in rows],
                    texttemplate="%{text}", textposition="outside", cliponaxis=False, textfont={"size": 14})
    fig.update_layout(height=340, margin={"l": 4, "r": 4, "t": 30, "b": 4}, yaxis={"type": "log", "title": ytitle},
                      legend={"orientation": "h", "y": 1.1}, uniformtext={"minsize": 14, "mode": "hide"})
    return localize(fig, i18n.current())


def growth_figure(layers: list[str], sizes: list[int], jumps: list[int], *, names: tuple[str, str]):
    """How the receptive field (and the jump between units) grows, layer after layer."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=layers, y=sizes, name=names[0], text=sizes, textposition="outside", marker={"color": ACCENT})
    fig.add_scatter(x=layers, y=jumps, name=names[1], mode="lines+markers", line={"color": SECOND})
    fig.update_layout(height=280, margin={"l": 4, "r": 4, "t": 30, "b": 4}, legend={"orientation": "h", "y": 1.12},
                      xaxis={"type": "category"}, yaxis={"title": "pixels"})
    return fig


def training_figure(history: list[dict], *, names: dict[str, str], best_epoch: int = 0,
                    max_epochs: int | None = None):
    """Loss (left) and accuracy (right) per epoch, training and validation, as training goes.

    names: titles for "loss", "accuracy", "train", "val", "epoch", "best". The best
    validation epoch (the weights early stopping gives back) is marked.
    """
    from plotly.subplots import make_subplots

    epochs = [h["epoch"] for h in history]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(names["loss"], names["accuracy"]),
                        horizontal_spacing=0.12)
    style = {"train": {"color": SECOND}, "val": {"color": ACCENT}}
    for col, (train_key, val_key) in ((1, ("loss", "val_loss")), (2, ("train_acc", "val_acc"))):
        scale = 100 if col == 2 else 1
        for which, key in (("train", train_key), ("val", val_key)):
            fig.add_scatter(x=epochs, y=[scale * h[key] for h in history], name=names[which],
                            mode="lines+markers", line=style[which], legendgroup=which,
                            showlegend=col == 1, row=1, col=col)
    if best_epoch:
        best = history[best_epoch - 1]
        fig.add_scatter(x=[best_epoch], y=[100 * best["val_acc"]], name=names["best"], mode="markers",
                        marker={"symbol": "star", "size": 16, "color": "#d62728"}, row=1, col=2)
    last = max_epochs or (epochs[-1] if epochs else 1)
    fig.update_xaxes(title_text=names["epoch"], range=[0.5, last + 0.5], dtick=1 if last <= 20 else None)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 100], ticksuffix=" %", row=1, col=2)
    fig.update_layout(height=300, margin={"l": 4, "r": 4, "t": 40, "b": 4},
                      legend={"orientation": "h", "y": -0.25, "yanchor": "top"})
    return fig


def confusion_figure(counts: np.ndarray, labels: list[str], *, xtitle: str, ytitle: str, hover: str):
    """A confusion matrix: rows = true class, columns = predicted; the diagonal is what's right.

    hover: a plotly hovertemplate with %{y} (true), %{x} (predicted), %{z} (count).
    """
    import plotly.graph_objects as go

    counts = np.asarray(counts)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)   # colour = share of the true class
    fig = go.Figure(go.Heatmap(z=share, x=labels, y=labels, customdata=counts, text=counts,
                               texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
                               showscale=False, hovertemplate=hover + "<extra></extra>"))
    fig.update_layout(height=120 + 34 * len(labels), margin={"l": 4, "r": 4, "t": 10, "b": 4},
                      xaxis={"title": xtitle, "side": "bottom", "tickangle": -35, "type": "category",
                             "tickmode": "array", "tickvals": list(labels), "ticktext": list(labels)},
                      yaxis={"title": ytitle, "autorange": "reversed", "type": "category",
                             "tickmode": "array", "tickvals": list(labels), "ticktext": list(labels)})
    return fig


def latent_figure(points: np.ndarray, labels: np.ndarray, names: list[str], *, marked=None,
                  marked_name: str = "", chosen=None, chosen_name: str = "", size: int = 460):
    """A 2-number latent space: one dot per image, coloured by its class (which the
    autoencoder never saw), an optional star at ``marked`` (z1, z2) and an optional
    orange ring and cross at ``chosen`` (the point being decoded)."""
    import plotly.graph_objects as go

    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    fig = go.Figure()
    for c, name in enumerate(names):
        sel = labels == c
        fig.add_scattergl(x=points[sel, 0], y=points[sel, 1], mode="markers", name=name,
                          marker={"size": 4, "color": palette[c % len(palette)], "opacity": 0.7},
                          hovertemplate=name + ": (%{x:.2f}, %{y:.2f})<extra></extra>")
    if marked is not None:
        fig.add_scatter(x=[marked[0]], y=[marked[1]], mode="markers", name=marked_name,
                        marker={"symbol": "star", "size": 20, "color": "#111", "line": {"color": "#fff", "width": 1}})
    if chosen is not None:
        fig.add_scatter(x=[chosen[0]], y=[chosen[1]], mode="markers", name=chosen_name,
                        marker={"symbol": "circle-x-open", "size": 26, "color": CHOSEN,
                                "line": {"color": CHOSEN, "width": 4}},
                        hovertemplate=chosen_name + "<extra></extra>")
    fig.update_layout(height=size, margin={"l": 4, "r": 4, "t": 10, "b": 4},
                      xaxis={"title": "z₁", "zeroline": True}, yaxis={"title": "z₂", "zeroline": True,
                                                                       "scaleanchor": "x"},
                      legend={"itemsizing": "constant"})
    return fig


def count_bars(labels: list[str], counts: list[int], *, font: int = 14):
    """How many pictures each class has: one bar per class, its count written on it (``font`` px:
    larger for a projector)."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=labels, y=counts, text=[i18n.number(int(c)) for c in counts], texttemplate="%{text}",
                           textposition="outside", cliponaxis=False, textfont={"size": font},
                           marker={"color": SECOND}, hovertemplate="%{x}: %{y:,}<extra></extra>"))
    fig.update_layout(height=300, margin={"l": 4, "r": 4, "t": 30, "b": 4}, xaxis={"type": "category",
                      "tickfont": {"size": font}}, yaxis={"tickfont": {"size": font}, "rangemode": "tozero"})
    return localize(fig, i18n.current())


CHANNEL_COLOURS = {"R": "red", "G": "green", "B": "blue"}


def pixel_histogram(counts: np.ndarray, names: list[str], *, xtitle: str, ytitle: str, font: int = 14,
                    log: bool = False):
    """The share of pixels at each value 0-255, one line per channel (``names``: "R", "G", "B", or
    one grey channel's name); ``log``: a log scale, for a histogram where one value holds most pixels."""
    import plotly.graph_objects as go

    counts = np.asarray(counts, dtype=float)
    shares = counts / counts.sum(axis=1, keepdims=True) * 100
    fig = go.Figure()
    for name, row in zip(names, shares):
        fig.add_scatter(x=np.arange(counts.shape[1]), y=row, name=name, mode="lines", line_shape="hvh",
                        line={"color": CHANNEL_COLOURS.get(name, SECOND), "width": 2},
                        hovertemplate="%{x}: %{y:.2f} %<extra>" + name + "</extra>")
    fig.update_layout(height=320, margin={"l": 4, "r": 4, "t": 40, "b": 4}, showlegend=len(names) > 1,
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": font}},
                      xaxis={"title": xtitle, "range": [-2, 257], "tickfont": {"size": font}},
                      yaxis={"title": ytitle, "type": "log" if log else "linear", "ticksuffix": " %",
                             "tickfont": {"size": font}, "rangemode": "tozero"})
    return localize(fig, i18n.current())
