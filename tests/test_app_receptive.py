"""AppTest for the receptive field lesson."""

import pytest
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest

from cnnviz.i18n import t


def open_rf(lang="en", model=None) -> AppTest:
    return open_lesson("lessons/receptive_field.py", lang, state={"model": model} if model else None)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_defaults(lang):
    at = open_rf(lang)
    assert not at.error, [e.value for e in at.error]
    # conv3, conv3, pool2, conv3, conv3, pool2, conv3 -> 24 x 24, jump 4
    assert any("**24 × 24" in m.value and "**4" in m.value for m in at.markdown)


def pictures(at: AppTest) -> list[str]:
    """Every picture's address, in order: streamlit names a picture by a hash of its bytes."""
    return [img.url for element in at.get("image") for img in element.proto.imgs]


def test_moving_the_unit_and_another_layer():
    at = open_rf()
    before = pictures(at)
    at.slider(key="rf.row").set_value(0).run()
    at.slider(key="rf.col").set_value(0).run()
    assert not at.exception
    moved = pictures(at)
    # the field is drawn somewhere else on the picture; nothing else changes
    assert len(moved) == len(before) and sum(a != b for a, b in zip(moved, before)) == 1
    at.selectbox(key="rf.layer.digits").set_value("conv1").run()
    assert not at.exception
    conv1 = pictures(at)
    assert conv1[0] == moved[0] and conv1 != moved           # another layer: its field drawn below


def test_resnet18_random_weights_offline(tmp_path, monkeypatch):
    pytest.importorskip("torchvision")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    at = open_rf(model="resnet18")
    at.toggle(key="model.random.resnet18").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    # ResNet-18's published fields, row by row (weights don't change them), and its effective field
    table = at.dataframe[-1].value
    by_layer = {row[0]: [str(v) for v in row[1:]] for row in table.itertuples(index=False)}
    assert by_layer["conv1"] == ["7 × 7", "2"] and by_layer["layer4.1"] == ["435 × 435", "32"]
    # the picture it receives, then the chosen unit's theoretical and effective fields
    captions = [img.caption for element in at.get("image") for img in element.proto.imgs]
    layer = at.selectbox(key="rf.layer.resnet18")
    theory = t("rf.theory_caption", "en", layer=layer.format_func(layer.value), size="\0").split("\0")[0]
    effective = t("rf.effective_caption", "en", share="\0").split("\0")[0]
    assert t("rf.real_seen", "en", h=224, w=224, c=3) in captions
    fields = [c for c in captions if c.startswith((theory, effective))]
    assert len(fields) == 2 and fields[0].startswith(theory) and fields[1].startswith(effective), captions


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


@pytest.mark.parametrize("name, lang, last_pool, size, whole", [
    ("vgg16", "en", "pool5", "212 × 212", "whole image"),
    ("alexnet", "pt_BR", "pool5", "195 × 195", "imagem inteira"),
])
def test_an_adaptive_pool_that_is_the_identity_is_not_the_whole_image(tmp_path, monkeypatch, name, lang, last_pool,
                                                                       size, whole):
    """Issue 17: at 224 px VGG-16's AdaptiveAvgPool2d((7, 7)) and AlexNet's (6, 6) leave the map as it
    is, so their units see what pool5's see, and only the fully connected layers see every pixel."""
    pytest.importorskip("torchvision")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    at = open_rf(lang, model=name)
    at.toggle(key=f"model.random.{name}").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[-1].value
    by_layer = {row[0]: str(row[1]) for row in table.itertuples(index=False)}
    assert by_layer[last_pool] == by_layer["avgpool"] == size
    assert [k for k, v in by_layer.items() if v == whole] == [k for k in by_layer if k.startswith("classifier")]
    if name == "alexnet":     # named after its own structure, not VGG's blocks
        assert [k for k in by_layer if k.startswith(("conv", "pool"))] == [
            "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
    note = " ".join(c.value for c in at.caption)
    n = "7" if name == "vgg16" else "6"
    assert f"avgpool {'turns' if lang == 'en' else 'transforma'} " in note and f"{n} × {n}" in note, note


def test_inside_s_layer_table_gives_vgg16_s_avgpool_its_real_field(tmp_path, monkeypatch):
    """Inside a CNN's layer table reads the same fields at the network's input size."""
    from cnnviz.i18n import t

    pytest.importorskip("torchvision")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    at = open_lesson("lessons/inside_a_cnn.py", "en", state={"model": "vgg16", "inside.predict.skip": True})
    at.toggle(key="model.random.vgg16").set_value(True).run()
    at.session_state["inside.table"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    rf = dict(zip(table[t("inside.col_layer", "en")], table[t("inside.col_rf", "en")]))
    assert rf["pool5"] == rf["avgpool"] == "212 × 212" and rf["classifier.0"] == t("inside.rf_all", "en")
