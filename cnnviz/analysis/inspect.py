"""Look inside a network: every layer's activation maps and its learned filters.

``activations(model, x)`` runs one forward pass and returns what each layer
produced, in the order the image flowed through them. Models are shared by
every learner on the server, so the forward hooks we attach are (1) removed in
a ``finally`` even if the forward pass fails, and (2) keyed to the calling
thread: a forward pass running at the same time in another session is never
captured by our hooks, and theirs never see ours.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.maths import params

# Layers that change nothing at inference time: not worth a row in the lesson.
_SKIP = (nn.Dropout, nn.Dropout2d, nn.Identity)
# Containers we open up; any other module with children (a ResNet BasicBlock, a
# MobileNet InvertedResidual, a Conv-BN-ReLU block) is shown as one layer.
_CONTAINERS = (nn.Sequential, nn.ModuleList)


def layer_names(model: nn.Module) -> list[str]:
    """The layers a lesson shows, in definition order: leaves, and blocks as one layer.

    Plain ``nn.Sequential``/``ModuleList`` containers are opened (VGG's
    ``features.0``...; ResNet's ``layer1.0``, ``layer1.1``...), blocks are not.
    """
    names: list[str] = []

    def walk(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            full = f"{prefix}{name}"
            if isinstance(child, _SKIP):
                continue
            if type(child) in _CONTAINERS:
                walk(child, full + ".")
            else:
                names.append(full)

    walk(model, "")
    return names


def display_names(model: nn.Module, names: list[str]) -> dict[str, str]:
    """Names a learner knows from papers, for ``features.N`` layers (torchvision's VGG and AlexNet).
    VGG's are numbered by block, a pooling closing each: conv1_1, conv1_2, pool1, ... conv5_3, pool5.
    Any other network's (AlexNet) are numbered in order, conv1 ... conv5, and a pooling takes the
    number of the convolution before it: pool1, pool2, pool5, as in the AlexNet paper.
    Other names stay as they are."""
    modules = dict(model.named_modules())
    shown = [n for n in names if n.startswith("features.") and isinstance(modules[n], (nn.Conv2d, nn.ReLU, nn.MaxPool2d))]
    flat = type(model).__name__ != "VGG"
    pretty, block, conv_in_block, total, relu_of = {n: n for n in names}, 1, 0, 0, None
    for name in shown:
        m = modules[name]
        if isinstance(m, nn.Conv2d):
            conv_in_block, total = conv_in_block + 1, total + 1
            relu_of = str(total) if flat else f"{block}_{conv_in_block}"
            pretty[name] = f"conv{relu_of}"
        elif isinstance(m, nn.ReLU):
            pretty[name] = f"relu{relu_of}" if relu_of else name
        else:
            pretty[name] = f"pool{total if flat else block}"
            block, conv_in_block = block + 1, 0
    return pretty


_FOLLOWERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU,
              nn.Hardswish, nn.Sigmoid, nn.Tanh)


def blocks(model: nn.Module, names: list[str]) -> dict[str, int]:
    """{layer: block number}: a convolution or fully connected layer and the batch norm and
    activation right after it share a number (conv1 -> bn1 -> relu1 is one block), every
    other layer has its own. For drawing the architecture as a course does, one volume per
    block: Tiny VGG's 24 shown layers make 12 blocks."""
    modules = dict(model.named_modules())
    out, block, open_block = {}, -1, False
    for name in names:
        m = modules[name]
        if open_block and isinstance(m, _FOLLOWERS):
            out[name] = block
            continue
        block += 1
        out[name] = block
        open_block = isinstance(m, (nn.Conv2d, nn.Linear))
    return out


@contextmanager
def capture(model: nn.Module, names: list[str] | None = None, *, detach: bool = True, inputs: bool = False):
    """Context manager: a dict filled with {layer name: output} during forward passes
    made *by this thread* inside the block. Hooks are gone when the block ends.
    ``detach=False`` keeps the outputs in the autograd graph (to differentiate them);
    ``inputs=True`` records what each layer reads (its first input) instead."""
    names = layer_names(model) if names is None else names
    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules]
    if missing:
        raise KeyError(f"no such layers: {missing}")
    store: OrderedDict[str, torch.Tensor] = OrderedDict()
    me = threading.get_ident()

    def make_hook(name):
        def hook(_module, args, output=None):
            if threading.get_ident() != me:
                return  # another learner's forward pass through the same shared model
            seen = args if inputs else output
            out = seen[0] if isinstance(seen, (tuple, list)) else seen
            if isinstance(out, torch.Tensor):
                # clone: an in-place layer later in the network must not change what we saw
                store[name] = out.detach().clone() if detach else out.clone()
        return hook

    handles = []
    try:
        for name in names:
            register = modules[name].register_forward_pre_hook if inputs else modules[name].register_forward_hook
            handles.append(register(make_hook(name)))
        yield store
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def with_features(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(outputs, features) of one forward pass: the network's outputs for ``x`` and what its last
    ``Linear`` layer (the classifier) reads, flattened to (batch, numbers): the penultimate
    features. Seen by this thread only (a shared model's other forward passes are not recorded);
    features None for a network without a Linear layer. The model is not modified."""
    heads = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not heads:
        return model(x).detach(), None
    with capture(model, heads[-1:], inputs=True) as store:
        out = model(x).detach()
    seen = store.get(heads[-1])
    return out, (None if seen is None else seen.reshape(seen.shape[0], -1))


@torch.no_grad()
def activations(model: nn.Module, x: torch.Tensor, *, layers: list[str] | None = None
                ) -> OrderedDict[str, torch.Tensor]:
    """{layer name: output (batch, ...)} for one forward pass, in forward (execution) order.

    The model must be in eval mode (shared models always are); it is not modified.
    The network's final output is under the key ``"output"``.
    """
    with capture(model, layers) as store:
        out = model(x)
    result = OrderedDict(store)
    result["output"] = out.detach()
    return result


@dataclass
class LayerInfo:
    name: str
    kind: str                       # Conv2d, ReLU, MaxPool2d, Linear, BasicBlock, ...
    shape: tuple[int, ...]          # output shape without the batch: (C, H, W) or (N,)
    params: int                     # trainable weights of this layer (and its block)
    kernel: int | None = None       # for convolutions and pooling
    stride: int | None = None

    @property
    def is_map(self) -> bool:
        """Does this layer output activation maps (C x H x W) a learner can look at?"""
        return len(self.shape) == 3


def _first(v):
    return v[0] if isinstance(v, (tuple, list)) else v


@torch.no_grad()
def summary(model: nn.Module, input_shape: tuple[int, int, int]) -> list[LayerInfo]:
    """Every shown layer with its output shape and parameter count, in forward order."""
    modules = dict(model.named_modules())
    acts = activations(model, torch.zeros((1, *input_shape)))
    rows = []
    for name, out in acts.items():
        if name == "output":
            continue
        m = modules[name]
        k = getattr(m, "kernel_size", None)
        s = getattr(m, "stride", None)
        rows.append(LayerInfo(name, type(m).__name__, tuple(out.shape[1:]),
                              params.count(m),
                              None if k is None else int(_first(k)), None if s is None else int(_first(s))))
    return rows


def stages(shapes: dict[str, tuple[int, ...]]) -> list[str]:
    """One layer per stage of the hierarchy: the last layer before the maps shrink.

    ``shapes``: {layer: (C, H, W)} in forward order. Digits: relu1 (28x28), relu2
    (14x14), pool2 (7x7); ResNet-18: relu, layer1.1, layer2.1, layer3.1, layer4.1.
    """
    names = list(shapes)
    return [n for i, n in enumerate(names)
            if i == len(names) - 1 or shapes[names[i + 1]][1:] != shapes[n][1:]]


def rank_channels(maps: torch.Tensor, by: str = "max") -> list[int]:
    """Channel indices of a (C, H, W) activation, strongest first ("max" or "mean")."""
    flat = maps.flatten(1)
    score = flat.max(dim=1).values if by == "max" else flat.mean(dim=1)
    return torch.argsort(score, descending=True).tolist()


def conv_weight(model: nn.Module, layer: str) -> torch.Tensor:
    """The learned filters of a convolution: (out_channels, in_channels, kh, kw)."""
    module = dict(model.named_modules()).get(layer)
    if not isinstance(module, nn.Conv2d):
        raise KeyError(f"{layer} is not a Conv2d layer")
    return module.weight.detach()


def feeding_conv(model: nn.Module, layer: str) -> str | None:
    """The convolution whose filters made ``layer``'s maps: itself, or the last conv before it."""
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    order = list(dict(model.named_modules()))
    if layer in names:
        return layer
    pos = order.index(layer) if layer in order else -1
    before = [n for n in names if order.index(n) < pos]
    return before[-1] if before else None


def filter_images(weight: torch.Tensor) -> np.ndarray:
    """Filters as pictures: (out, kh, kw, 3) uint8 for RGB input, (out, in, kh, kw) uint8 otherwise.

    Each filter is scaled on its own, symmetric around 0 so that mid-grey means
    weight 0, brighter means positive and darker negative (per colour for RGB).
    """
    w = weight.detach().float().cpu().numpy()
    scale = np.abs(w).reshape(w.shape[0], -1).max(axis=1).reshape(-1, 1, 1, 1)
    scaled = 0.5 + 0.5 * w / np.where(scale == 0, 1, scale)
    img = np.clip(scaled * 255, 0, 255).round().astype(np.uint8)
    if w.shape[1] == 3:
        return img.transpose(0, 2, 3, 1)
    return img


def to_numpy_maps(t: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) or (C, H, W) -> float32 numpy (C, H, W)."""
    t = t.detach().float().cpu()
    return (t[0] if t.ndim == 4 else t).numpy()


@dataclass
class TopImages:
    """For every channel of a layer: the dataset images that excite it most."""

    layer: str
    values: np.ndarray      # (C, k) the channel's strongest activation in each of its top images
    images: np.ndarray      # (C, k) index of the image in the dataset
    where: np.ndarray       # (C, k, 2) (row, col) of that strongest unit in the activation map
    reach: np.ndarray | None = None   # (C,) how many searched images score at least the k-th top value
    searched: int = 0                 # how many images were searched

    def status(self, channel: int) -> str:
        """What the top images of ``channel`` can teach (see ``channel_status``)."""
        return channel_status(self.values[channel])


def _tie(values) -> tuple[float, int]:
    """(value, count): the value most of ``values`` share exactly (to 1e-6), and how many do."""
    v = np.asarray(values, dtype=np.float64)
    best, count = (float(v[0]), 1) if v.size else (0.0, 0)
    for x in v:
        n = int((np.abs(v - x) <= 1e-6 * max(1.0, abs(float(x)))).sum())
        if n > count:
            best, count = float(x), n
    return best, count


def tie(values) -> tuple[float, int]:
    """The score most of a channel's top images share exactly, and how many of them do."""
    return _tie(values)


def channel_status(values) -> str:
    """"dead", "tied" or "ok" for a channel whose top-k peak values are ``values`` (strongest first).

    - "dead": no image makes the channel positive (its peak is <= 0 everywhere): after a
      ReLU it outputs 0 for every image, so it takes no part in the answer.
    - "tied": at least half of its top images score *exactly* the same value (issue 10:
      seven identical 3.31). A unit gives the same number for the same input patch, so they
      all peak on the same patch: a plain area, or a saturated one (a full row of pure white
      ink on black) that pixel values can't exceed. Which images come first is then an
      accident of their order, and their patches only show that shared pattern.
    - "ok": the images rank by how strongly they show the channel's pattern.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or v[0] <= 0:
        return "dead"
    if v.size > 1 and _tie(v)[1] >= max(2, -(-v.size // 2)):
        return "tied"
    return "ok"


def padded_patch(img: np.ndarray, top: int, left: int, size: int, *, target: int = 168,
                 stripe: int = 6) -> tuple[np.ndarray, float]:
    """The ``size`` x ``size`` patch of ``img`` (H, W, 3 uint8) at (top, left), enlarged to about
    ``target`` pixels, with the part outside the image drawn as grey diagonal stripes, not cut off
    or painted black: that part is the network's padding, not a dark picture.

    Returns (enlarged patch (s, s, 3) uint8, share of the patch outside the image, 0..1).
    """
    img = np.asarray(img, dtype=np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    h, w = img.shape[:2]
    patch = np.zeros((size, size, 3), np.uint8)
    inside = np.zeros((size, size), bool)
    r0, r1 = max(top, 0), min(top + size, h)
    c0, c1 = max(left, 0), min(left + size, w)
    if r1 > r0 and c1 > c0:
        patch[r0 - top:r1 - top, c0 - left:c1 - left] = img[r0:r1, c0:c1]
        inside[r0 - top:r1 - top, c0 - left:c1 - left] = True
    k = max(1, target // size)
    big = patch.repeat(k, axis=0).repeat(k, axis=1)
    mask = inside.repeat(k, axis=0).repeat(k, axis=1)
    yy, xx = np.mgrid[:size * k, :size * k]
    hatch = np.where(((yy + xx) // stripe) % 2 == 0, 150, 215).astype(np.uint8)
    big[~mask] = hatch[~mask][:, None]
    return big, float(1 - inside.mean())


@torch.no_grad()
def top_images(model: nn.Module, x: torch.Tensor, layers: list[str], *, k: int = 9,
               batch: int = 250, progress=None) -> dict[str, TopImages]:
    """Zeiler & Fergus' question for every channel of ``layers``: which of these images
    (``x``: (N, C, H, W), already preprocessed) make it fire most, and where?"""
    peaks: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    widths: dict[str, int] = {}
    spots: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    n = len(x)
    for start in range(0, n, batch):
        with capture(model, layers) as store:
            model(x[start:start + batch])
        for name in layers:
            a = store[name]                                  # (B, C, H, W)
            flat = a.flatten(2)
            val, idx = flat.max(dim=2)                       # (B, C)
            widths[name] = a.shape[-1]
            peaks[name].append(val)
            spots[name].append(idx)
        if progress:
            progress(min(start + batch, n), n)
    out = {}
    for name in layers:
        val = torch.cat(peaks[name])                         # (N, C)
        idx = torch.cat(spots[name])
        top_v, top_i = val.topk(min(k, n), dim=0)            # (k, C)
        flat_pos = idx.gather(0, top_i)                      # (k, C), index into the flattened map
        width = widths[name]
        rows_cols = torch.stack([flat_pos // width, flat_pos % width], dim=-1)  # (k, C, 2)
        last = top_v[-1]                                     # (C,) the weakest value shown
        reach = (val >= last - 1e-6 * last.abs().clamp(min=1.0)).sum(dim=0)   # as strong, ties included
        out[name] = TopImages(name, top_v.T.numpy(), top_i.T.numpy(), rows_cols.permute(1, 0, 2).numpy(),
                              reach.numpy(), n)
    return out



def map_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """The layers of ``model`` whose output is a stack of maps (N, C, H, W) for the input ``x``
    (preprocessed; one picture is enough): the ones whose channels have top images."""
    return [n for n, a in activations(model, x[:1]).items() if n != "output" and a.ndim == 4]


def dataset_top_images(loaded, dataset: str, n: int, *, k: int = 8,
                       progress=None) -> tuple[torch.Tensor, dict[str, TopImages]]:
    """Every map layer's ``top_images`` of ``loaded`` (a ``LoadedModel`` whose input format is the
    dataset's: a bundled network) over the first ``n`` test images of ``dataset`` ->
    (those images (N, C, H, W) in [0, 1], as shown, {layer: TopImages}).

    The images are only normalized with the network's statistics: already in its format, they
    need nothing else (``tests/test_one_normalize.py`` checks it is what ``loaded.preprocess`` gives)."""
    from cnnviz.data import datasets

    x, _ = datasets.first_test_images(dataset, n)
    inputs = datasets.normalize(x, loaded.mean, loaded.std)
    return x, top_images(loaded.model, inputs, map_layers(loaded.model, inputs), k=k, progress=progress)
