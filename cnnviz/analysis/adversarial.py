"""Adversarial examples: a change of at most epsilon per pixel that changes a network's answer.

    from cnnviz import adversarial, models
    loaded = models.load("digits")
    x = loaded.preprocess(img)                               # the network's input (normalized)
    x_adv, pred = adversarial.fgsm(loaded, x, epsilon=0.1)   # away from the predicted class
    x_adv, pred = adversarial.pgd(loaded, x, epsilon=0.1, target=3)   # towards class 3

Epsilon is in *pixel* units of a [0, 1] picture: the attack changes the pixels
(``loaded.denormalize(x)``), the network's normalization sits inside the attacked function and the
pixels stay in [0, 1], so ``loaded.denormalize(x_adv)`` differs from ``loaded.denormalize(x)`` by at
most epsilon in every pixel. ``x_adv`` is in the same (normalized) space as ``x``.

FGSM (Goodfellow et al. 2015) is one step of epsilon along the sign of the loss's gradient; PGD
(Madry et al. 2018) is ``PGD_STEPS`` smaller steps, each projected back into the epsilon box. Both
are ``captum.robust``'s, run on the network's private copy (``private_copies``: no hook or gradient
is ever left on the shared model). Untargeted attacks push away from ``label`` (default: the class
the network predicts); targeted ones towards ``target``.

``random_sign`` is the baseline: a random +-epsilon per pixel, as large as FGSM's change, rarely
flips at small epsilon (measured on the digits network: 0.3 % at 0.1, but 80 % at 0.3, where the
noise is far from any picture it trained on). ``smallest_flip`` finds the smallest epsilon *on a stated grid* that flips a picture
(FGSM's flips are not monotone in epsilon, so "smallest" is only ever on the grid searched), and
``robustness`` measures accuracy against epsilon over many test pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.analysis.private_copies import private_copy
from cnnviz.data.datasets import normalize
from cnnviz.maths.layers import probabilities

ATTACKS = ("fgsm", "pgd")
PGD_STEPS = 10                 # PGD's steps, each of PGD_STEP_SHARE x epsilon (Madry et al.'s 2.5 / steps)
PGD_STEP_SHARE = 0.25
# the epsilons the lesson searches and draws (pixel units of a [0, 1] picture); 0 = the clean picture
GRID = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3)
BATCH = 100                    # pictures attacked at once by ``robustness``


class Prediction(NamedTuple):
    """What the network says about a picture (or a batch): its class(es) and probabilities."""
    label: int | torch.Tensor          # an int for one picture, (N,) for a batch
    probs: torch.Tensor                # (C,) for one picture, (N, C) for a batch


def pixels(loaded, x: torch.Tensor) -> torch.Tensor:
    """The picture(s) behind a network's input ``x``: pixel values in [0, 1]."""
    return loaded.denormalize(x.detach())


def to_input(loaded, p: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> the network's input (its normalization)."""
    return normalize(p, loaded.mean, loaded.std)


def _labels(value, n: int) -> torch.Tensor:
    return value.reshape(n).long() if isinstance(value, torch.Tensor) else torch.full((n,), int(value))


def _predict(model, loaded, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        probs = probabilities(model(to_input(loaded, p)), axis=1)
    return probs.argmax(dim=1), probs


def _as_prediction(labels: torch.Tensor, probs: torch.Tensor, single: bool) -> Prediction:
    return Prediction(int(labels[0]), probs[0]) if single else Prediction(labels, probs)


def _loss(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy, one per picture (each its own gradient), in float64: in float32 a confident
    network's softmax rounds to exactly 1 (a margin of 17 between two scores is enough), its
    gradient to exactly 0, and the attack would not move."""
    return F.cross_entropy(outputs.double(), target, reduction="none")


def _attack_pixels(loaded, model, p: torch.Tensor, attack: str, epsilon: float, label, target) -> torch.Tensor:
    """Under the private copy's lock: the attacked pixels of a batch ``p`` (N, C, H, W) in [0, 1]."""
    from captum.robust import FGSM, PGD

    if attack not in ATTACKS:
        raise ValueError(f"unknown attack {attack!r}; known: {ATTACKS}")
    epsilon = float(epsilon)
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon is in pixel units of a [0, 1] picture: 0..1, not {epsilon}")
    n = p.shape[0]
    if target is not None:
        goal, targeted = _labels(target, n), True
    elif label is not None:
        goal, targeted = _labels(label, n), False
    else:
        goal, targeted = _predict(model, loaded, p)[0], False
    if epsilon == 0:
        return p.clone()

    def forward(q):
        return model(to_input(loaded, q))

    # captum leaves a pixel alone where |gradient| < 1e-6 (``zero_thresh``); a confident network's
    # gradients are all that small (the digits network's loss on its test digits: ~1e-6), and the
    # attack would barely move: only the sign matters, so only an exact 0 leaves a pixel alone
    if attack == "fgsm":
        step = FGSM(forward, _loss, lower_bound=0.0, upper_bound=1.0)
        step.zero_thresh = 0.0
        out = step.perturb(p, epsilon, goal, targeted=targeted)
    else:
        steps = PGD(forward, _loss, lower_bound=0.0, upper_bound=1.0)
        steps.fgsm.zero_thresh = 0.0
        out = steps.perturb(p, epsilon, PGD_STEP_SHARE * epsilon, PGD_STEPS, goal, targeted=targeted)
    return out.detach()


def attack(loaded, x: torch.Tensor, *, method: str, epsilon: float, label=None, target=None):
    """``method`` ("fgsm" or "pgd") on ``x`` (1, C, H, W) or a batch -> (x_adv, Prediction on x_adv).

    ``label`` (an int or one per picture): the class to move away from (the true one, if known;
    default: the predicted one); ``target``: the class to move towards (a targeted attack)."""
    single = x.shape[0] == 1
    model, lock = private_copy(loaded.model)
    with lock:
        p_adv = _attack_pixels(loaded, model, pixels(loaded, x), method, epsilon, label, target)
        labels, probs = _predict(model, loaded, p_adv)
    return to_input(loaded, p_adv), _as_prediction(labels, probs, single)


def fgsm(loaded, x: torch.Tensor, *, epsilon: float, label=None, target=None):
    """The fast gradient sign method: one step of ``epsilon`` per pixel along the sign of the loss's
    gradient -> (x_adv, Prediction). See ``attack``."""
    return attack(loaded, x, method="fgsm", epsilon=epsilon, label=label, target=target)


def pgd(loaded, x: torch.Tensor, *, epsilon: float, label=None, target=None):
    """Projected gradient descent: ``PGD_STEPS`` steps of ``PGD_STEP_SHARE`` x epsilon, each clipped
    back into the box of +-epsilon around the picture -> (x_adv, Prediction). See ``attack``."""
    return attack(loaded, x, method="pgd", epsilon=epsilon, label=label, target=target)


def random_sign(loaded, x: torch.Tensor, *, epsilon: float, seed: int = 0):
    """The baseline: +-epsilon at random on every pixel (as large a change as FGSM's), clamped to
    [0, 1] -> (x_noisy, Prediction)."""
    single = x.shape[0] == 1
    p = pixels(loaded, x)
    gen = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, p.shape, generator=gen).to(p.dtype) * 2 - 1
    noisy = (p + float(epsilon) * signs).clamp(0, 1)
    with torch.no_grad():
        probs = probabilities(loaded.model(to_input(loaded, noisy)), axis=1)
    return to_input(loaded, noisy), _as_prediction(probs.argmax(dim=1), probs, single)


def perturbation(loaded, x: torch.Tensor, x_adv: torch.Tensor, epsilon: float) -> np.ndarray:
    """The change made to the pixels, made visible: (H, W) or (H, W, 3) in [0, 1], grey (0.5) for no
    change, white for +epsilon, black for -epsilon (amplified 1 / (2 epsilon) times)."""
    delta = (pixels(loaded, x_adv) - pixels(loaded, x))[0].permute(1, 2, 0).numpy()
    shown = 0.5 + delta / (2 * float(epsilon)) if epsilon > 0 else np.full_like(delta, 0.5)
    shown = np.clip(shown, 0.0, 1.0)
    return shown[..., 0] if shown.shape[2] == 1 else shown


def smallest_flip(loaded, x: torch.Tensor, *, method: str, label: int | None = None,
                  grid=GRID) -> tuple[float | None, list[int]]:
    """(the smallest epsilon of ``grid`` whose attack changes the answer away from ``label``
    (default: the predicted class), or None; the class predicted at each epsilon of the grid).
    Every epsilon of the grid is tried: a flip at 0.1 says nothing about 0.15."""
    model, lock = private_copy(loaded.model)
    with lock:
        p = pixels(loaded, x)
        label = int(_predict(model, loaded, p)[0][0]) if label is None else int(label)
        said = [int(_predict(model, loaded, _attack_pixels(loaded, model, p, method, e, label, None))[0][0])
                for e in grid]
    return first_flip(grid, said, label), said


def first_flip(epsilons, predictions, label: int) -> float | None:
    """The first epsilon (in the order given) whose prediction is not ``label``, else None."""
    for e, c in zip(epsilons, predictions):
        if int(c) != int(label):
            return float(e)
    return None


def score_shift(weights, epsilon: float) -> float:
    """How far a linear score w . x can move when every input moves by at most epsilon: epsilon x
    sum |w| (reached with the change epsilon x sign(w): Goodfellow et al.'s linearity argument)."""
    return float(epsilon) * float(np.abs(np.asarray(weights, dtype=float)).sum())


def fgsm_step(values, gradient, epsilon: float) -> np.ndarray:
    """One FGSM step on pixel values: value + epsilon x sign(gradient), kept in [0, 1]."""
    return np.clip(np.asarray(values, float) + float(epsilon) * np.sign(np.asarray(gradient, float)), 0.0, 1.0)


@dataclass(frozen=True)
class Robustness:
    """Accuracy against epsilon over ``n`` test pictures of ``dataset`` (its first ones)."""
    dataset: str
    n: int
    epsilons: tuple[float, ...]
    accuracy: dict                   # "fgsm" / "pgd" / "random" -> accuracy (0..1) at each epsilon
    flipped: dict                    # the same -> share of the pictures right at 0 that are wrong

    def flip_share(self, method: str, epsilon: float) -> float:
        return self.flipped[method][self.epsilons.index(epsilon)]


def robustness(loaded, images: torch.Tensor, labels: torch.Tensor, *, dataset: str, epsilons=GRID,
               progress: Callable[[int, int], None] | None = None) -> Robustness:
    """FGSM, PGD and the random baseline at every epsilon on ``images`` ((N, C, H, W) pixels in
    [0, 1], the test pictures as the network takes them) with their true ``labels``. Flips are
    counted among the pictures the network gets right without any change."""
    epsilons = tuple(float(e) for e in epsilons)
    methods = (*ATTACKS, "random")
    right = {m: np.zeros(len(epsilons)) for m in methods}
    flips = {m: np.zeros(len(epsilons)) for m in methods}
    model, lock = private_copy(loaded.model)
    n, done = len(labels), 0
    total = n * len(epsilons) * len(methods)
    clean_right = torch.zeros(n, dtype=torch.bool)
    with lock:
        for start in range(0, n, BATCH):
            p, y = images[start:start + BATCH], labels[start:start + BATCH]
            ok = _predict(model, loaded, p)[0] == y
            clean_right[start:start + len(y)] = ok
            for i, e in enumerate(epsilons):
                for m in methods:
                    if m == "random":
                        gen = torch.Generator().manual_seed(start)
                        signs = torch.randint(0, 2, p.shape, generator=gen).to(p.dtype) * 2 - 1
                        q = (p + e * signs).clamp(0, 1)
                    else:
                        q = _attack_pixels(loaded, model, p, m, e, y, None)
                    said = _predict(model, loaded, q)[0]
                    right[m][i] += int((said == y).sum())
                    flips[m][i] += int(((said != y) & ok).sum())
                    done += len(y)
                    if progress is not None:
                        progress(done, total)
    base = max(int(clean_right.sum()), 1)
    return Robustness(dataset, n, epsilons, {m: tuple(right[m] / n) for m in methods},
                      {m: tuple(flips[m] / base) for m in methods})
