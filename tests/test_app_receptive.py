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
