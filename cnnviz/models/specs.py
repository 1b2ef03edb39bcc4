"""What each bundled model is: architecture, data, classes, input, training recipe.

Plain data (no torch), shared by the registry (``cnnviz.models.load``) and the
training command (``python -m cnnviz.train``), so the recipe that built the
weights and the code that loads them can't drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnviz.data.datasets import CIFAR10, DATASETS, DIGITS, FASHION  # noqa: F401  (the class names are the datasets')


@dataclass(frozen=True)
class Recipe:
    """How ``python -m cnnviz.train <name>`` trains the model (its defaults)."""

    epochs: int
    patience: int
    lr: float
    batch_size: int = 128
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    shift: int = 0          # random translation by up to this many pixels (pad + crop)
    flip: bool = False      # random horizontal flip
    val_size: int = 5000    # images held out of the training set for early stopping


# What LoadedModel.preprocess does to a picture (cnnviz.models.preprocess), by kind; the model
# cards say it in these words.
PREPROCESSING = {
    "digits": "MNIST-style: grayscale, invert if light background, crop, 20x20 box centred by mass "
              "in 28x28, normalize; a picture already in MNIST's format (28x28, grey, dark "
              "background) is only normalized",
    "fashion": "grayscale, invert if light background, crop, fit in 28x28, normalize; a picture "
               "already in Fashion-MNIST's format (28x28, grey, dark background) is only normalized",
    "rgb": "centre crop to a square, resize to 32x32, normalize (a 32x32 picture is not resampled)",
}


@dataclass(frozen=True)
class BundledSpec:
    name: str
    arch: str               # key of cnnviz.models.archs.ARCHITECTURES
    dataset: str            # key of cnnviz.data.datasets.DATASETS (its mean and std normalize the input)
    classes: tuple[str, ...]
    in_channels: int
    input_size: tuple[int, int]
    preprocess: str         # key of PREPROCESSING: how a picture becomes this network's input
    head: str               # the last Linear layer (its out_features = the number of classes)
    target_accuracy: float  # what the tests demand on the first 1,000 test images
    recipe: Recipe
    limits: str = ""
    extra: dict = field(default_factory=dict)

    # the normalization is the dataset's, stated once in cnnviz.data.datasets.DATASETS
    mean = property(lambda self: _dataset(self.dataset).mean, doc="per-channel mean of its dataset")
    std = property(lambda self: _dataset(self.dataset).std, doc="per-channel std of its dataset")


def _dataset(name: str):
    return DATASETS[name]


BUNDLED: dict[str, BundledSpec] = {
    "digits": BundledSpec(
        "digits", "DigitsCNN", "mnist", DIGITS, 1, (28, 28), "digits", "fc2",
        target_accuracy=0.992,
        recipe=Recipe(epochs=12, patience=3, lr=2e-3, shift=2),
        limits="Trained on MNIST: one centred handwritten digit, white on black, 20x20 inside "
               "28x28. Photos and drawings only work after the MNIST-style preprocessing "
               "(digits_preprocess); letters or several digits get a confident wrong answer.",
    ),
    "fashion": BundledSpec(
        "fashion", "FashionCNN", "fashion", FASHION, 1, (28, 28), "fashion", "fc2",
        target_accuracy=0.92,
        # no shifts: Fashion-MNIST items are already centred and size-normalized, and
        # 2-pixel shifts slowed learning (91.6% test after 15 epochs with them)
        recipe=Recipe(epochs=20, patience=5, lr=2e-3, weight_decay=5e-4, shift=0, flip=True),
        limits="Trained on Fashion-MNIST: 28x28 grayscale product photos, one item, centred, on "
               "a black background. Shirt, T-shirt/top, pullover and coat are often confused. "
               "Real photos with backgrounds or people wearing the clothes are out of its world.",
    ),
    "tiny-rgb": BundledSpec(
        "tiny-rgb", "TinyVGG", "cifar10-subset", CIFAR10, 3, (32, 32), "rgb", "fc",
        target_accuracy=0.60,
        # small data: strong regularization (augmentation, decoupled weight decay, label
        # smoothing) and a long patience, since 400 validation images make val accuracy noisy
        recipe=Recipe(epochs=60, patience=20, lr=3e-3, batch_size=64, weight_decay=0.05,
                      label_smoothing=0.1, shift=4, flip=True, val_size=400),
        limits="Trained offline on only 3,600 CIFAR-10 images (the 4,000-image subset minus 400 "
               "for validation), 8% of CIFAR-10, so it is far weaker than published CIFAR-10 "
               "models and overfits: expect many mistakes, especially cat/dog, deer/horse and "
               "automobile/truck. Input is a tiny 32x32 picture, so photos are shrunk a lot.",
    ),
}


def spec_for_arch(arch: str) -> BundledSpec | None:
    """The bundled model built on architecture ``arch`` (its preprocessing, head, classes); None
    for an architecture that isn't ours (torchvision's)."""
    return next((s for s in BUNDLED.values() if s.arch == arch), None)
