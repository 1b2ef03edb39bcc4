"""Colour scales and their legends: the legend shows exactly the colours the map is drawn with."""

import re

import numpy as np

from cnnviz import figures


def _legend_end_colours(html_text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    bar = re.search(r'class="cnnviz-legend-bar"[^>]*linear-gradient\(to right,([^)]*\)[^"]*)\)', html_text).group(1)
    colours = [tuple(int(c) for c in m) for m in re.findall(r"rgb\((\d+),(\d+),(\d+)\)", bar)]
    return colours[0], colours[-1]


def _ticks(html_text: str) -> list[str]:
    return re.findall(r'class="cnnviz-legend-tick"[^>]*>([^<]*)<', html_text)


def _pixel_of(img, values: np.ndarray, value: float) -> tuple[int, ...]:
    r, c = np.argwhere(values == value)[0]
    return tuple(int(x) for x in np.asarray(img)[r, c])


def test_signed_map_is_diverging_centred_on_zero():
    values = np.array([[-2.0, 0.0], [1.0, 10.0]])
    scale = figures.map_scale(values)
    assert scale.diverging and (scale.lo, scale.hi) == (-2.0, 10.0)
    img = np.asarray(figures.colorize(values))
    assert tuple(img[0, 1]) == tuple(figures.DIVERGING[127])      # 0 is the white middle
    assert img[0, 0, 2] > img[0, 0, 0]                            # negative: blue
    assert img[1, 1, 0] > img[1, 1, 2]                            # positive: red
    # symmetric: -2 is as pale a blue as +2 would be a pale red, not the deepest blue
    assert tuple(img[0, 0]) != tuple(figures.DIVERGING[0])


def test_non_negative_map_is_sequential_from_min_to_max():
    values = np.array([[0.0, 3.0], [5.0, 8.0]])
    scale = figures.map_scale(values)
    assert not scale.diverging and (scale.lo, scale.hi) == (0.0, 8.0)
    img = np.asarray(figures.colorize(values))
    assert tuple(img[0, 0]) == tuple(figures.SEQUENTIAL[0])
    assert tuple(img[1, 1]) == tuple(figures.SEQUENTIAL[255])
    assert 'data-kind="sequential"' in figures.legend_html(scale)


def test_legend_ends_are_the_maps_colours_at_its_min_and_max():
    rng = np.random.default_rng(0)
    for values in (rng.normal(0, 3, (9, 9)), rng.uniform(2, 7, (9, 9)), rng.normal(-5, 1, (4, 4)),
                   np.array([[0.0, 0.5], [-4.0, 1.0]])):
        img = figures.colorize(values)
        first, last = _legend_end_colours(figures.legend_html(figures.map_scale(values)))
        assert first == _pixel_of(img, values, values.min())
        assert last == _pixel_of(img, values, values.max())


def test_legend_of_a_signed_matrix_matches_matrix_html():
    values = np.array([[-3.0, 1.0], [2.0, 6.0]])
    table = figures.matrix_html(values, scale="signed")
    cells = [tuple(int(c) for c in m) for m in re.findall(r"background:rgb\((\d+),(\d+),(\d+)\)", table)]
    first, last = _legend_end_colours(figures.legend_html(figures.map_scale(values, diverging=True)))
    assert first == cells[0] and last == cells[3]


def test_legend_ticks_min_zero_max_in_the_learners_format():
    values = np.array([[-1.5, 0.25], [2.5, 1.0]])
    pt = lambda v, d=0: f"{v:,.{d}f}".translate(str.maketrans(",.", ".,"))
    ticks = _ticks(figures.legend_html(values, fmt=pt))
    assert ticks == ["-1,5", "0,0", "2,5"]
    assert _ticks(figures.legend_html(np.array([[0.0, 3.0]]))) == ["0.0", "3.0"]   # no 0 tick twice


def test_legend_text_readable_on_a_projector():
    size = int(re.search(r"font-size:(\d+)px", figures.legend_html(np.arange(4.0))).group(1))
    assert size >= 14


def test_fixed_range_and_forced_kind():
    scale = figures.map_scale(np.array([1.0, 2.0]), vmin=-4, vmax=4)
    assert scale.diverging and (scale.lo, scale.hi) == (-4.0, 4.0)
    assert figures.map_scale(np.array([1.0, 2.0]), diverging=True).diverging
    assert not figures.map_scale(np.array([-1.0, 2.0]), diverging=False).diverging


def test_legend_ticks_never_overlap_or_round_a_negative_end_to_zero():
    ticks = _ticks(figures.legend_html(np.array([-0.31, 30.0])))
    assert ticks == ["-0.3", "30"]          # no "0" tick on top of the min, no "-0"


def test_legend_of_a_pixel_channel_matches_its_matrix():
    plane = np.array([[0, 128], [200, 255]])
    for channel in ("gray", "R", "G", "B"):
        table = figures.matrix_html(plane, scale=channel, vmin=0, vmax=255)
        cells = [tuple(int(c) for c in m) for m in re.findall(r"background:rgb\((\d+),(\d+),(\d+)\)", table)]
        legend = figures.legend_html(figures.map_scale(plane, 0, 255), gray=True if channel == "gray" else channel)
        assert _legend_end_colours(legend) == (cells[0], cells[3])


def test_legend_of_an_explanation_overlay_runs_through_its_colours():
    """Grad-CAM and the effective field are drawn with figures.overlay (the HEAT colours): their
    legend's bar must run from the colour of 0 to the colour of 1 of that map."""
    from PIL import Image

    first, last = _legend_end_colours(figures.legend_html(figures.Scale(0.0, 1.0, False), gray="heat"))
    black = Image.new("RGB", (4, 1))
    drawn = np.asarray(figures.overlay(black, np.array([[0.0, 0.5, 1.0, 1.0]]), alpha=1.0, target=4))[0]
    assert last == tuple(int(c) for c in drawn[-1])            # 1: the map's colour covers the pixel
    assert first == tuple(int(c) for c in figures.HEAT[0])       # 0: the scale's dark end (the picture shows)


def test_significant_digits_for_formulas_in_both_formats():
    from cnnviz import i18n
    from cnnviz.figures import significant_tex

    with i18n.language("pt_BR"):
        assert significant_tex(0.000123456) == r"1{,}23 \times 10^{-4}"
        assert significant_tex(3.14159) == "3{,}14"
        assert significant_tex(0) == "0"
    with i18n.language("en"):
        assert significant_tex(2.1e8) == r"2.10 \times 10^{8}"
        assert significant_tex(12.345) == "12.3"
        assert significant_tex(-0.0456) == "-0.0456"


def test_pooling_html_is_the_same_in_every_process():
    """The same pooling drawn by two workers (two Python processes, each with its own str-hash
    salt) gives the same HTML."""
    import subprocess
    import sys

    code = ("import numpy as np; from cnnviz import figures, layers; "
            "m = np.arange(36.).reshape(6, 6); p = layers.pool2d(m, 2, 2, 'max'); "
            "print(figures.pooling_html(m, p, titles=('a', 'b')))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1
