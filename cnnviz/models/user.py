"""Your own model: weights a learner uploads, loaded safely.

A ``.pt``/``.pth`` file is a Python pickle, and unpickling can run any code the
file's author chose. So we only ever read tensors: ``.safetensors`` files hold
nothing else by design, and ``.pt``/``.pth`` go through
``torch.load(weights_only=True)``, whose restricted unpickler refuses anything
that is not tensors, numbers, strings and containers, without running it.
The weights must fit one of our architectures (or a zoo architecture); we find
which one from the card, or from the layer names and shapes.
"""

from __future__ import annotations

import io
import json
import pickle
from pathlib import PurePath

import torch
from torch import nn

from . import builder
from .archs import ARCHITECTURES, head_name
from .base import LoadedModel, ModelError
from .bundled import build, transform_for
from .specs import spec_for_arch
from .zoo import IMAGENET_MEAN, IMAGENET_STD, ZOO, ZOO_HEADS, build_zoo

MAX_UPLOAD_MB = 50
EXTENSIONS = (".safetensors", ".pt", ".pth")


def read_card(data: bytes | str) -> dict:
    """Parse an uploaded model card (JSON). Raises ``ModelError`` if it isn't a JSON object."""
    try:
        card = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelError("models.user_bad_card", detail=str(err)[:120]) from None
    if not isinstance(card, dict):
        raise ModelError("models.user_bad_card", detail="expected a JSON object {...}")
    return card


def read_state_dict(data: bytes, filename: str) -> dict[str, torch.Tensor]:
    """Tensors from an uploaded weights file, never executing anything it contains."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ModelError("models.user_bad_extension", file=filename, allowed=", ".join(EXTENSIONS))
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise ModelError("models.user_too_big", file=filename,
                         size_mb=f"{len(data) / 2**20:.1f}", max_mb=MAX_UPLOAD_MB)
    if suffix == ".safetensors":
        from safetensors.torch import load as load_safetensors

        try:
            state = load_safetensors(bytes(data))
        except Exception as err:  # safetensors raises its own error types on bad bytes
            raise ModelError("models.user_bad_safetensors", file=filename, detail=str(err)[:120]) from None
    else:
        try:
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            # weights_only refused a global it doesn't trust (a pickled model class, or
            # worse, code such as os.system): nothing from the file has been run.
            if "global" in str(err).lower():
                raise ModelError("models.user_pickle_refused", file=filename) from None
            raise ModelError("models.user_bad_file", file=filename,
                             detail=_short(err)) from None
        except Exception as err:
            raise ModelError("models.user_bad_file", file=filename, detail=_short(err)) from None
    return _as_state_dict(state, filename)


def _short(err: Exception) -> str:
    """The useful line of torch's long unpickling errors, for a learner."""
    text = str(err)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    return " ".join(text.split())[:120]


def _as_state_dict(obj, filename: str) -> dict[str, torch.Tensor]:
    # common checkpoint wrappers: {"state_dict": ...}, {"model_state_dict": ...}, {"model": ...}
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise ModelError("models.user_not_state_dict", file=filename)
    # nn.DataParallel saves "module.conv1.weight"
    return {k.removeprefix("module."): v for k, v in obj.items()}


def _num_classes(state: dict, head: str) -> int | None:
    w = state.get(f"{head}.weight")
    return int(w.shape[0]) if w is not None and w.ndim == 2 else None


def _mismatch(model: nn.Module, state: dict) -> str:
    """"" if ``state`` fits ``model`` exactly, else a short description of the first problems."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} != {expected[k]}" for k in expected
             if k in state and tuple(state[k].shape) != expected[k]]
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else ""))
    if unexpected:
        parts.append("unexpected: " + ", ".join(unexpected[:4]) + (" ..." if len(unexpected) > 4 else ""))
    if wrong:
        parts.append("shape: " + "; ".join(wrong[:3]))
    return " | ".join(parts)


def _own_network(card: dict, state: dict) -> nn.Module:
    """A network built in the Train lesson (``cnnviz.models.builder``), from its card's "layers" and
    the input of the bundled network of its data ("like"); its number of classes is its weights'."""
    like = card.get("like")
    if like not in ARCHITECTURES:
        raise ModelError("models.user_bad_card", detail=f'an {builder.ARCH_NAME} card needs "like": one of '
                         + ", ".join(ARCHITECTURES))
    spec = spec_for_arch(like)
    arch = builder.parse(card.get("layers"))
    size = tuple(card.get("input_size") or spec.input_size)
    probe = builder.plan(arch, spec.in_channels, size, 1, caps=False)
    return builder.build(arch, spec.in_channels, size, _num_classes(state, probe.head) or len(spec.classes))


def _build_for(arch: str, state: dict, card: dict | None = None) -> nn.Module:
    if arch == builder.ARCH_NAME:
        return _own_network(card or {}, state)
    if arch in ARCHITECTURES:
        n = _num_classes(state, head_name(arch)) or len(spec_for_arch(arch).classes)
        return build(arch, n)
    n = _num_classes(state, ZOO_HEADS[arch])
    with torch.device("meta"):   # shape check first without allocating a big network
        probe = build_zoo(arch, n)
    problem = _mismatch(probe, state)
    if problem:
        raise ModelError("models.user_wrong_arch", arch=arch, detail=problem)
    return build_zoo(arch, n)


def infer_arch(state: dict) -> str | None:
    """The one of our architectures whose layer names and shapes fit ``state`` (ignoring
    the number of classes), or None."""
    for arch in ARCHITECTURES:
        n = _num_classes(state, head_name(arch))
        if n and not _mismatch(build(arch, n), state):
            return arch
    return None


def load_user_weights(data: bytes, filename: str, *, arch: str | None = None,
                      card: dict | None = None) -> LoadedModel:
    """A learner's own weights as a ``LoadedModel`` (eval mode), or a ``ModelError``.

    ``data``: the uploaded file's bytes; ``filename`` decides the format
    (``.safetensors``, or ``.pt``/``.pth`` read with ``torch.load(weights_only=True)``).
    The architecture is ``arch``, else ``card["architecture"]``, else inferred from
    the state dict; architectures: "DigitsCNN", "FashionCNN", "TinyVGG" (any number
    of classes) or a zoo name ("resnet18", ...). The optional ``card`` (see
    ``read_card``) may give "name", "classes", "input_size", "normalization".
    Every refusal (pickle code, wrong layers, garbage, > 50 MB, unknown extension)
    is a ``ModelError`` a learner can act on; nothing in the file is ever executed.
    """
    card = dict(card or {})
    if card and not isinstance(card.get("classes", []), list):
        raise ModelError("models.user_bad_card", detail='"classes" must be a list of names')
    state = read_state_dict(data, filename)
    arch = arch or card.get("architecture")
    known = [*ARCHITECTURES, *ZOO]
    if arch and arch not in known and arch != builder.ARCH_NAME:
        raise ModelError("models.user_unknown_arch", arch=arch, known=", ".join(known))
    if not arch:
        arch = infer_arch(state)
        if arch is None:
            raise ModelError("models.user_no_arch", file=filename, known=", ".join(known))
    model = _build_for(arch, state, card)
    problem = _mismatch(model, state)
    if problem:
        raise ModelError("models.user_wrong_arch", arch=arch, detail=problem)
    model.load_state_dict(state)
    model.eval()

    own = arch == builder.ARCH_NAME
    like = card["like"] if own else arch      # an own network reads and names pictures as its data's network
    head = model.plan.head if own else head_name(arch) if arch in ARCHITECTURES else ZOO_HEADS[arch]
    classes, class_key, defaults = _classes(like, card, _num_classes(state, head))
    norm = card.get("normalization") or {}
    mean = tuple(norm.get("mean", defaults["mean"]))
    std = tuple(norm.get("std", defaults["std"]))
    in_channels = defaults["in_channels"]
    if len(mean) != in_channels or len(std) != in_channels:
        raise ModelError("models.user_bad_card", detail=f"normalization needs {in_channels} mean/std values")
    input_size = tuple(card.get("input_size") or defaults["input_size"])
    transform = (transform_for(like, input_size, mean, std) if like in ARCHITECTURES
                 else transform_for("TinyVGG", input_size, mean, std))
    name = str(card.get("name") or PurePath(filename).stem)
    return LoadedModel(
        name=name, model=model, classes=classes, input_size=input_size, in_channels=in_channels,
        mean=mean, std=std, card={**card, "architecture": arch, "file": filename, "source": "upload"},
        source="user", arch=arch, transform=transform, class_key=class_key)


def _classes(arch: str, card: dict, n: int):
    if arch in ARCHITECTURES:
        spec = spec_for_arch(arch)
        defaults = {"mean": spec.mean, "std": spec.std, "in_channels": spec.in_channels,
                    "input_size": spec.input_size}
        bundled_classes = list(spec.classes) if len(spec.classes) == n else None
        key = f"models.classes.{spec.name}"
    else:
        defaults = {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "in_channels": 3,
                    "input_size": (224, 224)}
        bundled_classes, key = None, None
    classes = card.get("classes")
    if classes is not None:
        if len(classes) != n:
            raise ModelError("models.user_classes_count", got=len(classes), expected=n)
        classes = [str(c) for c in classes]
        if classes != bundled_classes:
            key = None   # the learner's own names: show them as written
        return classes, key, defaults
    if bundled_classes:
        return bundled_classes, key, defaults
    return [f"class {i}" for i in range(n)], None, defaults


def to_safetensors(model: nn.Module, metadata: dict[str, str] | None = None) -> bytes:
    """The model's state dict as ``.safetensors`` bytes (what the upload expects back)."""
    from safetensors.torch import save

    return save({k: v.detach().contiguous() for k, v in model.state_dict().items()}, metadata)
