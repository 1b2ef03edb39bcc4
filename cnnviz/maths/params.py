"""Counting weights: why an MLP can't afford images and a CNN can (seed 000).

In a fully connected layer every neuron of layer i-1 connects to every neuron of
layer i: weights = N(i-1) * N(i). A convolution's weights depend only on its
kernel: k * k * C_in * C_out, whatever the image size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnnviz.base.errors import CnnvizError

BYTES = {"float32": 4, "float16": 2}


def mlp_weights(input_shape, hidden_units, *, outputs: int | None = None, bias: bool = False) -> int:
    """Weights of an MLP on a flattened input: sum of N(i-1) * N(i) (+ N(i) biases if ``bias``).

    ``input_shape`` is (H, W) or (H, W, C) or a number of inputs; ``hidden_units`` the
    neurons of each hidden layer; ``outputs`` an optional output layer.
    """
    return sum(layer.weights for layer in mlp_layers(input_shape, hidden_units, outputs=outputs, bias=bias))


def inputs(shape) -> int:
    """How many numbers an image is: H * W * C (an RGB 256 x 256 image: 196,608)."""
    if isinstance(shape, int):
        return shape
    return math.prod(int(s) for s in shape)


def conv_weights(in_channels: int, out_channels: int, kernel: int | tuple[int, int], *, bias: bool = False) -> int:
    """Weights of one convolution: kh * kw * C_in * C_out (+ C_out biases)."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return kh * kw * in_channels * out_channels + (out_channels if bias else 0)


def batch_norm_weights(channels: int) -> int:
    """Weights of a batch norm over ``channels`` channels: a scale and a shift per channel (its
    running mean and variance are statistics, not weights: nothing learns them by gradient)."""
    return 2 * channels


def conv_multiply_adds(in_channels: int, out_channels: int, kernel: int | tuple[int, int],
                       out_size: tuple[int, int]) -> int:
    """The multiply-adds one convolution does on one picture: each of the C_out x H_out x W_out
    outputs is a sum of kh * kw * C_in products (the work, where ``conv_weights`` is the memory)."""
    return conv_weights(in_channels, out_channels, kernel) * out_size[0] * out_size[1]


@dataclass
class LayerCount:
    name: str
    shape: tuple[int, ...]       # output (H, W, C) or (N,)
    weights: int


def mlp_layers(input_shape, hidden_units, *, outputs: int | None = None, bias: bool = False) -> list[LayerCount]:
    """The layers of ``mlp_weights``' MLP, fc1, fc2, ...: each one's neurons and weights,
    N(i-1) * N(i) (+ N(i) biases if ``bias``)."""
    sizes = [inputs(input_shape), *list(hidden_units)] + ([outputs] if outputs else [])
    return [LayerCount(f"fc{i}", (b,), a * b + (b if bias else 0)) for i, (a, b) in enumerate(zip(sizes, sizes[1:]), 1)]


def cnn_weights(input_shape: tuple[int, int, int], convs: list[tuple[int, int]], *, pool: int = 2,
                dense: list[int] = (), outputs: int | None = None, bias: bool = False) -> list[LayerCount]:
    """A simple CNN: each (out_channels, kernel) conv keeps the size ('same' padding), then a
    ``pool`` x ``pool`` pooling halves it; then fully connected layers. Per-layer counts."""
    h, w, c = input_shape
    rows = []
    for i, (out_c, k) in enumerate(convs, 1):
        rows.append(LayerCount(f"conv{i}", (h, w, out_c), conv_weights(c, out_c, k, bias=bias)))
        c = out_c
        if pool > 1:
            h, w = max(1, h // pool), max(1, w // pool)
            rows.append(LayerCount(f"pool{i}", (h, w, c), 0))
    n = h * w * c
    for j, units in enumerate([*dense] + ([outputs] if outputs else []), 1):
        rows.append(LayerCount(f"fc{j}", (units,), n * units + (units if bias else 0)))
        n = units
    return rows


@dataclass(frozen=True)
class Comparison:
    """Which of two networks needs more weights, and how many times more.

    ``more``: "mlp", "cnn" or "equal"; ``factor`` >= 1 (bigger / smaller; 1 when equal);
    ``digits``: decimals to show so that an unequal pair never reads "1 times" (or "0").
    """
    more: str
    factor: float
    digits: int


def compare(mlp: int, cnn: int) -> Comparison:
    """The MLP vs the CNN: who needs more weights, by a true factor (28 x 28 into 16..512
    filters: the CNN needs more; 256 x 256 into one equally wide layer: the MLP, by far)."""
    mlp, cnn = int(mlp), int(cnn)
    if mlp == cnn:
        return Comparison("equal", 1.0, 0)
    big, small = max(mlp, cnn), min(mlp, cnn)
    factor = big / small if small > 0 else math.inf
    digits = 0 if factor >= 10 else 1
    while math.isfinite(factor) and round(factor, digits) <= 1 and digits < 9:
        digits += 1          # 1.004 times: show 1.004, never "1"
    return Comparison("mlp" if mlp > cnn else "cnn", factor, digits)


def memory_bytes(weights: int, dtype: str = "float32") -> int:
    return weights * BYTES[dtype]


def human_bytes(n: float) -> tuple[float, str]:
    """(value, unit) in decimal units, as the course counts: 4.29e9 float32 weights ≈ 17.2 GB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return n / size, unit
    return float(n), "B"


# Memory a learner can compare with (decimal GB): what fits where.
DEVICES = {"phone": 6e9, "laptop": 16e9, "gpu_consumer": 24e9, "gpu_datacenter": 80e9}


def count(module, *, trainable: bool | None = None, recurse: bool = True) -> int:
    """The weights of a network or layer (any torch module): all of them, or only the ``trainable``
    ones (``True``) or the frozen ones (``False``); ``recurse=False``: only the layer's own. The
    one place that counts a model's weights."""
    return sum(p.numel() for p in module.parameters(recurse=recurse)
               if trainable is None or p.requires_grad == trainable)


def model_counts(model) -> list[tuple[str, str, int]]:
    """(layer name, type, weights) of every module that owns parameters, in definition order."""
    rows = []
    for name, module in model.named_modules():
        own = count(module, recurse=False)
        if own:
            rows.append((name, type(module).__name__, own))
    return rows


def parse_int_list(text: str, *, low: int, high: int) -> list[int]:
    """"16, 32, 64" -> [16, 32, 64] (the calculator's layer sizes); anything else is a translated
    error naming the bad item."""
    items = [s.strip() for s in (text or "").replace(";", ",").split(",") if s.strip()]
    if not items:
        raise CnnvizError("params.error.empty_list")
    out = []
    for item in items:
        if not item.isdigit():
            raise CnnvizError("params.error.not_int", value=item[:20])
        value = int(item)
        if not low <= value <= high:
            raise CnnvizError("params.error.out_of_range", value=value, low=low, high=high)
        out.append(value)
    return out
