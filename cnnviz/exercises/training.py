"""Questions of the Train lesson (overfitting, the best epoch, trainable weights) and of the
autoencoder lesson (compression, the reparameterization, the KL term)."""

from __future__ import annotations

import math

import numpy as np

from cnnviz.maths import params as cparams
from .core import Choice, Label, Paren, _kind, _pick, _q


def _curves(rng, epochs: int, overfit: bool, peak: int | None = None):
    """Training and validation accuracy (%) per epoch; an overfitting run: training keeps
    rising towards 100 % while validation falls after epoch ``peak``."""
    e = np.arange(1, epochs + 1)
    top = rng.uniform(80, 92)
    train = 100 - (100 - rng.uniform(30, 50)) * np.exp(-e / rng.uniform(2.5, 4.0))
    val = top - (top - rng.uniform(25, 45)) * np.exp(-e / rng.uniform(2.0, 3.5))
    if overfit:
        peak = peak or int(rng.integers(4, epochs // 2 + 1))
        val = np.where(e > peak, val[peak - 1] - rng.uniform(1.2, 2.5) * (e - peak), val)
        train = np.minimum(100.0, train + np.where(e > peak, 1.5 * (e - peak), 0))
    else:
        train = np.minimum(train, val + rng.uniform(3, 8))
    noise = rng.normal(0, 0.4, (2, epochs))
    return np.round(np.clip(train + noise[0], 0, 100), 1), np.round(np.clip(val + noise[1], 0, 100), 1)


@_kind("train.overfit", "train")
def _train_overfit(rng):
    epochs = int(rng.integers(12, 21))
    bad = int(rng.integers(2))
    runs = [_curves(rng, epochs, overfit=(i == bad)) for i in range(2)]
    tr, va = runs[bad]
    peak = int(np.argmax(va)) + 1
    return _q("train.overfit", {}, "choice", bad, choices=[Choice(Label("exercises.run", {"letter": "A"})),
                                                            Choice(Label("exercises.run", {"letter": "B"}))],
              explain={"run": chr(ord("A") + bad), "epoch": peak, "train": float(tr[-1]),
                       "peak": float(va[peak - 1]), "last": float(va[-1])},
              section="train.run_header",
              figure={"runs": [{"train": r[0], "val": r[1]} for r in runs], "epochs": epochs})


BEST_MARGIN = 0.5      # percentage points: the best epoch stands out on the chart, never a tie


@_kind("train.best_epoch", "train")
def _train_best_epoch(rng):
    while True:            # one best epoch as drawn: no other within BEST_MARGIN of it (the values have one decimal)
        epochs = int(rng.integers(10, 21))
        train, val = _curves(rng, epochs, overfit=True)
        second, first = np.sort(val)[-2:]
        if first - second >= BEST_MARGIN - 1e-9:
            break
    # cnnviz.train.fit keeps the first epoch with the best validation accuracy (a strict ">")
    best = int(np.argmax(val)) + 1
    return _q("train.best_epoch", {"epochs": epochs}, "number", best,
              explain={"best": float(val[best - 1]), "last": float(val[-1]), "epochs": epochs},
              section="train.run_header", figure={"train": train, "val": val})


@_kind("train.trainable", "train")
def _train_trainable(rng):
    side = int(_pick(rng, [28, 32, 64]))
    c = 1 if side == 28 else 3
    c1, c2, k = int(_pick(rng, [8, 16, 32])), int(_pick(rng, [16, 32, 64])), 3
    classes = int(_pick(rng, [2, 3, 5, 10]))
    # cparams.cnn_weights: 'same' padding (1 for a 3 x 3 kernel), then 2 x 2 pooling with stride 2,
    # no biases: the prompt says all three, the answer depends on each
    rows = cparams.cnn_weights((side, side, c), [(c1, k), (c2, k)], outputs=classes)
    frozen = sum(r.weights for r in rows if r.name.startswith("conv"))
    trainable = sum(r.weights for r in rows if r.name.startswith("fc"))
    last = [r for r in rows if r.name.startswith("pool")][-1].shape
    return _q("train.trainable", {"side": side, "c": c, "c1": c1, "c2": c2, "classes": classes, "p": k // 2},
              "number", trainable,
              explain={"frozen": frozen, "h": last[0], "w": last[1], "c2": last[2], "classes": classes},
              section="train.strategy_header")


@_kind("ae.ratio", "autoencoder")
def _ae_ratio(rng):
    side, c = _pick(rng, [(28, 1), (32, 3), (64, 3)])
    latent = int(_pick(rng, [2, 4, 8, 16, 32, 64]))
    n = cparams.inputs((side, side, c))
    ratio = n / latent
    return _q("ae.ratio", {"side": side, "c": c, "latent": latent}, "number", ratio, tolerance=0.05,
              explain={"n": n, "latent": latent}, section="ae.encode_header")


@_kind("ae.reparam", "autoencoder")
def _ae_reparam(rng):
    mu = round(float(rng.uniform(-2, 2)), 1)
    sigma = round(float(rng.uniform(0.1, 1.5)), 1)
    eps = round(float(rng.uniform(-2, 2)), 1)
    # The reparameterization of cnnviz.train.autoencoder.DigitVAE.forward: z = mean + exp(log_var / 2) * eps
    z = round(mu + sigma * eps, 2)
    return _q("ae.reparam", {"mu": mu, "sigma": sigma, "eps": eps}, "number", z, tolerance=0.01,
              explain={"mu": mu, "sigma": sigma, "eps": Paren(eps)}, section="ae.vae_header")


def _kl(mean: float, sigma: float) -> float:
    """The KL term of ``cnnviz.train.autoencoder.loss_terms`` for one latent number."""
    import torch

    from cnnviz.train.autoencoder import loss_terms
    x = torch.full((1, 1), 0.5)
    _, kl = loss_terms(x, x, torch.tensor([[mean]]), torch.tensor([[2 * math.log(sigma)]]))
    return float(kl)


@_kind("ae.kl", "autoencoder")
def _ae_kl(rng):
    while True:
        pairs = [(0.0, 1.0)] + [(round(float(rng.uniform(-2.5, 2.5)), 1), round(float(rng.uniform(0.2, 2.5)), 1))
                                for _ in range(3)]
        kls = [_kl(m, s) for m, s in pairs]
        order = sorted(kls)
        if order[1] - order[0] > 0.1:
            break
    perm = [int(i) for i in rng.permutation(4)]
    pairs, kls = [pairs[i] for i in perm], [kls[i] for i in perm]
    best = int(np.argmin(kls))
    choices = [Choice(Label("exercises.mu_sigma", {"mu": m, "sigma": s})) for m, s in pairs]
    return _q("ae.kl", {}, "choice", best, choices=choices,
              explain={"kls": np.round(kls, 2)}, section="ae.vae_header")
