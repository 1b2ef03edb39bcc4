"""Your own architecture: a learner composes a CNN block by block, sees every layer's output shape
and weights, and trains it (issue 19, "Your own architecture" in the Train lesson).

An ``Architecture`` is a short list of conv ``Block``s (channels, kernel, stride, padding, a max
pooling, batch norm, dropout) and the hidden widths of the dense layers after them, every field
bounded. ``plan`` turns it into the layers the network will have, each with its output shape
(C x H x W, or N) and its weights, computed by the same functions the other lessons use
(``cnnviz.analysis.receptive.stack_output_size`` through ``cnnviz.maths.conv.output_size`` for the
maps, ``cnnviz.maths.params`` for the weights); an impossible architecture (a map below 1 x 1, more
weights or work than the server trains) is a translated ``CnnvizError`` before anything is built.
``build`` makes the ``nn.Module`` (``OwnCNN``) from that same plan.

An architecture travels as one short text (``text`` / ``parse``), in the page's link and in the
model card (``"layers"``), so the trained network opens in every lesson like the others::

    c32k3p1m2bn-c64k3p1m2bn-f128        two blocks of 3 x 3 convolutions, pooling 2, batch norm,
                                        then a dense layer of 128 units
    c16k5s2p2d20-f64-d50                one block, stride 2, no pooling, 20 % dropout; 64 units, and
                                        50 % dropout before each dense layer
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from cnnviz.analysis.receptive import stack_output_size
from cnnviz.base.errors import CnnvizError
from cnnviz.maths.conv import ConvError
from cnnviz.maths.params import batch_norm_weights, conv_multiply_adds, conv_weights, mlp_weights

ARCH_NAME = "OwnCNN"      # the model card's "architecture" of a network built here

# The bounds of every field: (low, high).
CHANNELS = (1, 128)
KERNEL = (1, 7)
STRIDE = (1, 3)
PADDING = (0, 3)
POOL = (1, 3)             # 1: no pooling
DROPOUT = (0.0, 0.9)
UNITS = (1, 512)
MAX_BLOCKS = 5
MAX_DENSE = 3
# What the server trains (every network of the lesson is well below: Tiny VGG at 32 x 32 has
# 150,000 weights and does 31 million multiply-adds per picture).
MAX_WEIGHTS = 1_000_000
MAX_MULTIPLY_ADDS = 60_000_000


class ArchitectureError(CnnvizError):
    """An architecture that can't be built or trained here; the message says which layer and why."""


@dataclass(frozen=True)
class Block:
    """Convolution -> (batch norm) -> ReLU -> (max pooling) -> (dropout)."""

    channels: int = 32
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    pool: int = 2               # pooling window and stride; 1 = no pooling
    batch_norm: bool = True
    dropout: float = 0.0        # share of the maps' values dropped while training (0: no dropout layer)


@dataclass(frozen=True)
class Architecture:
    """Conv blocks, then the hidden dense layers (``dense``: their widths) and the output layer;
    ``dropout`` is applied before every dense layer."""

    blocks: tuple[Block, ...] = (Block(32), Block(64))
    dense: tuple[int, ...] = (128,)
    dropout: float = 0.0

    def check(self) -> None:
        """Every field within its bounds, else ``ArchitectureError`` naming it."""
        if not 1 <= len(self.blocks) <= MAX_BLOCKS:
            raise ArchitectureError("models.arch.blocks", n=len(self.blocks), high=MAX_BLOCKS)
        if len(self.dense) > MAX_DENSE:
            raise ArchitectureError("models.arch.dense", n=len(self.dense), high=MAX_DENSE)
        for i, b in enumerate(self.blocks, 1):
            where = f"conv{i}"
            for what, value, (low, high) in (("channels", b.channels, CHANNELS), ("kernel", b.kernel, KERNEL),
                                             ("stride", b.stride, STRIDE), ("padding", b.padding, PADDING),
                                             ("pool", b.pool, POOL)):
                _bounded(where, what, value, low, high, whole=True)
            _bounded(where, "dropout", b.dropout, *DROPOUT)
        for j, units in enumerate(self.dense, 1):
            _bounded(f"fc{j}", "units", units, *UNITS, whole=True)
        _bounded("fc", "dropout", self.dropout, *DROPOUT)

    def text(self) -> str:
        """The architecture in one short text (the link's and the card's); ``parse`` reads it back."""
        parts = []
        for b in self.blocks:
            s = f"c{b.channels}k{b.kernel}" + (f"s{b.stride}" if b.stride != 1 else "") + f"p{b.padding}"
            s += (f"m{b.pool}" if b.pool > 1 else "") + ("bn" if b.batch_norm else "")
            parts.append(s + (f"d{_percent(b.dropout)}" if b.dropout else ""))
        parts += [f"f{u}" for u in self.dense]
        parts += [f"d{_percent(self.dropout)}"] if self.dropout else []
        return "-".join(parts)


def _percent(share: float) -> int:
    return int(round(100 * share))


def _bounded(where: str, what: str, value, low, high, whole: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (whole and value != int(value)) or not low <= value <= high:
        raise ArchitectureError("models.arch.out_of_range", layer=where, what=what, value=str(value)[:12],
                                low=low, high=high)


_BLOCK = re.compile(r"c(\d{1,3})k(\d)(?:s(\d))?p(\d)(?:m(\d))?(bn)?(?:d(\d{1,2}))?")
_DENSE = re.compile(r"f(\d{1,4})")
_DROP = re.compile(r"d(\d{1,2})")


def parse(text: str) -> Architecture:
    """``Architecture.text``'s text back into a checked ``Architecture``; anything else (a link
    typed by hand, a damaged card) is an ``ArchitectureError`` quoting it."""
    raw = str(text or "")
    tokens = raw.strip().split("-") if len(raw) <= 200 else ["?"]
    blocks, dense, dropout = [], [], 0.0
    for i, token in enumerate(tokens):
        if (m := _BLOCK.fullmatch(token)) and not dense:
            c, k, s, p, pool, bn, d = m.groups()
            blocks.append(Block(int(c), int(k), int(s or 1), int(p), int(pool or 1), bool(bn), int(d or 0) / 100))
        elif (m := _DENSE.fullmatch(token)) and blocks:
            dense.append(int(m.group(1)))
        elif (m := _DROP.fullmatch(token)) and blocks and i == len(tokens) - 1:
            dropout = int(m.group(1)) / 100
        else:
            raise ArchitectureError("models.arch.bad_text", text=raw[:60])
    arch = Architecture(tuple(blocks), tuple(dense), dropout)
    arch.check()
    return arch


@dataclass(frozen=True)
class Layer:
    """One layer of the plan: what it is, the shape of what it gives, its weights and the work it
    does on one picture (multiply-adds of its convolution or dense layer)."""

    name: str
    kind: str                      # Conv2d, BatchNorm2d, ReLU, MaxPool2d, Dropout, Flatten, Linear
    shape: tuple[int, ...]         # (C, H, W), or (N,) after flatten
    weights: int
    multiply_adds: int = 0
    settings: dict = field(default_factory=dict, compare=False)   # what ``build`` passes the torch layer


@dataclass(frozen=True)
class Plan:
    layers: tuple[Layer, ...]
    in_shape: tuple[int, int, int]

    @property
    def weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def multiply_adds(self) -> int:
        return sum(layer.multiply_adds for layer in self.layers)

    @property
    def head(self) -> str:
        """The output layer (its out_features = the number of classes)."""
        return self.layers[-1].name


def plan(arch: Architecture, in_channels: int, size: int | tuple[int, int], num_classes: int, *,
         caps: bool = True) -> Plan:
    """The layers ``arch`` makes on ``in_channels`` x ``size`` pictures with ``num_classes`` classes,
    each with its output shape and weights. ``ArchitectureError`` for a field out of its bounds, a
    map that would shrink below 1 x 1 (naming the layer), and (``caps``) more weights or
    multiply-adds than the server trains."""
    arch.check()
    h, w = (size, size) if isinstance(size, int) else size
    c, rows = in_channels, []

    def shrink(name: str, kernel: int, stride: int, padding: int) -> tuple[int, int]:
        try:
            return stack_output_size([(name, kernel, stride, padding, 1)], (h, w))
        except ConvError:
            raise ArchitectureError("models.arch.too_small", layer=name, h=h, w=w, kernel=kernel,
                                    padding=padding) from None

    for i, b in enumerate(arch.blocks, 1):
        h, w = shrink(f"conv{i}", b.kernel, b.stride, b.padding)
        rows.append(Layer(f"conv{i}", "Conv2d", (b.channels, h, w), conv_weights(c, b.channels, b.kernel, bias=True),
                          conv_multiply_adds(c, b.channels, b.kernel, (h, w)),
                          dict(in_channels=c, out_channels=b.channels, kernel_size=b.kernel, stride=b.stride,
                               padding=b.padding)))
        c = b.channels
        if b.batch_norm:
            rows.append(Layer(f"bn{i}", "BatchNorm2d", (c, h, w), batch_norm_weights(c), 0, dict(num_features=c)))
        rows.append(Layer(f"relu{i}", "ReLU", (c, h, w), 0))
        if b.pool > 1:
            h, w = shrink(f"pool{i}", b.pool, b.pool, 0)
            rows.append(Layer(f"pool{i}", "MaxPool2d", (c, h, w), 0, 0, dict(kernel_size=b.pool)))
        if b.dropout:
            rows.append(Layer(f"dropout{i}", "Dropout", (c, h, w), 0, 0, dict(p=b.dropout)))
    n = c * h * w
    rows.append(Layer("flatten", "Flatten", (n,), 0))
    widths = [*arch.dense, num_classes]
    for j, units in enumerate(widths, 1):
        if arch.dropout:
            rows.append(Layer(f"dropout_fc{j}", "Dropout", (n,), 0, 0, dict(p=arch.dropout)))
        rows.append(Layer(f"fc{j}", "Linear", (units,), mlp_weights(n, [], outputs=units, bias=True), n * units,
                          dict(in_features=n, out_features=units)))
        if j < len(widths):
            rows.append(Layer(f"relu_fc{j}", "ReLU", (units,), 0))
        n = units
    result = Plan(tuple(rows), (in_channels, *((size, size) if isinstance(size, int) else size)))
    if caps and result.weights > MAX_WEIGHTS:
        raise ArchitectureError("models.arch.too_many_weights", n=result.weights, high=MAX_WEIGHTS)
    if caps and result.multiply_adds > MAX_MULTIPLY_ADDS:
        raise ArchitectureError("models.arch.too_much_work", n=result.multiply_adds, high=MAX_MULTIPLY_ADDS)
    return result


def _module(layer: Layer):
    from torch import nn

    kinds = {"Conv2d": nn.Conv2d, "BatchNorm2d": nn.BatchNorm2d, "ReLU": nn.ReLU, "MaxPool2d": nn.MaxPool2d,
             "Dropout": nn.Dropout, "Flatten": nn.Flatten, "Linear": nn.Linear}
    return kinds[layer.kind](**layer.settings)


def build(arch: Architecture, in_channels: int, size: int | tuple[int, int], num_classes: int, *,
          seed: int | None = None, caps: bool = True):
    """The ``OwnCNN`` of ``plan(arch, ...)``, with random weights (``seed``: torch's seed first)."""
    import torch

    layers = plan(arch, in_channels, size, num_classes, caps=caps)
    if seed is not None:
        torch.manual_seed(seed)
    return _own_cnn_class()(arch, layers)


_CLASS = []


def _own_cnn_class():
    """``OwnCNN`` (defined on first use: importing this module loads no torch)."""
    if _CLASS:
        return _CLASS[0]
    from torch import nn

    class OwnCNN(nn.Module):
        """A learner's own network: one named module per layer of its plan (conv1, bn1, relu1,
        pool1, ..., flatten, fc1, ...), run in that order, as the bundled architectures are."""

        def __init__(self, arch: Architecture, layers: Plan):
            super().__init__()
            self.arch, self.plan = arch, layers
            for layer in layers.layers:
                self.add_module(layer.name, _module(layer))

        def forward(self, x):
            for module in self.children():
                x = module(x)
            return x

    OwnCNN.__qualname__ = OwnCNN.__name__ = ARCH_NAME
    _CLASS.append(OwnCNN)
    return OwnCNN


# The full-MNIST recipe's network (issue 19): three 3 x 3 conv blocks with batch norm, each halving
# the map, and the output layer. Trained with AdamW and a one-cycle schedule for 2 epochs.
FULL_MNIST = Architecture((Block(32, 3, 1, 1, 2, True), Block(32, 3, 1, 1, 2, True), Block(64, 3, 1, 1, 2, True)),
                          dense=())
