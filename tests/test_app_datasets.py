"""AppTest for the Datasets lesson: the full MNIST and the bundled samples, the predict-then-reveal
of the average pixel, the numbers it then states (recomputed here with numpy from the files), and
the learner's own pictures with a bad upload."""

import base64
import io
import json

import numpy as np
import pytest
from app_helpers import ROOT, mean_and_std, open_lesson
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz.data import datasets
from cnnviz.i18n import number, t

PAGE = "lessons/datasets.py"


def _idx_images(path) -> np.ndarray:
    """The images of an idx file (16-byte header), read with numpy alone."""
    return np.frombuffer(path.read_bytes(), np.uint8, offset=16)


def _texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def _reveal(at, band: int):
    about = next(k for k in at.session_state if str(k).startswith("datasets.predict.pick."))
    at.selectbox(key=about).set_value(band).run()
    at.button(key="datasets.predict.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_mnist_the_guess_then_the_numbers_the_network_uses(lang):
    if datasets.source("mnist") != "full":
        pytest.skip("the full MNIST is not in the data root (CNNVIZ_DATA)")
    at = open_lesson(PAGE, lang)
    assert not at.error, [e.value for e in at.error]
    name = t("datasets.short.mnist", lang)
    assert t("datasets.looking_full", lang, n=60000, name=name, folder=str(datasets.data_root())) in _texts(at)
    # the shape and the numbers stored: 28 x 28 x 1, 784 per picture, 47,040,000 in all
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("datasets.shape", lang)] == "28 × 28 × 1"
    assert metrics[t("datasets.all_values", lang)] == number(60000 * 28 * 28, lang)
    # nothing gives the answer away before the guess
    assert t("datasets.stats_hidden", lang) in [c.value for c in at.caption]
    assert not [m for m in _texts(at) if m.startswith("| ")]
    (mean,), (std,) = mean_and_std(_idx_images(datasets.data_root() / "MNIST/raw/train-images-idx3-ubyte"))
    assert mean < 0.25                                       # mostly dark: band 0
    _reveal(at, 1)                                           # a wrong guess
    bands = [t(f"datasets.band.{i}", lang) for i in range(4)]
    assert t("datasets.predict_wrong", lang, g=bands[1], m=number(mean, lang, 3), band=bands[0]) in \
        [w.value for w in at.warning]
    table = next(m for m in _texts(at) if m.startswith("| "))
    row = table.splitlines()[2]
    # computed now = the constants the network uses, to their 4 decimals; normalized: mean 0, std 1
    assert row == (f"| {t('datasets.gray', lang)} | {number(mean, lang, 4)} | {number(0.1307, lang, 4)} | "
                   f"{number(std, lang, 4)} | {number(0.3081, lang, 4)} | {number(0, lang, 2)} / "
                   f"{number(1, lang, 2)} |"), row
    assert t("datasets.match", lang, n=number(60000, lang)) in _texts(at)
    # black and white once normalized: (0 - 0.1307) / 0.3081 and (1 - 0.1307) / 0.3081
    normalized = t("datasets.normalize_text", lang, m=number(0.1307, lang, 4), s=number(0.3081, lang, 4),
                   black=number(-0.1307 / 0.3081, lang, 2), white=number(0.8693 / 0.3081, lang, 2))
    assert normalized in _texts(at)
    # the DataLoader: 60,000 / 64 rounded up = 938 batches, the last of 32
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("datasets.batch_shape", lang)] == "64 × 1 × 28 × 28"
    assert metrics[t("datasets.steps", lang)] == "938"
    assert not at.exception


def test_the_bundled_samples_on_a_fresh_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path / "nothing"))
    at = open_lesson(PAGE, "en")
    assert at.selectbox(key="datasets.dataset").options == \
        [t(f"datasets.ds.{d}", "en") for d in ("mnist", "fashion", "cifar10-subset", "own")]
    for name in ("fashion", "cifar10-subset"):
        at.selectbox(key="datasets.dataset").set_value(name).run()
        assert not at.exception, [e.value for e in at.exception]
        sample = datasets.load_sample(name)
        assert t("datasets.looking_sample", "en", n=1000, name=t(f"datasets.short.{name}", "en"),
                 folder=str(tmp_path / "nothing")) in _texts(at)
        at.button(key="datasets.predict.skip_button").click().run()
        table = next(m for m in _texts(at) if m.startswith("| "))
        for row, m, s in zip(table.splitlines()[2:], *mean_and_std(sample.data, 1 if name == "fashion" else 3)):
            cells = [c.strip() for c in row.strip("|").split("|")]
            assert cells[1] == number(m, "en", 4) and cells[3] == number(s, "en", 4), (name, row)
        assert t("datasets.differ_sample", "en", n="1000") in _texts(at)
        # the class counts the bars show: the sample's own
        bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
        assert _values(bars["y"]) == np.bincount(sample.targets, minlength=10).tolist(), name
        at.session_state["datasets.predict.skip"] = False      # the next dataset asks again


def _values(y) -> list[int]:
    """A plotly trace's numbers, written as a list or as a typed array ({"dtype", "bdata"})."""
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"])).tolist()
    return [int(v) for v in y]


def _png(colour, seed, size=(40, 60)) -> bytes:
    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(colour)[None, None] * 0.8 + rng.uniform(0, 50, (*size, 3)), 0, 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["pt_BR"])
def test_own_pictures_with_a_bad_upload(lang):
    at = open_lesson(PAGE, lang)
    at.selectbox(key="datasets.dataset").set_value("own").run()
    assert not at.exception
    assert any(i.value == t("data.error.own_none", lang) for i in at.info)
    files = [(f"p{i}.png", _png((200, 40, 40), i), "image/png") for i in range(5)]
    at.file_uploader(key="datasets.own_files").set_value(files + [("broken.png", b"\x89PNG no", "image/png")]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("datasets.own_bad", lang, names="broken.png") in [w.value for w in at.warning]
    assert t("datasets.looking_own", lang, n=5, side=64) in _texts(at)
    at.button(key="datasets.predict.skip_button").click().run()
    # the statistics of the five pictures as kept (centred square, 64 x 64), recomputed with PIL and numpy
    kept = []
    for _, data, _ in files:
        img = Image.open(io.BytesIO(data)).convert("RGB")
        w, h = img.size
        box = ((w - h) // 2, 0, (w - h) // 2 + h, h)
        kept.append(np.asarray(img.resize((64, 64), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)))
    pixels = np.stack(kept).reshape(-1, 3).astype(np.float64) / 255
    table = next(m for m in _texts(at) if m.startswith("| "))
    for row, m in zip(table.splitlines()[2:], pixels.mean(axis=0)):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert abs(float(cells[1].replace(",", ".")) - m) <= 0.00051, (row, m)
    assert t("datasets.differ_own", lang, n="5") in _texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("datasets.batch_shape", lang)] == "5 × 3 × 64 × 64"


def test_a_link_opens_the_same_view():
    """A teacher's link names the dataset and the class by id (not by their words in one language)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params.update({"lang": "pt_BR", "datasets.data": "cifar10-subset", "datasets.class": "3",
                            "datasets.batch": "128", "datasets.seed": "2"})
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="datasets.dataset").value == "cifar10-subset"
    assert at.selectbox(key="datasets.aug_class").value == 3 and at.number_input(key="datasets.seed").value == 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("datasets.batch_shape", "pt_BR")] == "128 × 3 × 32 × 32"
    if datasets.source("cifar10-subset") == "full":           # 4,000 of CIFAR-10's 50,000 training images: 8 %
        assert t("datasets.looking_subset", "pt_BR", n=4000, name=t("datasets.short.cifar10-subset", "pt_BR"),
                 folder=str(datasets.data_root()), share="8", total=50000) in _texts(at)
    at.selectbox(key="datasets.dataset").set_value("fashion").run()
    assert at.query_params["datasets.data"] == "fashion"        # written back by the app
