"""The training lesson runs headless (AppTest): from scratch, transfer, fine-tuning, comparing, no data."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import data
from cnnviz.i18n import t

ROOT = Path(__file__).resolve().parent.parent
PAGE = "lessons/train.py"
pytestmark = pytest.mark.skipif(not data.is_available("fashion"), reason=f"Fashion-MNIST not in {data.data_root()}")


def open_lesson(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def small(at: AppTest) -> None:
    at.select_slider(key="train.per_class").set_value(5)
    at.slider(key="train.epochs").set_value(2)
    at.run()


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
    assert metrics[t("train.test_acc", lang)].endswith("%")

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
    assert len(table) == 3
    strategies = list(table[t("train.col_strategy", lang)])
    assert strategies[0] == t("train.strategy.scratch", lang)
    assert strategies[1] == t("train.strategy.transfer", lang)
    assert strategies[2].startswith(t("train.strategy.fine_tune", lang))

    at.button(key="train.clear").click().run()
    assert not at.exception
    assert any(c.value == t("train.not_trained", lang) for c in at.caption)


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
    at = open_lesson(lang)
    assert not at.exception
    assert str(tmp_path) in at.error[0].value
    assert at.error[0].value == t("train.no_data", lang, folder=str(tmp_path))
