"""The Train lesson's experiments: which data, which strategy, which settings -> a trained, tested
network, and what the lesson hands to the other lessons.

``run_experiment`` builds the network ``cnnviz.train.transfer`` describes, trains it with
``cnnviz.train.fit.fit`` on a few images per class (``cnnviz.data.splits.SmallSplit``), tests it and
returns an ``ExperimentResult``: its history, confusion matrix, mistakes and the numbers
the lesson reads off them (per-class accuracy, the hardest class, the overfitting gap).
``model_card`` describes a trained network (``cnnviz.train.cards`` has the bundled models' cards);
``TrainedNetwork`` is the last trained network with its card, ready for *Inside a CNN* and *Where does
it look?*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader

from cnnviz.data import datasets as cdata
from cnnviz.models import builder
from cnnviz.data.splits import OWN_SIZE, SmallSplit, adapt
from cnnviz.train.fit import Callback, FitConfig, accuracy_interval, fit
from cnnviz.models.specs import BUNDLED
from cnnviz.train.transfer import (OWN_LIKE, STRATEGIES, ZOO_INPUT, ZOO_SOURCES, LayerPlan, model_trained_on,
                                   param_split, scratch_model, transfer_model)


@dataclass
class Experiment:
    """One training run of the lesson: which data, which strategy, which settings."""

    dataset: str                   # key of cnnviz.data.datasets.DATASETS
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
    arch: str | None = None        # from scratch: the learner's own network (``cnnviz.models.builder`` text)
    full: bool = False             # the whole training set, trained with ``FULL_RECIPE`` (``full_experiment``)

    def check(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        if self.arch is not None:
            if self.strategy != "scratch":
                raise ValueError("an own architecture is trained from scratch")
            builder.parse(self.arch)          # ArchitectureError (translated) for a damaged one
        if self.strategy != "scratch":
            if self.source not in BUNDLED and self.source not in ZOO_SOURCES:
                raise ValueError(f"unknown source model {self.source!r}")
        if not (1 <= self.epochs <= 200 and 1 <= self.batch_size <= 1024 and 0 < self.lr < 1):
            raise ValueError("epochs, batch size or learning rate out of range")


@dataclass(frozen=True)
class FullRecipe:
    """How the whole training set is trained (issue 19): a small network of three conv blocks with
    batch norm (``builder.FULL_MNIST``), AdamW and a one-cycle learning rate, 2 epochs of batches of
    128. ``benchmarks/full_mnist.py`` measures it: >= 99 % test accuracy on MNIST."""

    arch: str = builder.FULL_MNIST.text()
    epochs: int = 2
    lr: float = 3e-3
    batch_size: int = 128
    weight_decay: float = 1e-4


FULL_RECIPE = FullRecipe()
FULL_DATASETS = ("mnist",)    # datasets the lesson offers to train whole


def full_experiment(dataset: str = "mnist", seed: int = 0, recipe: FullRecipe = FULL_RECIPE) -> Experiment:
    """The ``Experiment`` of the whole training set of ``dataset`` with ``recipe``."""
    return Experiment(dataset, 0, "scratch", epochs=recipe.epochs, patience=None, lr=recipe.lr,
                      batch_size=recipe.batch_size, seed=seed, arch=recipe.arch, full=True)


def fit_config(exp: Experiment) -> FitConfig:
    """How ``fit`` trains ``exp``: the lesson's constant learning rate with early stopping, or the
    full recipe's AdamW with weight decay and a one-cycle schedule."""
    shift, flip = augmentation(exp)
    recipe = FULL_RECIPE if exp.full else None
    return FitConfig(epochs=exp.epochs, lr=exp.lr, patience=exp.patience, restore_best=True,
                     cosine=bool(recipe), weight_decay=recipe.weight_decay if recipe else 0.0,
                     seed=exp.seed, shift=shift, flip=flip)


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, num_classes: int):
    """counts[i, j] = how many images of class i were predicted as j (numpy int64)."""
    import numpy as np

    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true.numpy(), pred.numpy()), 1)
    return counts


def per_class_accuracy(confusion):
    """The share of each class's test images the network got right (numpy float, one per class;
    0 for a class without test images)."""
    return confusion.diagonal() / confusion.sum(axis=1).clip(min=1)


def hardest_class(confusion) -> tuple[int, float, int]:
    """(class, its accuracy, the class it is most often mistaken for) of the class the network gets
    wrong most often (the first one on a tie)."""
    per = per_class_accuracy(confusion)
    worst = int(per.argmin())
    row = confusion[worst].copy()
    row[worst] = -1                     # not itself: the likeliest *other* answer
    return worst, float(per[worst]), int(row.argmax())


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

    @property
    def best(self) -> dict:
        """The history of the epoch whose weights the network kept (the best validation
        accuracy), or of the last epoch when none was kept."""
        return self.history[self.best_epoch - 1] if self.best_epoch else self.history[-1]

    @property
    def overfit_gap(self) -> float:
        """Training minus validation accuracy at the kept epoch, in percentage points: a large gap
        says the network learned its training images by heart (0 when no epoch was kept)."""
        return 100 * (self.best["train_acc"] - self.best["val_acc"]) if self.best_epoch else 0.0

    @property
    def hardest(self) -> tuple[int, float, int]:
        """``hardest_class`` of the test confusion matrix."""
        return hardest_class(self.confusion)


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
        info = cdata.DATASETS[OWN_LIKE if exp.dataset == "own" else exp.dataset]
        return info.in_channels, (info.size, info.size), info.mean, info.std
    if exp.source in ZOO_SOURCES:
        from cnnviz.models.zoo import IMAGENET_MEAN, IMAGENET_STD

        return 3, (ZOO_INPUT, ZOO_INPUT), IMAGENET_MEAN, IMAGENET_STD
    spec = BUNDLED[exp.source]
    return spec.in_channels, tuple(spec.input_size), spec.mean, spec.std


def picture_format(dataset: str) -> tuple[int, int]:
    """(channels, side) of the pictures the data holds: the dataset's own, 64 x 64 colour for the
    learner's own pictures."""
    if dataset == "own":
        return 3, OWN_SIZE
    info = cdata.DATASETS[dataset]
    return info.in_channels, info.size


def adapted_format(exp: Experiment) -> tuple[int, int, int, int] | None:
    """(channels, side) of the data and (channels, side) the source network takes, when transferring
    changes the pictures to fit it (grey to colour, another size); None when it does not."""
    channels, size, _, _ = input_format(exp)
    c0, s0 = picture_format(exp.dataset)
    if exp.strategy == "scratch" or (channels, size) == (c0, (s0, s0)):
        return None
    return c0, s0, channels, size[0]


def prepare(exp: Experiment, x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] -> what the network of ``exp`` takes (channels, size, normalization)."""
    channels, size, mean, std = input_format(exp)
    return cdata.normalize(adapt(x, channels, size), mean, std)


@torch.no_grad()
def predict_all(model: nn.Module, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Predicted class of every image in ``x`` (already preprocessed), in eval mode."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    model.train(was_training)
    return out


def own_model(exp: Experiment, num_classes: int) -> tuple[nn.Module, list[LayerPlan]]:
    """The learner's own network (``exp.arch``) for the data's pictures, random weights: everything learns."""
    channels, size, _, _ = input_format(exp)
    model = builder.build(builder.parse(exp.arch), channels, size, num_classes, seed=exp.seed)
    return model, [LayerPlan(layer.name, layer.kind, layer.weights, "new" if layer.weights else "no_weights")
                   for layer in model.plan.layers]


def run_experiment(exp: Experiment, split: SmallSplit, source: nn.Module | None = None,
                   callbacks: list[Callback] | tuple = ()) -> tuple[ExperimentResult, nn.Module]:
    """Build the network ``exp`` asks for, train it on ``split``, test it.

    ``source`` is the trained network to transfer from (``models.load(exp.source).model``);
    it is copied, never changed. ``callbacks`` watch the training (``cnnviz.train.fit.Callback``).
    """
    from torch.utils.data import TensorDataset

    exp.check()
    if exp.arch is not None:
        model, plan = own_model(exp, split.num_classes)
    elif exp.strategy == "scratch":
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
    state = fit(model, train_loader, val_loader, fit_config(exp), callbacks)
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
    own = {"layers": exp.arch, "like": BUNDLED[model_trained_on(exp.dataset)].arch} if exp.arch else {}
    return {
        "name": f"{exp.dataset}-{exp.strategy}-{'full' if exp.full else exp.per_class}",
        # a torchvision network keeps its zoo name: that is how the upload loader rebuilds it; an own
        # network is rebuilt from its "layers" (cnnviz.models.builder), with the preprocessing and class
        # names of the bundled network of its data ("like")
        "architecture": exp.source if exp.strategy != "scratch" and exp.source in ZOO_SOURCES
        else type(model).__name__,
        **own,
        "classes": list(classes),
        "in_channels": channels,
        "input_size": list(size),
        "normalization": {"mean": list(mean), "std": list(std)},
        "data": {"dataset": exp.dataset, "images_per_class": None if exp.full else exp.per_class,
                 "whole_training_set": exp.full,
                 "train_images": result.train_images, "val_images": result.val_images,
                 "test_images": result.test_images},
        "training": {"how": how, "strategy": exp.strategy, "source": exp.source, "augment": exp.augment,
                     "train_from": exp.train_from, "seed": exp.seed, "max_epochs": exp.epochs,
                     "epochs_run": len(result.history), "best_epoch": result.best_epoch,
                     "patience": exp.patience, "lr": exp.lr, "batch_size": exp.batch_size,
                     "stop_reason": result.stop_reason, "seconds": round(result.seconds, 1),
                     "schedule": "one-cycle" if exp.full else "constant",
                     "weight_decay": FULL_RECIPE.weight_decay if exp.full else 0.0},
        "metrics": {"test_accuracy": round(result.test_acc, 5)},
        "params": {"trainable": result.trainable, "frozen": result.frozen},
        "limits": (f"Trained in the cnnviz lesson on the whole training set ({result.train_images} images); "
                   if exp.full else f"Trained in the cnnviz lesson on only {result.train_images} images; ")
                  + "expect many mistakes on anything unlike them.",
    }


EXAMPLES = 12   # test pictures handed over with a trained network: the other lessons open on one


@dataclass(frozen=True, eq=False)
class TrainedNetwork:
    """The last network a learner trained in the Train lesson, for the other lessons (this session
    only, ~0.5-1.7 MB): its result, its model card (``model_card``), its weights as
    ``.safetensors`` bytes (read back through the same safe loader as an upload) and its first test
    pictures with their classes ((N, C, H, W) in [0, 1], (N,)). Compared by identity."""

    result: ExperimentResult
    card: dict
    weights: bytes
    examples: tuple[torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def from_run(cls, result: ExperimentResult, model: nn.Module, split: SmallSplit,
                 examples: int = EXAMPLES) -> TrainedNetwork:
        from cnnviz.models import to_safetensors

        return cls(result, model_card(result, model), to_safetensors(model),
                   (split.test_x[:examples].clone(), split.test_y[:examples].clone()))

    @property
    def name(self) -> str:
        return self.card["name"]

    def example_pictures(self) -> list:
        """Its test pictures as [(index, class, PIL RGB image)], as the other lessons offer them."""
        import numpy as np
        from PIL import Image

        if self.examples is None:
            return []
        out = []
        for i, (x, y) in enumerate(zip(*self.examples)):
            arr = (x.permute(1, 2, 0).float().clamp(0, 1).numpy() * 255).round().astype(np.uint8)
            out.append((i, int(y), Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).convert("RGB")))
        return out

