"""The 1D convolution lesson runs headless (AppTest): defaults, bad CSVs, bad kernels, stepping, training."""

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.base.errors import CnnvizError
from cnnviz.data import signal_csv

ROOT = Path(__file__).resolve().parent.parent
PAGE = "lessons/conv1d.py"


@pytest.fixture(scope="module")
def entry(tmp_path_factory) -> tuple[str, bool]:
    """The real app once it lists the lesson (cnnviz.course); until then a one-page app around it."""
    from cnnviz import course

    if any(lesson.path == str(ROOT / PAGE) for lesson in course.LESSONS):
        return str(ROOT / "app.py"), True
    app = tmp_path_factory.mktemp("conv1d_app") / "app.py"
    app.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import streamlit as st\n"
        "from cnnviz import ui\n"
        "st.set_page_config(layout='wide')\n"
        "ui.language_picker()\n"
        f"st.navigation([st.Page({str(ROOT / PAGE)!r}, url_path='conv1d')]).run()\n", encoding="utf-8")
    return str(app), False


@pytest.fixture
def open_lesson(entry):
    def _open(lang: str = "en") -> AppTest:
        path, real = entry
        at = AppTest.from_file(path, default_timeout=120)
        at.query_params["lang"] = lang
        at.run()
        if real:
            at.switch_page(PAGE).run()
        return at
    return _open


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang,title", [("en", "1D convolution"), ("pt_BR", "Convolução 1D")])
def test_runs_with_defaults(open_lesson, lang, title):
    at = open_lesson(lang)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert title in at.title[0].value
    # a 64-sample signal, the 5-tap moving average (0.2 / 0,2 in the box): 64 - 5 + 1 = 60 outputs
    values = [m.value for m in at.metric]
    assert values[:3] == ["64", "5", "60"], values
    decimal = "," if lang == "pt_BR" else "."
    assert at.text_input(key="conv1d.kernel_text").value == " ".join([f"0{decimal}2"] * 5)
    assert all(decimal in v for v in values[3:]), values          # min, max, mean the learner's way
    assert at.button(key="conv1d.train")


def test_stepping_with_the_buttons_moves_the_window(open_lesson):
    at = open_lesson()
    assert at.slider(key="conv1d.i").value == 0
    at.button(key="conv1d.next").click().run()
    at.button(key="conv1d.next").click().run()
    assert at.slider(key="conv1d.i").value == 2
    assert any("output sample 2 =" in m.value for m in at.markdown)
    at.button(key="conv1d.prev").click().run()
    assert at.slider(key="conv1d.i").value == 1
    at.button(key="conv1d.last").click().run()
    assert at.slider(key="conv1d.i").value == int(metric(at, "Output length")) - 1
    at.button(key="conv1d.first").click().run()
    assert at.slider(key="conv1d.i").value == 0
    no_exception(at)


def test_a_preset_fills_the_kernel_box(open_lesson):
    at = open_lesson()
    at.selectbox(key="conv1d.preset").set_value("difference").run()
    assert at.text_input(key="conv1d.kernel_text").value == "-1 0 1"
    assert metric(at, "Kernel length") == "3"
    assert metric(at, "Output length") == "62"
    no_exception(at)


def test_letters_in_the_kernel_are_explained(open_lesson):
    at = open_lesson("pt_BR")
    at.text_input(key="conv1d.kernel_text").input("1 x 1").run()
    no_exception(at)
    assert any(e.value.startswith('Peso 2: "x"') for e in at.error), [e.value for e in at.error]
    # the lesson keeps working with the last valid kernel (the 5-tap average)
    assert metric(at, "Comprimento do kernel") == "5" and metric(at, "Comprimento da saída") == "60"
    at.text_input(key="conv1d.kernel_text").input("0,5; 0,5").run()
    no_exception(at)
    assert not at.error
    assert metric(at, "Comprimento do kernel") == "2"


def test_a_kernel_longer_than_the_signal_is_explained(open_lesson):
    at = open_lesson()
    at.slider(key="conv1d.n").set_value(8).run()
    at.text_input(key="conv1d.kernel_text").input("1 1 1 1 1 1 1 1 1 1").run()
    no_exception(at)
    assert any("samples" in e.value for e in at.error)


BAD_CSVS = {
    "text": ("names.csv", b"name,city\nAna,Recife\nBia,Natal\n"),
    "empty": ("empty.csv", b""),
    "image": ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"),
    "nan": ("nan.csv", b"v\n1\nnan\n2\n"),
}


@pytest.mark.parametrize("bad", BAD_CSVS)
def test_a_bad_csv_gives_a_message_not_a_traceback(open_lesson, bad):
    at = open_lesson("pt_BR")
    at.session_state["conv1d.src"] = "upload"
    at.run()
    name, data = BAD_CSVS[bad]
    at.file_uploader(key="conv1d.upload").set_value((name, data, "text/csv")).run()
    no_exception(at)
    with pytest.raises(CnnvizError) as err:     # what is wrong with this file, in the learner's language
        signal_csv.read_csv(data)
    assert [e.value for e in at.error] == [err.value.message("pt_BR")]
    # and the lesson recovers with a good file (Brazilian spreadsheet style)
    good = "tempo;tensão\n0;0,5\n1;1,5\n2;-0,25\n3;2\n4;1\n5;0\n".encode("utf-8")
    at.file_uploader(key="conv1d.upload").set_value(("ok.csv", good, "text/csv")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert metric(at, "Comprimento do sinal") == "6"


def test_train_button_trains_and_shows_the_test_accuracy(open_lesson):
    at = open_lesson()
    assert not any(m.label == "Test accuracy" for m in at.metric)
    at.slider(key="conv1d.epochs").set_value(6).run()
    at.button(key="conv1d.train").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    acc = float(metric(at, "Test accuracy").rstrip(" %"))
    assert acc >= 90
    assert any(m.value.startswith("The network says:") for m in at.markdown)
    # the model stays for the session: another interaction does not retrain or forget it
    at.button(key="conv1d.next").click().run()
    assert metric(at, "Test accuracy") == f"{acc:.1f} %"
    # a learned kernel can be slid over the signal
    at.button(key="conv1d.use_learned").click().run()
    no_exception(at)
    assert metric(at, "Kernel length") == "7"


def test_the_page_opens_without_torch(entry):
    """torch (seconds to import, hundreds of MB) waits for the train button."""
    path, real = entry
    code = ("import sys\n"
            "from streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({path!r}, default_timeout=120)\n"
            "at.run()\n"
            + (f"at.switch_page({PAGE!r}).run()\n" if real else "")
            + "assert not at.exception\n"
            "assert at.slider(key='conv1d.i')\n"
            "print('TORCH', 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "TORCH False" in out.stdout


def test_the_epochs_table_follows_the_learners_language(open_lesson):
    """Issue 10's Portuguese polish: the training history in decimal commas, and in the language
    chosen now, not the one of the moment it trained."""
    at = open_lesson("pt_BR")
    at.slider(key="conv1d.epochs").set_value(2).run()
    at.button(key="conv1d.train").click().run()
    no_exception(at)
    table = at.dataframe[-1].value
    losses = list(table["Perda"])
    assert len(losses) == 2 and all("," in v and "." not in v for v in losses), losses   # 0,4321
    at.selectbox(key="lang_picker").set_value("en").run()
    table = at.dataframe[-1].value
    assert "Loss" in table.columns and all("." in v and "," not in v for v in table["Loss"])
