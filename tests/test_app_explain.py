"""AppTest for "Where does the network look?": defaults, every method, the sanity check, bad input."""

import pytest
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest

pytest.importorskip("captum")


def open_explain(lang="en") -> AppTest:
    return open_lesson("lessons/explain.py", lang, timeout=300)


def test_defaults_show_gradcam_with_curves():
    at = open_explain("pt_BR")
    assert not at.error, [e.value for e in at.error]
    assert any("Grad-CAM" in h.value for h in at.header)
    assert any("Área sob a curva" in c.value for c in at.caption)
    assert at.get("download_button")


def test_every_method_and_another_class():
    at = open_explain()
    at.multiselect(key="explain.methods").set_value(
        ["guided_gradcam", "guided_backprop", "saliency", "integrated_gradients", "occlusion"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len([s for s in at.subheader]) >= 5
    at.selectbox(key="explain.target.digits").set_value(8).run()
    assert not at.exception
    assert any("“8”" in h.value for h in at.header)


def test_sanity_check_runs():
    at = open_explain()
    at.button(key="explain.sanity_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    steps = at.session_state["explain.sanity"][1]
    assert [s.randomized for s in steps][:2] == ["", "fc2"]          # original, then from the top down
    assert steps[-1].rank_corr["gradcam"] < 0.5                     # Grad-CAM falls apart
    at.run()                                                        # and stays on screen on the next rerun
    assert not at.exception


def test_corrupt_upload_is_explained():
    at = open_explain("pt_BR")
    at.session_state["explain.src"] = "upload"
    at.run()
    at.file_uploader(key="explain.upload").set_value(("x.png", b"\x89PNG\r\n\x1a\nbroken", "image/png")).run()
    assert not at.exception
    assert at.error
