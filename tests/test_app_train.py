"""The training lesson runs headless (AppTest): from scratch, transfer, fine-tuning, comparing, no data."""

import app_helpers
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import data
from cnnviz.data import datasets
from cnnviz.i18n import number, t

PAGE = "lessons/train.py"
# the learner's own pictures need no dataset: only the tests that train on one skip without it
needs_fashion = pytest.mark.skipif(not data.is_available("fashion"), reason=f"Fashion-MNIST not in {data.data_root()}")
needs_mnist = pytest.mark.skipif(not data.is_available("mnist"), reason=f"MNIST not in {data.data_root()}")


def open_lesson(lang: str) -> AppTest:
    return app_helpers.open_lesson(PAGE, lang)


def small(at: AppTest) -> None:
    at.select_slider(key="train.per_class").set_value(5)
    at.slider(key="train.epochs").set_value(2)
    at.run()


@pytest.mark.slow
@needs_fashion
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_train_from_scratch_then_transfer_then_fine_tune_and_compare(lang):
    at = open_lesson(lang)
    assert at.title[0].value == t("train.title", lang)
    small(at)
    at.button(key="train.go").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("train.frozen", lang)] == "0"
    assert metrics[t("train.epochs_run", lang)] == "2 / 2"
    # 2000 test images: the figure comes with its 95 % interval, and no warning
    run = at.session_state["train.runs"][-1]
    assert metrics[t("train.test_acc", lang)] == f"{number(100 * run.test_acc, lang, 1)} %"
    assert run.test_images == 2000
    low, high = run.test_interval
    assert low < run.test_acc < high and high - low < 0.05
    interval = next(c.value for c in at.caption if "2000" in c.value)     # 4 digits: not grouped (i18n.number)
    assert interval == t("train.interval", lang, n="2000", correct=number(run.test_correct, lang),
                         low=number(100 * low, lang, 0), high=number(100 * high, lang, 0))
    assert not at.warning

    at.session_state["train.strategy"] = "transfer"
    at.run()
    assert not at.exception
    frozen = {m.label: m.value for m in at.metric}[t("train.frozen", lang)]
    assert frozen != "0"    # the source's convolutions are frozen
    at.button(key="train.go").click().run()
    assert not at.exception

    at.session_state["train.strategy"] = "fine_tune"
    at.run()
    at.selectbox(key="train.train_from").set_value(at.selectbox(key="train.train_from").options[-1]).run()
    at.button(key="train.go").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    runs = at.session_state["train.runs"]
    assert len(runs) == 3 and list(table[t("train.col_run", lang)]) == [1, 2, 3]     # one row per run, in order
    strategies = list(table[t("train.col_strategy", lang)])
    assert strategies[0] == t("train.strategy.scratch", lang)
    assert strategies[1] == t("train.strategy.transfer", lang)
    assert strategies[2].startswith(t("train.strategy.fine_tune", lang))
    # each run's result: its test accuracy and the epochs it ran (the best one in brackets)
    assert list(table[t("train.col_test", lang)]) == [number(100 * r.test_acc, lang, 1) for r in runs]
    assert list(table[t("train.col_epochs", lang)]) == [f"{len(r.history)} ({r.best_epoch})" for r in runs]
    assert [len(r.history) for r in runs] == [2, 2, 2]

    at.button(key="train.clear").click().run()
    assert not at.exception
    assert any(c.value == t("train.not_trained", lang) for c in at.caption)


@needs_fashion
def test_colour_dataset_and_grey_source_adapt_the_images():
    if not data.is_available("cifar10-subset"):
        pytest.skip("CIFAR-10 subset not available")
    at = open_lesson("en")
    at.selectbox(key="train.dataset").set_value("cifar10-subset").run()
    at.session_state["train.strategy"] = "transfer"
    at.run()
    assert "tiny-rgb" not in at.selectbox(key="train.source").options   # trained on these very images
    captions = " ".join(c.value for c in at.caption)
    assert "3-channel 32 × 32 becomes 1-channel 28 × 28" in captions
    small(at)
    at.button(key="train.go").click().run()
    assert not at.exception


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_without_data_the_lesson_says_where_to_put_it(lang, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "has_sample", lambda name: False)     # not even the bundled samples
    at = open_lesson(lang)
    assert not at.exception
    assert at.warning[0].value == t("train.no_data", lang, folder=str(tmp_path))
    # the learner's own pictures still work without any dataset
    assert at.selectbox(key="train.dataset").options == [t("train.ds.own", lang)]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_with_only_the_bundled_samples_the_lesson_says_where_the_full_data_goes(lang, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = open_lesson(lang)
    assert not at.exception and not at.warning
    names = [t(f"train.ds.{d}", lang) for d in ("fashion", "mnist", "cifar10-subset")]
    assert at.selectbox(key="train.dataset").options == names + [t("train.ds.own", lang)]
    captions = [c.value for c in at.caption]
    assert t("train.some_missing", lang, names=", ".join(names), folder=str(tmp_path)) in captions
    assert t("train.from_sample", lang, name=names[0], n=data.SAMPLE_TRAIN_PER_CLASS) in captions


@needs_fashion
def test_once_the_full_dataset_is_there_it_replaces_the_bundled_sample(tmp_path, monkeypatch):
    # e.g. right after a download: the split must not stay the sample's (500 test images)
    full_root = data.data_root()
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = open_lesson("en")
    split_text = dict(train="160", val="40", classes=10)
    assert t("train.split", "en", test="500", **split_text) in [m.value for m in at.markdown]
    monkeypatch.setenv("CNNVIZ_DATA", str(full_root))
    at.run()
    assert not at.exception
    assert t("train.split", "en", test="2000", **split_text) in [m.value for m in at.markdown]
    assert not any("bundled sample" in c.value for c in at.caption)


@needs_mnist
def test_without_data_a_missing_dataset_can_be_downloaded(tmp_path, monkeypatch):
    import gzip
    import shutil

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = data.DOWNLOADS["mnist"][1]
    for file in files:
        with open(data.data_root() / "MNIST" / "raw" / file, "rb") as src, \
                gzip.open(mirror / f"{file}.gz", "wb", 1) as dst:
            shutil.copyfileobj(src, dst)
    monkeypatch.setitem(data.DOWNLOADS, "mnist", ((f"file://{mirror}/",), files, 11.6))
    monkeypatch.setitem(data.DOWNLOADS, "fashion", (("http://127.0.0.1:9/",), data.DOWNLOADS["fashion"][1], 30.2))
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path / "data"))
    at = open_lesson("pt_BR")
    assert at.expander[0].label == t("train.get_data", "pt_BR")
    # offline mirror: a message in the learner's language, the lesson keeps working
    at.button(key="train.download.fashion").click().run()
    assert not at.exception
    assert any(t("data.error.download_failed", "pt_BR", dataset="fashion", url="", folder="", detail="")[:20]
               in e.value for e in at.error)
    # a mirror that answers: the full dataset replaces its bundled sample (2.000 test images, not 500)
    at.selectbox(key="train.dataset").set_value("mnist").run()
    split_text = dict(train="160", val="40", classes=10)
    assert t("train.split", "pt_BR", test="500", **split_text) in [m.value for m in at.markdown]
    at.button(key="train.download.mnist").click().run()
    assert not at.exception
    assert (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()
    assert at.selectbox(key="train.dataset").value == "mnist"
    assert t("train.split", "pt_BR", test="2000", **split_text) in [m.value for m in at.markdown]


@needs_fashion
@pytest.mark.parametrize("page, heading", [("inside", "inside.title"), ("explain", "explain.title")])
def test_the_trained_network_opens_in_the_other_lessons(page, heading):
    from cnnviz import models, ui

    at = open_lesson("en")
    small(at)
    at.button(key="train.go").click().run()
    export = at.session_state["train.export"]
    assert export.card["architecture"] == "FashionCNN" and export.card["classes"][0] == "T-shirt/top"
    # the downloadable weights + card load through the same safe loader as an upload
    loaded = models.load_user_weights(export.weights, "x.safetensors", card=export.card)
    assert loaded.classes == export.card["classes"] and loaded.in_channels == 1
    at.button(key=f"train.train.open_{page}").click().run()
    assert not at.exception
    assert at.title[0].value == t(heading, "en")
    picker = at.selectbox(key="model")   # the model picker sits at the top of the lesson
    assert picker.value == ui.TRAINED
    label = t("models.trained_label", "en", name=export.card["name"])
    assert label in picker.options
    # clearing the runs removes it from the picker, and the picker falls back to a bundled model
    at.switch_page(PAGE).run()
    at.button(key="train.clear").click().run()
    at.switch_page({"inside": "lessons/inside_a_cnn.py", "explain": "lessons/explain.py"}[page]).run()
    assert not at.exception
    assert label not in at.selectbox(key="model").options


@needs_fashion
@needs_mnist
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_augmentation_preview_and_the_training_step_explained(lang):
    at = open_lesson(lang)
    small(at)
    at.toggle(key="train.augment").set_value(True).run()
    assert not at.exception
    assert any(c.value == t("train.augment_flip", lang, shift=2) for c in at.caption)   # clothes mirror
    at.select_slider(key="train.lr").set_value(3e-4).run()
    step = next(m.value for m in at.markdown if "AdamW" in m.value)
    assert ("0,0003" if lang == "pt_BR" else "0.0003") in step
    at.button(key="train.go").click().run()
    assert not at.exception
    assert at.session_state["train.export"].card["training"]["augment"] is True
    at.selectbox(key="train.dataset").set_value("mnist").run()
    assert any(c.value == t("train.augment_shift", lang, shift=2) for c in at.caption)     # digits don't


@pytest.mark.slow
@needs_fashion
def test_an_imagenet_network_is_a_source_once_its_weights_are_there(tmp_path, monkeypatch):
    # offline: random weights (weights=None) saved where torchvision keeps the real file
    import torch

    from cnnviz.models import zoo

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    at = open_lesson("en")
    at.session_state["train.strategy"] = "transfer"
    at.run()
    assert "ResNet-18" not in " ".join(at.selectbox(key="train.source").options)
    assert at.expander[-1].label == t("train.imagenet_title", "en") or any(
        e.label == t("train.imagenet_title", "en") for e in at.expander)
    status = zoo.zoo_status("resnet18")
    status.path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(zoo.build_zoo("resnet18").state_dict(), status.path)
    at.run()
    options = at.selectbox(key="train.source").options
    resnet = next(o for o in options if "ResNet-18" in o)
    at.selectbox(key="train.source").set_value("resnet18").run()
    assert not at.exception
    assert at.selectbox(key="train.source").value == "resnet18", resnet
    assert any("64 × 64" in c.value for c in at.caption)            # images adapted for the source
    small(at)
    at.button(key="train.go").click().run()
    assert not at.exception
    assert at.session_state["train.export"].card["architecture"] == "resnet18"


def _png(colour, seed) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(colour)[None, None] * 0.8 + rng.uniform(0, 50, (40, 60, 3)), 0, 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_your_own_pictures_teachable_machine_style(lang, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))      # works with no dataset at all
    at = open_lesson(lang)
    at.selectbox(key="train.dataset").set_value("own").run()
    assert not at.exception
    assert any(i.value == t("train.own_waiting", lang) for i in at.info)
    at.text_input(key="train.own_name.0").set_value("tomate").run()
    at.text_input(key="train.own_name.1").set_value("banana").run()
    at.file_uploader(key="train.own_files.0").set_value(
        [(f"t{i}.png", _png((230, 30, 30), i), "image/png") for i in range(6)] +
        [("broken.png", b"\x89PNG not really", "image/png")]).run()
    at.file_uploader(key="train.own_files.1").set_value(
        [(f"b{i}.png", _png((230, 220, 40), 10 + i), "image/png") for i in range(2)]).run()
    assert not at.exception
    assert any("broken.png" in w.value for w in at.warning)              # skipped, said so
    assert any(i.value == t("data.error.own_too_few", lang, name="banana", n=2) for i in at.info)
    at.file_uploader(key="train.own_files.1").set_value(
        [(f"b{i}.png", _png((230, 220, 40), 10 + i), "image/png") for i in range(6)]).run()
    assert not at.exception
    at.slider(key="train.epochs").set_value(3)
    at.button(key="train.go").click().run()
    assert not at.exception
    card = at.session_state["train.export"].card
    assert card["classes"] == ["tomate", "banana"] and card["architecture"] == "TinyVGG"
    assert at.dataframe[-1].value[t("train.col_dataset", lang)][0] == t("train.ds.own", lang)
    # the network opens in Inside a CNN with the learner's class names
    at.button(key="train.train.open_inside").click().run()
    assert not at.exception


# Wilson 95 % intervals of 0, 1 and 2 right out of 2, in whole percent (scipy.stats.binomtest agrees)
TWO_PICTURES = {0: ("0", "66"), 1: ("9", "91"), 2: ("34", "100")}


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_an_accuracy_on_two_test_pictures_says_how_little_it_means(lang, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = open_lesson(lang)
    at.selectbox(key="train.dataset").set_value("own").run()
    for i, colour in enumerate(((230, 30, 30), (30, 60, 230))):        # 3 pictures per class: 1 for the test
        at.file_uploader(key=f"train.own_files.{i}").set_value(
            [(f"{i}_{k}.png", _png(colour, 10 * i + k), "image/png") for k in range(3)]).run()
    at.slider(key="train.epochs").set_value(2)
    at.button(key="train.go").click().run()
    assert not at.exception
    run = at.session_state["train.runs"][-1]
    assert run.test_images == 2
    right = round(2 * run.test_acc)
    low, high = TWO_PICTURES[right]
    acc = {0: "0.0", 1: "50.0", 2: "100.0"}[right]
    warning = t("train.few_test", lang, n=2, correct=right, acc=acc.replace(".", "," if lang == "pt_BR" else "."),
                step="50", low=low, high=high, small=30, small_step="3,3" if lang == "pt_BR" else "3.3")
    assert warning in [w.value for w in at.warning]
    assert not [c.value for c in at.caption if "95 %" in c.value]      # the warning, not the calm caption
    # and in plain words: one picture is worth 50 points
    assert ("by 50 points" if lang == "en" else "em 50 pontos") in warning
    assert f"{right} {'of' if lang == 'en' else 'de'} 2" in warning
