"""Synthetic signals and 1D kernels (cnnviz.maths.signals), CSV columns (cnnviz.data.signal_csv), the labelled dataset
and the tiny 1D CNN (cnnviz.train.signal_cnn)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.train import signal_cnn
from cnnviz.data import signal_csv
from cnnviz.maths import signals
from cnnviz.maths.signals import SignalError

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- synthetic signals
@pytest.mark.parametrize("kind", signals.KINDS)
def test_every_kind_has_the_asked_length_and_is_reproducible(kind):
    a = signals.make(kind, 100, freq=4, noise=0.2, seed=3)
    assert a.shape == (100,) and np.isfinite(a).all()
    assert np.array_equal(a, signals.make(kind, 100, freq=4, noise=0.2, seed=3))


def test_shapes_of_the_classic_waves():
    square = signals.make("square", 40, freq=2)
    assert set(np.unique(square)) == {-1.0, 1.0}
    assert np.array_equal(square[:10], np.ones(10)) and np.array_equal(square[10:20], -np.ones(10))
    saw = signals.make("sawtooth", 40, freq=2)
    assert saw.min() == -1 and saw.max() < 1
    assert (np.diff(saw) < 0).sum() == 1          # one drop between the two ramps
    sine = signals.make("sine", 8, freq=1)
    assert np.allclose(sine, np.sin(2 * np.pi * np.arange(8) / 8))


def test_noise_and_chirp():
    clean, noisy = signals.make("sine", 500), signals.make("noisy", 500)
    assert np.std(noisy - clean) == pytest.approx(signals.NOISY_EXTRA, rel=0.15)
    chirp = signals.make("chirp", 1000, freq=10)
    crossings = np.flatnonzero(np.diff(np.sign(chirp)) != 0)
    first, last = crossings[crossings < 250].size, crossings[crossings >= 750].size
    assert last > 2 * first   # the frequency rises


def test_bad_kind_and_length():
    with pytest.raises(SignalError, match="no signal kind"):
        signals.make("triangle")
    with pytest.raises(SignalError):
        signals.make("sine", 1)


# ---------------------------------------------------------------- the kernel presets vs torch
@pytest.mark.parametrize("name", list(signals.PRESETS))
@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 0, 2)])
def test_presets_match_torch_conv1d(name, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = signals.make("noisy", 57, freq=3, seed=1)
    kernel = signals.PRESETS[name]
    ours = signals.convolve(x, kernel, stride=stride, padding=padding, dilation=dilation, bias=0.25)
    ref = F.conv1d(torch.tensor(x)[None, None], torch.tensor(kernel)[None, None], torch.tensor([0.25], dtype=torch.float64),
                   stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()
    np.testing.assert_allclose(ours.output, ref, atol=1e-10)
    i = len(ref) // 2
    assert ours.step(i).total == pytest.approx(ref[i])


def test_what_the_presets_do():
    ramp = np.arange(10.0)
    assert np.allclose(signals.convolve(ramp, signals.PRESETS["difference"]).output, 2)   # slope 1, two apart
    assert np.allclose(signals.convolve(ramp, signals.PRESETS["second_derivative"]).output, 0)
    assert np.allclose(signals.convolve(ramp, signals.PRESETS["identity"]).output, ramp[1:-1])
    assert signals.PRESETS["moving_average"].sum() == pytest.approx(1)
    spike = np.zeros(11)
    spike[5] = 1
    out = signals.convolve(spike, signals.PRESETS["peak"], padding=2).output
    assert int(np.argmax(out)) == 5 and out[5] == 4


def test_a_kernel_longer_than_the_signal_speaks_of_samples():
    with pytest.raises(SignalError) as info:
        signals.convolve(np.ones(4), np.ones(7))
    assert "samples" in str(info.value) and "amostras" in info.value.message("pt_BR")
    assert signals.convolve(np.ones(4), np.ones(7), padding=2).output.shape == (2,)


# ---------------------------------------------------------------- typed kernels
@pytest.mark.parametrize("text,want", [
    ("-1 0 1", [-1, 0, 1]), ("-1, 0, 1", [-1, 0, 1]), ("1,0,-1", [1, 0, -1]), ("[1, 2, 1]", [1, 2, 1]),
    ("0,5; 0,5", [0.5, 0.5]), ("0,25 0,5 0,25", [0.25, 0.5, 0.25]), ("1/3 1/3 1/3", [1 / 3] * 3),
    ("\u22121 2 \u22121", [-1, 2, -1]), ("  7  ", [7]), ("1e-1\n2e-1", [0.1, 0.2]),
])
def test_parse_kernel(text, want):
    np.testing.assert_allclose(signals.parse_kernel(text), want)


@pytest.mark.parametrize("text,key", [
    ("", "kernel_empty"), ("  [ ] ", "kernel_empty"), ("1 x 1", "kernel_not_number"), ("1 0 abc", "kernel_not_number"),
    ("1/0", "kernel_not_number"), ("nan 1", "kernel_not_finite"), ("1e9", "kernel_not_finite"),
    (" ".join(["1"] * 65), "kernel_too_long"),
])
def test_parse_kernel_refuses_with_a_message(text, key):
    with pytest.raises(SignalError) as info:
        signals.parse_kernel(text)
    assert info.value.key == f"signals.error.{key}"
    assert info.value.message("pt_BR") != info.value.key


def test_letters_name_the_weight():
    with pytest.raises(SignalError) as info:
        signals.parse_kernel("1 x 1")
    assert str(info.value).startswith('Weight 2: "x"')
    assert info.value.message("pt_BR").startswith('Peso 2: "x"')


def test_kernel_text_round_trips():
    for k in signals.PRESETS.values():
        np.testing.assert_allclose(signals.parse_kernel(signals.kernel_text(k)), k, rtol=1e-3)


# ---------------------------------------------------------------- CSV uploads
@pytest.mark.parametrize("data,want,name", [
    (b"1\n2\n3.5\n", [1, 2, 3.5], "1"),                                  # no header, one column
    (b"value\n1\n2\n3\n", [1, 2, 3], "value"),                           # header
    (b"time,value\n0,5\n1,6\n2,8\n", [5, 6, 8], "value"),                # the time axis is skipped
    (b"tempo;tens\xc3\xa3o\n0;1,5\n1;-2,25\n2;3\n", [1.5, -2.25, 3], "tensão"),   # Brazilian Excel
    ("tempo;pressão\n0;1,5\n1;2,5\n2;2\n".encode("latin-1"), [1.5, 2.5, 2], "pressão"),
    (b"\xef\xbb\xbfa\tb\n1\t10\n2\t20\n3\t40\n", [10, 20, 40], "b"),    # BOM + tabs; a is an index
    (b"x y\n1 2\n3 5\n", [1, 3], "x"),                                    # spaces
    (b'"id","temp"\n"a","20.5"\n"b","21"\n\n', [20.5, 21], "temp"),     # quotes, a text column, a blank line
    (b"1,2\n3,4\n5,7\n", [2, 4, 7], "2"),                                # no header, an axis first
])
def test_from_csv_reads_a_column(data, want, name):
    x, got = signal_csv.from_csv(data)
    np.testing.assert_allclose(x, want)
    assert got == name


def test_from_csv_picks_a_column_by_name_or_index():
    data = b"t,a,b\n0,1,2\n1,3,5\n2,4,9\n"
    assert signal_csv.from_csv(data, "b")[0].tolist() == [2, 5, 9]
    assert signal_csv.from_csv(data, 0)[1] == "t"
    assert list(signal_csv.read_csv(data).columns) == ["t", "a", "b"]
    with pytest.raises(SignalError, match="a, b"):
        signal_csv.from_csv(data, "c")
    with pytest.raises(SignalError):
        signal_csv.from_csv(data, 5)


def test_from_csv_reads_a_file_like_and_text():
    import io

    assert signal_csv.from_csv(io.BytesIO(b"v\n1\n2\n"))[0].tolist() == [1, 2]
    assert signal_csv.from_csv("v\n1\n2\n")[0].tolist() == [1, 2]


@pytest.mark.parametrize("data,key", [
    (b"", "csv_empty"), (b"\n \n", "csv_empty"), (b"value\n", "csv_empty"),
    (b"name,city\nAna,Recife\nBia,Natal\n", "csv_not_numeric"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "csv_binary"),
    (b"v\n1\nnan\n3\n", "csv_not_finite"), (b"v\n1\ninf\n", "csv_not_finite"),
    (b"a,b\n1,\n2,x\n,3\n", "csv_missing"),
    (b"v\n1\n", "csv_too_short"),
])
def test_bad_csv_is_refused_with_a_message(data, key):
    with pytest.raises(SignalError) as info:
        signal_csv.from_csv(data)
    assert info.value.key == f"signals.error.{key}"
    assert info.value.message("pt_BR") != str(info.value)


def test_the_message_points_at_the_bad_cell():
    with pytest.raises(SignalError) as info:
        signal_csv.from_csv(b"value\n1\n2\nabc\n")
    assert 'row 4, column "value" holds "abc"' in str(info.value)
    with pytest.raises(SignalError) as info:
        signal_csv.from_csv(b"value\n1\nnan\n")
    assert info.value.message("pt_BR").startswith('Linha 3, coluna "value"')


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr(signal_csv, "MAX_ROWS", 100)
    with pytest.raises(SignalError) as info:
        signal_csv.from_csv(b"\n".join([b"1"] * 102))
    assert info.value.key == "signals.error.csv_too_long"
    assert signal_csv.from_csv(b"\n".join([b"1"] * 100))[0].shape == (100,)


def test_a_million_rows_are_refused_before_any_cell_is_read(monkeypatch):
    # counting the lines is enough: no separator guessed, no cell parsed (timing: benchmarks/bench_limits.py)
    def parsing(*_args, **_kw):
        raise AssertionError("the CSV was parsed before being refused")

    monkeypatch.setattr(signal_csv, "_separator", parsing)
    data = b"1\n" * (signal_csv.MAX_ROWS + 2)
    with pytest.raises(SignalError) as info:
        signal_csv.from_csv(data)
    assert info.value.key == "signals.error.csv_too_long"
    assert "1,000,002" in str(info.value) and "1.000.002" in info.value.message("pt_BR")


# ---------------------------------------------------------------- dataset
def test_dataset_shapes_labels_and_balance():
    x, y = signal_cnn.make_dataset(20, seed=0)
    assert x.shape == (100, signal_cnn.LENGTH) and x.dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [20] * len(signal_cnn.CLASSES)
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-5)      # standardized
    np.testing.assert_allclose(x.std(axis=1), 1, atol=1e-4)
    x2, y2 = signal_cnn.make_dataset(20, seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, signal_cnn.make_dataset(20, seed=1)[0])


def test_dataset_labels_match_the_signals():
    x, y = signal_cnn.make_dataset(30, seed=2)
    far = {k: (np.abs(x[y == i]) > 0.5).mean() for i, k in enumerate(signal_cnn.CLASSES)}
    assert far["square"] > 0.9 > far["sine"]          # a square wave sits at two levels
    rough = {k: np.abs(np.diff(x[y == i], axis=1)).mean() for i, k in enumerate(signal_cnn.CLASSES)}
    assert rough["noisy"] > 2 * rough["sine"]          # the noisy kind wiggles from sample to sample


def test_prepare_resamples_and_standardizes():
    p = signal_cnn.prepare(np.arange(10.0) * 3 + 7, length=32)
    assert p.shape == (32,) and abs(p.mean()) < 1e-6 and p.std() == pytest.approx(1, abs=1e-5)
    assert signal_cnn.prepare(np.ones(5)).tolist() == [0.0] * signal_cnn.LENGTH   # flat: no division by 0
    with pytest.raises(SignalError):
        signal_cnn.prepare([1.0])


# ---------------------------------------------------------------- the tiny 1D CNN
def test_model_has_named_layers_and_few_channels():
    pytest.importorskip("torch")
    import torch

    model = signal_cnn.signal_cnn()
    names = [n for n, _ in model.named_children()]
    assert names[:3] == ["conv1", "relu1", "pool1"] and names[-1] == "fc"
    convs = [m for n, m in model.named_children() if n.startswith("conv")]
    assert max(c.out_channels for c in convs) <= 16
    assert model(torch.zeros(2, 1, signal_cnn.LENGTH)).shape == (2, len(signal_cnn.CLASSES))


@pytest.fixture(scope="module")
def trained():
    pytest.importorskip("torch")
    seen = []
    result = signal_cnn.train_signal_cnn(epochs=8, seed=0, callback=lambda s: seen.append(s.epoch))
    return result, seen


def test_training_is_accurate_and_reports_every_epoch(trained):
    # how long it takes, against a bare PyTorch loop: benchmarks/bench_limits.py
    result, seen = trained
    assert result.test_acc >= 0.90
    assert seen == list(range(1, 9))
    assert len(result.history) == 8 and {"loss", "train_acc", "val_acc"} <= set(result.history[0])
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.n_test > 0 and result.stop_reason == "completed"
    assert not result.model.training


def test_training_is_reproducible():
    import torch

    a = signal_cnn.train_signal_cnn(epochs=1, seed=0, n_per_class=40)
    b = signal_cnn.train_signal_cnn(epochs=1, seed=0, n_per_class=40)
    for wa, wb in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(wa, wb)


def test_training_restores_the_thread_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    signal_cnn.train_signal_cnn(epochs=1, seed=0, n_per_class=20)
    assert torch.get_num_threads() == before


def test_stop_ends_training_early():
    pytest.importorskip("torch")
    calls = []

    def stop():
        calls.append(1)
        return len(calls) >= 3

    result = signal_cnn.train_signal_cnn(epochs=5, seed=0, stop=stop, n_per_class=60)
    assert result.stop_reason == "user" and len(result.history) == 1


def test_training_reports_every_batch_through_the_one_progress_callback():
    pytest.importorskip("torch")
    from cnnviz.train.fit import Progress

    batches = []
    result = signal_cnn.train_signal_cnn(epochs=2, seed=0, n_per_class=40,
                                         callbacks=[Progress(on_batch=lambda s: batches.append(s.fraction))])
    assert len(batches) == 2 * -(-5 * 40 // 64) and batches[-1] == 1.0 and batches == sorted(batches)
    assert len(result.history) == 2


def test_first_layer_kernels_and_prediction(trained):
    result = trained[0]
    k = signal_cnn.first_layer_kernels(result.model)
    assert k.shape == (signal_cnn.CHANNELS[0], signal_cnn.KERNEL) and k.dtype == np.float64
    np.testing.assert_array_equal(k, result.model.conv1.weight.detach().numpy()[:, 0])
    for kind in signal_cnn.CLASSES:
        p = signal_cnn.predict(result.model, signals.make(kind, 300, freq=4, seed=5))
        assert p.shape == (len(signal_cnn.CLASSES),) and p.sum() == pytest.approx(1, abs=1e-5)
    # a long, clean square wave in other units is still a square wave
    p = signal_cnn.predict(result.model, 50 + 20 * signals.make("square", 500, freq=5))
    assert signal_cnn.CLASSES[int(np.argmax(p))] == "square"


def test_signals_do_not_import_torch():
    code = ("import sys; from cnnviz import signal_cnn, signal_csv, signals; signals.make('chirp');"
            "signal_csv.from_csv(b'1\\n2\\n'); signals.convolve([1, 2, 3], signals.PRESETS['difference']);"
            "signal_cnn.make_dataset(2); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr[-1000:]
