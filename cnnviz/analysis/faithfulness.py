"""Is an attribution map faithful to the network? Deletion and insertion curves and their areas.

A map says which pixels matter; removing those pixels first should make the class's probability
fall fast, and adding them first to a blank picture should make it rise fast. The networks run on
their private copy (``cnnviz.analysis.private_copies``), like the methods of
``cnnviz.analysis.attribution`` whose maps are checked here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.analysis.private_copies import private_copy
from cnnviz.maths.layers import probabilities


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
        p_del = probabilities(twin(torch.cat(delete)), axis=1)[:, target].numpy()
        p_ins = probabilities(twin(torch.cat(insert)), axis=1)[:, target].numpy()
    frac = counts / (h * w)
    return (Curve(frac, p_del, float(np.trapezoid(p_del, frac))),
            Curve(frac, p_ins, float(np.trapezoid(p_ins, frac))))
