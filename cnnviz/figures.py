"""Figures shared by the pages: plotly matrices with readable numbers, and images.

Big things (images, activation maps) are PIL images: cheap to send to 30
browsers. Small matrices (a receptive field, a kernel) are plotly heatmaps,
because hovering a number there teaches something.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

CHANNEL_SCALES = {"R": "Reds", "G": "Greens", "B": "Blues", "gray": "Greys"}


def fmt(value: float, digits: int = 2) -> str:
    """Short, exact-looking numbers: 30, -2, 0.11, 6600, 1.2e+04 only when huge."""
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e7:
        return str(int(v))
    if abs(v) >= 1e5:
        return f"{v:.3g}"
    return f"{v:.{digits}f}".rstrip("0").rstrip(".")


def matrix_figure(values: np.ndarray, *, title: str = "", colorscale="RdBu", zmid: float | None = None,
                  reverse: bool = False, digits: int = 2, cell: int = 34, zmin=None, zmax=None,
                  show_text: bool = True, hover: str = "row {row}, col {col}: {value}",
                  highlight: np.ndarray | None = None):
    """A small matrix as a heatmap with its numbers written in the cells."""
    import plotly.graph_objects as go

    vals = np.asarray(values, dtype=np.float64)
    h, w = vals.shape
    text = [[fmt(v, digits) for v in row] for row in vals]
    custom = [[hover.format(row=i, col=j, value=text[i][j]) for j in range(w)] for i in range(h)]
    heat = go.Heatmap(z=vals, colorscale=colorscale, zmid=zmid, zmin=zmin, zmax=zmax,
                      reversescale=reverse, showscale=False, xgap=1, ygap=1,
                      text=text if show_text else None,
                      texttemplate="%{text}" if show_text else None,
                      textfont={"size": max(8, min(15, int(cell * 0.42)))},
                      customdata=custom, hovertemplate="%{customdata}<extra></extra>")
    fig = go.Figure(heat)
    if highlight is not None:
        ys, xs = np.nonzero(highlight)
        fig.add_scatter(x=xs, y=ys, mode="markers", hoverinfo="skip", showlegend=False,
                        marker={"symbol": "square-open", "size": cell - 4, "color": "#f0a000",
                                "line": {"width": 2}})
    top = 30 if title else 6
    fig.update_layout(title={"text": title, "font": {"size": 14}, "x": 0, "xanchor": "left"} if title else None,
                      width=max(140, w * cell + 12), height=max(100, h * cell + top + 8),
                      margin={"l": 6, "r": 6, "t": top, "b": 6},
                      xaxis={"visible": False, "constrain": "domain"},
                      yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig


def upscale(arr_or_img, target: int = 320) -> Image.Image:
    """Nearest-neighbour enlargement so every pixel stays a crisp square."""
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(np.asarray(arr_or_img))
    w, h = img.size
    scale = max(1, target // max(w, h))
    return img.resize((w * scale, h * scale), Image.Resampling.NEAREST)


def draw_box(img: Image.Image, box: tuple[int, int, int, int], *, target: int = 320,
             color=(255, 160, 0), width: int = 3, dashed_outside: bool = True) -> Image.Image:
    """Image enlarged, with a rectangle (top, left, height, width in source pixels)."""
    big = upscale(img.convert("RGB"), target)
    s = big.size[0] // img.size[0]
    top, left, bh, bw = box
    d = ImageDraw.Draw(big)
    d.rectangle((left * s, top * s, (left + bw) * s - 1, (top + bh) * s - 1), outline=color, width=width)
    return big


def _lut(stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    xs = np.linspace(0, 1, 256)
    pos = [p for p, _ in stops]
    return np.stack([np.interp(xs, pos, [c[i] for _, c in stops]) for i in range(3)], axis=1).astype(np.uint8)


# A diverging map (negative blue, zero white, positive red) and a sequential one (viridis-like).
DIVERGING = _lut([(0, (33, 102, 172)), (0.25, (103, 169, 207)), (0.5, (247, 247, 247)),
                  (0.75, (239, 138, 98)), (1, (178, 24, 43))])
SEQUENTIAL = _lut([(0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)),
                   (0.75, (94, 201, 98)), (1, (253, 231, 37))])


def colorize(values: np.ndarray, *, diverging: bool | None = None, mask: np.ndarray | None = None,
             vmin: float | None = None, vmax: float | None = None) -> Image.Image:
    """A 2D map -> RGB image. Signed maps use a diverging scale centred on zero.

    ``mask`` (bool, same shape) greys out cells not computed yet.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)] if mask is None else v[np.isfinite(v) & mask]
    lo = float(finite.min()) if vmin is None and finite.size else (vmin or 0.0)
    hi = float(finite.max()) if vmax is None and finite.size else (vmax or 0.0)
    if diverging is None:
        diverging = lo < 0 < hi
    if diverging:
        m = max(abs(lo), abs(hi)) or 1.0
        idx = (v / m + 1) / 2
        lut = DIVERGING
    else:
        span = (hi - lo) or 1.0
        idx = (v - lo) / span
        lut = SEQUENTIAL
    rgb = lut[np.clip(np.nan_to_num(idx) * 255, 0, 255).astype(np.uint8)]
    if mask is not None:
        rgb[~mask] = (225, 225, 225)
    return Image.fromarray(rgb, "RGB")
