"""The autoencoder lesson runs headless (AppTest): a test digit, generating, no data."""

import re

import app_helpers
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import data
from cnnviz.data import datasets
from cnnviz.i18n import t

PAGE = "lessons/autoencoder.py"


def open_lesson(lang: str) -> AppTest:
    return app_helpers.open_lesson(PAGE, lang)


def pictures(at: AppTest) -> list[str]:
    """The address of every picture on the page, in order. Streamlit names a picture by a hash of
    its bytes: another address is another picture."""
    return [img.url for element in at.get("image") for img in element.proto.imgs]


@pytest.mark.skipif(data.source("mnist") is None, reason="neither MNIST nor its bundled sample")
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_a_test_digit_goes_through_two_numbers_and_back(lang):
    at = open_lesson(lang)
    assert at.title[0].value == t("ae.title", lang)
    z = [m.value for m in at.metric]
    # its code: two numbers with two decimals, written the learner's way (0.53 / 0,53)
    number = r"-?\d+,\d\d" if lang == "pt_BR" else r"-?\d+\.\d\d"
    assert len(z) == 2 and all(re.fullmatch(number, v) for v in z), z
    # pictures: the digit, its reconstruction, the decoded slider point, the plane, 8 random draws
    before = pictures(at)
    assert len(before) == 4 + 8 and len(set(before[4:])) == 8          # the draws differ
    at.number_input(key="ae.index").set_value(7).run()
    assert not at.exception
    assert [m.value for m in at.metric] != z                 # another digit, another code...
    other = pictures(at)
    assert other[0] != before[0] and other[1] != before[1]   # ...another picture in and out
    # moving a slider decodes another point and moves the mark on the plane; the digit stays
    at.select_slider(key="ae.z1").set_value(-2.0).run()
    assert not at.exception
    moved = pictures(at)
    assert moved[:2] == other[:2] and moved[2] != other[2] and moved[3] != other[3]
    # new random draws around the same code
    at.button(key="ae.resample_btn").click().run()
    assert not at.exception
    again = pictures(at)
    assert again[:4] == moved[:4] and not set(again[4:]) & set(moved[4:])
    assert len(at.get("plotly_chart")) == 1                   # the latent space


def test_without_data_drawing_and_generating_still_work(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    monkeypatch.setattr(datasets, "has_sample", lambda name: False)     # not even the bundled sample
    at = open_lesson("pt_BR")
    assert any(i.value == t("ae.no_data", "pt_BR", folder=str(tmp_path)) for i in at.info)
    assert any(i.value == t("ae.draw_hint", "pt_BR") for i in at.info)
    before = pictures(at)                  # nothing drawn yet: the decoded point and the plane
    assert len(before) == 2
    at.select_slider(key="ae.z2").set_value(1.5).run()
    assert not at.exception
    after = pictures(at)
    assert after[0] != before[0] and after[1] != before[1]     # generating works without any data
    assert not at.get("plotly_chart")
