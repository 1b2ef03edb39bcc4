"""Feature visualization: the picture a channel would like to see most (Olah et al., "Feature
Visualization", Distill 2017), made to work on 28 x 28 grey and 32 x 32 colour inputs.

Regularized activation maximization: the picture is not optimized pixel by pixel (that gives
high-frequency noise the network happens to react to) but through

- a **Fourier parametrization** with a 1/f spectrum: every frequency is a parameter scaled by
  1/f, so a step of the optimizer moves coarse patterns as easily as fine ones, and tapered
  above the frequency under which 80 % of the network's own test pictures' power lies
  (``spectrum_taper``: 0.18 cycles per pixel for MNIST's strokes, 0.15 for Fashion-MNIST, 0.13
  for CIFAR-10's photos); at 28 px, without it, the optimum is pixel noise;
- for colour, lucid's **decorrelated colours**: the three parameters of a pixel are mixed by
  the square root of natural images' colour covariance before they become red, green and blue;
- a **sigmoid** into pixel values in [0, 1], starting from the data's mean colour (a grey start,
  far from MNIST's black ground, leaves the optimizer below the test images), then the network's
  own normalization;
- **random transformations** at every step, scaled to the input (jitter of 1-2 px at 28 px,
  a few per cent of scale, a few degrees of rotation): a pattern that excites the channel only
  at one exact pixel offset does not survive them. They fade out over the first three quarters
  of the steps, so the picture ends tuned to the channel as it is shown;
- during the first half of the steps, a ReLU passes a little gradient below 0 (``LEAKY``): a
  channel after a ReLU is often 0 everywhere for the start picture, and would never move.

The objective is the channel's mean positive activation (after a ReLU: where the pattern is
present) plus ``PEAK_WEIGHT`` times its strongest value: the mean makes the pattern fill the
picture (a plain mean would prefer a flat picture to an edge detector's stripes, whose negative
half cancels the positive one), the peak makes it strong where it is strongest.

Every channel of a layer is optimized as one batch (image ``i``'s loss is its own channel's mean
objective), so a whole grid costs far less than its channels one by one. The shared network is never
modified: gradients are taken with respect to the image only (``torch.autograd.grad``), and the
forward pass stops at the layer (the rest of the network is not run).

"Excites" is measured as ``inspect.top_images`` ranks test images: the channel's strongest value
in its map (``peak``).
"""

from __future__ import annotations

import math
import threading

import numpy as np
import torch
import torch.nn.functional as F

STEPS = 256                  # optimizer steps at the bundled networks' sizes (28 and 32 px: about a second)
LARGE_STEPS = 200            # ... and above 64 px (ResNet-18 at 224 px: about 116 ms a step on one thread)
LEARNING_RATE = 0.2          # Adam's, on the Fourier coefficients
DIVERSITY_WEIGHT = 1.0       # lucid's diversity term, relative to the channels' own activation
PEAK_WEIGHT = 2.0            # objective: the channel's mean activation + this x its strongest value
LEAKY = 0.1                  # the ReLUs' gradient below 0 during the first half of the steps
STEADY = 0.25                # the last quarter of the steps: no random transformation (they fade out)
TAPER = 0.15                 # cycles per pixel: the spectrum also falls as exp(-(f / taper)^2), taper
                             # = ``spectrum_taper``: this for a network without a dataset of its own
TAPER_SHARE = 0.8            # ... else where this share of its test pictures' power lies below
HIGH_FREQUENCY = 0.25        # cycles per pixel: half the Nyquist frequency (0.5)

# the square root of natural images' RGB covariance (its eigenvectors scaled by the square root of
# the eigenvalues), as measured on ImageNet and used by lucid: colour parameters -> RGB
_COLOR_SQRT = ((0.26, 0.09, 0.02),
               (0.27, 0.00, -0.05),
               (0.27, -0.09, 0.03))


class _Reached(Exception):
    """Raised by the hook at the layer looked at: the rest of the network need not run."""


def _layer_output(model, layer: str, x: torch.Tensor, *, leaky: float = 0.0) -> torch.Tensor:
    """The output of ``layer`` for ``x``, kept in the autograd graph, without running the layers
    after it. Hooks of this thread only (a shared model's other forward passes are untouched).

    ``leaky``: every ReLU's gradient is ``leaky`` (not 0) where its input is negative; its output
    is unchanged. From a grey start, a channel after a ReLU is often 0 everywhere, and the plain
    gradient, 0, would never move the picture (lucid redirects the ReLU's gradient likewise)."""
    modules = dict(model.named_modules())
    if layer not in modules:
        raise KeyError(f"no such layer: {layer}")
    me, seen = threading.get_ident(), {}

    def hook(_module, _args, output):
        if threading.get_ident() == me:
            seen["out"] = output[0] if isinstance(output, (tuple, list)) else output
            raise _Reached

    def leak(_module, args, output):
        if threading.get_ident() == me and isinstance(output, torch.Tensor) and not _module.inplace:
            inp = args[0]
            return output + leaky * (inp - inp.detach()) * (inp < 0)

    handles = [modules[layer].register_forward_hook(hook)]
    if leaky:
        handles += [m.register_forward_hook(leak) for m in modules.values() if isinstance(m, torch.nn.ReLU)]
    try:
        model(x)
    except _Reached:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return seen["out"]


def _spectrum_scale(h: int, w: int, taper: float) -> torch.Tensor:
    """1/f for every coefficient of a real 2D FFT of an h x w picture (f in cycles per pixel,
    the constant term scaled as the lowest frequency), normalized so the scales' RMS is 1."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    scale = 1.0 / np.maximum(f, 1.0 / max(h, w)) * np.exp(-(f / taper) ** 2)
    scale = scale / np.sqrt((scale ** 2).mean())
    return torch.tensor(scale, dtype=torch.float32)


class _FourierImage:
    """``n`` pictures of c x h x w parametrized by their 1/f-scaled Fourier coefficients (and, for
    colour, decorrelated colours): ``pixels()`` -> (n, c, h, w) in [0, 1]."""

    def __init__(self, n: int, c: int, h: int, w: int, generator: torch.Generator, mean, taper: float):
        self.h, self.w, self.c = h, w, c
        m = torch.tensor(mean, dtype=torch.float32).clamp(0.05, 0.95)
        self.offset = torch.log(m / (1 - m)).view(1, c, 1, 1)   # starts at the data's mean colour
        self.scale = _spectrum_scale(h, w, taper)
        shape = (n, c, h, w // 2 + 1, 2)
        self.param = (torch.randn(shape, generator=generator) * 0.01).requires_grad_(True)

    def pixels(self) -> torch.Tensor:
        spec = torch.view_as_complex(self.param) * self.scale
        x = torch.fft.irfft2(spec, s=(self.h, self.w), norm="ortho")     # (n, c, h, w)
        if self.c == 3:
            color = torch.tensor(_COLOR_SQRT, dtype=x.dtype)
            color = color / color.norm(dim=0).max()
            x = torch.einsum("ij,njhw->nihw", color, x)
        return torch.sigmoid(x + self.offset)


def _dataset_taper(dataset: str) -> float:
    from cnnviz.data import datasets

    x, _ = datasets.first_test_images(dataset, 300)
    grey = x.numpy().astype(np.float64).mean(axis=1)
    grey = grey - grey.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(grey)) ** 2).mean(axis=0).ravel()
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(grey.shape[1]), np.fft.fftfreq(grey.shape[2]), indexing="ij")).ravel()
    order = np.argsort(f, kind="stable")
    share = np.cumsum(power[order]) / power.sum()
    return float(f[order][np.searchsorted(share, TAPER_SHARE)])


_TAPERS: dict[str, float] = {}


def spectrum_taper(loaded) -> float:
    """Where the optimized picture's spectrum is tapered (cycles per pixel): the frequency below
    which ``TAPER_SHARE`` of the power of the first 300 test pictures of the network's dataset lies
    (a bundled network), else ``TAPER``. Pictures as sharp as those the network learned from."""
    from cnnviz import models

    spec = models.BUNDLED.get(loaded.name) if loaded.source == "bundled" else None
    if spec is None:
        return TAPER
    if spec.dataset not in _TAPERS:
        _TAPERS[spec.dataset] = _dataset_taper(spec.dataset)
    return _TAPERS[spec.dataset]


def _transform(x: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Each picture of ``x`` (n, c, h, w) moved by up to h/14 px (2 px at 28 px), scaled by
    0.92-1.08 and turned by up to 8 degrees, each by its own random draw, all times ``strength``;
    the edges repeat the border (no black frame the channel could learn to like)."""
    n, _, h, w = x.shape
    shift = max(1, round(min(h, w) / 14))                       # 2 px at 28 px, 16 px at 224 px
    s = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.08 * strength
    a = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(8) * strength
    t = torch.randint(-shift, shift + 1, (n, 2), generator=generator).float() * strength
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([torch.stack([cos, -sin, t[:, 0] * 2 / w], 1),
                         torch.stack([sin, cos, t[:, 1] * 2 / h], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _normalize(loaded, x: torch.Tensor) -> torch.Tensor:
    from cnnviz.data.datasets import normalize

    return normalize(x, loaded.mean, loaded.std)


def _gram_similarity(acts: torch.Tensor) -> torch.Tensor:
    """Lucid's diversity: the mean cosine similarity between the gram matrices (channel x channel
    correlations of the layer) of every pair of pictures in the batch."""
    n = acts.shape[0]
    flat = acts.flatten(2)                                        # (n, C, HW)
    gram = (flat @ flat.transpose(1, 2)).flatten(1)               # (n, C*C)
    gram = F.normalize(gram, dim=1)
    sim = gram @ gram.T
    return (sim.sum() - sim.diagonal().sum()) / max(n * (n - 1), 1)


def _optimize(loaded, layer: str, objectives: list[tuple[int, ...]], *, steps: int, seed: int, progress=None,
              diversity: float = 0.0) -> np.ndarray:
    """One picture per entry of ``objectives`` (the channels whose objectives it maximizes,
    summed), all in one batch -> (n, h, w) or (n, h, w, 3) float32 in [0, 1]."""
    model = loaded.model
    h, w = loaded.input_size
    c = loaded.in_channels
    gen = torch.Generator().manual_seed(int(seed))
    image = _FourierImage(len(objectives), c, h, w, gen, loaded.mean, spectrum_taper(loaded))
    opt = torch.optim.Adam([image.param], lr=LEARNING_RATE)
    index = torch.tensor([[ch for ch in obj] + [obj[0]] * (2 - len(obj)) for obj in objectives])   # (n, 2)
    weights = torch.tensor([[1.0] * len(obj) + [0.0] * (2 - len(obj)) for obj in objectives])
    rows = torch.arange(len(objectives))[:, None]
    for step in range(int(steps)):
        strength = max(0.0, 1 - step / ((1 - STEADY) * steps))
        pixels = image.pixels()
        x = _normalize(loaded, _transform(pixels, gen, strength))
        leaky = LEAKY if step < steps // 2 else 0.0
        acts = _layer_output(model, layer, x, leaky=leaky)        # (n, C, H', W')
        flat = acts.flatten(2)
        score = F.leaky_relu(flat, leaky).mean(2) + PEAK_WEIGHT * flat.amax(2)   # (n, C): how much, how strong
        gain = (score[rows, index] * weights).sum(1)              # each picture's own objective
        loss = -gain.sum()
        if diversity:
            loss = loss + diversity * gain.detach().abs().mean() * len(objectives) * _gram_similarity(acts)
        grad, = torch.autograd.grad(loss, image.param)            # the shared weights get no .grad
        image.param.grad = grad
        opt.step()
        if progress is not None:
            progress(step + 1, int(steps))
    with torch.no_grad():
        out = image.pixels().permute(0, 2, 3, 1).numpy().astype(np.float32)
    return out[..., 0] if c == 1 else out


def _checked_channels(loaded, layer: str, channels) -> None:
    n = channel_count(loaded, layer)
    bad = [ch for ch in channels if not 0 <= int(ch) < n]
    if bad:
        raise IndexError(f"{layer} has {n} channels, not {bad}")


def default_steps(loaded) -> int:
    """``STEPS`` for small inputs, ``LARGE_STEPS`` above 64 px (a step there costs 100 times more)."""
    return STEPS if max(loaded.input_size) <= 64 else LARGE_STEPS


def channel_count(loaded, layer: str) -> int:
    """How many channels ``layer`` has (its output for one grey picture)."""
    h, w = loaded.input_size
    with torch.no_grad():
        return int(_layer_output(loaded.model, layer, torch.zeros(1, loaded.in_channels, h, w)).shape[1])


def visualize(loaded, layer: str, channel: int, *, steps: int | None = None, seed: int = 0, progress=None) -> np.ndarray:
    """The picture that excites ``channel`` of ``layer`` most, regularized so it shows a pattern,
    not noise: (H, W) grey or (H, W, 3) colour in [0, 1], at the network's input size.

    ``loaded`` as ``models.load(name)`` gives it; ``progress(done, total)`` after each step.
    Seeded and deterministic."""
    _checked_channels(loaded, layer, [channel])
    return _optimize(loaded, layer, [(int(channel),)], steps=steps or default_steps(loaded), seed=seed,
                     progress=progress)[0]


def visualize_layer(loaded, layer: str, channels=None, *, steps: int | None = None, seed: int = 0,
                    progress=None) -> np.ndarray:
    """``visualize`` for every channel of ``layer`` (or those of ``channels``) in one batch ->
    (n, H, W) or (n, H, W, 3). Picture ``i`` is the same as ``visualize(..., channels[i], seed=seed)``
    would give only in distribution: the random draws are shared by the batch."""
    channels = list(range(channel_count(loaded, layer))) if channels is None else [int(c) for c in channels]
    _checked_channels(loaded, layer, channels)
    return _optimize(loaded, layer, [(ch,) for ch in channels], steps=steps or default_steps(loaded), seed=seed,
                     progress=progress)


def diverse(loaded, layer: str, channel: int, n: int = 4, *, steps: int | None = None, seed: int = 0,
            weight: float = DIVERSITY_WEIGHT, progress=None) -> np.ndarray:
    """``n`` different pictures that all excite ``channel``: optimized together with a penalty on
    how alike their gram matrices (the layer's channel correlations) are (lucid's diversity) ->
    (n, H, W) or (n, H, W, 3). A channel often answers to several patterns; one optimum hides it."""
    if n < 2:
        raise ValueError("diversity needs at least two pictures")
    _checked_channels(loaded, layer, [channel])
    return _optimize(loaded, layer, [(int(channel),)] * n, steps=steps or default_steps(loaded), seed=seed,
                     progress=progress, diversity=weight)


def interaction(loaded, layer: str, a: int, b: int, *, steps: int | None = None, seed: int = 0,
                progress=None) -> np.ndarray:
    """The picture that excites channels ``a`` and ``b`` of ``layer`` together: the sum of their
    mean activations is maximized (lucid's "interaction") -> (H, W) or (H, W, 3)."""
    _checked_channels(loaded, layer, [a, b])
    return _optimize(loaded, layer, [(int(a), int(b))], steps=steps or default_steps(loaded), seed=seed,
                     progress=progress)[0]


@torch.no_grad()
def peak(loaded, layer: str, channel: int, pixels) -> float:
    """How strongly ``pixels`` ((H, W) or (H, W, 3) in [0, 1], the network's input size) excite
    ``channel``: its strongest value in the map, the measure the top images are ranked by."""
    x = torch.as_tensor(np.asarray(pixels, dtype=np.float32))
    x = x[None, None] if x.ndim == 2 else x.permute(2, 0, 1)[None]
    return float(_layer_output(loaded.model, layer, _normalize(loaded, x))[0, int(channel)].max())


def high_frequency_share(pixels) -> float:
    """The share of a picture's power (its mean removed) above half the Nyquist frequency
    (``HIGH_FREQUENCY`` cycles per pixel, radially) of its 2D FFT, colours averaged: about 0 for
    smooth patterns, about 0.8 for white noise."""
    img = np.asarray(pixels, dtype=np.float64)
    if img.ndim == 3:
        img = img.mean(axis=2)
    power = np.abs(np.fft.fft2(img - img.mean())) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(img.shape[0]), np.fft.fftfreq(img.shape[1]), indexing="ij"))
    total = power.sum()
    return float(power[f > HIGH_FREQUENCY].sum() / total) if total > 0 else 0.0
