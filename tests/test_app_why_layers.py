"""AppTest for "Why convolution?" and "The other layers": defaults, bad input, the course's numbers."""

import re
from pathlib import Path

import numpy as np
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
    assert not at.exception
    assert [e.value for e in at.error] == [t("kernels.error.not_a_number", "en", row=1, col=2, value="banana")]
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
    assert len(charts) == 2       # the MLP's and the CNN's weights layer by layer, then a real network's
    big = "4.294.967.296" if lang == "pt_BR" else "4,294,967,296"
    texts = []
    for spec in charts:   # every bar's label written by i18n.number: 4.294.967.296 in Portuguese
        assert spec["layout"]["separators"] == separators
        for trace in spec["data"]:
            assert trace.get("texttemplate") == "%{text}"
            texts += trace["text"]
    assert big in texts
    assert all(re.fullmatch(r"\d{1,4}|\d{1,3}([.,]\d{3})+", x) for x in texts), texts   # grouped from 5 digits


def _matrix_rows(body: str, lang: str) -> list[list[float]]:
    """The numbers of a ``matrix_html`` table as the learner reads them, row by row."""
    import re

    def read(text):
        text = text.replace("−", "-")
        return float(text.replace(".", "").replace(",", ".") if lang == "pt_BR" else text.replace(",", ""))

    return [[read(cell) for cell in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
@pytest.mark.parametrize("mean, gamma, beta", [(20.0, 1.0, 0.0), (-7.5, 2.0, 1.5)])
def test_batch_norm_numbers_add_up(lang, mean, gamma, beta):
    """What the batch-norm tab shows is what it computes: μ and σ² are the mean and (biased)
    variance of the input values on screen, the training-mode row is (x − μ)/√(σ² + ε)·γ + β of
    them (so it averages β), recomputed with torch's BatchNorm1d."""
    import torch

    at = open_page("lessons/layers.py", lang)
    at.select_slider(key="layers.bn_mean").set_value(mean).run()
    at.select_slider(key="layers.gamma").set_value(gamma).run()
    at.select_slider(key="layers.beta").set_value(beta).run()
    assert not at.exception
    tables = [h.proto.body for h in at.get("html") if "cnnviz-matrix" in h.proto.body]
    shown = [_matrix_rows(b, lang) for b in tables]
    bn = next(rows for rows in shown if len(rows) == 3 and len(rows[0]) >= 8)
    x, trained = np.array(bn[0]), np.array(bn[1])
    metric = at.metric[0].value           # "μ = 22.82; σ² = 19.83"
    import re
    mu_text, var_text = re.findall(r"= (-?[\d.,−]+)", metric)
    read = (lambda s: float(s.replace("−", "-").replace(".", "").replace(",", "."))) if lang == "pt_BR" else \
        (lambda s: float(s.replace("−", "-").replace(",", "")))
    assert read(mu_text) == pytest.approx(x.mean(), abs=0.01)
    assert read(var_text) == pytest.approx(x.var(), rel=0.01, abs=0.02)
    ref = torch.nn.BatchNorm1d(1, eps=1e-5)
    with torch.no_grad():
        ref.weight.fill_(gamma)
        ref.bias.fill_(beta)
        expected = ref.train()(torch.tensor(x, dtype=torch.float64).reshape(-1, 1).float()).numpy().ravel()
    assert trained == pytest.approx(expected, abs=0.02)
    assert trained.mean() == pytest.approx(beta, abs=0.01)


def test_batch_norm_sliders_write_decimal_commas():
    """Portuguese sliders show "20,0" (printf formats always wrote "20.00")."""
    at = open_page("lessons/layers.py", "pt_BR")
    slider = at.select_slider(key="layers.bn_mean")
    assert slider.format_func(slider.value) == "20,0"
    assert at.select_slider(key="layers.gamma").format_func(1.0) == "1,0"
    assert not [s for s in at.slider if isinstance(s.value, float)]     # no printf-formatted decimal slider left


@pytest.mark.parametrize("raw, shown, kept, warned", [("-7.5", -7.5, "-7.5", False), ("-7,5", -7.5, "-7.5", False),
                                                      ("7.3", 7.5, "7.5", False), ("abc", 20.0, None, True),
                                                      ("999", 20.0, None, True), ("nan", 20.0, None, True)])
def test_batch_norm_link_is_language_neutral(raw, shown, kept, warned):
    """A link carries the decimal slider's value with a point in every language; a value between
    two steps goes to the nearest one; a tampered one is reported once, the default kept."""
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=240)
    at.query_params["lang"] = "pt_BR"
    at.query_params["layers.bn_mean"] = raw
    at.run()
    at.switch_page("lessons/layers.py").run()
    assert not at.exception
    assert at.select_slider(key="layers.bn_mean").value == shown
    assert at.query_params.get("layers.bn_mean") == kept
    warnings = [w.value for w in at.warning if "layers.bn_mean" in w.value]
    assert len(warnings) == (1 if warned else 0) and (not warned or warnings[0].count("layers.bn_mean=") == 1)
