import numpy as np
import pytest

from cnnviz.maths import layers

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_relu():
    x = np.array([[-2.0, 0.0, 3.5]])
    assert layers.relu(x).tolist() == [[0.0, 0.0, 3.5]]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("window,stride", [(2, 2), (3, 1), (3, 2), (2, 1)])
def test_pooling_matches_torch(mode, window, stride):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 9, 11))
    ours = layers.pool2d(x, window, stride, mode)
    fn = F.max_pool2d if mode == "max" else F.avg_pool2d
    ref = fn(torch.tensor(x)[None], window, stride)[0].numpy()
    np.testing.assert_allclose(ours.output, ref, atol=1e-12)
    if mode == "max":
        r, c = ours.argmax[1, 2]
        assert x[0, r, c] == ref[0, 1, 2]


def test_pooling_small_matrix_with_winners():
    x = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [5, 6, 7, 8], [0, 1, 2, 9]], dtype=float)
    p = layers.pool2d(x, 2)
    assert p.output.tolist() == [[4, 2], [6, 9]]
    assert p.argmax[0, 0].tolist() == [1, 0] and p.argmax[1, 1].tolist() == [3, 3]
    assert layers.pool2d(x, 2, mode="avg").output.tolist() == [[2.5, 1.0], [3.0, 6.5]]


def test_softmax_matches_torch_and_does_not_overflow():
    z = np.array([2.0, 1.0, 0.1])
    s = layers.softmax(z)
    np.testing.assert_allclose(s.probs, torch.softmax(torch.tensor(z), 0).numpy())
    assert s.probs.sum() == pytest.approx(1.0)
    big = layers.softmax([1000.0, 999.0])
    assert np.isfinite(big.probs).all() and big.probs[0] == pytest.approx(1 / (1 + np.exp(-1)))


def test_softmax_top_classes_match_torch_topk():
    z = np.array([0.3, 2.5, -1.0, 2.4, 0.0, 7.0])
    probs, idx = torch.softmax(torch.tensor(z), 0).topk(3)
    assert layers.softmax(z).top(3) == idx.tolist() == [5, 1, 3]
    assert layers.softmax(z).top(10) == torch.tensor(z).argsort(descending=True).tolist()


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(training):
    rng = np.random.default_rng(1)
    x = rng.normal(3, 2, size=(8, 4, 5, 5))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    bn = torch.nn.BatchNorm2d(4).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
        bn.running_mean.copy_(torch.tensor(rm))
        bn.running_var.copy_(torch.tensor(rv))
    bn.train(training)
    ref = bn(torch.tensor(x)).detach().numpy()
    ours = layers.batch_norm(x, gamma=gamma, beta=beta, training=training, running_mean=rm, running_var=rv)
    np.testing.assert_allclose(ours.output, ref, atol=1e-10)
    np.testing.assert_allclose(ours.running_mean, bn.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var, bn.running_var.numpy(), atol=1e-12)


def test_batch_norm_in_training_gives_mean_0_std_1_per_channel():
    x = np.random.default_rng(2).normal(10, 5, size=(16, 3, 4, 4))
    out = layers.batch_norm(x).output
    assert np.allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-9)
    assert np.allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-3)


@pytest.mark.parametrize("window,stride", [(2, 2), (3, 1), (2, 3), (4, 4)])
def test_pooling_windows_are_where_each_output_comes_from(window, stride):
    x = np.random.default_rng(2).normal(size=(6, 6))
    p = layers.pool2d(x, window, stride, "max")
    wins = p.windows()
    assert len(wins) == p.output.size
    for r, c, top, left in wins:
        assert p.output[r, c] == x[top:top + window, left:left + window].max()
        assert top + window <= 6 and left + window <= 6


def test_running_statistics_move_from_torchs_start_towards_the_batches():
    # one batch: 0.9 * 0 + 0.1 * its mean, 0.9 * 1 + 0.1 * its unbiased variance (torch's rule)
    first = np.random.default_rng(1).normal(20.0, 8.0, size=(layers.BN_DEMO_BATCH, 1))[:, 0]
    rm, rv = layers.running_statistics(20.0, 8.0, 1)
    assert rm.shape == rv.shape == (1,)
    assert rm[0] == pytest.approx(0.1 * first.mean())
    assert rv[0] == pytest.approx(0.9 + 0.1 * first.var(ddof=1))
    # many batches: close to the distribution's own mean and variance
    rm, rv = layers.running_statistics(20.0, 8.0, 400)
    assert rm[0] == pytest.approx(20.0, abs=1.0) and rv[0] == pytest.approx(64.0, rel=0.15)
    # the same seed, the same statistics (a learner's link shows the same numbers)
    assert layers.running_statistics(-7.5, 3.0, 10) == pytest.approx(layers.running_statistics(-7.5, 3.0, 10))


def test_running_statistics_are_torchs_batch_norm_after_the_same_batches():
    """Recomputed by torch: nn.BatchNorm1d in training mode, fed the same seeded batches."""
    import torch

    rng = np.random.default_rng(1)
    bn = torch.nn.BatchNorm1d(1, momentum=0.1).double().train()
    for _ in range(25):
        bn(torch.from_numpy(rng.normal(-7.5, 3.0, size=(layers.BN_DEMO_BATCH, 1))))
    rm, rv = layers.running_statistics(-7.5, 3.0, 25)
    assert rm[0] == pytest.approx(bn.running_mean.item(), rel=1e-9)
    assert rv[0] == pytest.approx(bn.running_var.item(), rel=1e-9)
