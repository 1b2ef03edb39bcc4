"""Turn whatever a learner gives us into an RGB image, or say clearly why not.

``load_image`` accepts bytes, a path or a file-like object holding PNG, JPEG,
WebP, GIF (first frame), BMP or TIFF. It honours EXIF orientation, converts
every colour mode to 8-bit RGB (transparent pixels become white) and refuses,
with an ``ImageError`` a learner can act on, anything that is empty, too big,
truncated, corrupt, a decompression bomb or not an image at all.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnviz.base.errors import CnnvizError

MAX_BYTES = 20 * 1024 * 1024          # an upload larger than this is refused before decoding
MAX_PIXELS = 40_000_000               # ~ a 7000 x 5700 photo; more is a bomb or not worth it
FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "DIB", "TIFF"}
EXTENSIONS = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]
ASSETS = Path(__file__).resolve().parents[2] / "assets"


class ImageError(CnnvizError):
    """The upload is not an image we can use; the message says why and what to do."""


def _read_bytes(source, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageError("images.error.no_file", name=str(path))
        if path.stat().st_size > max_bytes:
            raise ImageError("images.error.too_big_file", mb=path.stat().st_size / 2**20, max_mb=max_bytes / 2**20)
        data = path.read_bytes()
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            raise ImageError("images.error.not_an_image")
    else:
        raise ImageError("images.error.not_an_image")
    if not data:
        raise ImageError("images.error.empty")
    if len(data) > max_bytes:
        raise ImageError("images.error.too_big_file", mb=len(data) / 2**20, max_mb=max_bytes / 2**20)
    return data


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB, transparency composited on white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit (or 32-bit integer) greyscale: scale down to 0..255 instead of clipping.
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or arr.max() <= 65535 else float(arr.max())
        if top and arr.max() <= 255 and im.mode == "I":
            top = 255.0  # an "I" image that already holds 8-bit values
        arr = np.clip(arr / top * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if im.mode == "F":
        arr = np.nan_to_num(np.asarray(im, dtype=np.float64))
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(arr.round().astype(np.uint8), "L").convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode == "RGB":
        return im
    return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def load_image(source, *, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> Image.Image:
    """Decode ``source`` (bytes, path or file-like) into an RGB ``PIL.Image``.

    Raises ``ImageError`` (a ``ValueError``) for anything that is not a usable image.
    """
    data = _read_bytes(source, max_bytes)
    with warnings.catch_warnings():
        # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; we refuse.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
            fmt = im.format
            w, h = im.size
            if w * h > max_pixels:
                raise ImageError("images.error.too_many_pixels", width=w, height=h, max_mp=max_pixels / 1e6)
            if fmt not in FORMATS:
                raise ImageError("images.error.format", format=fmt or "?", formats=", ".join(EXTENSIONS))
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)  # animated GIF / multi-page TIFF: the first frame
            im.load()
            im = ImageOps.exif_transpose(im) or im
            rgb = _to_rgb(im)
            rgb.load()
        except ImageError:
            raise
        except UnidentifiedImageError:
            raise ImageError("images.error.not_an_image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            # Pillow stops far-too-big headers itself; its message carries the pixel count.
            found = re.search(r"\((\d+) pixels\)", str(bomb))
            mp = int(found.group(1)) / 1e6 if found else float("nan")
            raise ImageError("images.error.bomb", mp=mp, max_mp=max_pixels / 1e6) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
                struct.error, MemoryError, ZeroDivisionError):
            # Truncated data, broken headers and codec errors all end up here.
            raise ImageError("images.error.corrupt", format=locals().get("fmt") or "?") from None
    if 0 in rgb.size:
        raise ImageError("images.error.empty")
    return rgb


def fit(img: Image.Image, max_side: int) -> Image.Image:
    """Shrink (never enlarge) so the longer side is at most ``max_side`` pixels."""
    w, h = img.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return img.resize(size, Image.Resampling.BOX)


def to_array(img: Image.Image, mode: str = "rgb") -> np.ndarray:
    """``"rgb"`` -> (H, W, 3) uint8; ``"gray"`` -> (H, W) uint8 with ITU-R 601 luma.

    Grey = 0.299 R + 0.587 G + 0.114 B, as Pillow's ``convert("L")`` computes it.
    """
    if mode == "gray":
        return np.asarray(img.convert("L"), dtype=np.uint8)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


@dataclass(frozen=True)
class Sample:
    key: str            # also the i18n key suffix: samples.<key>
    file: str           # under assets/samples/
    licence: str

    @property
    def path(self) -> Path:
        return ASSETS / "samples" / self.file


# Where the mouse sample carries the course article's 7x7 receptive field (row, column):
# the lessons start there, so the first number a learner sees is the article's 6600.
SAMPLE_FOCUS = (44, 50)

SAMPLES: dict[str, Sample] = {
    s.key: s for s in [
        Sample("mouse", "mouse.png", "CC0 1.0, made for cnnviz by tools/make_samples.py"),
        Sample("shapes", "shapes.png", "CC0 1.0, made for cnnviz by tools/make_samples.py"),
        Sample("landscape", "landscape.png", "CC0 1.0, made for cnnviz by tools/make_samples.py"),
        Sample("digit", "digit.png", "CC0 1.0, made for cnnviz by tools/make_samples.py"),
        Sample("letters", "letters.png", "CC0 1.0, made for cnnviz by tools/make_samples.py"),
        Sample("checkerboard", "checkerboard.png", "CC0 1.0, made for cnnviz by tools/make_samples.py"),
    ]
}


def load_sample(key: str) -> Image.Image:
    """One of the images shipped in ``assets/samples`` (see its LICENSES.md)."""
    if key not in SAMPLES:
        raise ImageError("images.error.no_file", name=key)
    return load_image(SAMPLES[key].path)
