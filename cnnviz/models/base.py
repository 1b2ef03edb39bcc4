"""``LoadedModel``: a network plus everything a lesson needs to use it, and ``ModelError``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from cnnviz.base.errors import CnnvizError
from ..i18n import catalog, t
from cnnviz.maths.layers import probabilities


class ModelError(CnnvizError):
    """A model can't be loaded (missing weights, bad upload, ...); the message says what to do."""


@dataclass(eq=False)
class LoadedModel:
    """A trained network ready for the lessons. Shared read-only by all learners: never
    train it, change its mode or leave hooks on it.

    ``preprocess(img)`` turns an RGB PIL image into the (1, C, H, W) float tensor the
    network expects (resized, normalized); ``network_view(img)`` shows that input
    as a picture; ``predict(img)`` gives the top classes with probabilities.
    """

    name: str
    model: nn.Module
    classes: list[str]                    # English class names, index = output unit
    input_size: tuple[int, int]           # (H, W)
    in_channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    card: dict
    source: str                           # "bundled", "zoo" or "user"
    arch: str = ""
    transform: Callable = field(default=None, repr=False)  # PIL RGB -> (C, H, W) tensor
    class_key: str | None = None          # i18n prefix of translated class names, if any

    @property
    def preprocessing(self) -> str:
        """How a picture becomes its input: "digits", "fashion" or "rgb" (the bundled model's spec
        names it; our architectures with other weights share it, and a network built in the Train lesson
        shares its data's network's ("like" in its card); torchvision's networks are "rgb")."""
        from .specs import spec_for_arch

        spec = spec_for_arch(self.arch) or spec_for_arch((self.card or {}).get("like", ""))   # an own network
        return spec.preprocess if spec is not None else "rgb"

    def preprocess(self, img) -> torch.Tensor:
        """PIL image (any mode) -> normalized (1, C, H, W) float tensor."""
        x = self.transform(img)
        return x.unsqueeze(0) if x.ndim == 3 else x

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Undo the normalization: back to pixel values in [0, 1] (same shape)."""
        c = x.shape[-3]
        mean = torch.tensor(self.mean, dtype=x.dtype).view(c, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype).view(c, 1, 1)
        return (x * std + mean).clamp(0, 1)

    def to_image(self, x: torch.Tensor):
        """A (1, C, H, W) or (C, H, W) normalized tensor -> PIL image (L or RGB)."""
        from PIL import Image

        x = self.denormalize(x.detach().cpu().squeeze(0) if x.ndim == 4 else x.detach().cpu())
        arr = (x.permute(1, 2, 0).numpy() * 255).round().astype("uint8")
        return Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr,
                               mode="L" if arr.shape[2] == 1 else "RGB")

    def network_view(self, img):
        """What the network actually sees: ``img`` after preprocessing, as a PIL image."""
        return self.to_image(self.preprocess(img))

    @torch.no_grad()
    def probabilities(self, x) -> torch.Tensor:
        """Softmax class probabilities (num_classes,) for a PIL image or a (1, C, H, W) tensor."""
        if not isinstance(x, torch.Tensor):
            x = self.preprocess(x)
        return probabilities(self.model(x), axis=1)[0]

    def predict(self, x, top: int = 5, lang: str = "en") -> list[tuple[int, str, float]]:
        """The ``top`` most likely classes: [(index, label in ``lang``, probability), ...]."""
        p = self.probabilities(x)
        values, indices = p.topk(min(top, len(p)))
        return [(int(i), self.class_label(int(i), lang), float(v)) for v, i in zip(values, indices)]

    def class_label(self, index: int, lang: str = "en") -> str:
        """Class name in the learner's language when the catalog has it, else English."""
        if self.class_key:
            key = f"{self.class_key}.{index}"
            if key in catalog("en"):
                return t(key, lang)
        return self.classes[index]

    def class_labels(self, lang: str = "en") -> list[str]:
        return [self.class_label(i, lang) for i in range(len(self.classes))]

    @property
    def num_params(self) -> int:
        from cnnviz.maths.params import count

        return count(self.model)

    def conv_layers(self) -> list[str]:
        """Names of the Conv2d modules, in forward order (for "what does layer N see")."""
        return [n for n, m in self.model.named_modules() if isinstance(m, nn.Conv2d)]
