"""Questions of the Backpropagation lesson: sigmoid's slope, the cross-entropy of given probabilities,
and one kernel weight after a step of gradient descent. The answers come from
``cnnviz.train.backprop`` (its numpy part: no torch)."""

from __future__ import annotations

import numpy as np

from cnnviz.train import backprop
from .core import Paren, _kind, _pick, _q


@_kind("bp.sigmoid_slope", "backprop")
def _bp_sigmoid_slope(rng):
    x = round(float(rng.uniform(-3, 3)), 1)
    s = float(backprop.sigmoid(x))
    return _q("bp.sigmoid_slope", {"x": x}, "number", float(backprop.sigmoid_slope(x)), tolerance=0.005,
              explain={"x": x, "s": round(s, 3), "one_minus": round(1 - s, 3)}, section="bp.act_header")


@_kind("bp.cross_entropy", "backprop")
def _bp_cross_entropy(rng):
    while True:                      # three probabilities with two decimals, none below 0.05, summing to 1
        a, b = (round(float(v), 2) for v in rng.uniform(0.05, 0.9, 2))
        c = round(1 - a - b, 2)
        if c >= 0.05:
            break
    probs = [a, b, c]
    true = int(rng.integers(3))
    letters = ["A", "B", "C"]
    loss = backprop.losses(probs, true).cross_entropy
    return _q("bp.cross_entropy", {"pa": a, "pb": b, "pc": c, "true": letters[true]}, "number", loss,
              tolerance=0.005, explain={"p": probs[true], "true": letters[true]}, section="bp.loss_header")


@_kind("bp.kernel_update", "backprop")
def _bp_kernel_update(rng):
    w = round(float(rng.uniform(-1, 1)), 2)
    delta = [round(float(v), 1) for v in rng.uniform(-1, 1, 3)]
    x = [float(_pick(rng, [0.0, 0.25, 0.5, 0.75, 1.0])) for _ in range(3)]
    lr = float(_pick(rng, [0.1, 0.5, 1.0]))
    grad = float(np.dot(delta, x))                      # the chain rule: dL/dw = Σ δ · x
    new = float(backprop.update(w, grad, lr))
    return _q("bp.kernel_update", {"w": w, "d1": delta[0], "d2": delta[1], "d3": delta[2], "x1": x[0], "x2": x[1],
                                   "x3": x[2], "lr": lr}, "number", new, tolerance=0.005,
              explain={"grad": round(grad, 3), "w": w, "lr": lr, "g": Paren(round(grad, 3))},
              section="bp.update_header")
