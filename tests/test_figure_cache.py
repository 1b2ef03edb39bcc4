"""Shared renderings: a plotly figure (deletion/insertion curves, a heatmap) is built once per content, labels
and language and carries the language's separators; a picture is encoded as PNG once per content."""

import numpy as np

from cnnviz import figures, i18n


def _curves(**kw):
    fractions = np.linspace(0, 1, 11)
    return figures.curves_figure(fractions, 1 - fractions, fractions ** 2, names=("Deletion", "Insertion"),
                                 xtitle="pixels changed", ytitle="probability of 7", **kw)


def test_the_same_curves_are_one_shared_figure():
    assert _curves() is _curves()


def test_the_language_is_part_of_the_key_and_sets_the_separators():
    with i18n.language("en"):
        en = _curves()
    with i18n.language("pt_BR"):
        pt = _curves()
    assert en is not pt
    assert en.layout.separators == ".," and pt.layout.separators == ",."     # 0.5 / 0,5 on the axes


def test_different_curves_are_different_figures():
    fractions = np.linspace(0, 1, 11)
    other = figures.curves_figure(fractions, fractions, fractions, names=("Deletion", "Insertion"),
                                  xtitle="pixels changed", ytitle="probability of 7")
    assert other is not _curves()
    assert list(other.data[0].y) == list(fractions)


def test_a_heatmap_is_built_once_per_map_scale_and_language():
    values = np.arange(36, dtype=np.float32).reshape(6, 6) - 10
    with i18n.language("en"):
        en = figures.heatmap(values, hover="v %{z:.2f}")
        assert figures.heatmap(values.copy(), hover="v %{z:.2f}") is en      # same numbers: the same figure
        assert figures.heatmap(values + 1, hover="v %{z:.2f}") is not en     # another map
        assert figures.heatmap(values, hover="v %{z:.2f}", scale=figures.map_scale([0, 40])) is not en
    with i18n.language("pt_BR"):
        pt = figures.heatmap(values, hover="v %{z:.2f}")
    assert pt is not en and pt.layout.separators == ",." and en.layout.separators == ".,"
    assert np.array_equal(np.asarray(en.data[0].z), values)
    assert en.data[0].zmin == -25 and en.data[0].zmax == 25                 # signed: symmetric around 0


def test_the_heatmaps_kept_are_bounded(monkeypatch):
    from cnnviz.figures import plots

    monkeypatch.setattr(plots._HEATMAPS, "max_items", 3)
    first = figures.heatmap(np.full((4, 4), 1.0))
    for k in range(2, 6):
        figures.heatmap(np.full((4, 4), float(k)))
    assert len(plots._HEATMAPS) == 3
    assert figures.heatmap(np.full((4, 4), 1.0)) is not first              # the oldest went first


def test_a_picture_is_sent_as_png_with_every_pixel_and_encoded_once():
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    tiles = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
    grid = np.kron(tiles, np.ones((21, 21, 1), np.uint8))                   # an enlarged map: crisp squares
    data = figures.png_shared(grid)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), grid)     # not one pixel blurred
    assert figures.png_shared(grid.copy()) is data                          # the second learner: a lookup
    img = Image.fromarray(grid)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(figures.png_shared(img)))), grid)
    other = grid.reshape(grid.shape[0] // 2, grid.shape[1] * 2, 3)          # the same bytes, another picture
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(figures.png_shared(other)))), other)
    assert figures.png_shared(grid.astype(np.float32)) is None              # not ours to encode: Streamlit's


def test_the_pictures_kept_are_bounded(monkeypatch):
    from cnnviz.figures import pictures

    monkeypatch.setattr(pictures._PNG, "max_bytes", 2_000)
    for k in range(30):
        figures.png_shared(np.random.default_rng(k).integers(0, 255, (20, 20), dtype=np.uint8))
    assert pictures._PNG.total <= 2_000 and 1 < len(pictures._PNG) < 30
    assert pictures._PNG.total == sum(len(v) for v in pictures._PNG.entries.values())
