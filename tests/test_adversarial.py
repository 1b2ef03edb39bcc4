"""Adversarial examples (cnnviz.analysis.adversarial): every attack stays within epsilon per pixel
in [0, 1], FGSM is the sign step a few lines of plain torch compute, PGD flips at least as many,
the random baseline of the same size rarely flips, the shared network is left as it was, and the
lesson's numbers (the >= 90 % of correctly classified test digits FGSM flips at epsilon 0.3, the
smallest epsilon on the grid) are recomputed here with plain torch, never with the module's code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import models
from cnnviz.analysis import adversarial as adv
from cnnviz.data import datasets

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    return models.load("digits")


@pytest.fixture(scope="module")
def rgb():
    return models.load("tiny-rgb")


@pytest.fixture(scope="module")
def sample_digits():
    """The bundled sample's test digits (the same on every machine), (N, 1, 28, 28) in [0, 1]."""
    if not datasets.has_sample("mnist"):
        pytest.skip("the bundled MNIST sample is missing")
    return datasets.as_tensors(datasets.load_sample("mnist"))


def plain_scores(model, p: torch.Tensor, mean=MNIST_MEAN, std=MNIST_STD) -> torch.Tensor:
    return model((p - mean) / std)


def plain_fgsm(model, p: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """FGSM by hand: the sign of the cross-entropy's gradient with respect to the pixels, one step, clamped."""
    q = p.clone().requires_grad_(True)
    loss = F.cross_entropy(plain_scores(model, q).double(), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, q)
    return (p + eps * grad.sign()).clamp(0, 1)


@pytest.mark.parametrize("method", ["fgsm", "pgd"])
@pytest.mark.parametrize("goal", ["untargeted", "targeted"])
def test_every_pixel_moves_by_at_most_epsilon_and_stays_a_pixel(digits, rgb, sample_digits, method, goal):
    pictures = {"digits": sample_digits[0][:4]}
    pictures["tiny-rgb"] = datasets.as_tensors(datasets.load_sample("cifar10-subset"), 4)[0] \
        if datasets.has_sample("cifar10-subset") else None
    for loaded in (digits, rgb):
        p = pictures[loaded.name]
        if p is None:
            continue
        x = datasets.normalize(p, loaded.mean, loaded.std)
        for eps in (0.03, 0.2):
            kw = {"target": torch.full((4,), 3)} if goal == "targeted" else {}
            x_adv, pred = getattr(adv, method)(loaded, x, epsilon=eps, **kw)
            assert x_adv.shape == x.shape and pred.probs.shape == (4, 10)
            a, b = loaded.denormalize(x_adv), loaded.denormalize(x)
            assert (a - b).abs().max() <= eps + 1e-5
            assert a.min() >= 0 and a.max() <= 1
            # the normalized output maps back onto pixels that really are in [0, 1] (no clamp hid anything)
            raw = x_adv * torch.tensor(loaded.std).view(-1, 1, 1) + torch.tensor(loaded.mean).view(-1, 1, 1)
            assert raw.min() >= -1e-5 and raw.max() <= 1 + 1e-5
            # the prediction is the network's on the returned input
            with torch.no_grad():
                assert torch.equal(pred.label, loaded.model(x_adv).argmax(1))


def test_fgsm_is_the_sign_step_of_plain_torch(digits, sample_digits):
    p, y = sample_digits[0][:64], sample_digits[1][:64]
    x = datasets.normalize(p, digits.mean, digits.std)
    for eps in (0.05, 0.3):
        x_adv, _ = adv.fgsm(digits, x, epsilon=eps, label=y)
        ours = digits.denormalize(x_adv)
        mine = plain_fgsm(digits.model, p, y, eps)
        same = ((ours - mine).abs() < 1e-5).float().mean()
        assert same > 0.999, f"only {float(same):.4f} of the pixels agree at epsilon {eps}"


def test_targeted_attacks_move_towards_the_target(digits, sample_digits):
    p = sample_digits[0][:1]
    x = datasets.normalize(p, digits.mean, digits.std)
    y = int(sample_digits[1][0])
    target = (y + 3) % 10
    before = torch.softmax(plain_scores(digits.model, p), 1)[0, target]
    _, step = adv.fgsm(digits, x, epsilon=0.1, target=target)
    assert step.probs[target] > before
    x_pgd, pgd_pred = adv.pgd(digits, x, epsilon=0.3, target=target)
    assert pgd_pred.label == target
    assert int(plain_scores(digits.model, digits.denormalize(x_pgd)).argmax()) == target


def _plain_flip_share(model, p, y, eps, batch=1000) -> tuple[int, int]:
    """(correctly classified pictures that plain-torch FGSM flips, correctly classified pictures)."""
    flipped = right = 0
    for s in range(0, len(y), batch):
        pb, yb = p[s:s + batch], y[s:s + batch]
        with torch.no_grad():
            ok = plain_scores(model, pb).argmax(1) == yb
        q = plain_fgsm(model, pb, yb, eps)
        with torch.no_grad():
            flipped += int(((plain_scores(model, q).argmax(1) != yb) & ok).sum())
        right += int(ok.sum())
    return flipped, right


def test_fgsm_at_0_3_flips_at_least_90_percent_of_the_right_test_digits(digits, sample_digits):
    """The lesson's claim, on the bundled sample (1,000 test digits), with plain torch."""
    flipped, right = _plain_flip_share(digits.model, *sample_digits, 0.3)
    assert right > 950 and flipped / right >= 0.90, (flipped, right)


@pytest.mark.skipif(not datasets.is_available("mnist"), reason="the full MNIST test set is not in CNNVIZ_DATA")
def test_the_claim_holds_across_the_full_test_set(digits):
    """And across the whole MNIST test set: every 5th of its 10,000 digits (2,000, spread over all of
    it; the 10,000 took 39 s on the shared 2-core machine)."""
    x, y = datasets.first_test_images("mnist")
    flipped, right = _plain_flip_share(digits.model, x[::5], y[::5], 0.3)
    assert right > 1960 and flipped / right >= 0.90, (flipped, right)


def test_the_curve_is_plain_torchs_and_pgd_flips_at_least_as_many(digits, sample_digits):
    p, y = sample_digits[0][:100], sample_digits[1][:100]
    curve = adv.robustness(digits, p, y, dataset="mnist", epsilons=(0.0, 0.1, 0.3))
    with torch.no_grad():
        ok = plain_scores(digits.model, p).argmax(1) == y
    assert curve.accuracy["fgsm"][0] == pytest.approx(float(ok.float().mean()))
    for i, eps in enumerate(curve.epsilons):
        flipped, right = _plain_flip_share(digits.model, p, y, eps)
        assert curve.flipped["fgsm"][i] == pytest.approx(flipped / right, abs=0.011)   # a picture at most
        assert curve.flipped["pgd"][i] >= curve.flipped["fgsm"][i]
    # the random baseline of the same size: rarely a flip where FGSM flips most at 0.3
    assert curve.flip_share("fgsm", 0.3) >= 0.9 and curve.flip_share("pgd", 0.3) == 1.0
    assert curve.flip_share("random", 0.1) <= 0.02


def test_the_random_baseline_is_plus_or_minus_epsilon_and_keeps_the_answer(digits, sample_digits):
    p = sample_digits[0][:50]
    x = datasets.normalize(p, digits.mean, digits.std)
    noisy, pred = adv.random_sign(digits, x, epsilon=0.05, seed=1)
    d = digits.denormalize(noisy) - p
    inside = (p > 0.05) & (p < 0.95)                       # away from the clamp: exactly +-epsilon
    assert torch.allclose(d[inside].abs(), torch.full_like(d[inside], 0.05), atol=1e-5)
    assert (d[inside] > 0).float().mean().item() == pytest.approx(0.5, abs=0.1)
    with torch.no_grad():
        clean = plain_scores(digits.model, p).argmax(1)
    assert (pred.label == clean).float().mean() >= 0.96


def test_the_smallest_flip_is_the_first_on_the_grid_by_plain_torch(digits, sample_digits):
    grid = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
    for i in range(3):
        p, y = sample_digits[0][i:i + 1], sample_digits[1][i:i + 1]
        x = datasets.normalize(p, digits.mean, digits.std)
        found, said = adv.smallest_flip(digits, x, method="fgsm", label=int(y), grid=grid)
        mine = []
        for eps in grid:
            q = plain_fgsm(digits.model, p, y, eps)
            with torch.no_grad():
                mine.append(int(plain_scores(digits.model, q).argmax()))
        assert said == mine
        expected = next((e for e, c in zip(grid, mine) if c != int(y)), None)
        assert found == expected


def test_first_flip_does_not_assume_monotone_flips():
    assert adv.first_flip([0.0, 0.1, 0.2, 0.3], [7, 7, 3, 7], 7) == 0.2
    assert adv.first_flip([0.0, 0.1], [7, 7], 7) is None


def test_the_small_formulas():
    w = torch.tensor([0.5, -2.0, 1.5, 0.0])
    eps = 0.1
    x = torch.rand(4)
    best = x + eps * w.sign()
    assert adv.score_shift(w.numpy(), eps) == pytest.approx(float(w @ best - w @ x))
    v = np.array([0.0, 0.5, 0.98, 0.3])
    g = np.array([-1.0, 2.0, 0.5, 0.0])
    np.testing.assert_allclose(adv.fgsm_step(v, g, 0.05),
                               torch.clamp(torch.tensor(v) + 0.05 * torch.tensor(g).sign(), 0, 1).numpy())


def test_the_perturbation_picture_is_grey_for_no_change_and_says_its_scale(digits, sample_digits):
    p = sample_digits[0][:1]
    x = datasets.normalize(p, digits.mean, digits.std)
    x_adv, _ = adv.fgsm(digits, x, epsilon=0.2)
    shown = adv.perturbation(digits, x, x_adv, 0.2)
    delta = (digits.denormalize(x_adv) - p)[0, 0].numpy()
    assert shown.shape == (28, 28)
    np.testing.assert_allclose(shown, 0.5 + delta / 0.4, atol=1e-5)
    assert set(np.round(shown[np.abs(delta) > 0.199], 3)) <= {0.0, 1.0}


def test_the_shared_network_is_left_as_it_was(digits, sample_digits):
    before = {k: v.clone() for k, v in digits.model.state_dict().items()}
    flags = [p.requires_grad for p in digits.model.parameters()]
    x = datasets.normalize(sample_digits[0][:2], digits.mean, digits.std)
    adv.fgsm(digits, x, epsilon=0.1)
    adv.pgd(digits, x, epsilon=0.1)
    assert all(torch.equal(before[k], v) for k, v in digits.model.state_dict().items())
    assert [p.requires_grad for p in digits.model.parameters()] == flags
    assert all(p.grad is None for p in digits.model.parameters())
    assert not any(m._forward_hooks or m._backward_hooks or m._forward_pre_hooks for m in digits.model.modules())
    assert not digits.model.training


def test_bad_settings_are_refused(digits, sample_digits):
    x = datasets.normalize(sample_digits[0][:1], digits.mean, digits.std)
    with pytest.raises(ValueError, match="epsilon"):
        adv.fgsm(digits, x, epsilon=3)
    with pytest.raises(ValueError, match="attack"):
        adv.attack(digits, x, method="deepfool", epsilon=0.1)
