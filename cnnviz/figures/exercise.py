"""What a self-check question shows with its prompt: its figure's data drawn as panels.

A question (``cnnviz.exercises``) carries the data it is asked about in ``q.figure``; each entry
is drawn by what it is: small matrices (windows, kernels, pooling inputs) as numbers in coloured
cells, larger 2D arrays as pictures or coloured maps (a map with its colour bar), short vectors
as one row of cells, longer ones and curves as plotly lines; each option's own array (a kernel)
under its label. ``cnnviz.ui.selfcheck`` lays the panels out and shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from .. import i18n
from .markup import legend_html, matrix_html
from .pictures import upscale
from .scale import colorize, map_scale


@dataclass(frozen=True)
class Panel:
    """One thing drawn with a question, under its ``caption`` ("" for none): ``body`` is HTML
    (numbers in cells), a PIL image (a picture or a map, ``legend``: its colour bar in HTML) or a
    plotly figure (curves, bars)."""
    caption: str
    body: Any
    legend: str | None = None


def lines_figure(series, *, xtitle: str = "", ytitle: str = "", height: int = 230, steps: bool = False):
    """A small plotly line chart: ``series`` = [(name, x, y, dash)]."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, x, y, dash in series:
        fig.add_trace(go.Scatter(x=list(x), y=list(np.asarray(y, dtype=float)), name=name, mode="lines",
                                 line={"dash": dash, "width": 3}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title=xtitle,
                      yaxis_title=ytitle, legend={"orientation": "h", "y": 1.15, "x": 0}, font={"size": 15})
    if steps:           # whole steps (layers randomized): no 0.5 ticks
        fig.update_xaxes(dtick=1)
    return fig


def _cells(arr, name: str) -> str:
    a = np.atleast_2d(np.asarray(arr, dtype=np.float64))
    whole = bool(np.all(a == np.round(a)))
    # pixels in grey (their own range: a window of 0..9 is not black), kernels blue < 0 < red
    grey = name in ("window", "image") and a.min() >= 0 and a.max() <= 255
    scale = "gray" if grey else "signed" if name == "kernel" else "auto"
    return matrix_html(a, scale=scale, vmin=float(a.min()) if grey else None,
                       vmax=float(a.max()) if grey else None, digits=0 if whole else 2,
                       cell=44 if a.size <= 16 else 38, hover="{value}")


def _picture(caption: str, arr, name: str, lang: str, points=None) -> Panel:
    """A 2D array 200 px wide: a picture in its greys, else a map in colours with its colour bar;
    ``points`` (x, y) marked and lettered A, B, C..."""
    a = np.asarray(arr, dtype=np.float64)
    legend = None
    if name == "image" or (name == "images" and a.min() >= 0 and a.max() <= 255):
        img = upscale(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).convert("RGB"), 200)
    else:                     # a map in colours: its colour bar with numbers goes under it
        scale = map_scale(a)
        img = upscale(colorize(a, scale=scale), 200)
        legend = legend_html(scale, fmt=lambda v, d=0: i18n.number(v, lang, d), width=200)
    if points:
        s = img.size[0] / a.shape[1]
        d = ImageDraw.Draw(img)
        font = ImageFont.load_default(size=max(14, int(img.size[0] / 11)))
        for k, (x, y) in enumerate(points):
            cx, cy, r = (x + 0.5) * s, (y + 0.5) * s, max(5, s * 0.6)
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(0, 230, 255), outline=(0, 0, 0), width=2)
            d.text((cx + r + 2, cy), chr(ord("A") + k), fill=(255, 255, 255), font=font, anchor="lm",
                   stroke_width=3, stroke_fill=(0, 0, 0))
    framed = ImageOps.expand(img, border=2, fill=(150, 150, 150))   # a white picture keeps its edge
    return Panel(caption, framed, legend)


def exercise_panels(figure: dict | None, options: list[str], option_figures=(), *, lang: str,
                    revealed: bool) -> list[Panel]:
    """The panels of a question's ``figure`` (``q.figure``), in ``lang``: charts first (training
    runs, deletion curves, rank correlations, scores), then every array entry by its shape, then
    the options that have an array of their own (``option_figures[k]``, drawn under
    ``options[k]``, the option's label as shown). Numbers, strings and lists of names are not
    drawn (settings already in the prompt; names would give the answer away); ``activations``
    (of "which picture") only once ``revealed`` (the answer checked)."""
    f = dict(figure or {})
    cap = lambda name: i18n.t(f"exercises.fig.{name}", lang)   # noqa: E731
    label = lambda k: options[k] if k < len(options) else str(k)   # noqa: E731
    panels: list[Panel] = []
    if "runs" in f:        # train.overfit: one chart per run
        for k, run in enumerate(f.pop("runs")):
            epochs = range(1, len(run["train"]) + 1)
            panels.append(Panel(options[k] if k < len(options) else "", lines_figure(
                [(cap("train"), epochs, run["train"], "solid"), (cap("val"), epochs, run["val"], "dash")],
                xtitle=cap("epoch"), ytitle=cap("accuracy"))))
    if "train" in f and "val" in f:      # train.best_epoch
        tr, va = f.pop("train"), f.pop("val")
        epochs = range(1, len(tr) + 1)
        panels.append(Panel("", lines_figure([(cap("train"), epochs, tr, "solid"), (cap("val"), epochs, va, "dash")],
                                             xtitle=cap("epoch"), ytitle=cap("accuracy"))))
    if "curves" in f:      # explain.faithful: deletion curves over the fraction of pixels removed
        xs = f.pop("fractions", None)
        curves = f.pop("curves")
        xs = xs if xs is not None else range(len(curves[0]))
        lines = [(label(k), np.asarray(xs) * 100, c, "solid") for k, c in enumerate(curves)]
        panels.append(Panel("", lines_figure(lines, xtitle=cap("removed"), ytitle=cap("probability"))))
    if "correlations" in f:   # explain.sanity: one line per method, layer after layer randomized
        corr = f.pop("correlations")
        panels.append(Panel("", lines_figure([(label(k), range(len(c)), c, "solid") for k, c in enumerate(corr)],
                                             xtitle=cap("randomized"), ytitle=cap("correlation"), steps=True)))
    if "logits" in f:      # made-up scores of a network: one bar per class
        import plotly.graph_objects as go

        z, classes = np.asarray(f.pop("logits"), dtype=float), f.pop("classes", None)
        names = [str(c) for c in (classes if classes is not None else range(len(z)))]
        fig = go.Figure(go.Bar(x=names, y=z, marker_color="#1f77b4"))
        fig.update_layout(height=230, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_title=cap("logits"),
                          font={"size": 15}, xaxis={"type": "category"})
        panels.append(Panel("", fig))
    points = f.pop("points", None)
    activations = f.pop("activations", None)
    for name, value in f.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)) or value is None:
            continue         # settings already in the prompt (window, stride, position, epochs)
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
            continue         # names that would give the answer away
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 3:    # several pictures: one panel each, lettered like the options
            for k, img in enumerate(arr):
                extra = ""
                if revealed and activations is not None:
                    extra = " · " + i18n.t("exercises.fig.activation_is", lang,
                                           value=i18n.number(np.asarray(activations)[k], lang, 1))
                panels.append(_picture(chr(ord("A") + k) + extra, img, name, lang))
        elif arr.ndim == 2 and max(arr.shape) <= 8:
            panels.append(Panel(cap(name), _cells(arr, name)))
        elif arr.ndim == 2:
            panels.append(_picture(cap(name), arr, name, lang, points if name == "heatmap" else None))
        elif arr.ndim == 1 and arr.size <= 12:
            panels.append(Panel(cap(name), _cells(arr, name)))
        elif arr.ndim == 1:
            panels.append(Panel(cap(name), lines_figure([(cap(name), range(arr.size), arr, "solid")], height=170)))
    for k, drawn in enumerate(option_figures):    # options that are arrays (kernels): drawn under their label
        if drawn is not None:
            panels.append(Panel(options[k], _cells(drawn, "kernel")))
    return panels


def panels_per_row(panels: list[Panel]) -> int:
    """How many panels side by side: four when there are four or more and all are numbers in
    cells, else up to three."""
    if len(panels) >= 4 and all(isinstance(p.body, str) for p in panels):
        return 4
    return min(len(panels), 3)
