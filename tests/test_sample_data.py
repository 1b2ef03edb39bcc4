"""The bundled teaching sample (assets/data) and what works with it on a fresh machine:
the test-set fallback, example pictures, small trainings, and the models' app-path accuracy."""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import data
from cnnviz.data import datasets
from cnnviz.data import DataError
from cnnviz.models import bundled, load
from cnnviz.models.specs import BUNDLED

SAMPLED = ["mnist", "fashion", "cifar10-subset"]
SHAPE = {"mnist": (28, 28), "fashion": (28, 28), "cifar10-subset": (32, 32, 3)}
# first test image of each dataset (../shared/data/README.md): MNIST a 7, Fashion an ankle boot, CIFAR a cat
FIRST_LABEL = {"mnist": 7, "fashion": 9, "cifar10-subset": 3}
CIFAR_COUNTS = [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]   # the subset's whole test split


def needs_full(name):
    return pytest.mark.skipif(not data.is_available(name), reason=f"{name} not in {data.data_root()}")


@pytest.fixture
def fresh_machine(monkeypatch, tmp_path):
    """No datasets in the data root: what a new laptop or Streamlit Community Cloud has."""
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path / "empty"))


def read(name):
    with np.load(data.sample_path(name)) as z:
        return {k: z[k] for k in z.files}


# ------------------------------------------------------------------ the files
@pytest.mark.parametrize("name", SAMPLED)
def test_sample_file_holds_1000_labelled_test_images(name):
    z = read(name)
    assert set(z) == {"images", "labels", "index"}
    assert z["images"].shape == (1000, *SHAPE[name]) and z["images"].dtype == np.uint8
    assert z["labels"].shape == (1000,) and set(np.unique(z["labels"])) == set(range(10))
    assert (np.diff(z["index"]) > 0).all()            # test-set order, no image twice
    counts = np.bincount(z["labels"], minlength=10).tolist()
    assert counts == ([100] * 10 if name != "cifar10-subset" else CIFAR_COUNTS)
    assert z["labels"][0] == FIRST_LABEL[name] and z["index"][0] == 0
    assert z["images"].std() > 20                      # real pictures, not blank


def test_samples_are_small():
    total = sum(data.sample_path(n).stat().st_size for n in SAMPLED)
    assert total < 3_000_000, total


def test_sample_readme_gives_licences_and_the_command():
    text = (data.SAMPLE_DIR / "README.md").read_text()
    for needed in ("CC BY-SA 3.0", "MIT", "Krizhevsky", "python tools/make_data_sample.py"):
        assert needed in text
    for name in SAMPLED:   # the sizes and checksums it states are the files' own
        blob = data.sample_path(name).read_bytes()
        assert hashlib.sha256(blob).hexdigest() in text and f"{len(blob):,}" in text


@pytest.mark.parametrize("name", SAMPLED)
def test_sample_is_the_full_test_sets_images(name):
    if not data.is_available(name):
        pytest.skip(f"{name} not in {data.data_root()}")
    full = data.load_dataset(name, train=False, full=True)
    z = read(name)
    images, labels = np.asarray(full.data), np.asarray(full.targets)
    assert (images[z["index"]] == z["images"]).all() and (labels[z["index"]] == z["labels"]).all()
    if name == "cifar10-subset":
        assert z["index"].tolist() == list(range(1000))
    else:   # the first 100 of each class, so the sample starts with the test set's first images
        expected = np.sort(np.concatenate([np.flatnonzero(labels == c)[:100] for c in range(10)]))
        assert (z["index"] == expected).all()
        first = int(np.flatnonzero(np.diff(z["index"]) > 1)[0]) + 1   # length of the common start
        assert first > 100 and (labels[:first] == z["labels"][:first]).all()


@needs_full("mnist")
def test_make_data_sample_rebuilds_the_same_bytes():
    sys.path.insert(0, str(data.REPO / "tools"))
    import make_data_sample

    for name in SAMPLED:
        if data.is_available(name):
            blob, facts = make_data_sample.build(name)
            assert blob == data.sample_path(name).read_bytes(), name
            assert facts["n"] == 1000


# ------------------------------------------------------------------ fallback on a fresh machine
@pytest.mark.parametrize("name", SAMPLED)
def test_test_set_falls_back_on_the_sample(fresh_machine, name):
    assert not data.is_available(name) and data.source(name) == "sample"
    test = data.load_dataset(name, train=False)
    assert len(test) == 1000 and test.targets[0] == FIRST_LABEL[name]
    img, label = test[0]
    assert img.size == SHAPE[name][:2][::-1] and label == FIRST_LABEL[name]
    x, y = data.tensor_dataset(name, train=False).tensors
    assert x.shape[0] == 1000 and x.shape[1] == (3 if name.startswith("cifar") else 1)
    assert y.tolist() == test.targets
    assert test.classes == list(BUNDLED[next(m for m, s in BUNDLED.items() if s.dataset == name)].classes)
    with pytest.raises(DataError):                      # no training images in the sample
        data.load_dataset(name, train=True)
    with pytest.raises(DataError):                      # the full set, explicitly
        data.load_dataset(name, train=False, full=True)


def test_full_cifar10_name_uses_the_subset_sample(fresh_machine):
    assert data.cifar10_name() == "cifar10-subset"
    assert data.source("cifar10") == "sample" and len(data.load_dataset("cifar10", train=False)) == 1000


def test_source_says_full_or_none(monkeypatch, tmp_path):
    if data.is_available("mnist"):
        assert data.source("mnist") == "full"
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "SAMPLE_DIR", tmp_path / "no-samples")
    assert data.source("mnist") is None
    with pytest.raises(DataError) as info:
        data.load_dataset("mnist", train=False)
    assert "t10k-images-idx3-ubyte" in str(info.value)   # the usual 'missing files' message


def test_damaged_sample_is_a_learner_error(monkeypatch, tmp_path):
    (tmp_path / "mnist-sample.npz").write_bytes(b"not a zip")
    monkeypatch.setattr(datasets, "SAMPLE_DIR", tmp_path)
    monkeypatch.setattr(datasets, "_SAMPLES", {})
    with pytest.raises(DataError) as info:
        data.load_sample("mnist")
    assert "make_data_sample" in str(info.value) and "make_data_sample" in info.value.message("pt_BR")


# ------------------------------------------------------------------ example pictures
@pytest.mark.parametrize("name", SAMPLED)
def test_example_image_is_a_native_size_rgb_test_picture(name):
    img = data.example_image(name)
    assert isinstance(img, Image.Image) and img.mode == "RGB"
    assert img.size == SHAPE[name][:2][::-1]
    assert data.example_label(name) == FIRST_LABEL[name]
    z = read(name)
    arr = np.asarray(data.example_image(name, 7))
    expected = z["images"][7] if z["images"].ndim == 4 else np.repeat(z["images"][7][..., None], 3, axis=2)
    assert (arr == expected).all() and data.example_label(name, 7) == z["labels"][7]
    with pytest.raises(IndexError):
        data.example_image(name, 1000)


def test_example_image_is_the_same_with_or_without_the_full_dataset(monkeypatch, tmp_path):
    with_data = [np.asarray(data.example_image("fashion", i)) for i in (0, 500)]
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    assert all((np.asarray(data.example_image("fashion", i)) == a).all() for i, a in zip((0, 500), with_data))


def test_dataset_for_model_reuses_the_specs():
    assert [data.dataset_for_model(m) for m in ("digits", "fashion", "tiny-rgb")] == \
        ["mnist", "fashion", "cifar10-subset"]
    assert data.dataset_for_model("resnet18") is None


# ------------------------------------------------------------------ small trainings on the sample
def _rows(x):
    return {hashlib.sha1(row.numpy().tobytes()).hexdigest() for row in x}


@pytest.mark.parametrize("name", ["mnist", "cifar10-subset"])
def test_few_shot_on_the_sample_splits_it_honestly(fresh_machine, name):
    split = data.few_shot(name, 50, seed=3)
    assert split.source == "sample" and split.num_classes == 10
    assert torch.bincount(split.train_y).tolist() == [40] * 10
    assert torch.bincount(split.val_y).tolist() == [10] * 10
    assert len(split.test_y) == 500                     # the other half of the sample
    train, val, test = _rows(split.train_x), _rows(split.val_x), _rows(split.test_x)
    assert not (train & val) and not (train & test) and not (val & test)
    again = data.few_shot(name, 50, seed=3)
    assert torch.equal(again.train_x, split.train_x)
    other = data.few_shot(name, 20, seed=4, test_limit=100)
    assert len(other.train_y) == 160 and torch.equal(other.test_y, split.test_y[:100])


def test_few_shot_asks_for_more_than_the_sample_has(fresh_machine):
    with pytest.raises(DataError) as info:
        data.few_shot("fashion", 100)
    assert info.value.key == "data.error.sample_not_enough"
    assert "50" in str(info.value) and "100" in str(info.value)
    assert "50" in info.value.message("pt_BR") and info.value.message("pt_BR") != str(info.value)


@needs_full("fashion")
def test_few_shot_uses_the_full_dataset_when_it_is_there():
    split = data.few_shot("fashion", 100, seed=0, test_limit=50)
    assert split.source == "full" and len(split.train_y) == 800 and len(split.test_y) == 50


# ------------------------------------------------------------------ preprocessing: native pictures pass through
@pytest.mark.parametrize("model, name", [("digits", "mnist"), ("fashion", "fashion"), ("tiny-rgb", "cifar10-subset")])
def test_a_dataset_picture_passes_through_preprocess_unchanged(fresh_machine, model, name):
    m = load(model)
    test = data.load_dataset(name, train=False)
    direct = data.tensor_dataset(name, train=False, limit=50).tensors[0]
    for i in range(50):
        img = test[i][0]
        for picture in (img, img.convert("RGB")):        # as stored, and as the app loads it
            assert torch.allclose(m.preprocess(picture)[0], direct[i], atol=1e-6), (model, i)


def test_fashion_keeps_its_polarity_light_item_on_black():
    m = load("fashion")
    img = data.example_image("fashion")                 # an ankle boot, light on black
    view = np.asarray(m.network_view(img))
    assert (view == np.asarray(img.convert("L"))).all()
    assert view[0].mean() < 30 and view.max() > 200


def test_other_pictures_still_get_the_mnist_recipe():
    m = load("digits")
    seven = np.asarray(data.example_image("mnist").convert("L"))
    # the same digit dark on light paper: inverted, not passed through
    paper = Image.fromarray(255 - seven).convert("RGB")
    assert m.predict(paper, top=1)[0][0] == 7
    view = np.asarray(m.network_view(paper))
    assert view[0].mean() < 30 and view.max() > 200
    # a coloured 28x28 picture is not in MNIST's format either
    tinted = np.stack([seven, seven // 2, seven // 3], axis=2).astype(np.uint8)
    assert not torch.allclose(m.preprocess(Image.fromarray(tinted)), m.preprocess(Image.fromarray(seven)))
    # a 56x56 digit is cropped and refitted to 20x20 in 28x28
    big = Image.fromarray(seven).resize((56, 56))
    assert m.network_view(big).size == (28, 28) and m.predict(big, top=1)[0][0] == 7


# ------------------------------------------------------------------ the cards' accuracy, through the app's path
BOUND = {"digits": 0.98, "fashion": 0.93, "tiny-rgb": 0.70}   # the crop-and-refit gave fashion 0.921 here


@pytest.mark.parametrize("name", list(BUNDLED))
def test_app_path_accuracy_on_the_bundled_sample_matches_the_card(fresh_machine, name):
    m = load(name)
    correct, total = bundled.app_path_accuracy(m, data.load_dataset(BUNDLED[name].dataset, train=False))
    assert total == 1000
    assert correct / total >= BOUND[name], f"{name}: {correct / total:.3f}"
    assert correct / total == pytest.approx(m.card["metrics"]["test_accuracy_sample"], abs=1e-6)


@pytest.mark.parametrize("name", list(BUNDLED))
def test_cards_headline_accuracy_is_the_app_path(name):
    card = json.loads((bundled.WEIGHTS_DIR / f"{name}.json").read_text())
    metrics = card["metrics"]
    assert metrics["test_path"] == bundled.APP_PATH
    assert metrics["test_accuracy"] >= BUNDLED[name].target_accuracy
    assert "test_accuracy_tensor_path" in metrics


def test_write_measures_keeps_the_tensor_path_number_labelled():
    card = {"metrics": {"best_val_accuracy": 0.9, "test_accuracy": 0.93, "target_accuracy": 0.9}}
    out = bundled.write_measures(card, {"test_path": bundled.APP_PATH, "test_accuracy": 0.89,
                                        "test_accuracy_sample": 0.91})
    assert out["metrics"]["test_accuracy"] == 0.89 and out["metrics"]["test_accuracy_tensor_path"] == 0.93
    assert out["metrics"]["test_accuracy_sample"] == 0.91 and card["metrics"]["test_accuracy"] == 0.93
    again = bundled.write_measures(out, {"test_accuracy": 0.90})   # measured again: tensor number stays
    assert again["metrics"]["test_accuracy_tensor_path"] == 0.93 and again["metrics"]["test_accuracy"] == 0.90


# ------------------------------------------------------------------ the Train lesson on a fresh machine
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_train_lesson_trains_on_the_sample_without_datasets(fresh_machine, lang):
    import app_helpers
    import streamlit as st

    from cnnviz.i18n import t

    st.cache_resource.clear()      # the lesson caches its splits: no full-dataset split from another test
    at = app_helpers.open_lesson("lessons/train.py", lang)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="train.dataset").options[:3] == [t(f"train.ds.{d}", lang)
                                                             for d in ("fashion", "mnist", "cifar10-subset")]
    note = t("train.from_sample", lang, name=t("train.ds.fashion", lang), n=50)
    assert note in [c.value for c in at.caption]
    at.select_slider(key="train.per_class").set_value(5)
    at.slider(key="train.epochs").set_value(1)
    at.button(key="train.go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["train.runs"][-1].test_images == 500
    at.select_slider(key="train.per_class").set_value(100).run()   # more than the sample holds: said clearly
    assert any("50" in e.value and "100" in e.value for e in at.error)
