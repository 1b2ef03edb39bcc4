import copy
import warnings

import numpy as np
import pytest
from app_helpers import run_in_threads

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("captum")
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

from cnnviz.analysis import attribution as A  # noqa: E402
from cnnviz.analysis import faithfulness, sanity  # noqa: E402
from cnnviz.analysis.private_copies import private_copy  # noqa: E402
from cnnviz import models  # noqa: E402

warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")


def hook_count(model):
    return sum(len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def digits():
    return models.load("digits")


@pytest.fixture(scope="module")
def digit_x(digits):
    return digits.preprocess(Image.open(models.WEIGHTS_DIR.parent / "samples" / "digit.png"))


def _reference_gradcam(model, layer, x, target):
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    twin = copy.deepcopy(model)
    with GradCAM(model=twin, target_layers=[dict(twin.named_modules())[layer]]) as cam:
        return cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]


@pytest.mark.parametrize("target", [3, 8, 5])
def test_gradcam_equals_pytorch_grad_cam_on_digits(digits, digit_x, target):
    pytest.importorskip("pytorch_grad_cam")
    ours = A.grad_cam(digits.model, digit_x, target=target)
    ref = _reference_gradcam(digits.model, "relu2", digit_x, target)
    assert np.corrcoef(ours.ravel(), ref.ravel())[0, 1] >= 0.99


def test_gradcam_equals_pytorch_grad_cam_on_resnet18():
    pytest.importorskip("pytorch_grad_cam")
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    assert A.default_layer(model, x) == "layer4.1"
    ours = A.grad_cam(model, x, target=7)
    ref = _reference_gradcam(model, "layer4.1", x, 7)
    assert np.corrcoef(ours.ravel(), ref.ravel())[0, 1] >= 0.99
    # the shared model keeps its in-place ReLUs and no hooks; the explanation copy has neither
    assert model.relu.inplace and hook_count(model) == 0
    twin, _ = private_copy(model)
    assert not twin.relu.inplace and hook_count(twin) == 0


@pytest.mark.parametrize("method", A.METHODS)
def test_every_method_same_shape_and_range(digits, digit_x, method):
    before = {k: v.clone() for k, v in digits.model.state_dict().items()}
    grads_before = [p.requires_grad for p in digits.model.parameters()]
    done = []
    exp = A.explain(method, digits.model, digit_x, n_steps=16, window=7, stride=7,
                    progress=lambda d, t: done.append((d, t)))
    assert exp.map.shape == (28, 28) and exp.map.min() >= 0 and exp.map.max() <= 1
    assert not exp.flat and exp.target == 3 and exp.layer == "relu2"
    # every method points at the digit: its map is brighter on and near the strokes than on the
    # empty background (measured: 3x to 30x)
    # (the random map, which ignores the picture, does not)
    ink = (digit_x[0, 0] > 0.5).float()[None, None]
    near = torch.nn.functional.max_pool2d(ink, 5, 1, 2)[0, 0].bool().numpy()
    assert (exp.map[near].mean() > 2 * exp.map[~near].mean()) == (method != "random"), method
    assert hook_count(digits.model) == 0
    assert not any(p.requires_grad is not q for p, q in zip(digits.model.parameters(), grads_before))
    for k, v in digits.model.state_dict().items():
        assert torch.equal(v, before[k])
    twin, _ = private_copy(digits.model)                 # the explanation copy: no hook, no gradient left
    assert hook_count(twin) == 0 and not any(p.requires_grad or p.grad is not None for p in twin.parameters())
    if A.REGISTRY[method].heavy:
        assert done and done[-1][0] == done[-1][1], done   # progress reaches 100 %


def test_integrated_gradients_steps_are_capped(digits, digit_x):
    calls = []
    A.explain("integrated_gradients", digits.model, digit_x, n_steps=10_000, progress=lambda d, t: calls.append(t))
    assert calls[-1] == -(-A.MAX_IG_STEPS // 8)


def test_flat_and_nan_maps_are_reported_not_painted():
    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.relu = nn.ReLU()
            self.fc = nn.Linear(2 * 8 * 8, 3)

        def forward(self, x):
            return self.fc(self.relu(self.conv(x * 0)).flatten(1))

    model = Constant().eval()
    for method in ("gradcam", "saliency", "occlusion"):
        exp = A.explain(method, model, torch.randn(1, 1, 8, 8), target=1, window=4, stride=4)
        assert exp.flat and not exp.map.any()
    norm, flat = A._normalize(np.full((4, 4), np.nan))   # a map of NaN (e.g. 0/0 gradients)
    assert flat and not norm.any()


def test_two_threads_explaining_one_shared_model(digits, digit_x):
    others = [digit_x.flip(-1), digit_x.flip(-2), digit_x]
    alone = [A.grad_cam(digits.model, x, target=3) for x in others]
    got = {}

    def work(i):
        for _ in range(4):
            got[i] = A.grad_cam(digits.model, others[i], target=3)
            digits.probabilities(others[(i + 1) % 3])  # plain forwards on the shared model meanwhile

    errors = run_in_threads(work, 3)
    assert not errors
    for i in range(3):
        np.testing.assert_allclose(got[i], alone[i], atol=1e-6)


def test_randomizing_all_layers_destroys_gradcam(digits, digit_x):
    steps = sanity.cascading_randomization(digits.model, digit_x, 3, ["gradcam", "guided_backprop"])
    assert [s.randomized for s in steps] == ["", "fc2", "fc1", "conv2", "conv1"]
    assert steps[0].rank_corr["gradcam"] == 1.0
    assert steps[-1].rank_corr["gradcam"] < 0.5
    # the shared model was not touched
    torch.testing.assert_close(digits.model.fc2.weight, models.load("digits").model.fc2.weight)


def test_spearman():
    a = np.arange(10.0)
    assert sanity.spearman(a, a * 3 + 1) == pytest.approx(1.0)
    assert sanity.spearman(a, -a) == pytest.approx(-1.0)


def test_deletion_and_insertion_curves(digits, digit_x):
    cam = A.grad_cam(digits.model, digit_x, target=3)
    deletion, insertion = faithfulness.deletion_insertion(digits.model, digit_x, cam, 3, steps=10)
    p0 = float(digits.probabilities(digit_x)[3])
    assert deletion.fractions[0] == 0 and deletion.fractions[-1] == 1
    assert deletion.probs[0] == pytest.approx(p0, rel=1e-5)       # nothing removed yet
    assert insertion.probs[-1] == pytest.approx(p0, rel=1e-5)      # everything added back
    assert 0 <= deletion.auc <= 1 and 0 <= insertion.auc <= 1
    assert insertion.auc > deletion.auc     # the map points at pixels the class needs


# the one softmax (cnnviz.maths.layers) gives what torch.softmax gave before, to 1e-6
def test_a_loaded_networks_probabilities_are_unchanged(digits, digit_x):
    ours = digits.probabilities(digit_x)
    torch.testing.assert_close(ours, torch.softmax(digits.model(digit_x), dim=1)[0].detach(), atol=1e-6, rtol=0)


def test_deletion_insertion_curves_are_unchanged(digits, digit_x, monkeypatch):
    cam = A.grad_cam(digits.model, digit_x, target=3)
    ours = faithfulness.deletion_insertion(digits.model, digit_x, cam, 3, steps=6)
    monkeypatch.setattr(faithfulness, "probabilities", lambda z, axis: torch.softmax(z, dim=axis))  # torch's
    before = faithfulness.deletion_insertion(digits.model, digit_x, cam, 3, steps=6)
    for a, b in zip(ours, before):
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-6)
        assert a.auc == pytest.approx(b.auc, abs=1e-6)


def test_localization_on_a_bigger_canvas():
    """Paste CIFAR test images into a 96x96 canvas: Grad-CAM's peak should fall inside."""
    if not (models.WEIGHTS_DIR / "tiny-rgb.safetensors").exists():
        pytest.skip("tiny-rgb weights not built (python -m cnnviz.train tiny-rgb)")
    from cnnviz import data

    if data.source("cifar10-subset") is None:      # the full subset, or the bundled sample on a fresh machine
        pytest.skip("neither the CIFAR-10 subset nor its bundled sample")
    tiny = models.load("tiny-rgb")
    ds = data.load_dataset("cifar10-subset", train=False)
    rng = np.random.default_rng(0)
    hits, trials = 0, 0
    for i in range(40):
        img, label = ds[i]
        probs = tiny.probabilities(tiny.preprocess(img))
        if int(probs.argmax()) != label:
            continue                      # only images the network gets right
        canvas = Image.fromarray(rng.integers(90, 166, (96, 96, 3), dtype=np.uint8))
        top, left = (int(v) for v in rng.integers(0, 96 - 32, 2))
        canvas.paste(img, (left, top))
        x = _normalize_full(tiny, canvas)     # the whole 96 x 96 canvas (preprocess would shrink it to 32 x 32)
        cam = A.grad_cam(tiny.model, x, target=label)
        r, c = np.unravel_index(np.argmax(cam), cam.shape)
        hits += top <= r < top + 32 and left <= c < left + 32
        trials += 1
    assert trials >= 10
    assert hits / trials >= 0.8, (hits, trials)


def _normalize_full(loaded, img):
    """The network's normalization at the picture's own size: Tiny VGG ends in a global pooling."""
    arr = torch.as_tensor(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
    mean = torch.tensor(loaded.mean).view(3, 1, 1)
    std = torch.tensor(loaded.std).view(3, 1, 1)
    return ((arr - mean) / std)[None]
