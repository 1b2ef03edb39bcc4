import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz.maths import kernels
from cnnviz.maths.kernels import KernelError


def test_curve_detector_is_exactly_the_article_filter():
    k = kernels.PRESETS["curve_detector"]
    assert k.shape == (7, 7)
    ones = np.argwhere(k == 30).tolist()
    assert ones == [[0, 5], [1, 4], [2, 3], [3, 3], [4, 3], [5, 3]]
    assert np.count_nonzero(k) == 6 and k.sum() == 180


def test_presets_cannot_be_changed_in_place():
    with pytest.raises(ValueError):
        kernels.PRESETS["sobel_x"][0, 0] = 99
    k = kernels.make("sobel_x")
    k[0, 0] = 99  # a copy is fine to edit
    assert kernels.PRESETS["sobel_x"][0, 0] == -1


def test_all_issue_presets_exist():
    for name in ["curve_detector", "sobel_x", "sobel_y", "laplacian", "box_blur", "gaussian_blur",
                 "sharpen", "emboss", "identity"]:
        assert name in kernels.PRESETS


@pytest.mark.parametrize("size", kernels.SIZES)
def test_resizable_presets(size):
    box = kernels.make("box_blur", size)
    assert box.shape == (size, size) and np.allclose(box, 1 / size ** 2)       # the plain mean
    gauss = kernels.make("gaussian_blur", size)
    assert gauss.sum() == pytest.approx(1) and np.allclose(gauss, gauss.T) and np.allclose(gauss, gauss[::-1])
    mid = size // 2
    assert gauss[mid, mid] == gauss.max() and np.all(np.diff(gauss[mid, :mid + 1]) > 0)   # peaks in the centre
    ident = kernels.make("identity", size)
    assert ident.sum() == 1 and ident[mid, mid] == 1 and np.count_nonzero(ident) == 1
    # a 3x3 preset embedded in a bigger kernel: same weights in the middle, zeros around
    sob = kernels.make("sobel_x", size)
    assert sob.shape == (size, size)
    np.testing.assert_array_equal(sob[mid - 1:mid + 2, mid - 1:mid + 2], kernels.PRESETS["sobel_x"])
    assert np.count_nonzero(sob) == np.count_nonzero(kernels.PRESETS["sobel_x"])


def test_identity_and_box_blur_do_what_they_say():
    from cnnviz.maths import conv

    image = np.random.default_rng(0).integers(0, 255, (10, 10)).astype(float)
    same = conv.convolve2d(image, kernels.make("identity", 5), padding=2).output
    np.testing.assert_allclose(same, image, atol=1e-3)
    blur = conv.convolve2d(image, kernels.make("box_blur", 3)).output
    assert blur[0, 0] == pytest.approx(image[:3, :3].mean(), rel=1e-5)


def test_parse_accepts_numbers_and_brazilian_decimals():
    k = kernels.parse([["1", "0,5", " -2 "], [3, 4.25, "1e1"], ["−1", ".5", "+2"]])
    np.testing.assert_array_equal(k, [[1, 0.5, -2], [3, 4.25, 10], [-1, 0.5, 2]])


@pytest.mark.parametrize("cells,key,where", [
    ([["1", "abc"], ["0", "0"]], "kernels.error.not_a_number", (1, 2)),
    ([["1", "2"], ["x1", "0"]], "kernels.error.not_a_number", (2, 1)),
    ([["1", ""], ["0", "0"]], "kernels.error.empty_cell", (1, 2)),
    ([["1", None], ["0", "0"]], "kernels.error.empty_cell", (1, 2)),
    ([["1", float("nan")], ["0", "0"]], "kernels.error.empty_cell", (1, 2)),
    ([["1", "nan"], ["0", "0"]], "kernels.error.not_finite", (1, 2)),
    ([["inf", "0"], ["0", "0"]], "kernels.error.not_finite", (1, 1)),
    ([["1", "0"], ["0", float("inf")]], "kernels.error.not_finite", (2, 2)),
    ([["1", "1e400"], ["0", "0"]], "kernels.error.not_finite", (1, 2)),
    ([["1", "1e9"], ["0", "0"]], "kernels.error.too_large_value", (1, 2)),
    ([["1", "1,2,3"], ["0", "0"]], "kernels.error.not_a_number", (1, 2)),
])
def test_parse_names_the_bad_cell(cells, key, where):
    with pytest.raises(KernelError) as info:
        kernels.parse(cells)
    assert info.value.key == key
    assert (info.value.params["row"], info.value.params["col"]) == where
    # and says it in Portuguese too
    assert f"Linha {where[0]}, coluna {where[1]}" in info.value.message("pt_BR")


def test_parse_shape_errors():
    for cells, key in [([], "kernels.error.empty"), ([[]], "kernels.error.empty"), (None, "kernels.error.empty"),
                       ([["1", "2"], ["3"]], "kernels.error.ragged"),
                       ([["0"] * 40] * 40, "kernels.error.too_big")]:
        with pytest.raises(KernelError) as info:
            kernels.parse(cells)
        assert info.value.key == key


def test_parse_text():
    np.testing.assert_array_equal(kernels.parse_text("1 2\n3 4"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(kernels.parse_text("0,5; 1\n2; 3"), [[0.5, 1], [2, 3]])
    np.testing.assert_array_equal(kernels.parse_text("1,2\n3,4"), [[1, 2], [3, 4]])
    with pytest.raises(KernelError):
        kernels.parse_text("1 a\n2 3")


def _draw(lines, px=280, color=(0, 0, 0, 255), width=30):
    canvas = Image.new("RGBA", (px, px), (0, 0, 0, 0))
    d = ImageDraw.Draw(canvas)
    for line in lines:
        d.line(line, fill=color, width=width)
    return np.asarray(canvas)


def test_rasterize_a_drawn_vertical_line():
    rgba = _draw([((140, 0), (140, 280))], width=40)  # a vertical stroke down the middle
    k = kernels.rasterize(rgba, 7, 30)
    assert k.shape == (7, 7)
    assert (k[:, 3] == 30).all()           # the middle column is fully inked
    assert (k[:, :2] == 0).all() and (k[:, 5:] == 0).all()


def test_rasterize_red_is_negative_and_white_background_is_zero():
    white = np.full((140, 140, 4), 255, np.uint8)
    assert not kernels.rasterize(white, 5).any()
    rgba = _draw([((0, 70), (140, 70))], px=140, color=(230, 0, 0, 255), width=28)
    k = kernels.rasterize(rgba, 5, 10)
    assert (k[2] == -10).all() and k.min() == -10


def test_drawing_the_article_curve_gives_the_curve_detector():
    cell = 40  # 7 x 7 cells of 40 px
    centre = lambda r, c: (c * cell + cell // 2, r * cell + cell // 2)  # noqa: E731
    strokes = [(centre(5, 3), centre(2, 3)), (centre(2, 3), centre(1, 4)), (centre(1, 4), centre(0, 5))]
    rgba = _draw(strokes, width=30)
    k = kernels.rasterize(rgba, 7, 30)
    expected = kernels.PRESETS["curve_detector"]
    assert (k[expected == 30] >= 20).all()          # the curve is drawn
    assert (np.abs(k[expected == 0]) <= 15).sum() >= 40  # and little else


def test_describe():
    d = kernels.describe(kernels.PRESETS["sobel_x"])
    assert d["sum"] == 0 and d["shape"] == (3, 3) and d["nonzero"] == 6
