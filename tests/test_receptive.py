import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from cnnviz import inspect as insp  # noqa: E402
from cnnviz import receptive  # noqa: E402
from cnnviz.models import DigitsCNN  # noqa: E402


def test_vgg16_published_receptive_fields():
    vgg = torchvision.models.vgg16(weights=None).eval()
    names = insp.layer_names(vgg)
    f = receptive.fields(vgg, names)
    pretty = insp.display_names(vgg, names)
    by_pretty = {pretty[n]: f[n] for n in names}
    assert by_pretty["conv1_1"].size == 3
    assert by_pretty["conv1_2"].size == 5
    assert by_pretty["pool1"].size == 6
    assert by_pretty["conv5_3"].size == 196
    assert by_pretty["pool5"].size == 212
    assert by_pretty["pool5"].jump == 32


def test_digits_fields_and_boxes():
    model = DigitsCNN().eval()
    f = receptive.fields(model, insp.layer_names(model))
    assert f["conv1"].size == 3 and f["pool1"].size == 4 and f["conv2"].size == 8 and f["pool2"].size == 10
    assert f["fc1"].whole
    # unit (0, 0) of conv1 (padding 1) is centred on pixel (0, 0)
    assert f["conv1"].box(0, 0) == (-1, -1, 3)
    assert f["pool2"].jump == 4


def test_resnet18_main_path_ignores_the_shortcut():
    model = torchvision.models.resnet18(weights=None).eval()
    f = receptive.fields(model, insp.layer_names(model))
    # conv1 7x7/2 -> 7; maxpool 3x3/2 -> 11; layer1 (4 convs 3x3, jump 4) -> 43
    assert f["conv1"].size == 7 and f["maxpool"].size == 11
    assert f["layer1.1"].size == 43
    assert f["layer4.1"].jump == 32


def test_stack_matches_the_formula():
    rows = receptive.stack([("a", 3, 1, 1, 1), ("b", 3, 1, 1, 1), ("pool", 2, 2, 0, 1), ("c", 3, 1, 1, 2)])
    assert [r[1].size for r in rows] == [3, 5, 6, 14]


def test_effective_field_lives_inside_the_theoretical_one():
    torch.manual_seed(0)
    model = DigitsCNN().eval()
    x = torch.randn(1, 1, 28, 28)
    f = receptive.fields(model, insp.layer_names(model))
    grad, (r, c) = receptive.effective_field(model, x, "conv2")
    assert (r, c) == (7, 7) and grad.shape == (28, 28)
    top, left, size = f["conv2"].box(r, c)
    inside = np.zeros_like(grad, dtype=bool)
    inside[max(top, 0):top + size, max(left, 0):left + size] = True
    assert grad[~inside].max() == 0 and grad[inside].max() > 0      # nothing outside the 8 x 8 square
    assert sum(len(m._forward_hooks) for m in model.modules()) == 0
    assert all(p.grad is None for p in model.parameters())           # the weights were not touched
