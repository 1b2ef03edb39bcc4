"""AppTest for the receptive field lesson."""

import pytest
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest


def open_rf(lang="en", model=None) -> AppTest:
    return open_lesson("lessons/receptive_field.py", lang, state={"model": model} if model else None)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_defaults(lang):
    at = open_rf(lang)
    assert not at.error, [e.value for e in at.error]
    # conv3, conv3, pool2, conv3, conv3, pool2, conv3 -> 24 x 24, jump 4
    assert any("**24 × 24" in m.value and "**4" in m.value for m in at.markdown)


def test_moving_the_unit_and_another_layer():
    at = open_rf()
    at.slider(key="rf.row").set_value(0).run()
    at.slider(key="rf.col").set_value(0).run()
    assert not at.exception
    at.selectbox(key="rf.layer.digits").set_value("conv1").run()
    assert not at.exception


def test_resnet18_random_weights_offline(tmp_path, monkeypatch):
    pytest.importorskip("torchvision")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    at = open_rf(model="resnet18")
    at.toggle(key="model.random.resnet18").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_digits_network_gets_a_digit_not_the_landscape_photo():
    """Issue 10: section 3 sent section 2's landscape photo through the digits network."""
    at = open_rf()
    assert at.radio(key="rf.src").value == "sample"              # section 2: the landscape photo
    assert at.radio(key="rf.real.src").value == "dataset"        # section 3: one of its own test digits
    assert "7" in at.selectbox(key="rf.real.example").format_func(at.selectbox(key="rf.real.example").value)
    text = " ".join(m.value for m in at.markdown)
    assert "learned from 28 × 28 grey pictures" in text, text


def test_a_colour_network_can_take_the_picture_of_section_2():
    from cnnviz import models

    if not (models.WEIGHTS_DIR / "tiny-rgb.safetensors").exists():
        pytest.skip("tiny-rgb weights not built")
    at = open_rf(model="tiny-rgb")
    assert at.radio(key="rf.real.src").value == "dataset"        # a CIFAR-10 test photo first
    at.toggle(key="rf.real_yours").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "colour photos" in " ".join(m.value for m in at.markdown)
