"""Does an attribution map explain the network, or only the picture? The sanity check.

Adebayo et al. (2018): randomize a network's weights layer after layer and watch each method's map
(``cnnviz.analysis.attribution``) through the Spearman rank correlation with the original map. The
randomized network is a copy of the shared one, never the shared one itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from cnnviz.analysis.attribution import REGISTRY, default_layer, explain
from cnnviz.analysis.private_copies import forget


def default_methods() -> list[str]:
    """The methods the check runs unless told otherwise: the registry's ``sanity`` ones, in order."""
    return [m.name for m in REGISTRY.values() if m.sanity]


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


def cascading_randomization(model: nn.Module, x: torch.Tensor, target: int, methods: list[str] | None = None, *,
                            layer: str | None = None, seed: int = 0, max_steps: int | None = None,
                            progress: Callable[[int, int], None] | None = None, **options) -> list[SanityStep]:
    """Adebayo et al. (2018): randomize the weights from the top layer down, one layer at a
    time, and recompute each method's map. A map that barely changes while the network is
    destroyed explains the image, not the model. ``methods``: default, the registry's
    ``sanity`` ones (``default_methods()``); ``options``: the methods' settings (each takes its own)."""
    methods = default_methods() if methods is None else list(methods)
    unknown = [m for m in methods if m not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; known: {list(REGISTRY)}")
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
        forget(victim)                         # the explanation copy must see the new weights
        current = maps()
        steps.append(SanityStep(name, current, {m: spearman(original[m], current[m]) for m in methods}))
        if progress:
            progress(i + 2, total)
    forget(victim)
    return steps
