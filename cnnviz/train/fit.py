"""The one training loop: ``fit`` a network, report its progress through callbacks, stop early.

Every network trained here goes through ``fit``: the Train lesson's experiments
(``cnnviz.train.experiment.run_experiment``), the bundled models' command (``python -m cnnviz.train``),
the tiny 1D CNN of the signals lesson (``cnnviz.train.signal_cnn``) and the digits VAE
(``cnnviz.train.autoencoder.train``). What differs between them is said, not re-written:

- what a batch's loss is: an *objective* (``Classification`` by default: cross-entropy on
  (images, labels) batches, accuracy as its metric; the VAE brings its own);
- how it learns: ``FitConfig`` (optimizer, learning rate and its schedule, augmentation, seed,
  early stopping);
- who watches: ``Callback`` objects (``Progress`` wraps plain functions). They all see the live
  ``FitState`` (epoch, batch, running loss and metrics, the history) after every batch and every
  epoch, and stop the run by setting ``state.stop``, or by raising: the lessons' Stop button and
  the server's line cancel a run that way, in the middle of an epoch.

Early stopping works as the course describes it: watch the accuracy on a validation set held out
of the training data, stop after ``patience`` epochs without improvement, and give back the best
weights seen, not the last ones.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- configuration and state

@dataclass
class FitConfig:
    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    patience: int | None = 5      # epochs without a better val accuracy before stopping; None = never
    restore_best: bool = True     # give back the weights of the best validation epoch
    shift: int = 0                # augmentation: random translation up to this many pixels
    flip: bool = False            # augmentation: random horizontal flip
    cosine: bool = True           # learning rate follows a cosine from lr to 0 over `epochs`
    seed: int | None = 0          # None: torch's random numbers were seeded by the caller (kept as they are)
    device: str = "cpu"
    optimizer: str = "adamw"      # "adamw", "adam" or "sgd" (plain gradient descent: w -= lr * dL/dw)


@dataclass
class FitState:
    """What callbacks see. Set ``state.stop = True`` in a callback to stop after this batch."""

    epoch: int = 0                 # 1-based while training
    epochs: int = 0
    batch: int = 0                 # 1-based within the epoch
    batches: int = 0
    loss: float = float("nan")     # running mean training loss this epoch
    train_acc: float = float("nan")
    metrics: dict[str, float] = field(default_factory=dict)   # the objective's running means this epoch
    val_loss: float = float("nan")
    val_acc: float = float("nan")
    best_val_acc: float = -1.0
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    history: list[dict] = field(default_factory=list)   # one dict per finished epoch
    stop: bool = False
    stop_reason: str = ""          # "", "early_stopping", "user" (a callback set stop), "completed"
    seconds: float = 0.0

    @property
    def fraction(self) -> float:
        """How much of the run is done, 0..1 (``epochs`` full epochs = 1), for a progress bar."""
        if not self.epochs:
            return 0.0
        within = self.batch / self.batches if self.batches else 0.0
        return min(max((self.epoch - 1 + within) / self.epochs, 0.0), 1.0)


class Callback:
    """Override what you need. All hooks receive the live ``FitState``."""

    def on_train_begin(self, state: FitState) -> None: ...
    def on_batch_end(self, state: FitState) -> None: ...
    def on_epoch_end(self, state: FitState) -> None: ...
    def on_train_end(self, state: FitState) -> None: ...


class Progress(Callback):
    """A callback made of plain functions: ``on_batch(state)`` after every batch, ``on_epoch(state)``
    after every epoch (``state.history[-1]`` holds its numbers), and ``stop()``, asked after every
    batch, which ends the run when it returns True."""

    def __init__(self, on_batch: Callable[[FitState], None] | None = None,
                 on_epoch: Callable[[FitState], None] | None = None,
                 stop: Callable[[], bool] | None = None):
        self._batch, self._epoch, self._stop = on_batch, on_epoch, stop

    def on_batch_end(self, state):
        if self._batch is not None:
            self._batch(state)
        if self._stop is not None and self._stop():
            state.stop = True

    def on_epoch_end(self, state):
        if self._epoch is not None:
            self._epoch(state)


def steps_per_epoch(images: int, batch_size: int) -> int:
    """How many weight updates one epoch makes: one per batch, the last one possibly smaller."""
    return -(-images // batch_size)


# ---------------------------------------------------------------- pieces of the loop

def augment(x: torch.Tensor, shift: int, flip: bool, g: torch.Generator) -> torch.Tensor:
    """Random translation (pad by ``shift``, crop back) and horizontal flip, per image.

    Small changes that don't change the label teach the network that a digit
    moved by two pixels is the same digit. Replicate padding continues the
    background instead of drawing a border.
    """
    n, _, h, w = x.shape
    if flip:
        mask = torch.rand(n, generator=g) < 0.5
        x = torch.where(mask.view(n, 1, 1, 1).to(x.device), x.flip(3), x)
    if shift:
        padded = F.pad(x, (shift,) * 4, mode="replicate")
        dy, dx = torch.randint(0, 2 * shift + 1, (2, n), generator=g).tolist()
        x = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    return x


def train_mode(model: nn.Module) -> None:
    """``model.train()``, except that frozen batch-norm layers stay in eval mode.

    A layer whose weights are frozen (transfer learning) must also keep the
    running mean and variance it learned on the source data; in training mode
    batch norm would overwrite them with the statistics of the new batches.
    """
    model.train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            params = list(m.parameters(recurse=False))
            if params and not any(p.requires_grad for p in params):
                m.eval()


@torch.no_grad()
def evaluate(model: nn.Module, loader, device: str = "cpu") -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of ``model`` on ``loader``, in eval mode."""
    was_training = model.training
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        logits = model(x)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
        total += len(y)
    model.train(was_training)
    return loss_sum / max(total, 1), correct / max(total, 1)


class Classification:
    """The objective of every classifier here: (images, labels) batches, cross-entropy, accuracy.

    An objective gives ``batch_loss(model, batch) -> (loss, n, sums)``: the loss to minimize, how many
    examples the batch holds, and sums over them of the numbers to report (``fit`` divides by the
    examples seen into running means); and ``evaluate(model, loader, device) -> (loss, accuracy)``
    for the validation set, if there is one.
    """

    def __init__(self, label_smoothing: float = 0.0):
        self.label_smoothing = label_smoothing

    def batch_loss(self, model: nn.Module, batch) -> tuple[torch.Tensor, int, dict[str, float]]:
        x, y = batch
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        return loss, len(y), {"train_acc": (logits.argmax(1) == y).sum().item()}

    evaluate = staticmethod(evaluate)


class Batches:
    """Rows of tensors in batches, in a new seeded random order every epoch (``torch.randperm``
    with its own generator): a DataLoader with ``shuffle=True`` that draws nothing else from its
    generator, for data that is one tensor in memory (the VAE's images)."""

    def __init__(self, *tensors: torch.Tensor, batch_size: int, seed: int = 0):
        self.tensors, self.batch_size = tensors, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return steps_per_epoch(len(self.tensors[0]), self.batch_size)

    def __iter__(self):
        for idx in torch.randperm(len(self.tensors[0]), generator=self.generator).split(self.batch_size):
            yield tuple(t[idx] for t in self.tensors)


# Fewer test images than this and the lesson warns that the accuracy is a rough figure.
SMALL_TEST = 30


def accuracy_interval(correct: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (95 % by default) of an accuracy of ``correct`` out of ``total``.

    On a handful of test images the measured accuracy is a coarse estimate: 1 of 2 right
    reads "50 %", but a network that is right 10 % or 90 % of the time gives that result
    often too. The Wilson interval stays inside [0, 1] and is honest at 0 or ``total``
    correct, where the textbook p ± z·sqrt(p(1-p)/n) shrinks to a single point.
    """
    if not 0 <= correct <= total:
        raise ValueError(f"correct must be between 0 and total, not {correct} of {total}")
    if total == 0:
        return 0.0, 1.0
    z = statistics.NormalDist().inv_cdf((1 + confidence) / 2)       # 1.96 for 95 %
    p, n, z2 = correct / total, total, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # 0 and n correct give exactly 0 and 1 (floating point could leave a tiny remainder)
    low = 0.0 if correct == 0 else max(0.0, centre - half)
    high = 1.0 if correct == total else min(1.0, centre + half)
    return low, high


# ---------------------------------------------------------------- the loop

def _optimizer(config: FitConfig, params: list) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"optimizer must be 'adamw', 'adam' or 'sgd', not {config.optimizer!r}")


def fit(model: nn.Module, train_loader, val_loader, config: FitConfig,
        callbacks: list[Callback] | tuple = (), objective=None) -> FitState:
    """Train ``model`` in place; return the final ``FitState`` (with ``history``).

    ``train_loader`` is any re-iterable of batches with a length (a DataLoader, ``Batches``);
    ``objective`` says what a batch's loss is (default: ``Classification``). Only weights with
    ``requires_grad`` are trained (frozen layers stay as they are).

    After every epoch the validation accuracy decides: a new best is remembered
    (a copy of the weights), otherwise the patience counter grows; at
    ``config.patience`` epochs without improvement training stops. If a callback
    sets ``state.stop`` training stops after the current batch. Either way, with
    ``restore_best`` the model ends with the best validation weights, in eval mode.
    Without a validation set (``val_loader=None``) every epoch runs and the last weights stay.
    """
    objective = objective or Classification(config.label_smoothing)
    if config.seed is not None:
        torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed((config.seed or 0) + 1)   # augmentation randomness
    model.to(config.device)
    train_mode(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("every weight of the model is frozen: nothing to train")
    opt = _optimizer(config, trainable)
    steps = config.epochs * len(train_loader)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=max(steps, 1), pct_start=0.15,
        anneal_strategy="cos") if config.cosine else None
    state = FitState(epochs=config.epochs, batches=len(train_loader))
    best_weights = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    for cb in callbacks:
        cb.on_train_begin(state)

    for epoch in range(1, config.epochs + 1):
        state.epoch, epoch_start = epoch, time.perf_counter()
        loss_sum, sums, seen = 0.0, {}, 0
        train_mode(model)
        for batch, tensors in enumerate(train_loader, 1):
            tensors = [t.to(config.device) for t in tensors]
            if config.shift or config.flip:
                tensors[0] = augment(tensors[0], config.shift, config.flip, g)
            loss, n, batch_sums = objective.batch_loss(model, tensors)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss.item() * n
            seen += n
            for key, value in batch_sums.items():
                sums[key] = sums.get(key, 0.0) + value
            state.batch, state.loss = batch, loss_sum / seen
            state.metrics = {key: value / seen for key, value in sums.items()}
            state.train_acc = state.metrics.get("train_acc", float("nan"))
            for cb in callbacks:
                cb.on_batch_end(state)
            if state.stop:
                break

        validated = {}
        if val_loader is not None:
            state.val_loss, state.val_acc = objective.evaluate(model, val_loader, config.device)
            validated = {"val_loss": state.val_loss, "val_acc": state.val_acc}
            if state.val_acc > state.best_val_acc:
                state.best_val_acc, state.best_epoch = state.val_acc, epoch
                state.epochs_without_improvement = 0
                best_weights = copy.deepcopy(model.state_dict())
            else:
                state.epochs_without_improvement += 1
        state.history.append({"epoch": epoch, "loss": state.loss, **state.metrics, **validated,
                              "seconds": time.perf_counter() - epoch_start,
                              "lr": opt.param_groups[0]["lr"]})
        if state.stop:
            state.stop_reason = "user"
        elif (config.patience is not None and val_loader is not None
              and state.epochs_without_improvement >= config.patience):
            state.stop, state.stop_reason = True, "early_stopping"
        for cb in callbacks:
            cb.on_epoch_end(state)
        if state.stop:
            state.stop_reason = state.stop_reason or "user"
            break

    state.stop_reason = state.stop_reason or "completed"
    if config.restore_best and state.best_epoch:
        model.load_state_dict(best_weights)
    model.eval()
    state.seconds = time.perf_counter() - start
    for cb in callbacks:
        cb.on_train_end(state)
    return state
