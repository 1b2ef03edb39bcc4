"""The chosen latent point is marked where it is: on the decoded plane and on the latent map."""

import numpy as np
import pytest
from PIL import Image

from cnnviz import figures

torch = pytest.importorskip("torch")
from cnnviz.train import autoencoder as ae  # noqa: E402


def test_manifold_position_names_the_tile_decoded_from_that_point():
    model = ae.DigitVAE().eval()
    n, span = 7, 3.0
    plane = ae.manifold(model, n, span)
    values = np.linspace(-span, span, n)
    for z1, z2 in ((values[1], values[5]), (values[6], values[0]), (0.0, 0.0)):
        row, col = ae.manifold_position((z1, z2), n, span)
        assert row == pytest.approx(round(row)) and col == pytest.approx(round(col))
        r, c = round(row), round(col)
        tile = plane[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28]
        np.testing.assert_allclose(tile, ae.decode(model, [[z1, z2]])[0].numpy(), atol=1e-5)
    assert ae.manifold_position((-span, span), n, span) == (0.0, 0.0)          # top left
    assert ae.manifold_position((span, -span), n, span) == (n - 1.0, n - 1.0)  # bottom right


def test_mark_point_draws_around_the_point_only():
    img = Image.new("RGB", (200, 200), (0, 0, 0))
    out = np.asarray(figures.mark_point(img, 150, 50, half=14))
    orange = np.all(out == (230, 81, 0), axis=-1)
    ys, xs = np.nonzero(orange)
    assert orange.any()
    assert abs((xs.min() + xs.max()) / 2 - 150) <= 1 and abs((ys.min() + ys.max()) / 2 - 50) <= 1
    assert not orange[100:, :].any() and not orange[:, :100].any()
    assert np.asarray(img).max() == 0                     # the original is untouched


def test_latent_figure_marks_the_chosen_point():
    pts = np.zeros((4, 2))
    fig = figures.latent_figure(pts, np.array([0, 1, 0, 1]), ["0", "1"], chosen=(1.5, -2.0), chosen_name="here")
    (trace,) = [tr for tr in fig.data if tr.name == "here"]
    assert list(trace.x) == [1.5] and list(trace.y) == [-2.0]
