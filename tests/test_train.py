"""cnnviz.train.fit: fit with callbacks, early stopping that restores the best weights, stop flag."""

import json

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from cnnviz import data
from cnnviz.train.fit import SMALL_TEST, Callback, FitConfig, accuracy_interval, augment, evaluate, fit


def tiny_net():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(2),
                         nn.Flatten(), nn.Linear(16, 2))


def loaders(seed=0):
    train = data.synthetic_dataset(256, seed=seed)
    val = data.synthetic_dataset(128, seed=seed + 100)
    return (DataLoader(train, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed)),
            DataLoader(val, batch_size=64))


class Recorder(Callback):
    def __init__(self):
        self.batches, self.epochs, self.began, self.ended = 0, [], False, False

    def on_train_begin(self, state):
        self.began = True

    def on_batch_end(self, state):
        self.batches += 1
        assert 1 <= state.batch <= state.batches

    def on_epoch_end(self, state):
        self.epochs.append(state.val_acc)

    def on_train_end(self, state):
        self.ended = True


def test_fit_learns_and_reports_through_callbacks():
    torch.manual_seed(0)
    model, (train, val), rec = tiny_net(), loaders(), Recorder()
    state = fit(model, train, val, FitConfig(epochs=6, lr=2e-2, patience=None), [rec])
    assert state.best_val_acc >= 0.9
    assert rec.began and rec.ended and rec.batches == 6 * len(train)
    assert len(state.history) == 6 and rec.epochs == [h["val_acc"] for h in state.history]
    assert state.stop_reason == "completed" and not model.training


def test_early_stopping_after_patience():
    # lr=0: nothing improves after the first epoch, so training stops at 1 + patience
    model, (train, val) = tiny_net(), loaders()
    state = fit(model, train, val, FitConfig(epochs=20, lr=0.0, patience=3, cosine=False))
    assert state.stop_reason == "early_stopping"
    assert len(state.history) == 4 and state.best_epoch == 1


class Sabotage(Callback):
    """Scramble the weights during epoch 3, so epoch 3 is much worse than the best."""

    def on_batch_end(self, state):
        if state.epoch == 3:
            with torch.no_grad():
                for p in self.model.parameters():
                    p.copy_(torch.randn_like(p) * 5)


@pytest.mark.parametrize("restore", [True, False])
def test_restore_best_weights(restore):
    torch.manual_seed(0)
    model, (train, val) = tiny_net(), loaders()
    sab = Sabotage()
    sab.model = model
    state = fit(model, train, val, FitConfig(epochs=3, lr=2e-2, patience=None, restore_best=restore), [sab])
    accs = [h["val_acc"] for h in state.history]
    assert state.best_epoch < 3 and accs[2] < state.best_val_acc
    _, acc = evaluate(model, val)
    assert acc == (state.best_val_acc if restore else accs[2])


def test_stop_flag_from_a_callback():
    class StopButton(Callback):
        def on_batch_end(self, state):
            if state.batch == 2:
                state.stop = True

    model, (train, val) = tiny_net(), loaders()
    state = fit(model, train, val, FitConfig(epochs=5, lr=1e-2), [StopButton()])
    assert state.stop_reason == "user" and len(state.history) == 1
    assert state.best_epoch == 1 and not model.training


def test_fit_is_deterministic():
    weights = []
    for _ in range(2):
        torch.manual_seed(0)
        model, (train, val) = tiny_net(), loaders()
        fit(model, train, val, FitConfig(epochs=2, lr=1e-2, shift=1, flip=True, seed=3))
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])


def _moves(original: torch.Tensor, moved: torch.Tensor, shift: int) -> list[tuple[bool, int, int]]:
    """Every (mirrored, dy, dx) that turns ``original`` into ``moved``: mirror it or not, continue its
    border pixels outwards by ``shift`` and cut out the window at (dy, dx)."""
    h, w = original.shape[-2:]
    found = []
    for mirrored in (False, True):
        src = original.flip(-1) if mirrored else original
        padded = torch.nn.functional.pad(src[None], (shift,) * 4, mode="replicate")[0]
        found += [(mirrored, dy - shift, dx - shift) for dy in range(2 * shift + 1) for dx in range(2 * shift + 1)
                  if torch.equal(padded[:, dy:dy + h, dx:dx + w], moved)]
    return found


def test_augment_moves_and_mirrors_each_image_without_changing_what_it_shows():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(16 * 3 * 8 * 8, dtype=torch.float32).view(16, 3, 8, 8)   # every pixel different
    y = augment(x, shift=2, flip=True, g=g)
    assert y.shape == x.shape
    moves = [_moves(x[i], y[i], 2) for i in range(16)]
    # each picture is its own original, moved by at most 2 pixels (mirrored or not), all channels alike
    assert all(len(m) == 1 for m in moves), moves
    mirrored = [m[0][0] for m in moves]
    offsets = {m[0][1:] for m in moves}
    assert 0 < sum(mirrored) < 16                       # about half are mirrored, left to right
    assert len(offsets) > 4 and offsets != {(0, 0)}      # and they move in various directions
    # digits: shift only, never a mirror image
    assert not any(_moves(x[i], yi, 2)[0][0] for i, yi in enumerate(augment(x, 2, False, g)))
    assert torch.equal(augment(x, 0, False, g), x)


# ------------------------------------------------------------------ how far a test accuracy can be trusted
@pytest.mark.parametrize("correct, total", [(1, 2), (0, 2), (2, 2), (3, 4), (0, 10), (10, 10), (81, 263),
                                            (1700, 2000)])
def test_accuracy_interval_is_wilsons(correct, total):
    stats = pytest.importorskip("scipy.stats")
    ref = stats.binomtest(correct, total).proportion_ci(0.95, method="wilson")
    low, high = accuracy_interval(correct, total)
    assert low == pytest.approx(ref.low, abs=1e-9) and high == pytest.approx(ref.high, abs=1e-9)


def test_an_accuracy_on_two_pictures_could_be_almost_anything():
    # "50 %" = 1 of 2 right: a network right 10 % or 90 % of the time often scores that too
    low, high = accuracy_interval(1, 2)
    assert low == pytest.approx(0.0945, abs=1e-4) and high == pytest.approx(0.9055, abs=1e-4)
    assert accuracy_interval(2, 2) == (pytest.approx(0.3424, abs=1e-4), 1.0)    # 100 %: not a proof
    assert accuracy_interval(0, 2) == (0.0, pytest.approx(0.6576, abs=1e-4))
    # the same 50 % rests on more and more images: the interval narrows around it
    widths = [h - lo for lo, h in (accuracy_interval(n // 2, n) for n in (2, SMALL_TEST, 2000))]
    assert widths[0] > 0.8 and 0.3 < widths[1] < 0.4 and widths[2] < 0.05
    assert accuracy_interval(7, 7, confidence=0.99)[0] < accuracy_interval(7, 7)[0]
    with pytest.raises(ValueError):
        accuracy_interval(3, 2)
    assert accuracy_interval(0, 0) == (0.0, 1.0)        # no test image: nothing is known


@pytest.fixture(scope="module")
def two_cli_runs(tmp_path_factory):
    """The same command run twice, each in a fresh process, as a learner would run it: their output
    folders. (Inside one long-lived process, earlier allocations can change memory alignment and with
    it the last bits of CPU float sums, so the reproducibility check needs fresh processes.) The two
    run at the same time: each spends most of its time starting (imports, data) on one core."""
    import subprocess
    import sys

    from cnnviz.train.bundled import REPO

    if not data.is_available("mnist"):
        pytest.skip("MNIST not in the data root (../shared/data)")
    outs = [tmp_path_factory.mktemp(f"cli-{run}") for run in ("a", "b")]
    runs = [subprocess.Popen([sys.executable, "-m", "cnnviz.train", "digits", "--epochs", "1", "--limit", "1200",
                              "--test-limit", "1000", "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for out in outs]
    for run in runs:
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, output.decode(errors="replace")[-2000:]
    return outs


@pytest.mark.slow
def test_cli_writes_weights_and_card(two_cli_runs):
    from cnnviz.models.bundled import load_bundled

    out = two_cli_runs[0]
    card = json.loads((out / "digits.json").read_text())
    for key in ("architecture", "classes", "input_size", "normalization", "data", "command",
                "metrics", "time", "params", "file"):
        assert key in card
    assert card["command"] == "python -m cnnviz.train digits --epochs 1 --limit 1200 --test-limit 1000 --out " + str(out)
    assert card["data"]["test_images"] == 1000            # the card says how many test pictures it measured on
    assert card["training"]["seed"] == 0 and card["time"]["seconds_per_epoch"] > 0
    assert 0.0 < card["metrics"]["test_accuracy"] <= 1.0
    m = load_bundled("digits", weights_dir=out)
    assert not m.model.training


@pytest.mark.slow
def test_cli_is_reproducible(two_cli_runs):
    """The same command in a fresh process gives the same weights, byte for byte."""
    shas = [json.loads((out / "digits.json").read_text())["file"]["sha256"] for out in two_cli_runs]
    assert shas[0] == shas[1]
    assert (two_cli_runs[0] / "digits.safetensors").read_bytes() == (two_cli_runs[1] / "digits.safetensors").read_bytes()


# ------------------------------------------------------------------ one loop for every network: its progress reports
def test_progress_reports_every_batch_and_epoch_and_its_fraction_reaches_one():
    from cnnviz.train.fit import Progress

    batches, epochs = [], []
    model, (train, val) = tiny_net(), loaders()
    fit(model, train, val, FitConfig(epochs=3, lr=1e-2, patience=None),
        [Progress(on_batch=lambda s: batches.append((s.epoch, s.batch, s.fraction, s.loss)),
                  on_epoch=lambda s: epochs.append(dict(s.history[-1])))])
    assert len(batches) == 3 * len(train) and [e["epoch"] for e in epochs] == [1, 2, 3]
    fractions = [f for _, _, f, _ in batches]
    assert fractions == sorted(fractions) and fractions[0] == 1 / (3 * len(train)) and fractions[-1] == 1.0
    assert all(e["loss"] > 0 and 0 <= e["train_acc"] <= 1 and 0 <= e["val_acc"] <= 1 for e in epochs)


def test_a_progress_stop_ends_the_run_after_that_batch():
    from cnnviz.train.fit import Progress

    seen = []
    model, (train, val) = tiny_net(), loaders()
    state = fit(model, train, val, FitConfig(epochs=4, lr=1e-2),
                [Progress(on_batch=lambda s: seen.append(s.batch), stop=lambda: len(seen) >= 3)])
    assert seen == [1, 2, 3] and state.stop_reason == "user" and len(state.history) == 1


def test_a_callback_that_raises_stops_the_run_in_the_middle_of_an_epoch():
    # the lessons' Stop button and the server's line cancel a run by raising from the progress report
    from cnnviz.serve import jobs

    class Cancel(Callback):
        def __init__(self):
            self.batches = 0

        def on_batch_end(self, state):
            self.batches += 1
            if state.epoch == 2 and state.batch == 3:
                raise jobs.Cancelled()

    model, (train, val), cancel = tiny_net(), loaders(), Cancel()
    with pytest.raises(jobs.Cancelled):
        fit(model, train, val, FitConfig(epochs=5, lr=1e-2), [cancel])
    assert cancel.batches == len(train) + 3


class Halves:
    """An objective of its own: regression of the mean pixel, reported as its mean absolute error."""

    def batch_loss(self, model, batch):
        (x,) = batch
        out = model(x)[:, 0]
        target = x.mean((1, 2, 3))
        return ((out - target) ** 2).mean(), len(x), {"mae": float((out - target).detach().abs().sum())}


def test_without_a_validation_set_every_epoch_runs_with_the_objectives_numbers():
    from cnnviz.train.fit import Batches

    torch.manual_seed(0)
    x = torch.rand(40, 1, 6, 6)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 1))
    state = fit(model, Batches(x, batch_size=16, seed=1), None,
                FitConfig(epochs=4, lr=1e-2, patience=1, optimizer="adam", cosine=False), objective=Halves())
    assert state.stop_reason == "completed" and [h["epoch"] for h in state.history] == [1, 2, 3, 4]
    assert state.best_epoch == 0 and "val_acc" not in state.history[0]
    assert set(state.history[0]) >= {"loss", "mae"} and state.metrics["mae"] == state.history[-1]["mae"]
    assert state.history[-1]["loss"] < state.history[0]["loss"]


def test_batches_give_every_row_once_per_epoch_in_a_new_seeded_order():
    from cnnviz.train.fit import Batches, steps_per_epoch

    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    batches = Batches(x, y, batch_size=4, seed=3)
    assert len(batches) == steps_per_epoch(10, 4) == 3
    first, second = ([b[1] for b in batches] for _ in range(2))
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(torch.cat(first).tolist()) == sorted(torch.cat(second).tolist()) == list(range(10))
    assert torch.cat(first).tolist() != torch.cat(second).tolist()
    assert all(torch.equal(bx[:, 0].long(), by) for bx, by in Batches(x, y, batch_size=4, seed=3))
    again = [b[1] for b in Batches(x, y, batch_size=4, seed=3)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
