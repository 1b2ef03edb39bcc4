"""The Train lesson's own pictures from one .zip with a folder per class (AppTest, no dataset needed):
the limits said, the classes counted, skipped files listed, a hostile zip explained, the page still working."""

import io
import tomllib
import zipfile

import app_helpers
import numpy as np
import pytest
from PIL import Image

from cnnviz.i18n import t

PAGE = "lessons/train.py"
CONFIG = app_helpers.ROOT / ".streamlit" / "config.toml"


def class_folders(counts: dict) -> bytes:
    """A zipped folder "photos/" with a folder of flat-coloured 30 x 20 pictures per class, and a stray text file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, (name, n) in enumerate(counts.items()):
            for i in range(n):
                pic = io.BytesIO()
                Image.fromarray(np.full((20, 30, 3), (60 * k + 5 * i, 200 - 60 * k, 90), np.uint8)).save(pic, "PNG")
                zf.writestr(f"photos/{name}/{i}.png", pic.getvalue())
        zf.writestr("photos/list.txt", "what is where")
    return buf.getvalue()


def zip_mode(lang: str, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))      # works with no dataset at all
    at = app_helpers.open_lesson(PAGE, lang)
    at.selectbox(key="train.dataset").set_value("own").run()
    at.radio(key="train.own_way").set_value("zip").run()
    assert not at.exception
    return at


def upload(at, archive: bytes, name: str = "classes.zip"):
    at.file_uploader(key="train.own_zip").set_value([(name, archive, "application/zip")]).run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_a_class_zip_is_read_explained_and_a_bad_one_refused(lang, tmp_path, monkeypatch):
    at = zip_mode(lang, tmp_path, monkeypatch)
    intro = next(m.value for m in at.markdown if m.value.startswith(t("train.own_zip_intro", lang)[:30]))
    upload_mb = tomllib.loads(CONFIG.read_text())["server"]["maxUploadSize"]
    million = "million" if lang == "en" else "milhões"
    for said in (f"**{upload_mb} MB**", "200 MB", "2000", f"40 {million}", f"1000 {million}", "20 classes", "3 ", "100."):
        assert said in intro, (said, intro)
    assert t("train.own_zip_waiting", lang) in [i.value for i in at.info]

    upload(at, class_folders({"tomato": 4, "Banana": 5}))
    counts = "Banana (5), tomato (4)"                # sorted without regard to case
    assert t("train.own_zip_found", lang, classes=2, pictures=9, counts=counts) in [m.value for m in at.markdown]
    captions = [i.caption for e in at.get("image") for i in e.proto.imgs]
    assert captions[:2] == ["Banana", "tomato"]      # a picture per class
    skipped = at.dataframe[0].value
    assert list(skipped[t("train.own_zip_file", lang)]) == ["photos/list.txt"]
    assert list(skipped[t("train.own_zip_reason", lang)]) == [t("data.zip_skip.not_picture", lang)]
    # the split the lesson trains on: 20 % of each class for validation and for the test (at least one)
    assert t("train.own_split", lang, train=5, val=2, test=2, classes=2) in [m.value for m in at.markdown]

    upload(at, class_folders({"tomato": 4, "../escape": 3}), "hostile.zip")
    error = t("data.error.zip_unsafe_path", lang, name="photos/../escape/0.png")
    assert error in [e.value for e in at.error]
    # the page keeps working: back to an upload per class
    at.radio(key="train.own_way").set_value("uploads").run()
    assert not at.exception and not at.error
    assert t("train.own_waiting", lang) in [i.value for i in at.info]


@pytest.mark.slow
def test_a_network_trains_on_the_classes_of_a_zip(tmp_path, monkeypatch):
    at = zip_mode("pt_BR", tmp_path, monkeypatch)
    upload(at, class_folders({"verde": 5, "roxo": 5}))
    at.slider(key="train.epochs").set_value(2)
    at.button(key="train.go").click().run()
    assert not at.exception
    card = at.session_state["train.export"].card
    assert card["classes"] == ["roxo", "verde"] and card["architecture"] == "TinyVGG"
