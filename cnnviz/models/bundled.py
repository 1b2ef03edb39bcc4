"""The models that ship with cnnviz: weights in ``assets/models/<name>.safetensors``,
model card in ``assets/models/<name>.json``. Loading needs no internet and no torchvision."""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from .archs import ARCHITECTURES
from .base import LoadedModel, ModelError
from .preprocess import digits_preprocess, fashion_preprocess, rgb_preprocess
from .specs import BUNDLED, spec_for_arch

WEIGHTS_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "models"


def transform_for(arch: str, input_size, mean, std):
    """PIL -> (1, C, H, W) for one of our architectures, with the given normalization: the
    preprocessing its spec names (``BundledSpec.preprocess``)."""
    kind = spec_for_arch(arch).preprocess
    if kind == "rgb":
        return lambda img: rgb_preprocess(img, tuple(input_size), mean, std)
    gray = {"digits": digits_preprocess, "fashion": fashion_preprocess}[kind]
    return lambda img: gray(img, mean=mean[0], std=std[0])[0]


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


# ------------------------------------------------------------------ accuracy through the app's own path
APP_PATH = "PIL image (RGB, as the app loads pictures) -> LoadedModel.preprocess -> model"


def app_path_accuracy(loaded: LoadedModel, dataset, limit: int | None = None,
                      batch: int = 500) -> tuple[int, int]:
    """(correct, total) of ``loaded`` on a test set, each image taken the way the app takes a
    learner's picture: an RGB PIL image through ``loaded.preprocess``, then the network.

    ``dataset``: anything with ``len`` and ``ds[i] -> (PIL image, label)`` (torchvision's
    test sets, ``cnnviz.data.load_dataset``'s sample). A preprocessing that damages
    pictures already in the dataset's format shows here, not in the tensor path.
    """
    import torch

    n = len(dataset) if limit is None else min(limit, len(dataset))
    correct = 0
    with torch.no_grad():
        for start in range(0, n, batch):
            items = [dataset[i] for i in range(start, min(start + batch, n))]
            x = torch.cat([loaded.preprocess(img.convert("RGB")) for img, _ in items])
            y = torch.tensor([int(label) for _, label in items])
            correct += int((loaded.model(x).argmax(1) == y).sum())
    return correct, n


def measure_card(name: str, weights_dir: Path | None = None, *, dataset: str | None = None,
                 root: Path | None = None, test_limit: int | None = None) -> dict:
    """The app-path accuracy of bundled model ``name`` on the full test set (when it is in
    the data root) and on the bundled sample: the numbers its card's ``metrics`` record.
    ``dataset``: the one it was trained on if not its spec's (the full CIFAR-10);
    ``test_limit``: only the first that many test pictures (a smoke test; ``test_images`` says so)."""
    from cnnviz.data import datasets

    loaded = load_bundled(name, weights_dir)
    dataset = dataset or BUNDLED[name].dataset
    out: dict = {"test_path": APP_PATH}
    if datasets.is_available(dataset, root):
        correct, total = app_path_accuracy(loaded, datasets.load_dataset(dataset, train=False, root=root, full=True),
                                           limit=test_limit)
        out.update(test_accuracy=round(correct / total, 5), test_images=total)
    if datasets.has_sample(dataset):
        correct, total = app_path_accuracy(loaded, datasets.load_sample(dataset))
        out.update(test_accuracy_sample=round(correct / total, 5), sample_images=total)
    return out


def write_measures(card: dict, measured: dict) -> dict:
    """``card`` with ``measured`` (from ``measure_card``) in its metrics. The card's own
    ``test_accuracy`` becomes the app-path number; a number measured on normalized
    tensors straight from the dataset is kept as ``test_accuracy_tensor_path``."""
    metrics = dict(card.get("metrics") or {})
    if "test_accuracy" in measured:
        if metrics.get("test_path") != APP_PATH and "test_accuracy" in metrics:
            metrics["test_accuracy_tensor_path"] = metrics["test_accuracy"]
        metrics["test_accuracy"] = measured["test_accuracy"]
        metrics["test_path"] = APP_PATH
    if "test_accuracy_sample" in measured:
        metrics["test_accuracy_sample"] = measured["test_accuracy_sample"]
    order = ["best_val_accuracy", "test_accuracy", "test_path", "test_accuracy_tensor_path",
             "test_accuracy_first_1000", "test_accuracy_sample", "target_accuracy"]
    card = dict(card)
    card["metrics"] = {k: metrics[k] for k in order if k in metrics} | \
                      {k: v for k, v in metrics.items() if k not in order}
    return card


def main(argv: list[str] | None = None) -> int:
    """python tools/measure_cards.py [names] [--write]: re-measure the cards' accuracy."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python tools/measure_cards.py",
        description="Measure each bundled model's test accuracy through the app's own path "
                    f"({APP_PATH}) on the full test set and on the bundled sample.")
    parser.add_argument("names", nargs="*", default=list(BUNDLED), help="default: every bundled model")
    parser.add_argument("--write", action="store_true", help="write the numbers into the cards")
    parser.add_argument("--dir", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    for name in args.names:
        measured = measure_card(name, args.dir)
        print(name, json.dumps(measured))
        if args.write:
            path = args.dir / f"{name}.json"
            card = write_measures(json.loads(path.read_text()), measured)
            path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return 0
