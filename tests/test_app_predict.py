"""Predict, then reveal (issue 13): the learner guesses before the lesson shows the answer.

The click component (streamlit-image-coordinates) cannot be clicked in AppTest; its value is put
in the session under its key, exactly as the browser sends it ({x, y, width, height} in displayed
pixels). Real mouse clicks are in tests/browser/test_predict_browser.py.
"""

import json
import re

import numpy as np
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest

from cnnviz.maths import conv, images, kernels

SHOWN = 420                      # px: the Convolution lesson shows its 64 x 64 picture 420 px wide


def click_key(at: AppTest) -> str:
    """The key of the clickable picture on the page (it names the question's round and context)."""
    comps = at.get("component_instance")
    assert len(comps) == 1, "one clickable picture expected"
    return comps[0].proto.id.split("-", 2)[2]


def click(at: AppTest, row: float, col: float, side: int = 64, shown: int = SHOWN) -> AppTest:
    """A click on the centre of pixel (row, col) of a ``side``-pixel picture shown ``shown`` px wide."""
    k = shown / side
    at.session_state[click_key(at)] = {"x": (col + 0.5) * k, "y": (row + 0.5) * k,
                                       "width": shown, "height": shown, "unix_time": 1}
    return at.run()


def points(text: str) -> int:
    return int(re.search(r"(\d+) (?:points out of|pontos de) 100", text).group(1))


def verdict(at: AppTest) -> tuple[str, str]:
    """The one scored guess on the page: ("success" or "warning", its text)."""
    found = [(kind, e.value) for kind in ("success", "warning") for e in getattr(at, kind)
             if e.icon == ":material/ads_click:"]
    assert len(found) == 1, found
    return found[0]


def metric(at: AppTest, label: str) -> str | None:
    return next((m.value for m in at.metric if m.label == label), None)


def strongest_centre() -> tuple[int, int]:
    """The centre (image pixels) of the curve detector's first 9000 on the course's mouse."""
    mouse = images.to_array(images.fit(images.load_sample("mouse"), 64), "gray").astype(np.float64)
    out = conv.convolve2d(mouse, kernels.CURVE_DETECTOR).output
    assert out.max() == 9000
    r, c = np.argwhere(out == 9000)[0]
    return int(r) + 3, int(c) + 3


def test_convolution_asks_where_the_kernel_fires_before_drawing_the_map():
    at = open_lesson("lessons/convolution.py", "en")
    assert any("where will this kernel fire most" in m.value for m in at.markdown)
    assert metric(at, "Maximum") is None                    # the map is not drawn yet
    assert at.button(key="conv.predict.skip_button").label == "Skip: show the map"
    click_key(at)


def test_a_click_on_the_strongest_spot_scores_100_and_reveals_the_map_an_empty_corner_scores_low():
    at = open_lesson("lessons/convolution.py", "en")
    r, c = strongest_centre()
    click(at, r, c)
    assert not at.exception, [e.value for e in at.exception]
    kind, text = verdict(at)
    assert kind == "success" and points(text) == 100 and "(9000," in text and "Close" in text, text
    assert metric(at, "Maximum") == "9000"                  # the map, revealed: the course's numbers
    assert not at.get("component_instance")                 # the question is gone
    assert any("Your click (cyan ring)" in i.caption for e in at.get("image") for i in e.proto.imgs), \
        "the picture with the click and the strongest answer marked"

    at.button(key="conv.predict.again_button").click().run()  # try again: asked again, a fresh picture
    assert metric(at, "Maximum") is None and click_key(at).startswith("conv.predict.click.1.")
    click(at, 0, 63)                                        # the empty top-right corner
    kind, text = verdict(at)
    assert kind == "warning" and points(text) < 20 and "Further away" in text, text
    assert metric(at, "Maximum") == "9000"


def test_skip_shows_the_map_at_once_and_stays_skipped_predict_first_brings_the_question_back():
    at = open_lesson("lessons/convolution.py", "pt_BR")
    assert any("onde este kernel vai responder mais forte" in m.value for m in at.markdown)
    at.button(key="conv.predict.skip_button").click().run()
    assert metric(at, "Máximo") == "9000" and not at.get("component_instance")
    at.selectbox(key="conv.side").set_value(32).run()       # another picture: still skipped
    assert metric(at, "Máximo") is not None and not at.get("component_instance")
    assert at.button(key="conv.predict.again_button").label == "Preveja primeiro"
    at.button(key="conv.predict.again_button").click().run()
    assert metric(at, "Máximo") is None and click_key(at)


def test_the_strongest_answer_button_is_the_answer_it_skips_the_guess_and_says_so():
    at = open_lesson("lessons/convolution.py", "en")
    assert "question under the map" in at.button(key="conv.max").help    # it says what it gives away
    at.button(key="conv.max").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.value.rstrip().endswith("= **9000**") for m in at.markdown if m.value.startswith("**Sum**"))
    assert metric(at, "Maximum") == "9000" and not at.get("component_instance")   # skipped, not asked
    assert at.button(key="conv.predict.again_button").label == "Predict first"
    at.button(key="conv.predict.again_button").click().run()
    assert metric(at, "Maximum") is None and click_key(at)
    assert "question under the map" in at.button(key="conv.max").help


def test_a_guess_belongs_to_its_picture_a_new_working_size_asks_again():
    at = open_lesson("lessons/convolution.py", "pt_BR")
    r, c = strongest_centre()
    click(at, r, c)
    kind, text = verdict(at)
    assert kind == "success" and points(text) == 100 and "(9000," in text   # the learner's format
    at.selectbox(key="conv.side").set_value(32).run()
    assert metric(at, "Máximo") is None and click_key(at)


# ---------------------------------------------------------------- Where does it look?
def open_explain(lang="en") -> AppTest:
    return open_lesson("lessons/explain.py", lang, timeout=300)


def gradcam_map(at: AppTest) -> np.ndarray:
    """Grad-CAM of the picture on the page (decoded from the clickable picture itself), for the
    class the digits network says, at the lesson's default layer: what the lesson explains."""
    import base64
    import io

    import torch
    from PIL import Image

    from cnnviz.analysis import attribution as attr
    from cnnviz import models

    src = json.loads(at.get("component_instance")[0].proto.json_args)["src"]
    shown = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("L")
    loaded = models.load("digits")
    x = loaded.preprocess(shown.resize((28, 28), Image.Resampling.NEAREST))
    with torch.no_grad():
        target = int(loaded.model(x)[0].argmax())
    layer = attr.default_layer(loaded.model, x)
    return attr.explain("gradcam", loaded.model, x, target=target, layer=layer).map


def map_download(at: AppTest) -> list:
    """The Grad-CAM picture's download button (the sidebar has others)."""
    return [b for b in at.get("download_button") if b.label in ("Download the overlay (PNG)", "Baixar a sobreposição (PNG)")]


def test_explain_asks_where_the_network_looks_then_a_click_on_the_peak_is_a_hit():
    at = open_explain()
    assert any("where do you think the network looks" in m.value for m in at.markdown)
    assert not map_download(at)                    # the map is not shown yet
    hm = gradcam_map(at)
    assert hm.shape == (28, 28)
    r, c = np.unravel_index(int(hm.argmax()), hm.shape)
    click(at, r, c, side=28, shown=280)
    assert not at.exception, [e.value for e in at.exception]
    kind, text = verdict(at)
    assert kind == "success" and "A hit" in text and "100 out of 100" in text, text
    assert map_download(at) and not at.get("component_instance")
    assert any("Your click (cyan ring) on the Grad-CAM map" in i.caption for e in at.get("image") for i in e.proto.imgs)


def test_explain_a_click_where_the_map_is_dark_is_a_miss_in_portuguese():
    at = open_explain("pt_BR")
    hm = gradcam_map(at)
    r, c = np.unravel_index(int(hm.argmin()), hm.shape)
    click(at, r, c, side=28, shown=280)
    kind, text = verdict(at)
    assert kind == "warning" and text.startswith("Errou"), text
    at.button(key="explain.predict.again_button").click().run()
    assert not map_download(at) and click_key(at).startswith("explain.predict.click.1.")
    at.button(key="explain.predict.skip_button").click().run()
    assert map_download(at) and not at.get("component_instance")


# ---------------------------------------------------------------- Inside: which class will it say?
def open_inside(lang="en") -> AppTest:
    return open_lesson("lessons/inside_a_cnn.py", lang, state={"inside.draw": False})   # the sample digit: a 7


def guess_box(at: AppTest):
    return next(s for s in at.selectbox if (s.key or "").startswith("inside.predict.pick."))


def test_inside_asks_for_the_class_before_the_softmax_a_right_guess_is_praised():
    at = open_inside()
    assert not at.metric                                    # the answer is not given away in section 1
    assert any("hidden" in i.value for i in at.info)
    assert any("which class will the network say" in m.value for m in at.markdown)
    assert not at.latex                                     # no softmax before the guess
    assert at.button(key="inside.predict.reveal").disabled  # nothing picked yet
    guess_box(at).set_value(7).run()
    at.button(key="inside.predict.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    kind, text = verdict(at)
    assert kind == "success" and text.startswith("Right: the network says “7”"), text
    assert at.metric[0].value == "7"                        # now section 1 shows it too
    assert any(r"\dfrac{e^{" in x.value for x in at.latex)  # now the softmax
    at.button(key="inside.predict.again_button").click().run()
    assert not at.latex and guess_box(at).value is None


def test_inside_a_wrong_guess_names_the_networks_answer_in_portuguese():
    at = open_inside("pt_BR")
    guess_box(at).set_value(1).run()
    at.button(key="inside.predict.reveal").click().run()
    kind, text = verdict(at)
    assert kind == "warning" and "você apostou em “1”" in text and "a rede diz “7”" in text, text
    assert re.search(r"“7” \(\d+,\d %\)", text), text          # its probability, with a decimal comma
    assert any(r"\dfrac{e^{" in x.value for x in at.latex)
