"""Which maps can be trusted? The two checks of ``sanity`` and ``faithfulness`` for every map at once.

For one picture, each method's map (``cnnviz.analysis.attribution``, baselines included) is scored by

- the sanity check (Adebayo et al. 2018): its Spearman correlation with itself once the top layers
  are randomized (``sanity.cascading_randomization``); it passes below ``SANITY_MAX``: the map
  changed when what the network learned was destroyed;
- its faithfulness (Petsiuk et al. 2018): the areas under its deletion and insertion curves
  (``faithfulness.deletion_insertion``); it passes when both beat the random map's (deletion lower,
  insertion higher): its order of the pixels tells more than chance;
- how close it is to an edge detector: its Spearman correlation with the Sobel map of the picture
  (a number to read, not a test).

The Explain lesson's trust lab shows these after the learner ranked the maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from cnnviz.analysis.faithfulness import Curve, deletion_insertion
from cnnviz.analysis.sanity import SanityStep, cascading_randomization, default_methods, spearman

SANITY_MAX = 0.5          # the sanity check passes when rho after randomization is below this
RANDOM = "random"         # the baseline the faithfulness scores are compared with
EDGES = "sobel"           # the baseline "how close to an edge detector" is measured against


@dataclass(frozen=True)
class Score:
    method: str
    sanity_rho: float        # Spearman rho with the original map after the last randomization step
    edge_rho: float          # Spearman rho with the Sobel map of the picture
    deletion_auc: float      # lower = better
    insertion_auc: float     # higher = better
    sane: bool               # sanity_rho < SANITY_MAX
    faithful: bool           # deletion below the random map's and insertion above it

    @property
    def trusted(self) -> bool:
        return self.sane and self.faithful


@dataclass
class Report:
    steps: list[SanityStep]                  # the sanity check, step by step (its chart and tiles)
    curves: dict[str, tuple[Curve, Curve]]   # method -> (deletion, insertion)
    scores: dict[str, Score]                 # method -> its scores, in the methods' order


def assess(model: nn.Module, x: torch.Tensor, target: int, methods: list[str] | None = None, *,
           layer: str | None = None, max_steps: int | None = None, steps: int = 24,
           progress: Callable[[int, int], None] | None = None, **options) -> Report:
    """Both checks for every method of ``methods`` (default: ``sanity.default_methods()``, which
    holds the baselines ``RANDOM`` and ``EDGES``; they are added when missing, since the scores
    are measured against them). ``max_steps``: the layers randomized (from the top); ``steps``:
    the points of each curve; ``progress(done, total)``: one unit per randomization step and per
    method's curves."""
    methods = default_methods() if methods is None else list(methods)
    methods += [b for b in (RANDOM, EDGES) if b not in methods]
    cascade_total: list[int] = []

    def cascade_progress(done, total):
        cascade_total[:] = [total]
        if progress:
            progress(done, total + len(methods))

    cascade = cascading_randomization(model, x, target, methods, layer=layer, max_steps=max_steps,
                                      progress=cascade_progress, **options)
    first = cascade_total[0] if cascade_total else len(cascade)
    original = cascade[0].maps
    curves = {}
    for i, m in enumerate(methods):
        curves[m] = deletion_insertion(model, x, original[m], target, steps=steps)
        if progress:
            progress(first + i + 1, first + len(methods))
    chance_del, chance_ins = curves[RANDOM][0].auc, curves[RANDOM][1].auc
    scores = {}
    for m in methods:
        rho = cascade[-1].rank_corr[m]
        d, i = curves[m][0].auc, curves[m][1].auc
        scores[m] = Score(m, rho, spearman(original[m], original[EDGES]), d, i,
                          rho < SANITY_MAX, d < chance_del and i > chance_ins)
    return Report(cascade, curves, scores)
