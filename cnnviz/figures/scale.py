"""Colours: the colour tables, the one rule that turns a map's values into colours
(``Scale``, ``map_scale``, ``colorize``) and the grey range a dim picture is shown with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


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


# The palette, by role: the one place these colours are written (tests/test_one_home.py).
ACCENT = "#e07b00"   # what the eye should go to: the top class, the selected layer, the sliding window,
                     # validation beside training (the app's theme colour, .streamlit/config.toml)
SECOND = "#2166ac"   # the series drawn beside ACCENT (training, deletion, the jump): DIVERGING's blue end
CHOSEN = "#e65100"   # the point a learner chose (latent plane, decoded plane), the window under the
                     # mouse: one deeper orange everywhere
MUTED = "#8a99a8"    # what only connects or frames (arrows between layers, a picture's frame)


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


def colorize(values: np.ndarray, *, diverging: bool | None = None,
             vmin: float | None = None, vmax: float | None = None, scale: "Scale | None" = None) -> Image.Image:
    """A 2D map -> RGB image, coloured by ``map_scale`` (or the given ``scale``): a map with
    negative values uses the blue-white-red scale centred on zero, a non-negative one the
    sequential scale from its min to its max. ``legend_html`` draws the same scale."""
    v = np.asarray(values, dtype=np.float64)
    sc = scale if scale is not None else map_scale(v, vmin, vmax, diverging=diverging)
    return Image.fromarray(sc.colours(v), "RGB")


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
