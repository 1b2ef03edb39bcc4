"""cnnviz.data: where datasets live, offline loaders, clear errors when data is missing."""

import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz import data
from cnnviz.data import DataError, data_root


def needs(name):
    return pytest.mark.skipif(not data.is_available(name),
                              reason=f"dataset {name} not in {data_root()} (see ../shared/data/README.md)")


def test_data_root_reads_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.delenv("CNNVIZ_DATA")
    root = data_root()
    assert root.parts[-2:] == ("shared", "data")
    assert root.parent.parent == Path(__file__).resolve().parents[2]   # ../shared/data beside the clone


def test_import_does_not_pull_torch():
    code = "import cnnviz, cnnviz.data, sys; cnnviz.data.data_root(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", ["mnist", "fashion", "cifar10-subset"])
def test_missing_dataset_says_what_and_where(tmp_path, name):
    with pytest.raises(DataError) as info:
        data.load_dataset(name, train=True, root=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / data.DATASETS[name].folder) in msg
    assert data.DATASETS[name].files[0] in msg
    assert "CNNVIZ_DATA" in msg
    assert info.value.message("pt_BR") != msg        # translated, same facts
    assert str(tmp_path) in info.value.message("pt_BR")


def test_unknown_dataset():
    with pytest.raises(DataError):
        data.load_dataset("imagenet", train=True)


@needs("mnist")
def test_mnist():
    train, test = data.load_dataset("mnist", train=True), data.load_dataset("mnist", train=False)
    assert (len(train), len(test)) == (60000, 10000)
    x, y = data.as_tensors(test, limit=5)
    assert x.shape == (5, 1, 28, 28) and y[0].item() == 7
    assert 0.0 <= x.min() and x.max() <= 1.0


@needs("fashion")
def test_fashion():
    test = data.tensor_dataset("fashion", train=False, limit=100)
    x, y = test[0]
    assert x.shape == (1, 28, 28) and y.item() == 9


@needs("cifar10-subset")
def test_cifar_subset():
    train = data.load_dataset("cifar10-subset", train=True)
    test = data.load_dataset("cifar10-subset", train=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert train.classes[6] == "frog" and train.targets[0] == 6 and test.targets[0] == 3
    x, _ = data.as_tensors(test, limit=2)
    assert x.shape == (2, 3, 32, 32)
    # normalized with the dataset statistics: roughly zero mean over many images
    xn = data.tensor_dataset("cifar10-subset", train=False).tensors[0]
    assert abs(xn.mean().item()) < 0.1
    assert data.cifar10_name() in ("cifar10", "cifar10-subset")


def test_synthetic_dataset():
    ds = data.synthetic_dataset(32, size=10, seed=1)
    x, y = ds.tensors
    assert x.shape == (32, 1, 10, 10) and set(y.tolist()) <= {0, 1}
    assert (data.synthetic_dataset(32, size=10, seed=1).tensors[0] == x).all()
