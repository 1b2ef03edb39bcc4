"""Where does the network look? Grad-CAM and friends (via captum): the methods and their registry.

Every method has the same call shape and returns the same kind of map, so a
lesson can swap methods with a selectbox:

    exp = explain("gradcam", model, x, target=None, layer=None)   # -> Explanation
    exp.map          # (H, W) float in [0, 1], the input's size; zeros if exp.flat

``target=None``: the predicted class; ``layer=None``: ``default_layer``.
Methods: "gradcam", "guided_backprop", "guided_gradcam", "saliency",
"integrated_gradients", "occlusion", "smoothgrad", "input_x_gradient", "deeplift", "gradient_shap"
(captum), "gradcam_pp", "layercam", "scorecam" (pytorch-grad-cam, imported only when used: it loads
cv2, matplotlib and scikit-learn), and two baselines that ignore the network ("sobel": an edge map of
the input; "random": a random map, fixed seed). ``grad_cam(model, x, ...)`` is the short form of the first.

Each method is one entry of ``REGISTRY`` (a ``Method``: its attribution function, its options
with their defaults and bounds, its catalog keys, whether it is heavy...), read by ``explain``,
the sanity check and the lesson. A new method = one ``register(Method(...))`` + its strings
(``explain.m.<name>`` and ``explain.about.<name>`` in both catalogs).

Captum never touches the shared model: methods run on its private copy
(``cnnviz.analysis.private_copies``). The checks of a map live beside this module:
``faithfulness`` (deletion and insertion curves) and ``sanity`` (cascading randomization).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from cnnviz.analysis.private_copies import private_copy
from cnnviz.maths.conv import output_size

MAX_IG_STEPS = 64


def conv_layers(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def map_layers(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Layers (as cnnviz.analysis.inspect shows them) whose output is a stack of maps, in forward order."""
    from cnnviz.analysis import inspect as insp

    with torch.no_grad():
        acts = insp.activations(model, x[:1].detach())
    return [n for n, a in acts.items() if n != "output" and a.ndim == 4 and a.shape[-1] > 1]


def default_layer(model: nn.Module, x: torch.Tensor, *, layers: list[str] | None = None) -> str:
    """The layer every method looks through unless told otherwise: the last of ``map_layers``
    (the last layer whose output is still a stack of maps more than one pixel wide) that is not a
    pooling layer (relu2 of the digits net, not its pool2; layer4.1 of ResNet-18). Deep enough to
    know what the class looks like, still spatial enough to say where.
    ``layers``: the result of ``map_layers`` when the caller has it (saves a forward pass)."""
    modules = dict(model.named_modules())
    names = map_layers(model, x) if layers is None else layers
    if not names:
        raise ValueError("this network has no spatial layer to explain")
    useful = [n for n in names if not isinstance(modules[n], _POOLS)]
    return (useful or names)[-1]


@dataclass
class Explanation:
    method: str
    map: np.ndarray          # (H, W) in [0, 1]
    raw: np.ndarray          # (H, W) before normalization (signed for some methods)
    target: int
    layer: str | None
    flat: bool               # True when the map has no information (constant or NaN)


def _normalize(raw: np.ndarray) -> tuple[np.ndarray, bool]:
    raw = np.asarray(raw, dtype=np.float64)
    if not np.isfinite(raw).all():
        raw = np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(raw.min()), float(raw.max())
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return np.zeros_like(raw), True
    return (raw - lo) / (hi - lo), False


def _to_map(attr: torch.Tensor, size: tuple[int, int], *, absolute: bool) -> np.ndarray:
    """(1, C, h, w) attribution -> (H, W): channels summed (or |max|), upsampled to the input."""
    from captum.attr import LayerAttribution

    a = attr.detach()
    if a.shape[1] > 1:
        a = a.abs().amax(dim=1, keepdim=True) if absolute else a.sum(dim=1, keepdim=True)
    elif absolute:
        a = a.abs()
    if tuple(a.shape[-2:]) != tuple(size):
        a = LayerAttribution.interpolate(a, size, interpolate_mode="bilinear")
    return a[0, 0].float().numpy()


def _counting(model: nn.Module, total: int, progress: Callable[[int, int], None] | None):
    """The model as a forward function that reports progress after every call."""
    done = [0]

    def forward(inp):
        out = model(inp)
        done[0] += 1
        if progress:
            progress(min(done[0], total), total)
        return out
    return forward


# ---------------------------------------------------------------- the methods
@dataclass(frozen=True)
class Call:
    """What a method's attribution function gets: the explanation copy of the model, the input
    (a leaf that requires grad), the class, the layer's module (``None`` unless the method
    ``needs_layer``), the progress callback and the method's options, resolved (``Method.settings``)."""
    model: nn.Module
    x: torch.Tensor
    target: int
    module: nn.Module | None
    progress: Callable[[int, int], None] | None
    options: dict


@dataclass(frozen=True)
class Option:
    """A setting of a method: ``explain``'s keyword argument ``name``, shown as a slider labelled
    ``label_key``, with the widget key ``key``. ``rule(size, chosen) -> (low, high, default)``:
    its bounds and default for an input of ``size`` (H, W), given the options before it."""
    name: str
    label_key: str
    key: str
    rule: Callable[[tuple[int, int], dict], tuple[int, int, int]]

    def bounds(self, size: tuple[int, int], chosen: dict | None = None) -> tuple[int, int, int]:
        low, high, default = (int(v) for v in self.rule(tuple(size), dict(chosen or {})))
        return low, max(low, high), int(np.clip(default, low, max(low, high)))


@dataclass(frozen=True)
class Method:
    """One attribution method. ``attribute(call) -> tensor`` (1, C, h, w) (or (1, 1, h, w)):
    the map before it is summed over channels and resized to the input (``absolute``: by the
    largest |value| over channels, else by the sum). ``needs_layer``: it looks through a layer
    (Grad-CAM); ``heavy``: many passes through the network, so a lesson sends it through the
    server's line of heavy work; ``compare``: offered in the lesson's comparison (``shown``:
    chosen there at first); ``sanity``: one of the sanity check's methods by default
    (``cnnviz.analysis.sanity.default_methods``); ``baseline``: not an explanation at all, a map
    that ignores the network (the edge map, the random map), to compare the methods with."""
    name: str
    attribute: Callable[[Call], torch.Tensor]
    absolute: bool = True
    needs_layer: bool = False
    heavy: bool = False
    options: tuple[Option, ...] = ()
    compare: bool = True
    shown: bool = False
    sanity: bool = False
    baseline: bool = False

    @property
    def label_key(self) -> str:
        return f"explain.m.{self.name}"

    @property
    def about_key(self) -> str:
        return f"explain.about.{self.name}"

    def settings(self, size: tuple[int, int], given: dict | None = None) -> dict:
        """The method's options for an input of ``size``: each given value (``None`` = not given)
        kept within its bounds, the others at their defaults. Other keys of ``given`` are ignored."""
        given = given or {}
        chosen: dict = {}
        for opt in self.options:
            low, high, default = opt.bounds(size, chosen)
            value = given.get(opt.name)
            chosen[opt.name] = default if value is None else int(np.clip(int(value), low, high))
        return chosen


REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add (or replace) a method; it is then known to ``explain``, ``METHODS`` and the lesson."""
    REGISTRY[method.name] = method
    return method


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def __getattr__(name: str):
    if name == "METHODS":          # the names of the registered methods, in their order
        return tuple(REGISTRY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _gradcam(c: Call):
    from captum.attr import LayerGradCam
    return LayerGradCam(c.model, c.module).attribute(c.x, target=c.target, relu_attributions=True)


def _guided_gradcam(c: Call):
    from captum.attr import GuidedGradCam
    return GuidedGradCam(c.model, c.module).attribute(c.x, target=c.target, interpolate_mode="bilinear")


def _guided_backprop(c: Call):
    from captum.attr import GuidedBackprop
    return GuidedBackprop(c.model).attribute(c.x, target=c.target)


def _saliency(c: Call):
    from captum.attr import Saliency
    return Saliency(c.model).attribute(c.x, target=c.target, abs=True)


IG_BATCH = 8


def _integrated_gradients(c: Call):
    from captum.attr import IntegratedGradients
    steps = c.options["n_steps"]
    ig = IntegratedGradients(_counting(c.model, -(-steps // IG_BATCH), c.progress))
    return ig.attribute(c.x, baselines=torch.zeros_like(c.x), target=c.target, n_steps=steps,
                        internal_batch_size=IG_BATCH)


def _occlusion(c: Call):
    """Zeiler & Fergus' grey square; positive = covering it lowered the class score = the
    network needed it."""
    from captum.attr import Occlusion
    (h, w), window, stride = c.x.shape[-2:], c.options["window"], c.options["stride"]
    positions = output_size(h, window, stride) * output_size(w, window, stride)
    per_eval = 16
    occ = Occlusion(_counting(c.model, -(-positions // per_eval) + 1, c.progress))
    channels = c.x.shape[1]
    attr = occ.attribute(c.x, sliding_window_shapes=(channels, window, window), strides=(channels, stride, stride),
                         baselines=0.0, target=c.target, perturbations_per_eval=per_eval)
    return attr.clamp(min=0)


IG_STEPS = Option("n_steps", "explain.ig_steps", "ig_steps", lambda size, _: (4, MAX_IG_STEPS, 16))
OCC_WINDOW = Option("window", "explain.occ_window", "occ_window",
                    lambda size, _: (2, max(3, min(size) // 2), max(2, min(size) // 7)))
OCC_STRIDE = Option("stride", "explain.occ_stride", "occ_stride",
                    lambda size, chosen: (1, chosen["window"], max(1, chosen["window"] // 2)))

for _method in (
    Method("gradcam", _gradcam, absolute=False, needs_layer=True, compare=False, sanity=True),
    Method("guided_backprop", _guided_backprop, sanity=True),
    Method("guided_gradcam", _guided_gradcam, needs_layer=True, shown=True),
    Method("saliency", _saliency, shown=True, sanity=True),
    Method("integrated_gradients", _integrated_gradients, heavy=True, options=(IG_STEPS,)),
    Method("occlusion", _occlusion, absolute=False, heavy=True, options=(OCC_WINDOW, OCC_STRIDE)),
):
    register(_method)



# ------------------------------------------------ more of captum's methods (issue 20)
SEED = 0            # the noise of SmoothGrad and GradientShap, the random map: the same on every run
SG_BATCH = 8
SG_NOISE = 0.15     # SmoothGrad's noise: 15 % of the input's range (Smilkov et al. 2017 suggest 10-20 %)


@contextmanager
def _seeded():
    """A block whose draws from torch's and numpy's global generators start at ``SEED`` and leave
    them as they were: captum draws its noise from torch's (SmoothGrad, GradientShap) and
    GradientShap its baselines and steps from numpy's, and a map must be the same for everybody."""
    state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            np.random.seed(SEED)
            yield
    finally:
        np.random.set_state(state)


def _smoothgrad(c: Call):
    """Smilkov et al. (2017): |gradient| averaged over copies of the picture with Gaussian noise
    (standard deviation ``SG_NOISE`` of its range), drawn ``SG_BATCH`` copies at a time."""
    from captum.attr import NoiseTunnel, Saliency
    n = c.options["n_samples"]
    tunnel = NoiseTunnel(Saliency(_counting(c.model, -(-n // SG_BATCH), c.progress)))
    stdev = SG_NOISE * float(c.x.max() - c.x.min())
    with _seeded():
        return tunnel.attribute(c.x, nt_type="smoothgrad", nt_samples=n, nt_samples_batch_size=SG_BATCH,
                                stdevs=stdev, target=c.target, abs=True)


def _input_x_gradient(c: Call):
    from captum.attr import InputXGradient
    return InputXGradient(c.model).attribute(c.x, target=c.target)


def reused_relu(model: nn.Module, x: torch.Tensor) -> str | None:
    """The name of a ReLU module that one forward pass of ``model`` calls more than once (ResNet's
    blocks call their ``relu`` twice), else None: DeepLift's rules need one module per use."""
    calls: dict[str, int] = {}
    handles = [m.register_forward_hook(lambda *_, n=name: calls.__setitem__(n, calls.get(n, 0) + 1))
               for name, m in model.named_modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(x.detach())
    finally:
        for h in handles:
            h.remove()
    return next((n for n, k in calls.items() if k > 1), None)


def _deeplift(c: Call):
    """Shrikumar et al. (2017), the rescale rule, from the black picture (zeros: the dataset's mean
    colour once normalized). Refuses a network that reuses a ReLU module: its rules would be wrong."""
    from captum.attr import DeepLift

    from cnnviz.base.errors import CnnvizError
    name = reused_relu(c.model, c.x)
    if name is not None:
        raise CnnvizError("attribution.error.deeplift_reused_relu", layer=name)
    return DeepLift(c.model).attribute(c.x, baselines=torch.zeros_like(c.x), target=c.target)


def _gradient_shap(c: Call):
    """Lundberg & Lee (2017): gradients times (input - baseline) at random points between the
    picture (with a little noise) and baselines drawn from the black picture and two noise pictures."""
    from captum.attr import GradientShap
    with _seeded():
        baselines = torch.cat([torch.zeros_like(c.x), torch.randn((2, *c.x.shape[1:]))])
        shap = GradientShap(_counting(c.model, 1, c.progress))
        return shap.attribute(c.x, baselines=baselines, n_samples=c.options["n_samples"], stdevs=0.1,
                              target=c.target)


# ------------------------------------------ CAMs of pytorch-grad-cam (imported only when used)
SCORECAM_BATCH = 16


class _CountingModule(nn.Module):
    """The model as a module that reports progress after each forward call (pytorch-grad-cam wants a
    module); ``total()`` is asked after each call (the number of channels is known after the first)."""

    def __init__(self, model: nn.Module, total: Callable[[], int], progress):
        super().__init__()
        self.inner, self._total, self._progress, self.done = model, total, progress, 0

    def forward(self, inp):
        out = self.inner(inp)
        self.done += 1
        if self._progress:
            total = max(self._total(), self.done)
            self._progress(min(self.done, total), total)
        return out


def _library_cam(kind: str, c: Call):
    """A CAM of pytorch-grad-cam on the explanation copy: its hooks removed when it is done (the
    ``with``), its map (1, H, W) in [0, 1] already resized to the input (cv2) -> (1, 1, H, W)."""
    import pytorch_grad_cam as pgc
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    holder: list = []

    def total():
        acts = holder[0].activations_and_grads.activations if holder else []
        return 1 + (-(-acts[0].shape[1] // SCORECAM_BATCH) if acts else 0)

    model = _CountingModule(c.model, total, c.progress) if kind == "ScoreCAM" else c.model
    with getattr(pgc, kind)(model=model, target_layers=[c.module]) as cam:
        holder.append(cam)
        cam.batch_size = SCORECAM_BATCH
        out = cam(input_tensor=c.x, targets=[ClassifierOutputTarget(c.target)])
    return torch.as_tensor(np.asarray(out, dtype=np.float32))[:, None]


# ------------------------------------------------ baselines: maps that ignore the network
RANDOM_GRID = 7


def sobel_map(x: torch.Tensor) -> torch.Tensor:
    """The edge map of ``x`` (1, C, H, W) as the network sees it: each channel's Sobel gradient
    magnitude sqrt(gx^2 + gy^2), the border repeated (= ``scipy.ndimage.sobel``'s "reflect" for a
    3 x 3 kernel) -> (1, C, H, W)."""
    import torch.nn.functional as F
    smooth, diff = torch.tensor([1.0, 2.0, 1.0]), torch.tensor([-1.0, 0.0, 1.0])
    kx, ky = torch.outer(smooth, diff), torch.outer(diff, smooth)
    chans = x.shape[1]
    weight = torch.stack([kx, ky])[:, None].repeat(chans, 1, 1, 1)          # (2C, 1, 3, 3)
    padded = F.pad(x.detach().float(), (1, 1, 1, 1), mode="replicate")
    g = F.conv2d(padded, weight, groups=chans)                              # gx, gy per channel
    return torch.sqrt(g[:, 0::2] ** 2 + g[:, 1::2] ** 2)


def random_map(size: tuple[int, int]) -> torch.Tensor:
    """A smooth random map (1, 1, h, w): a ``RANDOM_GRID`` x ``RANDOM_GRID`` grid of uniform numbers
    drawn with the seed ``SEED``, enlarged bilinearly to ``size`` (like a CAM's blobs): the same map
    for every picture and every network."""
    import torch.nn.functional as F
    grid = torch.rand((1, 1, RANDOM_GRID, RANDOM_GRID), generator=torch.Generator().manual_seed(SEED))
    return F.interpolate(grid, size=tuple(size), mode="bilinear", align_corners=False)


SG_SAMPLES = Option("n_samples", "explain.sg_samples", "sg_samples", lambda size, _: (4, 64, 16))
SHAP_SAMPLES = Option("n_samples", "explain.shap_samples", "shap_samples", lambda size, _: (4, 64, 16))

for _method in (
    Method("gradcam_pp", lambda c: _library_cam("GradCAMPlusPlus", c), absolute=False, needs_layer=True, sanity=True),
    Method("layercam", lambda c: _library_cam("LayerCAM", c), absolute=False, needs_layer=True, sanity=True),
    Method("scorecam", lambda c: _library_cam("ScoreCAM", c), absolute=False, needs_layer=True, heavy=True),
    Method("smoothgrad", _smoothgrad, heavy=True, options=(SG_SAMPLES,)),
    Method("input_x_gradient", _input_x_gradient, sanity=True),
    Method("deeplift", _deeplift),
    Method("gradient_shap", _gradient_shap, heavy=True, options=(SHAP_SAMPLES,)),
    Method("sobel", lambda c: sobel_map(c.x), sanity=True, baseline=True, shown=True),
    Method("random", lambda c: random_map(tuple(c.x.shape[-2:])), absolute=False, sanity=True, baseline=True,
           shown=True),
):
    register(_method)


def baselines() -> list[str]:
    """The registry's baselines (maps that ignore the network), in order."""
    return [m.name for m in REGISTRY.values() if m.baseline]


def explain(method: str, model: nn.Module, x: torch.Tensor, *, target: int | None = None,
            layer: str | None = None, progress: Callable[[int, int], None] | None = None,
            **options) -> Explanation:
    """Explain the ``target`` class (default: the predicted one) for input ``x`` (1, C, H, W).
    ``options``: the method's own (``REGISTRY[method].options``, e.g. ``n_steps`` for integrated
    gradients, ``window`` and ``stride`` for occlusion), kept within their bounds; options of
    other methods are ignored, so one set of settings can be passed to several methods."""
    if method not in REGISTRY:
        raise ValueError(f"unknown method {method!r}; known: {list(REGISTRY)}")
    known = {o.name for m in REGISTRY.values() for o in m.options}
    if set(options) - known:               # a typo would otherwise be silently ignored
        raise TypeError(f"unknown options {sorted(set(options) - known)}; known: {sorted(known)}")
    twin, lock = private_copy(model)
    with lock:
        # a fresh leaf that requires grad: the twin's weights don't, and the layer outputs
        # Grad-CAM differentiates only carry gradients when something upstream does
        inp = x.detach().clone().requires_grad_(True)
        return _explain(REGISTRY[method], twin, inp, target, layer, progress, options)


def _explain(method: Method, model, x, target, layer, progress, options) -> Explanation:
    size = tuple(x.shape[-2:])
    if target is None:
        with torch.no_grad():
            target = int(model(x.detach()).argmax(dim=1))
    layer = layer or default_layer(model, x)
    module = dict(model.named_modules())[layer] if method.needs_layer else None
    call = Call(model, x, int(target), module, progress, method.settings(size, options))
    raw = _to_map(method.attribute(call), size, absolute=method.absolute)
    norm, flat = _normalize(raw)
    return Explanation(method.name, norm, raw, int(target), layer, flat)


def grad_cam(model: nn.Module, x: torch.Tensor, *, target: int | None = None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM of ``target`` at ``layer`` (default: ``default_layer``), (H, W) in [0, 1]."""
    return explain("gradcam", model, x, target=target, layer=layer).map
