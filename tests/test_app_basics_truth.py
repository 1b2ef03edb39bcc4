"""AppTest: what /why-convolution, /layers and /autoencoder tell a class is true (issue 10)."""

import pytest
from app_helpers import open_lesson

WHY = "lessons/why_convolution.py"


def _why(lang, h, w, convs, hidden=None):
    at = open_lesson(WHY, lang)
    at.number_input(key="why.h").set_value(h)
    at.number_input(key="why.w").set_value(w)
    at.text_input(key="why.convs").input(convs)
    if hidden is not None:
        at.toggle(key="why.same").set_value(False).run()
        at.text_input(key="why.hidden").input(hidden)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("lang, value, sentence", [
    ("en", "CNN, 2.5 ×", "The **CNN** needs **2.5 times** as many weights as the MLP."),
    ("pt_BR", "CNN, 2,5 ×", "A **CNN** precisa de **2,5 vezes** mais pesos do que o MLP.")])
def test_small_image_many_filters_names_the_cnn_with_a_true_factor(lang, value, sentence):
    at = _why(lang, 28, 28, "16, 32, 64, 128, 256, 512")
    assert at.metric[2].value == value
    assert sentence in [m.value for m in at.markdown]


def test_custom_hidden_layers_the_mlp_needs_more_by_its_factor():
    at = _why("en", 256, 256, "16, 32, 64", hidden="1024, 256")
    mlp, cnn = (int(at.metric[i].value.replace(",", "")) for i in (0, 1))
    assert mlp > cnn
    assert at.metric[2].value == f"MLP, {round(mlp / cnn):,} ×"
    assert f"The **MLP** needs **{round(mlp / cnn):,} times** as many weights as the CNN." in \
        [m.value for m in at.markdown]


def test_course_number_stays():
    at = open_lesson(WHY, "pt_BR")
    assert "4.294.967.296" in " ".join(m.value for m in at.markdown)
    # 256 x 256 x 1 into 65,536 neurons then 10: 4,295,622,656 weights; the CNN 16, 32, 64 (3 x 3),
    # pooled to 32 x 32 x 64 then 10: 144 + 4,608 + 18,432 + 655,360 = 678,544. 6330.6 times as many
    assert [(m.label, m.value) for m in at.metric[:3]] == [("MLP", "4.295.622.656"), ("CNN", "678.544"),
                                                           ("Quem precisa de mais pesos?", "MLP, 6331 ×")]


AE = "lessons/autoencoder.py"


def _chosen_trace(at):
    import json

    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    return [tr for tr in spec["data"] if tr.get("marker", {}).get("symbol") == "circle-x-open"]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_autoencoder_marks_the_sliders_point_on_the_latent_map(lang):
    from cnnviz import data

    if data.source("mnist") is None:
        pytest.skip("the latent map needs MNIST test digits (or their bundled sample)")
    at = open_lesson(AE, lang)
    at.select_slider(key="ae.z1").set_value(-2.0)
    at.select_slider(key="ae.z2").set_value(1.5).run()
    assert not at.exception
    (trace,) = _chosen_trace(at)
    assert trace["x"] == [-2.0] and trace["y"] == [1.5]
    assert trace["name"] == ("decoded point (-2.0, 1.5)" if lang == "en" else "ponto decodificado (-2,0; 1,5)")



@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_colour_triples_are_unambiguous(lang):
    """Image as numbers' (R, G, B) table: three whole numbers per pixel that read back as the
    pixel's values. In Portuguese the comma is the decimal mark, so "220,40,40" would read as one
    number: the triple is "(220; 40; 40)"."""
    import re

    import numpy as np

    at = open_lesson("lessons/image_as_numbers.py", lang)
    assert not at.exception
    table = at.dataframe[-1].value
    cells = [str(v) for v in np.asarray(table).ravel()]
    sep = ";" if lang == "pt_BR" else ","
    for cell in cells:
        match = re.fullmatch(rf"\((\d{{1,3}}){sep} (\d{{1,3}}){sep} (\d{{1,3}})\)", cell)
        assert match, cell
        assert all(0 <= int(v) <= 255 for v in match.groups())
