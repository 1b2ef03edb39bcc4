"""Questions of the Explain lesson: the pointing game, which map is more faithful (deletion)
and which method passes the sanity check."""

from __future__ import annotations

import numpy as np

from .core import Choice, Label, ScoreList, _kind, _letters, _q
from .reveal import POINTING_TOP, pointing_score


def _blob_map(rng, size: int = 28) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size]
    hm = np.zeros((size, size))
    for _ in range(int(rng.integers(1, 3))):
        r, c = rng.uniform(4, size - 4, 2)
        width = rng.uniform(2.5, 5)
        hm += rng.uniform(0.5, 1.0) * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * width ** 2))
    return hm / hm.max()


@_kind("explain.pointing", "explain")
def _explain_pointing(rng, heatmap=None, target=None):
    """Which of four points would the pointing game count as a hit? ``heatmap``: the lesson's
    Grad-CAM (else, or when it is flat, a made-up map: draw ``figure["heatmap"]``, always the
    map asked about); ``target``: the class it explains (for the section title)."""
    hm = None if heatmap is None else np.asarray(heatmap, dtype=np.float64)
    if hm is None or hm.ndim != 2 or min(hm.shape) < 4 or not np.isfinite(hm).all() or np.ptp(hm) <= 0:
        hm = _blob_map(rng)        # no map, or a flat one (nothing to point at): a made-up map, drawn as such
    h, w = hm.shape
    radius = 0.0                   # the four points are judged exactly where they are
    top = float(np.quantile(hm, 1 - POINTING_TOP))

    def judged(p):                 # == pointing_score(hm, p, radius=0) for a pixel of the map, without
        value = float(hm[p[1], p[0]])    # its quantile each time (up to 800 calls: 0.2 s on a class change)
        return value >= top, round(100.0 * float((hm <= value).mean()), 1)
    for _ in range(200):
        pts = [(int(rng.integers(1, max(2, w - 1))), int(rng.integers(1, max(2, h - 1)))) for _ in range(4)]
        res = [judged(p) for p in pts]
        hits = [i for i, (hit, _) in enumerate(res) if hit]
        if len(hits) == 1 and all(res[i][1] < 60 for i in range(4) if i != hits[0]):
            break
    else:   # a map with one small bright place: put one point on its peak, three far below
        r, c = np.unravel_index(int(hm.argmax()), hm.shape)
        low = np.argwhere(hm < min(np.quantile(hm, 0.5), np.quantile(hm, 1 - POINTING_TOP)))
        if len(low) < 3:           # almost all of the map is its peak: nothing to tell apart
            return _explain_pointing(rng, None, target)
        picks = low[rng.choice(len(low), 3, replace=False)]
        pts = [(int(c), int(r))] + [(int(p[1]), int(p[0])) for p in picks]
        order = [int(i) for i in rng.permutation(4)]
        pts = [pts[i] for i in order]
        res = [pointing_score(hm, p, radius=radius) for p in pts]
        hits = [i for i, (hit, _) in enumerate(res) if hit][:1]
    best = hits[0]
    section = ("explain.gradcam_header", {"c": str(target)}) if target is not None else ("explain.compare_header", {})
    return _q("explain.pointing", {}, "choice", best, choices=_letters(4),
              explain={"letter": chr(ord("A") + best), "score": res[best][1],
                       "others": ScoreList([chr(ord("A") + i) for i in range(4) if i != best],
                                           [res[i][1] for i in range(4) if i != best])},
              section=section[0], section_params=section[1],
              figure={"heatmap": hm, "points": pts})


def _deletion_auc(fractions, probs) -> float:
    """The area under a deletion curve, as ``cnnviz.attribution.deletion_insertion`` computes it."""
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
    best = int(np.argmin([c[-1] for c in corr]))
    labels = ([Choice(Label("exercises.method", {"letter": chr(ord("A") + i)})) for i in range(len(corr))]
              if names is None else [Choice(Label("exercises.class_name", {"name": str(n)})) for n in names])
    return _q("explain.sanity", {}, "choice", best, choices=labels,
              explain={"last": [round(float(c[-1]), 2) for c in corr]}, section="explain.sanity_header",
              figure={"correlations": corr})
