"""Questions of the Explain lesson: the pointing game, which map is more faithful (deletion)
and which method passes the sanity check."""

from __future__ import annotations

import numpy as np

from .core import Choice, Label, ScoreList, _kind, _letters, _q, unique_best
from .reveal import pointing_score


def _blob_map(rng, size: int = 28) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size]
    hm = np.zeros((size, size))
    for _ in range(int(rng.integers(1, 3))):
        r, c = rng.uniform(4, size - 4, 2)
        width = rng.uniform(2.5, 5)
        hm += rng.uniform(0.5, 1.0) * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * width ** 2))
    return hm / hm.max()


POINT_TOP = 0.03           # the right point: on one of the map's brightest 3 % of pixels ...
POINT_NEAR_PEAK = 0.85     # ... and at least 85 % of the way from the map's lowest value to its peak
POINT_LOW = 0.5            # the other three: at most the map's median, and below 40 % of its range
POINT_LOW_RANGE = 0.4


def _apart(p, q) -> float:
    return float(np.hypot(p[0] - q[0], p[1] - q[1]))


def _pointing_points(rng, hm: np.ndarray):
    """Four (x, y) points on ``hm`` and the right one: one where the map is strongest (its peak or
    next to it, top 3 %), three clearly elsewhere (dark: at most the median and below 40 % of the
    range), far from the right one (a quarter of the map) and from each other. None when the map
    has no such places (almost all of it bright)."""
    h, w = hm.shape
    lo, span = float(hm.min()), float(np.ptp(hm))
    norm = (hm - lo) / span
    margin = 1 if min(h, w) >= 10 else 0            # keep the markers off the edge of a large map
    inner = np.zeros_like(hm, dtype=bool)
    inner[margin:h - margin, margin:w - margin] = True
    bright = np.argwhere(inner & (hm >= np.quantile(hm, 1 - POINT_TOP)) & (norm >= POINT_NEAR_PEAK))
    if len(bright) == 0:
        bright = np.argwhere(hm == hm.max())
    dark = np.argwhere(inner & (hm <= np.quantile(hm, POINT_LOW)) & (norm <= POINT_LOW_RANGE))
    r, c = bright[int(rng.integers(len(bright)))]
    right = (int(c), int(r))
    for far, between in ((max(h, w) / 4, max(h, w) / 8), (max(h, w) / 6, 1.5), (2.0, 1.0)):
        candidates = dark[np.hypot(dark[:, 1] - right[0], dark[:, 0] - right[1]) >= far]   # (row, col)
        others: list = []
        for i in rng.permutation(len(candidates)):    # a big map: stops after a few dark pixels
            p = (int(candidates[i][1]), int(candidates[i][0]))
            if all(_apart(p, o) >= between for o in others):
                others.append(p)
                if len(others) == 3:
                    break
        if len(others) == 3:
            pts = [right] + others
            order = [int(i) for i in rng.permutation(4)]
            return [pts[i] for i in order], order.index(0)
    return None


@_kind("explain.pointing", "explain")
def _explain_pointing(rng, heatmap=None, target=None):
    """Which of four points would the pointing game count as a hit? ``heatmap``: the lesson's
    Grad-CAM (else, or when it is flat or has no dark place far from its peak, a made-up map: draw
    ``figure["heatmap"]``, always the map asked about); ``target``: the class it explains (for the
    section title). The right point sits where the map is strongest, the others clearly elsewhere."""
    hm = None if heatmap is None else np.asarray(heatmap, dtype=np.float64)
    if hm is None or hm.ndim != 2 or min(hm.shape) < 4 or not np.isfinite(hm).all() or np.ptp(hm) <= 0:
        hm = None
    picked = _pointing_points(rng, hm) if hm is not None else None
    while picked is None:      # no map, a flat one, or nothing dark to tell apart: a made-up map, drawn as such
        hm = _blob_map(rng)
        picked = _pointing_points(rng, hm)
    pts, best = picked
    res = [pointing_score(hm, p, radius=0.0) for p in pts]      # judged exactly where the points are
    section = ("explain.gradcam_header", {"c": str(target)}) if target is not None else ("explain.compare_header", {})
    return _q("explain.pointing", {}, "choice", best, choices=_letters(4),
              explain={"letter": chr(ord("A") + best), "score": res[best][1],
                       "others": ScoreList([chr(ord("A") + i) for i in range(4) if i != best],
                                           [res[i][1] for i in range(4) if i != best])},
              section=section[0], section_params=section[1],
              figure={"heatmap": hm, "points": pts})


def _deletion_auc(fractions, probs) -> float:
    """The area under a deletion curve, as ``cnnviz.analysis.faithfulness.deletion_insertion`` computes it."""
    return float(np.trapezoid(np.asarray(probs, dtype=np.float64), np.asarray(fractions, dtype=np.float64)))


@_kind("explain.faithful", "explain")
def _explain_faithful(rng, fractions=None, curves=None, names=None):
    """Which map is more faithful: its deletion curve falls faster (lower area). ``curves``:
    two deletion curves (probabilities at ``fractions``) of the lesson's methods ``names``."""
    if curves is None:
        fractions = np.linspace(0, 1, 25)
        p0 = rng.uniform(0.8, 0.99)
        rates = sorted([rng.uniform(6, 14), rng.uniform(1.0, 2.5)], reverse=rng.random() < 0.5)
        curves = [np.round(p0 * np.exp(-r * fractions) + 0.02 * rng.random(25), 3) for r in rates]
        names = None
    aucs = [_deletion_auc(fractions, c) for c in curves]
    if not unique_best(aucs, 2, best=min):
        return _explain_faithful(rng)      # the maps tie (areas as the answer shows them): made-up curves
    best = int(np.argmin(aucs))
    labels = ([Choice(Label("exercises.map", {"letter": chr(ord("A") + i)})) for i in range(len(curves))]
              if names is None else [Choice(Label("exercises.class_name", {"name": str(n)})) for n in names])
    return _q("explain.faithful", {}, "choice", best, choices=labels,
              explain={"aucs": np.round(aucs, 2)}, section="explain.compare_header",
              figure={"fractions": np.asarray(fractions), "curves": [np.asarray(c) for c in curves]})


@_kind("explain.sanity", "explain")
def _explain_sanity(rng, correlations=None, names=None):
    """Which method passes the sanity check (Adebayo et al., 2018): its map's rank correlation
    with the original falls as layers are randomized. ``correlations``: one list per method."""
    if correlations is None:
        steps = int(rng.integers(3, 6))
        fall = np.concatenate([[1.0], np.round(np.sort(rng.uniform(0.0, 0.6, steps - 1))[::-1] * np.linspace(1, 0.3, steps - 1), 2)])
        stay = np.concatenate([[1.0], np.round(np.sort(rng.uniform(0.7, 0.97, steps - 1))[::-1], 2)])
        good = int(rng.integers(2))
        correlations = [fall, stay] if good == 0 else [stay, fall]
    corr = [np.asarray(c, dtype=np.float64) for c in correlations]
    if not unique_best([c[-1] for c in corr], 2, best=min):
        return _explain_sanity(rng)        # the lesson's methods tie (as the answer shows them): made-up ones
    best = int(np.argmin([c[-1] for c in corr]))
    labels = ([Choice(Label("exercises.method", {"letter": chr(ord("A") + i)})) for i in range(len(corr))]
              if names is None else [Choice(Label("exercises.class_name", {"name": str(n)})) for n in names])
    return _q("explain.sanity", {}, "choice", best, choices=labels,
              explain={"last": [round(float(c[-1]), 2) for c in corr]}, section="explain.sanity_header",
              figure={"correlations": corr})
