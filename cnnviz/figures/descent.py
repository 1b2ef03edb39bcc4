"""Charts of gradient descent (plotly, imported when one is built): the loss surface as a contour map
and in 3D with an optimizer's path, and the race of several optimizers animated with plotly frames
(a Play button in the figure: the browser plays it, the server sends it once).

Arrays in, figure out: the grid (``w1``, ``w2``, ``loss`` with rows along ``w2``), the paths
((k + 1, 2) points, every one finite and on the map: ``cnnviz.train.descent.run`` cuts a path where it
leaves), their losses, and the words to show (``names``: the axes, the markers, the buttons), already
in the learner's language. Numbers follow the learner through ``i18n.current()``.
"""

from __future__ import annotations

import numpy as np

from .. import i18n
from cnnviz.base.kept import Kept, content_key
from .numbers import fmt
from .plots import localize, separators
from .scale import ACCENT, SECOND

# one colour per optimizer of the race (the palette's roles: cnnviz.figures.scale)
RACE_COLOURS = {"sgd": SECOND, "momentum": ACCENT, "adam": "purple"}
# the loss from low (white) to high (grey): the paths' colours stand out on every part of the map
GREY_HIGH, GREY_LINE = 120, 90
GREYS = [[0.0, "white"], [1.0, f"rgb({GREY_HIGH},{GREY_HIGH},{GREY_HIGH})"]]
PATH = "crimson"
FRAME_MS = 80          # one frame of the race: 80 steps play in under 7 s


def _levels(loss: np.ndarray, lowest: float, n: int = 9) -> list[float]:
    """Loss values for the colour bar's ticks, evenly spread on the log scale the map is coloured by."""
    top = float(np.nanmax(loss))
    raw = lowest + (top - lowest) * (np.geomspace(1, 101, n) - 1) / 100
    return sorted({float(f"{v:.2g}") for v in raw})


def _coloured(loss: np.ndarray, lowest: float) -> np.ndarray:
    """What the map's colours follow: log10 of the height above the bottom (the valley's floor
    stays visible next to walls a hundred times higher)."""
    return np.log10(np.maximum(loss - lowest, 0) + 0.01)


def _map_picture(loss: np.ndarray, lowest: float, side: int = 360, bands: int = 18) -> str:
    """The map as a PNG (a data URI), the colours of ``_contour`` in ``bands`` bands with a darker line
    between two bands (its contour lines); the first row is the top of the map (the largest w2)."""
    import base64

    from PIL import Image

    from .pictures import png_bytes

    v = _coloured(np.asarray(loss, float), lowest)[::-1]
    lo, hi = float(v.min()), float(v.max())
    smooth = np.asarray(Image.fromarray(((v - lo) / (hi - lo or 1)).astype(np.float32), mode="F").resize(
        (side, side), Image.Resampling.BILINEAR))
    band = np.clip(np.floor(smooth * bands), 0, bands - 1)
    grey = 255 - (255 - GREY_HIGH) * band / (bands - 1)
    edge = np.zeros(band.shape, bool)
    edge[:-1] |= band[:-1] != band[1:]
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    grey[edge] = GREY_LINE
    img = Image.fromarray(grey.astype(np.uint8), mode="L")
    return "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode("ascii")


def _contour(w1, w2, loss, lowest: float, names: dict, font: int):
    import plotly.graph_objects as go

    ticks = _levels(loss, lowest)
    line = f"rgb({GREY_LINE},{GREY_LINE},{GREY_LINE})"
    return go.Contour(x=w1, y=w2, z=_coloured(loss, lowest), customdata=loss, colorscale=GREYS,
                      contours={"coloring": "fill", "showlines": True}, line={"width": 0.7, "color": line},
                      ncontours=18, hovertemplate=f"{names['w1']} = %{{x:.2f}}<br>{names['w2']} = %{{y:.2f}}<br>"
                                                  f"{names['loss']} = %{{customdata:.3f}}<extra></extra>",
                      colorbar={"title": {"text": names["loss"], "side": "right", "font": {"size": font}},
                                "tickvals": list(_coloured(np.array(ticks), lowest)),
                                "ticktext": [fmt(v, 2 if v < 10 else 0) for v in ticks],
                                "tickfont": {"size": font}, "thickness": 14})


def _square_layout(fig, names: dict, area, font: int, size: int):
    fig.update_layout(width=size + 90, height=size, margin={"l": 4, "r": 4, "t": 4 * font, "b": 4},
                      font={"size": font}, showlegend=True,
                      legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom", "font": {"size": font}},
                      xaxis={"title": {"text": names["w1"], "font": {"size": font}}, "range": list(area),
                             "tickfont": {"size": font}, "constrain": "domain"},
                      yaxis={"title": {"text": names["w2"], "font": {"size": font}}, "range": list(area),
                             "tickfont": {"size": font}, "scaleanchor": "x"})


def contour_figure(w1, w2, loss, *, bottom, lowest: float, path=None, start=None, names: dict, area,
                   font: int = 14, size: int = 470):
    """The map of the loss over the two weights, its lowest point and, when given, ``path``'s steps
    from its first point, or only the ``start`` (before the learner has guessed where it goes)."""
    import plotly.graph_objects as go

    fig = go.Figure(_contour(w1, w2, loss, lowest, names, font))
    fig.add_scatter(x=[bottom[0]], y=[bottom[1]], mode="markers", name=names["bottom"],
                    marker={"symbol": "star", "size": 16, "color": "#ffd000", "line": {"width": 1, "color": "#333"}},
                    hoverinfo="skip")
    if path is not None:
        p = np.asarray(path, float)
        fig.add_scatter(x=p[:, 0], y=p[:, 1], mode="lines+markers", name=names["path"],
                        line={"color": PATH, "width": 2.5}, marker={"size": 6, "color": PATH},
                        hovertemplate=f"{names['step']} %{{customdata}}<extra></extra>", customdata=np.arange(len(p)))
    if path is not None or start is not None:
        p = np.asarray(path if path is not None else [start], float)
        fig.add_scatter(x=p[:1, 0], y=p[:1, 1], mode="markers", name=names["start"],
                        marker={"symbol": "circle-open", "size": 16, "color": PATH, "line": {"width": 3}},
                        hoverinfo="skip")
    _square_layout(fig, names, area, font, size)
    return localize(fig, i18n.current() or i18n.DEFAULT)


def surface_figure(w1, w2, loss, *, path=None, losses=None, names: dict, font: int = 14, height: int = 470):
    """The same loss in 3D: the bowl, and the path walking down its side (its points at their loss)."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Surface(x=w1, y=w2, z=loss, colorscale=GREYS, showscale=False,
                               opacity=0.92, hovertemplate=f"{names['loss']} = %{{z:.3f}}<extra></extra>"))
    if path is not None:
        p = np.asarray(path, float)
        fig.add_scatter3d(x=p[:, 0], y=p[:, 1], z=np.asarray(losses, float) + 0.05, mode="lines+markers",
                          name=names["path"], line={"color": PATH, "width": 6},
                          marker={"size": 3, "color": PATH}, hoverinfo="skip")
    axis = {"tickfont": {"size": font}, "dtick": 2}     # -2, 0, 2: few ticks, readable when the bowl turns
    fig.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0}, showlegend=False,
                      font={"size": font}, separators=separators(i18n.current() or i18n.DEFAULT),
                      scene={"xaxis": {**axis, "title": {"text": names["w1"], "font": {"size": font}}},
                             "yaxis": {**axis, "title": {"text": names["w2"], "font": {"size": font}}},
                             "zaxis": {**axis, "dtick": None, "nticks": 4,
                                       "title": {"text": names["loss"], "font": {"size": font}}},
                             "camera": {"eye": {"x": 1.5, "y": -1.5, "z": 1.0}}})
    return fig


def race_figure(w1, w2, loss, *, bottom, lowest: float, paths: dict, names: dict, area, font: int = 14,
                size: int = 470, frame_ms: int = FRAME_MS):
    """The race: one trail per optimizer (``paths``: name -> (k + 1, 2) points; ``names[name]`` its
    label) drawn step by step by plotly frames, a Play and a Pause button and a slider of steps.
    A path that stopped (it left the map) stays where it stopped while the others go on.

    Built once per content and language and shared (a class races from the same start; its 80
    frames cost ~0.5 s to build, ``benchmarks/descent_race.py``): callers must not modify it."""
    lang = i18n.current() or i18n.DEFAULT
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (w1, w2, loss, bottom, *paths.values())]
    key = content_key((tuple(paths), tuple(sorted(names.items())), tuple(area), float(lowest), font, size, frame_ms,
                       lang, tuple(a.shape for a in arrays)), b"".join(a.tobytes() for a in arrays))
    return _RACES.get_or_make(key, lambda: _race_figure(w1, w2, loss, bottom, lowest, paths, names, area, font, size,
                                                        frame_ms, lang))


_RACES = Kept(max_items=16)      # shared races (~0.5 MB of JSON each)


def _race_figure(w1, w2, loss, bottom, lowest, paths, names, area, font, size, frame_ms, lang):
    import plotly.graph_objects as go

    # the map is a picture behind the axes: plotly.js (4.1) removes a contour or heatmap trace from the
    # plot when frames animate the other traces, a layout image stays
    fig = go.Figure()
    fig.add_layout_image(source=_map_picture(loss, lowest), xref="x", yref="y", x=area[0], y=area[1],
                         sizex=area[1] - area[0], sizey=area[1] - area[0], sizing="stretch", layer="below")
    fig.add_scatter(x=[bottom[0]], y=[bottom[1]], mode="markers", name=names["bottom"], hoverinfo="skip",
                    marker={"symbol": "star", "size": 16, "color": "#ffd000", "line": {"width": 1, "color": "#333"}})
    order = list(paths)
    pts = {k: np.asarray(v, float) for k, v in paths.items()}
    for k in order:                                  # the trails start at the start: frame 0
        fig.add_scatter(x=pts[k][:1, 0], y=pts[k][:1, 1], mode="lines+markers", name=names[k],
                        line={"color": RACE_COLOURS[k], "width": 3}, marker={"size": 5, "color": RACE_COLOURS[k]},
                        hoverinfo="skip")
    first = 1                                         # trace 0: the bottom
    longest = max(len(p) for p in pts.values())
    frames = []
    for step in range(longest):
        data = []
        for k in order:
            p = pts[k][:step + 1]
            data.append({"type": "scatter", "x": p[:, 0].tolist(), "y": p[:, 1].tolist()})
        frames.append(go.Frame(data=data, traces=list(range(first, first + len(order))), name=str(step)))
    fig.frames = frames
    play = {"frame": {"duration": frame_ms, "redraw": False}, "fromcurrent": True,
            "transition": {"duration": 0}, "mode": "immediate"}
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": -0.17, "xanchor": "left", "yanchor": "top",
                      "pad": {"r": 8, "t": 4}, "showactive": False, "font": {"size": font},
                      "buttons": [{"label": "▶ " + names["play"], "method": "animate", "args": [None, play]},
                                  {"label": "■ " + names["pause"], "method": "animate",
                                   "args": [[None], {"frame": {"duration": 0, "redraw": False},
                                                     "mode": "immediate"}]}]}],
        sliders=[{"active": 0, "x": 0, "len": 1, "y": -0.27, "yanchor": "top", "pad": {"t": 4},
                  # "Step 37" above the slider; the 81 tick labels under it would overlap: not drawn
                  "currentvalue": {"prefix": names["step"] + " ", "font": {"size": font, "color": "black"}},
                  "font": {"size": font, "color": "rgba(0,0,0,0)"}, "transition": {"duration": 0},
                  "steps": [{"label": str(s), "method": "animate",
                             "args": [[str(s)], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}
                            for s in range(longest)]}])
    _square_layout(fig, names, area, font, size)
    fig.update_layout(height=size + 170, margin={"l": 4, "r": 4, "t": 3 * font, "b": 190})
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    return localize(fig, lang)
