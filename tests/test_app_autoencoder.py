"""The autoencoder lesson runs headless (AppTest): a test digit, generating, no data."""

import app_helpers
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import data
from cnnviz.i18n import t

PAGE = "lessons/autoencoder.py"


def open_lesson(lang: str) -> AppTest:
    return app_helpers.open_lesson(PAGE, lang)


@pytest.mark.skipif(not data.is_available("mnist"), reason="MNIST not available")
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_a_test_digit_goes_through_two_numbers_and_back(lang):
    at = open_lesson(lang)
    assert at.title[0].value == t("ae.title", lang)
    z = [m.value for m in at.metric]
    assert len(z) == 2 and all(("," in v) == (lang == "pt_BR") for v in z if "." in v or "," in v)
    at.number_input(key="ae.index").set_value(7).run()
    assert not at.exception
    assert [m.value for m in at.metric] != z                 # another digit, another code
    # the sliders start at the digit's code; moving them decodes another point
    at.slider(key="ae.z1").set_value(-2.0).run()
    assert not at.exception
    assert at.slider(key="ae.z1").value == -2.0
    at.button(key="ae.resample_btn").click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1                   # the latent space


def test_without_data_drawing_and_generating_still_work(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = open_lesson("pt_BR")
    assert any(i.value == t("ae.no_data", "pt_BR", folder=str(tmp_path)) for i in at.info)
    assert any(i.value == t("ae.draw_hint", "pt_BR") for i in at.info)
    at.slider(key="ae.z2").set_value(1.5).run()
    assert not at.exception
    assert not at.get("plotly_chart")
