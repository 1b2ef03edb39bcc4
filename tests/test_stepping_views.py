"""The pictures that show where the kernel is while stepping: findable on any picture, honest numbers."""

import re

import numpy as np
import pytest
from PIL import Image

from cnnviz import figures
from cnnviz.maths import images, kernels

ORANGE = (255, 160, 0)


def orange_pixels(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img.convert("RGB")).astype(int)
    return np.argwhere((np.abs(arr - ORANGE) <= 2).all(axis=2))   # (row, col) of each orange pixel


def test_the_mouse_is_shown_bright_but_keeps_the_article_numbers():
    mouse = images.load_sample("mouse")
    gray = images.to_array(mouse, "gray")
    top, left = images.SAMPLE_FOCUS
    assert np.array_equal(gray[top:top + 7, left:left + 7], kernels.COURSE_RECEPTIVE_FIELD)   # 6600 comes from here
    lo, hi = figures.display_range(gray)
    assert (lo, hi) == (0, 50)
    shown = np.asarray(figures.stretched(mouse.convert("L"), hi))
    assert shown[gray == 50].min() == 255 and shown[gray == 0].max() == 0
    # a picture that already uses the whole range is shown as it is
    photo = Image.fromarray(np.linspace(0, 255, 64 * 64).reshape(64, 64).astype(np.uint8))
    assert figures.display_range(np.asarray(photo))[1] == 255
    assert figures.stretched(photo, 255) is photo


@pytest.mark.parametrize("shape, box", [((512, 512), (300, 200, 7, 7)), ((512, 512), (0, 0, 7, 7)),
                                        ((512, 384), (505, 377, 7, 7)), ((20, 20), (5, 5, 3, 3))])
def test_the_zoom_window_contains_the_kernel_and_stays_inside(shape, box):
    h, w = shape
    t0, l0, sh, sw = figures.neighbourhood(shape, box, side=21)
    top, left, bh, bw = box
    assert 0 <= t0 and 0 <= l0 and t0 + sh <= h and l0 + sw <= w
    assert t0 <= top and l0 <= left and top + bh <= t0 + sh and left + bw <= l0 + sw
    assert (sh, sw) == (min(h, 21), min(w, 21))
    if 10 <= top <= h - 17 and 10 <= left <= w - 17:          # room on every side: the kernel is centred
        assert abs((t0 + sh / 2) - (top + bh / 2)) <= 1 and abs((l0 + sw / 2) - (left + bw / 2)) <= 1


def test_a_7x7_box_on_a_512_photo_is_findable():
    photo = Image.fromarray(np.full((512, 512, 3), 128, np.uint8))
    shown = figures.locate(photo, (300, 200, 7, 7), target=240)
    assert shown.size == (240, 240)
    pts = orange_pixels(shown)
    # the outline is at least 12 px wide on screen (7 source pixels would be 3 px) ...
    box = pts[(np.abs(pts[:, 0] - 303 * 240 / 512) < 10) & (np.abs(pts[:, 1] - 203 * 240 / 512) < 10)]
    assert np.ptp(box[:, 0]) >= 11 and np.ptp(box[:, 1]) >= 11
    # ... and crosshair lines run to the picture's edges
    assert pts[:, 0].min() == 0 and pts[:, 0].max() == 239 and pts[:, 1].min() == 0 and pts[:, 1].max() == 239


def test_the_zoom_shows_the_window_enlarged_with_the_box_on_the_right_pixels():
    arr = np.zeros((100, 100), np.uint8)
    arr[40:47, 60:67] = 200                                   # the field under the kernel
    window = figures.neighbourhood((100, 100), (40, 60, 7, 7), side=21)
    shown = figures.zoomed(Image.fromarray(arr), window, (40, 60, 7, 7), target=210)
    scale = shown.size[0] // window[3]
    assert scale == 10
    pts = orange_pixels(shown)
    assert pts[:, 0].min() == (40 - window[0]) * scale and pts[:, 1].min() == (60 - window[1]) * scale
    assert pts[:, 0].max() == (47 - window[0]) * scale - 1 and pts[:, 1].max() == (67 - window[1]) * scale - 1
    inside = np.asarray(shown)[(43 - window[0]) * scale, (63 - window[1]) * scale]
    assert tuple(inside) == (200, 200, 200)


def test_the_step_card_writes_every_row_and_escapes():
    html = figures.steps_card([("Σ", "6600"), ("+ bias <b>", "0"), ("after ReLU", "6600")], title="Output (44, 50)")
    assert html.count("6600") == 2 and "&lt;b&gt;" in html and "Output (44, 50)" in html
    assert html.index("font-size:30px") > html.index("+ bias")   # the last row, the answer, is the large one


def test_matrix_digits_are_never_below_14_px_and_small_matrices_get_20_in_presentation_mode():
    """Issue 17: the convolution's 7 x 7 window, kernel and products were written at 10 px (cell 25)."""
    from cnnviz.ui.links import PRESENT_CSS

    seven = figures.matrix_html(np.full((7, 7), 1500.0), cell=25)
    eleven = figures.matrix_html(np.zeros((11, 11)), cell=16)
    assert "font-size:14px" in seven and "font-size:14px" in eleven
    assert "cnnviz-matrix-small" in seven and "cnnviz-matrix-small" not in eleven
    assert re.search(r"\.cnnviz-matrix\.cnnviz-matrix-small \{ font-size: 20px !important", PRESENT_CSS)
    # a cell is as wide as its longest number in em (it widens with presentation mode's digits)
    (width,) = set(re.findall(r"width:max\(25px,([\d.]+)em\)", seven))
    assert float(width) * 14 >= 4 * 0.5 * 14 + 4          # "1500": four digits of about half an em


def test_the_map_so_far_colour_bar_says_what_it_is_and_its_numbers():
    html = figures.legend_html(figures.map_scale(np.array([0.0, 6600.0, 9000.0])), caption="Map so far: 2603/3364",
                               fmt=lambda v, d=0: f"{v:.{d}f}")
    assert 'class="cnnviz-legend-caption"' in html and "Map so far: 2603/3364" in html
    assert html.index("cnnviz-legend-caption") < html.index("cnnviz-legend-bar")      # over the bar
    assert re.findall(r'class="cnnviz-legend-tick"[^>]*>([^<]*)<', html) == ["0", "9000"]
