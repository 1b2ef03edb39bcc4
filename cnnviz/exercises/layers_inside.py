"""Questions of the lessons on a network's parts: ReLU, pooling and softmax, inside a CNN
(shapes, the predicted class, the top image of a channel) and the receptive field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np

from cnnviz.maths.conv import ConvError, convolve2d, output_size
from ..i18n import t
from .basics import _sample_crop
from .core import LESSON_OF, Choice, Label, Question, ScoreList, _kind, _letters, _pick, _q, unique_best


@_kind("layers.relu", "layers")
def _layers_relu(rng):
    from cnnviz.maths.layers import relu
    x = rng.integers(-6, 7, 6).astype(np.float64)
    if (x >= 0).all():
        x[int(rng.integers(6))] = -float(rng.integers(1, 6))
    out = relu(x)
    return _q("layers.relu", {"x": x}, "vector", out, explain={"negatives": x[x < 0]},
              section="layers.tab_relu", figure={"x": x})


def _pool_question(kind: str, rng, mode: str):
    from cnnviz.maths.layers import pool2d
    x = rng.integers(0, 10, (4, 4)).astype(np.float64)
    out = pool2d(x, 2, 2, mode).output
    return _q(kind, {}, "matrix", out, tolerance=0.0 if mode == "max" else 0.01,
              explain={}, section="layers.tab_pool", figure={"matrix": x, "window": 2, "stride": 2})


for _mode in ("max", "avg"):           # layers.maxpool, layers.avgpool: one question, two poolings
    _kind(f"layers.{_mode}pool", "layers")(partial(_pool_question, f"layers.{_mode}pool", mode=_mode))


@_kind("layers.softmax", "layers")
def _layers_softmax(rng):
    from cnnviz.maths.layers import softmax
    z = np.round(rng.uniform(-1.0, 3.0, 3), 1)
    sm = softmax(z)
    exps = sm.exps * math.exp(float(z.max()))      # e^z, the numbers of the formula
    return _q("layers.softmax", {"z": z}, "vector", sm.probs, tolerance=0.01,
              explain={"z": z, "exps": np.round(exps, 2), "total": round(float(exps.sum()), 2)},
              section="layers.tab_softmax")


@_kind("inside.shape", "inside_a_cnn")
def _inside_shape(rng):
    while True:
        h = int(_pick(rng, [28, 32, 64, 96]))
        cin = 1 if h == 28 else 3
        k, s, p = int(_pick(rng, [3, 5])), int(_pick(rng, [1, 1, 2])), int(_pick(rng, [0, 1, 2]))
        cout = int(_pick(rng, [8, 16, 32, 64]))
        pool = bool(rng.random() < 0.5)
        try:
            after = output_size(h, k, s, p)
            final = output_size(after, 2, 2) if pool else after
            break
        except ConvError:
            continue
    answer = np.array([final, final, cout], dtype=np.float64)
    return _q("inside.shape", {"h": h, "cin": cin, "cout": cout, "k": k, "s": s, "p": p, "d": 1,
                               "pool": Label("exercises.then_pool" if pool else "exercises.no_pool")},
              "vector", answer,
              explain={"h": h, "k": k, "s": s, "p": p, "after": after, "cout": cout,
                       "pooled": Label("exercises.pooled", {"after": after, "final": final}) if pool else ""},
              section="inside.arch_header")


DIGITS = tuple(str(i) for i in range(10))


@_kind("inside.predict_class", "inside_a_cnn")
def _inside_predict_class(rng, logits=None, classes=None):
    """With the network's ``logits`` and ``classes`` (the lesson's), the learner guesses from
    the picture before the softmax is shown; without them, from a made-up set of scores.

    The winner is always alone as the learner sees it: made-up scores are drawn again until their
    largest (written with one decimal) is unique; the network's, when its two best classes show the
    same score as the lesson writes them (two decimals), give way to a made-up question."""
    from cnnviz.maths.layers import softmax
    given = logits is not None
    classes = list(classes) if classes is not None else list(DIGITS)
    if given:
        z = np.asarray(logits, dtype=np.float64).ravel()
        if len(z) != len(classes):
            raise ValueError(f"{len(z)} logits for {len(classes)} classes")
        if not unique_best(z, 2):
            return _inside_predict_class(rng)
    else:
        while True:
            z = np.round(rng.normal(0, 2, len(classes)), 1)
            if unique_best(z, 1):
                break
    probs = softmax(z).probs
    best = int(probs.argmax())
    if len(classes) <= 10:
        options = list(range(len(classes)))
    else:
        top = [int(i) for i in np.argsort(-z, kind="stable")[:4]]
        options = list(rng.permutation(top))
    choices = [Choice(Label("exercises.class_name", {"name": str(classes[i])})) for i in options]
    kind_params = {} if given else {"scores": _scores_label(classes, z)}
    return Question("inside.predict_class", LESSON_OF["inside.predict_class"],
                    "exercises.inside.predict_class." + ("prompt_network" if given else "prompt"),
                    kind_params, "choice", choices, options.index(best), 0.0,
                    "exercises.inside.predict_class.explain",
                    {"p": round(100 * float(probs[best]), 1), "z": round(float(z[best]), 2)},
                    "inside.out_header", {"logits": z, "classes": classes} if not given else None)


def _scores_label(classes, z) -> Label:
    return Label("exercises.scores", {"pairs": ScoreList(list(classes), [float(v) for v in z])})


@_kind("inside.top_image", "inside_a_cnn")
def _inside_top_image(rng, images=None, activations=None, channel=None, layer=None):
    """Which of these images makes a channel fire most? With the lesson's ``images`` and the
    channel's ``activations`` on them (e.g. each map's maximum); without them, four crops of
    the bundled samples and a channel that is a known filter (its strongest ReLU answer, the
    kernel sliding without padding, as the prompt says). The activations are revealed with one
    decimal: the most must be alone at that rounding (the lesson's, else a made-up question)."""
    from cnnviz.maths.kernels import make
    from cnnviz.maths.layers import relu
    if activations is not None and not unique_best(activations, 1):
        activations = None              # the lesson's pictures tie as shown: ask about made-up ones
    if activations is None:
        name = _pick(rng, ["sobel_x", "sobel_y", "curve_detector"])
        kernel = make(name)
        for _ in range(20):      # one picture must fire most: saturated crops often tie for first
            crops = [_sample_crop(rng, 32)[1] for _ in range(4)]
            activations = [float(relu(convolve2d(c, kernel, engine="numpy").output).max()) for c in crops]
            if unique_best(activations, 1):
                break
        else:                    # still tied: keep the first of them, blank the others (a blank never fires)
            top = max(round(a, 1) for a in activations)
            for i in [i for i, a in enumerate(activations) if round(a, 1) == top][1:]:
                crops[i] = np.zeros_like(crops[i])
                activations[i] = 0.0
        images, channel_label, prompt = crops, Label(f"kernels.presets.{name}"), "prompt"
        fig = {"images": crops, "kernel": kernel}
    else:
        channel_label = Label("exercises.channel_of", {"c": str(channel), "layer": str(layer)})
        fig, prompt = {"images": list(images) if images is not None else None}, "prompt_network"
    acts = np.asarray(activations, dtype=np.float64)
    best = int(acts.argmax())
    q = _q("inside.top_image", {"channel": channel_label}, "choice", best, choices=_letters(len(acts)),
           explain={"value": round(float(acts[best]), 1), "letter": chr(ord("A") + best),
                    "values": np.round(acts, 1)},
           section="inside.hier_header", figure={**fig, "activations": acts})
    q.prompt_key = f"exercises.inside.top_image.{prompt}"
    return q


_RF_LAYERS = {                      # name: (kernel, stride, padding, dilation)
    "conv3": (3, 1, 1, 1), "conv5": (5, 1, 2, 1), "conv3s2": (3, 2, 1, 1),
    "pool2": (2, 2, 0, 1), "conv3d2": (3, 1, 2, 2),
}


def _rf_stack(rng, n_min=2, n_max=4) -> list[str]:
    return [str(_pick(rng, list(_RF_LAYERS))) for _ in range(int(rng.integers(n_min, n_max + 1)))]


def _rf_fields(names: list[str]):
    from cnnviz.analysis.receptive import stack
    return stack([(n, *_RF_LAYERS[n]) for n in names])


def _stack_label(names: list[str]) -> Label:
    return Label("exercises.stack", {"layers": StackList(names)})


@dataclass(frozen=True)
class StackList:
    names: list

    def text(self, lang: str) -> str:
        return " → ".join(t(f"exercises.rf_layer.{n}", lang) for n in self.names)


def _trail(rows, attr: str) -> str:
    return " → ".join(["1"] + [str(getattr(f, attr)) for _, f in rows])


def _rf_trail(kind: str, rng, attr: str):
    names = _rf_stack(rng)
    rows = _rf_fields(names)
    return _q(kind, {"stack": _stack_label(names)}, "number", getattr(rows[-1][1], attr),
              explain={"trail": _trail(rows, attr)}, section="rf.stack_header")


for _attr in ("size", "jump"):         # rf.size, rf.jump: the same stack, followed by size or by jump
    _kind(f"rf.{_attr}", "receptive_field")(partial(_rf_trail, f"rf.{_attr}", attr=_attr))


@_kind("rf.compare", "receptive_field")
def _rf_compare(rng):
    while True:
        a, b = _rf_stack(rng, 1, 3), _rf_stack(rng, 1, 4)
        sa, sb = _rf_fields(a)[-1][1].size, _rf_fields(b)[-1][1].size
        if sa != sb:
            break
    choices = [Choice(Label("exercises.stack_a")), Choice(Label("exercises.stack_b"))]
    return _q("rf.compare", {"a": _stack_label(a), "b": _stack_label(b)}, "choice", 0 if sa > sb else 1,
              choices=choices, explain={"sa": sa, "sb": sb}, section="rf.stack_header")
