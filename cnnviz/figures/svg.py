"""The network drawn as the course draws it (SVG): one volume per layer, left to right."""

from __future__ import annotations

import html

from .scale import ACCENT, MUTED

# Advance widths (share of the font size) of DejaVu Sans, the widest common "sans-serif" (Debian's,
# and many Linux browsers'): text measured with them fits its box in Arial or Helvetica too.
_WIDTHS = {**dict.fromkeys("0123456789", 0.637), " ": 0.318, ",": 0.318, ".": 0.318, "×": 0.838,
           "+": 0.838, "(": 0.39, ")": 0.39, "-": 0.361, "_": 0.5, ":": 0.337, "/": 0.337,
           "a": 0.613, "b": 0.635, "c": 0.55, "d": 0.635, "e": 0.615, "f": 0.352, "g": 0.635, "h": 0.634,
           "i": 0.278, "j": 0.278, "k": 0.579, "l": 0.278, "m": 0.974, "n": 0.634, "o": 0.612, "p": 0.635,
           "q": 0.635, "r": 0.411, "s": 0.521, "t": 0.392, "u": 0.634, "v": 0.592, "w": 0.818, "x": 0.592,
           "y": 0.592, "z": 0.525}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """How wide ``text`` is drawn at ``size`` px in a sans-serif font, at most (see ``_WIDTHS``;
    capitals and other letters 0.78, bold 12 % wider)."""
    em = sum(_WIDTHS.get(ch, 0.78) for ch in text)
    return em * size * (1.12 if bold else 1.0)


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
    # the lowest baseline (layer names 14 px, the shape 13, the weights 12, each + 3) and room below
    # it for the letters' descent ("g" of "weights"): no line is cut at the bottom
    height = int(top_room + 6 + 17 * max(len(item) for item in items) + 16 + 15 + 9)
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
        text_w = max(text_width(t, size, weight >= 700) for t, size, weight, _ in lines)
        width = int(max(w + dx + 12, text_w + 8, 56)) + 1   # every line inside its box (issue 17: "401,536 weights")
        x = (width - w - dx) / 2
        base = top_room
        top = base - face
        sel = any(l["name"] == selected for l in item)
        stroke = ACCENT if sel else "#5b6b7a"
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
    arrow = f'<span style="align-self:center;color:{MUTED};font-size:16px;flex:none">→</span>'
    return (f'<div class="cnnviz-arch" style="display:flex;flex-wrap:wrap;align-items:flex-start;'
            f'gap:4px 2px;width:100%;max-width:100%;overflow:hidden">{arrow.join(parts)}</div>')
