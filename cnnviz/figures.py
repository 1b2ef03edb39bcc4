"""Figures shared by the lessons: matrices with readable numbers, maps and images.

Big things (images, activation maps) are PIL images: cheap to send to 30
browsers. Small matrices (a receptive field, a kernel) are HTML tables with
every number written in its cell: they build in a millisecond, so stepping a
kernel stays instant, and hovering a cell names its row and column.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from . import i18n



def fmt(value: float, digits: int = 2, lang: str | None = None) -> str:
    """Short, exact-looking numbers: 30, -2, 0.11, 6600, 1.2e+04 only when huge.

    Written in the learner's format (``i18n.current()``, or ``lang``): 0,11 and
    1,2e+04 in Portuguese. No thousands separator: these fill small matrix cells.
    """
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e7:
        return str(int(v))
    if abs(v) >= 1e5:
        text = f"{v:.3g}"
    else:
        text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return i18n.localize(text, lang)


def fmt_tex(value: float, digits: int = 2, *, fixed: bool = True, lang: str | None = None) -> str:
    """A number for a LaTeX formula (``st.latex``) in the learner's format.

    ``fixed``: always ``digits`` decimals (``1.0000`` / ``1{,}0000``), else ``fmt``'s short
    form. A decimal comma is written ``{,}``: a bare comma in maths mode is punctuation, and
    KaTeX would put a space after it. Huge numbers become ``1{,}2 \\times 10^{5}``.
    """
    v = float(value)
    if not np.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else r"\text{NaN}")
    if abs(v) >= 1e5 and not (v == int(v) and abs(v) < 1e7):
        mantissa, exponent = f"{v:.{max(digits, 1)}e}".split("e")
        text = f"{fmt(float(mantissa), max(digits, 1), 'en')} \\times 10^{{{int(exponent)}}}"
    else:
        text = f"{v:.{digits}f}" if fixed else fmt(v, digits, "en")
    return text.replace(".", "{,}") if (lang or i18n.current()) == "pt_BR" else text


def _cell_colours(vals: np.ndarray, scale: str, vmin: float | None, vmax: float | None) -> np.ndarray:
    """(h, w, 3) background colours for a matrix shown with ``scale``."""
    if scale in ("signed", "sequential", "auto"):
        return map_scale(vals, vmin, vmax, diverging={"signed": True, "sequential": False}.get(scale)).colours(vals)
    lo = float(np.nanmin(vals)) if vmin is None else vmin
    hi = float(np.nanmax(vals)) if vmax is None else vmax
    level = np.clip((vals - lo) / ((hi - lo) or 1.0), 0, 1)
    if scale in ("R", "G", "B"):   # the channel's own light: 0 = black, 255 = pure colour
        rgb = np.zeros(vals.shape + (3,))
        rgb[..., "RGB".index(scale)] = level * 255
        return rgb.astype(np.uint8)
    if scale == "gray":            # the pixel's own grey: 0 = black, 255 = white
        return np.repeat((level * 255)[..., None], 3, axis=2).astype(np.uint8)
    return map_scale(vals, vmin, vmax, diverging=False).colours(vals)


def matrix_html(values: np.ndarray, *, scale: str = "signed", vmin: float | None = None,
                vmax: float | None = None, digits: int = 2, cell: int = 34, title: str = "",
                hover: str = "row {row}, col {col}: {value}", row0: int = 0, col0: int = 0,
                cell_class=None, cell_style=None) -> str:
    """A small matrix as an HTML table: every number written in its coloured cell.

    Cheap to build (no plotting library) and crisp on a projector; hovering a
    cell shows its row and column (offset by ``row0``/``col0``, e.g. image coordinates).
    ``scale``: "signed" (blue < 0 < red, for kernels and products), "gray" (the
    pixel's grey), "R"/"G"/"B" (the channel's light), "sequential", or "auto" (``map_scale``
    decides). ``cell_class(i, j)`` / ``cell_style(i, j)``: extra class / CSS of a cell
    (e.g. pooling windows, ``pooling_html``).
    """
    vals = np.asarray(values, dtype=np.float64)
    lang = i18n.current()   # once per matrix, not per cell
    colours = _cell_colours(vals, scale, vmin, vmax)
    font = max(9, min(15, int(cell * 0.40)))
    rows = []
    for i, row in enumerate(vals):
        tds = []
        for j, v in enumerate(row):
            r, g, b = (int(c) for c in colours[i, j])
            ink = "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
            text = fmt(v, digits, lang)
            tip = html.escape(hover.format(row=i + row0, col=j + col0, value=text))
            klass = f' class="{cell_class(i, j)}"' if cell_class else ""
            extra = cell_style(i, j) if cell_style else ""
            tds.append(f'<td{klass} title="{tip}" style="background:rgb({r},{g},{b});color:{ink};'
                       f'width:{cell}px;height:{cell}px;{extra}">{text}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    return (f'<table class="cnnviz-matrix" style="border-collapse:collapse;font-size:{font}px;'
            f'font-variant-numeric:tabular-nums;text-align:center;margin:0 0 .5rem 0">'
            f'{caption}{"".join(rows)}</table>'
            '<style>.cnnviz-matrix td{border:1px solid #fff;padding:0;white-space:nowrap;overflow:hidden}'
            '.cnnviz-matrix caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 4px 0;'
            'font-size:14px}</style>')


def upscale(arr_or_img, target: int = 320) -> Image.Image:
    """Nearest-neighbour enlargement so every pixel stays a crisp square."""
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(np.asarray(arr_or_img))
    w, h = img.size
    scale = max(1, target // max(w, h))
    return img.resize((w * scale, h * scale), Image.Resampling.NEAREST)


def picture(values, target: int = 72) -> Image.Image:
    """An image tensor or array in [0, 1], (C, H, W) with C = 1 or 3, or (H, W), enlarged."""
    arr = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr.transpose(1, 2, 0)
        arr = arr[..., 0] if arr.shape[2] == 1 else arr
    return upscale((np.clip(arr, 0, 1) * 255).round().astype(np.uint8), target)


def draw_box(img: Image.Image, box: tuple[int, int, int, int], *, target: int = 320,
             color=(255, 160, 0), width: int = 3, dashed_outside: bool = True) -> Image.Image:
    """Image enlarged, with a rectangle (top, left, height, width in source pixels)."""
    big = upscale(img.convert("RGB"), target)
    s = big.size[0] // img.size[0]
    top, left, bh, bw = box
    d = ImageDraw.Draw(big)
    d.rectangle((left * s, top * s, (left + bw) * s - 1, (top + bh) * s - 1), outline=color, width=width)
    return big


CHOSEN = "#e65100"   # the point a learner chose (latent plane, decoded plane): one orange everywhere


def mark_point(img: Image.Image, x: float, y: float, *, half: float, color: str = CHOSEN,
               width: int = 4) -> Image.Image:
    """``img`` (RGB copy) with a square of side ``2 * half`` px centred on (x, y) px and short
    ticks pointing at it from outside: findable on any background from the back of a room."""
    out = img.convert("RGB")
    d = ImageDraw.Draw(out)
    x0, y0, x1, y1 = x - half, y - half, x + half, y + half
    d.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), outline="#ffffff", width=2)
    d.rectangle((x0, y0, x1, y1), outline=color, width=width)
    tick = half * 0.6
    for a, b in (((x, y0 - tick), (x, y0)), ((x, y1), (x, y1 + tick)), ((x0 - tick, y), (x0, y)),
                 ((x1, y), (x1 + tick, y))):
        d.line((a, b), fill=color, width=width)
    return out


def channel_image(plane: np.ndarray, channel: str) -> Image.Image:
    """One channel (0-255) as the light it stands for: grey, or black-to-red/green/blue."""
    v = np.asarray(plane, dtype=np.uint8)
    if channel == "gray":
        return Image.fromarray(v, "L").convert("RGB")
    rgb = np.zeros(v.shape + (3,), np.uint8)
    rgb[..., "RGB".index(channel)] = v
    return Image.fromarray(rgb, "RGB")


def _lut(stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    xs = np.linspace(0, 1, 256)
    pos = [p for p, _ in stops]
    return np.stack([np.interp(xs, pos, [c[i] for _, c in stops]) for i in range(3)], axis=1).astype(np.uint8)


# A diverging map (negative blue, zero white, positive red) and a sequential one (viridis-like).
DIVERGING = _lut([(0, (33, 102, 172)), (0.25, (103, 169, 207)), (0.5, (247, 247, 247)),
                  (0.75, (239, 138, 98)), (1, (178, 24, 43))])
SEQUENTIAL = _lut([(0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)),
                   (0.75, (94, 201, 98)), (1, (253, 231, 37))])


HEAT = _lut([(0, (0, 0, 4)), (0.25, (87, 16, 110)), (0.5, (188, 55, 84)), (0.75, (249, 142, 9)),
             (1, (252, 255, 164))])   # inferno-like: dark = ignored, bright yellow = looked at


def overlay(img: Image.Image, heat: np.ndarray, *, alpha: float = 0.5, target: int = 320) -> Image.Image:
    """An explanation map (H, W) in [0, 1] over the image, enlarged to about ``target`` px.

    Where the map is 0 the image shows through; where it is 1 the colour covers
    ``alpha`` of the pixel.
    """
    base = img.convert("RGB")
    h, w = heat.shape
    if base.size != (w, h):
        base = base.resize((w, h), Image.Resampling.BILINEAR)
    scale = max(1, target // max(w, h))
    size = (w * scale, h * scale)
    base = np.asarray(base.resize(size, Image.Resampling.NEAREST), dtype=np.float32)
    hm = np.asarray(Image.fromarray((np.clip(heat, 0, 1) * 255).astype(np.uint8), "L")
                    .resize(size, Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    colour = HEAT[(hm * 255).astype(np.uint8)].astype(np.float32)
    a = (alpha * hm)[..., None]
    return Image.fromarray((base * (1 - a) + colour * a).round().astype(np.uint8), "RGB")


def filling_in(full: Image.Image, row: int, col: int) -> Image.Image:
    """The activation map computed up to output (row, col) in reading order; the rest grey.

    ``full`` is the whole map already coloured (``colorize``), made once per convolution,
    so each step only copies it: stepping stays fast on big maps.
    """
    arr = np.array(full)
    arr[row, col + 1:] = (225, 225, 225)
    arr[row + 1:] = (225, 225, 225)
    return Image.fromarray(arr, "RGB")


def png_bytes(img: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


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

    fig = go.Figure(layout={"separators": ",." if lang == "pt_BR" else ".,"})
    fig.add_scatter(x=list(fractions), y=list(deletion), name=names[0], mode="lines", line={"color": "#2166ac"})
    fig.add_scatter(x=list(fractions), y=list(insertion), name=names[1], mode="lines", line={"color": "#e07b00"})
    fig.update_layout(height=250, margin={"l": 4, "r": 4, "t": 40, "b": 4}, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
                      xaxis={"title": xtitle, "tickformat": ".0%"}, yaxis={"title": ytitle, "range": [0, 1]})
    return fig


def colorize(values: np.ndarray, *, diverging: bool | None = None,
             vmin: float | None = None, vmax: float | None = None, scale: "Scale | None" = None) -> Image.Image:
    """A 2D map -> RGB image, coloured by ``map_scale`` (or the given ``scale``): a map with
    negative values uses the blue-white-red scale centred on zero, a non-negative one the
    sequential scale from its min to its max. ``legend_html`` draws the same scale."""
    v = np.asarray(values, dtype=np.float64)
    sc = scale if scale is not None else map_scale(v, vmin, vmax, diverging=diverging)
    return Image.fromarray(sc.colours(v), "RGB")


@dataclass(frozen=True)
class Scale:
    """How a map's values become colours (one rule for maps, matrices and their legends).

    ``lo``/``hi``: the values shown (the map's min and max, or the given vmin/vmax).
    Diverging: white at 0, blue below, red above, symmetric (±max(|lo|, |hi|)), so
    the same shade means the same size on both sides. Sequential: dark purple at
    ``lo`` to yellow at ``hi``.
    """
    lo: float
    hi: float
    diverging: bool

    @property
    def lut(self) -> np.ndarray:
        return DIVERGING if self.diverging else SEQUENTIAL

    def position(self, values) -> np.ndarray:
        """Where each value sits on the colour table, 0..1 (not clipped)."""
        v = np.asarray(values, dtype=np.float64)
        if self.diverging:
            m = max(abs(self.lo), abs(self.hi)) or 1.0
            return (v / m + 1) / 2
        return (v - self.lo) / ((self.hi - self.lo) or 1.0)

    def colours(self, values) -> np.ndarray:
        """(..., 3) uint8 colours of ``values``."""
        idx = np.clip(np.nan_to_num(self.position(values)) * 255, 0, 255).astype(np.uint8)
        return self.lut[idx]


def map_scale(values, vmin: float | None = None, vmax: float | None = None,
              diverging: bool | None = None) -> Scale:
    """The colour scale of a map, decided from its values (the one place the rule lives).

    Signed (some value < 0) -> diverging around 0; non-negative -> sequential.
    ``vmin``/``vmax`` fix the ends (e.g. one scale for a whole layer); ``diverging``
    forces the kind (a kernel is shown diverging even when it has no negative weight).
    """
    v = np.asarray(values, dtype=np.float64)
    finite = v[np.isfinite(v)]
    lo = float(vmin) if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = float(vmax) if vmax is not None else (float(finite.max()) if finite.size else 0.0)
    if diverging is None:
        diverging = lo < 0
    return Scale(lo, hi, bool(diverging))


def _tick_digits(span: float) -> int:
    span = abs(span)
    if span == 0 or span >= 20:
        return 0
    if span >= 2:
        return 1
    if span >= 0.2:
        return 2
    return 3


def legend_html(scale, *, fmt=None, label: str = "", width: int = 260, digits: int | None = None,
                gray: bool | str = False) -> str:
    """A colour bar with numbers under it, for the map drawn with ``scale``.

    ``scale``: a ``Scale`` (from ``map_scale``), or the map's values. The bar runs from
    the map's smallest to its largest value, in exactly the colours ``colorize`` /
    ``matrix_html`` give them; the ticks are the min, 0 (diverging scales) and the max.
    ``fmt(value, digits)`` writes numbers in the learner's format (``ui.number_format()``);
    ``label`` says what the numbers are. Text is 15 px: readable on a projector. ``gray``: a
    picture's own grey (black at ``lo``, white at ``hi``) instead of the map colours;
    "R"/"G"/"B": that channel's own light (black to pure red, green or blue), as ``matrix_html``;
    "heat": the colours ``overlay`` lays an explanation map over a picture with.
    """
    sc = scale if isinstance(scale, Scale) else map_scale(scale)
    fmt = fmt or (lambda value, d=0: i18n.number(value, i18n.current(), d))
    d = _tick_digits(sc.hi - sc.lo) if digits is None else digits
    stops = []
    for f in np.linspace(0, 1, 17):
        if gray in ("R", "G", "B"):
            r, g, b = (int(f * 255) if ch == gray else 0 for ch in "RGB")
        elif gray == "heat":          # the explanation maps' colours (``overlay``), dark to bright
            r, g, b = (int(c) for c in HEAT[int(round(f * 255))])
        elif gray:
            r, g, b = (int(f * 255),) * 3
        else:
            r, g, b = (int(c) for c in sc.colours(sc.lo + f * (sc.hi - sc.lo)))
        stops.append(f"rgb({r},{g},{b}) {f * 100:.2f}%")
    ticks = [(sc.lo, 0.0), (sc.hi, 1.0)] if sc.hi > sc.lo else [(sc.lo, 0.0)]
    zero = (0 - sc.lo) / (sc.hi - sc.lo) if sc.hi > sc.lo else 0.0
    if sc.diverging and sc.lo < 0 < sc.hi and 0.15 <= zero <= 0.85:   # else it would cover an end
        ticks.insert(1, (0.0, zero))
    marks = []
    for value, f in ticks:
        shift = "0" if f <= 0.02 else ("-100%" if f >= 0.98 else "-50%")
        dv = d
        while value != 0 and round(abs(value), dv) == 0 and dv < 4:   # -0.31 is not "-0"
            dv += 1
        text = html.escape(fmt(0.0 if value == 0 else value, dv))
        marks.append(f'<span class="cnnviz-legend-tick" data-value="{value!r}" style="position:absolute;'
                     f'left:{f * 100:.2f}%;transform:translateX({shift});top:0">{text}</span>'
                     f'<span style="position:absolute;left:{f * 100:.2f}%;top:-6px;height:5px;'
                     f'border-left:1px solid #333"></span>')
    title = (f'<div style="font-weight:600;margin:0 0 3px 0">{html.escape(label)}</div>' if label else "")
    kind = (gray if isinstance(gray, str) else "gray") if gray else ("diverging" if sc.diverging else "sequential")
    return (f'<div class="cnnviz-legend" data-kind="{kind}" data-lo="{sc.lo!r}" data-hi="{sc.hi!r}" '
            f'style="font-size:15px;line-height:1.25;width:{width}px;max-width:100%;margin:2px 0 10px 0;'
            f'color:#222;font-variant-numeric:tabular-nums">{title}'
            f'<div class="cnnviz-legend-bar" style="height:16px;border:1px solid #888;'
            f'background:linear-gradient(to right,{",".join(stops)})"></div>'
            f'<div style="position:relative;height:22px;margin-top:6px">{"".join(marks)}</div></div>')


# Pastel bands for pooling windows: every window and its output cell share one, so a class
# sees which numbers became which output. Adjacent windows of a 3 x 3 layout never match.
WINDOW_BANDS = ["#fdd49e", "#b9d7ef", "#c7e9c0", "#dadaeb", "#fcbba1", "#fff3a0", "#c9ecef",
                "#f4cae4", "#e0d2b4"]


def pooling_html(values: np.ndarray, pooled, *, titles: tuple[str, str] = ("", ""), cell: int = 48,
                 digits: int = 2) -> str:
    """Before and after a pooling (``layers.pool2d`` result ``pooled``), side by side, with the
    windows drawn on the "before" grid.

    Windows that don't overlap (stride >= window) each get a colour band and an outline, and
    their output cell the same band: which 4 numbers became which output is visible at once.
    Overlapping windows would cover each other: the window of the first output is outlined, and
    pointing at any output cell outlines its own window instead. Cells no window reads are
    faded. For max pooling the winning number of a window is bold and underlined.
    """
    vals = np.asarray(values, dtype=np.float64)
    out = np.asarray(pooled.output, dtype=np.float64)
    wins = pooled.windows()
    k = pooled.window
    separate = pooled.stride >= k
    owner = -np.ones(vals.shape, dtype=int)          # the window a cell belongs to (separate windows)
    used = np.zeros(vals.shape, dtype=bool)
    winner = {}
    for n, (r, c, top, left) in enumerate(wins):
        owner[top:top + k, left:left + k] = n
        used[top:top + k, left:left + k] = True
        if pooled.mode == "max" and pooled.argmax is not None:
            winner[n] = tuple(int(v) for v in pooled.argmax[r, c])
    uid = f"p{abs(hash((vals.tobytes(), k, pooled.stride, pooled.mode))) % 10**8}"

    def edges(i, j, top, left, colour, width=4):
        parts = []
        if i == top:
            parts.append(f"inset 0 {width}px 0 {colour}")
        if i == top + k - 1:
            parts.append(f"inset 0 -{width}px 0 {colour}")
        if j == left:
            parts.append(f"inset {width}px 0 0 {colour}")
        if j == left + k - 1:
            parts.append(f"inset -{width}px 0 0 {colour}")
        return ",".join(parts)

    def before_class(i, j):
        names = [f"c{i}_{j}"] + ([] if used[i, j] else ["unused"])
        return " ".join(names)

    def before_style(i, j):
        n = owner[i, j]
        if not separate or n < 0:
            return ""
        top, left = wins[n][2:]
        style = f"background:{WINDOW_BANDS[n % len(WINDOW_BANDS)]};color:#111;"
        shadow = edges(i, j, top, left, "#222", 3)
        if winner.get(n) == (i, j):
            style += "font-weight:800;text-decoration:underline;"
        return style + (f"box-shadow:{shadow};" if shadow else "")

    def after_style(i, j):
        n = i * out.shape[1] + j
        band = f"background:{WINDOW_BANDS[n % len(WINDOW_BANDS)]};color:#111;" if separate else \
            "background:#f3f3f3;color:#111;"
        return band + "box-shadow:inset 0 0 0 3px #222;cursor:pointer;"

    before = matrix_html(vals, scale="sequential", cell=cell, digits=digits, title=titles[0],
                         cell_class=before_class, cell_style=before_style)
    after = matrix_html(out, scale="sequential", cell=cell, digits=digits, title=titles[1],
                        cell_class=lambda i, j: f"o o{i * out.shape[1] + j}", cell_style=after_style)
    # The window of the output under the mouse: outlined in orange (the first one when none is).
    rules = []
    for n, (r, c, top, left) in enumerate(wins):
        cells = [(i, j) for i in range(top, top + k) for j in range(left, left + k)]
        when = [f".{uid}:has(.o{n}:hover)"] + ([f".{uid}:not(:has(.o:hover))"] if n == 0 and not separate else [])
        for i, j in cells:
            shadow = edges(i, j, top, left, "#e65100", 5)
            bold = "font-weight:800;text-decoration:underline;" if winner.get(n) == (i, j) else ""
            rules.append(",".join(f"{w} .c{i}_{j}" for w in when)
                         + f"{{box-shadow:{shadow} !important;{bold}}}")
        rules.append(",".join(f"{w} .o{n}" for w in when) + "{box-shadow:inset 0 0 0 5px #e65100 !important}")
    css = (f"<style>.{uid}{{display:flex;gap:28px;align-items:center;flex-wrap:wrap}}"
           f".{uid} .unused{{opacity:.3}}.{uid} .arrow{{font-size:30px;color:#555}}"
           f".{uid} .cnnviz-matrix td{{border:2px solid #fff}}{''.join(rules)}</style>")
    return (f'<div class="cnnviz-pool {uid}" data-windows="{len(wins)}" data-separate="{int(separate)}">'
            f'<div>{before}</div><div class="arrow">→</div><div>{after}</div></div>{css}')


@lru_cache(maxsize=4096)
def _label_stamp(text: str) -> np.ndarray:
    """A channel number drawn once (black on a white box) and reused: drawing text per
    tile was most of the time of a grid."""
    img = Image.new("RGB", (6 * len(text) + 3, 11), (255, 255, 255))
    ImageDraw.Draw(img).text((1, -1), text, fill=(0, 0, 0))
    stamp = np.asarray(img)
    stamp.flags.writeable = False
    return stamp


def _tile(tiles: np.ndarray, cols: int, gap: int) -> np.ndarray:
    """(n, th, tw, 3) uint8 tiles -> one white canvas, ``cols`` tiles per row."""
    n, th, tw, _ = tiles.shape
    rows = -(-n // cols)
    canvas = np.full((rows * (th + gap) - gap, cols * (tw + gap) - gap, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[r * (th + gap):r * (th + gap) + th, c * (tw + gap):c * (tw + gap) + tw] = tiles[i]
    return canvas


def map_grid(maps: np.ndarray, *, order: list[int] | None = None, cols: int = 8, cell: int = 64,
             per_map: bool = False, labels: bool = True, gap: int = 2, scale: "Scale | None" = None) -> Image.Image:
    """Activation maps (C, H, W) tiled into one image, ``cols`` per row.

    Colours share one scale across the shown maps (so a learner can compare channels):
    ``scale``, or ``map_scale`` of the shown maps (blue-white-red around 0 when any value
    is negative, the sequential scale otherwise), so ``legend_html(scale)`` matches the
    grid. ``per_map``: each map on its own scale (no single legend can describe it). Each
    tile is enlarged by an integer factor to about ``cell`` pixels; ``labels`` writes the
    channel index (twice as large on tiles of 80 px and more).
    """
    maps = np.asarray(maps, dtype=np.float32)
    order = list(range(len(maps))) if order is None else list(order)
    sel = np.nan_to_num(maps[order])
    n, h, w = sel.shape
    if per_map:
        rgb = np.stack([map_scale(m).colours(m) for m in sel]) if n else np.zeros((0, h, w, 3), np.uint8)
    else:
        rgb = (scale or map_scale(sel)).colours(sel)                   # (n, h, w, 3)
    k = max(1, cell // max(h, w))
    if k > 1:
        rgb = rgb.repeat(k, axis=1).repeat(k, axis=2)
    th, tw = h * k, w * k
    cols = max(1, min(cols, n))
    canvas = _tile(rgb, cols, gap)
    if labels and th >= 24:
        for i, ch in enumerate(order):
            r, c = divmod(i, cols)
            stamp = _label_stamp(str(ch))
            if th >= 80:
                stamp = stamp.repeat(2, axis=0).repeat(2, axis=1)
            y, x = r * (th + gap), c * (tw + gap)
            sh, sw = min(stamp.shape[0], th), min(stamp.shape[1], tw)
            canvas[y:y + sh, x:x + sw] = stamp[:sh, :sw]
    img = Image.fromarray(canvas, "RGB")
    return img


def architecture_svg(layers: list[dict], selected: str | None = None) -> str:
    """The network as the course draws it: each layer a volume H x W x C, left to right.

    ``layers``: dicts with "name", "label" (shown), "shape" ((C, H, W) or (N,)),
    "caption" (e.g. its weights) and optionally "group": consecutive layers with the same
    group (a conv and the batch norm and ReLU after it) are drawn as one volume listing
    their names, so Tiny VGG's 25 layers make 13 volumes. Maps are boxes whose face grows
    with H x W and whose depth grows with the channel count; vectors (fully connected
    layers) thin bars. Each volume is its own small SVG in a wrapping row, so the strip
    fits any page width without a horizontal scroll bar; text is 13-14 px (a projector).
    The volume holding the ``selected`` layer is outlined in orange, that layer in bold.
    """
    import math

    items: list[list[dict]] = []
    for layer in layers:
        g = layer.get("group")
        if items and g is not None and items[-1][0].get("group") == g:
            items[-1].append(layer)
        else:
            items.append([layer])
    max_hw = max((l["shape"][1] for l in layers if len(l["shape"]) == 3), default=1)
    max_n = max((l["shape"][0] for l in layers if len(l["shape"]) == 1), default=1)

    def dims(shape):
        if len(shape) == 3:
            c, h, _ = shape
            face = 22 + 78 * math.sqrt(h / max_hw)
            depth = 5 + 6 * math.log2(max(c, 1))
            return face, depth, 9 + depth * 0.3
        return 22 + 88 * math.sqrt(shape[0] / max_n), 4.0, 8.0

    top_room = max(dims(l["shape"])[0] + dims(l["shape"])[1] * 0.45 for l in layers) + 8
    n_lines = max(len(item) for item in items) + 2
    height = int(top_room + 6 + 17 * n_lines)
    parts = []
    for item in items:
        last = item[-1]
        shape = last["shape"]
        face, depth, w = dims(shape)
        dx, dy = depth * 0.6, depth * 0.45
        dims_text = " × ".join(map(str, shape[1:] + shape[:1] if len(shape) == 3 else shape))
        captions = [l.get("caption", "") for l in item if l.get("caption")]
        lines = [(l["label"], 14, 700 if l["name"] == selected else 400,
                  "#b35900" if l["name"] == selected else "#222") for l in item]
        lines.append((dims_text, 13, 400, "#444"))
        lines.append((" + ".join(captions), 12, 400, "#666"))
        text_w = max(len(t) * size * 0.5 for t, size, _, _ in lines)
        width = int(max(w + dx + 12, text_w + 6, 56))
        x = (width - w - dx) / 2
        base = top_room
        top = base - face
        sel = any(l["name"] == selected for l in item)
        stroke = "#e07b00" if sel else "#5b6b7a"
        sw = 3 if sel else 1.2
        fill = "#fde3c4" if sel else ("#dbe7f3" if len(shape) == 3 else "#e6e0f3")
        side = "#b8c9da" if len(shape) == 3 else "#c9c0e0"
        title = "; ".join(f"{l['label']}: {' × '.join(map(str, l['shape']))}" for l in item)
        body = [f'<title>{html.escape(title)}</title>',
                f'<polygon points="{x},{top} {x + dx},{top - dy} {x + dx + w},{top - dy} {x + w},{top}" '
                f'fill="{side}" stroke="{stroke}" stroke-width="{sw}"/>',
                f'<polygon points="{x + w},{top} {x + w + dx},{top - dy} {x + w + dx},{base - dy} {x + w},{base}" '
                f'fill="{side}" stroke="{stroke}" stroke-width="{sw}"/>',
                f'<rect x="{x}" y="{top}" width="{w}" height="{face}" fill="{fill}" stroke="{stroke}" '
                f'stroke-width="{sw}"/>']
        y = base + 6
        for text, size, weight, colour in lines:
            y += size + 3
            body.append(f'<text x="{width / 2}" y="{y:.0f}" font-size="{size}" text-anchor="middle" '
                        f'font-weight="{weight}" fill="{colour}">{html.escape(text)}</text>')
        names = " ".join(html.escape(l["name"]) for l in item)
        parts.append(f'<svg xmlns="http://www.w3.org/2000/svg" class="cnnviz-arch-item" data-layers="{names}" '
                     f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                     f'font-family="sans-serif" style="flex:none">{"".join(body)}</svg>')
    arrow = '<span style="align-self:center;color:#8a99a8;font-size:16px;flex:none">→</span>'
    return (f'<div class="cnnviz-arch" style="display:flex;flex-wrap:wrap;align-items:flex-start;'
            f'gap:4px 2px;width:100%;max-width:100%;overflow:hidden">{arrow.join(parts)}</div>')


def heatmap(values: np.ndarray, *, hover: str = "row %{y}, col %{x}: %{z:.3f}", size: int = 360,
            scale: "Scale | None" = None):
    """One activation map, large, with its value under the mouse (plotly) and a colour bar
    with numbers, in the same colours as ``colorize``/``map_grid`` (``map_scale``'s rule:
    blue-white-red around 0 when any value is negative, the sequential scale otherwise)."""
    import plotly.graph_objects as go

    v = np.asarray(values, dtype=np.float64)
    sc = scale or map_scale(v)
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
                      xaxis={"visible": False, "constrain": "domain"},
                      yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"})
    return fig


def probability_bars(labels: list[str], probs: list[float]):
    """The top classes as horizontal bars, most likely on top, with percentages."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=[p * 100 for p in probs][::-1], y=labels[::-1], orientation="h",
                           text=[p * 100 for p in probs][::-1], texttemplate="%{text:.1f} %",
                           textposition="auto",
                           marker={"color": (["#e07b00"] + ["#9fb3c8"] * (len(probs) - 1))[::-1]},
                           hovertemplate="%{y}: %{x:.2f} %<extra></extra>"))
    fig.update_layout(height=60 + 36 * len(labels), margin={"l": 4, "r": 4, "t": 4, "b": 24},
                      xaxis={"range": [0, 100], "ticksuffix": " %"}, yaxis={"type": "category"})
    return fig


def filter_tiles(tiles: np.ndarray, *, cols: int = 8, cell: int = 56, gap: int = 2) -> Image.Image:
    """Learned filters as an image grid: tiles (n, kh, kw) grey or (n, kh, kw, 3) colour, uint8."""
    tiles = np.asarray(tiles, dtype=np.uint8)
    if tiles.ndim == 3:
        tiles = np.repeat(tiles[..., None], 3, axis=3)
    n, kh, kw, _ = tiles.shape
    k = max(1, cell // max(kh, kw))
    big = tiles.repeat(k, axis=1).repeat(k, axis=2)
    canvas = _tile(big, max(1, min(cols, n)), gap)
    return Image.fromarray(canvas, "RGB")


def latex_text(text: str) -> str:
    """A class name made safe for \\text{...} in st.latex (T-shirt/top, jack-o'-lantern, R&D...)."""
    out = text
    for ch, rep in (("\\", r"\backslash "), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                    ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\sim "), ("^", r"\hat{}")):
        out = out.replace(ch, rep)
    return out


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
                    y=[max(n, 1) for _, n in rows], name=name, text=[n for _, n in rows],
                    texttemplate="%{text:,}", textposition="outside", cliponaxis=False)
    fig.update_layout(height=340, margin={"l": 4, "r": 4, "t": 30, "b": 4}, yaxis={"type": "log", "title": ytitle},
                      legend={"orientation": "h", "y": 1.1}, uniformtext={"minsize": 9, "mode": "hide"})
    return fig


def growth_figure(layers: list[str], sizes: list[int], jumps: list[int], *, names: tuple[str, str]):
    """How the receptive field (and the jump between units) grows, layer after layer."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_bar(x=layers, y=sizes, name=names[0], text=sizes, textposition="outside", marker={"color": "#e07b00"})
    fig.add_scatter(x=layers, y=jumps, name=names[1], mode="lines+markers", line={"color": "#2166ac"})
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
    style = {"train": {"color": "#2166ac"}, "val": {"color": "#e07b00"}}
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
                      xaxis={"title": xtitle, "side": "bottom", "tickangle": -35},
                      yaxis={"title": ytitle, "autorange": "reversed"})
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


# ---------------------------------------------------------------- stepping a kernel: where it is
def display_range(values) -> tuple[float, float]:
    """The grey range a picture is shown with: 0-255, unless its brightest pixel is dim.

    The course's mouse is chalk of value 50 on black (the article's numbers): drawn as is it is
    nearly invisible on a projector, so a dim picture is shown with 0 -> black and its maximum ->
    white. Only the display changes; the numbers in every cell stay the pixel values.
    """
    hi = float(np.max(values)) if np.size(values) else 255.0
    return 0.0, (255.0 if hi >= 128 or hi <= 0 else hi)


def stretched(img: Image.Image, hi: float) -> Image.Image:
    """``img`` with brightness ``hi`` shown as white (see ``display_range``)."""
    if hi >= 255:
        return img
    arr = np.asarray(img, dtype=np.float32) * (255.0 / hi)
    return Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8), img.mode)


def neighbourhood(shape: tuple[int, int], box: tuple[int, int, int, int], *, side: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a window about ``side`` pixels square around ``box``, inside
    an image of ``shape`` (h, w): what a zoom shows around the kernel's current place."""
    h, w = shape
    top, left, bh, bw = box
    sh, sw = min(h, max(side, bh)), min(w, max(side, bw))
    t0 = int(np.clip(top + bh // 2 - sh // 2, 0, h - sh))
    l0 = int(np.clip(left + bw // 2 - sw // 2, 0, w - sw))
    return t0, l0, sh, sw


def locate(img: Image.Image, box: tuple[int, int, int, int], *, target: int = 240,
           color=(255, 160, 0), zoom: tuple[int, int, int, int] | None = None) -> Image.Image:
    """The whole picture, fitted into about ``target`` px, with ``box`` (top, left, h, w in its
    pixels) findable at any size: an outline of at least 12 px, crosshair lines to the edges,
    and, when given, the ``zoom`` window as a dashed white rectangle."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    scale = target / max(w, h)
    out = rgb.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                     Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX)
    d = ImageDraw.Draw(out)
    top, left, bh, bw = box
    cy, cx = (top + bh / 2) * scale, (left + bw / 2) * scale
    half_h, half_w = max(6.0, bh * scale / 2), max(6.0, bw * scale / 2)
    for x0, y0, x1, y1 in ((0, cy, cx - half_w, cy), (cx + half_w, cy, out.size[0], cy),
                           (cx, 0, cx, cy - half_h), (cx, cy + half_h, cx, out.size[1])):
        if x1 > x0 or y1 > y0:
            d.line((x0, y0, x1, y1), fill=color, width=1)
    if zoom is not None:
        zt, zl, zh, zw = zoom
        if zh < h or zw < w:
            _dashed_rect(d, (zl * scale, zt * scale, (zl + zw) * scale - 1, (zt + zh) * scale - 1), (255, 255, 255))
    d.rectangle((cx - half_w, cy - half_h, cx + half_w, cy + half_h), outline=color, width=3)
    return out


def _dashed_rect(d: ImageDraw.ImageDraw, rect, color, dash: int = 5) -> None:
    x0, y0, x1, y1 = rect
    for x in np.arange(x0, x1, 2 * dash):
        d.line((x, y0, min(x + dash, x1), y0), fill=color, width=2)
        d.line((x, y1, min(x + dash, x1), y1), fill=color, width=2)
    for y in np.arange(y0, y1, 2 * dash):
        d.line((x0, y, x0, min(y + dash, y1)), fill=color, width=2)
        d.line((x1, y, x1, min(y + dash, y1)), fill=color, width=2)


def zoomed(img: Image.Image, window: tuple[int, int, int, int], box: tuple[int, int, int, int], *,
           target: int = 240, color=(255, 160, 0)) -> Image.Image:
    """The ``window`` (top, left, h, w) of ``img`` enlarged to about ``target`` px, every pixel a
    crisp square, with ``box`` (in the picture's coordinates) outlined."""
    t0, l0, wh, ww = window
    crop = img.convert("RGB").crop((l0, t0, l0 + ww, t0 + wh))
    top, left, bh, bw = box
    return draw_box(crop, (top - t0, left - l0, bh, bw), target=target, color=color)


def steps_card(rows: list[tuple[str, str]], *, title: str = "") -> str:
    """A small card of (label, value) rows, the last one large: e.g. the sum, + bias, ReLU.
    Large type for a projector; labels and values are escaped."""
    lines = []
    for i, (label, value) in enumerate(rows):
        last = i == len(rows) - 1
        size = 30 if last else 20
        lines.append(f'<div style="display:flex;justify-content:space-between;align-items:baseline;gap:10px;'
                     f'padding:4px 0;border-top:{"2px solid #bbb" if last else "0"}">'
                     f'<span style="font-size:15px">{html.escape(label)}</span>'
                     f'<span style="font-size:{size}px;font-weight:700;font-variant-numeric:tabular-nums">'
                     f'{html.escape(value)}</span></div>')
    head = f'<div style="font-weight:600;font-size:14px;margin-bottom:4px">{html.escape(title)}</div>' if title else ""
    return (f'<div class="cnnviz-card" style="border:1px solid #ddd;border-radius:8px;padding:8px 12px;'
            f'background:#fafafa">{head}{"".join(lines)}</div>')
