"""From a learner's picture to the input a small network was trained on.

MNIST digits are white strokes on black, fitted in a 20x20 box and placed in a
28x28 image so that their centre of mass is the centre. A photo of a digit on
paper or a drawing on a white canvas looks nothing like that, and a network
only knows the world it was trained on. So we redo MNIST's own recipe:
grayscale, invert if the background is light, crop, scale to 20x20, centre by mass.

A picture that is already in the dataset's format (28x28, grey, dark background, e.g. a
test image of MNIST or Fashion-MNIST) passes through unchanged: redoing the recipe on it
would only damage it (Fashion-MNIST through crop-and-refit: 89.45 % instead of 92.98 %).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from cnnviz.data.datasets import DATASETS, normalize

_MNIST, _FASHION = DATASETS["mnist"], DATASETS["fashion"]   # their mean and std by default


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Drop transparency. Strokes drawn on a transparent canvas keep their contrast:
    light strokes go on black, dark strokes on white."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3]
        gray = np.asarray(rgba.convert("L"))
        opaque = alpha > 128
        light_strokes = opaque.any() and gray[opaque].mean() > 128 and opaque.mean() < 0.5
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255) if light_strokes else (255,) * 4)
        img = Image.alpha_composite(background, rgba)
    return img


def to_gray(img: Image.Image) -> np.ndarray:
    """Grayscale float array in [0, 1], foreground light on a dark background."""
    img = _flatten_alpha(img)
    if max(img.size) > 512:   # a 12-megapixel photo: shrink first, the result is 28x28 anyway
        img = img.copy()
        img.thumbnail((512, 512), Image.BOX)
    g = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    if np.median(border) > 0.5:          # light paper / white canvas: invert like MNIST
        g = 1.0 - g
        border = 1.0 - border
    # stretch so the background is 0 and the strokes reach 1 (photos are rarely pure black/white)
    lo = float(np.median(border))
    hi = float(np.percentile(g, 99.5))
    if hi - lo < 1e-3:
        return np.zeros_like(g)
    g = np.clip((g - lo) / (hi - lo), 0.0, 1.0)
    g[g < 0.15] = 0.0                    # paper texture and shadows are not ink
    return g


def _crop(g: np.ndarray, threshold: float = 0.3) -> np.ndarray | None:
    rows, cols = np.nonzero(g > threshold)
    if len(rows) == 0:
        return None
    return g[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _fit(g: np.ndarray, box: int) -> np.ndarray:
    """Resize so the longer side is ``box`` pixels, keeping the aspect ratio."""
    h, w = g.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((g * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32) / 255.0
    small = np.clip(small, 0, None)
    # thin strokes fade when shrunk 15x; bring the ink back to full strength
    peak = float(np.percentile(small[small > 0], 95)) if (small > 0).any() else 0.0
    return np.clip(small / peak, 0, 1) if peak > 0 else small


def _place(small: np.ndarray, size: int, by_mass: bool) -> np.ndarray:
    h, w = small.shape
    if by_mass and small.sum() > 0:
        ys, xs = np.indices(small.shape)
        cy, cx = (ys * small).sum() / small.sum(), (xs * small).sum() / small.sum()
        top, left = round(size / 2 - cy - 0.5), round(size / 2 - cx - 0.5)
    else:
        top, left = (size - h) // 2, (size - w) // 2
    top, left = min(max(top, 0), size - h), min(max(left, 0), size - w)
    out = np.zeros((size, size), dtype=np.float32)
    out[top:top + h, left:left + w] = small
    return out


def native_gray(img: Image.Image, size: int = 28) -> np.ndarray | None:
    """``img`` as floats in [0, 1] if it is already in MNIST / Fashion-MNIST's format:
    ``size`` x ``size``, grey (R = G = B), a dark background (the border is mostly dark, so
    it would not be inverted); else None. Such an image needs no preprocessing but /255."""
    if img.size != (size, size):
        return None
    img = _flatten_alpha(img)
    if img.mode in ("RGB", "RGBA"):
        rgb = np.asarray(img.convert("RGB"))
        if not ((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()):
            return None
    elif img.mode not in ("L", "P", "1", "I", "I;16", "F"):
        return None
    g = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    return g if np.median(border) <= 0.5 else None


def _normalized(g: np.ndarray, mean: float, std: float) -> torch.Tensor:
    return normalize(torch.from_numpy(g).view(1, 1, *g.shape), mean, std)


def digits_preprocess(img: Image.Image, *, mean: float = _MNIST.mean[0], std: float = _MNIST.std[0]):
    """MNIST-style preprocessing of a photo or drawing of one digit (an image already in
    MNIST's format passes through: see ``native_gray``).

    Returns ``(tensor (1, 1, 28, 28) normalized, PIL 'L' 28x28 image of what the network
    sees)``. A blank picture gives an all-black 28x28 image (check ``view.getbbox()``).
    """
    g28 = native_gray(img)
    if g28 is None:
        g = to_gray(img)
        crop = _crop(g)
        g28 = np.zeros((28, 28), np.float32) if crop is None else _place(_fit(crop, 20), 28, by_mass=True)
    view = Image.fromarray((g28 * 255).round().astype(np.uint8), mode="L")
    return _normalized(g28, mean, std), view


def fashion_preprocess(img: Image.Image, *, mean: float = _FASHION.mean[0], std: float = _FASHION.std[0]):
    """Fashion-MNIST-style: grayscale, light item on black, cropped and fitted in 28x28
    (an image already in Fashion-MNIST's format passes through: see ``native_gray``).

    Returns ``(tensor (1, 1, 28, 28), PIL 'L' 28x28)`` like ``digits_preprocess``.
    """
    g28 = native_gray(img)
    if g28 is None:
        g = to_gray(img)
        crop = _crop(g, threshold=0.15)
        g28 = np.zeros((28, 28), np.float32) if crop is None else _place(_fit(crop, 26), 28, by_mass=False)
    view = Image.fromarray((g28 * 255).round().astype(np.uint8), mode="L")
    return _normalized(g28, mean, std), view


def rgb_preprocess(img: Image.Image, size: tuple[int, int], mean, std) -> torch.Tensor:
    """Centre-crop to a square, resize to ``size`` (H, W), normalize: (1, 3, H, W).

    A picture already ``size`` (a CIFAR-10 image for Tiny VGG) is not resampled: PIL
    returns a same-size resize unchanged, so it only gets /255 and the normalization."""
    img = _flatten_alpha(img).convert("RGB")
    w, h = img.size
    s = min(w, h)
    img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    img = img.resize((size[1], size[0]), Image.BICUBIC, reducing_gap=2.0)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return normalize(x, mean, std).unsqueeze(0)
