"""From scratch, transfer learning, fine-tuning: the networks the Train lesson trains.

The course (seed 001) trains the same task three ways: a network drawn by hand and
trained from random weights; transfer learning, where a network trained on another
task keeps its feature-extraction layers frozen and only new decision layers learn;
and fine-tuning, where the last feature layers learn too. Here the "other task" is
one of the bundled models (MNIST digits, Fashion-MNIST clothes, CIFAR-10 pictures)
or an ImageNet network once its weights are downloaded.

This module builds those networks and says which layer does what (``LayerPlan``);
``cnnviz.train.experiment`` trains and tests them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from cnnviz.models.archs import ARCHITECTURES
from cnnviz.models.specs import BUNDLED
from cnnviz.maths.params import count

STRATEGIES = ("scratch", "transfer", "fine_tune")
# ImageNet networks that can be a source once their weights are downloaded (VGG16 and AlexNet,
# 528 and 233 MB, are too heavy to train on a laptop's CPU). They see images at ZOO_INPUT x
# ZOO_INPUT: ImageNet's 224 would make every epoch 12 times slower.
ZOO_SOURCES = ("resnet18", "mobilenet_v3_large")
ZOO_INPUT = 64
OWN_LIKE = "cifar10-subset"   # the learner's own pictures ("own") are trained like this data: Tiny VGG, colour


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
    dataset = OWN_LIKE if dataset == "own" else "cifar10-subset" if dataset == "cifar10" else dataset
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
        params = count(m)
        status = ("no_weights" if params == 0 else "frozen" if n in frozen
                  else "new" if n in new else "pretrained")
        plan.append(LayerPlan(n, type(m).__name__, params, status))
    return plan


def param_split(model: nn.Module) -> tuple[int, int]:
    """(trainable, frozen) weight counts, as Keras's model.summary() reports them."""
    return count(model, trainable=True), count(model, trainable=False)
