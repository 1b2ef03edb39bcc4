"""Receptive fields: how much of the input image one unit of a layer can see.

Going through a layer with kernel k, stride s, padding p and dilation d, a unit's
field grows by (d(k-1)) * jump pixels, where jump is how far apart (in input
pixels) two neighbouring units of the previous layer are; the jump is then
multiplied by s. ``start`` is the centre of unit (0, 0) in input pixels.
(The arithmetic of Araujo, Norris & Sim, "Computing Receptive Fields of CNNs",
Distill 2019.)

That arithmetic knows nothing of the image's size. Given the size of the input, ``fields`` also
follows the maps' sizes and, for every unit, the rows and columns of the input it really reaches
(padding reaches nothing). That is what decides two things the arithmetic can't:

- an adaptive pooling is a pooling whose kernel depends on the size of the map it gets: on a
  7 x 7 map VGG-16's ``AdaptiveAvgPool2d((7, 7))`` is the identity, on a 14 x 14 map a 2 x 2
  pooling of stride 2, and ``AdaptiveAvgPool2d(1)`` averages the whole map. When the bins don't
  divide the map evenly they have different widths: the field given is that of the widest bin
  (``uniform`` is False) and each unit's own rows and columns stay exact;
- ``whole`` is true only where every unit's field covers every pixel of the input.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn

from cnnviz.maths.conv import kernel_span, output_size

Span = tuple[tuple[int, int], ...]      # per unit along one axis: (first, last) input pixel it reaches


@dataclass(frozen=True)
class Field:
    size: int = 1          # pixels of the input a unit sees (along one axis), padding included
    jump: float = 1        # input pixels between neighbouring units
    start: float = 0.0     # centre of unit 0 in input coordinates
    whole: bool = False    # every unit sees every pixel of the input
    uniform: bool = True   # False after an adaptive pooling with bins of different widths: size is the widest's
    rows: Span | None = None   # with a known input size: the input rows each unit row reaches
    cols: Span | None = None   # ... and columns

    def through(self, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> "Field":
        span = kernel_span(kernel, dilation)
        return replace(self, size=self.size + (span - 1) * self.jump, jump=self.jump * stride,
                       start=self.start + ((span - 1) / 2 - padding) * self.jump)

    def box(self, row: int, col: int) -> tuple[int, int, int]:
        """(top, left, size) in input pixels of unit (row, col); may hang over the border."""
        half = (self.size - 1) / 2
        return (round(self.start + row * self.jump - half), round(self.start + col * self.jump - half), self.size)

    def seen(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the input pixels unit (row, col) reaches (needs the input size)."""
        (top, bottom), (left, right) = self.rows[row], self.cols[col]
        return top, left, bottom - top + 1, right - left + 1


def _out_len(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool = False) -> int:
    """Units along one axis after a convolution or pooling (torch's formula)."""
    reach = n + 2 * p - kernel_span(k, d)
    out = (-(-reach // s) if ceil_mode else reach // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:      # the last window must start inside the map or its left padding
        out -= 1
    return out


def _window(units: Span, k: int, s: int, p: int, d: int, ceil_mode: bool = False) -> Span:
    """Each output unit reaches what its kernel's taps inside the map reach (padding reaches nothing)."""
    n, out = len(units), []
    for j in range(_out_len(n, k, s, p, d, ceil_mode)):
        taps = [units[q] for q in (j * s - p + t * d for t in range(k)) if 0 <= q < n]
        out.append((min(a for a, _ in taps), max(b for _, b in taps)))
    return tuple(out)


def _bins(n: int, m: int) -> list[tuple[int, int]]:
    """An adaptive pooling from n to m units: unit i averages units [a, b) (torch's bins)."""
    return [(i * n // m, -(-(i + 1) * n // m)) for i in range(m)]


def _adaptive(units: Span, m: int | None) -> Span:
    m = len(units) if m is None else m
    return tuple((min(a for a, _ in units[lo:hi]), max(b for _, b in units[lo:hi])) for lo, hi in _bins(len(units), m))


def _everything(units: Span) -> tuple[int, int]:
    return min(a for a, _ in units), max(b for _, b in units)


def _covers(units: Span | None, n: int) -> bool:
    return units is not None and all(a <= 0 and b >= n - 1 for a, b in units)


def _pair(v, i: int):
    return v[i] if isinstance(v, (tuple, list)) else v


def _geometry(module: nn.Module, axis: int) -> tuple[int, int, int, int]:
    """(kernel, stride, padding, dilation) of a convolution or pooling along one axis."""
    k, s = _pair(module.kernel_size, axis), _pair(module.stride, axis)
    d = _pair(getattr(module, "dilation", 1), axis)
    p = module.padding
    if p == "valid":
        p = 0
    elif p == "same":                                   # torch pads d(k-1) in all, the smaller half first
        p = (kernel_span(k, d) - 1) // 2
    return int(k), int(s or k), int(_pair(p, axis)), int(d)


def _globally(field: Field) -> Field:
    """Every unit now reaches what all units of the map reached (a fully connected layer, a gate)."""
    n = len(field.rows)
    return replace(field.through(n, n) if n > 1 else field, rows=(_everything(field.rows),),
                   cols=(_everything(field.cols),))


def through_module(field: Field, module: nn.Module) -> Field:
    """The field after ``module`` (a leaf layer or a block such as ResNet's BasicBlock).

    ``field.rows`` / ``.cols`` known (``fields`` with an input size): sizes of maps are followed, so an
    adaptive pooling is computed as the pooling it is at that size. Unknown: a fully connected or
    adaptive layer is assumed to see the whole image (the arithmetic alone can't tell).
    """
    exact = field.rows is not None
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k, s, p, d = _geometry(module, 0)
        out = field.through(k, s, p, d)
        if not exact:
            return out
        ceil_mode = bool(getattr(module, "ceil_mode", False))
        return replace(out, rows=_window(field.rows, k, s, p, d, ceil_mode),
                       cols=_window(field.cols, *_geometry(module, 1), ceil_mode))
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        if not exact:
            return replace(field, whole=True)
        n, m = len(field.rows), _pair(module.output_size, 0)
        m = n if m is None else m
        bins = _bins(n, m)
        widths = [b - a for a, b in bins]
        if n % m == 0:                                  # a plain pooling of kernel = stride = n / m (1: identity)
            out = field.through(n // m, n // m)
        else:                                           # bins of different widths: the widest gives the size
            out = replace(field, size=field.size + (max(widths) - 1) * field.jump, jump=field.jump * n / m,
                          start=field.start + (widths[0] - 1) / 2 * field.jump, uniform=False)
        return replace(out, rows=_adaptive(field.rows, m), cols=_adaptive(field.cols, _pair(module.output_size, 1)))
    if isinstance(module, nn.Linear):
        return _globally(field) if exact else replace(field, whole=True)
    if type(module).__name__ == "SqueezeExcitation":
        # torchvision's squeeze-and-excitation (MobileNetV3): each channel is scaled by a number made
        # from the average of the whole map, so every unit depends on everything the map saw.
        if not exact:
            return replace(field, whole=True)
        g = _globally(field)
        n = len(field.rows)
        return replace(g, jump=0, rows=g.rows * n, cols=g.cols * len(field.cols))
    if any(True for _ in module.children()):
        # A block: follow its main path in definition order; a "downsample" shortcut
        # runs beside the main path and does not widen the field.
        for name, child in module.named_children():
            if name != "downsample":
                field = through_module(field, child)
    return field


def fields(model: nn.Module, layers: list[str], input_size: int | tuple[int, int] | None = None) -> dict[str, Field]:
    """The receptive field after each of ``layers`` (names in forward order, e.g. from
    ``cnnviz.analysis.inspect.layer_names``), assuming they form the network's main path.

    With ``input_size`` (pixels, or (height, width)) the maps' sizes are followed: adaptive poolings
    are what they are at that size, ``rows``/``cols`` give every unit's pixels and ``whole`` is true
    only where every unit sees every pixel. Without it, a fully connected or adaptive layer is
    assumed to see the whole image."""
    modules = dict(model.named_modules())
    if input_size is None:
        field, h, w = Field(), None, None
    else:
        h, w = (input_size, input_size) if isinstance(input_size, int) else map(int, input_size)
        field = Field(rows=tuple((i, i) for i in range(h)), cols=tuple((i, i) for i in range(w)))
    out = {}
    for name in layers:
        field = through_module(field, modules[name])
        if h is not None:
            field = replace(field, whole=_covers(field.rows, h) and _covers(field.cols, w))
        out[name] = field
    return out


@dataclass(frozen=True)
class Adaptive:
    """What an adaptive pooling does at one input size: ``kind`` is "same" (the identity), "global"
    (the whole map into one unit), "pool" (a ``kernel`` x ``kernel`` pooling of stride ``kernel``) or
    "uneven" (windows of different widths, the widest ``kernel`` units)."""
    layer: str
    before: tuple[int, int]     # the map it gets (rows, columns)
    after: tuple[int, int]      # the map it gives
    kind: str
    kernel: int


def adaptive_pools(model: nn.Module, layers: list[str], found: dict[str, Field]) -> list[Adaptive]:
    """The adaptive poolings among ``layers`` and what each is at the size ``found`` (from ``fields``
    with an input size) was computed for."""
    modules, out, before = dict(model.named_modules()), [], None
    for name in layers:
        f = found[name]
        if isinstance(modules[name], (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)) and before is not None:
            n, m = (len(before.rows), len(before.cols)), (len(f.rows), len(f.cols))
            widths = [b - a for a, b in _bins(n[0], m[0])] + [b - a for a, b in _bins(n[1], m[1])]
            kind = ("same" if n == m else "global" if m == (1, 1) else
                    "pool" if n[0] % m[0] == 0 and n[1] % m[1] == 0 and n[0] // m[0] == n[1] // m[1] else "uneven")
            out.append(Adaptive(name, n, m, kind, max(widths)))
        before = f
    return out


def stack(layers: list[tuple[str, int, int, int, int]]) -> list[tuple[str, Field]]:
    """A learner's own stack of (name, kernel, stride, padding, dilation) -> fields, layer by layer."""
    field, rows = Field(), []
    for name, k, s, p, d in layers:
        field = field.through(k, s, p, d)
        rows.append((name, field))
    return rows


def stack_output_size(layers: list[tuple[str, int, int, int, int]], size: tuple[int, int]) -> tuple[int, int]:
    """The (height, width) that ``stack``'s layers give on an input of ``size`` (height, width), layer
    by layer through ``conv.output_size``: a ``ConvError`` names the first layer that doesn't fit."""
    oh, ow = size
    for _, k, s, p, d in layers:
        oh, ow = output_size(oh, k, s, p, d), output_size(ow, k, s, p, d)
    return oh, ow


def effective_field(model: nn.Module, x, layer: str, *, channel: int | None = None, row: int | None = None,
                    col: int | None = None):
    """The *effective* receptive field (Luo et al., 2016): |d unit / d input| for one unit of
    ``layer`` (default: the centre, all channels summed), summed over colour channels -> (H, W).

    The theoretical field says what a unit *could* see; the gradient shows what it
    actually weighs, usually a blob much smaller than the theoretical square.
    Safe on a shared model: no weights change, the hook is ours and thread-keyed.
    """
    import torch

    from cnnviz.analysis.inspect import capture

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
