"""Trained networks that work offline: bundled models, the ImageNet zoo, your own model.

    from cnnviz import models
    models.available()            # ['digits', 'fashion', 'tiny-rgb', 'resnet18', ...]
    m = models.load("digits")     # LoadedModel: .model (eval), .classes, .preprocess(img), ...
    m.predict(img)                # [(index, label, probability), ...]

Bundled models ship their weights (``assets/models``) and need no internet. Zoo
models are torchvision's ImageNet networks; their weights are an optional
download (``zoo_status`` / ``download``). ``load_user_weights`` loads a
learner's own weights for one of our architectures, safely.

This package never imports streamlit: ``cnnviz.ui`` wraps ``load`` in
``st.cache_resource`` so each model is loaded once and shared, read-only.
"""

from __future__ import annotations

from functools import lru_cache

from ..i18n import t
from cnnviz.maths.params import model_counts
from .archs import ARCHITECTURES, DigitsCNN, FashionCNN, TinyVGG
from .base import LoadedModel, ModelError
from .bundled import WEIGHTS_DIR, load_bundled
from .preprocess import digits_preprocess, fashion_preprocess, rgb_preprocess
from .specs import BUNDLED
from .user import MAX_UPLOAD_MB, load_user_weights, read_card, to_safetensors
from .zoo import ZOO, ZooStatus, build_zoo, download, load_zoo, zoo_status

BUNDLED_NAMES: list[str] = list(BUNDLED)          # digits, fashion, tiny-rgb
ZOO_NAMES: list[str] = list(ZOO)                  # resnet18, vgg16, alexnet, mobilenet_v3_large

__all__ = [
    "available", "load", "label", "description", "is_bundled", "is_zoo",
    "LoadedModel", "ModelError", "ZooStatus", "zoo_status", "download",
    "load_user_weights", "read_card", "to_safetensors", "digits_preprocess",
    "fashion_preprocess", "rgb_preprocess", "ARCHITECTURES", "DigitsCNN", "FashionCNN",
    "TinyVGG", "BUNDLED_NAMES", "ZOO_NAMES", "WEIGHTS_DIR", "MAX_UPLOAD_MB", "layer_counts",
]


def available() -> list[str]:
    """Every model name ``load`` accepts: the bundled ones first, then the zoo."""
    return BUNDLED_NAMES + ZOO_NAMES


def is_bundled(name: str) -> bool:
    return name in BUNDLED


def is_zoo(name: str) -> bool:
    return name in ZOO


def load(name: str, *, pretrained: bool = True) -> LoadedModel:
    """Load model ``name`` in eval mode.

    Bundled models always load offline. Zoo models with ``pretrained=True`` need their
    weights in torch's hub cache, else ``ModelError`` (key ``models.zoo_missing``)
    says which file, its size, the folder and the URL; ``pretrained=False`` gives the
    architecture with random weights (``weights=None``), no file needed.
    Loading is not cached here: ``cnnviz.ui`` caches it with ``st.cache_resource``.
    """
    if name in BUNDLED:
        return load_bundled(name)
    if name in ZOO:
        return load_zoo(name, pretrained=pretrained)
    raise ModelError("models.unknown", name=name, known=", ".join(available()))


def label(name: str, lang: str = "en") -> str:
    """Display name of a model, e.g. "Digits (MNIST)" / "Dígitos (MNIST)"."""
    return t(f"models.name.{name}", lang)


def description(name: str, lang: str = "en") -> str:
    """One-sentence description of a model for the model picker."""
    return t(f"models.description.{name}", lang)


@lru_cache(maxsize=16)
def layer_counts(name: str) -> tuple[tuple[str, str, int], ...]:
    """(layer, type, weights) of a named network's architecture (bundled or torchvision's zoo):
    built with random weights, so no weights file or download is needed. Counted by
    ``cnnviz.maths.params.model_counts``, the one place that counts a model's weights (it lived in
    ``params`` until issue 18: params is maths, below the networks, and must not import them)."""
    if name in ZOO:
        return tuple(model_counts(build_zoo(name)))
    spec = BUNDLED[name]
    return tuple(model_counts(ARCHITECTURES[spec.arch](num_classes=len(spec.classes))))
