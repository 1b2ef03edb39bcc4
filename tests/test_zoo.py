"""The ImageNet zoo: code paths offline (weights=None), the offline message, download with
progress and hash check (through a local file:// URL), loading from the hub cache."""

import hashlib
import socket
import urllib.request

import pytest
import torch
from PIL import Image

from cnnviz import models
from cnnviz.models import ModelError, zoo

ZOO = ["resnet18", "vgg16", "alexnet", "mobilenet_v3_large"]


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """A fresh, empty torch hub cache, and no network: any connection attempt fails the test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_network(*args, **kwargs):
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.mark.parametrize("name", ZOO)
def test_zoo_architectures_load_with_weights_none(name, empty_hub):
    m = models.load(name, pretrained=False)
    assert not m.model.training and m.source == "zoo"
    assert len(m.classes) == 1000 and m.classes[0] == "tench"
    assert m.input_size == (224, 224) and m.in_channels == 3
    assert m.card["pretrained"] is False and m.card["file"]["url"].startswith("https://")
    x = m.preprocess(Image.new("RGB", (300, 200), "gray"))
    assert x.shape == (1, 3, 224, 224)
    if name != "vgg16":   # vgg16's forward pass is slow on 2 cores; the others cover it
        with torch.no_grad():
            assert m.model(x).shape == (1, 1000)


@pytest.mark.parametrize("name", ZOO)
def test_offline_message_says_which_file_how_big_where_and_url(name, empty_hub):
    st = models.zoo_status(name)
    assert not st.cached and st.folder == empty_hub and st.size_mb > 1
    with pytest.raises(ModelError) as info:
        models.load(name)
    msg = str(info.value)
    assert info.value.key == "models.zoo_missing"
    for fact in (st.filename, f"{st.size_mb:.0f} MB", str(empty_hub), st.url):
        assert fact in msg
    pt = info.value.message("pt_BR")
    assert st.filename in pt and str(empty_hub) in pt and pt != msg
    # the bundled models keep working
    assert models.load("digits").name == "digits"


def fake_weights(tmp_path):
    """A small file plus a ZooStatus whose file name carries that file's sha256 prefix."""
    src = tmp_path / "src.bin"
    src.write_bytes(b"weights!" * 100_000)
    prefix = hashlib.sha256(src.read_bytes()).hexdigest()[:8]
    return src, prefix


def test_download_with_progress_and_hash_check(tmp_path, monkeypatch, empty_hub):
    src, prefix = fake_weights(tmp_path)
    real = zoo.zoo_status("resnet18")
    status = zoo.ZooStatus("resnet18", False, empty_hub / f"resnet18-{prefix}.pth", empty_hub,
                           f"resnet18-{prefix}.pth", 0.8, real.url)
    monkeypatch.setattr(zoo, "zoo_status", lambda name: status)
    calls = []
    path = zoo.download("resnet18", lambda done, total: calls.append((done, total)),
                        url=src.as_uri(), opener=urllib.request.build_opener().open, chunk=100_000)
    assert path == status.path and path.read_bytes() == src.read_bytes()
    assert calls[-1] == (800_000, 800_000) and len(calls) == 8
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert not list(empty_hub.glob("*.part"))


def test_download_refuses_a_corrupt_file(tmp_path, empty_hub):
    src, _ = fake_weights(tmp_path)   # its hash does not match torchvision's file name
    with pytest.raises(ModelError) as info:
        zoo.download("resnet18", url=src.as_uri(), opener=urllib.request.build_opener().open)
    assert info.value.key == "models.download_corrupt"
    assert not models.zoo_status("resnet18").cached
    assert not list(empty_hub.glob("*"))


def test_download_failure_says_where_to_put_the_file(tmp_path, empty_hub):
    with pytest.raises(ModelError) as info:
        zoo.download("alexnet", url=(tmp_path / "nope.pth").as_uri(),
                     opener=urllib.request.build_opener().open)
    assert info.value.key == "models.download_failed" and str(empty_hub) in str(info.value)


def test_pretrained_loads_from_the_hub_cache(empty_hub):
    # put "downloaded" weights where torchvision keeps them; load must use them, offline
    st = models.zoo_status("mobilenet_v3_large")
    torch.manual_seed(0)
    ref = zoo.build_zoo("mobilenet_v3_large").eval()
    empty_hub.mkdir(parents=True)
    torch.save(ref.state_dict(), st.path)
    assert models.zoo_status("mobilenet_v3_large").cached
    m = models.load("mobilenet_v3_large")
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(m.model(x), ref(x))
    assert m.card["metrics"]["acc@1"] > 70


def test_corrupt_cache_file(empty_hub):
    st = models.zoo_status("resnet18")
    empty_hub.mkdir(parents=True)
    st.path.write_bytes(b"truncated download")
    with pytest.raises(ModelError) as info:
        models.load("resnet18")
    assert info.value.key == "models.zoo_corrupt"


def test_user_weights_for_a_fine_tuned_zoo_architecture(empty_hub):
    # transfer learning: resnet18 with a new 3-class head, uploaded with its card
    torch.manual_seed(0)
    net = zoo.build_zoo("resnet18", num_classes=3).eval()
    card = {"architecture": "resnet18", "classes": ["cat", "dog", "fish"]}
    m = models.load_user_weights(models.to_safetensors(net), "pets.safetensors", card=card)
    assert m.arch == "resnet18" and m.classes == ["cat", "dog", "fish"] and m.input_size == (224, 224)
    x = m.preprocess(Image.new("RGB", (300, 300), "blue"))
    with torch.no_grad():
        assert torch.allclose(m.model(x), net(x))
    with pytest.raises(ModelError) as info:   # the head does not fit mobilenet
        models.load_user_weights(models.to_safetensors(net), "pets.safetensors",
                                 arch="mobilenet_v3_large")
    assert info.value.key == "models.user_wrong_arch"
