"""Bundled models: load offline, fast, small, accurate; preprocessing; safe user weights."""

import hashlib
import io
import json
import pathlib
import pickle

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from torch import nn

from cnnviz import data, models
from cnnviz.i18n import t
from cnnviz.models import ModelError, load, load_user_weights
from cnnviz.models.specs import BUNDLED

BUNDLED_NAMES = ["digits", "fashion", "tiny-rgb"]


def test_available_lists_bundled_first():
    names = models.available()
    assert names[:3] == BUNDLED_NAMES
    assert names[3:] == ["resnet18", "vgg16", "alexnet", "mobilenet_v3_large"]
    for name in names:   # every model has a label and a description in both languages
        for lang in ("en", "pt_BR"):
            assert models.label(name, lang) != f"models.name.{name}"
            assert models.description(name, lang) != f"models.description.{name}"


@pytest.fixture(scope="module", params=BUNDLED_NAMES)
def bundled(request):
    return load(request.param)


def test_bundled_is_small_and_matches_its_card(bundled):
    # how fast it loads, against reading the weights file alone: benchmarks/bench_limits.py
    name = bundled.name
    path = models.WEIGHTS_DIR / f"{name}.safetensors"
    assert path.stat().st_size < 5 * 1024 * 1024
    card = bundled.card
    assert card["file"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["params"] == bundled.num_params


def test_bundled_model_shape(bundled):
    spec = BUNDLED[bundled.name]
    assert not bundled.model.training
    assert bundled.classes == list(spec.classes) and len(bundled.classes) == 10
    assert bundled.input_size == spec.input_size and bundled.in_channels == spec.in_channels
    names = [n for n, _ in bundled.model.named_children()]
    assert names[:1] == ["conv1"] and "pool1" in names
    for m in bundled.model.modules():      # small enough to show every channel of every layer
        if isinstance(m, nn.Conv2d):
            assert m.out_channels <= 64
        if isinstance(m, nn.ReLU):
            assert not m.inplace
    x = torch.zeros(1, spec.in_channels, *spec.input_size)
    assert bundled.model(x).shape == (1, 10)


def test_bundled_card(bundled):
    card = bundled.card
    for key in ("architecture", "classes", "input_size", "normalization", "data", "training",
                "command", "metrics", "time", "params", "file", "limits"):
        assert key in card, key
    assert card["command"].startswith(f"python -m cnnviz.train {bundled.name}")
    assert card["time"]["seconds_per_epoch"] > 0
    assert card["training"]["seed"] == 0


def first_1000(name):
    spec = BUNDLED[name]
    if not data.is_available(spec.dataset):
        pytest.skip(f"dataset {spec.dataset} not in {data.data_root()} (see ../shared/data/README.md)")
    return data.tensor_dataset(spec.dataset, train=False, limit=1000).tensors


@pytest.mark.parametrize("name", BUNDLED_NAMES)
def test_accuracy_on_first_1000_test_images(name):
    x, y = first_1000(name)
    m = load(name)
    with torch.no_grad():
        acc = (m.model(x).argmax(1) == y).float().mean().item()
    assert acc >= BUNDLED[name].target_accuracy, f"{name}: {acc:.4f}"
    assert acc == pytest.approx(m.card["metrics"]["test_accuracy_first_1000"], abs=1e-4)


@pytest.mark.parametrize("name", ["digits", "fashion"])
def test_preprocess_of_dataset_images_keeps_them_recognizable(name):
    # the app's path (PIL -> preprocess) on real test images (the full set or the bundled sample)
    spec = BUNDLED[name]
    ds = data.load_dataset(spec.dataset, train=False)
    m = load(name)
    x = torch.cat([m.preprocess(ds[i][0].convert("RGB")) for i in range(300)])
    y = torch.tensor([ds[i][1] for i in range(300)])
    with torch.no_grad():
        acc = (m.model(x).argmax(1) == y).float().mean().item()
    assert acc >= (0.97 if name == "digits" else 0.90), acc


def test_tiny_rgb_preprocess_matches_training_normalization():
    ds = data.load_dataset("cifar10-subset", train=False)
    x = data.tensor_dataset("cifar10-subset", train=False, limit=1).tensors[0]
    m = load("tiny-rgb")
    assert torch.allclose(m.preprocess(ds[0][0]), x, atol=1e-5)


def draw_seven(size=300, mode="RGB", bg="white", ink="black"):
    img = Image.new(mode, (size, size), bg)
    d = ImageDraw.Draw(img)
    d.line([(80, 70), (220, 70), (130, 240)], fill=ink, width=24)
    return img


@pytest.mark.parametrize("kind", ["black_on_white", "white_on_black", "transparent_canvas", "grey_paper"])
def test_digits_preprocess_of_a_drawn_seven(kind):
    img = {
        "black_on_white": lambda: draw_seven(),
        "white_on_black": lambda: draw_seven(bg="black", ink="white"),
        "transparent_canvas": lambda: draw_seven(mode="RGBA", bg=(0, 0, 0, 0), ink=(255, 255, 255, 255)),
        "grey_paper": lambda: draw_seven(bg=(200, 195, 185), ink=(40, 40, 60)),
    }[kind]()
    x, view = models.digits_preprocess(img)
    assert x.shape == (1, 1, 28, 28) and view.size == (28, 28)
    # MNIST layout: the digit fits a 20x20 box and its centre of mass is near the centre
    left, top, right, bottom = view.getbbox()
    assert max(right - left, bottom - top) <= 20
    arr = torch.from_numpy(np.asarray(view, dtype=np.float32))
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    cy, cx = (ys * arr).sum() / arr.sum(), (xs * arr).sum() / arr.sum()
    assert abs(cy - 13.5) <= 1.0 and abs(cx - 13.5) <= 1.0
    m = load("digits")
    assert m.predict(img, top=1)[0][0] == 7


def test_digits_preprocess_of_a_blank_canvas():
    x, view = models.digits_preprocess(Image.new("RGB", (300, 300), "white"))
    assert view.getbbox() is None and x.shape == (1, 1, 28, 28)


def test_predict_and_translated_labels():
    m = load("fashion")
    top = m.predict(Image.new("RGB", (64, 64), "white"), top=3, lang="pt_BR")
    assert len(top) == 3 and top[0][2] >= top[1][2] >= top[2][2]
    assert m.class_label(0, "pt_BR") == "Camiseta" and m.class_label(0) == "T-shirt/top"
    assert load("tiny-rgb").class_labels("pt_BR")[9] == "caminhão"
    assert abs(sum(m.probabilities(Image.new("RGB", (10, 10))).tolist()) - 1) < 1e-5


def test_network_view_and_denormalize():
    m = load("tiny-rgb")
    img = Image.new("RGB", (320, 200), (200, 30, 30))
    view = m.network_view(img)
    assert view.size == (32, 32) and view.mode == "RGB"
    assert abs(view.getpixel((16, 16))[0] - 200) <= 1
    assert m.conv_layers()[0] == "conv1"
    assert m.model.conv1.weight.shape[1] == 3   # colour filters a learner can look at


def test_unknown_model():
    with pytest.raises(ModelError) as info:
        load("lenet")
    assert "digits" in str(info.value)


# ---------------------------------------------------------------- your own model

def state_bytes(model, fmt):
    if fmt == "safetensors":
        return models.to_safetensors(model)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
def test_user_weights_roundtrip(fmt):
    ref = load("digits")
    m = load_user_weights(state_bytes(ref.model, fmt), f"mine.{fmt}")
    assert m.arch == "DigitsCNN" and m.source == "user" and not m.model.training
    assert m.classes == ref.classes and m.name == "mine"
    img = draw_seven()
    assert torch.equal(m.model(m.preprocess(img)), ref.model(ref.preprocess(img)))


def test_user_weights_with_card_and_other_class_count():
    torch.manual_seed(0)
    net = models.TinyVGG(num_classes=3)
    card = {"name": "my pets", "architecture": "TinyVGG", "classes": ["cat", "dog", "fish"]}
    m = load_user_weights(state_bytes(net, "safetensors"), "pets.safetensors", card=card)
    assert m.classes == ["cat", "dog", "fish"] and m.class_label(2, "pt_BR") == "fish"
    assert m.name == "my pets" and m.model(m.preprocess(draw_seven())).shape == (1, 3)
    # the same weights without a card: the architecture is inferred, classes get numbers
    m2 = load_user_weights(state_bytes(net, "pt"), "pets.pth")
    assert m2.arch == "TinyVGG" and m2.classes == ["class 0", "class 1", "class 2"]


def test_user_weights_checkpoint_wrapper_and_card_json():
    buf = io.BytesIO()
    torch.save({"epoch": 3, "model_state_dict": load("fashion").model.state_dict()}, buf)
    card = models.read_card(json.dumps({"architecture": "FashionCNN"}).encode())
    assert load_user_weights(buf.getvalue(), "ckpt.pt", card=card).arch == "FashionCNN"
    with pytest.raises(ModelError):
        models.read_card(b"not json")


class Evil:
    """Unpickling this object writes a file: what a malicious .pt could do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.write_text, (pathlib.Path(self.path), "pwned"))


def test_the_malicious_payload_is_real(tmp_path):
    target = tmp_path / "proof.txt"
    pickle.loads(pickle.dumps(Evil(target)))
    assert target.read_text() == "pwned"


@pytest.mark.parametrize("container", ["torch.save", "raw_pickle"])
def test_malicious_pickle_is_refused_and_never_run(tmp_path, container):
    target = tmp_path / "pwned.txt"
    payload = {"conv1.weight": torch.zeros(1), "evil": Evil(target)}
    if container == "torch.save":
        buf = io.BytesIO()
        torch.save(payload, buf)
        blob = buf.getvalue()
    else:
        blob = pickle.dumps(payload)
    for name in ("weights.pt", "weights.pth"):
        with pytest.raises(ModelError) as info:
            load_user_weights(blob, name)
        # torch.save's zip: the safe unpickler refuses the object; a bare pickle is no torch file
        assert info.value.key == {"torch.save": "models.user_pickle_refused",
                                  "raw_pickle": "models.user_bad_file"}[container]
        assert not target.exists()


def test_pickled_whole_model_is_refused():
    buf = io.BytesIO()
    torch.save(load("digits").model, buf)   # a full nn.Module pickle, not a state dict
    with pytest.raises(ModelError) as info:
        load_user_weights(buf.getvalue(), "model.pt")
    assert info.value.key == "models.user_pickle_refused"
    assert "state_dict" in str(info.value)


@pytest.mark.parametrize("blob,name,key", [
    (b"\x00garbage" * 10, "w.safetensors", "models.user_bad_safetensors"),
    (b"\x00garbage" * 10, "w.pt", "models.user_bad_file"),
    (b"whatever", "w.h5", "models.user_bad_extension"),
    (b"whatever", "w", "models.user_bad_extension"),
    (b"\x00" * (50 * 1024 * 1024 + 1), "big.safetensors", "models.user_too_big"),
])
def test_bad_uploads_are_refused_with_an_actionable_message(blob, name, key):
    with pytest.raises(ModelError) as info:
        load_user_weights(blob, name)
    assert info.value.key == key
    assert "Traceback" not in str(info.value)
    assert info.value.message("pt_BR") != str(info.value)


def test_wrong_architecture_and_unknown_layers():
    blob = state_bytes(load("digits").model, "safetensors")
    with pytest.raises(ModelError) as info:
        load_user_weights(blob, "d.safetensors", arch="TinyVGG")
    assert info.value.key == "models.user_wrong_arch"
    with pytest.raises(ModelError) as info:
        load_user_weights(blob, "d.safetensors", arch="LeNet")
    assert info.value.key == "models.user_unknown_arch"
    other = models.to_safetensors(nn.Sequential(nn.Linear(3, 2)))
    with pytest.raises(ModelError) as info:
        load_user_weights(other, "other.safetensors")
    assert info.value.key == "models.user_no_arch"
    with pytest.raises(ModelError) as info:
        load_user_weights(blob, "d.safetensors", card={"classes": ["a", "b"]})
    assert info.value.key == "models.user_classes_count"


def test_catalog_parity_for_models():
    from cnnviz.i18n import catalog, placeholders

    en, pt = catalog("en"), catalog("pt_BR")
    keys_en = {k for k in en if k.startswith("models.")}
    keys_pt = {k for k in pt if k.startswith("models.")}
    assert keys_en == keys_pt
    for k in keys_en:
        assert placeholders(en[k]) == placeholders(pt[k]), k
    for name in BUNDLED_NAMES:
        for i in range(10):
            assert f"models.classes.{name}.{i}" in keys_en
    assert t("models.classes.fashion.9", "pt_BR") == "Bota de cano curto"
