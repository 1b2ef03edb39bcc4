"""Questions of the first lessons: an image as numbers, the convolution (2D and 1D) and why
convolution (counting weights and memory)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cnnviz.maths import params as cparams
from cnnviz.maths.conv import ConvError, convolve2d, kernel_span, output_size
from .core import Choice, Label, Terms, _kind, _pick, _q, fmt


@_kind("numbers.count", "image_as_numbers")
def _numbers_count(rng):
    h, w = int(_pick(rng, [28, 32, 48, 64, 100, 128, 200, 224, 256])), int(_pick(rng, [28, 32, 64, 96, 128, 224, 256, 320]))
    c = int(_pick(rng, [1, 3]))
    n = cparams.inputs((h, w, c))
    colour = Label("exercises.grey_picture" if c == 1 else "exercises.colour_picture")
    return _q("numbers.count", {"h": h, "w": w, "picture": colour}, "number", n,
              explain={"h": h, "w": w, "c": c, "per_pixel": Label(f"exercises.per_pixel_{c}")},
              section="numbers.shape")


@lru_cache(maxsize=4096)
def _grey_of(r: int, g: int, b: int) -> int:
    from PIL import Image

    from cnnviz.maths.images import to_array
    return int(to_array(Image.fromarray(np.array([[[r, g, b]]], dtype=np.uint8)), "gray")[0, 0])


GREY_WEIGHTS = (0.299, 0.587, 0.114)     # ITU-R 601-2 luma: Pillow's convert("L"), the lesson's formula


@_kind("numbers.gray", "image_as_numbers")
def _numbers_gray(rng):
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    grey = _grey_of(r, g, b)      # Pillow's convert("L"), as the lesson computes it
    wr, wg, wb = GREY_WEIGHTS     # the prompt states the weights: a plain mean would be another answer
    return _q("numbers.gray", {"r": r, "g": g, "b": b, "wr": wr, "wg": wg, "wb": wb}, "number", grey, tolerance=1.0,
              explain={"r": r, "g": g, "b": b}, section="numbers.channel_gray")


COLOURS = ("black", "white", "red", "green", "blue", "yellow")


_COLOUR_HIGH = {"black": "", "white": "rgb", "red": "r", "green": "g", "blue": "b", "yellow": "rg"}


@_kind("numbers.colour", "image_as_numbers")
def _numbers_colour(rng):
    name = _pick(rng, COLOURS)
    rgb = [int(rng.integers(200, 256)) if ch in _COLOUR_HIGH[name] else int(rng.integers(0, 56)) for ch in "rgb"]
    others = [c for c in COLOURS if c != name]
    options = [name] + list(rng.choice(others, 3, replace=False))
    rng.shuffle(options)
    choices = [Choice(Label(f"exercises.colour.{c}")) for c in options]
    r, g, b = rgb
    return _q("numbers.colour", {"r": r, "g": g, "b": b}, "choice", options.index(name), choices=choices,
              explain={"r": r, "g": g, "b": b, "why": Label(f"exercises.colour_why.{name}")},
              section="numbers.channel_all")


def _valid_conv_settings(rng, sizes, kernels_, strides, paddings, dilations):
    while True:
        n, k = int(_pick(rng, sizes)), int(_pick(rng, kernels_))
        s, p, d = int(_pick(rng, strides)), int(_pick(rng, paddings)), int(_pick(rng, dilations))
        try:
            return n, k, s, p, d, output_size(n, k, s, p, d)
        except ConvError:
            continue


@_kind("conv.output_size", "convolution")
def _conv_output_size(rng):
    n, k, s, p, d, out = _valid_conv_settings(rng, list(range(5, 65)), [1, 3, 3, 5, 5, 7],
                                              [1, 1, 2, 3], [0, 0, 1, 2, 3], [1, 1, 1, 2])
    return _q("conv.output_size", {"n": n, "k": k, "s": s, "p": p, "d": d}, "number", out,
              explain={"n": n, "k": k, "s": s, "p": p, "d": d, "inside": n + 2 * p - kernel_span(k, d)},
              section="conv.sizes_header")


@_kind("conv.sum_at", "convolution")
def _conv_sum_at(rng):
    window = rng.integers(0, 10, (3, 3)).astype(np.float64)
    kernel = rng.integers(-2, 3, (3, 3)).astype(np.float64)
    if not kernel.any():
        kernel[1, 1] = 1
    step = convolve2d(window, kernel, engine="numpy").step(0, 0)
    terms = Terms([(float(a), float(b)) for a, b in zip(step.field[0].ravel(), kernel.ravel()) if b != 0])
    return _q("conv.sum_at", {}, "number", step.total,
              explain={"terms": terms}, section="conv.step_header",
              figure={"window": window, "kernel": kernel})


WHICH_KERNELS = ("sobel_x", "sobel_y", "laplacian", "box_blur")


@lru_cache(maxsize=8)
def _grey_sample(key: str) -> np.ndarray:
    from cnnviz.maths.images import fit, load_sample, to_array
    return to_array(fit(load_sample(key), 96), "gray").astype(np.float64)


def _sample_crop(rng, size: int = 40, keys=("mouse", "shapes", "letters", "checkerboard", "digit", "landscape")):
    """A crop of a bundled sample with edges in both directions (so every kernel shows something)."""
    from cnnviz.maths.kernels import make
    for _ in range(50):
        key = _pick(rng, list(keys))
        img = _grey_sample(key)
        h, w = img.shape
        if h < size or w < size:
            continue
        top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        crop = img[top:top + size, left:left + size]
        gx = convolve2d(crop, make("sobel_x"), engine="numpy").output
        gy = convolve2d(crop, make("sobel_y"), engine="numpy").output
        if np.abs(gx).mean() > 8 and np.abs(gy).mean() > 8:
            return key, crop
    return key, crop


@_kind("conv.which_kernel", "convolution")
def _conv_which_kernel(rng):
    from cnnviz.maths.kernels import make
    _, crop = _sample_crop(rng)
    names = list(WHICH_KERNELS)
    rng.shuffle(names)
    answer = int(rng.integers(len(names)))
    # no padding: zero borders would draw an edge around every map and blur the clue
    amap = convolve2d(crop, make(names[answer]), engine="numpy").output.astype(np.float64)
    choices = [Choice(Label(f"kernels.presets.{n}"), make(n)) for n in names]
    return _q("conv.which_kernel", {}, "choice", answer, choices=choices,
              explain={"why": Label(f"exercises.kernel_why.{names[answer]}")}, section="conv.kernel_header",
              figure={"image": crop, "map": amap, "kernel_names": names})


@_kind("conv.products", "convolution")
def _conv_products(rng):
    if rng.random() < 0.2:
        n, c, k = 32, 3, 5                 # the course: 784 positions of 75 multiplications
    else:
        n, c, k = int(_pick(rng, [8, 10, 12, 16, 20, 28, 32])), int(_pick(rng, [1, 3])), int(_pick(rng, [3, 5]))
    result = convolve2d(np.zeros((c, n, n)), np.zeros((c, k, k)), engine="numpy")
    total = result.positions * result.products_per_step
    out = result.shape[0]
    return _q("conv.products", {"n": n, "c": c, "k": k}, "number", total,
              explain={"n": n, "k": k, "c": c, "out": out, "positions": result.positions,
                       "per": result.products_per_step},
              section="conv.sizes_header")


@_kind("conv1d.output_length", "conv1d")
def _conv1d_output_length(rng):
    n, k, s, p, d, out = _valid_conv_settings(rng, list(range(10, 201)), [3, 5, 7, 9], [1, 1, 2, 4],
                                              [0, 0, 1, 2, 3], [1, 1, 2])
    return _q("conv1d.output_length", {"n": n, "k": k, "s": s, "p": p, "d": d}, "number", out,
              explain={"n": n, "k": k, "s": s, "p": p, "d": d, "inside": n + 2 * p - kernel_span(k, d)},
              section="conv1d.sizes_header")


@_kind("conv1d.value_at", "conv1d")
def _conv1d_value_at(rng):
    from cnnviz.maths.signals import PRESETS, convolve
    signal = rng.integers(-3, 8, 8).astype(np.float64)
    name = _pick(rng, ["difference", "second_derivative", "peak", "random"])
    kernel = rng.integers(-2, 3, 3).astype(np.float64) if name == "random" else PRESETS[name].copy()
    if not kernel.any():
        kernel[1] = 1.0
    result = convolve(signal, kernel)
    i = int(rng.integers(len(result.output)))
    window = result.windows[i]
    terms = Terms([(float(a), float(b)) for a, b in zip(window, kernel) if b != 0])
    return _q("conv1d.value_at", {"i": i, "signal": signal, "kernel": kernel}, "number", float(result.output[i]),
              explain={"i": i, "window": window, "terms": terms}, section="conv1d.step_header",
              figure={"signal": signal, "kernel": kernel, "position": i})


WHICH_KERNELS_1D = ("identity", "moving_average", "difference", "second_derivative")


@_kind("conv1d.which_kernel", "conv1d")
def _conv1d_which_kernel(rng):
    from cnnviz.maths.signals import PRESETS, convolve, make
    kind = _pick(rng, ["square", "sawtooth"])
    # a little noise: the moving average visibly calms it, the identity keeps it
    signal = make(kind, n=int(_pick(rng, [60, 80, 100])), freq=float(_pick(rng, [2.0, 3.0, 4.0])),
                  noise=0.06, seed=int(rng.integers(1_000_000)))
    names = list(WHICH_KERNELS_1D)
    rng.shuffle(names)
    answer = int(rng.integers(len(names)))
    out = convolve(signal, PRESETS[names[answer]]).output
    choices = [Choice(Label(f"signals.kernel.{n}"), PRESETS[n].copy()) for n in names]
    return _q("conv1d.which_kernel", {}, "choice", answer, choices=choices,
              explain={"why": Label(f"exercises.kernel1d_why.{names[answer]}")}, section="conv1d.kernel_header",
              figure={"signal": signal, "output": out, "kernel_names": names})


COURSE_SIDE = 256                 # the course: a 256 x 256 grey image, a hidden layer as wide


@_kind("why.mlp_weights", "why_convolution")
def _why_mlp_weights(rng, course: bool | None = None):
    course = bool(rng.random() < 0.25) if course is None else course
    if course:
        n, c, hidden = COURSE_SIDE, 1, COURSE_SIDE * COURSE_SIDE     # -> 4,294,967,296
    else:
        n, c = int(_pick(rng, [16, 28, 32, 64, 100, 128, 224])), int(_pick(rng, [1, 3]))
        hidden = int(_pick(rng, [10, 64, 100, 128, 256, 500, 1000]))
    weights = cparams.mlp_weights((n, n, c), [hidden])
    picture = Label("exercises.grey_picture" if c == 1 else "exercises.colour_picture")
    return _q("why.mlp_weights", {"n": n, "picture": picture, "hidden": hidden}, "number", weights,
              explain={"n": n, "c": c, "inputs": cparams.inputs((n, n, c)), "hidden": hidden},
              section="why.mlp_header")


@_kind("why.conv_weights", "why_convolution")
def _why_conv_weights(rng):
    k, cin = int(_pick(rng, [1, 3, 3, 5, 7])), int(_pick(rng, [1, 3, 16, 32, 64]))
    cout, side = int(_pick(rng, [8, 16, 32, 64, 128])), int(_pick(rng, [28, 64, 224, 1024]))
    weights = cparams.conv_weights(cin, cout, k)
    return _q("why.conv_weights", {"k": k, "cin": cin, "cout": cout, "side": side}, "number", weights,
              explain={"k": k, "cin": cin, "cout": cout, "side": side}, section="why.cnn_header")


@_kind("why.memory", "why_convolution")
def _why_memory(rng):
    dtype = _pick(rng, ["float32", "float16"])
    if rng.random() < 0.3:
        weights = cparams.mlp_weights((COURSE_SIDE, COURSE_SIDE), [COURSE_SIDE * COURSE_SIDE])
    else:
        weights = int(_pick(rng, [3, 5, 12, 25, 60, 125, 250, 600])) * 10 ** int(_pick(rng, [5, 6, 7, 8]))
    size = cparams.memory_bytes(weights, dtype)
    value, unit = cparams.human_bytes(size)
    return _q("why.memory", {"weights": weights, "dtype": dtype, "unit": unit}, "number", value, tolerance=0.05,
              explain={"weights": weights, "dtype": dtype, "bytes": cparams.BYTES[dtype], "total": size,
                       "unit": unit},
              section="why.fits_header")


@_kind("why.which_more", "why_convolution")
def _why_which_more(rng):
    while True:
        n, c = int(_pick(rng, [28, 32, 64, 128, 224])), int(_pick(rng, [1, 3]))
        hidden = int(_pick(rng, [64, 128, 512, 1024]))
        convs = [int(v) for v in _pick(rng, [[8, 16], [16, 32, 64], [64, 128, 256, 512], [32, 64]])]
        k = int(_pick(rng, [3, 5]))
        mlp = cparams.mlp_weights((n, n, c), [hidden], outputs=10)
        cnn = sum(r.weights for r in cparams.cnn_weights((n, n, c), [(f, k) for f in convs], outputs=10))
        cmp = cparams.compare(mlp, cnn)
        if cmp.more != "equal":
            break
    choices = [Choice(Label("why.mlp_header")), Choice(Label("why.cnn_header"))]
    # cparams.cnn_weights: 'same' padding (k // 2), 2 x 2 pooling with stride 2, no biases: all stated
    return _q("why.which_more", {"n": n, "picture": Label("exercises.grey_picture" if c == 1 else "exercises.colour_picture"),
                                 "hidden": hidden, "convs": convs, "k": k, "p": k // 2},
              "choice", 0 if cmp.more == "mlp" else 1, choices=choices,
              explain={"mlp": mlp, "cnn": cnn, "factor": fmt(round(cmp.factor, cmp.digits)),
                       "more": Label("why.mlp_header" if cmp.more == "mlp" else "why.cnn_header")},
              section="why.ratio_label")
