"""Small training sets for a live lesson: a balanced few-shot split of a dataset (or of the
bundled sample), the learner's own pictures in named classes, and pictures adapted to what a
network expects (channels, size).

Images stay float (N, C, H, W) in [0, 1], not normalized: whoever trains decides the
preprocessing. torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cnnviz.data.datasets import (DATASETS, SAMPLE_TRAIN_PER_CLASS, DataError, as_tensors, data_root,
                                  load_dataset, load_sample, source)


@dataclass
class SmallSplit:
    """A small, balanced training set for a live lesson, with validation and test images.

    Images are float (N, C, H, W) in [0, 1], not normalized: whoever trains decides
    the preprocessing (the target network's own, or the source network's when
    transferring). ``val`` is held out of the chosen training images, as Keras's
    ``validation_split`` does in the course.
    """

    dataset: str
    train_x: object
    train_y: object
    val_x: object
    val_y: object
    test_x: object
    test_y: object
    num_classes: int
    classes: list[str] | None = None     # class names when they are the learner's own
    source: str = "full"                 # "full" dataset, bundled "sample", or "own" pictures


OWN_SIZE = 64   # the learner's own pictures are kept at 64 x 64 RGB (a network adapts them further)


def picture_tensor(img, size: int = OWN_SIZE):
    """A PIL image -> float (3, size, size) in [0, 1]: the centred square, resized."""
    import numpy as np
    import torch
    from PIL import Image

    img = img.convert("RGB")
    w, h = img.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    small = img.resize((size, size), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
    return torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def from_pictures(groups: list[tuple[str, list]], *, seed: int = 0) -> SmallSplit:
    """The learner's own classes (name, list of (3, H, W) pictures) -> a SmallSplit.

    Like Teachable Machine: a few pictures per class. 20 % of each class is held out
    for validation and 20 % for the test (at least one each), so a class needs 3 pictures.
    """
    import torch

    if len(groups) < 2:
        raise DataError("data.error.own_classes")
    names = [name.strip() for name, _ in groups]
    if any(not n for n in names) or len(set(n.casefold() for n in names)) < len(names):
        raise DataError("data.error.own_names")
    for name, pictures in groups:
        if len(pictures) < 3:
            raise DataError("data.error.own_too_few", name=name.strip(), n=len(pictures))
    g = torch.Generator().manual_seed(seed)
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for label, (_, pictures) in enumerate(groups):
        order = torch.randperm(len(pictures), generator=g).tolist()
        k = max(1, round(0.2 * len(pictures)))
        for part, idx in (("val", order[:k]), ("test", order[k:2 * k]), ("train", order[2 * k:])):
            parts[part] += [(pictures[i], label) for i in idx]

    def stack(items):
        return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items], dtype=torch.long)

    tx, ty = stack(parts["train"])
    shuffle = torch.randperm(len(ty), generator=g)
    (vx, vy), (sx, sy) = stack(parts["val"]), stack(parts["test"])
    return SmallSplit("own", tx[shuffle], ty[shuffle], vx, vy, sx, sy, len(groups), names, source="own")


def few_shot(name: str, per_class: int, *, seed: int = 0, val_fraction: float = 0.2,
             test_limit: int | None = 2000, root: Path | None = None) -> SmallSplit:
    """``per_class`` training images of each class (seeded), a ``val_fraction`` of them
    held out for validation (at least one per class), and the first ``test_limit``
    test images (all if None).

    Without the full dataset, the bundled sample (1,000 test images) is split instead:
    the first ``SAMPLE_TRAIN_PER_CLASS`` (50) images of each class are the pool the
    training and validation images are drawn from, the others are the test images, so
    the three parts never share an image. Asking for more than 50 per class then raises
    ``DataError`` (``data.error.sample_not_enough``). ``split.source`` says which was used.
    """
    import torch

    if per_class < 2:
        raise DataError("data.error.too_few", per_class=per_class)
    if source(name, root) == "sample":
        sample = load_sample(name)
        x, y = as_tensors(sample)
        pool_idx, test_idx = [], []
        for c in range(int(y.max()) + 1):
            members = (y == c).nonzero().flatten()
            pool_idx.append(members[:SAMPLE_TRAIN_PER_CLASS])
            test_idx.append(members[SAMPLE_TRAIN_PER_CLASS:])
        have = min(len(p) for p in pool_idx)
        if per_class > have:
            raise DataError("data.error.sample_not_enough", dataset=name, per_class=per_class, have=have,
                            folder=str(Path(root or data_root()) / DATASETS[name].folder))
        pool_idx = torch.cat(pool_idx)
        test_idx = torch.cat(test_idx).sort().values[:test_limit]
        x, y, test_x, test_y = x[pool_idx], y[pool_idx], x[test_idx], y[test_idx]
        origin = "sample"
    else:
        x, y = as_tensors(load_dataset(name, train=True, root=root))
        test_x, test_y = as_tensors(load_dataset(name, train=False, root=root), test_limit)
        origin = "full"
    num_classes = int(y.max()) + 1
    g = torch.Generator().manual_seed(seed)
    n_val = max(1, round(per_class * val_fraction))
    train_idx, val_idx = [], []
    for c in range(num_classes):
        pool = (y == c).nonzero().flatten()
        if len(pool) < per_class:
            raise DataError("data.error.not_enough", dataset=name, per_class=per_class, have=len(pool))
        chosen = pool[torch.randperm(len(pool), generator=g)[:per_class]]
        val_idx.append(chosen[:n_val])
        train_idx.append(chosen[n_val:])
    # shuffle so that batches mix the classes
    train_idx = torch.cat(train_idx)[torch.randperm(num_classes * (per_class - n_val), generator=g)]
    val_idx = torch.cat(val_idx)
    return SmallSplit(name, x[train_idx], y[train_idx], x[val_idx], y[val_idx], test_x, test_y,
                      num_classes, source=origin)


FULL_VAL = 1000   # the whole training set: images held out of it for validation (early stopping, the curves)


def full_split(name: str, *, seed: int = 0, val_size: int = FULL_VAL, limit: int | None = None,
               root: Path | None = None) -> SmallSplit:
    """The whole training set of ``name`` (``limit``: only its first images, for tests), ``val_size``
    of them (seeded) held out for validation, and the whole test set. Only with the full dataset:
    its bundled sample has no training split (``DataError``, ``data.error.full_needed``)."""
    import torch

    if source(name, root) != "full":
        raise DataError("data.error.full_needed", dataset=name, folder=str(Path(root or data_root())))
    x, y = as_tensors(load_dataset(name, train=True, root=root), limit)
    test_x, test_y = as_tensors(load_dataset(name, train=False, root=root))
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:val_size].sort().values, order[val_size:]
    return SmallSplit(name, x[train_idx], y[train_idx], x[val_idx], y[val_idx], test_x, test_y,
                      int(y.max()) + 1, source="full")


def adapt(x, channels: int, size: tuple[int, int]):
    """Images (N, C, H, W) in [0, 1] made to fit another network's input.

    Grey -> colour repeats the grey in R, G and B; colour -> grey averages the
    channels (ITU-R 601 weights); the size is changed with bilinear resampling.
    """
    import torch
    import torch.nn.functional as F

    if x.shape[1] != channels:
        if channels == 3 and x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        elif channels == 1 and x.shape[1] == 3:
            w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).view(1, 3, 1, 1)
            x = (x * w).sum(1, keepdim=True)
        else:
            raise DataError("data.error.channels", have=x.shape[1], want=channels)
    if tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False,
                          antialias=True).clamp_(0, 1)
    return x
