"""HTML pieces: a matrix with every number in its coloured cell, the legend of a map,
a pooling before / after, a card of steps. They build in a millisecond, so stepping a kernel stays
instant, and hovering a cell names its row and column."""

from __future__ import annotations

import hashlib
import html

import numpy as np

from .. import i18n
from .numbers import fmt
from .scale import CHOSEN, HEAT, Scale, map_scale


MIN_FONT = 14        # px: the smallest matrix digit, on any screen
PRESENT_SMALL = 7    # matrices up to this many rows and columns get 20 px digits in presentation mode
                     # (``ui.links.PRESENT_CSS``: ``.cnnviz-matrix-small``)


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
    vals = np.atleast_2d(np.asarray(values, dtype=np.float64))
    lang = i18n.current()   # once per matrix, not per cell
    colours = _cell_colours(vals, scale, vmin, vmax)
    font = max(MIN_FONT, min(15, int(cell * 0.40)))    # never below 14 px: read from the back of a room
    texts = [[fmt(v, digits, lang) for v in row] for row in vals]
    widest = max((len(x) for row in texts for x in row), default=1)
    # a cell is as wide as its longest number at the font the page gives it (em: presentation mode's
    # larger digits widen the cells with them), and at least ``cell`` px
    size = f"width:max({cell}px,{0.5 * widest + 0.35:.2f}em);height:max({cell}px,1.35em)"
    rows = []
    for i, row in enumerate(vals):
        tds = []
        for j, v in enumerate(row):
            r, g, b = (int(c) for c in colours[i, j])
            ink = "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"
            text = texts[i][j]
            tip = html.escape(hover.format(row=i + row0, col=j + col0, value=text))
            klass = f' class="{cell_class(i, j)}"' if cell_class else ""
            extra = cell_style(i, j) if cell_style else ""
            tds.append(f'<td{klass} title="{tip}" style="background:rgb({r},{g},{b});color:{ink};'
                       f'{size};{extra}">{text}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    caption = f"<caption>{html.escape(title)}</caption>" if title else ""
    # up to 7 x 7 (a course kernel and its window): presentation mode writes the digits at 20 px
    klass = "cnnviz-matrix" + (" cnnviz-matrix-small" if max(vals.shape) <= PRESENT_SMALL else "")
    return (f'<table class="{klass}" style="border-collapse:collapse;font-size:{font}px;'
            f'font-variant-numeric:tabular-nums;text-align:center;line-height:1.2;margin:0 0 .5rem 0">'
            f'{caption}{"".join(rows)}</table>'
            '<style>.cnnviz-matrix td{border:1px solid #fff;padding:0 2px;white-space:nowrap;overflow:hidden}'
            '.cnnviz-matrix caption{caption-side:top;text-align:left;font-weight:600;padding:0 0 4px 0;'
            'font-size:14px;white-space:nowrap}</style>')


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
                gray: bool | str = False, caption: str = "") -> str:
    """A colour bar with numbers under it, for the map drawn with ``scale``.

    ``scale``: a ``Scale`` (from ``map_scale``), or the map's values. The bar runs from
    the map's smallest to its largest value, in exactly the colours ``colorize`` /
    ``matrix_html`` give them; the ticks are the min, 0 (diverging scales) and the max.
    ``fmt(value, digits)`` writes numbers in the learner's format (``ui.number_format()``);
    ``label`` says what the numbers are. Text is 15 px: readable on a projector. ``gray``: a
    picture's own grey (black at ``lo``, white at ``hi``) instead of the map colours;
    "R"/"G"/"B": that channel's own light (black to pure red, green or blue), as ``matrix_html``;
    "heat": the colours ``overlay`` lays an explanation map over a picture with. ``caption``: a
    line in normal type above the bar (what the map above it is), instead of a picture's caption.
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
    if caption:
        title = f'<div class="cnnviz-legend-caption" style="margin:0 0 4px 0">{html.escape(caption)}</div>' + title
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
    # a stable id (not hash(): Python salts str hashes per process, so two workers wrote different HTML)
    uid = "p" + hashlib.sha1(vals.tobytes() + f"{k}:{pooled.stride}:{pooled.mode}".encode()).hexdigest()[:10]

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
            shadow = edges(i, j, top, left, CHOSEN, 5)
            bold = "font-weight:800;text-decoration:underline;" if winner.get(n) == (i, j) else ""
            rules.append(",".join(f"{w} .c{i}_{j}" for w in when)
                         + f"{{box-shadow:{shadow} !important;{bold}}}")
        rules.append(",".join(f"{w} .o{n}" for w in when) + f"{{box-shadow:inset 0 0 0 5px {CHOSEN} !important}}")
    css = (f"<style>.{uid}{{display:flex;gap:28px;align-items:center;flex-wrap:wrap}}"
           f".{uid} .unused{{opacity:.3}}.{uid} .arrow{{font-size:30px;color:#555}}"
           f".{uid} .cnnviz-matrix td{{border:2px solid #fff}}{''.join(rules)}</style>")
    return (f'<div class="cnnviz-pool {uid}" data-windows="{len(wins)}" data-separate="{int(separate)}">'
            f'<div>{before}</div><div class="arrow">→</div><div>{after}</div></div>{css}')


def steps_card(rows: list[tuple[str, str]], *, title: str = "") -> str:
    """A small card of (label, value) rows, the last one large: e.g. the sum, + bias, ReLU.
    Large type for a projector; labels and values are escaped."""
    lines = []
    for i, (label, value) in enumerate(rows):
        last = i == len(rows) - 1
        size = 30 if last else 20
        lines.append(f'<div style="display:flex;justify-content:space-between;align-items:baseline;gap:10px;'
                     f'padding:2px 0;border-top:{"2px solid #bbb" if last else "0"}">'
                     f'<span class="cnnviz-card-label" style="font-size:15px">{html.escape(label)}</span>'
                     f'<span class="cnnviz-card-{"answer" if last else "value"}" style="font-size:{size}px;'
                     f'font-weight:700;font-variant-numeric:tabular-nums">{html.escape(value)}</span></div>')
    head = (f'<div class="cnnviz-card-title" style="font-weight:600;font-size:14px;margin-bottom:4px">'
            f'{html.escape(title)}</div>') if title else ""
    return (f'<div class="cnnviz-card" style="border:1px solid #ddd;border-radius:8px;padding:8px 12px;'
            f'background:#fafafa">{head}{"".join(lines)}</div>')
