"""Questions of the Shortcut-learning lab: the flip share from counts, Grad-CAM's mass inside the
cue's square, and which network leans least on the cue. The answers come from
``cnnviz.train.shortcut`` (imported when a question is generated: it imports torch)."""

from __future__ import annotations

import numpy as np

from .core import Label, _kind, _letters, _q, unique_best

FASHION_CLASSES = 10          # the class names come from the Fashion-MNIST catalog (models.classes.fashion)
MAP_SIDE = 6                  # the made-up Grad-CAM map of shortcut.cam_mass: 6 x 6 whole numbers


def _class(i: int) -> Label:
    return Label(f"models.classes.fashion.{i}")


@_kind("shortcut.flip", "shortcuts")
def _shortcut_flip(rng):
    """The cue pasted on pictures of three other classes: how many % flip to the cue's class?"""
    from cnnviz.train.shortcut import flip_share

    target, *others = (int(c) for c in rng.choice(FASHION_CLASSES, 4, replace=False))
    eligible = [int(rng.integers(20, 61)) for _ in others]
    flipped = [int(rng.integers(n // 3, n + 1)) for n in eligible]
    share = 100 * flip_share(flipped, eligible)
    params = {"target": _class(target)}
    for k, (c, f, n) in enumerate(zip(others, flipped, eligible), 1):
        params |= {f"c{k}": _class(c), f"f{k}": f, f"n{k}": n}
    return _q("shortcut.flip", params, "number", share, tolerance=0.05,
              explain={"flipped": sum(flipped), "eligible": sum(eligible)}, section="shortcut.flip_header")


@_kind("shortcut.cam_mass", "shortcuts")
def _shortcut_cam_mass(rng):
    """A small Grad-CAM map in whole numbers and a corner square: its share of the map's mass."""
    from cnnviz.train.shortcut import CORNERS, Cue, mass_share

    corner = CORNERS[int(rng.integers(len(CORNERS)))]
    size = int(rng.integers(2, 4))
    cue = Cue(size=size, corner=corner, margin=0)
    heat = rng.integers(0, 4, (MAP_SIDE, MAP_SIDE)).astype(float)
    top, left, h, w = cue.box(MAP_SIDE)
    heat[top:top + h, left:left + w] += rng.integers(3, 7, (h, w))     # the network looks at the corner, mostly
    if heat.sum() == 0:
        heat[top, left] = 1.0
    share = 100 * mass_share(heat, cue.box(MAP_SIDE))
    inside = int(heat[top:top + h, left:left + w].sum())
    return _q("shortcut.cam_mass", {"side": MAP_SIDE, "size": size, "corner": Label(f"shortcut.corner.{corner}")},
              "number", share, tolerance=0.05,
              explain={"inside": inside, "total": int(heat.sum()), "area": round(100 * size * size / MAP_SIDE ** 2, 1)},
              section="shortcut.numbers_header", figure={"heatmap": heat})


@_kind("shortcut.which_fix", "shortcuts")
def _shortcut_which_fix(rng):
    """Three networks, the same test pictures of the cue's class with and without the cue: which
    one leans least on the cue (the smallest change)?"""
    while True:
        without = [int(rng.integers(5, 80)) for _ in range(3)]
        gaps = [int(rng.integers(0, 100 - w)) for w in without]
        if unique_best(gaps, 0, best=min) and sorted(gaps)[1] - min(gaps) >= 8:
            break
    with_cue = [w + g for w, g in zip(without, gaps)]
    params = {"target": _class(int(rng.integers(FASHION_CLASSES)))}
    for k, (a, b) in enumerate(zip(without, with_cue), 1):
        params |= {f"a{k}": a, f"b{k}": b}
    best = int(np.argmin(gaps))
    return _q("shortcut.which_fix", params, "choice", best, choices=_letters(3),
              explain={"gaps": gaps}, section="shortcut.fix_header")
