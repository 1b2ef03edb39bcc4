"""Convolution as the course explains it: a kernel slides over the image.

At every output position the kernel covers a *receptive field* of the input;
we multiply the two elementwise and add everything up (plus a bias). Doing
that at every position fills the *activation map*. Like
``torch.nn.functional.conv2d`` this is really cross-correlation: the kernel is
not flipped.

``convolve2d`` returns a ``Convolution`` that holds the whole map and can
replay any single step (``.step(row, col)``) for the step-by-step lesson.
``convolve1d`` is the same idea along a signal.

The whole map is computed by ``cnnviz.maths.conv_engine`` (a numba-compiled loop, compiled in
the background; numpy until then); ``warm_up(wait=True)`` compiles it now and says its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.base.errors import CnnvizError
from cnnviz.maths.conv_engine import slide, warm_up  # noqa: F401 - warm_up: conv.warm_up, as the README says


class ConvError(CnnvizError):
    """Settings that make the convolution impossible (stride 0, kernel too big...)."""


def kernel_span(kernel: int, dilation: int = 1) -> int:
    """How many input pixels (samples) a kernel of ``kernel`` weights covers along one axis:
    d(k-1) + 1 (dilation spreads the same weights apart). The one place this is computed."""
    return dilation * (kernel - 1) + 1


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """How many positions a kernel fits along one axis of length ``n``.

    floor((n + 2*padding - dilation*(kernel-1) - 1) / stride) + 1, the formula
    in the ``torch.nn.Conv2d`` documentation.
    """
    _check_settings(kernel, stride, padding, dilation)
    span = kernel_span(kernel, dilation)
    room = n + 2 * padding - span
    if room < 0:
        raise ConvError("convolve.error.kernel_too_big", span=span, size=n + 2 * padding)
    return room // stride + 1


def output_size_tex(axis: str, n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, *,
                    general: bool = True) -> str:
    """``output_size`` written out in LaTeX with its numbers filled in, for one axis named ``axis``
    ("H", "W", "N"): ``general`` first writes the formula with letters."""
    out = output_size(n, kernel, stride, padding, dilation)
    letters = rf"\left\lfloor \frac{{{axis} + 2p - d(k-1) - 1}}{{s}} \right\rfloor + 1 = " if general else ""
    return (rf"{axis}_{{out}} = {letters}"
            rf"\left\lfloor \frac{{{n} + 2\cdot{padding} - {dilation}\cdot({kernel}-1) - 1}}{{{stride}}} \right\rfloor"
            rf" + 1 = {out}")


def _check_settings(kernel: int, stride: int, padding: int, dilation: int) -> None:
    for name, value, low in (("kernel", kernel, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ConvError(f"convolve.error.bad_{name}", value=value, low=low)


@dataclass
class Step:
    """One position of the sliding window, everything the lesson shows."""

    row: int
    col: int
    top: int                       # receptive field's top-left corner in the *unpadded* input
    left: int                      # (may be negative when it hangs over the padding)
    field: np.ndarray              # (C, kh, kw): the input values the kernel sees (zeros = padding)
    products: np.ndarray           # (C, kh, kw): field * kernel
    channel_sums: np.ndarray       # (C,): the sum of products per input channel
    bias: float
    total: float                   # sum of all products + bias = the activation map's value

    @property
    def relu(self) -> float:
        return max(self.total, 0.0)

    @property
    def span(self) -> tuple[int, int]:
        """Height and width of the receptive field in input pixels (grows with dilation)."""
        c, kh, kw = self.field.shape
        return kh, kw


@dataclass
class Convolution:
    image: np.ndarray              # (C, H, W) float64
    kernel: np.ndarray             # (C, kh, kw) float64
    stride: int
    padding: int
    dilation: int
    bias: float
    output: np.ndarray = field(repr=False)   # (H_out, W_out): the activation map

    @property
    def shape(self) -> tuple[int, int]:
        return self.output.shape

    @property
    def positions(self) -> int:
        """How many places the kernel fits: H_out * W_out (784 for 5x5 on 32x32)."""
        return int(self.output.size)

    @property
    def products_per_step(self) -> int:
        """Multiplications per position: kh * kw * C (75 for a 5x5x3 filter)."""
        return int(self.kernel.size)

    def step(self, row: int, col: int) -> Step:
        """Replay the kernel at output position (row, col), the slow and visible way."""
        h_out, w_out = self.output.shape
        if not (0 <= row < h_out and 0 <= col < w_out):
            raise ConvError("convolve.error.bad_position", row=row, col=col, h=h_out, w=w_out)
        c, kh, kw = self.kernel.shape
        d, s, p = self.dilation, self.stride, self.padding
        # In padded coordinates the window always fits (output_size made sure).
        rows = row * s + d * np.arange(kh)
        cols = col * s + d * np.arange(kw)
        field_ = self.padded[:, rows][:, :, cols]
        products = field_ * self.kernel
        channel_sums = products.sum(axis=(1, 2))
        total = float(channel_sums.sum() + self.bias)
        return Step(row, col, row * s - p, col * s - p, field_, products, channel_sums,
                    self.bias, total)

    @property
    def padded(self) -> np.ndarray:
        """The input with ``padding`` rows/columns of zeros around it."""
        p = self.padding
        return np.pad(self.image, ((0, 0), (p, p), (p, p)))

    def receptive_box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the receptive field in unpadded input pixels."""
        _, kh, kw = self.kernel.shape
        top, left = row * self.stride - self.padding, col * self.stride - self.padding
        return top, left, kernel_span(kh, self.dilation), kernel_span(kw, self.dilation)


def _as_chw(image, kernel) -> tuple[np.ndarray, np.ndarray]:
    img = np.asarray(image, dtype=np.float64)
    ker = np.asarray(kernel, dtype=np.float64)
    if img.ndim == 2:
        img = img[None]
    if ker.ndim == 2:
        ker = ker[None]
    if img.ndim != 3 or ker.ndim != 3 or 0 in img.shape or 0 in ker.shape:
        raise ConvError("convolve.error.bad_shapes", image=tuple(np.shape(image)), kernel=tuple(np.shape(kernel)))
    if ker.shape[0] != img.shape[0]:
        if ker.shape[0] == 1:
            # A 2D kernel on a colour image: the same slice at every depth, so the
            # filter's depth matches the input's (the course: 5x5 -> 5x5x3).
            ker = np.repeat(ker, img.shape[0], axis=0)
        else:
            raise ConvError("convolve.error.depth_mismatch", kernel_depth=ker.shape[0], image_depth=img.shape[0])
    # One sum instead of an isfinite mask (4x faster on a photo): a NaN or an infinity anywhere
    # makes the sum NaN or infinite. Only values near 1e300 could overflow it, and those would
    # overflow the float32 map anyway.
    if not (np.isfinite(img.sum()) and np.isfinite(ker.sum())):
        raise ConvError("convolve.error.not_finite")
    return img, ker


def convolve2d(image, kernel, *, stride: int = 1, padding: int = 0, dilation: int = 1,
               bias: float = 0.0, engine: str = "auto") -> Convolution:
    """Slide ``kernel`` over ``image`` and return the activation map and its steps.

    image: (H, W) or (C, H, W). kernel: (kh, kw) or (C, kh, kw); a 2D kernel on a
    C-channel image is repeated through the depth. Matches
    ``F.conv2d(image[None], kernel[None], bias, stride, padding, dilation)``.
    engine: "auto" (compiled once ready, numpy meanwhile), "jit" (wait for the
    compiled one) or "numpy"; all give the same map to float32 rounding.
    """
    img, ker = _as_chw(image, kernel)
    c, kh, kw = ker.shape
    _, h, w = img.shape
    h_out = output_size(h, kh, stride, padding, dilation)
    w_out = output_size(w, kw, stride, padding, dilation)
    if not np.isfinite(bias):
        raise ConvError("convolve.error.not_finite")
    # The same slice at every depth: adding the channels first gives the same sums
    # with a third of the work (sum_c w*x_c = w * sum_c x_c).
    same_slice = c > 1 and bool(np.all(ker == ker[:1]))
    weights = ker[:1] if same_slice else ker
    if engine not in ("auto", "jit", "numpy"):
        raise ValueError(f"engine must be 'auto', 'jit' or 'numpy', not {engine!r}")
    out = slide(img, weights, h_out, w_out, stride, padding, dilation, float(bias), engine, same_slice)
    return Convolution(img, ker, stride, padding, dilation, float(bias), out)


@dataclass
class Convolution1D:
    signal: np.ndarray             # (N,)
    kernel: np.ndarray             # (k,)
    stride: int
    padding: int
    dilation: int
    bias: float
    windows: np.ndarray = field(repr=False)   # (N_out, k): what the kernel sees at each step
    output: np.ndarray = field(repr=False)    # (N_out,)

    def step(self, i: int) -> Step:
        if not 0 <= i < len(self.output):
            raise ConvError("convolve.error.bad_position", row=0, col=i, h=1, w=len(self.output))
        window = self.windows[i]
        products = window * self.kernel
        total = float(products.sum() + self.bias)
        return Step(0, i, 0, i * self.stride - self.padding, window[None, None], products[None, None],
                    np.array([products.sum()]), self.bias, total)


def convolve1d(signal, kernel, *, stride: int = 1, padding: int = 0, dilation: int = 1,
               bias: float = 0.0) -> Convolution1D:
    """The 1D version: a kernel slides along a signal (``F.conv1d`` semantics)."""
    sig = np.asarray(signal, dtype=np.float64)
    ker = np.asarray(kernel, dtype=np.float64)
    if sig.ndim != 1 or ker.ndim != 1 or not sig.size or not ker.size:
        raise ConvError("convolve.error.bad_shapes", image=sig.shape, kernel=ker.shape)
    if not (np.isfinite(sig).all() and np.isfinite(ker).all() and np.isfinite(bias)):
        raise ConvError("convolve.error.not_finite")
    n_out = output_size(len(sig), len(ker), stride, padding, dilation)
    padded = np.pad(sig, padding)
    span = kernel_span(len(ker), dilation)
    windows = np.lib.stride_tricks.sliding_window_view(padded, span)[::stride, ::dilation][:n_out]
    out = windows @ ker + bias
    return Convolution1D(sig, ker, stride, padding, dilation, float(bias), windows, out)


def torch_line(in_channels: int, out_channels: int, kernel: int, stride: int, padding: int,
               dilation: int, bias: bool = True) -> str:
    """The ``torch.nn.Conv2d(...)`` call that computes the same thing."""
    return (f"torch.nn.Conv2d(in_channels={in_channels}, out_channels={out_channels}, "
            f"kernel_size={kernel}, stride={stride}, padding={padding}, "
            f"dilation={dilation}, bias={bias})")
