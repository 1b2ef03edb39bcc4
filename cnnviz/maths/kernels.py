"""Kernels (filters): the course's presets, hand-drawn ones, and typed-in ones.

A kernel is a small matrix of weights. ``PRESETS`` holds the classic ones at
their natural size; ``make(name, size)`` gives a preset at any odd size when
that makes sense (blur, identity), ``rasterize`` turns a drawing into a k x k
kernel, and ``parse`` reads a grid of typed cells with a clear message for
every mistake a learner can make.
"""

from __future__ import annotations

import math
import re

import numpy as np
from PIL import Image

from cnnviz.base.errors import CnnvizError
from cnnviz.base.numbers import MINUSES, bounded, read_decimal

SIZES = (3, 5, 7, 9, 11)
MAX_SIZE = 31


class KernelError(CnnvizError):
    """A kernel we cannot use; the message names the cell and the problem."""


# The 7x7 curve detector of the course article ("Como Funcionam as CNNs?"):
# 30s along a curve that bends out to the right, zeros elsewhere.
CURVE_DETECTOR = np.array([
    [0, 0, 0, 0, 0, 30, 0],
    [0, 0, 0, 0, 30, 0, 0],
    [0, 0, 0, 30, 0, 0, 0],
    [0, 0, 0, 30, 0, 0, 0],
    [0, 0, 0, 30, 0, 0, 0],
    [0, 0, 0, 30, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
], dtype=np.float64)

# The receptive field the article puts under it: a curve in the image.
# Multiplying and summing gives (50*30)+(50*30)+(50*30)+(20*30)+(50*30) = 6600.
COURSE_RECEPTIVE_FIELD = np.array([
    [0, 0, 0, 0, 0, 0, 30],
    [0, 0, 0, 50, 50, 50, 50],
    [0, 0, 0, 20, 50, 0, 0],
    [0, 0, 0, 50, 50, 0, 0],
    [0, 0, 0, 50, 50, 0, 0],
    [0, 0, 0, 50, 50, 0, 0],
    [0, 0, 0, 50, 50, 0, 0],
], dtype=np.float64)

# The article then moves the filter to a part of the mouse with no such curve
# (a stroke bending the other way) and the sum is 0: nothing lines up with the 30s.
COURSE_NO_CURVE_FIELD = np.array([
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [50, 50, 0, 0, 0, 0, 0],
    [0, 0, 50, 0, 0, 0, 0],
    [0, 0, 0, 50, 50, 50, 50],
], dtype=np.float64)


def _gaussian(size: int, sigma: float | None = None) -> np.ndarray:
    sigma = sigma or size / 6 + 0.5
    x = np.arange(size) - size // 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    k = np.outer(g, g)
    return k / k.sum()


def _embed(small: np.ndarray, size: int) -> np.ndarray:
    """Put a 3x3 kernel in the middle of a size x size one (zeros around: same result)."""
    if size < small.shape[0]:
        raise KernelError("kernels.error.preset_size", size=size, natural=small.shape[0])
    out = np.zeros((size, size))
    o = (size - small.shape[0]) // 2
    out[o:o + small.shape[0], o:o + small.shape[1]] = small
    return out


_FIXED = {
    "curve_detector": CURVE_DETECTOR,
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float64),
}
_SIZED = {
    "identity": lambda k: _embed(np.array([[1.0]]), k),
    "box_blur": lambda k: np.full((k, k), 1.0 / (k * k)),
    "gaussian_blur": _gaussian,
}
PRESET_NAMES = ["curve_detector", "sobel_x", "sobel_y", "laplacian", "box_blur",
                "gaussian_blur", "sharpen", "emboss", "identity"]
PRESETS: dict[str, np.ndarray] = {
    **{name: k.copy() for name, k in _FIXED.items()},
    "identity": _SIZED["identity"](3),
    "box_blur": _SIZED["box_blur"](3),
    "gaussian_blur": _SIZED["gaussian_blur"](5),
}
for _k in PRESETS.values():
    _k.flags.writeable = False  # shared module constants: nobody edits them in place


def natural_size(name: str) -> int:
    return PRESETS[name].shape[0]


def resizable(name: str) -> bool:
    return name in _SIZED


def make(name: str, size: int | None = None) -> np.ndarray:
    """Preset ``name`` at ``size`` x ``size`` (a fresh, writable array)."""
    if name not in PRESETS:
        raise KernelError("kernels.error.unknown_preset", name=name)
    size = size or natural_size(name)
    if name in _SIZED:
        return _SIZED[name](size)
    if size == natural_size(name):
        return PRESETS[name].copy()
    return _embed(PRESETS[name], size)


def parse_value(text: str, name: str) -> float:
    """A single number typed by a learner (a bias, ...): "-1.5" or the Brazilian "-1,5".
    ``name`` says what it is in the message (already in the learner's language)."""
    clean = str(text).strip().translate(MINUSES)
    value = read_decimal(clean)
    if value is None:
        raise KernelError("kernels.error.not_a_value", name=name, value=clean[:20])
    if not bounded(value):
        raise KernelError("kernels.error.value_range", name=name, value=clean[:20])
    return value


def parse_cell(cell, row: int, col: int) -> float:
    """One typed cell -> float. Accepts "0.5" and the Brazilian "0,5"."""
    # A table editor gives None (or a float NaN) for a cell left empty.
    if cell is None or (isinstance(cell, (float, np.floating)) and math.isnan(cell)):
        raise KernelError("kernels.error.empty_cell", row=row + 1, col=col + 1)
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        value = float(cell)
    else:
        text = str(cell).strip().replace("\u2212", "-")  # typographic minus from copy-paste
        if not text:
            raise KernelError("kernels.error.empty_cell", row=row + 1, col=col + 1)
        low = text.lower()
        if low in {"nan", "inf", "+inf", "-inf", "infinity", "-infinity"}:
            raise KernelError("kernels.error.not_finite", row=row + 1, col=col + 1, value=text)
        value = read_decimal(text)
        if value is None:
            raise KernelError("kernels.error.not_a_number", row=row + 1, col=col + 1, value=text[:20])
    if not math.isfinite(value):
        raise KernelError("kernels.error.not_finite", row=row + 1, col=col + 1, value=str(cell))
    if abs(value) > 1e6:
        raise KernelError("kernels.error.too_large_value", row=row + 1, col=col + 1, value=str(cell))
    return value


def parse(cells) -> np.ndarray:
    """A grid of cells (rows of strings or numbers, e.g. from a table editor) -> kernel.

    Every problem raises ``KernelError`` naming the row and column (1-based).
    """
    rows = [list(r) for r in cells] if cells is not None else []
    if not rows or not any(len(r) for r in rows):
        raise KernelError("kernels.error.empty")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise KernelError("kernels.error.ragged", row=i + 1, got=len(r), want=width)
    if len(rows) > MAX_SIZE or width > MAX_SIZE:
        raise KernelError("kernels.error.too_big", h=len(rows), w=width, max=MAX_SIZE)
    return np.array([[parse_cell(c, i, j) for j, c in enumerate(r)] for i, r in enumerate(rows)])


def parse_text(text: str) -> np.ndarray:
    """Rows on lines; values separated by spaces, tabs or ";" (so "0,5" can be a decimal)."""
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    rows = []
    for ln in lines:
        if ";" in ln:
            rows.append([c for c in ln.split(";")])
        elif re.search(r"\s", ln.strip()):
            rows.append(ln.split())
        else:
            rows.append(ln.split(",") if "," in ln else [ln])
    return parse(rows)


def rasterize(rgba: np.ndarray, size: int, weight: float = 30.0) -> np.ndarray:
    """A drawing (H, W, 4 RGBA, e.g. from a canvas) -> size x size kernel.

    Dark strokes are positive weights, red strokes negative ones; each kernel
    cell gets the mean ink of the canvas square it covers, times ``weight``
    (30 by default, the value of the course's curve detector).
    """
    arr = np.asarray(rgba, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] < 3 or 0 in arr.shape[:2]:
        raise KernelError("kernels.error.empty")
    rgb = arr[..., :3] / 255.0
    alpha = arr[..., 3] / 255.0 if arr.shape[2] == 4 else np.ones(arr.shape[:2])
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    redness = np.clip(r - np.maximum(g, b), 0, 1)          # red pen: negative ink
    darkness = np.clip(1 - np.maximum(r, np.maximum(g, b)), 0, 1)  # black pen: positive ink
    ink = alpha * (darkness - redness)
    small = Image.fromarray(ink.astype(np.float32), "F").resize((size, size), Image.Resampling.BOX)
    kernel = np.asarray(small, dtype=np.float64)
    # Anti-aliased stroke edges leave faint ink; snap it so the grid reads cleanly.
    kernel = np.where(np.abs(kernel) < 0.15, 0.0, np.clip(kernel * 2.0, -1, 1))
    return np.round(kernel * weight, 2)


def describe(kernel: np.ndarray) -> dict:
    """Facts a learner can check: size, sum of weights (1 keeps brightness, 0 finds edges)."""
    k = np.asarray(kernel, dtype=np.float64)
    return {"shape": k.shape, "sum": float(k.sum()), "min": float(k.min()), "max": float(k.max()),
            "nonzero": int(np.count_nonzero(k))}
