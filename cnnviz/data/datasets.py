"""The datasets: what each one is (``DATASETS``), where it lives (``data_root``) and how to load it,
offline, with the bundled sample when the full dataset is missing.

The bottom of the data layer: it imports nothing of cnnviz's but ``errors`` and ``memory``, so the
models' facts (``models.specs``), the small training sets (``splits``) and the download read it
without a cycle. ``cnnviz.data`` gathers these names with those modules' for notebooks and lessons.

The machines that run cnnviz often have no internet, so every loader here uses
``download=False`` and, when a dataset is missing, raises a ``DataError`` that
says which files are missing and where to put them.

The data root is ``$CNNVIZ_DATA`` if set, otherwise ``<repo>/../shared/data``
(see that folder's README). torch/torchvision are imported inside functions:
``import cnnviz.data.datasets`` stays instant for lessons that only need ``data_root``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cnnviz.base.errors import CnnvizError

REPO = Path(__file__).resolve().parents[2]


class DataError(CnnvizError):
    """A dataset is missing or unreadable; the message says what to put where."""


def data_root() -> Path:
    """The folder holding MNIST/, FashionMNIST/ and cifar-10-subset/ (torchvision layout)."""
    env = os.environ.get("CNNVIZ_DATA")
    return Path(env).expanduser() if env else REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, where its files are, and how to normalize it."""

    name: str
    folder: str           # relative to data_root()
    files: tuple[str, ...]  # the files torchvision needs (relative to folder)
    in_channels: int
    size: int              # images are size x size
    mean: tuple[float, ...]
    std: tuple[float, ...]
    url: str               # where a learner can get it
    classes: tuple[str, ...] = ()   # the names of its classes, in label order


DIGITS = tuple(str(d) for d in range(10))
# torchvision's FashionMNIST.classes
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# batches.meta of CIFAR-10
CIFAR10 = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")

_IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", "MNIST/raw", _IDX, 1, 28, (0.1307,), (0.3081,),
                         "https://yann.lecun.com/exdb/mnist/", DIGITS),
    "fashion": DatasetInfo("fashion", "FashionMNIST/raw", _IDX, 1, 28, (0.2860,), (0.3530,),
                           "https://github.com/zalandoresearch/fashion-mnist", FASHION),
    # the 4,000/1,000-image CIFAR-10 subset of ../shared/data (see its README)
    "cifar10-subset": DatasetInfo("cifar10-subset", "cifar-10-subset",
                                  ("batches.meta", "data_batch_1", "test_batch"),
                                  3, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
                                  "https://www.cs.toronto.edu/~kriz/cifar.html", CIFAR10),
    # the full CIFAR-10, used instead of the subset wherever torchvision has downloaded it
    "cifar10": DatasetInfo("cifar10", "cifar-10-batches-py",
                           ("batches.meta", "data_batch_1", "data_batch_2", "data_batch_3",
                            "data_batch_4", "data_batch_5", "test_batch"),
                           3, 32, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
                           "https://www.cs.toronto.edu/~kriz/cifar.html", CIFAR10),
}


def missing_files(name: str, root: Path | None = None) -> list[Path]:
    """The files of dataset ``name`` that are not on disk (empty list = available)."""
    info = DATASETS[name]
    folder = (root or data_root()) / info.folder
    return [folder / f for f in info.files if not (folder / f).is_file()]


def is_available(name: str, root: Path | None = None) -> bool:
    return not missing_files(name, root)


def _require(name: str, root: Path) -> None:
    missing = missing_files(name, root)
    if missing:
        info = DATASETS[name]
        raise DataError("data.error.missing", dataset=name,
                        files=", ".join(p.name for p in missing),
                        folder=str(root / info.folder), url=info.url)


def _cifar_subset_class():
    from cnnviz.base.memory import torchvision

    datasets = torchvision().datasets

    class CIFAR10Subset(datasets.CIFAR10):
        """Real CIFAR-10 images in the official format, but only 4,000 + 1,000 of them.

        Stock CIFAR10 MD5-checks all six official batch files, so point it at
        the subset's folder and checksums instead.
        """

        base_folder = "cifar-10-subset"
        train_list = [["data_batch_1", "27819431d39c08a91e8aed7a14fa4b51"]]
        test_list = [["test_batch", "595b8b42c464adce92d792ac373aaf53"]]

    return CIFAR10Subset


def load_dataset(name: str, *, train: bool, root: Path | None = None, full: bool = False):
    """The torchvision dataset ``name`` (raw PIL images, no transform), never downloading.

    ``name``: "mnist", "fashion", "cifar10-subset" or "cifar10".
    The test split (``train=False``) falls back on the bundled sample
    (``assets/data/<name>-sample.npz``, 1,000 test images) when the full dataset is not
    in the data root, unless ``full=True``; ``source(name)`` says which one you get.
    Raises ``DataError`` naming the missing files and the folder they belong in.
    """
    if name not in DATASETS:
        raise DataError("data.error.unknown", dataset=name, known=", ".join(DATASETS))
    root = Path(root or data_root())
    if not train and not full and not is_available(name, root) and has_sample(name):
        return load_sample(name)
    _require(name, root)
    # only now: torchvision (~20 MB of a server's RSS; imported without torch._dynamo, see
    # cnnviz.base.memory) is not needed by the bundled sample
    from cnnviz.base.memory import torchvision

    datasets = torchvision().datasets

    cls = {"mnist": datasets.MNIST, "fashion": datasets.FashionMNIST,
           "cifar10": datasets.CIFAR10, "cifar10-subset": None}[name] or _cifar_subset_class()
    try:
        return cls(str(root), train=train, download=False)
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        raise DataError("data.error.corrupt", dataset=name, folder=str(root / DATASETS[name].folder),
                        detail=str(err)) from None


# ------------------------------------------------------------------ the bundled sample (fresh machines)
# assets/data/<name>-sample.npz: 1,000 test images of each dataset, made by
# tools/make_data_sample.py (see assets/data/README.md). The full CIFAR-10's first
# 1,000 test images are the subset's test split, so "cifar10" shares that sample.
SAMPLE_DIR = REPO / "assets" / "data"
_SAMPLE_OF = {"mnist": "mnist", "fashion": "fashion", "cifar10-subset": "cifar10-subset",
              "cifar10": "cifar10-subset"}
SAMPLE_TRAIN_PER_CLASS = 50   # few_shot on the sample: the first 50 of each class train, the rest test


def sample_path(name: str) -> Path:
    """Where the bundled sample of dataset ``name`` is (whether or not it exists)."""
    return SAMPLE_DIR / f"{_SAMPLE_OF.get(name, name)}-sample.npz"


def has_sample(name: str) -> bool:
    return name in _SAMPLE_OF and sample_path(name).is_file()


def source(name: str, root: Path | None = None) -> str | None:
    """Where the test images of ``name`` come from: "full" (the whole dataset is in the data
    root), "sample" (the bundled 1,000-image sample) or None (neither)."""
    if is_available(name, root):
        return "full"
    return "sample" if has_sample(name) else None


class SampleDataset:
    """The bundled sample, shaped like a torchvision test set: ``data`` (uint8, (N, H, W)
    or (N, H, W, 3)), ``targets``, ``classes``, ``ds[i] -> (PIL image, label)``.

    ``index[i]`` is image i's position in the official test set.
    """

    source = "sample"

    def __init__(self, name: str, images, labels, index, classes: list[str]):
        self.name, self.data, self.index, self.classes = name, images, index, classes
        self.targets = [int(v) for v in labels]

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i: int):
        from PIL import Image

        img = self.data[i]
        return Image.fromarray(img, mode="L" if img.ndim == 2 else "RGB"), self.targets[i]


def _read_sample(name: str):
    import numpy as np

    path = sample_path(name)
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["images"], z["labels"], z["index"]
    except (OSError, KeyError, ValueError) as err:
        raise DataError("data.error.sample_corrupt", dataset=name, path=str(path), detail=str(err)[:200]) from None


_SAMPLES: dict[str, tuple] = {}


def _sample_arrays(name: str):
    """(images, labels, index) of the bundled sample, read once per process (don't modify)."""
    key = _SAMPLE_OF.get(name)
    if key is None or not sample_path(name).is_file():
        raise DataError("data.error.sample_missing", dataset=name, path=str(sample_path(name)))
    if key not in _SAMPLES:
        _SAMPLES[key] = _read_sample(name)
    return _SAMPLES[key]


def load_sample(name: str) -> SampleDataset:
    """The bundled sample of ``name`` as a dataset (its own copy of the images)."""
    images, labels, index = _sample_arrays(name)
    classes = list(DATASETS[_SAMPLE_OF[name]].classes)
    return SampleDataset(name, images.copy(), labels, index, classes)


def example_image(name: str, index: int = 0):
    """Test picture ``index`` of dataset ``name`` as an RGB PIL image at the dataset's
    native size (28x28 grey repeated in R, G, B for "mnist"/"fashion"; 32x32 for CIFAR-10).

    Taken from the bundled sample, so it is the same picture on every machine, with or
    without the full dataset (falls back on the full test set only if the sample file is
    gone). The sample keeps the test set's order and starts with its first images: for
    index 0 (the default) this is the test set's first image (MNIST: a 7, Fashion-MNIST:
    an ankle boot, CIFAR-10: a cat). Its label is ``example_label(name, index)``.
    Raises ``IndexError`` past the last image.
    """
    from PIL import Image

    if not has_sample(name):
        return load_dataset(name, train=False)[index][0].convert("RGB")
    img = _sample_arrays(name)[0][index]
    return Image.fromarray(img, mode="L" if img.ndim == 2 else "RGB").convert("RGB")


def example_label(name: str, index: int = 0) -> int:
    """The class index of ``example_image(name, index)``."""
    if not has_sample(name):
        return int(load_dataset(name, train=False).targets[index])
    return int(_sample_arrays(name)[1][index])


def cifar10_name(root: Path | None = None) -> str:
    """The full CIFAR-10 when torchvision has downloaded it, else the offline subset."""
    return "cifar10" if is_available("cifar10", root) else "cifar10-subset"


def as_tensors(dataset, limit: int | None = None):
    """(images float (N, C, H, W) in [0, 1], labels long (N,)) for a whole dataset.

    Our datasets fit in memory (MNIST is 47 MB as uint8), and indexing one big
    tensor is much faster than calling a transform per image on 2 CPU cores.
    """
    import numpy as np
    import torch

    data, targets = dataset.data, dataset.targets
    if limit is not None:
        data, targets = data[:limit], targets[:limit]
    x = torch.as_tensor(np.asarray(data))
    if x.ndim == 3:                      # MNIST-like: (N, H, W) -> (N, 1, H, W)
        x = x.unsqueeze(1)
    else:                                # CIFAR: (N, H, W, C) -> (N, C, H, W)
        x = x.permute(0, 3, 1, 2)
    return x.float().div_(255.0).contiguous(), torch.as_tensor(np.asarray(targets), dtype=torch.long)


def first_test_images(name: str, limit: int | None = None):
    """(images float (N, C, H, W) in [0, 1], labels) of the first ``limit`` test images of ``name``
    (the bundled sample when the full dataset is absent: ``load_dataset``)."""
    return as_tensors(load_dataset(name, train=False), limit)


def first_test_pictures(name: str, limit: int) -> list:
    """The first ``limit`` test images of ``name`` as RGB PIL images, as the app takes a learner's."""
    ds = load_dataset(name, train=False)
    return [ds[i][0].convert("RGB") for i in range(min(limit, len(ds)))]


def normalize(x, mean, std):
    """``(x - mean) / std`` per channel: the one normalization of a network's input, whoever's
    statistics they are (a dataset's, stated in ``DATASETS``; a network's, ``LoadedModel.mean`` /
    ``.std``). ``x``: a float tensor (..., C, H, W); ``mean``, ``std``: C numbers each (or one).
    The same numbers as torchvision's ``transforms.Normalize(mean, std)``."""
    import torch

    mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
    return (x - mean) / std


def tensor_dataset(name: str, *, train: bool, limit: int | None = None, root: Path | None = None):
    """A normalized ``TensorDataset`` of ``name`` (first ``limit`` images if given)."""
    from torch.utils.data import TensorDataset

    info = DATASETS[name]
    x, y = as_tensors(load_dataset(name, train=train, root=root), limit)
    return TensorDataset(normalize(x, info.mean, info.std), y)


def synthetic_dataset(n: int = 256, *, size: int = 12, seed: int = 0):
    """A tiny two-class image dataset (vertical vs horizontal bar) for tests and demos.

    Learnable in a few epochs on CPU, so training code can be tested in seconds.
    """
    import torch
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(seed)
    x = 0.1 * torch.randn(n, 1, size, size, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    pos = torch.randint(2, size - 2, (n,), generator=g)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, :, pos[i]] += 1.0   # vertical bar
        else:
            x[i, 0, pos[i], :] += 1.0   # horizontal bar
    return TensorDataset(x, y)
