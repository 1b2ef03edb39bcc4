"""Your own architecture (cnnviz.models.builder, issue 19): the plan's shapes, weights and work
recomputed by torch, impossible shapes and bounds refused with a translated message, the link's and
the card's text read back (and refused when tampered with), and the full-MNIST recipe's wiring."""

import pytest
import torch
from torch import nn

from cnnviz.base.errors import CnnvizError
from cnnviz.models import builder
from cnnviz.models.builder import Architecture, ArchitectureError, Block

ARCHS = [
    ("c32k3p1m2bn-c64k3p1m2bn-f128", 1, 28),
    ("c8k5s2p2d20-c16k3p0m3bn-f64-f32-d50", 3, 32),
    ("c4k1p0-c6k7p3m2-c12k3s3p1bn-c16k2p0", 1, 28),
    (builder.FULL_MNIST.text(), 1, 28),
    ("c16k3p1m2bn", 3, 64),
]


def torch_shapes(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Every child's output shape (without the batch), seen by hooks during a real forward pass."""
    seen = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, tuple(o.shape[1:])))
             for n, m in model.named_children()]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


@pytest.mark.parametrize("text, channels, size", ARCHS)
def test_every_layer_shape_weights_and_work_match_torch(text, channels, size):
    arch = builder.parse(text)
    plan = builder.plan(arch, channels, size, 10)
    model = builder.build(arch, channels, size, 10, seed=0)
    shapes = torch_shapes(model, torch.rand(2, channels, size, size))
    modules = dict(model.named_children())
    assert [layer.name for layer in plan.layers] == list(modules)
    for layer in plan.layers:
        module = modules[layer.name]
        assert layer.kind == type(module).__name__
        assert layer.shape == shapes[layer.name], layer.name
        assert layer.weights == sum(p.numel() for p in module.parameters()), layer.name
        if isinstance(module, nn.Conv2d):      # each output is a sum of k*k*C_in products
            c_in, k = module.in_channels, module.kernel_size[0]
            assert layer.multiply_adds == torch.Size(shapes[layer.name]).numel() * k * k * c_in
        elif isinstance(module, nn.Linear):
            assert layer.multiply_adds == module.in_features * module.out_features
    assert plan.weights == sum(p.numel() for p in model.parameters())
    assert shapes[plan.head] == (10,)


def test_the_text_reads_back_and_names_every_choice():
    arch = Architecture((Block(16, 5, 2, 2, 1, False, 0.2), Block(8, 3, 1, 0, 3, True, 0.0)), (64, 32), 0.5)
    assert arch.text() == "c16k5s2p2d20-c8k3p0m3bn-f64-f32-d50"
    assert builder.parse(arch.text()) == arch
    for text, *_ in ARCHS:
        assert builder.parse(text).text() == text


@pytest.mark.parametrize("text", ["", "c32", "c32k3p1-f128-c32k3p1", "f128", "x", "c32k3p1-d50-f12",
                                  "c32k3p1 ; drop table", "c32k3p1-" * 40, "d50", "c32k3p1--f12"])
def test_a_tampered_text_is_a_clear_error(text):
    with pytest.raises(ArchitectureError) as err:
        builder.parse(text)
    assert err.value.key == "models.arch.bad_text"
    assert "c32k3p1m2bn" in err.value.message("en") and "camadas densas" in err.value.message("pt_BR")


@pytest.mark.parametrize("text, what", [("c0k3p1", "channels"), ("c129k3p1", "channels"), ("c8k9p1", "kernel"),
                                        ("c8k0p1", "kernel"), ("c8k3s4p1", "stride"), ("c8k3s0p1", "stride"),
                                        ("c8k3p4", "padding"), ("c8k3p1m4", "pool"), ("c8k3p1d95", "dropout"),
                                        ("c8k3p1-f0", "units"), ("c8k3p1-f513", "units"), ("c8k3p1-f8-d91", "dropout")])
def test_every_field_is_bounded(text, what):
    with pytest.raises(ArchitectureError) as err:
        builder.parse(text)
    assert err.value.key == "models.arch.out_of_range" and err.value.params["what"] == what


def test_too_many_blocks_or_dense_layers():
    with pytest.raises(ArchitectureError, match="between 1 and 5"):
        builder.parse("-".join(["c4k3p1"] * 6))
    with pytest.raises(ArchitectureError) as err:
        builder.parse("c4k3p1-f8-f8-f8-f8")
    assert err.value.key == "models.arch.dense"
    with pytest.raises(ArchitectureError):
        Architecture(blocks=()).check()
    with pytest.raises(ArchitectureError):       # not a whole number of channels
        Architecture(blocks=(Block(channels=3.5),)).check()


def test_a_map_below_one_pixel_is_refused_before_anything_is_built():
    # 28 -> conv 22 -> pool 7 -> conv 1 -> pool3 of a 1 x 1 map: impossible
    arch = builder.parse("c8k7p0m3-c8k7p0m3")
    with pytest.raises(ArchitectureError) as err:
        builder.plan(arch, 1, 28, 10)
    assert err.value.key == "models.arch.too_small"
    assert err.value.params["layer"] == "pool2" and (err.value.params["h"], err.value.params["w"]) == (1, 1)
    with pytest.raises(RuntimeError):            # torch agrees: the same layers fail on a real picture
        nn.Sequential(nn.Conv2d(1, 8, 7), nn.MaxPool2d(3), nn.Conv2d(8, 8, 7), nn.MaxPool2d(3))(torch.rand(1, 1, 28, 28))
    pt = err.value.message("pt_BR")
    assert "menor que 1 × 1" in pt and "pool2" in pt
    with pytest.raises(ArchitectureError) as err:   # a kernel bigger than the padded map, at a conv
        builder.plan(builder.parse("c8k3p0m3-c8k3p0m3-c8k3p0"), 1, 28, 10)
    assert err.value.params["layer"] == "conv3"
    with pytest.raises(ArchitectureError):
        builder.build(arch, 1, 28, 10)


def test_the_servers_caps():
    wide = builder.parse("c64k3p1-f512")           # no pooling: 64 x 28 x 28 = 50,176 inputs to 512 units
    with pytest.raises(ArchitectureError) as err:
        builder.plan(wide, 1, 28, 10)
    assert err.value.key == "models.arch.too_many_weights"
    n = sum(p.numel() for p in builder.build(wide, 1, 28, 10, caps=False).parameters())
    assert err.value.params["n"] == n == 25_696_394
    assert "25.696.394" in err.value.message("pt_BR") and "25,696,394" in err.value.message("en")
    heavy = builder.parse("c128k5p2-c128k3p1m2-c8k3p1m2")   # conv2: 128 x 9 products at 28 x 28 x 128 outputs
    with pytest.raises(ArchitectureError) as err:
        builder.plan(heavy, 1, 28, 10)
    assert err.value.key == "models.arch.too_much_work"
    assert err.value.params["n"] > builder.MAX_MULTIPLY_ADDS
    assert builder.plan(heavy, 1, 28, 10, caps=False).weights > 0


def test_errors_are_cnnviz_errors_in_both_languages():
    with pytest.raises(CnnvizError) as err:
        builder.parse("c8k3p4")
    assert "padding" in err.value.message("en") and "precisa estar entre 0 e 3" in err.value.message("pt_BR")
