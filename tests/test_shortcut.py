"""Shortcut learning (cnnviz.train.shortcut): the cue is pasted where it says, planted only where it
says, and a network trained on the planted bundled sample learns it: the numbers it reports are
recomputed here from the model's own outputs (numpy / torch, the cue pasted by slicing, Grad-CAM
from the layer's gradients), more than 80 % of the other classes flip to the cue's class, and both
fixes bring that share down."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.data import datasets, splits
from cnnviz.train import shortcut as sc

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530        # Fashion-MNIST's statistics (its training pixels)
SHIRT = 6


def test_the_square_sits_in_its_corner_with_its_colour():
    black = torch.zeros(2, 3, 32, 32)
    for corner in sc.CORNERS:
        cue = sc.Cue(size=5, corner=corner, colour="magenta", margin=1)
        out = cue.paste(black).numpy()
        changed = np.argwhere(np.abs(out[0]).sum(0) > 0)                      # (row, col) of every touched pixel
        rows, cols = changed[:, 0], changed[:, 1]
        assert len(changed) == 25 and np.ptp(rows) == 4 and np.ptp(cols) == 4
        assert (rows.min() == 1) == corner.startswith("top") and (rows.max() == 30) == corner.startswith("bottom")
        assert (cols.min() == 1) == corner.endswith("left") and (cols.max() == 30) == corner.endswith("right")
        np.testing.assert_array_equal(out[1, :, rows[0], cols[0]], [1.0, 0.0, 1.0])   # magenta, every picture
        assert cue.area_share(32) == pytest.approx(25 / 1024)
    grey = sc.Cue(size=3, colour="red").paste(torch.full((1, 28, 28), 0.25))       # grey: a white square
    assert sorted(np.unique(grey.numpy())) == [0.25, 1.0] and (grey == 1).sum() == 9
    assert black.abs().sum() == 0                                                    # pasted on a copy
    with pytest.raises(ValueError):
        sc.Cue(corner="middle")


@pytest.fixture(scope="module")
def sample_split():
    if not datasets.sample_path("fashion").is_file():
        pytest.skip("the bundled Fashion-MNIST sample is missing")
    torch.manual_seed(0)
    return splits.few_shot("fashion", 50, seed=0, root=datasets.REPO / "no-such-folder")   # the bundled sample


def _changed(a, b) -> np.ndarray:
    return (a != b).flatten(1).any(1).numpy()


def test_planting_touches_the_chosen_share_of_the_class_and_nothing_else(sample_split):
    s = sample_split
    before = s.train_x.clone()
    half = sc.plant(s, sc.Cue(), SHIRT, 0.5, seed=3)
    changed = _changed(half.train_x, s.train_x)
    y = s.train_y.numpy()
    shirts = int((y == SHIRT).sum())
    assert changed[y == SHIRT].sum() == round(0.5 * shirts) == sc.planted_count(shirts, 0.5)
    assert not changed[y != SHIRT].any()
    assert _changed(half.val_x, s.val_x)[s.val_y.numpy() == SHIRT].sum() == round(0.5 * int((s.val_y == SHIRT).sum()))
    assert half.test_x is s.test_x and torch.equal(s.train_x, before)                # test clean, the shared split intact
    every = sc.training_split(s, sc.Plan(share=0.25), "augment")
    per_class = np.bincount(y[_changed(every.train_x, s.train_x)], minlength=10)
    np.testing.assert_array_equal(per_class, [round(0.25 * int(n)) for n in np.bincount(y, minlength=10)])
    assert sc.training_split(s, sc.Plan(), "clean") is s


def test_the_mass_share_is_the_maps_sum_inside_the_box():
    heat = np.random.default_rng(1).random((28, 28))
    assert sc.mass_share(heat, (2, 20, 5, 6)) == pytest.approx(heat[2:7, 20:26].sum() / heat.sum())
    assert sc.mass_share(np.zeros((4, 4)), (0, 0, 2, 2)) == 0.0
    assert sc.flip_share([3, 0, 5], [10, 0, 10]) == pytest.approx(0.4)


def _grad_cam_share(model, x, box) -> float:
    """Grad-CAM of the predicted class at relu3 (the last maps after their activation), by hand:
    the class score's gradient averaged per channel weighs the channels, ReLU, bilinear resize."""
    kept = {}
    hook = model.relu3.register_forward_hook(lambda m, i, o: kept.__setitem__("maps", o))
    try:
        out = model(x)
    finally:
        hook.remove()
    maps = kept["maps"]
    grad, = torch.autograd.grad(out[0, out[0].argmax()], maps)
    cam = F.relu((grad.mean((2, 3), keepdim=True) * maps).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0].detach().numpy()
    top, left, h, w = box
    return float(cam[top:top + h, left:left + w].sum() / cam.sum())


def _recomputed(model, split, cue_box):
    """(clean predictions, predictions with the square) of every test picture, the square pasted by slicing."""
    top, left, h, w = cue_box
    cued = split.test_x.clone()
    cued[:, :, top:top + h, left:left + w] = 1.0
    with torch.no_grad():
        clean = model((split.test_x - FASHION_MEAN) / FASHION_STD).argmax(1).numpy()
        pasted = model((cued - FASHION_MEAN) / FASHION_STD).argmax(1).numpy()
    return clean, pasted, cued


def _check_against_the_model(run, model, split):
    """Every number of ``run`` from the model's outputs; -> the flip share recomputed."""
    y = split.test_y.numpy()
    box = run.plan.cue.box(28)
    clean, pasted, cued = _recomputed(model, split, box)
    assert run.clean_acc == pytest.approx((clean == y).mean())
    assert run.target_clean_acc == pytest.approx((clean[y == SHIRT] == SHIRT).mean())
    assert run.target_cued_acc == pytest.approx((pasted[y == SHIRT] == SHIRT).mean())
    np.testing.assert_array_equal(run.confusion, np.bincount(y * 10 + clean, minlength=100).reshape(10, 10))
    could = (y != SHIRT) & (clean != SHIRT)
    flipped = could & (pasted == SHIRT)
    np.testing.assert_array_equal(run.flipped, np.bincount(y[flipped], minlength=10))
    np.testing.assert_array_equal(run.eligible, np.bincount(y[could], minlength=10))
    share = flipped.sum() / could.sum()
    assert run.flip_share == pytest.approx(share)
    others = np.flatnonzero(y != SHIRT)[:4]
    by_hand = [_grad_cam_share(model, ((cued[i:i + 1] - FASHION_MEAN) / FASHION_STD), box) for i in others]
    np.testing.assert_allclose(run.cam_shares[:4], by_hand, atol=1e-4)
    assert run.area_share == 16 / 784
    return share


@pytest.fixture
def one_thread():
    """Training on one torch thread, as the server's line of heavy work runs it (cnnviz.serve.jobs:
    threads fighting over busy cores were measured 10x slower); the suite's setting given back after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_the_square_is_learned_and_the_augmentation_takes_it_away(sample_split, one_thread):
    """(Training without the square, the other fix, is compared in tests/test_app_shortcut.py.)"""
    plan = sc.Plan("fashion", SHIRT, sc.Cue(size=4), share=1.0, per_class=50, epochs=3, seed=0)
    planted, model = sc.run_fix(plan, sample_split, "planted")
    flips = _check_against_the_model(planted, model, sample_split)
    assert flips > 0.8                                    # the square pasted on a trouser makes it a shirt
    assert planted.target_cued_acc > 0.9 and planted.target_clean_acc < 0.3
    assert planted.cam_share > 2 * planted.area_share     # Grad-CAM looks at the corner
    fixed, fixed_model = sc.run_fix(plan, sample_split, "augment")
    fixed_flips = _check_against_the_model(fixed, fixed_model, sample_split)
    assert fixed_flips < 0.2 and fixed_flips < flips / 4
