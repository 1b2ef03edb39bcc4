"""Every lesson runs headless (streamlit's AppTest) with defaults and with bad input: no exception."""

import html
import io
import re
from pathlib import Path

import app_helpers
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import course
from cnnviz.base.errors import CnnvizError
from cnnviz.maths import images
from cnnviz.i18n import t

ROOT = Path(__file__).resolve().parent.parent


LESSONS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "lessons").glob("*.py"))
UPLOAD_LESSONS = {"lessons/image_as_numbers.py": "numbers", "lessons/convolution.py": "conv",
                  "lessons/explain.py": "explain", "lessons/inside_a_cnn.py": "inside", "lessons/receptive_field.py": "rf",
                  "lessons/layers.py": "layers.pool"}


def open_lesson(path: str, lang: str = "en") -> AppTest:
    # the digit canvas is a custom component: use the picker
    return app_helpers.open_lesson(path, lang, state={"inside.draw": False}, check=False)


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("path", LESSONS)
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_lesson_runs_with_defaults(path, lang):
    at = open_lesson(path, lang)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    # one title, the lesson's own, in the learner's language
    assert [x.value for x in at.title] == [t(f"{course.named(Path(path).stem).catalog}.title", lang)]


def png_bytes(size=(40, 30), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


BAD_UPLOADS = {
    "corrupt": ("photo.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg", "image/jpeg"),
    "truncated": ("half.png", png_bytes((300, 300))[:200], "image/png"),
    "empty": ("empty.png", b"", "image/png"),
    "text": ("notes.png", b"hello teacher", "image/png"),
}


@pytest.mark.parametrize("path,key", UPLOAD_LESSONS.items())
def test_bad_upload_shows_a_message_not_a_traceback(path, key):
    """Each bad file in turn, in one session (the lesson opened once): its message, then the lesson
    recovers with a good image, and the next bad file gets its own message."""
    at = open_lesson(path, "pt_BR")
    at.session_state[f"{key}.src"] = "upload"  # (AppTest formats radio labels in English)
    at.run()
    for bad, upload in BAD_UPLOADS.items():
        at.file_uploader(key=f"{key}.upload").set_value(upload).run()
        no_exception(at)
        with pytest.raises(CnnvizError) as err:     # what is wrong with this file, in the learner's language
            images.load_image(upload[1])
        assert [e.value for e in at.error] == [err.value.message("pt_BR")], bad
        # and the lesson recovers with a good image
        at.file_uploader(key=f"{key}.upload").set_value(("ok.png", png_bytes(), "image/png")).run()
        no_exception(at)
        assert not at.error, bad


@pytest.mark.parametrize("path,key", UPLOAD_LESSONS.items())
def test_good_upload_is_used(path, key):
    at = open_lesson(path)
    at.radio(key=f"{key}.src").set_value("upload").run()
    at.file_uploader(key=f"{key}.upload").set_value(("red.png", png_bytes((40, 30)), "image/png")).run()
    no_exception(at)
    assert not at.error
    if key == "numbers":
        assert at.metric[0].value == "30 × 40 × 3"
    if key in ("conv", "explain"):   # they show where the kernel is / where it looks once the guess is made or skipped
        at.session_state[f"{key}.predict.skip"] = True
    # another upload, other pictures on screen (streamlit names a picture by a hash of its bytes)
    shown = []
    for name, box in (("across.png", (4, 12, 36, 18)), ("down.png", (17, 2, 23, 28))):   # a bar, then another
        bar = Image.new("RGB", (40, 30), "white")
        bar.paste((20, 20, 20), box)
        buf = io.BytesIO()
        bar.save(buf, "PNG")
        at.file_uploader(key=f"{key}.upload").set_value((name, buf.getvalue(), "image/png")).run()
        no_exception(at)
        shown.append([img.url for element in at.get("image") for img in element.proto.imgs])
    assert shown[0] and shown[1] != shown[0]


def test_numbers_lesson_shows_the_shape_and_count():
    at = open_lesson("lessons/image_as_numbers.py")
    assert at.metric[0].value == "64 × 64 × 3"
    assert any("12,288" in c.value for c in at.caption)


def card_rows(at) -> dict[str, str]:
    """The step card (per channel in colour, sum, + bias, output, ReLU) as {label: value}."""
    body = next(h.proto.body for h in at.get("html") if "cnnviz-card" in h.proto.body)
    pairs = re.findall(r'<span class="cnnviz-card-label"[^>]*>(.*?)</span><span[^>]*>(.*?)</span>', body)
    return {html.unescape(k): html.unescape(v) for k, v in pairs}


def test_convolution_opens_on_the_article_6600():
    at = open_lesson("lessons/convolution.py")
    no_exception(at)
    texts = " ".join(m.value for m in at.markdown)
    assert "**6600**" in texts
    card = card_rows(at)
    assert (card["Σ of the 49 products"], card["+ bias"], card["= output"], card["after ReLU"]) == \
        ("6600", "0", "6600", "6600")
    assert [m.value for m in at.metric][:3] == ["64 × 64 × 1", "7 × 7 × 1", "58 × 58 × 1"]


def test_convolution_colour_depth_shows_per_channel_sums():
    at = open_lesson("lessons/convolution.py")
    at.radio(key="conv.depth").set_value("rgb").run()
    no_exception(at)
    assert at.metric[1].value == "7 × 7 × 3"
    card = card_rows(at)
    line = next(label for label in card if label.startswith("R "))      # "R 6600 + G 6600 + B 6600", one line
    read = lambda v: float(v.replace(",", ""))                   # noqa: E731 - 19,800: grouped from 5 digits
    sums = [read(v) for v in re.fullmatch(r"R (\S+) \+ G (\S+) \+ B (\S+)", line).groups()]
    # the three channel sums add up to the total the card shows (bias 0)
    assert sum(sums) == pytest.approx(read(card["Σ of the 147 products"]))
    assert read(card["= output"]) == pytest.approx(sum(sums))


def test_stepping_changes_the_position():
    at = open_lesson("lessons/convolution.py")
    before = at.slider(key="conv.t").value
    assert slider_hidden(at)                     # while the question below is open (the browser test sees it)
    at.button(key="conv.next").click().run()
    assert at.slider(key="conv.t").value == before + 1       # stepping works all the same
    at.button(key="conv.predict.skip_step").click().run()   # "Skip: show where": the slider is shown
    assert not slider_hidden(at) and at.slider(key="conv.t").value == before + 1
    at.button(key="conv.first").click().run()
    assert at.slider(key="conv.t").value == 0
    no_exception(at)


def slider_hidden(at) -> bool:
    """Whether the position slider is in its hidden box (``display:none``)."""
    return any(".st-key-conv-t-hidden{display:none" in h.proto.body for h in at.get("html"))


def _step_view_text(at) -> str:
    """What the step view and the map show a learner: pictures' captions, the matrices (their numbers
    and hover titles), the card, colour bars, metrics, sliders (the self-check's fresh numbers left out)."""
    parts = [i.caption for e in at.get("image") for i in e.proto.imgs] + [m.value for m in at.metric]
    parts += [f"{w.label} {w.value}" for w in at.slider if w.key != "conv.t" or not slider_hidden(at)]
    for h in at.get("html"):
        body = h.proto.body
        if any(k in body for k in ("cnnviz-step-matrices", "cnnviz-card", "cnnviz-legend")):
            body = re.sub(r"<(style|script)>.*?</\1>", "", body, flags=re.S)
            parts += re.findall(r'title="([^"]*)"', body) + re.findall(r'data-(?:lo|hi)="([^"]*)"', body)
            parts.append(re.sub(r"<[^>]+>", " ", body))
    return html.unescape("\n".join(parts))


def _click(at, row: float, col: float, side: int = 64, shown: int = 420):
    """A click on pixel (row, col) of the lesson's clickable picture (the component's value)."""
    comp = at.get("component_instance")[0].proto.id.split("-", 2)[2]
    k = shown / side
    at.session_state[comp] = {"x": (col + 0.5) * k, "y": (row + 0.5) * k, "width": shown, "height": shown,
                              "unix_time": 1}
    return at.run()


@pytest.mark.parametrize("lang, title, where", [("en", "Output of this window", "Orange box: rows 44–50"),
                                                 ("pt_BR", "Saída desta janela", "Caixa laranja: linhas 44–50")])
def test_convolution_hides_where_the_kernel_is_until_the_guess(lang, title, where):
    """Issue 17: the page opens on the mouse's tail (6600), one row from the strongest answer (9000):
    until the learner clicks where the kernel fires most, nothing on the page says where it is."""
    at = open_lesson("lessons/convolution.py", lang)
    no_exception(at)
    card = card_rows(at)
    assert list(card.values())[-1] == "6600"                        # the article's opening, kept
    body = next(h.proto.body for h in at.get("html") if "cnnviz-card" in h.proto.body)
    assert title in body
    text = _step_view_text(at)
    assert not re.search(r"\b(44|56|2602|2[.,]?603)\b", text), "the position"
    assert not re.search(r"\b9[.,]?000\b", text), "the strongest answer"
    assert where.split(":")[0] not in text and slider_hidden(at)   # no picture of it, no slider
    _click(at, 48, 53)                                               # the tail: the guess is made
    no_exception(at)
    text = _step_view_text(at)
    assert where in text and at.slider(key="conv.t").value == 44 * 58 + 50
    assert any("cnnviz-legend" in h.proto.body and "data-hi=\"9000.0\"" in h.proto.body for h in at.get("html"))


def numbers_tab(at):
    """Open the kernel's Numbers tab (only the open tab runs)."""
    at.session_state["conv.tab"] = at.tabs[2].label
    return at.run()


def test_letters_in_a_pasted_kernel_are_explained_in_portuguese():
    at = numbers_tab(open_lesson("lessons/convolution.py", "pt_BR"))
    at.text_area(key="conv.paste").input("1 0 -1\n2 x -2\n1 0 -1").run()
    no_exception(at)
    assert any("Linha 2, coluna 2" in e.value for e in at.error)
    # the lesson keeps working with the last valid kernel
    assert "**6600**" in " ".join(m.value for m in at.markdown)
    at.text_area(key="conv.paste").input("1 0 -1\n2 0 -2\n1 0 -1").run()
    no_exception(at)
    assert not at.error
    assert at.metric[1].value == "3 × 3 × 1"


@pytest.mark.parametrize("text, key, params", [
    ("nan 1\n1 1", "not_finite", dict(row=1, col=1, value="nan")),
    ("inf 1\n1 1", "not_finite", dict(row=1, col=1, value="inf")),
    ("1 2\n3", "ragged", dict(row=2, got=1, want=2)),
    ("   ", "empty", {}),
    ("1 1\n1 ,", "not_a_number", dict(row=2, col=2, value=",")),
])
def test_other_bad_pasted_kernels(text, key, params):
    at = numbers_tab(open_lesson("lessons/convolution.py"))
    at.text_area(key="conv.paste").input(text).run()
    no_exception(at)
    assert [e.value for e in at.error] == [t(f"kernels.error.{key}", "en", **params)]   # what is wrong, and where


def test_kernel_bigger_than_the_image_is_explained():
    at = open_lesson("lessons/convolution.py")
    at.selectbox(key="conv.side").set_value(16).run()
    at.number_input(key="conv.dilation").set_value(4).run()  # 7x7 dilated by 4 spans 25 pixels
    no_exception(at)
    assert any("25" in e.value for e in at.error)


def test_presets_switch_the_kernel():
    at = open_lesson("lessons/convolution.py")
    at.selectbox(key="conv.preset").set_value("sobel_x").run()
    no_exception(at)
    assert at.metric[1].value == "3 × 3 × 1"
    at.selectbox(key="conv.preset").set_value("gaussian_blur").run()
    at.select_slider(key="conv.preset_size").set_value(9).run()
    no_exception(at)
    assert at.metric[1].value == "9 × 9 × 1"


def test_language_switch():
    at = open_lesson("lessons/convolution.py", "en")
    assert at.title[0].value == "Convolution: slide a kernel"
    at.selectbox(key="lang_picker").set_value("pt_BR").run()
    no_exception(at)
    assert at.title[0].value == "Convolução: deslize um kernel"


@pytest.mark.parametrize("setting", ["stride", "dilation"])
def test_zero_stride_or_dilation_is_explained_in_portuguese(setting):
    at = open_lesson("lessons/convolution.py", "pt_BR")
    at.number_input(key=f"conv.{setting}").set_value(0).run()
    no_exception(at)
    assert at.error and "não é permitid" in at.error[0].value
    at.number_input(key=f"conv.{setting}").set_value(1).run()
    assert not at.error


def test_bias_is_typed_in_the_learners_format():
    at = open_lesson("lessons/convolution.py", "pt_BR")
    assert at.text_input(key="conv.bias").value == "0,00"
    at.text_input(key="conv.bias").input("-2,5").run()
    card = card_rows(at)
    assert (card["+ viés"], card["= saída"], card["depois da ReLU"]) == ("-2,5", "6597,5", "6597,5")
    at.text_input(key="conv.bias").input("dois").run()          # letters: a message, the last good bias kept
    no_exception(at)
    assert any("dois" in e.value and "não é um número" in e.value for e in at.error)
    assert card_rows(at)["= saída"] == "6597,5"
