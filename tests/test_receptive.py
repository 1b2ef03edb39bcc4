import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

from cnnviz.analysis import inspect as insp  # noqa: E402
from cnnviz.analysis import receptive  # noqa: E402
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


# ---------------------------------------------------------------- issue 17: fields at a given input size
# An independent measurement: the pixels whose gradient reaches one unit. ReLUs and max poolings
# gate the gradient (a max pooling passes it to one pixel of its window), so they are opened first:
# activations become the identity, a max pooling the average pooling of the same geometry. What
# is left is linear with random weights, and the gradient of a unit is nonzero on exactly the pixels
# it depends on. The adaptive poolings, convolutions, blocks and shortcuts are the network's own.

_GATES = (torch.nn.ReLU, torch.nn.ReLU6, torch.nn.Hardswish, torch.nn.Hardsigmoid, torch.nn.SiLU, torch.nn.GELU,
          torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.LeakyReLU)


def opened(model):
    import copy

    m = copy.deepcopy(model).eval()
    for parent in m.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, _GATES):
                setattr(parent, name, torch.nn.Identity())
            elif isinstance(child, torch.nn.MaxPool2d):
                assert child.dilation in (1, (1, 1))
                setattr(parent, name, torch.nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                         ceil_mode=child.ceil_mode))
    return m


def measured(model, size: int, in_channels: int, units: dict[str, list[tuple[int, int]]]):
    """{(layer, unit): boolean (H, W) mask of the input pixels whose gradient reaches that unit}."""
    torch.manual_seed(0)
    net = opened(model)
    x = torch.randn(1, in_channels, size, size, requires_grad=True)
    with torch.enable_grad(), insp.capture(net, list(units), detach=False) as store:
        net(x)
        out = {}
        for layer, where in units.items():
            y = store[layer]
            for r, c in where:
                unit = y[0, :, r, c] if y.ndim == 4 else y[0]
                weights = torch.rand(unit.shape) + 0.5          # no channel can cancel another
                (g,) = torch.autograd.grad((unit * weights).sum(), x, retain_graph=True)
                out[layer, (r, c)] = (g[0].abs().sum(0) > 0).numpy()
    return out


def rectangle(shape, top, left, height, width):
    mask = np.zeros(shape, dtype=bool)
    mask[top:top + height, left:left + width] = True
    return mask


def corners_and_centre(field):
    if field.rows is None:
        return [(0, 0)]
    n, m = len(field.rows), len(field.cols)
    return sorted({(0, 0), (n - 1, m - 1), (n // 2, m // 2), (0, m - 1)})


def check_against_gradients(model, size, in_channels, layers):
    """Every listed layer's field (at ``size``) is what the gradients show, unit by unit; "whole"
    exactly where every unit reaches every pixel."""
    f = receptive.fields(model, insp.layer_names(model), size)
    units = {n: corners_and_centre(f[n]) for n in layers}
    masks = measured(model, size, in_channels, units)
    for (layer, (r, c)), mask in masks.items():
        field = f[layer]
        assert np.array_equal(mask, rectangle(mask.shape, *field.seen(r, c))), (layer, (r, c), field.seen(r, c))
        if field.uniform and field.jump:          # the stated size is the arithmetic's: its box, inside the image
            top, left, s = field.box(r, c)
            assert np.array_equal(mask, rectangle(mask.shape, max(top, 0), max(left, 0),
                                                  s + min(top, 0), s + min(left, 0))), (layer, (r, c))
    for layer in layers:
        every = all(masks[layer, u].all() for u in units[layer])      # corners decide: fields grow with the index
        assert f[layer].whole == every, (layer, f[layer].whole)
    return f


@pytest.mark.slow
def test_vgg16_at_224_its_adaptive_pool_is_the_identity_not_the_whole_image():
    vgg = torchvision.models.vgg16(weights=None)
    pretty = insp.display_names(vgg, insp.layer_names(vgg))
    by = {pretty[n]: n for n in pretty}
    f = check_against_gradients(vgg, 224, 3, [by["conv1_2"], by["pool3"], by["pool5"], "avgpool", "classifier.0"])
    assert f["avgpool"].size == f[by["pool5"]].size == 212 and f["avgpool"].jump == 32
    assert not f["avgpool"].whole and not f[by["pool5"]].whole
    assert f["avgpool"].seen(3, 3) == (6, 6, 212, 212)      # the centre unit: 212 x 212 pixels of the 224 x 224
    assert f["classifier.0"].whole                            # the first fully connected layer: every pixel


def test_alexnet_at_224_its_adaptive_pool_is_the_identity_not_the_whole_image():
    alex = torchvision.models.alexnet(weights=None)
    names = insp.layer_names(alex)
    f = check_against_gradients(alex, 224, 3, ["features.2", "features.12", "avgpool", "classifier.1"])
    assert f["avgpool"].size == f["features.12"].size == 195 and f["avgpool"].jump == 32
    assert not f["avgpool"].whole and f["classifier.1"].whole
    # 195 rows each, padding included: unit 3 spans rows 30-224 of 0-223, so no unit sees the whole height
    assert [f["avgpool"].seen(r, r)[2] for r in range(6)] == [129, 161, 193, 194, 162, 130]
    assert receptive.fields(alex, names, 224)["avgpool"].uniform


def test_alexnet_at_256_non_uniform_bins_give_the_widest_and_each_unit_its_own():
    """At 256 px pool5 is 7 x 7 and AdaptiveAvgPool2d((6, 6)) has bins of 2 overlapping units."""
    alex = torchvision.models.alexnet(weights=None)
    f = check_against_gradients(alex, 256, 3, ["avgpool", "classifier.1"])
    a = f["avgpool"]
    assert len(a.rows) == 6 and not a.uniform and not a.whole
    assert a.size == 195 + 32                                 # two units of pool5, 32 px apart
    assert max(b - t + 1 for t, b in a.rows) <= a.size


def test_global_average_pooling_sees_the_whole_image_resnet18():
    model = torchvision.models.resnet18(weights=None)
    f = check_against_gradients(model, 224, 3, ["maxpool", "layer2.1", "layer4.1", "avgpool"])
    assert f["layer4.1"].size == 435 and not f["layer4.1"].whole   # wider than the image, yet a corner unit misses pixels
    assert f["avgpool"].whole


def test_mobilenet_squeeze_excitation_reaches_every_pixel():
    """MobileNetV3's squeeze-and-excitation scales each channel by a number made from the whole map."""
    model = torchvision.models.mobilenet_v3_large(weights=None)
    f = check_against_gradients(model, 224, 3, ["features.3", "features.4", "features.6"])
    assert not f["features.3"].whole and f["features.4"].whole


@pytest.mark.parametrize("arch, size, channels", [("DigitsCNN", 28, 1), ("FashionCNN", 28, 1), ("TinyVGG", 32, 3)])
def test_bundled_networks_fields_match_gradients(arch, size, channels):
    from cnnviz.models import archs

    model = getattr(archs, arch)()
    names = insp.layer_names(model)
    f = check_against_gradients(model, size, channels,
                                [n for n in names if n.startswith(("conv", "pool", "gap", "fc"))])
    assert [n for n in names if f[n].whole] == names[names.index(next(n for n in names if f[n].whole)):]


def test_fields_without_a_size_keep_the_arithmetic():
    vgg = torchvision.models.vgg16(weights=None)
    names = insp.layer_names(vgg)
    with_size, without = receptive.fields(vgg, names, 224), receptive.fields(vgg, names)
    assert [with_size[n].size for n in names[:31]] == [without[n].size for n in names[:31]]


def test_alexnet_and_vgg_layers_are_named_after_their_own_structure():
    alex = torchvision.models.alexnet(weights=None)
    names = insp.layer_names(alex)
    pretty = insp.display_names(alex, names)
    assert [pretty[n] for n in names[:13]] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3",
                                                "conv4", "relu4", "conv5", "relu5", "pool5"]
    vgg = torchvision.models.vgg16(weights=None)
    shown = list(insp.display_names(vgg, insp.layer_names(vgg)).values())
    assert shown[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"] and shown[28:31] == ["conv5_3", "relu5_3", "pool5"]
    resnet = torchvision.models.resnet18(weights=None)   # torchvision's own names, the paper's stages
    assert list(insp.display_names(resnet, insp.layer_names(resnet)).values()) == insp.layer_names(resnet)
    from cnnviz.models import archs

    for model in (archs.DigitsCNN(), archs.FashionCNN(), archs.TinyVGG()):     # named in their own code
        names = insp.layer_names(model)
        assert list(insp.display_names(model, names).values()) == names


def test_stack_output_size_goes_layer_by_layer():
    from cnnviz.base.errors import CnnvizError

    # conv 3x3 (padding 1) keeps the size, pool 2x2 stride 2 halves it: the lesson's default stack
    stack = [("conv1", 3, 1, 1, 1), ("conv2", 3, 1, 1, 1), ("pool1", 2, 2, 0, 1), ("conv3", 3, 1, 1, 1),
             ("conv4", 3, 1, 1, 1), ("pool2", 2, 2, 0, 1), ("conv5", 3, 1, 1, 1)]
    assert receptive.stack_output_size(stack, (128, 96)) == (32, 24)
    assert receptive.stack_output_size([("conv1", 5, 2, 0, 2)], (20, 11)) == (6, 2)    # span 9: (20-9)//2+1, (11-9)//2+1
    with pytest.raises(CnnvizError):                                                   # a 9-pixel span on 8 pixels
        receptive.stack_output_size([("conv1", 5, 1, 0, 2)], (8, 30))


def test_stack_output_size_is_what_torch_layers_give():
    """Recomputed by torch: the same stack as Conv2d / MaxPool2d layers on a blank picture."""
    import torch

    stack = [("conv1", 3, 1, 1, 1), ("conv2", 5, 2, 2, 2), ("pool1", 2, 2, 0, 1), ("conv3", 3, 1, 0, 1)]
    layers_ = [torch.nn.MaxPool2d(k, s, p, dilation=d) if name.startswith("pool")
               else torch.nn.Conv2d(1, 1, k, s, p, dilation=d) for name, k, s, p, d in stack]
    with torch.no_grad():
        out = torch.nn.Sequential(*layers_)(torch.zeros(1, 1, 77, 50))
    assert receptive.stack_output_size(stack, (77, 50)) == tuple(out.shape[-2:])
