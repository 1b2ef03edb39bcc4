"""Links that reproduce a view (issue 11): the URL holds a lesson's state, a tampered link gives a
message in the learner's language and the defaults, presentation mode, the teachers' preset links."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_helpers import ROOT
from cnnviz import i18n, ui
from cnnviz.maths import kernels

CONV = "lessons/convolution.py"


def open_link(page: str, params: dict, *, run_first: bool = True) -> AppTest:
    """A fresh session opening ``page`` with the link's ``params`` (as a new browser would)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    for key, value in params.items():
        at.query_params[key] = value
    if run_first:         # (AppTest opens a page only after the app ran once; the language is read then)
        at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at) -> list[str]:
    return [m.value for m in at.metric]


def sum_line(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith(("**Sum**", "**Soma**")))


def preset_links() -> list:
    """lessons/home.py's PRESET_LINKS (the page is a script: read, not imported)."""
    import ast

    tree = ast.parse((ROOT / "lessons/home.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "PRESET_LINKS")
    return ast.literal_eval(node.value)


def link_warnings(at) -> list[str]:
    return [w.value for w in at.warning if w.icon == ":material/link_off:"]


# ---------------------------------------------------------------- encoding a kernel in one parameter
def test_kernel_round_trips_through_its_parameter():
    kernel = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0.25]])
    text = ui.encode_kernel(kernel)
    assert text == "0,1,0;1,-4,1;0,1,0.25"
    assert np.array_equal(ui.decode_kernel(text), kernel)
    curve = kernels.PRESETS["curve_detector"]
    assert np.array_equal(ui.decode_kernel(ui.encode_kernel(curve)), curve)


@pytest.mark.parametrize("text", ["1,2;x", "1,2;3", "", "1,2,3", "nan", "1e9", ";".join([",".join(["1"] * 40)] * 40),
                                  "0," * 5000])
def test_tampered_kernels_are_refused_with_a_learner_error(text):
    with pytest.raises(Exception) as err:
        ui.decode_kernel(text)
    assert hasattr(err.value, "message") and err.value.message("pt_BR")     # a CnnvizError, translated


# ---------------------------------------------------------------- Convolution
def test_a_convolution_link_gives_the_same_view_as_the_settings_it_names():
    # (AppTest doesn't play the browser's part of the binding, writing a clicked value in the address:
    # the browser test does; here the link is opened and compared with the same settings made by hand)
    at = open_link(CONV, {"lang": "en"})
    at.number_input(key="conv.stride").set_value(2).run()
    at.selectbox(key="conv.side").set_value(32).run()
    at.text_input(key="conv.bias").set_value("0.5").run()
    at.slider(key="conv.t").set_value(40).run()
    assert not at.exception
    view = metrics(at), sum_line(at), at.session_state["conv.bias.value"]
    assert at.query_params["conv.bias"] == "0.5"      # written by the app itself

    again = open_link(CONV, {"lang": "en", "conv.stride": "2", "conv.side": "32", "conv.bias": "0.5",
                             "conv.t": "40"})
    assert (metrics(again), sum_line(again), again.session_state["conv.bias.value"]) == view
    assert metrics(again)[2] == "13 × 13 × 1"         # (32 - 7) // 2 + 1
    assert not link_warnings(again)


def test_a_custom_kernel_travels_in_the_link_and_a_preset_by_name():
    at = open_link(CONV, {"lang": "pt_BR", "conv.k": "0,1,0;1,-4,1;0,1,0", "conv.side": "32"})
    assert np.array_equal(at.session_state["conv.kernel"], kernels.PRESETS["laplacian"])
    assert metrics(at)[1] == "3 × 3 × 1" and metrics(at)[2] == "30 × 30 × 1"
    assert at.query_params["conv.k"] == "0,1,0;1,-4,1;0,1,0"

    at = open_link(CONV, {"lang": "pt_BR", "conv.preset": "gaussian_blur", "conv.depth": "rgb",
                          "conv.sample": "shapes", "conv.side": "32"})
    assert np.array_equal(at.session_state["conv.kernel"], kernels.make("gaussian_blur"))
    assert metrics(at) == ["32 × 32 × 3", "5 × 5 × 3", "28 × 28 × 1"]    # the course's 32x32x3 -> 28x28


def test_a_tampered_convolution_link_says_so_in_portuguese_and_shows_the_defaults():
    at = open_link(CONV, {"lang": "pt_BR", "conv.stride": "abc", "conv.k": "1,2;x", "conv.t": "999999",
                          "conv.preset": "../../etc", "conv.bias": "1e400"})
    (warning,) = link_warnings(at)
    for bad in ("conv.stride=abc", "conv.k=1,2;x", "conv.t=999999", "conv.preset=../../etc", "conv.bias=1e400"):
        assert bad in warning
    assert warning.startswith("Este link tem configurações que não podem ser usadas")
    assert np.array_equal(at.session_state["conv.kernel"], kernels.PRESETS["curve_detector"])
    assert at.number_input(key="conv.stride").value == 1
    assert "6600" in sum_line(at)                      # the article's default view: the curve on the mouse
    for bad in ("conv.stride", "conv.k", "conv.preset", "conv.bias"):
        assert bad not in at.query_params
    assert at.query_params["conv.t"] == str(at.slider(key="conv.t").value) != "999999"   # the lesson's start


def test_a_plain_link_gives_no_warning():
    at = open_link(CONV, {"lang": "en"})
    assert not link_warnings(at)
    assert "6600" in sum_line(at)


# ---------------------------------------------------------------- Inside and Explain
def test_an_inside_link_opens_the_network_layer_and_channel_it_names():
    at = open_link("lessons/inside_a_cnn.py", {"lang": "en", "model": "fashion", "inside.layer": "conv2",
                                         "inside.channel": "5", "inside.sort": "index", "inside.example": "4"})
    assert not link_warnings(at)
    headers = [h.value for h in at.header]
    assert any(h.startswith("3. Layer conv2") for h in headers), headers
    assert at.selectbox(key="inside.channel.conv2").value == 5
    assert at.radio(key="inside.sort").value == "index"
    assert at.selectbox(key="inside.example").value == 4
    link = dict(at.query_params)
    assert link["model"] == "fashion" and link["inside.channel"] == "5"


def test_a_tampered_model_is_named_and_the_default_network_used():
    at = open_link("lessons/inside_a_cnn.py", {"lang": "en", "model": "../../etc", "inside.channel": "-3"})
    (warning,) = link_warnings(at)
    assert "model=../../etc" in warning
    assert at.selectbox(key="model").value == "digits"
    assert "model" not in at.query_params


def test_an_explain_link_opens_the_class_it_names():
    at = open_link("lessons/explain.py", {"lang": "en", "model": "fashion", "explain.class": "2",
                                          "explain.methods": "saliency"})
    assert not link_warnings(at)
    assert at.header[0].value == "Grad-CAM for “Pullover”"
    assert at.multiselect(key="explain.methods").value == ["saliency"]
    at = open_link("lessons/explain.py", {"lang": "en", "model": "fashion", "explain.class": "99",
                                          "explain.methods": "rm -rf"})
    (warning,) = link_warnings(at)
    assert "explain.class=99" in warning and "explain.methods=rm -rf" in warning


# ---------------------------------------------------------------- copy link, presentation mode
def test_the_copy_link_button_carries_the_view_and_the_language():
    at = open_link(CONV, {"lang": "pt_BR", "conv.stride": "3"})
    html = " ".join(h.proto.body for h in at.sidebar.get("html"))
    assert "Copiar link" in html
    assert "conv.stride=3" in html and "lang=pt_BR" in html


def test_presentation_mode_from_the_link_and_a_switch_to_leave_it():
    at = open_link(CONV, {"lang": "en", "present": "1"}, run_first=False)
    assert at.toggle(key="present.on").value is True
    assert any("font-size: 20px" in h.proto.body for h in at.get("html"))
    at.toggle(key="present.on").set_value(False).run()
    assert "present" not in at.query_params
    assert not any("font-size: 20px" in h.proto.body for h in at.get("html"))


# ---------------------------------------------------------------- teachers' presets
def test_the_teachers_presets_open_the_courses_examples():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params["lang"] = "en"
    at.run()
    links = [p for p in at.get("page_link") if p.proto.icon == ":material/link:"]
    assert len(links) == 4
    expected = {"links.preset_curve": "6600", "links.preset_28": "28 × 28 × 1",
                "links.preset_why": "4,294,967,296", "links.preset_vgg": "212 × 212"}
    for (page, label, params), link in zip(preset_links(), links):
        assert link.proto.label == i18n.t(label, "en")
        view = open_link(page, {**params, "lang": "en"})
        assert not link_warnings(view)
        shown = " ".join(metrics(view) + [m.value for m in view.markdown] + [c.value for c in view.caption])
        assert expected[label] in shown, (label, shown[:400])


def test_the_first_position_is_in_the_link_too():
    # the lesson opens on the mouse's tail, not on position 0: a link to position 0 must say so
    at = open_link(CONV, {"lang": "en"})
    start = at.slider(key="conv.t").value
    assert start != 0 and at.query_params["conv.t"] == str(start)
    at.button(key="conv.first").click().run()
    assert at.query_params["conv.t"] == "0"
    again = open_link(CONV, {"lang": "en", "conv.t": "0"})
    assert again.slider(key="conv.t").value == 0
    assert sum_line(again) == sum_line(at)
