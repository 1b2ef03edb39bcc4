"""Every self-check question can be answered from what the learner sees, and only one way (issue 17).

For each kind a small solver of its own gets only what the widget shows: the prompt as rendered
(``ex.render_prompt``: it reads the numbers out of the text, decimal commas and '.' thousands in
Portuguese), the figure's entries that ``figures.exercise_panels`` actually draws (never the
hidden ones: names, or ``activations`` before the answer is checked) and the rendered options
(``ex.render_choice``, and a kernel drawn under an option). It never reads ``q.params``,
``q.answer`` nor the generators' helpers, and computes the answer with torch / numpy / scipy.

A solver returns *every* answer a learner could defend from what is shown: all the options tied
for the best as displayed (after the rounding the learner sees). Each must be checked right, so a
question whose winner is not unique as displayed fails here, as does a prompt that leaves out
something its answer depends on (padding, biases, stride...).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d

from cnnviz import exercises as ex
from cnnviz.i18n import t

ALL_KINDS = [k for kinds in ex.KINDS.values() for k in kinds]
SEEDS = range(200)
LANGS = ("en", "pt_BR")

# ---------------------------------------------------------------- reading what the learner reads
_NUMBER = {
    "en": r"(?<![\w.,])-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w])",
    "pt_BR": r"(?<![\w.,])-?(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?)(?![\w])",
}


def _value(text: str, lang: str) -> float:
    text = text.replace("−", "-")
    if lang == "pt_BR":
        return float(text.replace(".", "").replace(",", "."))
    return float(text.replace(",", ""))


def numbers(text: str, lang: str) -> list[float]:
    """The numbers of a sentence, in order, read the way ``lang`` writes them."""
    return [_value(m.group(0), lang) for m in re.finditer(_NUMBER[lang], text.replace("−", "-"))]


def write(value: float, lang: str, digits: int = 0) -> str:
    """A number typed the learner's way: 1,234.5 / 1.234,5."""
    text = f"{value:,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "pt_BR" else text


def write_vector(values, lang: str, digits: int = 0) -> str:
    return "; ".join(write(v, lang, digits) for v in np.ravel(values))


def write_matrix(values, lang: str, digits: int = 0) -> str:
    return "; ".join(" ".join(write(v, lang, digits) for v in row) for row in np.asarray(values))


def shown(q) -> dict:
    """The figure's entries that are drawn with the prompt (as ``figures.exercise_panels`` draws them)."""
    out = {}
    for name, value in (q.figure or {}).items():
        if name == "activations":                     # revealed only after checking
            continue
        if isinstance(value, (str, int, float, np.integer, np.floating)) or value is None:
            continue                                   # settings already in the prompt: not drawn
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
            continue                                   # names that would give the answer away
        out[name] = value
    return out


def options(q, lang: str) -> list[str]:
    return [ex.render_choice(q, i, lang) for i in range(len(q.choices))]


def tied(values, digits: int, best=max) -> list[int]:
    """Indices of the values equal to the best one as displayed with ``digits`` decimals."""
    shown_values = [round(float(v), digits) for v in values]
    top = best(shown_values)
    return [i for i, v in enumerate(shown_values) if v == top]


def channels(text: str) -> int:
    """A colour (RGB) picture has three numbers per pixel, a grey one one."""
    return 3 if "RGB" in text else 1


def meta(*shape):
    return torch.empty(*shape, device="meta")


# ---------------------------------------------------------------- the solvers: kind -> answers
SOLVERS = {}


def solver(kind):
    def register(fn):
        SOLVERS[kind] = fn
        return fn
    return register


@solver("numbers.count")
def _(q, lang, text, n):
    h, w = n[0], n[1]
    return [write(np.prod([h, w, channels(text)]), lang)]


@solver("numbers.gray")
def _(q, lang, text, n):
    r, g, b = n[:3]
    wr, wg, wb = n[-3:]                     # the weights the prompt states
    assert abs(wr + wg + wb - 1) < 1e-9, text
    return [write(round(wr * r + wg * g + wb * b), lang)]


@solver("numbers.colour")
def _(q, lang, text, n):
    r, g, b = (v >= 128 for v in n[:3])
    name = {(0, 0, 0): "black", (1, 1, 1): "white", (1, 0, 0): "red", (0, 1, 0): "green", (0, 0, 1): "blue",
            (1, 1, 0): "yellow"}[(int(r), int(g), int(b))]
    return [options(q, lang).index(t(f"exercises.colour.{name}", lang))]


def _conv_len(n, k, s, p, d):
    out = F.conv1d(meta(1, 1, int(n)), meta(1, 1, int(k)), stride=int(s), padding=int(p), dilation=int(d))
    return out.shape[-1]


@solver("conv.output_size")
def _(q, lang, text, n):
    size, k, _, s, p, d = n[:6]              # n pixels, k × k, stride, padding, dilation
    return [write(_conv_len(size, k, s, p, d), lang)]


@solver("conv1d.output_length")
def _(q, lang, text, n):
    size, k, s, p, d = n[:5]
    return [write(_conv_len(size, k, s, p, d), lang)]


@solver("conv.sum_at")
def _(q, lang, text, n):
    f = shown(q)
    assert re.search(r"bias|viés", text), text
    return [write(float((np.asarray(f["window"]) * np.asarray(f["kernel"])).sum()), lang)]


@solver("conv.which_kernel")
def _(q, lang, text, n):
    f = shown(q)
    image, amap = np.asarray(f["image"], dtype=np.float64), np.asarray(f["map"], dtype=np.float64)
    errors = []
    for choice in q.choices:                 # each option's kernel, as drawn (two decimals)
        kernel = np.round(np.asarray(choice.figure, dtype=np.float64), 2)
        out = correlate2d(image, kernel, mode="valid")
        errors.append(np.abs(out - amap).mean() / (np.abs(amap).mean() + 1e-9))
    return [i for i, e in enumerate(errors) if e <= min(errors) + 0.05]   # a clear winner, or all


@solver("conv.products")
def _(q, lang, text, n):
    k, size, c, stride = n[0], n[2], n[4], n[5]
    out = F.conv2d(meta(1, int(c), int(size), int(size)), meta(1, int(c), int(k), int(k)), stride=int(stride))
    return [write(out.shape[-1] * out.shape[-2] * k * k * c, lang)]


@solver("conv1d.value_at")
def _(q, lang, text, n):
    f = shown(q)
    signal, kernel = np.asarray(f["signal"], float), np.asarray(f["kernel"], float)
    assert n[:len(kernel)] == list(kernel) and n[len(kernel):len(kernel) + len(signal)] == list(signal), text
    stride, i = n[len(kernel) + len(signal)], int(n[len(kernel) + len(signal) + 1])
    out = np.correlate(signal, kernel, mode="valid")[::int(stride)]
    return [write(float(out[i]), lang)]


@solver("conv1d.which_kernel")
def _(q, lang, text, n):
    f = shown(q)
    signal, output = np.asarray(f["signal"], float), np.asarray(f["output"], float)
    errors = []
    for choice in q.choices:
        kernel = np.round(np.asarray(choice.figure, float), 2)
        out = np.correlate(signal, kernel, mode="valid")
        errors.append(np.abs(out - output).mean() if len(out) == len(output) else np.inf)
    return [i for i, e in enumerate(errors) if e <= min(errors) + 0.01 * np.abs(output).mean()]


@solver("why.mlp_weights")
def _(q, lang, text, n):
    assert re.search(r"bias|viés", text), text
    side, hidden = n[0], n[2]
    return [write(int(side) * int(side) * channels(text) * int(hidden), lang)]


@solver("why.conv_weights")
def _(q, lang, text, n):
    assert re.search(r"bias|viés", text), text
    cout, k, cin = n[0], n[1], n[3]
    conv = torch.nn.Conv2d(int(cin), int(cout), int(k), bias=False, device="meta")
    return [write(sum(p.numel() for p in conv.parameters()), lang)]


@solver("why.memory")
def _(q, lang, text, n):
    bits = int(re.search(r"float(16|32|64)", text).group(1))
    unit = re.search(r"\b(TB|GB|MB|kB|B)\b", text).group(1)
    weights = [v for v in numbers(text, lang) if v >= 1000][0]
    size = weights * torch.empty(0, dtype=getattr(torch, f"float{bits}")).element_size()
    return [write(size / {"TB": 1e12, "GB": 1e9, "MB": 1e6, "kB": 1e3, "B": 1}[unit], lang, 1)]


# "{N}": a number the way the language writes it (1,024 neurons / 1.024 neurônios)
_WORDS = {
    "en": {"filters": r"with ([\d; ]+) filters", "hidden": r"{N} neurons", "padding": r"padding {N}",
           "kernel": r"of {N} × \d+ with", "pool": r"{N} × \d+ max pooling with stride {N}",
           "classes": r"to {N} classes", "input": r"{N} × {N} × {N}", "outputs": r"{N} outputs"},
    "pt_BR": {"filters": r"com ([\d; ]+) filtros", "hidden": r"{N} neurônios", "padding": r"padding {N}",
              "kernel": r"de {N} × \d+ com", "pool": r"max pooling {N} × \d+ com stride {N}",
              "classes": r"para {N} classes", "input": r"{N} × {N} × {N}", "outputs": r"{N} saídas"},
}


def _find(lang, what, text, all_=False):
    """The value(s) a phrase states ("with 16 filters" -> 16), or a failure naming what is not stated."""
    pattern = _WORDS[lang][what].replace("{N}", "(" + _NUMBER[lang].replace("(?<![\\w.,])", "") + ")")
    found = re.findall(pattern, text)
    assert found, f"{what!r} is not stated: {text}"

    def read(v):
        return v if what == "filters" else int(_value(v, lang))
    values = [tuple(read(x) for x in f) if isinstance(f, tuple) else read(f) for f in found]
    return values if all_ else values[0]


def _cnn_weights(side, c, filters, k, padding, pool, stride, outputs):
    """Weights of conv (no bias) -> max pooling ... -> a linear layer, shapes on torch's meta device."""
    x, total = meta(1, c, side, side), 0
    for f in filters:
        conv = torch.nn.Conv2d(x.shape[1], f, k, padding=padding, bias=False, device="meta")
        total += sum(p.numel() for p in conv.parameters())
        x = F.max_pool2d(conv(x), pool, stride)
    fc = torch.nn.Linear(x[0].numel(), outputs, bias=False, device="meta")
    return total + sum(p.numel() for p in fc.parameters()), fc


@solver("why.which_more")
def _(q, lang, text, n):
    assert re.search(r"bias|viés", text), text
    side, c = int(n[0]), channels(text)
    hidden = _find(lang, "hidden", text)
    outputs = _find(lang, "outputs", text)
    filters = [int(v) for v in _find(lang, "filters", text).replace(";", " ").split()]
    k, padding = _find(lang, "kernel", text), _find(lang, "padding", text)
    pool, stride = _find(lang, "pool", text)
    mlp = side * side * c * hidden + hidden * outputs
    cnn, _ = _cnn_weights(side, c, filters, k, padding, pool, stride, outputs)
    assert mlp != cnn
    return [options(q, lang).index("MLP" if mlp > cnn else "CNN")]


@solver("layers.relu")
def _(q, lang, text, n):
    x = torch.tensor(n, dtype=torch.float64)
    assert np.array_equal(x.numpy(), np.asarray(shown(q)["x"]))
    return [write_vector(torch.relu(x).numpy(), lang)]


@solver("layers.maxpool")
def _(q, lang, text, n):
    m = torch.tensor(np.asarray(shown(q)["matrix"], float)).view(1, 1, 4, 4)
    window, stride = n[0], n[2]             # "a 2 × 2 window and stride 2 on this 4 × 4 matrix"
    return [write_matrix(F.max_pool2d(m, int(window), int(stride))[0, 0].numpy(), lang)]


@solver("layers.avgpool")
def _(q, lang, text, n):
    m = torch.tensor(np.asarray(shown(q)["matrix"], float)).view(1, 1, 4, 4)
    window, stride = n[0], n[2]
    return [write_matrix(F.avg_pool2d(m, int(window), int(stride))[0, 0].numpy(), lang, 2)]


@solver("layers.softmax")
def _(q, lang, text, n):
    z = torch.tensor(n[:3], dtype=torch.float64)
    return [write_vector(torch.softmax(z, 0).numpy(), lang, 2)]


@solver("inside.shape")
def _(q, lang, text, n):
    h, _, cin, cout, k, _, s, p, d = (int(v) for v in n[:9])
    x = F.conv2d(meta(1, cin, h, h), meta(cout, cin, k, k), stride=s, padding=p, dilation=d)
    if len(n) > 9:                            # "then 2 × 2 max pooling with stride 2"
        x = F.max_pool2d(x, int(n[9]), int(n[11]))
    return [write_vector([x.shape[2], x.shape[3], x.shape[1]], lang)]


@solver("inside.predict_class")
def _(q, lang, text, n):
    pairs = re.findall(r"(\w+): (" + _NUMBER[lang] + ")", text.split(":", 1)[1])
    names, z = [p[0] for p in pairs], torch.tensor([_value(p[1], lang) for p in pairs])
    drawn = shown(q).get("logits")
    if drawn is not None:                     # the bars show the same scores
        assert np.allclose(np.asarray(drawn, float), z.numpy(), atol=1e-3)
    probs = torch.softmax(z, 0)
    opts = options(q, lang)
    return [opts.index(names[i]) for i in tied(probs.numpy() * 100, 6)]


@solver("inside.top_image")
def _(q, lang, text, n):
    f = shown(q)
    kernel = np.asarray(f["kernel"], float)
    assert re.search(r"padding", text), text          # "stride 1 and no padding, then ReLU"
    acts = [np.maximum(correlate2d(np.asarray(img, float), kernel, mode="valid"), 0).max() for img in f["images"]]
    return tied(acts, 1)                      # revealed with one decimal


def _rf_layers(stack_text: str, lang: str):
    """(kernel, stride, dilation) of each layer of "conv 3 × 3, stride 2 → pool 2 × 2, stride 2 → ..."."""
    layers = []
    for item in stack_text.split("→"):
        k = int(re.search(r"(\d+) × \d+", item).group(1))
        s = re.search(r"stride (\d+)", item)
        d = re.search(r"(?:dilation|dilatação) (\d+)", item)
        layers.append((k, int(s.group(1)) if s else 1, int(d.group(1)) if d else 1))
    return layers


def _rf(layers, length=512):
    """Receptive field size and jump of the last layer's middle unit, by following its connections
    back: unit j of a layer (kernel k, stride s, dilation d) sees units j·s + d·t, t < k, below it."""
    sizes = [length]
    for k, s, d in layers:                  # the layers' lengths, no padding: every unit is inside
        sizes.append((sizes[-1] - d * (k - 1) - 1) // s + 1)
    m = sizes[-1] // 2
    seen = []
    for unit in (m, m + 1):
        units = {unit}
        for k, s, d in reversed(layers):
            units = {j * s + d * t for j in units for t in range(k)}
        seen.append(units)
    return max(seen[0]) - min(seen[0]) + 1, min(seen[1]) - min(seen[0])


def _stack_text(text):
    return text.split(":", 1)[1].rsplit(".", 1)[0].split(". ")[0]


@solver("rf.size")
def _(q, lang, text, n):
    return [write(_rf(_rf_layers(_stack_text(text), lang))[0], lang)]


@solver("rf.jump")
def _(q, lang, text, n):
    return [write(_rf(_rf_layers(_stack_text(text), lang))[1], lang)]


@solver("rf.compare")
def _(q, lang, text, n):
    parts = re.findall(r"(?:Stack|Pilha) [AB]: (.*?)\.(?: |$)", text)
    assert len(parts) == 2, text
    sizes = [_rf(_rf_layers(p, lang))[0] for p in parts]
    opts = options(q, lang)
    return [opts.index(t("exercises.stack_" + "ab"[i], lang)) for i in tied(sizes, 0)]


@solver("datasets.normalize")
def _(q, lang, text, n):
    mean, std, p = n[1:4]                    # "divided by 255, then ... the mean M and the standard deviation S"
    x = torch.tensor([[[p / 255]]], dtype=torch.float64)
    return [write(float(((x - mean) / std).item()), lang, 2)]


@solver("datasets.values")
def _(q, lang, text, n):
    count, h, w, c = n[:4]
    return [write(torch.zeros(int(h), int(w), int(c), device="meta").numel() * count, lang)]


@solver("datasets.steps")
def _(q, lang, text, n):
    images, batch = n[:2]
    return [write(len(torch.utils.data.DataLoader(range(int(images)), batch_size=int(batch))), lang)]


@solver("bp.sigmoid_slope")
def _(q, lang, text, n):
    x = torch.tensor(n[-1], dtype=torch.float64, requires_grad=True)   # "... at x = 1.3?"
    torch.sigmoid(x).backward()
    return [write(float(x.grad), lang, 2)]


@solver("bp.cross_entropy")
def _(q, lang, text, n):
    probs = torch.tensor(n[:3], dtype=torch.float64)
    true = "ABC".index(re.search(r"(?:is|é) ([ABC])\.", text).group(1))
    return [write(float(F.nll_loss(torch.log(probs)[None], torch.tensor([true]))), lang, 2)]


@solver("bp.kernel_update")
def _(q, lang, text, n):
    w0, x1, x2, x3, d1, d2, d3, lr = n[:8]
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    maps = w * torch.tensor([x1, x2, x3], dtype=torch.float64)          # the weight's share of the map
    maps.backward(torch.tensor([d1, d2, d3], dtype=torch.float64))      # the map's gradients δ
    return [write(float(w - lr * w.grad), lang, 2)]
def _optim_step(w, g, opt, **kw):
    """One step of ``opt`` (a torch.optim class) on a weight ``w`` whose gradient is ``g``."""
    p = torch.nn.Parameter(torch.tensor([w], dtype=torch.float64))
    o = opt([p], **kw)
    p.grad = torch.tensor([g], dtype=torch.float64)
    o.step()
    return o, p


@solver("gd.sgd_step")
def _(q, lang, text, n):
    w, g, lr = n[:3]
    p = torch.nn.Parameter(torch.tensor([w], dtype=torch.float64))
    p.grad = torch.tensor([g], dtype=torch.float64)
    torch.optim.SGD([p], lr=lr).step()
    return [write(float(p.detach()), lang, 2)]


@solver("gd.momentum_step")
def _(q, lang, text, n):
    mu, w, v, g, lr = n[:5]
    # torch keeps the velocity in its state: a first step with gradient v leaves it at v, then the asked step
    p = torch.nn.Parameter(torch.tensor([0.0], dtype=torch.float64))
    o = torch.optim.SGD([p], lr=lr, momentum=mu)
    p.grad = torch.tensor([v], dtype=torch.float64)
    o.step()
    with torch.no_grad():
        p.fill_(w)
    p.grad = torch.tensor([g], dtype=torch.float64)
    o.step()
    return [write(float(p.detach()), lang, 2)]


@solver("gd.converges")
def _(q, lang, text, n):
    a, w0, lr = n[:3]
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    o = torch.optim.SGD([p], lr=lr)
    trail = [float(p.detach())]
    for _ in range(40):
        o.zero_grad()
        (a * p ** 2).backward()
        o.step()
        trail.append(float(p.detach()))
    grows = abs(trail[-1]) > abs(trail[0])
    flips = trail[1] * trail[0] < 0
    wanted = ("gd.converges.diverge" if grows else "gd.converges.zigzag" if flips else "gd.converges.smooth")
    return [options(q, lang).index(t(f"exercises.{wanted}", lang))]


@solver("train.overfit")
def _(q, lang, text, n):
    runs = shown(q)["runs"]
    drops = [float(np.max(r["val"]) - np.asarray(r["val"])[-1]) for r in runs]
    rises = [float(np.asarray(r["train"])[-1] - np.asarray(r["train"])[int(np.argmax(r["val"]))]) for r in runs]
    bad = [i for i in range(len(runs)) if drops[i] > 3 and rises[i] >= 0]
    return bad if len(bad) == 1 else list(range(len(runs)))


@solver("train.best_epoch")
def _(q, lang, text, n):
    val = np.asarray(shown(q)["val"], float)
    assert len(val) == int(n[0])
    return [write(i + 1, lang) for i in tied(val, 1)]


@solver("train.trainable")
def _(q, lang, text, n):
    assert re.search(r"bias|viés", text), text
    side, _, c = _find(lang, "input", text)
    filters = [int(v) for v in _find(lang, "filters", text, all_=True)]
    paddings = set(_find(lang, "padding", text, all_=True))
    assert len(paddings) == 1, text
    pool, stride = _find(lang, "pool", text)
    classes = _find(lang, "classes", text)
    _, fc = _cnn_weights(side, c, filters, 3, paddings.pop(), pool, stride, classes)
    return [write(sum(p.numel() for p in fc.parameters()), lang)]


@solver("ae.ratio")
def _(q, lang, text, n):
    side, _, c, latent = n[:4]
    return [write(side * side * c / latent, lang, 2)]


@solver("ae.reparam")
def _(q, lang, text, n):
    mu, sigma, eps = n[:3]
    return [write(mu + sigma * eps, lang, 2)]


@solver("ae.kl")
def _(q, lang, text, n):
    prior = torch.distributions.Normal(0.0, 1.0)
    kls = []
    for o in options(q, lang):
        mu, sigma = numbers(o, lang)
        kls.append(float(torch.distributions.kl_divergence(torch.distributions.Normal(mu, sigma), prior)))
    return tied(kls, 2, best=min)


@solver("explain.pointing")
def _(q, lang, text, n):
    f = shown(q)
    hm = np.asarray(f["heatmap"], float)
    values = [hm[y, x] for x, y in f["points"]]
    span = hm.max() - hm.min()
    # drawn in colour: a point can only be told apart from the best one when it is clearly darker
    return [i for i, v in enumerate(values) if v >= max(values) - 0.3 * span]


@solver("explain.faithful")
def _(q, lang, text, n):
    f = shown(q)
    x = np.asarray(f["fractions"], float)
    aucs = [float(np.trapezoid(np.asarray(c, float), x)) for c in f["curves"]]
    return tied(aucs, 2, best=min)


@solver("explain.sanity")
def _(q, lang, text, n):
    last = [float(np.asarray(c, float)[-1]) for c in shown(q)["correlations"]]
    return tied(last, 2, best=min)


@solver("shortcut.flip")
def _(q, lang, text, n):
    counts = torch.tensor(n[:6], dtype=torch.float64).view(3, 2)     # (flipped, of how many) per class
    return [write(float(100 * counts[:, 0].sum() / counts[:, 1].sum()), lang, 1)]


@solver("shortcut.cam_mass")
def _(q, lang, text, n):
    side, size = int(n[0]), int(n[2])
    corner = [c for c in ("top_left", "top_right", "bottom_left", "bottom_right")
              if t(f"shortcut.corner.{c}", lang) in text]
    assert len(corner) == 1, text
    heat = torch.tensor(np.asarray(shown(q)["heatmap"], float))
    rows = slice(0, size) if corner[0].startswith("top") else slice(side - size, side)
    cols = slice(0, size) if corner[0].endswith("left") else slice(side - size, side)
    return [write(float(100 * heat[rows, cols].sum() / heat.sum()), lang, 1)]


@solver("shortcut.which_fix")
def _(q, lang, text, n):
    without, with_square = np.asarray(n[:6], float).reshape(3, 2).T
    return tied(np.abs(with_square - without), 0, best=min)


@solver("fool.score_shift")
def _(q, lang, text, n):
    w, eps = torch.tensor(n[:6], dtype=torch.float64), n[6]
    x = torch.zeros(6, dtype=torch.float64, requires_grad=True)       # the best change: eps x sign of the gradient
    (grad,) = torch.autograd.grad(w @ x, x)
    return [write(float(w @ (eps * grad.sign())), lang, 2)]


@solver("fool.fgsm_step")
def _(q, lang, text, n):
    x, g, eps = torch.tensor(n[2:7]), torch.tensor(n[7:12]), n[12]    # n[0], n[1]: the "0 = black, 1 = white"
    return [write_vector(torch.clamp(x + eps * g.sign(), 0, 1).numpy(), lang, 2)]


@solver("fool.smallest_flip")
def _(q, lang, text, n):
    label, pairs = n[0], torch.tensor(n[1:]).view(-1, 2)
    flipped = (pairs[:, 1] != label).nonzero()
    return [write(float(pairs[int(flipped[0]), 0]), lang, 2)]


# ---------------------------------------------------------------- the tests
def _solve(q, lang):
    text = ex.render_prompt(q, lang)
    answers = SOLVERS[q.kind](q, lang, text, numbers(text, lang))
    assert answers, f"{q.kind}: no answer found in {text!r}"
    return answers


def _failures(questions, lang) -> list[str]:
    bad = []
    for label, q in questions:
        try:
            answers = _solve(q, lang)
        except Exception as err:   # noqa: BLE001 - a prompt that cannot be read is a failure to report
            bad.append(f"{label} {lang}: cannot solve ({type(err).__name__}: {err}): {ex.render_prompt(q, lang)}")
            continue
        for a in answers:
            if not ex.check(q, a, lang).correct:
                bad.append(f"{label} {lang}: {a!r} (of {answers}) marked wrong, expected "
                           f"{ex.expected_text(q, lang)!r}: {ex.render_prompt(q, lang)}")
    return bad


def test_every_kind_has_a_solver():
    assert sorted(SOLVERS) == sorted(ALL_KINDS)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_question_is_answered_from_what_is_shown(kind):
    """200 questions per kind, both languages: the solver's answers (all of them) are checked right."""
    questions = [(f"{kind} seed {s}", ex.generate(kind, s)) for s in SEEDS]
    bad = [b for lang in LANGS for b in _failures(questions, lang)]
    assert not bad, f"{len(bad)} of {2 * len(questions)}:\n" + "\n".join(bad[:6])


def test_the_number_reader_reads_both_languages():
    assert numbers("4,294,967,296 weights as float16; 0.299 × R, -1.5", "en") == [4294967296, 0.299, -1.5]
    assert numbers("4.294.967.296 pesos em float16; 0,299 × R, -1,5", "pt_BR") == [4294967296, 0.299, -1.5]
    assert write(1234.5, "pt_BR", 1) == "1.234,5" and write(1234.5, "en", 1) == "1,234.5"


# With the lesson's values (ex.CONTEXT) the map, the curves and the correlations are drawn too.
def _context(kind, rng):
    if kind == "explain.pointing":
        size = int(rng.choice([7, 14, 28]))
        small = rng.random((4, 4))
        hm = np.kron(small, np.ones((size // 4 + 1, size // 4 + 1)))[:size, :size] if rng.random() < 0.3 else \
            rng.random((size, size)) ** 3
        return {"heatmap": hm, "target": "7"}
    if kind == "explain.faithful":
        fr = np.linspace(0, 1, 11)
        curves = [np.round(np.exp(-rng.uniform(1, 8) * fr), 2) for _ in range(2)]
        if rng.random() < 0.3:
            curves[1] = curves[0].copy()      # the lesson's two maps can tie: never ask which is better
        return {"fractions": fr, "curves": curves, "names": ["Grad-CAM", "Saliency"]}
    if kind == "explain.sanity":
        corr = [np.round(np.concatenate([[1.0], rng.uniform(0, 1, 3)]), 2) for _ in range(3)]
        if rng.random() < 0.3:
            corr[1][-1] = corr[0][-1] = min(c[-1] for c in corr)
        return {"correlations": corr, "names": ["Grad-CAM", "Saliency", "IG"]}
    raise KeyError(kind)


@pytest.mark.parametrize("kind", ["explain.pointing", "explain.faithful", "explain.sanity"])
def test_questions_on_the_lessons_values_are_answered_from_what_is_shown(kind):
    rng = np.random.default_rng(17)
    questions = [(f"{kind} context {s}", ex.generate(kind, s, **_context(kind, rng))) for s in range(100)]
    bad = [b for lang in LANGS for b in _failures(questions, lang)]
    assert not bad, "\n".join(bad[:6])


@pytest.mark.parametrize("kind", ["inside.predict_class", "inside.top_image"])
def test_a_lessons_tie_never_asks_for_a_single_best(kind):
    """The network's scores (or a channel's activations) tied as the lesson shows them: the question
    is not asked about them (a made-up one, which is solvable, comes instead)."""
    for s in range(30):
        if kind == "inside.predict_class":
            q = ex.generate(kind, s, logits=[1.0, 3.0, 3.0, -1.0], classes=["cat", "dog", "fox", "owl"])
        else:
            q = ex.generate(kind, s, images=np.zeros((4, 8, 8)), activations=[2.0, 5.04, 4.96, 1.0],
                            channel=3, layer="conv1")
        for lang in LANGS:
            assert not _failures([(f"{kind} tied {s}", q)], lang)
