"""Questions of the Gradient descent lesson: one SGD step, one momentum step, and whether a learning
rate converges on the bowl L = a w^2. The steps are ``cnnviz.train.descent``'s update rules, the
ones the lesson draws."""

from __future__ import annotations

from cnnviz.train import descent
from .core import Choice, Label, Paren, _kind, _pick, _q

RATES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5)
BEHAVIOURS = ("smooth", "zigzag", "diverge")      # the options of gd.converges, in this order


def _one_decimal(rng, low: float, high: float, nonzero: bool = True) -> float:
    while True:
        v = round(float(rng.uniform(low, high)), 1)
        if v != 0 or not nonzero:
            return v


@_kind("gd.sgd_step", "gradient_descent")
def _gd_sgd_step(rng):
    w, g, lr = _one_decimal(rng, -3, 3, nonzero=False), _one_decimal(rng, -5, 5), float(_pick(rng, RATES))
    new = round(float(descent.sgd_step(w, g, lr)), 4)
    return _q("gd.sgd_step", {"w": w, "g": g, "lr": lr}, "number", new, tolerance=0.005,
              explain={"w": w, "lr": lr, "g": Paren(g)}, section="gd.walk_header")


@_kind("gd.momentum_step", "gradient_descent")
def _gd_momentum_step(rng):
    w, v, g = _one_decimal(rng, -3, 3, nonzero=False), _one_decimal(rng, -2, 2), _one_decimal(rng, -4, 4)
    lr, mu = float(_pick(rng, (0.01, 0.05, 0.1, 0.2))), descent.MOMENTUM
    new_w, new_v = descent.momentum_step(w, v, g, lr, mu)
    return _q("gd.momentum_step", {"w": w, "v": v, "g": g, "lr": lr, "mu": mu}, "number", round(float(new_w), 4),
              tolerance=0.005, explain={"mu": mu, "v": Paren(v), "g": Paren(g), "nv": Paren(round(float(new_v), 4)),
                                        "w": w, "lr": lr}, section="gd.race_header")


def behaviour(a: float, lr: float) -> int:
    """What gradient descent does on L = a w^2 (a > 0) at rate ``lr``: each step multiplies w by
    1 - 2 a lr. 0: it shrinks without changing sign (2 a lr < 1); 1: it changes sign each step but
    shrinks (1 < 2 a lr < 2); 2: it grows (2 a lr > 2)."""
    k = 2 * a * lr
    return 0 if k < 1 else 1 if k < 2 else 2


@_kind("gd.converges", "gradient_descent")
def _gd_converges(rng):
    while True:
        a = float(_pick(rng, (0.5, 1.0, 1.5, 2.0, 2.5, 4.0, 5.0, 8.0)))
        lr = float(_pick(rng, RATES))
        k = 2 * a * lr
        if min(abs(k - 1), abs(k - 2)) >= 0.1:         # never on the edge between two answers
            break
    w0 = float(_pick(rng, (1.0, 2.0, -1.0, 3.0)))
    return _q("gd.converges", {"a": a, "lr": lr, "w0": w0}, "choice", behaviour(a, lr),
              choices=[Choice(Label(f"exercises.gd.converges.{b}")) for b in BEHAVIOURS],
              explain={"a": a, "lr": lr, "factor": round(1 - k, 4)}, section="gd.walk_header")
