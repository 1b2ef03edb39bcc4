"""Where does the network look? Grad-CAM and friends (via captum), with honest checks.

Every method has the same call shape and returns the same kind of map, so a
lesson can swap methods with a selectbox:

    exp = explain("gradcam", model, x, target=None, layer=None)   # -> Explanation
    exp.map          # (H, W) float in [0, 1], the input's size; zeros if exp.flat

Methods: "gradcam", "guided_backprop", "guided_gradcam", "saliency",
"integrated_gradients", "occlusion". ``grad_cam(model, x, ...)`` is the short form of the first.

Models are shared by every learner, and captum attaches hooks (forward hooks on
the explained layer, backward hooks on every ReLU for guided backprop) that
would catch other learners' forward passes. So captum never touches the shared
model: each model gets one private copy for explanations (made once, with
in-place ReLUs replaced, since guided backprop and Grad-CAM need each layer's
output intact), and explanations of one model take turns on it under a lock.
"""

from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

METHODS = ["gradcam", "guided_backprop", "guided_gradcam", "saliency", "integrated_gradients", "occlusion"]
MAX_IG_STEPS = 64
_private: "weakref.WeakKeyDictionary[nn.Module, tuple[nn.Module, threading.Lock]]" = weakref.WeakKeyDictionary()
_private_lock = threading.Lock()


def private_copy(model: nn.Module) -> tuple[nn.Module, threading.Lock]:
    """(copy of ``model`` for explanations, its lock): made once per shared model."""
    with _private_lock:
        if model not in _private:
            twin = copy.deepcopy(model).eval()
            for m in twin.modules():
                if isinstance(m, (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.SiLU)) and \
                        getattr(m, "inplace", False):
                    m.inplace = False
            for p in twin.parameters():
                p.requires_grad_(False)
            _private[model] = (twin, threading.Lock())
        return _private[model]


def conv_layers(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def map_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Layers (as cnnviz.inspect shows them) whose output is a stack of maps, in forward order."""
    from . import inspect as insp

    with torch.no_grad():
        acts = insp.activations(model, x[:1].detach())
    return [n for n, a in acts.items() if n != "output" and a.ndim == 4 and a.shape[-1] > 1]


def default_layer(model: nn.Module, x: torch.Tensor, *, layers: list[str] | None = None) -> str:
    """The usual Grad-CAM layer: the last stack of maps before the classifier, after its
    activation (relu2 of the digits net, layer4 of ResNet-18), skipping a final pooling.
    Deep enough to know what the class looks like, still spatial enough to say where.
    ``layers``: the result of ``map_layers`` when the caller has it (saves a forward pass)."""
    modules = dict(model.named_modules())
    names = map_layers(model, x) if layers is None else layers
    if not names:
        raise ValueError("this network has no spatial layer to explain")
    useful = [n for n in names if not isinstance(modules[n], _POOLS)]
    return (useful or names)[-1]


@dataclass
class Explanation:
    method: str
    map: np.ndarray          # (H, W) in [0, 1]
    raw: np.ndarray          # (H, W) before normalization (signed for some methods)
    target: int
    layer: str | None
    flat: bool               # True when the map has no information (constant or NaN)


def _normalize(raw: np.ndarray) -> tuple[np.ndarray, bool]:
    raw = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(raw).all():
        raw = np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(raw.min()), float(raw.max())
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.zeros_like(raw), True
    return (raw - lo) / (hi - lo), False


def _to_map(attr: torch.Tensor, size: tuple[int, int], *, absolute: bool) -> np.ndarray:
    """(1, C, h, w) attribution -> (H, W): channels summed (or |max|), upsampled to the input."""
    from captum.attr import LayerAttribution

    a = attr.detach()
    if a.shape[1] > 1:
        a = a.abs().amax(dim=1, keepdim=True) if absolute else a.sum(dim=1, keepdim=True)
    elif absolute:
        a = a.abs()
    if tuple(a.shape[-2:]) != tuple(size):
        a = LayerAttribution.interpolate(a, size, interpolate_mode="bilinear")
    return a[0, 0].float().numpy()


def _counting(model: nn.Module, total: int, progress: Callable[[int, int], None] | None):
    """The model as a forward function that reports progress after every call."""
    done = [0]

    def forward(inp):
        out = model(inp)
        done[0] += 1
        if progress:
            progress(min(done[0], total), total)
        return out
    return forward


def explain(method: str, model: nn.Module, x: torch.Tensor, *, target: int | None = None,
            layer: str | None = None, n_steps: int = 32, window: int | None = None,
            stride: int | None = None, progress: Callable[[int, int], None] | None = None) -> Explanation:
    """Explain the ``target`` class (default: the predicted one) for input ``x`` (1, C, H, W)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {METHODS}")
    twin, lock = private_copy(model)
    with lock:
        # a fresh leaf that requires grad: the twin's weights don't, and the layer outputs
        # Grad-CAM differentiates only carry gradients when something upstream does
        inp = x.detach().clone().requires_grad_(True)
        return _explain(method, twin, inp, target, layer, n_steps, window, stride, progress)


def _explain(method, model, x, target, layer, n_steps, window, stride, progress) -> Explanation:
    from captum.attr import (GuidedBackprop, GuidedGradCam, IntegratedGradients, LayerGradCam, Occlusion,
                             Saliency)

    size = tuple(x.shape[-2:])
    if target is None:
        with torch.no_grad():
            target = int(model(x.detach()).argmax(dim=1))
    layer = layer or default_layer(model, x)
    module = dict(model.named_modules())[layer]
    if method == "gradcam":
        attr = LayerGradCam(model, module).attribute(x, target=target, relu_attributions=True)
        raw = _to_map(attr, size, absolute=False)
    elif method == "guided_gradcam":
        attr = GuidedGradCam(model, module).attribute(x, target=target, interpolate_mode="bilinear")
        raw = _to_map(attr, size, absolute=True)
    elif method == "guided_backprop":
        attr = GuidedBackprop(model).attribute(x, target=target)
        raw = _to_map(attr, size, absolute=True)
    elif method == "saliency":
        attr = Saliency(model).attribute(x, target=target, abs=True)
        raw = _to_map(attr, size, absolute=True)
    elif method == "integrated_gradients":
        steps = int(np.clip(n_steps, 2, MAX_IG_STEPS))
        batch = 8
        calls = -(-steps // batch)
        ig = IntegratedGradients(_counting(model, calls, progress))
        attr = ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=steps,
                            internal_batch_size=batch)
        raw = _to_map(attr, size, absolute=True)
    else:  # occlusion: Zeiler & Fergus' grey square
        h, w = size
        window = int(window or max(2, min(h, w) // 7))
        stride = int(stride or max(1, window // 2))
        positions = ((h - window) // stride + 1) * ((w - window) // stride + 1)
        per_eval = 16
        occ = Occlusion(_counting(model, -(-positions // per_eval) + 1, progress))
        attr = occ.attribute(x, sliding_window_shapes=(x.shape[1], window, window), strides=(x.shape[1], stride, stride),
                             baselines=0.0, target=target, perturbations_per_eval=per_eval)
        # positive = covering it lowered the class score = the network needed it
        raw = _to_map(attr.clamp(min=0), size, absolute=False)
    norm, flat = _normalize(raw)
    return Explanation(method, norm, raw, int(target), layer, flat)


def grad_cam(model: nn.Module, x: torch.Tensor, *, target: int | None = None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM of ``target`` at ``layer`` (default: the last conv), (H, W) in [0, 1]."""
    return explain("gradcam", model, x, target=target, layer=layer).map


# ---------------------------------------------------------------- faithfulness
@dataclass
class Curve:
    fractions: np.ndarray    # share of pixels removed / added, 0..1
    probs: np.ndarray        # probability of the target class at each step
    auc: float


@torch.no_grad()
def deletion_insertion(model: nn.Module, x: torch.Tensor, saliency: np.ndarray, target: int, *,
                       steps: int = 24, baseline: torch.Tensor | None = None) -> tuple[Curve, Curve]:
    """Petsiuk et al. (RISE, 2018): remove the most important pixels first (deletion: the
    probability should fall fast, low AUC is good) or add them to a blank image first
    (insertion: it should rise fast, high AUC is good)."""
    _, c, h, w = x.shape
    base = torch.zeros_like(x) if baseline is None else baseline
    order = torch.as_tensor(np.argsort(-np.asarray(saliency).ravel(), kind="stable").copy())
    counts = np.linspace(0, h * w, steps + 1).round().astype(int)
    delete, insert = [], []
    for n in counts:
        mask = torch.zeros(h * w)
        mask[order[:n]] = 1.0
        mask = mask.view(1, 1, h, w)
        delete.append(x * (1 - mask) + base * mask)
        insert.append(base * (1 - mask) + x * mask)
    twin, lock = private_copy(model)
    with lock:
        p_del = torch.softmax(twin(torch.cat(delete)), dim=1)[:, target].numpy()
        p_ins = torch.softmax(twin(torch.cat(insert)), dim=1)[:, target].numpy()
    frac = counts / (h * w)
    return (Curve(frac, p_del, float(np.trapezoid(p_del, frac))),
            Curve(frac, p_ins, float(np.trapezoid(p_ins, frac))))


# ---------------------------------------------------------------- sanity checks
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (Pearson correlation of their ranks)."""
    ra = np.argsort(np.argsort(np.asarray(a).ravel(), kind="stable"), kind="stable").astype(np.float64)
    rb = np.argsort(np.argsort(np.asarray(b).ravel(), kind="stable"), kind="stable").astype(np.float64)
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / den) if den else 0.0


def parameter_layers(model: nn.Module) -> list[str]:
    """Layers with weights, from the output back to the input (the randomization order)."""
    names = [n for n, m in model.named_modules()
             if isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)) and any(True for _ in m.parameters())]
    return names[::-1]


@dataclass
class SanityStep:
    randomized: str                      # the layer whose weights were just randomized ("" = original)
    maps: dict[str, np.ndarray]          # method -> map
    rank_corr: dict[str, float]          # method -> Spearman correlation with the original map


def cascading_randomization(model: nn.Module, x: torch.Tensor, target: int, methods: list[str], *,
                            layer: str | None = None, seed: int = 0, max_steps: int | None = None,
                            progress: Callable[[int, int], None] | None = None, **options) -> list[SanityStep]:
    """Adebayo et al. (2018): randomize the weights from the top layer down, one layer at a
    time, and recompute each method's map. A map that barely changes while the network is
    destroyed explains the image, not the model."""
    layers = parameter_layers(model)[:max_steps]
    gen = torch.Generator().manual_seed(seed)
    victim = copy.deepcopy(model).eval()       # never the shared model
    modules = dict(victim.named_modules())
    layer = layer or default_layer(victim, x)
    total = len(layers) + 1

    def maps():
        return {m: explain(m, victim, x, target=target, layer=layer, **options).map for m in methods}

    original = maps()
    steps = [SanityStep("", original, {m: 1.0 for m in methods})]
    if progress:
        progress(1, total)
    for i, name in enumerate(layers):
        with torch.no_grad():
            for p in modules[name].parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * (p.std() if p.numel() > 1 and p.std() > 0 else 0.1))
        _private.pop(victim, None)             # the explanation copy must see the new weights
        current = maps()
        steps.append(SanityStep(name, current, {m: spearman(original[m], current[m]) for m in methods}))
        if progress:
            progress(i + 2, total)
    _private.pop(victim, None)
    return steps
