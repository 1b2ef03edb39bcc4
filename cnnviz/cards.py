"""Model cards: what a network was trained on, how, and how well, as JSON beside its weights.

``model_card`` describes a network the learner trained in the Train lesson (the format
``cnnviz.models.load_user_weights`` reads: with it, the weights open in every lesson as
"your own model"); ``bundled_card`` describes a bundled model rebuilt by
``python -m cnnviz.train`` (``assets/models/<name>.json``).
"""

from __future__ import annotations

import hashlib
import platform
import statistics
from datetime import datetime, timezone

import torch
from torch import nn

from .experiment import ExperimentResult, input_format
from .fit import FitConfig, FitState
from .models.specs import BUNDLED, PREPROCESSING
from .params import count
from .transfer import ZOO_SOURCES, model_trained_on

def model_card(result: ExperimentResult, model: nn.Module) -> dict:
    """A model card for a network trained in the lesson, in the format ``models.load_user_weights``
    reads: with it, the weights open in every lesson as "your own model"."""
    exp = result.experiment
    channels, size, mean, std = input_format(exp)
    classes = result.classes or BUNDLED[model_trained_on(exp.dataset)].classes
    how = {"scratch": "from scratch", "transfer": f"transfer learning from {exp.source}",
           "fine_tune": f"fine-tuning {exp.source} from {exp.train_from}"}[exp.strategy]
    return {
        "name": f"{exp.dataset}-{exp.strategy}-{exp.per_class}",
        # a torchvision network keeps its zoo name: that is how the upload loader rebuilds it
        "architecture": exp.source if exp.strategy != "scratch" and exp.source in ZOO_SOURCES
        else type(model).__name__,
        "classes": list(classes),
        "in_channels": channels,
        "input_size": list(size),
        "normalization": {"mean": list(mean), "std": list(std)},
        "data": {"dataset": exp.dataset, "images_per_class": exp.per_class,
                 "train_images": result.train_images, "val_images": result.val_images,
                 "test_images": result.test_images},
        "training": {"how": how, "strategy": exp.strategy, "source": exp.source, "augment": exp.augment,
                     "train_from": exp.train_from, "seed": exp.seed, "max_epochs": exp.epochs,
                     "epochs_run": len(result.history), "best_epoch": result.best_epoch,
                     "patience": exp.patience, "lr": exp.lr, "batch_size": exp.batch_size,
                     "stop_reason": result.stop_reason, "seconds": round(result.seconds, 1)},
        "metrics": {"test_accuracy": round(result.test_acc, 5)},
        "params": {"trainable": result.trainable, "frozen": result.frozen},
        "limits": f"Trained in the cnnviz lesson on only {result.train_images} images; "
                  "expect many mistakes on anything unlike them.",
    }


def bundled_card(name: str, model: nn.Module, *, dataset: str, images: tuple[int, int, int],
                 config: FitConfig, state: FitState, batch_size: int, test_acc: float,
                 test_acc_1000: float, weights_name: str, blob: bytes, threads: int, device: str,
                 command: str) -> dict:
    """The card of bundled model ``name`` just trained by ``cnnviz.train.train_bundled``:
    ``images`` = (train, validation, test) counts, ``blob`` the weights file's bytes."""
    spec = BUNDLED[name]
    epoch_times = [h["seconds"] for h in state.history]
    train_images, val_images, test_images = images
    return {
        "name": name,
        "architecture": spec.arch,
        "layers": [f"{n}: {m}" for n, m in model.named_children()],
        "classes": list(spec.classes),
        "in_channels": spec.in_channels,
        "input_size": list(spec.input_size),
        "normalization": {"mean": list(spec.mean), "std": list(spec.std)},
        "preprocessing": PREPROCESSING[spec.preprocess],
        "data": {
            "dataset": dataset,
            "train_images": train_images, "val_images": val_images,
            "test_images": test_images,
            "source": "torchvision layout in $CNNVIZ_DATA or ../shared/data (see its README)",
        },
        "training": {
            "seed": config.seed, "max_epochs": config.epochs, "epochs_run": len(state.history),
            "best_epoch": state.best_epoch, "patience": config.patience,
            "stop_reason": state.stop_reason, "optimizer": "AdamW", "lr": config.lr,
            "lr_schedule": "one-cycle (cosine)", "weight_decay": config.weight_decay,
            "batch_size": batch_size, "label_smoothing": config.label_smoothing,
            "augmentation": {"shift_pixels": config.shift, "horizontal_flip": config.flip},
            "history": [{k: round(v, 5) if isinstance(v, float) else v for k, v in h.items()}
                        for h in state.history],
        },
        "command": command,
        "metrics": {
            "best_val_accuracy": round(state.best_val_acc, 5),
            "test_accuracy": round(test_acc, 5),
            "test_accuracy_first_1000": round(test_acc_1000, 5),
            "target_accuracy": spec.target_accuracy,
        },
        "time": {
            "train_seconds": round(state.seconds, 1),
            # the median: robust to an epoch slowed down by another program on the machine
            "seconds_per_epoch": round(statistics.median(epoch_times), 1) if epoch_times else 0.0,
            "threads": threads, "device": device, "cpu": platform.processor() or platform.machine(),
            "torch": torch.__version__,
        },
        "params": count(model),
        "file": {"name": weights_name, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
        "limits": spec.limits,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license": "weights: same terms as the cnnviz code; data: see ../shared/data/README.md",
    }
