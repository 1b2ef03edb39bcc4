"""One softmax (cnnviz.maths.layers): every caller gives what torch.softmax gave it before, to 1e-6
(a loaded network's probabilities and the deletion/insertion curves: tests/test_attribution.py)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cnnviz.analysis import confidence
from cnnviz.maths import layers, signals
from cnnviz.train import signal_cnn  # noqa: E402


def _torch_softmax(z, axis=-1):
    """The maths each caller used before (torch's own), in place of layers.probabilities."""
    return torch.softmax(z, dim=axis) if isinstance(z, torch.Tensor) else \
        torch.softmax(torch.as_tensor(np.asarray(z, dtype=np.float64)), dim=axis).numpy()


def test_probabilities_numpy_and_torch_match_torch_softmax():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=8, size=(5, 10))
    np.testing.assert_allclose(layers.probabilities(z, axis=1), _torch_softmax(z, 1), atol=1e-12)
    np.testing.assert_allclose(layers.probabilities(z[0]), layers.softmax(z[0]).probs, atol=0)
    t = torch.tensor(z, dtype=torch.float32)
    p = layers.probabilities(t, axis=1)
    assert isinstance(p, torch.Tensor) and p.dtype == torch.float32
    torch.testing.assert_close(p, torch.softmax(t, dim=1), atol=1e-6, rtol=0)
    assert np.isfinite(layers.probabilities([1000.0, -1000.0, 3.0])).all()


def test_confidence_is_unchanged():
    for z in ([0.0, 5.0, 1.0], [1000.0, -1000.0, 3.0], np.linspace(-4, 4, 10)):
        c = confidence.assess(z)
        p = _torch_softmax(z)
        assert c.top_prob == pytest.approx(p[c.top], abs=1e-6)
        assert c.margin == pytest.approx(p[c.top] - (p[c.second] if c.second != c.top else 0), abs=1e-6)


def test_signal_prediction_is_unchanged(monkeypatch):
    torch.manual_seed(0)
    model = signal_cnn.signal_cnn().eval()
    signal = signals.make("square", 300, freq=4, seed=5)
    ours = signal_cnn.predict(model, signal)
    monkeypatch.setattr(signal_cnn, "probabilities", _torch_softmax)
    np.testing.assert_allclose(ours, signal_cnn.predict(model, signal), atol=1e-6)
