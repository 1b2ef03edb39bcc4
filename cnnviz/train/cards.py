"""Model cards: what a network was trained on, how, and how well, as JSON beside its weights.

``bundled_card`` describes a bundled model rebuilt by ``python -m cnnviz.train``
(``assets/models/<name>.json``). The card of a network the learner trained in the Train lesson,
``model_card``, is built where its result is, in ``cnnviz.train.experiment`` (the format
``cnnviz.models.load_user_weights`` reads), and is reachable from here too.
"""

from __future__ import annotations

import hashlib
import platform
import statistics
from datetime import datetime, timezone

import torch
from torch import nn

from cnnviz.train.experiment import model_card  # noqa: F401  (built where the result is; still reachable as cards.model_card)
from cnnviz.train.fit import FitConfig, FitState
from cnnviz.models.specs import BUNDLED, PREPROCESSING
from cnnviz.maths.params import count

def bundled_card(name: str, model: nn.Module, *, dataset: str, images: tuple[int, int, int],
                 config: FitConfig, state: FitState, batch_size: int, test_acc: float,
                 test_acc_1000: float, weights_name: str, blob: bytes, threads: int, device: str,
                 command: str) -> dict:
    """The card of bundled model ``name`` just trained by ``cnnviz.train.bundled.train_bundled``:
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
