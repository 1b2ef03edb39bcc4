"""AppTest for "Inside a CNN": each model choice, the offline ImageNet path, your own weights."""

import io
import re
from pathlib import Path

import pytest
from app_helpers import open_lesson
import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

torch = pytest.importorskip("torch")

from cnnviz import models  # noqa: E402
from cnnviz.i18n import t  # noqa: E402


def message_pattern(key: str, lang: str, **params) -> tuple[str, str]:
    """The text before and after the ``detail`` placeholder of message ``key`` (the detail is the
    library's own words, e.g. safetensors' "header too large")."""
    before, after = t(key, lang, detail="\0", **params).split("\0")
    return before, after


def open_inside(lang="en", model=None, draw=False) -> AppTest:
    # the softmax waits for a guess (issue 13, tests/test_app_predict.py): these tests skip it
    return open_lesson("lessons/inside_a_cnn.py", lang, state={**({"model": model} if model else {}), "inside.draw": draw,
                                                         "inside.predict.skip": True})


def test_digits_with_the_sample_predicts_and_shows_every_section():
    at = open_inside()
    assert not at.error, [e.value for e in at.error]
    # MNIST's first test picture, the network's own world: the network says 7
    assert [(m.label, m.value) for m in at.metric] == [(t("inside.prediction", "en"), "7")]
    headers = [h.value for h in at.header]
    assert headers[:5] == [t("inside.input_header", "en"), t("inside.arch_header", "en"),
                           t("inside.layer_header", "en", layer="conv1", c=32, h=28, w=28),   # the first layer of maps
                           t("inside.hier_header", "en"), t("inside.out_header", "en")]
    assert len(headers) == 6 and headers[5].endswith(t("exercises.header", "en"))   # then the self-check
    # the softmax formula is filled in with the real numbers
    assert any(r"\dfrac{e^{" in x.value for x in at.latex)


def test_draw_mode_waits_for_a_drawing():
    at = open_inside(draw=True)
    assert at.info[0].value == t("inside.draw_hint", "en")
    assert not at.metric


@pytest.mark.parametrize("layer", ["relu1", "pool1", "conv2", "pool2"])
def test_every_layer_of_digits(layer):
    at = open_inside()
    at.session_state["inside.layer"] = layer
    at.run()
    assert not at.exception
    assert any(layer in h.value for h in at.header)


@pytest.mark.parametrize("name", ["fashion", "tiny-rgb"])
def test_other_bundled_models(name):
    if not (models.WEIGHTS_DIR / f"{name}.safetensors").exists():
        pytest.skip(f"{name} weights not built yet (python -m cnnviz.train {name})")
    at = open_inside(model=name)
    assert not at.error
    prediction = at.metric[0].value
    assert prediction in models.load(name).class_labels("en")       # one of this network's classes
    if at.radio(key="inside.src").value == "dataset":                # its first test picture, got right
        assert prediction == {"fashion": "Ankle boot", "tiny-rgb": "cat"}[name]


def test_imagenet_model_offline_says_what_is_missing_and_random_weights_work(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache: nothing downloaded
    at = open_inside("pt_BR", model="resnet18")
    warning = " ".join(w.value for w in at.warning)
    assert "resnet18-f37072fd.pth" in warning and str(tmp_path) in warning
    assert not at.metric  # no model yet
    at.toggle(key="model.random.resnet18").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    # ResNet-18 with random weights still runs through every layer: its answer is one of ImageNet's
    # classes (whichever: the weights are random), with its probability in the learner's numbers
    [metric] = at.metric
    assert metric.label == t("inside.prediction", "pt_BR")
    assert metric.value in models.load("resnet18", pretrained=False).class_labels("pt_BR")
    assert re.fullmatch(r"\d{1,3},\d %", metric.proto.delta), metric.proto.delta
    assert any("conv1" in h.value and "112" in h.value for h in at.header), [h.value for h in at.header]
    # feature visualization: one channel at a time, on a click (a ResNet-18 grid would take hours)
    channel = at.selectbox(key="inside.channel.conv1").value
    assert at.button(key="inside.fv.one_button").label == t("inside.fv_one_button", "pt_BR", c=channel)
    assert not [b for b in at.button if b.key == "inside.fv.grid_button"]
    from cnnviz.analysis import featviz
    monkeypatch.setattr(featviz, "LARGE_STEPS", 2)       # the view, not the picture: 2 steps at 224 px
    at.button(key="inside.fv.one_button").click().run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    assert not [b for b in at.button if b.key == "inside.fv.one_button"]
    assert t("inside.fv_one_hint", "pt_BR") not in [c.value for c in at.caption]


def _upload(at, data: bytes, name: str):
    at.file_uploader(key="model.own_weights").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]


def test_own_safetensors_model_is_used():
    at = open_inside(model="__own__")
    digits = models.load("digits")
    _upload(at, models.to_safetensors(digits.model), "my_digits.safetensors")
    assert not at.error, [e.value for e in at.error]
    assert [(m.label, m.value) for m in at.metric] == [(t("inside.prediction", "en"), "3")]   # no dataset of its own: the sample digit, a 3


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (Path(self.path), "pwned"))


def test_malicious_pickle_upload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned.txt"
    buf = io.BytesIO()
    torch.save({"conv1.weight": torch.zeros(1), "payload": _Evil(marker)}, buf)
    at = open_inside("pt_BR", model="__own__")
    _upload(at, buf.getvalue(), "evil.pt")
    assert not marker.exists()
    assert [e.value for e in at.error] == [t("models.user_pickle_refused", "pt_BR", file="evil.pt")]   # refused, never run


def test_garbage_weights_upload_is_explained():
    at = open_inside(model="__own__")
    _upload(at, b"\x00\x01not weights at all" * 10, "model.safetensors")
    [error] = [e.value for e in at.error]     # which file, that it isn't safetensors, how to save one
    before, after = message_pattern("models.user_bad_safetensors", "en", file="model.safetensors")
    assert error.startswith(before) and error.endswith(after) and len(error) > len(before + after), error
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    _upload(at, png.getvalue(), "model.pth")
    [error] = [e.value for e in at.error]     # a picture named .pth: not PyTorch weights, what to upload
    before, after = message_pattern("models.user_bad_file", "en", file="model.pth")
    assert error.startswith(before) and error.endswith(after) and len(error) > len(before + after), error


def test_download_without_internet_says_where_to_put_the_file(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(*_args, **_kw):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", offline)   # the same answer as a machine with no network
    at = open_inside("pt_BR", model="resnet18")
    at.button(key="model.download.resnet18").click().run()
    assert not at.exception, [e.value for e in at.exception]
    message = " ".join(e.value for e in at.error)
    assert "resnet18-f37072fd.pth" in message and str(tmp_path) in message, message
    assert not list(tmp_path.rglob("*.part")), "no half-downloaded file is left behind"


def _latex(at) -> str:
    return " ".join(x.value for x in at.latex)


def test_the_softmax_formula_shows_the_predicted_class_and_a_sum_that_adds_up():
    """Issue 10: a drawn 7 gave e^19.16 / (e^-14.03 + e^-2.31 + ...) = 1.0000, the 7's term hidden
    behind "..."; the predicted class's term must be in the denominator and the rest summed."""
    from cnnviz import data

    at = open_inside()
    assert at.metric[0].value == "7"
    digits = models.load("digits")
    with torch.no_grad():
        logits = digits.model(digits.preprocess(data.example_image("mnist", 0)))[0].tolist()
    z7 = f"e^{{{logits[7]:.2f}}}"
    formula = _latex(at)
    assert formula.count(z7) == 2, formula           # numerator and denominator
    assert r"\dots" not in formula
    assert "6 others" in formula
    caption = " ".join(c.value for c in at.caption)
    assert "the 6 others together add" in caption, caption


def test_the_model_picker_is_in_the_page_not_below_the_sidebar_fold():
    at = open_inside()
    assert "model" in [s.key for s in at.main.selectbox]
    assert "model" not in [s.key for s in at.sidebar.selectbox]


def test_every_map_has_a_colour_bar_and_the_caption_matches_the_colours():
    at = open_inside()
    at.session_state["inside.layer"] = "relu1"          # after a ReLU: no negative value
    at.run()
    html = " ".join(h.proto.body for h in at.get("html"))
    kinds = re.findall(r'class="cnnviz-legend" data-kind="(\w+)"', html)
    # the grid after the ReLU (no negative value), the filter (grey), conv1 before / relu1 after on
    # one signed scale, then each of the hierarchy's three rows (relu1, relu2, pool2)
    assert kinds == ["sequential", "gray", "diverging", "sequential", "sequential", "sequential"], kinds
    captions = " ".join(c.value for c in at.caption)
    assert "Red = large positive" not in captions and "no value is negative" in captions
    at.session_state["inside.layer"] = "conv1"          # before the ReLU: signed
    at.run()
    html = " ".join(h.proto.body for h in at.get("html"))
    assert 'data-kind="diverging"' in html
    assert "blue = negative" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("lang, word", [("en", "saturated"), ("pt_BR", "saturado")])
def test_a_channel_whose_top_images_all_tie_is_explained(lang, word):
    """Issue 10: conv1 channels whose top images all score the same. Digits conv1 channel 21:
    seven of its eight top images score exactly 3.31 (a row of pure white ink over black);
    channel 3 peaks on the plain black background, all 1,000 test images tie."""
    at = open_inside(lang)
    at.session_state["inside.layer"] = "conv1"
    at.run()
    for channel, count in ((21, "7"), (3, "8")):
        at.selectbox(key="inside.channel.conv1").set_value(channel).run()
        assert not at.exception
        messages = " ".join(i.value for i in at.info)
        assert word in messages and f" {count} " in messages, messages
    at.selectbox(key="inside.channel.conv1").set_value(0).run()
    assert word not in " ".join(i.value for i in at.info)


def test_top_image_panels_are_drawn_once_for_everybody_and_bounded(monkeypatch):
    """The top images' pictures and patches are kept as PNG (the same for every learner): a rerun
    shows the same pictures without drawing them again, and the store stays within its bound.
    The second row waits until its expander is opened (a class mostly looks at the first)."""
    from cnnviz import figures
    from cnnviz.base.kept import Kept
    from cnnviz.ui import inside as ui_inside

    monkeypatch.setattr(ui_inside, "_PANELS", Kept(max_items=ui_inside.PANELS_KEPT))
    drawn = []
    encode = figures.png_bytes
    monkeypatch.setattr(figures, "png_bytes", lambda img, **kw: drawn.append(img.size) or encode(img, **kw))
    at = open_inside()
    assert not at.exception
    assert len(ui_inside._PANELS) == 4 and len(drawn) == 8  # the first row: 4 top images, 4 patches
    first = [i.url for e in at.get("image") for i in e.proto.imgs]
    at.session_state["inside.top_more"] = True              # the learner opens "4 more"
    at.run()
    kept = dict(ui_inside._PANELS.entries)
    assert len(kept) == 8 and len(drawn) == 16              # 8 top images of the channel, 8 patches
    shown = [i.url for e in at.get("image") for i in e.proto.imgs]
    assert len(shown) == len(first) + 8 and set(first) < set(shown)
    at.run()
    assert ui_inside._PANELS.entries == kept and len(drawn) == 16   # nothing drawn again
    assert [i.url for e in at.get("image") for i in e.proto.imgs] == shown
    assert all(url.endswith(".png") for url in shown)       # crisp pixels, not JPEG
    monkeypatch.setattr(ui_inside._PANELS, "max_items", 4)
    at.session_state["inside.layer"] = "conv2"              # another layer: new panels, the oldest go
    at.run()
    assert not at.exception and len(ui_inside._PANELS) == 4


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_layer_table_is_built_when_opened(lang):
    """Every layer's shape, weights and receptive field: built when the learner opens it (a class
    rerunning the page doesn't pay for a table nobody opened), then in the learner's numbers."""
    from cnnviz.i18n import t

    at = open_inside(lang)
    assert not at.dataframe
    at.session_state["inside.table"] = True
    at.run()
    assert not at.exception and len(at.dataframe) == 1
    table = at.dataframe[0].value
    code = lang
    # every layer of the digits network, in order, with its kind
    assert list(table[t("inside.col_layer", code)]) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                                         "flatten", "fc1", "relu3", "fc2"]
    assert list(table[t("inside.col_kind", code)]) == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d",
                                                        "Flatten", "Linear", "ReLU", "Linear"]
    sep = "." if code == "pt_BR" else ","
    weights = list(table[t("inside.col_params", code)])
    assert "320" in weights and f"18{sep}496" in weights, weights     # in the learner's format: 18.496 / 18,496
    total = sum(int(v.replace(sep, "")) for v in weights)
    shown = t("inside.total_params", code, n=f"{total:,}".replace(",", sep))
    assert shown in [c.value for c in at.caption], [c.value for c in at.caption]


def true_class_captions(at: AppTest) -> list[str]:
    return [i.caption for e in at.get("image") for i in e.proto.imgs if i.caption.startswith(("True class", "Classe"))]


@pytest.mark.parametrize("lang, true7, hidden, option7", [
    ("en", "True class: 7", "True class: ?", "“7”, test image 0"),
    ("pt_BR", "Classe verdadeira: 7", "Classe verdadeira: ?", "“7”, imagem de teste 0")])
def test_the_true_class_waits_with_the_answer(lang, true7, hidden, option7):
    """Issue 17: "True class: 7" and the test picture's label "“7”, test image 0" were shown beside
    "The network's answer is hidden". Hidden until the learner guesses (or skips), then shown."""
    at = open_lesson("lessons/inside_a_cnn.py", lang, state={"inside.draw": False})
    assert not at.metric                                          # the answer is hidden...
    example = at.selectbox(key="inside.example")
    assert example.value == 0 and all("“?”" in o for o in example.options), example.options
    assert true_class_captions(at) == [hidden]                    # ... and so is the true class
    assert not any("7" in o for o in example.options[:1])
    # the learner guesses 4 (wrong): the network's answer and the picture's true class appear
    pick = next(s for s in at.selectbox if (s.key or "").startswith("inside.predict.pick."))
    pick.set_value(4).run()
    at.button(key="inside.predict.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value == "7"
    assert true_class_captions(at) == [true7]
    assert at.selectbox(key="inside.example").options[0] == option7
    # another picture: asked again, its class hidden again
    at.selectbox(key="inside.example").set_value(1).run()
    assert not at.metric and true_class_captions(at) == [hidden]
    at.button(key="inside.predict.skip_button_top").click().run()  # "Skip": shown for the session
    assert not at.exception
    assert [m.value for m in at.metric] == ["2"] and true_class_captions(at) == [true7.replace("7", "2")]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_learned_filter_has_a_colour_bar_with_its_weights(lang):
    """The filter behind the enlarged map comes with a grey colour bar whose ends are ± the
    filter's largest weight (mid-grey = 0), read back from the network's own conv layer."""
    import re

    from cnnviz.i18n import t

    at = open_inside(lang)
    legends = [h.proto.body for h in at.get("html")
               if "cnnviz-legend" in h.proto.body and t("inside.filter_legend", lang) in h.proto.body]
    assert len(legends) == 1, "one colour bar under the filter"
    lo, hi = (float(v) for v in re.search(r'data-lo="([^"]+)" data-hi="([^"]+)"', legends[0]).groups())
    assert lo == pytest.approx(-hi) and hi > 0
    loaded = models.load("digits")
    convs = [m.weight.detach() for m in loaded.model.modules() if isinstance(m, torch.nn.Conv2d)]
    reaches = [float(w[c].abs().max()) for w in convs for c in range(w.shape[0])]
    assert any(abs(r - hi) < 1e-6 for r in reaches)


# ---------------------------------------------------------------- feature visualization (issue 20)
def _fv_open(lang, monkeypatch):
    """Inside on the digits network (conv1, 32 channels); the feature pictures start empty for the
    class, and take 32 steps, not 256 (the views are tested here; the pictures in test_featviz.py)."""
    from cnnviz.analysis import featviz
    from cnnviz.base.kept import Kept
    from cnnviz.ui import featviz as ui_featviz

    monkeypatch.setattr(ui_featviz, "_PICTURES", Kept(max_bytes=ui_featviz.KEPT_BYTES, size=lambda a: a.nbytes))
    monkeypatch.setattr(featviz, "STEPS", 32)
    return open_inside(lang)


def _texts(at) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def test_feature_grid_is_computed_on_a_click_then_asked_before_it_is_shown(monkeypatch):
    from cnnviz.ui import featviz as ui_featviz

    at = _fv_open("pt_BR", monkeypatch)
    grid_title = t("inside.fv_grid_title", "pt_BR", n=32, layer="conv1")
    # the default view computes nothing: a button (in Portuguese) and the promise of once for the class
    button = at.button(key="inside.fv.grid_button")
    assert button.label == t("inside.fv_grid_button", "pt_BR", n=32, layer="conv1")
    assert t("inside.fv_grid_hint", "pt_BR", n=32) in _texts(at)
    assert len(ui_featviz._PICTURES) == 0
    button.click().run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    assert len(ui_featviz._PICTURES) == 1                       # kept for the class: 32 pictures of 28 x 28
    [kept] = ui_featviz._PICTURES.entries.values()
    assert kept.shape == (32, 28, 28) and kept.dtype == np.uint8
    channel = at.selectbox(key="inside.channel.conv1").value
    # predict first: the question about this channel, four patterns, no grid and no channel numbers yet
    ask = t("inside.fv_ask", "pt_BR", c=channel)
    assert ask in _texts(at) and grid_title not in _texts(at)
    pick = at.selectbox(key=[s.key for s in at.selectbox if s.key and s.key.startswith("featviz.predict.pick.")][0])
    assert pick.label == t("inside.fv_pick", "pt_BR")
    assert pick.options == [t("inside.fv_pattern", "pt_BR", letter=x) for x in "ABCD"]
    pick.set_value(0).run()
    at.button(key="featviz.predict.reveal").click().run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    said = [m.value for m in at.success] + [m.value for m in at.warning]
    options = ui_featviz._options(models.load("digits"), "conv1", channel, 32)
    right = "ABCD"[options.index(channel)]
    pattern = t("inside.fv_pattern", "pt_BR", letter=right)
    if right == "A":
        assert t("inside.fv_right", "pt_BR", p=pattern, c=channel) in said, said
    else:
        assert t("inside.fv_wrong", "pt_BR", g=t("inside.fv_pattern", "pt_BR", letter="A"), gc=options[0],
                 p=pattern, c=channel) in said, said
    assert grid_title in _texts(at)                           # then the whole grid
    # the optimized picture's peak beside the patches' peaks, recomputed with plain torch from the picture kept
    import torch

    loaded = models.load("digits")
    seen = {}
    handle = dict(loaded.model.named_modules())["conv1"].register_forward_hook(lambda m, i, o: seen.update(out=o))
    try:
        with torch.no_grad():
            loaded.model((torch.as_tensor(kept[channel] / 255.0, dtype=torch.float32)[None, None] - loaded.mean[0])
                         / loaded.std[0])
    finally:
        handle.remove()
    value = f"{float(seen['out'][0, channel].max()):.2f}".replace(".", ",")
    captions = [i.caption for e in at.get("image") for i in e.proto.imgs]
    assert t("inside.fv_optimized_peak", "pt_BR", c=channel, v=value) in captions, captions


def test_a_kept_grid_reaches_the_next_learner_at_once_with_several_optima_and_a_pair(monkeypatch):
    from cnnviz.ui import featviz as ui_featviz

    first = _fv_open("en", monkeypatch)
    first.button(key="inside.fv.grid_button").click().run(timeout=300)
    at = open_inside("en")                                       # another learner, another session
    at.session_state["featviz.predict.skip"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [b for b in at.button if b.key == "inside.fv.grid_button"]      # no click, no wait
    assert t("inside.fv_grid_title", "en", n=32, layer="conv1") in _texts(at)
    channel = at.selectbox(key="inside.channel.conv1").value
    at.button(key="inside.fv.diverse_button").click().run(timeout=300)
    assert t("inside.fv_diverse_title", "en", n=4, c=channel) in _texts(at)
    other = at.selectbox(key=f"inside.fv.pair.conv1.{channel}").value
    at.button(key="inside.fv.pair_button").click().run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    assert t("inside.fv_pair_caption", "en") in _texts(at)
    keys = {k[3:] for k in ui_featviz._PICTURES.entries}
    assert keys == {("grid", "conv1"), ("diverse", "conv1", channel), ("pair", "conv1", channel, other)}
    assert ui_featviz._PICTURES.total < 100_000                  # 32 + 4 + 1 pictures of 28 x 28 bytes
