"""Pictures (PIL): crisp enlargements, boxes and marks, explanation overlays, grids of maps
and filters, and the views of a kernel's place (the whole picture, its zoom, the map so far)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.base.kept import Kept, content_key
from .scale import CHOSEN, HEAT, Scale, map_scale


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
             color=(255, 160, 0), width: int = 3) -> Image.Image:
    """Image enlarged, with a rectangle (top, left, height, width in source pixels)."""
    big = upscale(img.convert("RGB"), target)
    s = big.size[0] // img.size[0]
    top, left, bh, bw = box
    d = ImageDraw.Draw(big)
    d.rectangle((left * s, top * s, (left + bw) * s - 1, (top + bh) * s - 1), outline=color, width=width)
    return big


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


def png_bytes(img: Image.Image, *, compress_level: int = 6) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=compress_level)
    return buf.getvalue()


# the pictures encoded for everybody (PNG bytes): a page of pictures is 0.5-2 MB, so a class on the
# same pages finds them, and the server's RSS stays bounded
_PNG = Kept(max_bytes=16 << 20)


def png_shared(pic) -> bytes | None:
    """``pic`` (a PIL image, or a uint8 array (H, W), (H, W, 3) or (H, W, 4)) as PNG bytes, encoded
    once per content for everybody; None for anything else (the caller shows it as it is).

    A class looks at the same pictures (the same sample through the same network): the second
    learner's copy is a lookup (a hash of the pixels, ~1 ms per megabyte) instead of an encoding.
    PNG keeps every pixel of a map (JPEG, what a picture without transparency would otherwise
    be sent as, blurs the edges of crisp enlargements) and is the smaller of the two for them:
    a 672 x 672 grid of maps, 58 KB instead of 669 KB. The fastest zlib level: enlargements
    repeat their rows, so it costs almost nothing in size and half the time of the default.
    """
    if isinstance(pic, Image.Image):
        key = content_key((pic.mode, pic.size), pic.tobytes())
    elif isinstance(pic, np.ndarray) and pic.dtype == np.uint8 and (
            pic.ndim == 2 or (pic.ndim == 3 and pic.shape[2] in (3, 4))):
        key = content_key(("array", pic.shape), np.ascontiguousarray(pic).tobytes())
    else:
        return None
    return _PNG.get_or_make(key, lambda: png_bytes(pic if isinstance(pic, Image.Image) else Image.fromarray(pic),
                                                   compress_level=1))


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


def picture_row(pictures, *, cell: int = 48, gap: int = 3) -> Image.Image:
    """uint8 pictures (H, W) or (H, W, C) of one size side by side, each enlarged (nearest) to about
    ``cell`` px, on white: a row of a dataset's samples, one PNG instead of one per picture."""
    tiles = []
    for p in pictures:
        p = np.asarray(p)
        p = p[..., 0] if p.ndim == 3 and p.shape[2] == 1 else p
        tiles.append(np.asarray(upscale(p, cell).convert("RGB")))
    return Image.fromarray(_tile(np.stack(tiles), len(tiles), gap))
