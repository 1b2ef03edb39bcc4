"""Receptive fields: how much of the input image one unit of a layer can see.

Going through a layer with kernel k, stride s, padding p and dilation d, a unit's
field grows by (d(k-1)) * jump pixels, where jump is how far apart (in input
pixels) two neighbouring units of the previous layer are; the jump is then
multiplied by s. ``start`` is the centre of unit (0, 0) in input pixels.
(The arithmetic of Araujo, Norris & Sim, "Computing Receptive Fields of CNNs",
Distill 2019.)
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class Field:
    size: int = 1          # pixels of the input a unit sees (along one axis)
    jump: int = 1          # input pixels between neighbouring units
    start: float = 0.0     # centre of unit 0 in input coordinates
    whole: bool = False    # a fully connected / global layer sees the whole image

    def through(self, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> "Field":
        span = dilation * (kernel - 1) + 1
        return Field(size=self.size + (span - 1) * self.jump, jump=self.jump * stride,
                     start=self.start + ((span - 1) / 2 - padding) * self.jump, whole=self.whole)

    def box(self, row: int, col: int) -> tuple[int, int, int]:
        """(top, left, size) in input pixels of unit (row, col); may hang over the border."""
        half = (self.size - 1) / 2
        return (round(self.start + row * self.jump - half), round(self.start + col * self.jump - half), self.size)


def _one(v) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def through_module(field: Field, module: nn.Module) -> Field:
    """The field after ``module`` (a leaf layer or a block such as ResNet's BasicBlock)."""
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        return field.through(_one(module.kernel_size), _one(module.stride), _one(module.padding),
                             _one(getattr(module, "dilation", 1)))
    if isinstance(module, (nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return Field(field.size, field.jump, field.start, whole=True)
    if any(True for _ in module.children()):
        # A block: follow its main path in definition order; a "downsample" shortcut
        # runs beside the main path and does not widen the field.
        for name, child in module.named_children():
            if name != "downsample":
                field = through_module(field, child)
    return field


def fields(model: nn.Module, layers: list[str]) -> dict[str, Field]:
    """The receptive field after each of ``layers`` (names in forward order, e.g. from
    ``cnnviz.inspect.layer_names``), assuming they form the network's main path."""
    modules = dict(model.named_modules())
    out, field = {}, Field()
    for name in layers:
        field = through_module(field, modules[name])
        out[name] = field
    return out


def stack(layers: list[tuple[str, int, int, int, int]]) -> list[tuple[str, Field]]:
    """A learner's own stack of (name, kernel, stride, padding, dilation) -> fields, layer by layer."""
    field, rows = Field(), []
    for name, k, s, p, d in layers:
        field = field.through(k, s, p, d)
        rows.append((name, field))
    return rows


def effective_field(model: nn.Module, x, layer: str, *, channel: int | None = None, row: int | None = None,
                    col: int | None = None):
    """The *effective* receptive field (Luo et al., 2016): |d unit / d input| for one unit of
    ``layer`` (default: the centre, all channels summed), summed over colour channels -> (H, W).

    The theoretical field says what a unit *could* see; the gradient shows what it
    actually weighs, usually a blob much smaller than the theoretical square.
    Safe on a shared model: no weights change, the hook is ours and thread-keyed.
    """
    import torch

    from .inspect import capture

    inp = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), capture(model, [layer], detach=False) as store:
        model(inp)
    out = store[layer]
    _, c, h, w = out.shape
    row = h // 2 if row is None else row
    col = w // 2 if col is None else col
    unit = out[0, :, row, col].sum() if channel is None else out[0, channel, row, col]
    (grad,) = torch.autograd.grad(unit, inp)
    return grad.abs().sum(dim=1)[0].numpy(), (row, col)
