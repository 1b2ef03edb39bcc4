"""Exploring a dataset (issue 19): what a collection of pictures is, counted and measured.

A ``Collection`` is the pictures a learner looks at, as uint8 arrays (the layout of torchvision's
``dataset.data``): a dataset's whole training set when it is in the data root (the images its
normalization constants were computed over), else the bundled 1,000-image test sample, or the
learner's own pictures. From it: the classes' counts, the pixel histogram per channel and the
per-channel mean and standard deviation (computed from the histogram, streaming over the uint8
images, so MNIST's 47 million values need no float copy), what a network's normalization does to
them, a few common augmentations (seeded) and a real ``DataLoader``.

Where the constants the networks use come from is stated in ``ORIGIN``; the constants themselves
live in ``datasets.DATASETS`` (one owner). torch is imported inside the functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz.data.datasets import DATASETS, DataError, has_sample, is_available, load_dataset, load_sample, normalize

CHUNK = 2048           # images per step of the streaming histogram
LEVELS = 256           # the values a uint8 pixel can store
# The training images each stated normalization was computed over: (dataset, how many). CIFAR-10's
# constants are the full training set's (50,000 images), which the offline 4,000-image subset shares.
ORIGIN = {"mnist": ("mnist", 60_000), "fashion": ("fashion", 60_000), "cifar10-subset": ("cifar10", 50_000),
          "cifar10": ("cifar10", 50_000)}
BANDS = (0.25, 0.5, 0.75)   # the predict question's limits: mostly dark ... mostly bright


@dataclass(frozen=True)
class Collection:
    """Pictures and their labels: ``images`` uint8 (N, H, W) or (N, H, W, 3), ``labels`` (N,).
    ``source``: "full" (the whole training set), "sample" (the bundled test sample) or "own"."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    num_classes: int
    source: str

    n = property(lambda self: int(self.images.shape[0]))
    height = property(lambda self: int(self.images.shape[1]))
    width = property(lambda self: int(self.images.shape[2]))
    channels = property(lambda self: 1 if self.images.ndim == 3 else int(self.images.shape[3]))
    values_per_image = property(lambda self: self.height * self.width * self.channels)
    values = property(lambda self: self.n * self.values_per_image)

    def picture(self, i: int) -> np.ndarray:
        """Picture ``i`` as uint8 (H, W, C)."""
        img = self.images[i]
        return img[..., None] if img.ndim == 2 else img


def collection(name: str, root: Path | None = None) -> Collection:
    """Dataset ``name``'s whole training set when it is in the data root, else its bundled sample
    (1,000 test images). ``DataError`` when neither is there."""
    if is_available(name, root):
        ds, where = load_dataset(name, train=True, root=root), "full"
    elif has_sample(name):
        ds, where = load_sample(name), "sample"
    else:
        load_dataset(name, train=False, root=root)       # raises the DataError that says what is missing
        raise DataError("data.error.sample_missing", dataset=name, path="")
    data = ds.data.numpy() if hasattr(ds.data, "numpy") else np.asarray(ds.data)
    labels = np.asarray(ds.targets, dtype=np.int64)
    return Collection(name, data, labels, len(DATASETS[name].classes), where)


def own_picture(img, size: int | None = None) -> np.ndarray:
    """A learner's picture (PIL) as the Train lesson keeps it: the centred square at 64 x 64, RGB uint8."""
    from cnnviz.data import splits

    x = splits.picture_tensor(img, size or splits.OWN_SIZE)
    return (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def own_collection(pictures: list[np.ndarray]) -> Collection:
    """The learner's own pictures (uint8 (H, W, 3) of one size), one class."""
    if not pictures:
        raise DataError("data.error.own_none")
    return Collection("own", np.stack(pictures), np.zeros(len(pictures), np.int64), 1, "own")


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """How many pictures each class has."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)


def samples_per_class(labels: np.ndarray, num_classes: int, k: int, seed: int = 0) -> list[list[int]]:
    """``k`` picture indices per class: the first ones for seed 0, else a seeded draw."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        out.append([int(i) for i in (idx[:k] if seed == 0 else np.sort(rng.permutation(idx)[:k]))])
    return out


def histogram(images: np.ndarray) -> np.ndarray:
    """(C, 256) counts of each pixel value per channel, streaming ``CHUNK`` images at a time."""
    images = np.asarray(images)
    channels = 1 if images.ndim == 3 else images.shape[3]
    counts = np.zeros((channels, LEVELS), np.int64)
    for start in range(0, len(images), CHUNK):
        chunk = images[start:start + CHUNK].reshape(-1, channels)
        for c in range(channels):
            counts[c] += np.bincount(chunk[:, c], minlength=LEVELS)
    return counts


@dataclass(frozen=True)
class ChannelStats:
    """Per-channel mean and standard deviation of pixels in [0, 1] (value / 255), over ``pixels``
    pixels per channel: the numbers ``transforms.Normalize(mean, std)`` takes."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    pixels: int

    @property
    def overall(self) -> float:
        """The average pixel over all channels (each channel has as many pixels)."""
        return float(np.mean(self.mean))


def channel_stats(counts: np.ndarray) -> ChannelStats:
    """Mean and (population) standard deviation per channel from ``histogram``'s counts: exact
    integer sums of v and v², so the streaming is as precise as a float64 copy of every pixel."""
    counts = np.asarray(counts, dtype=np.int64)
    v = np.arange(LEVELS, dtype=np.int64)
    n = counts.sum(axis=1)
    s1, s2 = (counts * v).sum(axis=1), (counts * v * v).sum(axis=1)
    mean = s1 / n
    var = np.maximum(s2 / n - mean ** 2, 0.0)
    return ChannelStats(tuple(float(m) / 255 for m in mean), tuple(float(s) / 255 for s in np.sqrt(var)), int(n[0]))


def peaked(counts: np.ndarray, share: float = 0.2) -> bool:
    """Whether one pixel value holds more than ``share`` of some channel's pixels (MNIST's black
    background: 81 %), so that a histogram needs a log scale for the other values to show."""
    counts = np.asarray(counts, dtype=np.float64)
    return bool((counts.max(axis=1) / counts.sum(axis=1)).max() > share)


def brightness_band(value: float) -> int:
    """0: mostly dark (under 0.25), 1: dark-ish, 2: bright-ish, 3: mostly bright (0.75 and over)."""
    return int(np.searchsorted(BANDS, value, side="right"))


def after_normalize(stats: ChannelStats, mean, std) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The per-channel mean and std of the pictures once a network normalizes them with ``mean``
    and ``std`` (``datasets.normalize``): 0 and 1 when those are the pictures' own statistics."""
    import torch

    c = len(stats.mean)
    means = normalize(torch.tensor(stats.mean, dtype=torch.float64).view(c, 1, 1), mean, std).view(-1)
    spread = torch.tensor(stats.std, dtype=torch.float64) / torch.tensor(std, dtype=torch.float64)
    return tuple(float(m) for m in means), tuple(float(s) for s in spread)


def constants_of(name: str):
    """(dataset the constants were computed on, how many training images, mean, std) of the
    normalization a network uses for dataset ``name``'s pictures."""
    origin, n = ORIGIN[name]
    info = DATASETS[name]
    return origin, n, info.mean, info.std


def networks_using(name: str) -> list[str]:
    """The bundled networks whose input is normalized with dataset ``name``'s constants."""
    from cnnviz.models.specs import BUNDLED

    info = DATASETS[name]
    return [s.name for s in BUNDLED.values() if (s.mean, s.std) == (info.mean, info.std)]


# ------------------------------------------------------------------ augmentations (seeded)
COMMON = ("rotate", "crop", "jitter", "noise")   # common ones the app's training does not use


def rotate(img: np.ndarray, degrees: float) -> np.ndarray:
    """Turned by ``degrees`` (counter-clockwise) about the centre, corners filled with black."""
    from PIL import Image

    pic = Image.fromarray(img[..., 0] if img.shape[2] == 1 else img)
    out = np.asarray(pic.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=0))
    return out[..., None] if out.ndim == 2 else out


def crop_resize(img: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
    """The square ``side`` x ``side`` at (top, left), enlarged back to the picture's size."""
    from PIL import Image

    h, w, c = img.shape
    part = img[top:top + side, left:left + side]
    pic = Image.fromarray(part[..., 0] if c == 1 else part).resize((w, h), Image.Resampling.BILINEAR)
    out = np.asarray(pic)
    return out[..., None] if out.ndim == 2 else out


def jitter(img: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """Brightness (every value times ``brightness``), then contrast (blended with the picture's
    mean grey by ``contrast``), as torchvision's ``adjust_brightness`` and ``adjust_contrast``."""
    x = img.astype(np.float64) * brightness
    x = np.clip(x, 0, 255)
    gray = x.mean() if img.shape[2] == 1 else (x @ np.array([0.2989, 0.587, 0.114])).mean()
    x = np.clip(contrast * x + (1 - contrast) * gray, 0, 255)
    return x.round().astype(np.uint8)


def noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of standard deviation ``sigma`` (in [0, 1] units) added, clipped to [0, 255]."""
    x = img.astype(np.float64) + rng.normal(0.0, sigma * 255, img.shape)
    return np.clip(x, 0, 255).round().astype(np.uint8)


def augmented(img: np.ndarray, kind: str, seed: int, n: int) -> list[np.ndarray]:
    """``n`` random versions of ``img`` (uint8 (H, W, C)) by augmentation ``kind`` (``COMMON``),
    the same ones for the same seed: rotation by up to 20 degrees, a crop of 60-90 % of the side
    enlarged back, brightness and contrast of 0.6-1.4, noise of std 0.05-0.15."""
    rng = np.random.default_rng([seed, COMMON.index(kind)])
    h, w = img.shape[:2]
    out = []
    for _ in range(n):
        if kind == "rotate":
            out.append(rotate(img, float(rng.uniform(-20, 20))))
        elif kind == "crop":
            side = int(round(min(h, w) * rng.uniform(0.6, 0.9)))
            out.append(crop_resize(img, int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1)), side))
        elif kind == "jitter":
            out.append(jitter(img, float(rng.uniform(0.6, 1.4)), float(rng.uniform(0.6, 1.4))))
        else:
            out.append(noise(img, float(rng.uniform(0.05, 0.15)), rng))
    return out


# ------------------------------------------------------------------ a DataLoader over a collection
class _Pictures:
    """A map-style dataset over a collection: float (C, H, W) in [0, 1] and the label, made per item."""

    def __init__(self, col: Collection):
        self.col = col

    def __len__(self) -> int:
        return self.col.n

    def __getitem__(self, i: int):
        import torch

        x = torch.from_numpy(np.ascontiguousarray(self.col.picture(i))).permute(2, 0, 1).float().div(255)
        return x, int(self.col.labels[i])


def loader(col: Collection, batch_size: int, seed: int = 0):
    """A shuffled ``torch.utils.data.DataLoader`` over the collection (seeded): ``len()`` is the
    batches of an epoch, each batch (B, C, H, W) floats in [0, 1] and B labels."""
    import torch
    from torch.utils.data import DataLoader

    return DataLoader(_Pictures(col), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))
