"""The Gradient descent lesson's maths (cnnviz.train.descent) against an independent recomputation:
the two numbers per picture and the loss surface by torch from the pictures themselves, the bottom
by least squares, the three preset rates on the real surface, a loss that overflows, the
optimizers' paths step by step against torch.optim, and the figures drawn from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz.data import datasets
from cnnviz.train import descent

torch.set_num_threads(1)


def _sources():
    yield pytest.param("/nonexistent", id="sample")        # the bundled sample: on every machine
    full = datasets.is_available("mnist")
    yield pytest.param(None, id="full", marks=pytest.mark.skipif(
        not full, reason=f"the full MNIST is not in {datasets.data_root()} (CNNVIZ_DATA)"))


@pytest.fixture(scope="module", params=list(_sources()))
def case(request):
    """(the library's problem, torch's own features X (N, 2) and targets y (N,), float64)."""
    prob = descent.problem(request.param)
    ds = datasets.load_dataset("mnist", train=False, root=request.param)
    labels = torch.as_tensor(np.asarray(ds.targets))
    keep = (labels == 0) | (labels == 1)
    x = torch.as_tensor(np.asarray(ds.data))[keep].double() / 255           # (N, 28, 28)
    ink = x.mean(dim=(1, 2))
    columns = x.sum(dim=1)                                                  # ink per column
    pos = torch.arange(28, dtype=torch.float64)
    centre = (columns * pos).sum(1) / columns.sum(1)
    width = ((columns * (pos - centre[:, None]) ** 2).sum(1) / columns.sum(1)).sqrt()
    raw = torch.stack([ink, width], 1)
    feats = (raw - raw.mean(0)) / raw.std(0, unbiased=False)
    y = torch.where(labels[keep] == 1, 1.0, -1.0).double()
    return prob, feats, y, request.param


def _loss(feats, y, w):
    return torch.mean((feats @ w - y) ** 2)


def test_the_problem_says_which_data_it_uses(case):
    prob, feats, y, root = case
    assert prob.source == datasets.source("mnist", Path(root) if root else None) == ("sample" if root else "full")
    assert prob.n == len(y) and prob.counts == (int((y < 0).sum()), int((y > 0).sum()))
    np.testing.assert_allclose(prob.features, feats.numpy(), atol=1e-9)


def test_the_surface_and_its_gradient_match_torch(case):
    prob, feats, y, _ = case
    w1, w2, loss = descent.surface(prob, n=9)
    for i in range(0, 9, 2):
        for j in range(0, 9, 3):
            w = torch.tensor([w1[j], w2[i]], dtype=torch.float64, requires_grad=True)
            want = _loss(feats, y, w)
            want.backward()
            assert loss[i, j] == pytest.approx(float(want.detach()), rel=1e-9)
            np.testing.assert_allclose(prob.gradient([w1[j], w2[i]]), w.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_the_bottom_is_the_least_squares_solution(case):
    prob, feats, y, _ = case
    best = torch.linalg.lstsq(feats, y[:, None]).solution[:, 0]
    np.testing.assert_allclose(prob.bottom, best.numpy(), atol=1e-9)
    assert prob.lowest_loss == pytest.approx(float(_loss(feats, y, best)), rel=1e-9)
    assert prob.accuracy(prob.bottom) == pytest.approx(float(((feats @ best).sign() == y).double().mean()))
    # the curvatures: the eigenvalues of the loss's Hessian, by torch's autograd
    hessian = torch.autograd.functional.hessian(lambda w: _loss(feats, y, w), best)
    np.testing.assert_allclose(prob.curvatures, torch.linalg.eigvalsh(hessian).numpy(), rtol=1e-9)


def _torch_walk(feats, y, lr, start, steps, opt="sgd"):
    w = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    o = {"sgd": lambda: torch.optim.SGD([w], lr=lr),
         "momentum": lambda: torch.optim.SGD([w], lr=lr, momentum=descent.MOMENTUM),
         "adam": lambda: torch.optim.Adam([w], lr=lr, betas=descent.BETAS, eps=descent.EPS)}[opt]()
    points, losses = [w.detach().clone()], [float(_loss(feats, y, w.detach()))]
    for _ in range(steps):
        o.zero_grad()
        _loss(feats, y, w).backward()
        o.step()
        points.append(w.detach().clone())
        losses.append(float(_loss(feats, y, w.detach())))
    return torch.stack(points).numpy(), np.array(losses)


@pytest.mark.parametrize("name, verdict", [("crawl", "crawl"), ("good", "bottom"), ("diverge", "diverged")])
def test_the_three_presets_crawl_converge_and_diverge_on_the_real_surface(case, name, verdict):
    prob, feats, y, _ = case
    lr = descent.PRESETS[name]
    lowest = float(_loss(feats, y, torch.linalg.lstsq(feats, y[:, None]).solution[:, 0]))
    limit = 2 / float(torch.linalg.eigvalsh(2 * feats.T @ feats / len(y)).max())
    for start in (descent.START, (2.5, 1.0), (2.5, -2.5), (-2.5, -2.5)):
        _, losses = _torch_walk(feats, y, lr, start, descent.STEPS)
        assert descent.run(prob, "sgd", lr, start, descent.STEPS).verdict == verdict, (name, start)
        if name == "crawl":         # still well above the bottom after the lesson's 50 steps, and going down
            assert losses[-1] - lowest > descent.CLOSE and np.all(np.diff(losses) < 0)
        elif name == "good":
            assert losses[-1] - lowest <= descent.CLOSE and lr < limit
        else:                       # beyond 2 / the steepest curvature: the loss ends higher than it started
            assert lr > limit and losses[-1] > 100 * losses[0]


def test_a_loss_that_overflows_stops_the_path_where_it_was_last_a_number(case):
    prob, feats, y, _ = case
    whole = descent.run(prob, "sgd", 10.0, descent.START, 300, cut=False)
    assert whole.blew_up is not None and whole.verdict == "diverged"
    assert np.all(np.isfinite(whole.points)) and np.all(np.isfinite(whole.losses))
    assert len(whole.points) == whole.blew_up                # the points before the one that overflowed
    with np.errstate(over="ignore", invalid="ignore"):
        _, losses = _torch_walk(feats, y, 10.0, descent.START, whole.blew_up)
    # torch squares each picture's error (up to ~60 times w^T C w here), so its loss overflows a step or
    # two before the library's: the same walk, the same end
    first_inf = int(np.argmax(~np.isfinite(losses)))
    assert not np.isfinite(losses[whole.blew_up]) and whole.blew_up - 3 <= first_inf <= whole.blew_up
    cut = descent.run(prob, "sgd", 10.0, descent.START, 300)   # on the map: cut where it leaves
    assert cut.left_at == 1 and len(cut.points) == 1 and cut.verdict == "diverged"
    assert np.all(np.abs(cut.points) <= descent.AREA[1]) and cut.exit_loss > cut.losses[0]


@pytest.mark.parametrize("opt, lr", [("sgd", 0.3), ("sgd", 0.6), ("momentum", 0.05), ("momentum", 0.2),
                                     ("adam", 0.1), ("adam", 0.5)])
def test_the_optimizers_paths_are_torch_optims_step_by_step(case, opt, lr):
    prob, feats, y, _ = case
    path = descent.run(prob, opt, lr, descent.START, 40, cut=False)
    points, losses = _torch_walk(feats, y, lr, descent.START, 40, opt)
    np.testing.assert_allclose(path.points, points, atol=1e-5, rtol=0)
    np.testing.assert_allclose(path.losses, losses, rtol=1e-5)


def test_one_step_rules_match_torch():
    from cnnviz.exercises.descent import behaviour

    for a in (0.5, 1.0, 2.5, 4.0):
        for lr in (0.01, 0.1, 0.25, 0.5):
            if min(abs(2 * a * lr - 1), abs(2 * a * lr - 2)) < 0.1:
                continue
            w = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
            o = torch.optim.SGD([w], lr=lr)
            trail = [1.0]
            for _ in range(30):
                o.zero_grad()
                (a * w ** 2).backward()
                o.step()
                trail.append(float(w.detach()))
            grows, flips = abs(trail[-1]) > 1, trail[1] < 0
            assert behaviour(a, lr) == (2 if grows else 1 if flips else 0), (a, lr)


def test_the_figures_get_only_finite_points_and_the_race_has_a_frame_per_step(case):
    from cnnviz.figures import descent as figs

    prob = case[0]
    w1, w2, loss = descent.surface(prob)
    names = {k: k for k in ("w1", "w2", "loss", "bottom", "path", "start", "step", "play", "pause",
                            "sgd", "momentum", "adam")}
    wild = descent.run(prob, "sgd", 0.6, descent.START, 50)     # leaves the map: cut there
    fig = figs.contour_figure(w1, w2, loss, bottom=prob.bottom, lowest=prob.lowest_loss, path=wild.points,
                              names=names, area=descent.AREA)
    for trace in fig.data[1:]:
        assert np.all(np.isfinite(np.asarray(trace.x, float))) and np.all(np.abs(np.asarray(trace.x)) <= 3)
    paths = {o: descent.run(prob, o, 0.1, descent.START, 80).points for o in descent.OPTIMIZERS}
    paths["sgd"] = wild.points                                   # a runner that stopped early stays put
    race = figs.race_figure(w1, w2, loss, bottom=prob.bottom, lowest=prob.lowest_loss, paths=paths, names=names,
                            area=descent.AREA)
    assert len(race.frames) == 81
    last = race.frames[-1].data
    for k, trail in zip(paths, last):
        np.testing.assert_allclose(np.column_stack([trail.x, trail.y]), paths[k])
    play = race.layout.updatemenus[0].buttons[0]
    assert play.method == "animate" and play.args[1]["frame"]["duration"] > 0
