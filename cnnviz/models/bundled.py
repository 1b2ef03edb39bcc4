"""The models that ship with cnnviz: weights in ``assets/models/<name>.safetensors``,
model card in ``assets/models/<name>.json``. Loading needs no internet and no torchvision."""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from .archs import ARCHITECTURES
from .base import LoadedModel, ModelError
from .preprocess import digits_preprocess, fashion_preprocess, rgb_preprocess
from .specs import BUNDLED, BundledSpec

WEIGHTS_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "models"


def transform_for(arch: str, input_size, mean, std):
    """PIL -> (1, C, H, W) for one of our architectures, with the given normalization."""
    if arch == "DigitsCNN":
        return lambda img: digits_preprocess(img, mean=mean[0], std=std[0])[0]
    if arch == "FashionCNN":
        return lambda img: fashion_preprocess(img, mean=mean[0], std=std[0])[0]
    return lambda img: rgb_preprocess(img, tuple(input_size), mean, std)


def spec_for_arch(arch: str) -> BundledSpec:
    return next(s for s in BUNDLED.values() if s.arch == arch)


def build(arch: str, num_classes: int) -> nn.Module:
    return ARCHITECTURES[arch](num_classes=num_classes)


def load_bundled(name: str, weights_dir: Path | None = None) -> LoadedModel:
    """Load bundled model ``name`` from ``.safetensors`` + card, in eval mode."""
    from safetensors.torch import load_file

    spec = BUNDLED[name]
    folder = Path(weights_dir or WEIGHTS_DIR)
    path, card_path = folder / f"{name}.safetensors", folder / f"{name}.json"
    if not path.is_file():
        raise ModelError("models.bundled_missing", name=name, path=str(path),
                         command=f"python -m cnnviz.train {name}")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {"name": name}
    model = build(spec.arch, len(spec.classes))
    try:
        model.load_state_dict(load_file(str(path)))
    except Exception as err:   # stale weights from an older architecture, or a damaged file
        raise ModelError("models.bundled_corrupt", name=name, path=str(path),
                         command=f"python -m cnnviz.train {name}", detail=str(err)[:200]) from None
    model.eval()
    return LoadedModel(
        name=name, model=model, classes=list(spec.classes), input_size=spec.input_size,
        in_channels=spec.in_channels, mean=spec.mean, std=spec.std, card=card,
        source="bundled", arch=spec.arch,
        transform=transform_for(spec.arch, spec.input_size, spec.mean, spec.std),
        class_key=f"models.classes.{name}")
