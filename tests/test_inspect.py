import threading

import numpy as np
import pytest
from app_helpers import run_in_threads

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch import nn  # noqa: E402

from cnnviz.analysis import inspect as insp  # noqa: E402
from cnnviz.models import DigitsCNN, TinyVGG  # noqa: E402


def hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


@pytest.fixture(scope="module")
def digits():
    torch.manual_seed(0)
    return DigitsCNN().eval()


def test_activation_order_and_shapes_match_the_forward(digits):
    acts = insp.activations(digits, torch.randn(1, 1, 28, 28))
    assert list(acts) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3",
                          "fc2", "output"]
    assert acts["conv1"].shape == (1, 32, 28, 28)
    assert acts["pool2"].shape == (1, 64, 7, 7)
    # the captured conv1 output is exactly conv1(x), and relu1 is its ReLU
    x = torch.randn(1, 1, 28, 28)
    acts = insp.activations(digits, x)
    torch.testing.assert_close(acts["conv1"], digits.conv1(x))
    torch.testing.assert_close(acts["relu1"], acts["conv1"].clamp(min=0))
    torch.testing.assert_close(acts["output"], digits(x))
    assert hook_count(digits) == 0


def test_resnet_blocks_are_named_and_in_order():
    model = torchvision.models.resnet18(weights=None).eval()
    acts = insp.activations(model, torch.randn(1, 3, 64, 64))
    names = list(acts)
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert names[4:12] == [f"layer{i}.{j}" for i in range(1, 5) for j in range(2)]
    assert names[-3:] == ["avgpool", "fc", "output"]
    # torchvision's ReLU is in-place: bn1 must still hold the negatives it produced
    assert (acts["bn1"] < 0).any() and (acts["relu"] >= 0).all()
    assert hook_count(model) == 0


def test_hooks_are_removed_after_an_exception_mid_forward(digits):
    with pytest.raises(RuntimeError):
        insp.activations(digits, torch.randn(1, 3, 28, 28))  # wrong channel count fails in conv1
    assert hook_count(digits) == 0

    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.relu = nn.ReLU()

        def forward(self, x):
            x = self.relu(self.conv(x))
            raise ValueError("mid-forward")

    boom = Boom().eval()
    with pytest.raises(ValueError):
        insp.activations(boom, torch.zeros(1, 1, 5, 5))
    assert hook_count(boom) == 0


def test_two_threads_on_one_shared_model_get_their_own_results():
    torch.manual_seed(1)
    model = TinyVGG().eval()
    inputs = [torch.randn(1, 3, 32, 32) for _ in range(4)]
    alone = [insp.activations(model, x) for x in inputs]
    results = {}
    barrier = threading.Barrier(4)

    def work(i):
        barrier.wait()
        for _ in range(5):  # overlap many forward passes
            results[i] = insp.activations(model, inputs[i])
            model(inputs[(i + 1) % 4])  # plain forwards from the same thread, not captured twice

    errors = run_in_threads(work, 4)
    assert not errors
    for i in range(4):
        assert list(results[i]) == list(alone[i])
        for name in alone[i]:
            torch.testing.assert_close(results[i][name], alone[i][name])
    assert hook_count(model) == 0


def test_summary(digits):
    rows = insp.summary(digits, (1, 28, 28))
    by = {r.name: r for r in rows}
    assert by["conv1"].shape == (32, 28, 28) and by["conv1"].params == 32 * 9 + 32
    assert by["conv1"].kernel == 3 and by["pool1"].stride == 2
    assert by["fc1"].shape == (128,) and not by["fc1"].is_map
    assert sum(r.params for r in rows) == sum(p.numel() for p in digits.parameters())


def test_filters_and_feeding_conv(digits):
    w = insp.conv_weight(digits, "conv2")
    assert w.shape == (64, 32, 3, 3)
    torch.testing.assert_close(w, digits.conv2.weight)
    assert insp.feeding_conv(digits, "pool1") == "conv1"
    assert insp.feeding_conv(digits, "relu2") == "conv2"
    assert insp.feeding_conv(digits, "conv1") == "conv1"
    with pytest.raises(KeyError):
        insp.conv_weight(digits, "fc1")


def test_filter_images_match_the_weights():
    w = torch.tensor([[[[1.0, -1.0], [0.0, 0.5]]] * 3])   # one RGB 2x2 filter, same in R, G, B
    img = insp.filter_images(w)
    assert img.shape == (1, 2, 2, 3)
    assert img[0, 0, 0].tolist() == [255, 255, 255]     # the largest weight is white
    assert img[0, 0, 1].tolist() == [0, 0, 0]           # the most negative is black
    assert img[0, 1, 0].tolist() == [128, 128, 128]     # zero is mid-grey
    grey = insp.filter_images(torch.randn(8, 4, 3, 3))
    assert grey.shape == (8, 4, 3, 3)


def test_rank_channels():
    maps = torch.zeros(3, 4, 4)
    maps[1] += 5
    maps[2, 0, 0] = 9
    assert insp.rank_channels(maps, "max") == [2, 1, 0]
    assert insp.rank_channels(maps, "mean")[0] == 1
    assert insp.to_numpy_maps(maps[None]).shape == (3, 4, 4)
    assert isinstance(insp.to_numpy_maps(maps), np.ndarray)


def test_top_images_point_at_the_real_maximum(digits):
    torch.manual_seed(3)
    x = torch.randn(300, 1, 28, 28)
    top = insp.top_images(digits, x, ["conv1", "pool2"], k=4, batch=128)
    for layer in ["conv1", "pool2"]:
        t = top[layer]
        for ch in (0, 5):
            img = int(t.images[ch, 0])
            amap = insp.activations(digits, x[img][None])[layer][0, ch]
            assert float(amap.max()) == pytest.approx(float(t.values[ch, 0]), rel=1e-5)
            r, c = t.where[ch, 0]
            assert float(amap[r, c]) == pytest.approx(float(amap.max()), rel=1e-5)
            # and no other image beats the first one
            every = insp.activations(digits, x)[layer][:, ch].flatten(1).max(dim=1).values
            assert int(every.argmax()) == img
    assert hook_count(digits) == 0


def test_stages_pick_the_last_layer_before_the_maps_shrink():
    shapes = {"conv1": (32, 28, 28), "relu1": (32, 28, 28), "pool1": (32, 14, 14), "conv2": (64, 14, 14),
              "relu2": (64, 14, 14), "pool2": (64, 7, 7)}
    assert insp.stages(shapes) == ["relu1", "relu2", "pool2"]
    model = torchvision.models.resnet18(weights=None).eval()
    acts = insp.activations(model, torch.zeros(1, 3, 64, 64))
    maps = {n: tuple(a.shape[1:]) for n, a in acts.items() if a.ndim == 4 and n != "avgpool"}
    assert insp.stages(maps) == ["relu", "layer1.1", "layer2.1", "layer3.1", "layer4.1"]


def test_channel_status_names_dead_and_tied_channels():
    assert insp.channel_status([3.2, 2.9, 1.0]) == "ok"
    assert insp.channel_status([0.0, 0.0, 0.0]) == "dead"          # never fires (0 after ReLU)
    assert insp.channel_status([-0.5, -0.7]) == "dead"            # a conv that is never positive
    assert insp.channel_status([3.31] * 7) == "tied"              # issue 10: seven identical 3.31
    assert insp.channel_status([3.36] + [3.31] * 7) == "tied"     # the strongest one alone doesn't hide it
    assert insp.tie([3.36] + [3.31] * 7) == (pytest.approx(3.31), 7)
    assert insp.channel_status([3.4, 3.31, 3.31, 3.2, 3.1, 3.0]) == "ok"   # two of six: a coincidence


def test_top_images_count_the_images_that_tie_with_the_top_value(digits):
    # 46 identical blank pictures and 4 with a square: a channel that the squares don't beat
    # ties on the blank ones (its top images are then an accident of their order)
    x = torch.zeros(50, 1, 28, 28)
    x[:4, 0, 10:18, 10:18] = torch.tensor([-3.0, -1.0, 1.0, 3.0]).view(4, 1, 1)
    top = insp.top_images(digits, x, ["conv1"], k=4)["conv1"]
    assert top.searched == 50
    full = insp.activations(digits, x)["conv1"].flatten(2).max(dim=2).values      # (50, C) peaks
    for ch in range(full.shape[1]):
        peaks = full[:, ch].sort(descending=True).values
        last = peaks[3]                                   # the weakest of the 4 shown
        assert int(top.reach[ch]) == int((full[:, ch] >= last - 1e-6 * max(1.0, abs(float(last)))).sum())
        expected = "dead" if peaks[0] <= 0 else "tied" if insp.tie(peaks[:4].numpy())[1] >= 2 else "ok"
        assert top.status(ch) == expected
    assert "ok" in {top.status(ch) for ch in range(full.shape[1])}
    blank = insp.top_images(digits, torch.zeros(20, 1, 28, 28), ["conv1"], k=4)["conv1"]
    assert (blank.reach == 20).all()
    assert {blank.status(ch) for ch in range(full.shape[1])} <= {"tied", "dead"}


def test_padded_patch_keeps_the_border_visible_instead_of_cutting_it():
    img = np.full((10, 12, 3), 255, np.uint8)          # a white picture
    patch, outside = insp.padded_patch(img, -2, -3, 5, target=50)
    assert patch.shape == (50, 50, 3)
    assert outside == pytest.approx(1 - (3 * 2) / 25)     # rows 0..2 and cols 0..1 of the picture are inside
    k = 10
    # the inside part is the picture itself (white) ...
    assert (patch[2 * k:, 3 * k:] == 255).all()
    # ... the outside is striped grey, never black (a black patch looked like a dark picture)
    out = patch[:2 * k, :]
    assert out.min() > 100 and len(np.unique(out)) == 2
    inside_only, none_out = insp.padded_patch(img, 2, 2, 5, target=50)
    assert none_out == 0.0 and (inside_only == 255).all()


def test_blocks_join_a_conv_with_its_batch_norm_and_relu():
    vgg = TinyVGG().eval()
    names = insp.layer_names(vgg)
    b = insp.blocks(vgg, names)
    assert b["conv1"] == b["bn1"] == b["relu1"] != b["conv2"]
    assert b["relu2"] != b["pool1"] != b["conv3"]
    assert len(set(b.values())) < len(names) / 2 + 1
    d = insp.blocks(DigitsCNN().eval(), insp.layer_names(DigitsCNN()))
    assert d["conv1"] == d["relu1"] and d["pool1"] != d["relu1"] and d["fc1"] == d["relu3"] != d["fc2"]


def test_map_layers_are_the_layers_that_output_maps(digits):
    layers = insp.map_layers(digits, torch.rand(3, 1, 28, 28))
    shapes = {n: a.shape for n, a in insp.activations(digits, torch.rand(1, 1, 28, 28)).items()}
    assert layers and all(len(shapes[n]) == 4 for n in layers)
    assert set(layers) == {n for n, s in shapes.items() if len(s) == 4 and n != "output"}
    assert "conv1" in layers and not any(n.startswith("fc") for n in layers)
    assert hook_count(digits) == 0


def test_a_bundled_networks_top_images_on_its_test_set():
    """Inside's top images: the first test images of the network's dataset, as shown (in [0, 1]),
    and every map layer's top images found on them once normalized (the network's input)."""
    from cnnviz import data, models

    loaded = models.load("digits")
    seen = []
    x, found = insp.dataset_top_images(loaded, "mnist", 60, k=4, progress=lambda done, n: seen.append((done, n)))
    shown, _ = data.first_test_images("mnist", 60)
    assert torch.equal(x, shown) and 0 <= float(x.min()) and float(x.max()) <= 1
    inputs = data.normalize(shown, loaded.mean, loaded.std)
    assert list(found) == insp.map_layers(loaded.model, inputs)
    expected = insp.top_images(loaded.model, inputs, list(found), k=4)
    for layer, top in found.items():
        assert top.searched == 60 and top.images.shape[1] == 4
        np.testing.assert_array_equal(top.images, expected[layer].images)
        np.testing.assert_allclose(top.values, expected[layer].values)
    assert seen[-1] == (60, 60)
