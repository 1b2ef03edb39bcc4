"""Predict, then reveal: scoring a click (where will the kernel fire most? where does the network
look?) and saying what it scored in the learner's language."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import i18n
from cnnviz.maths.conv import Convolution
from ..i18n import t
from .core import fmt


@dataclass
class ClickScore:
    score: int                    # 0..100: 100 on the strongest position, 0 far away
    close: bool                   # within the kernel's size of it
    distance: float               # in image pixels
    best: tuple[int, int]         # the nearest strongest position, (row, col) in image pixels
    value: float                  # the strongest value of the map


def click_score(activation_map, click_rc, map_to_image: Convolution | Callable, *,
                kernel_size: int | None = None) -> ClickScore:
    """Score a guess of where a kernel fires most: the distance (image pixels) from the click
    ``click_rc`` = (row, col) to the nearest position of the map's maximum.

    ``map_to_image``: the ``Convolution`` that made the map (each map position is the centre
    of its receptive field, ``Convolution.receptive_box``), or a function (row, col) ->
    (image row, image col); then give ``kernel_size``. The score falls linearly from 100 on
    the spot to 0 at four kernel sizes away; "close" means within one kernel size.
    """
    amap = np.asarray(activation_map, dtype=np.float64)
    if isinstance(map_to_image, Convolution):
        conv = map_to_image

        def to_image(r, c):
            top, left, h, w = conv.receptive_box(int(r), int(c))
            return top + (h - 1) / 2, left + (w - 1) / 2
        span = conv.receptive_box(0, 0)[2]
        kernel_size = kernel_size or span
    else:
        to_image = map_to_image
        if kernel_size is None:
            raise TypeError("kernel_size is needed when map_to_image is a function")
    finite = np.where(np.isfinite(amap), amap, -np.inf)
    best_value = float(finite.max())
    peaks = np.argwhere(finite == best_value)
    centres = np.array([to_image(r, c) for r, c in peaks], dtype=np.float64)
    click = np.asarray(click_rc, dtype=np.float64)
    dist = np.hypot(*(centres - click).T)
    i = int(dist.argmin())
    d = float(dist[i])
    far = 4.0 * kernel_size
    score = int(round(100 * max(0.0, 1 - d / far)))
    return ClickScore(score, d <= kernel_size, d, (int(round(centres[i][0])), int(round(centres[i][1]))), best_value)


def explain_click(result: ClickScore, lang: str = i18n.DEFAULT) -> str:
    """What a click scored, in ``lang``: the distance, the strongest value and where it is."""
    text = t("exercises.click.result", lang, distance=fmt(round(result.distance, 1), lang),
             value=fmt(result.value, lang), row=str(result.best[0]), col=str(result.best[1]),
             score=str(result.score))
    return text + " " + t("exercises.click.close" if result.close else "exercises.click.far", lang)


POINTING_TOP = 0.15               # a hit: the click lands in the map's brightest 15 %


POINTING_TOLERANCE = 15 / 224     # Zhang et al. (2016): 15 pixels of tolerance on 224-pixel images


def pointing_score(heatmap, click_xy, *, radius: float | None = None) -> tuple[bool, float]:
    """The pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop",
    ECCV 2016), turned round for a learner: they click where they think the network looks.

    ``click_xy`` = (x, y) in heatmap pixels. The best value within ``radius`` pixels of the
    click (default: Zhang et al.'s 15 px at 224 px, scaled to the map) counts. Returns
    (hit, score): hit when that value is in the map's top 15 %; score = the percentage of
    the map's pixels it beats or equals (100 on the peak). A flat map has no place to find,
    and a click off the map points at nothing: both give (False, 0.0).
    """
    hm = np.asarray(heatmap, dtype=np.float64)
    if hm.ndim != 2 or hm.size == 0 or not np.isfinite(hm).all():
        return False, 0.0
    if float(hm.max() - hm.min()) <= 1e-12 * max(1.0, abs(float(hm.max()))):
        return False, 0.0
    h, w = hm.shape
    x, y = float(click_xy[0]), float(click_xy[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        return False, 0.0
    if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
        return False, 0.0                  # a click beside the picture points at nothing
    r = POINTING_TOLERANCE * max(h, w) if radius is None else float(radius)
    rows, cols = np.mgrid[0:h, 0:w]
    disc = np.hypot(rows - y, cols - x) <= max(r, 0.5)
    value = float(hm[disc].max())
    threshold = float(np.quantile(hm, 1 - POINTING_TOP))
    score = 100.0 * float((hm <= value).mean())
    return bool(value >= threshold), round(score, 1)


def explain_pointing(hit: bool, score: float, lang: str = i18n.DEFAULT) -> str:
    """The pointing game's verdict on a click, in ``lang``."""
    return t("exercises.pointing.hit" if hit else "exercises.pointing.miss", lang, score=fmt(score, lang))
