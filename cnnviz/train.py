"""Training: a small loop with callbacks and early stopping, and the command that
rebuilds the bundled models.

    python -m cnnviz.train digits                 # -> assets/models/digits.safetensors + digits.json
    python -m cnnviz.train fashion --epochs 15 --patience 4 --seed 0 --out assets/models

``fit`` is the reusable part: the CLI drives it with a tqdm progress bar, the app
can drive it with a progress bar and a Stop button through callbacks. Early
stopping works as the course describes it: watch the accuracy on a validation
set held out of the training data, stop after ``patience`` epochs without
improvement, and give back the best weights seen, not the last ones.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset

from . import data as cdata
from .models.archs import ARCHITECTURES
from .models.specs import BUNDLED, Recipe

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- configuration

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
    seed: int = 0
    device: str = "cpu"


@dataclass
class FitState:
    """What callbacks see. Set ``state.stop = True`` in a callback to stop after this batch."""

    epoch: int = 0                 # 1-based while training
    epochs: int = 0
    batch: int = 0                 # 1-based within the epoch
    batches: int = 0
    loss: float = float("nan")     # running mean training loss this epoch
    train_acc: float = float("nan")
    val_loss: float = float("nan")
    val_acc: float = float("nan")
    best_val_acc: float = -1.0
    best_epoch: int = 0
    epochs_without_improvement: int = 0
    history: list[dict] = field(default_factory=list)   # one dict per finished epoch
    stop: bool = False
    stop_reason: str = ""          # "", "early_stopping", "user" (a callback set stop), "completed"
    seconds: float = 0.0


class Callback:
    """Override what you need. All hooks receive the live ``FitState``."""

    def on_train_begin(self, state: FitState) -> None: ...
    def on_batch_end(self, state: FitState) -> None: ...
    def on_epoch_end(self, state: FitState) -> None: ...
    def on_train_end(self, state: FitState) -> None: ...


class TqdmProgress(Callback):
    """A terminal progress bar per epoch (the CLI uses it)."""

    def on_train_begin(self, state):
        self.bar = None

    def on_batch_end(self, state):
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=state.batches, desc=f"epoch {state.epoch}/{state.epochs}",
                            leave=True, file=sys.stderr, dynamic_ncols=True)
        self.bar.update(1)
        if state.batch % 20 == 0 or state.batch == state.batches:
            self.bar.set_postfix(loss=f"{state.loss:.4f}", acc=f"{state.train_acc:.4f}")

    def on_epoch_end(self, state):
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{state.loss:.4f}", val_acc=f"{state.val_acc:.4f}",
                                 best=f"{state.best_val_acc:.4f}@{state.best_epoch}")
            self.bar.close()
            self.bar = None

    def on_train_end(self, state):
        self.on_epoch_end(state)


# ---------------------------------------------------------------- the loop

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


def fit(model: nn.Module, train_loader, val_loader, config: FitConfig,
        callbacks: list[Callback] | tuple = ()) -> FitState:
    """Train ``model`` in place with AdamW; return the final ``FitState`` (with ``history``).

    Only weights with ``requires_grad`` are trained (frozen layers stay as they are).

    After every epoch the validation accuracy decides: a new best is remembered
    (a copy of the weights), otherwise the patience counter grows; at
    ``config.patience`` epochs without improvement training stops. If a callback
    sets ``state.stop`` training stops after the current batch. Either way, with
    ``restore_best`` the model ends with the best validation weights, in eval mode.
    """
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed + 1)   # augmentation randomness
    model.to(config.device)
    train_mode(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("every weight of the model is frozen: nothing to train")
    opt = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
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
        loss_sum, correct, seen = 0.0, 0, 0
        train_mode(model)
        for batch, (x, y) in enumerate(train_loader, 1):
            x, y = x.to(config.device), y.to(config.device)
            if config.shift or config.flip:
                x = augment(x, config.shift, config.flip, g)
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=config.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
            state.batch, state.loss, state.train_acc = batch, loss_sum / seen, correct / seen
            for cb in callbacks:
                cb.on_batch_end(state)
            if state.stop:
                break

        state.val_loss, state.val_acc = evaluate(model, val_loader, config.device)
        if state.val_acc > state.best_val_acc:
            state.best_val_acc, state.best_epoch = state.val_acc, epoch
            state.epochs_without_improvement = 0
            best_weights = copy.deepcopy(model.state_dict())
        else:
            state.epochs_without_improvement += 1
        state.history.append({"epoch": epoch, "loss": state.loss, "train_acc": state.train_acc,
                              "val_loss": state.val_loss, "val_acc": state.val_acc,
                              "seconds": time.perf_counter() - epoch_start,
                              "lr": opt.param_groups[0]["lr"]})
        if state.stop:
            state.stop_reason = "user"
        elif config.patience is not None and state.epochs_without_improvement >= config.patience:
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


# ---------------------------------------------------------------- bundled models

def default_device() -> str:
    """CUDA or Apple's MPS when present (for training in the app), else the CPU."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def split(dataset, val_size: int, seed: int):
    """(train, val) subsets: a seeded random ``val_size`` images held out for early stopping."""
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[val_size:]), Subset(dataset, perm[:val_size])


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# what LoadedModel.preprocess does to a picture (cnnviz.models.preprocess), said on the card
PREPROCESSING = {
    "DigitsCNN": "MNIST-style: grayscale, invert if light background, crop, 20x20 box centred by mass "
                 "in 28x28, normalize; a picture already in MNIST's format (28x28, grey, dark "
                 "background) is only normalized",
    "FashionCNN": "grayscale, invert if light background, crop, fit in 28x28, normalize; a picture "
                  "already in Fashion-MNIST's format (28x28, grey, dark background) is only normalized",
    "TinyVGG": "centre crop to a square, resize to 32x32, normalize (a 32x32 picture is not resampled)",
}


def train_bundled(name: str, *, epochs: int | None = None, patience: int | None = None,
                  seed: int = 0, out: Path | str = REPO / "assets" / "models",
                  threads: int = 2, limit: int | None = None, command: str | None = None,
                  callbacks: list[Callback] | tuple = (), device: str = "cpu") -> dict:
    """Rebuild bundled model ``name`` from scratch and write ``<out>/<name>.safetensors`` + ``.json``.

    Returns the model card. ``limit`` trains on the first ``limit`` training images
    (for smoke tests; such weights are not worth shipping).
    """
    from safetensors.torch import save_file

    spec = BUNDLED[name]
    recipe: Recipe = spec.recipe
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    dataset = spec.dataset
    if dataset == "cifar10-subset":
        dataset = cdata.cifar10_name()     # the full CIFAR-10 wherever torchvision has it
    full_train = cdata.tensor_dataset(dataset, train=True, limit=limit)
    test = cdata.tensor_dataset(dataset, train=False)
    val_size = min(recipe.val_size if dataset != "cifar10" else 5000, len(full_train) // 5)
    train_set, val_set = split(full_train, val_size, seed)
    train_loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed), drop_last=False)
    val_loader = DataLoader(val_set, batch_size=512)
    test_loader = DataLoader(test, batch_size=512)

    model = ARCHITECTURES[spec.arch](num_classes=len(spec.classes))
    config = FitConfig(epochs=epochs or recipe.epochs,
                       patience=recipe.patience if patience is None else patience,
                       lr=recipe.lr, weight_decay=recipe.weight_decay,
                       label_smoothing=recipe.label_smoothing, shift=recipe.shift,
                       flip=recipe.flip, seed=seed, device=device)
    state = fit(model, train_loader, val_loader, config, [TqdmProgress(), *callbacks])

    model.cpu()   # measure and save on the CPU, where the app runs the model
    _, test_acc = evaluate(model, test_loader)
    _, test_acc_1000 = evaluate(model, DataLoader(Subset(test, range(min(1000, len(test)))),
                                                  batch_size=500))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / f"{name}.safetensors"
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # one metadata entry: safetensors writes several in a random order (a Rust HashMap),
    # which made the same weights hash differently from run to run
    save_file(tensors, str(weights_path), metadata={"model": f"{name} ({spec.arch})"})
    weights_path.chmod(0o644)   # safetensors writes 0600; the app may run as another user
    blob = weights_path.read_bytes()

    epoch_times = [h["seconds"] for h in state.history]
    card = {
        "name": name,
        "architecture": spec.arch,
        "layers": [f"{n}: {m}" for n, m in model.named_children()],
        "classes": list(spec.classes),
        "in_channels": spec.in_channels,
        "input_size": list(spec.input_size),
        "normalization": {"mean": list(spec.mean), "std": list(spec.std)},
        "preprocessing": PREPROCESSING[spec.arch],
        "data": {
            "dataset": dataset,
            "train_images": len(train_set), "val_images": len(val_set),
            "test_images": len(test),
            "source": "torchvision layout in $CNNVIZ_DATA or ../shared/data (see its README)",
        },
        "training": {
            "seed": seed, "max_epochs": config.epochs, "epochs_run": len(state.history),
            "best_epoch": state.best_epoch, "patience": config.patience,
            "stop_reason": state.stop_reason, "optimizer": "AdamW", "lr": config.lr,
            "lr_schedule": "one-cycle (cosine)", "weight_decay": config.weight_decay,
            "batch_size": recipe.batch_size, "label_smoothing": config.label_smoothing,
            "augmentation": {"shift_pixels": config.shift, "horizontal_flip": config.flip},
            "history": [{k: round(v, 5) if isinstance(v, float) else v for k, v in h.items()}
                        for h in state.history],
        },
        "command": command or f"python -m cnnviz.train {name} --seed {seed}",
        "metrics": {
            "best_val_accuracy": round(state.best_val_acc, 5),
            "test_accuracy": round(test_acc, 5),
            "test_accuracy_first_1000": round(test_acc_1000, 5),
            "target_accuracy": spec.target_accuracy,
        },
        "time": {
            "train_seconds": round(state.seconds, 1),
            # the median: robust to an epoch slowed down by another program on the machine
            "seconds_per_epoch": round(statistics.median(epoch_times), 1) if epoch_times else 0.0,
            "threads": threads, "device": device, "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__,
        },
        "params": count_params(model),
        "file": {"name": weights_path.name, "bytes": len(blob),
                 "sha256": hashlib.sha256(blob).hexdigest()},
        "limits": spec.limits,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license": "weights: same terms as the cnnviz code; data: see ../shared/data/README.md",
    }
    # the headline number goes through the app's own path (PIL -> preprocess -> model); the
    # tensor-path number above is kept as metrics.test_accuracy_tensor_path
    from .models.bundled import measure_card, write_measures
    card = write_measures(card, measure_card(name, out, dataset=dataset))
    (out / f"{name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return card


# ---------------------------------------------------------------- from scratch, transfer learning, fine-tuning
#
# The course (seed 001) trains the same task three ways: a network drawn by hand and
# trained from random weights; transfer learning, where a network trained on another
# task keeps its feature-extraction layers frozen and only new decision layers learn;
# and fine-tuning, where the last feature layers learn too. Here the "other task" is
# one of the bundled models (MNIST digits, Fashion-MNIST clothes, CIFAR-10 pictures).

STRATEGIES = ("scratch", "transfer", "fine_tune")
# ImageNet networks that can be a source once their weights are downloaded (VGG16 and AlexNet,
# 528 and 233 MB, are too heavy to train on a laptop's CPU). They see images at ZOO_INPUT x
# ZOO_INPUT: ImageNet's 224 would make every epoch 12 times slower.
ZOO_SOURCES = ("resnet18", "mobilenet_v3_large")
ZOO_INPUT = 64


@dataclass
class LayerPlan:
    """One layer of a network about to be trained, as the lesson's table shows it."""

    name: str
    kind: str            # Conv2d, Linear, BatchNorm2d, ReLU...
    params: int
    status: str          # "frozen", "pretrained" (learns, starts from the source's weights),
    #                      "new" (learns from random weights), "no_weights"


def model_trained_on(dataset: str) -> str:
    """The bundled model trained on ``dataset``: its architecture is the one drawn for that data
    when training from scratch, its classes are the data's, and transferring from it to its own
    data would be cheating. The learner's own pictures ("own") get Tiny VGG, made for photos."""
    dataset = "cifar10-subset" if dataset in ("cifar10", "own") else dataset
    return next(name for name, spec in BUNDLED.items() if spec.dataset == dataset)


def units(model: nn.Module) -> tuple[list[str], list[str]]:
    """(feature layers, decision layers) of a network, as dotted names in forward order.

    Our architectures: the layers before ``flatten`` extract features, ``flatten`` and
    what follows decide. torchvision's ResNet/MobileNet: ``fc``/``classifier`` decide;
    a ``features`` block is listed block by block so fine-tuning can start inside it.
    """
    names = [n for n, _ in model.named_children()]
    if "flatten" in names:
        i = names.index("flatten")
        return names[:i], names[i:]
    decision = [n for n in names if n in ("fc", "classifier")]
    if not decision:
        raise ValueError("transfer learning needs a network with a 'flatten', 'fc' or 'classifier' layer")
    features: list[str] = []
    for n, m in model.named_children():
        if n in decision:
            continue
        if n == "features" and isinstance(m, nn.Sequential):
            features += [f"features.{k}" for k, _ in m.named_children()]
        else:
            features.append(n)
    return features, decision


def feature_layers(model: nn.Module) -> list[str]:
    """The feature extractor's layers (see ``units``)."""
    return units(model)[0]


def trainable_from_choices(model: nn.Module) -> list[str]:
    """Layers fine-tuning may start learning from: the feature layers that hold convolutions."""
    return [n for n in feature_layers(model)
            if any(isinstance(m, nn.Conv2d) for m in model.get_submodule(n).modules())]


def _reset(module: nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    for m in module.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()


def scratch_model(dataset: str, num_classes: int, seed: int = 0) -> tuple[nn.Module, list[LayerPlan]]:
    """The dataset's own architecture with random weights: everything learns."""
    torch.manual_seed(seed)
    model = ARCHITECTURES[BUNDLED[model_trained_on(dataset)].arch](num_classes=num_classes)
    names = [n for n, _ in model.named_children()]
    return model, _plan(model, names, frozen=set(), new=set(names))


def transfer_model(source: nn.Module, num_classes: int, train_from: str | None = None,
                   seed: int = 0) -> tuple[nn.Module, list[LayerPlan]]:
    """A copy of ``source`` with new decision layers for ``num_classes`` classes.

    The feature layers keep the source's weights; those before ``train_from`` are
    frozen (``train_from=None``: all of them, which is transfer learning as a pure
    feature extractor; a layer name: fine-tuning from that layer on). The source
    itself is never changed (it may be shared by every learner).
    """
    model = copy.deepcopy(source).cpu()
    features, decision = units(model)
    if train_from is not None and train_from not in features:
        raise ValueError(f"{train_from!r} is not a feature layer of this network: {features}")
    # new decision layers: the output layer gets one unit per new class, the others new weights
    linears = [f"{d}.{n}".rstrip(".") for d in decision
               for n, m in model.get_submodule(d).named_modules() if isinstance(m, nn.Linear)]
    head = linears[-1]
    parent, _, leaf = head.rpartition(".")
    old = model.get_submodule(head)
    setattr(model.get_submodule(parent) if parent else model, leaf, nn.Linear(old.in_features, num_classes))
    for n in decision:
        _reset(model.get_submodule(n), seed)
    frozen = set(features if train_from is None else features[:features.index(train_from)])
    for n in features + decision:
        model.get_submodule(n).requires_grad_(n not in frozen)
    model.train()
    return model, _plan(model, features + decision, frozen=frozen, new=set(decision))


def _plan(model: nn.Module, names: list[str], frozen: set[str], new: set[str]) -> list[LayerPlan]:
    plan = []
    for n in names:
        m = model.get_submodule(n)
        params = sum(p.numel() for p in m.parameters())
        status = ("no_weights" if params == 0 else "frozen" if n in frozen
                  else "new" if n in new else "pretrained")
        plan.append(LayerPlan(n, type(m).__name__, params, status))
    return plan


def param_split(model: nn.Module) -> tuple[int, int]:
    """(trainable, frozen) weight counts, as Keras's model.summary() reports them."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters()) - trainable


@torch.no_grad()
def predict_all(model: nn.Module, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Predicted class of every image in ``x`` (already preprocessed), in eval mode."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    model.train(was_training)
    return out


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, num_classes: int):
    """counts[i, j] = how many images of class i were predicted as j (numpy int64)."""
    import numpy as np

    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true.numpy(), pred.numpy()), 1)
    return counts


@dataclass
class Experiment:
    """One training run of the lesson: which data, which strategy, which settings."""

    dataset: str                   # key of cnnviz.data.DATASETS
    per_class: int                 # training images per class (before the validation split)
    strategy: str = "scratch"      # one of STRATEGIES
    source: str | None = None      # bundled model to transfer from
    train_from: str | None = None  # fine-tuning: first feature layer that learns
    epochs: int = 10
    patience: int | None = 5       # the course: stop after 5 epochs without a better val accuracy
    lr: float = 1e-3
    batch_size: int = 32           # the course's batch size
    seed: int = 0
    augment: bool = False          # data augmentation: random shifts (and mirror images, except digits)

    def check(self) -> None:
        from .models.specs import BUNDLED as _BUNDLED

        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        if self.strategy != "scratch":
            if self.source not in _BUNDLED and self.source not in ZOO_SOURCES:
                raise ValueError(f"unknown source model {self.source!r}")
        if not (1 <= self.epochs <= 200 and 1 <= self.batch_size <= 1024 and 0 < self.lr < 1):
            raise ValueError("epochs, batch size or learning rate out of range")


@dataclass
class ExperimentResult:
    experiment: Experiment
    plan: list[LayerPlan]
    trainable: int
    frozen: int
    history: list[dict]
    best_epoch: int
    stop_reason: str
    seconds: float
    test_acc: float
    confusion: object              # numpy (classes, classes)
    train_images: int
    val_images: int
    test_images: int
    wrong: list[tuple[int, int, int]] = field(default_factory=list)   # (test index, true, predicted)
    wrong_images: object = None    # those test pictures, (k, C, H, W) in [0, 1], to show them later
    classes: list[str] | None = None   # the learner's own class names, if any

    @property
    def test_correct(self) -> int:
        """How many test images the network classified right (the confusion matrix's diagonal)."""
        return int(self.confusion.trace())

    @property
    def test_interval(self) -> tuple[float, float]:
        """95 % interval of the test accuracy (``accuracy_interval``): how far the figure can be
        trusted on ``test_images`` images."""
        return accuracy_interval(self.test_correct, self.test_images)


def augmentation(exp: Experiment) -> tuple[int, bool]:
    """(shift in pixels, horizontal flip) when ``exp.augment``: every epoch sees each training
    image moved by up to 2 pixels, and mirrored half of the time, except digits (a mirrored 3
    is not a 3)."""
    if not exp.augment:
        return 0, False
    return 2, exp.dataset != "mnist"


def input_format(exp: Experiment) -> tuple[int, tuple[int, int], tuple, tuple]:
    """(channels, size, mean, std) the trained network expects.

    From scratch: the dataset's own format. Transferring: the *source* network's,
    as the course preprocesses the flowers like ImageNet for VGG16.
    """
    if exp.strategy == "scratch":
        info = cdata.DATASETS["cifar10-subset" if exp.dataset == "own" else exp.dataset]
        return info.in_channels, (info.size, info.size), info.mean, info.std
    if exp.source in ZOO_SOURCES:
        from .models.zoo import IMAGENET_MEAN, IMAGENET_STD

        return 3, (ZOO_INPUT, ZOO_INPUT), IMAGENET_MEAN, IMAGENET_STD
    spec = BUNDLED[exp.source]
    return spec.in_channels, tuple(spec.input_size), spec.mean, spec.std


def prepare(exp: Experiment, x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] -> what the network of ``exp`` takes (channels, size, normalization)."""
    channels, size, mean, std = input_format(exp)
    x = cdata.adapt(x, channels, size)
    return (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)


def run_experiment(exp: Experiment, split: cdata.SmallSplit, source: nn.Module | None = None,
                   callbacks: list[Callback] | tuple = ()) -> tuple[ExperimentResult, nn.Module]:
    """Build the network ``exp`` asks for, train it on ``split``, test it.

    ``source`` is the trained network to transfer from (``models.load(exp.source).model``);
    it is copied, never changed.
    """
    from torch.utils.data import TensorDataset

    exp.check()
    if exp.strategy == "scratch":
        model, plan = scratch_model(exp.dataset, split.num_classes, exp.seed)
    else:
        if source is None:
            raise ValueError("transfer learning needs the source network")
        train_from = exp.train_from if exp.strategy == "fine_tune" else None
        model, plan = transfer_model(source, split.num_classes, train_from, exp.seed)
    train_x, val_x, test_x = (prepare(exp, x) for x in (split.train_x, split.val_x, split.test_x))
    train_loader = DataLoader(TensorDataset(train_x, split.train_y), batch_size=exp.batch_size,
                              shuffle=True, generator=torch.Generator().manual_seed(exp.seed))
    val_loader = DataLoader(TensorDataset(val_x, split.val_y), batch_size=500)
    shift, flip = augmentation(exp)
    config = FitConfig(epochs=exp.epochs, lr=exp.lr, patience=exp.patience, restore_best=True,
                       cosine=False, seed=exp.seed, shift=shift, flip=flip)
    state = fit(model, train_loader, val_loader, config, callbacks)
    pred = predict_all(model, test_x)
    wrong = (pred != split.test_y).nonzero().flatten()[:12].tolist()
    trainable, frozen = param_split(model)
    result = ExperimentResult(
        exp, plan, trainable, frozen, state.history, state.best_epoch, state.stop_reason,
        state.seconds, float((pred == split.test_y).float().mean()),
        confusion_matrix(split.test_y, pred, split.num_classes),
        len(split.train_y), len(split.val_y), len(split.test_y),
        [(i, int(split.test_y[i]), int(pred[i])) for i in wrong], split.test_x[wrong].clone(),
        split.classes)
    return result, model

def model_card(result: ExperimentResult, model: nn.Module) -> dict:
    """A model card for a network trained in the lesson, in the format ``models.load_user_weights``
    reads: with it, the weights open in every lesson as "your own model"."""
    exp = result.experiment
    channels, size, mean, std = input_format(exp)
    classes = result.classes or BUNDLED[model_trained_on(exp.dataset)].classes
    how = {"scratch": "from scratch", "transfer": f"transfer learning from {exp.source}",
           "fine_tune": f"fine-tuning {exp.source} from {exp.train_from}"}[exp.strategy]
    return {
        "name": f"{exp.dataset}-{exp.strategy}-{exp.per_class}",
        # a torchvision network keeps its zoo name: that is how the upload loader rebuilds it
        "architecture": exp.source if exp.strategy != "scratch" and exp.source in ZOO_SOURCES
        else type(model).__name__,
        "classes": list(classes),
        "in_channels": channels,
        "input_size": list(size),
        "normalization": {"mean": list(mean), "std": list(std)},
        "data": {"dataset": exp.dataset, "images_per_class": exp.per_class,
                 "train_images": result.train_images, "val_images": result.val_images,
                 "test_images": result.test_images},
        "training": {"how": how, "strategy": exp.strategy, "source": exp.source, "augment": exp.augment,
                     "train_from": exp.train_from, "seed": exp.seed, "max_epochs": exp.epochs,
                     "epochs_run": len(result.history), "best_epoch": result.best_epoch,
                     "patience": exp.patience, "lr": exp.lr, "batch_size": exp.batch_size,
                     "stop_reason": result.stop_reason, "seconds": round(result.seconds, 1)},
        "metrics": {"test_accuracy": round(result.test_acc, 5)},
        "params": {"trainable": result.trainable, "frozen": result.frozen},
        "limits": f"Trained in the cnnviz lesson on only {result.train_images} images; "
                  "expect many mistakes on anything unlike them.",
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m cnnviz.train",
                                     description="Rebuild a bundled cnnviz model from scratch (CPU, seeded).")
    parser.add_argument("name", choices=sorted(BUNDLED))
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the recipe's)")
    parser.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "assets" / "models"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--device", default="cpu",
                        help="cpu (default: reproducible), cuda, mps or auto")
    args = parser.parse_args(argv)
    try:
        card = train_bundled(args.name, epochs=args.epochs, patience=args.patience, seed=args.seed,
                             out=args.out, threads=args.threads, limit=args.limit,
                             command="python -m cnnviz.train " + " ".join(argv),
                             device=default_device() if args.device == "auto" else args.device)
    except cdata.DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    m = card["metrics"]
    print(f"{args.name}: test accuracy {m['test_accuracy']:.4f} "
          f"(first 1000: {m['test_accuracy_first_1000']:.4f}), best val {m['best_val_accuracy']:.4f} "
          f"at epoch {card['training']['best_epoch']}, {card['time']['seconds_per_epoch']} s/epoch, "
          f"{card['file']['bytes'] / 1e6:.2f} MB -> {Path(args.out) / (args.name + '.safetensors')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
