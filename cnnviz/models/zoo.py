"""The ImageNet zoo: big pretrained torchvision networks, an optional download.

torchvision describes each set of weights (URL, class names, transforms,
accuracy) in its weights API; we read everything from there. The weights file
lives in torch's hub cache (``$TORCH_HOME/hub/checkpoints``). We never touch the
network just to check: ``zoo_status`` only looks at the disk, and ``load``
explains which file is missing, how big it is and where to put it.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .base import LoadedModel, ModelError

# our name -> (torchvision builder name, weights enum member). vgg16 is the course's network.
ZOO: dict[str, tuple[str, str]] = {
    "resnet18": ("resnet18", "IMAGENET1K_V1"),
    "vgg16": ("vgg16", "IMAGENET1K_V1"),
    "alexnet": ("alexnet", "IMAGENET1K_V1"),
    "mobilenet_v3_large": ("mobilenet_v3_large", "IMAGENET1K_V2"),
}
# the layer whose out_features is the number of classes (for uploads of fine-tuned zoo models)
ZOO_HEADS = {"resnet18": "fc", "vgg16": "classifier.6", "alexnet": "classifier.6",
             "mobilenet_v3_large": "classifier.3"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_HASH = re.compile(r"-([a-f0-9]*)\.")   # torchvision file names carry a sha256 prefix


@dataclass(frozen=True)
class ZooStatus:
    name: str
    cached: bool
    path: Path          # where the file is or must go
    folder: Path
    filename: str
    size_mb: float | None
    url: str


def weights_enum(name: str):
    from cnnviz.base.memory import torchvision as _torchvision

    torchvision = _torchvision()

    if name not in ZOO:
        raise ModelError("models.unknown", name=name, known=", ".join(ZOO))
    builder, member = ZOO[name]
    return getattr(torchvision.models.get_model_weights(builder), member)


def cache_dir() -> Path:
    """torch's hub checkpoint folder (respects $TORCH_HOME), where torchvision looks."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def zoo_status(name: str) -> ZooStatus:
    """Is the weights file of zoo model ``name`` on disk? Never uses the network."""
    w = weights_enum(name)
    filename = os.path.basename(w.url)
    folder = cache_dir()
    path = folder / filename
    size = w.meta.get("_file_size")  # MB, from torchvision's metadata
    return ZooStatus(name, path.is_file(), path, folder, filename,
                     float(size) if size is not None else None, w.url)


def _missing_error(st: ZooStatus) -> ModelError:
    return ModelError("models.zoo_missing", name=st.name, file=st.filename,
                      size_mb=f"{st.size_mb:.0f}" if st.size_mb else "?",
                      folder=str(st.folder), url=st.url)


def download(name: str, progress: Callable[[int, int], None] | None = None, *,
             url: str | None = None, dest: Path | None = None,
             opener: Callable = urllib.request.urlopen, chunk: int = 1 << 20) -> Path:
    """Download the weights of zoo model ``name`` into the hub cache; return the path.

    ``progress(done_bytes, total_bytes)`` is called after every chunk (total is 0
    when the server doesn't say). The file is written to ``<file>.part`` and renamed
    only after its sha256 matches the prefix in torchvision's file name, so a
    broken download never looks cached. ``url``/``dest``/``opener`` exist for tests
    (a ``file://`` URL works offline).
    """
    st = zoo_status(name)
    url = url or st.url
    dest = Path(dest or st.path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # a unique temporary name: two learners may click "download" at the same time
    part = dest.with_name(f"{dest.name}.{uuid.uuid4().hex[:8]}.part")
    expected = _HASH.search(st.filename)
    sha = hashlib.sha256()
    done = 0
    try:
        with opener(url) as resp, open(part, "wb") as f:
            total = int(resp.headers.get("Content-Length") or 0) if hasattr(resp, "headers") else 0
            while block := resp.read(chunk):
                f.write(block)
                sha.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as err:
        part.unlink(missing_ok=True)
        raise ModelError("models.download_failed", name=name, url=url, file=st.filename,
                         folder=str(dest.parent), detail=str(getattr(err, "reason", err))) from None
    if expected and not sha.hexdigest().startswith(expected.group(1)):
        part.unlink(missing_ok=True)
        raise ModelError("models.download_corrupt", name=name, file=st.filename, url=url)
    part.replace(dest)
    return dest


def build_zoo(name: str, num_classes: int | None = None):
    """The torchvision architecture with random weights (``weights=None``), no download."""
    from cnnviz.base.memory import torchvision as _torchvision

    torchvision = _torchvision()

    kw = {"num_classes": num_classes} if num_classes else {}
    return torchvision.models.get_model(ZOO[name][0], weights=None, **kw)


def load_zoo(name: str, *, pretrained: bool = True) -> LoadedModel:
    """A zoo model in eval mode. ``pretrained=False``: the architecture with random weights.

    With ``pretrained=True`` the weights must already be in the hub cache; otherwise
    ``ModelError`` says which file is missing, its size, where to put it and its URL.
    """
    import torch

    w = weights_enum(name)
    st = zoo_status(name)
    if pretrained and not st.cached:   # say so before spending seconds building the network
        raise _missing_error(st)
    model = build_zoo(name)
    card = zoo_card(name)
    if pretrained:
        try:
            state = torch.load(st.path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except Exception as err:  # truncated or foreign file in the cache
            raise ModelError("models.zoo_corrupt", name=name, path=str(st.path),
                             detail=str(err)[:200]) from None
    else:
        card = {**card, "pretrained": False}
    model.eval()
    tf = w.transforms()
    crop = tf.crop_size[0]
    return LoadedModel(
        name=name, model=model, classes=list(w.meta["categories"]), input_size=(crop, crop),
        in_channels=3, mean=tuple(tf.mean), std=tuple(tf.std), card=card, source="zoo",
        arch=name, transform=lambda img: tf(img.convert("RGB")).unsqueeze(0))


def zoo_card(name: str) -> dict:
    """A model card built from torchvision's metadata for these weights."""
    w = weights_enum(name)
    meta = w.meta
    st = zoo_status(name)
    tf = w.transforms()
    return {
        "name": name, "architecture": ZOO[name][0], "weights": str(w),
        "classes": f"{len(meta['categories'])} ImageNet-1k categories",
        "input_size": [tf.crop_size[0]] * 2, "in_channels": 3,
        "normalization": {"mean": list(tf.mean), "std": list(tf.std)},
        "preprocessing": f"resize {tf.resize_size[0]}, centre crop {tf.crop_size[0]}, normalize",
        "data": "ImageNet-1k (1.28M training images)",
        "metrics": {k: v for k, v in meta.get("_metrics", {}).get("ImageNet-1K", {}).items()},
        "params": meta.get("num_params"), "gflops": meta.get("_ops"),
        "file": {"name": st.filename, "size_mb": st.size_mb, "url": st.url, "path": str(st.path)},
        "recipe": meta.get("recipe"), "pretrained": True,
    }
