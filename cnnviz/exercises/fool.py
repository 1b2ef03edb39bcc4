"""Questions of the Fool-the-network lesson: how far a linear score can move within epsilon per
pixel, one FGSM step on four pixels, and the smallest epsilon of a grid that fools a network. The
answers come from ``cnnviz.analysis.adversarial`` (imported when a question is generated: it
imports torch)."""

from __future__ import annotations

from .core import Label, _kind, _q

EPSILONS = (0.01, 0.02, 0.05, 0.1, 0.2)
GRID = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
PIXELS = 5                        # pixels of fool.fgsm_step


@_kind("fool.score_shift", "fool_the_network")
def _fool_score_shift(rng):
    """A score w . x over six pixels, each allowed to move by epsilon: the largest change of the score."""
    from cnnviz.analysis.adversarial import score_shift

    weights = [int(v) for v in rng.integers(-5, 6, 6)]
    if not any(weights):
        weights[0] = 1
    eps = float(EPSILONS[int(rng.integers(2, len(EPSILONS)))])
    total = sum(abs(w) for w in weights)
    return _q("fool.score_shift", {"w": weights, "eps": eps}, "number", score_shift(weights, eps), tolerance=0.005,
              explain={"eps": eps, "total": total}, section="fool.why_header")


@_kind("fool.fgsm_step", "fool_the_network")
def _fool_fgsm_step(rng):
    """Five pixels and the loss's gradient at them: the pixels after one FGSM step (clamped to 0..1).
    Five, not four: a self-check answer of four numbers reads like a 2 x 2 matrix."""
    from cnnviz.analysis.adversarial import fgsm_step

    eps = float(EPSILONS[int(rng.integers(2, len(EPSILONS)))])
    values = [float(v) for v in rng.integers(0, 101, PIXELS) / 100]
    values[int(rng.integers(PIXELS))] = float(rng.choice([0.0, 1.0, 0.98, 0.03]))   # a pixel at an edge of 0..1
    grads = [float(v) for v in rng.integers(-30, 31, PIXELS) / 100]
    grads[int(rng.integers(PIXELS))] = 0.0                                       # no gradient: it stays
    return _q("fool.fgsm_step", {"x": values, "g": grads, "eps": eps}, "vector", fgsm_step(values, grads, eps),
              tolerance=0.005, explain={"eps": eps}, section="fool.attack_header")


@_kind("fool.smallest_flip", "fool_the_network")
def _fool_smallest_flip(rng):
    """FGSM's answer at each epsilon of a grid (not monotone: a flip can come back): the smallest
    epsilon of the grid that changes the answer."""
    from cnnviz.analysis.adversarial import first_flip

    label = int(rng.integers(10))
    others = [c for c in range(10) if c != label]
    while True:
        said = [label if rng.random() > 0.25 + 0.6 * k / len(GRID) else int(rng.choice(others))
                for k in range(len(GRID))]
        if any(c != label for c in said):
            break
    answers = [Label("exercises.fool.smallest_flip.at", {"eps": e, "c": c}) for e, c in zip(GRID, said)]
    return _q("fool.smallest_flip", {"label": label, "answers": answers}, "number", first_flip(GRID, said, label),
              explain={"label": label}, section="fool.smallest_header")
