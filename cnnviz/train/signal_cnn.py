"""A tiny 1D CNN that tells five kinds of signal apart ("classificação de sinais 1D", seed 000).

The labelled dataset (random sines, squares, sawtooths, noisy sines and chirps, each
resampled and standardized by ``prepare``), the network (``signal_cnn``: Conv1d, ReLU,
pooling, like an image CNN along a line), its training through the one training loop
(``cnnviz.train.fit.fit``), its learned kernels and its answer for any signal.

numpy only at import time: torch is imported inside the model/training functions, so the
dataset can be made without it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from cnnviz.maths.layers import probabilities
from cnnviz.maths.signals import KINDS, MIN_LENGTH, SignalError, make

# ---------------------------------------------------------------- a labelled dataset
CLASSES = KINDS
LENGTH = 128          # every example (and every signal we classify) is resampled to this length


def prepare(signal, length: int = LENGTH) -> np.ndarray:
    """Resample to ``length`` samples and standardize (mean 0, std 1).

    The network then sees the *shape* of a signal, whatever its units or
    length: a heartbeat in millivolts and one in volts look the same.
    """
    x = np.asarray(signal, dtype=np.float64).ravel()
    if x.size < MIN_LENGTH or not np.isfinite(x).all():
        raise SignalError("signals.error.bad_signal", n=x.size)
    if x.size != length:
        x = np.interp(np.linspace(0, x.size - 1, length), np.arange(x.size), x)
    std = x.std()
    return ((x - x.mean()) / (std if std > 1e-12 else 1.0)).astype(np.float32)


FREQ_RANGE = (1.5, 8.0)     # cycles per signal in the dataset
AMPLITUDE_RANGE = (0.5, 2.0)
NOISE_MAX = 0.12            # every kind gets a little noise, so "noisy" means *much* noise


def random_example(kind: str, rng: np.random.Generator, length: int = LENGTH) -> np.ndarray:
    """One signal of ``kind`` with random frequency, phase, amplitude and a little noise."""
    return make(kind, length, freq=rng.uniform(*FREQ_RANGE), noise=rng.uniform(0.0, NOISE_MAX),
                seed=int(rng.integers(2 ** 31)), phase=rng.uniform(0, 2 * np.pi),
                amplitude=rng.uniform(*AMPLITUDE_RANGE))


def make_dataset(n_per_class: int = 200, *, length: int = LENGTH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): ``n_per_class`` prepared examples of each kind in ``CLASSES``, shuffled.

    X is float32 (N, length), y int64 (N,) with y[i] the index of the kind in ``CLASSES``.
    """
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(CLASSES)), n_per_class)
    rng.shuffle(y)
    x = np.stack([prepare(random_example(CLASSES[k], rng, length), length) for k in y])
    return x, y.astype(np.int64)


# ---------------------------------------------------------------- a tiny 1D CNN
CHANNELS = (8, 16)    # conv1 has 8 kernels, conv2 and conv3 16: tiny, and enough for 5 kinds
KERNEL = 7            # conv1's kernels have 7 weights: long enough to look like our presets


def signal_cnn(num_classes: int = len(CLASSES), channels: tuple[int, int] = CHANNELS, kernel: int = KERNEL):
    """conv1 -> relu1 -> pool1 -> conv2 -> relu2 -> pool2 -> conv3 -> relu3 -> pool3 -> fc.

    The same building blocks as an image CNN, with Conv1d: conv1's 8 kernels of
    7 weights slide along the signal like our presets do; pooling halves the
    length; pool3 keeps a coarse "where" (4 segments) so the network can tell
    a chirp (slow then fast) from a plain sine.
    """
    from collections import OrderedDict

    from torch import nn

    c1, c2 = channels
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv1d(1, c1, kernel, padding=kernel // 2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
        ("conv2", nn.Conv1d(c1, c2, 5, padding=2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool1d(2)),
        ("conv3", nn.Conv1d(c2, c2, 3, padding=1)), ("relu3", nn.ReLU()), ("pool3", nn.AdaptiveAvgPool1d(4)),
        ("flatten", nn.Flatten()), ("fc", nn.Linear(c2 * 4, num_classes)),
    ]))


@dataclass
class SignalTraining:
    """What ``train_signal_cnn`` gives back."""

    model: object                  # the trained nn.Module, in eval mode
    history: list[dict]            # one dict per epoch: loss, train_acc, val_loss, val_acc, seconds
    test_acc: float                # accuracy on a test set never used for training or early stopping
    seconds: float
    stop_reason: str               # "completed", "early_stopping" or "user"
    n_test: int = 0                # how many test signals ``test_acc`` was measured on
    classes: tuple[str, ...] = field(default=CLASSES)


def _loader(x, y, batch_size, shuffle=False, seed=0):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(torch.from_numpy(x)[:, None, :], torch.from_numpy(y))
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None)


def train_signal_cnn(epochs: int = 8, seed: int = 0, callback=None, stop=None, *,
                     callbacks=(), n_per_class: int = 240, lr: float = 5e-3) -> SignalTraining:
    """Train ``signal_cnn`` on a fresh synthetic dataset (CPU, a few seconds), through
    ``cnnviz.train.fit.fit``.

    ``callbacks`` (``cnnviz.train.fit.Callback``) watch every batch and epoch. Shorthands:
    ``callback(state)`` is called after every epoch with the ``FitState``
    (``state.history[-1]`` has that epoch's loss and accuracies); ``stop()`` is
    asked after every batch and ends training early when it returns True.
    Training, validation (early stopping) and test sets come from different seeds.
    """
    import torch

    from cnnviz.train.fit import FitConfig, Progress, evaluate, fit

    x_train, y_train = make_dataset(n_per_class, seed=seed * 3 + 1)
    x_val, y_val = make_dataset(max(n_per_class // 6, 10), seed=seed * 3 + 2)
    x_test, y_test = make_dataset(max(n_per_class // 3, 10), seed=seed * 3 + 3)
    with _one_thread():
        torch.manual_seed(seed)
        model = signal_cnn()
        config = FitConfig(epochs=epochs, lr=lr, patience=None, seed=seed)
        state = fit(model, _loader(x_train, y_train, 64, shuffle=True, seed=seed), _loader(x_val, y_val, 512),
                    config, [Progress(on_epoch=callback, stop=stop), *callbacks])
        _, test_acc = evaluate(model, _loader(x_test, y_test, 512))
    return SignalTraining(model, state.history, test_acc, state.seconds, state.stop_reason, len(y_test))


@contextmanager
def _one_thread():
    """Train on one CPU thread: batches this small gain nothing from more threads, and on a
    busy server (a class of 30, other jobs) threads fighting over cores made it 10x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def first_layer_kernels(model) -> np.ndarray:
    """conv1's learned kernels as numpy, (out_channels, kernel_size): 1D kernels like our presets."""
    weight = model.conv1.weight.detach().cpu().numpy()   # (out, in=1, k)
    return weight[:, 0, :].astype(np.float64)


def predict(model, signal) -> np.ndarray:
    """Probabilities of each kind in ``CLASSES`` for one signal (any length, any units)."""
    import torch

    x = torch.from_numpy(prepare(signal))[None, None, :]
    with torch.no_grad():
        return probabilities(model(x), axis=1)[0].numpy().astype(np.float64)
