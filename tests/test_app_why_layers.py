"""AppTest for "Why convolution?" and "The other layers": defaults, bad input, the course's numbers."""

import pytest
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest

from cnnviz.i18n import t


def open_page(path, lang="en") -> AppTest:
    return open_lesson(path, lang)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_why_shows_the_course_numbers(lang):
    at = open_page("lessons/why_convolution.py", lang)
    text = " ".join(m.value for m in at.markdown)
    big, gb, rgb = ("4,294,967,296", "17.2 GB", "196,608") if lang == "en" else ("4.294.967.296", "17,2 GB", "196.608")
    assert big in text and gb in text and rgb in text
    assert "**12**" in text and "**75**" in text
    assert at.metric[0].label == "MLP"


@pytest.mark.parametrize("text, culprit", [("abc", '"abc"'), ("16, -3", '"-3"'), ("0", "0 "), ("", "Digite"),
                                           ("16,,x", '"x"')])
def test_why_bad_layer_lists_are_explained(text, culprit):
    at = open_page("lessons/why_convolution.py", "pt_BR")
    at.text_input(key="why.convs").input(text).run()
    assert not at.exception
    # one message, in Portuguese, naming what is wrong; no half-computed numbers beside it
    assert len(at.error) == 1 and at.error[0].value.startswith(culprit), [e.value for e in at.error]
    assert not at.metric


def test_why_custom_mlp():
    at = open_page("lessons/why_convolution.py")
    at.toggle(key="why.same").set_value(False).run()
    at.text_input(key="why.hidden").input("100").run()
    assert not at.exception
    assert at.metric[0].value == f"{256 * 256 * 100 + 100 * 10:,}"


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_layers_defaults(lang):
    at = open_page("lessons/layers.py", lang)
    assert not at.error
    captions = [c.value for c in at.caption]
    # max pooling 2 x 2, stride 2 halves the 6 x 6 matrix; softmax of 2; 1; 0.1 sums to one
    assert t("layers.pool_sizes", lang, h=6, w=6, ho=3, wo=3, window=2, stride=2) in captions
    assert t("layers.softmax_sum", lang, total="1,0000" if lang == "pt_BR" else "1.0000") in captions
    p1 = "0{,}6590" if lang == "pt_BR" else "0.6590"                # e^2 / (e^2 + e^1 + e^0.1)
    assert any(f"= {p1}" in x.value for x in at.latex)


def test_layers_bad_logits_and_pooling_window():
    at = open_page("lessons/layers.py")
    at.text_input(key="layers.logits").input("1; banana; 3").run()
    assert not at.exception and at.error
    at.text_input(key="layers.logits").input("5 5 5").run()
    assert not at.exception and not at.error
    assert any(r"= 0.3333" in x.value for x in at.latex)          # equal logits: equal chances
    at.select_slider(key="layers.window").set_value(4).run()
    at.select_slider(key="layers.pool_stride").set_value(3).run()
    assert not at.exception
    # one 4 x 4 window fits in 6 x 6 with stride 3, and the last 2 rows and columns are left out
    captions = [c.value for c in at.caption]
    assert t("layers.pool_sizes", "en", h=6, w=6, ho=1, wo=1, window=4, stride=3) in captions
    assert any(t("layers.pool_unused", "en") in c for c in captions)


@pytest.mark.parametrize("lang, separators", [("en", ".,"), ("pt_BR", ",.")])
def test_charts_write_numbers_the_learners_way(lang, separators):
    import json

    at = open_page("lessons/why_convolution.py", lang)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert charts
    for spec in charts:   # 4.294.967.296 in Portuguese, 4,294,967,296 in English
        assert spec["layout"]["separators"] == separators
        assert all("%{text:,}" == trace.get("texttemplate") for trace in spec["data"])
