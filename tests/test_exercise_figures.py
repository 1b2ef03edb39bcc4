"""What a self-check question draws with its prompt (``figures.exercise_panels``) is the question's
own data: the numbers in the cells, the pixels of its pictures, the colours and colour bar of its
maps, the points of the pointing game, the curves and bars of its charts, the options' kernels,
each under its caption in the learner's language; and nothing that would give the answer away."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnviz import exercises as ex
from cnnviz import figures
from cnnviz.i18n import number, t

SEEDS = range(4)
FRAME = (150, 150, 150)


def panels(q, lang="en", revealed=False):
    options = [ex.render_choice(q, k, lang) for k in range(len(q.choices))]
    return figures.exercise_panels(q.figure, options, [c.figure for c in q.choices], lang=lang, revealed=revealed)


def by_caption(drawn) -> dict:
    return {p.caption: p for p in drawn}


def cells(html: str) -> np.ndarray:
    """The numbers written in a matrix's cells, row by row (English format)."""
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    return np.array([[float(v.replace(",", "")) for v in re.findall(r"<td[^>]*>([^<]*)</td>", r)] for r in rows])


def shown_as_cells(html: str, data) -> None:
    a = np.atleast_2d(np.asarray(data, dtype=float))
    whole = bool(np.all(a == np.round(a)))
    np.testing.assert_allclose(cells(html), a if whole else np.round(a, 2), atol=1e-9)


def pixels(img, shape) -> np.ndarray:
    """The colour of each cell of a framed, enlarged picture of an array of ``shape`` (its centre pixel)."""
    rgb = np.asarray(img.convert("RGB"))
    assert tuple(rgb[0, 0]) == FRAME and tuple(rgb[-1, -1]) == FRAME     # the grey frame
    inner = rgb[2:-2, 2:-2]
    s = inner.shape[0] // shape[0]
    assert s > 1 and inner.shape[:2] == (shape[0] * s, shape[1] * s)     # every value a square of pixels
    return inner[s // 2::s, s // 2::s]


def legend_range(html: str) -> tuple[float, float]:
    lo, hi = re.search(r'data-lo="([^"]+)" data-hi="([^"]+)"', html).groups()
    return float(lo), float(hi)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
@pytest.mark.parametrize("seed", SEEDS)
def test_small_matrices_and_vectors_are_their_numbers_in_cells(seed, lang):
    q = ex.generate("conv.sum_at", seed)
    drawn = by_caption(panels(q, lang))
    assert set(drawn) == {t("exercises.fig.window", lang), t("exercises.fig.kernel", lang)}
    shown_as_cells(drawn[t("exercises.fig.window", lang)].body, q.figure["window"])
    shown_as_cells(drawn[t("exercises.fig.kernel", lang)].body, q.figure["kernel"])
    q = ex.generate("layers.maxpool", seed)        # its window and stride are in the prompt, not drawn
    (matrix,) = panels(q, lang)
    assert matrix.caption == t("exercises.fig.matrix", lang)
    shown_as_cells(matrix.body, q.figure["matrix"])
    q = ex.generate("conv1d.value_at", seed)        # a short signal: one row of cells; its position: in the prompt
    drawn = by_caption(panels(q, lang))
    assert set(drawn) == {t("exercises.fig.signal", lang), t("exercises.fig.kernel", lang)}
    shown_as_cells(drawn[t("exercises.fig.signal", lang)].body, q.figure["signal"])
    shown_as_cells(drawn[t("exercises.fig.kernel", lang)].body, q.figure["kernel"])


@pytest.mark.parametrize("seed", SEEDS)
def test_a_picture_its_map_and_the_options_kernels(seed):
    q = ex.generate("conv.which_kernel", seed)
    drawn = panels(q)
    picture, activation_map, *kernels = drawn
    assert picture.caption == t("exercises.fig.image", "en") and picture.legend is None
    grey = pixels(picture.body, q.figure["image"].shape)
    assert (grey == np.asarray(q.figure["image"]).astype(np.uint8)[..., None]).all()   # the picture's own greys
    m = np.asarray(q.figure["map"], dtype=float)
    assert activation_map.caption == t("exercises.fig.map", "en")
    expected = np.asarray(figures.colorize(m, scale=figures.map_scale(m)).convert("RGB"))
    assert (pixels(activation_map.body, m.shape) == expected).all()          # each value in its colour
    assert legend_range(activation_map.legend) == pytest.approx((m.min(), m.max()))   # and its colour bar
    # each option that is a kernel: its numbers under its label; the kernels' names are not drawn
    assert [k.caption for k in kernels] == [ex.render_choice(q, i, "en") for i in range(len(q.choices))]
    for k, choice in zip(kernels, q.choices):
        shown_as_cells(k.body, choice.figure)
    assert not any(name in k.body for k in kernels for name in q.figure["kernel_names"])
    assert figures.panels_per_row(drawn) == 3


@pytest.mark.parametrize("seed", SEEDS)
def test_the_pointing_game_marks_its_points_on_its_map(seed):
    q = ex.generate("explain.pointing", seed)
    (heat,) = panels(q)
    m = np.asarray(q.figure["heatmap"], dtype=float)
    assert heat.caption == t("exercises.fig.heatmap", "en")
    assert legend_range(heat.legend) == pytest.approx((m.min(), m.max()))
    rgb = np.asarray(heat.body.convert("RGB"))
    s = (rgb.shape[1] - 4) // m.shape[1]
    for x, y in q.figure["points"]:             # a marker on each point's cell
        assert tuple(rgb[2 + int((y + 0.5) * s), 2 + int((x + 0.5) * s)]) == (0, 230, 255), (x, y)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_several_pictures_are_lettered_and_their_activations_wait_for_the_check(lang):
    q = ex.generate("inside.top_image", 0)
    images = np.asarray(q.figure["images"], dtype=float)
    before = panels(q, lang, revealed=False)
    after = panels(q, lang, revealed=True)
    assert [p.caption for p in before[:4]] == ["A", "B", "C", "D"]
    for k, (hidden, shown) in enumerate(zip(before[:4], after[:4])):
        assert (pixels(hidden.body, images[k].shape) == images[k].astype(np.uint8)[..., None]).all()
        value = number(q.figure["activations"][k], lang, 1)
        assert value not in hidden.caption
        assert shown.caption.startswith(f"{'ABCD'[k]} · ") and value in shown.caption
    assert before[4].caption == t("exercises.fig.kernel", lang)
    shown_as_cells(before[4].body, q.figure["kernel"])


def test_deletion_curves_and_rank_correlations_are_lines_named_after_the_options():
    q = ex.generate("explain.faithful", 0)
    (chart,) = panels(q)
    names = [ex.render_choice(q, k, "en") for k in range(len(q.choices))]
    assert [tr.name for tr in chart.body.data] == names
    for tr, curve in zip(chart.body.data, q.figure["curves"]):
        np.testing.assert_allclose(tr.x, np.asarray(q.figure["fractions"]) * 100)    # % of pixels removed
        np.testing.assert_allclose(tr.y, curve)
    q = ex.generate("explain.sanity", 0)
    (chart,) = panels(q)
    assert [tr.name for tr in chart.body.data] == [ex.render_choice(q, k, "en") for k in range(len(q.choices))]
    for tr, corr in zip(chart.body.data, q.figure["correlations"]):
        assert list(tr.x) == list(range(len(corr)))                    # layers randomized, whole steps
        np.testing.assert_allclose(tr.y, corr)
    assert chart.body.layout.xaxis.dtick == 1


def test_training_runs_are_one_chart_each_and_a_run_one_chart():
    q = ex.generate("train.overfit", 0)
    charts = panels(q, "pt_BR")
    assert [c.caption for c in charts] == [ex.render_choice(q, k, "pt_BR") for k in range(len(q.choices))]
    for chart, run in zip(charts, q.figure["runs"]):
        train, val = chart.body.data
        assert (train.name, val.name) == (t("exercises.fig.train", "pt_BR"), t("exercises.fig.val", "pt_BR"))
        assert list(train.x) == list(range(1, len(run["train"]) + 1))             # epochs from 1
        np.testing.assert_allclose(train.y, run["train"])
        np.testing.assert_allclose(val.y, run["val"])
    q = ex.generate("train.best_epoch", 0)
    (chart,) = panels(q)
    np.testing.assert_allclose(chart.body.data[0].y, q.figure["train"])
    np.testing.assert_allclose(chart.body.data[1].y, q.figure["val"])


def test_scores_are_one_bar_per_class():
    q = ex.generate("inside.predict_class", 0)
    (chart,) = panels(q)
    (bars,) = chart.body.data
    assert list(bars.x) == [str(c) for c in q.figure["classes"]]
    np.testing.assert_allclose(bars.y, q.figure["logits"])


def test_a_long_signal_is_a_line_and_short_kernels_are_cells():
    q = ex.generate("conv1d.which_kernel", 0)
    drawn = panels(q)
    signal, output, *kernels = drawn
    assert (signal.caption, output.caption) == (t("exercises.fig.signal", "en"), t("exercises.fig.output", "en"))
    np.testing.assert_allclose(signal.body.data[0].y, q.figure["signal"])
    np.testing.assert_allclose(output.body.data[0].y, q.figure["output"])
    for k, choice in zip(kernels, q.choices):
        shown_as_cells(k.body, choice.figure)


def test_nothing_to_draw_and_the_rows():
    assert panels(ex.generate("conv.output_size", 0)) == []          # everything is in the prompt
    small = figures.exercise_panels({f"m{i}": np.eye(2) for i in range(4)}, [], lang="en", revealed=False)
    assert figures.panels_per_row(small) == 4                        # four matrices of numbers side by side
    mixed = figures.exercise_panels({**{f"m{i}": np.eye(2) for i in range(3)}, "image": np.zeros((20, 20))},
                                    [], lang="en", revealed=False)
    assert figures.panels_per_row(mixed) == 3
