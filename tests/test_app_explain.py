"""AppTest for "Where does the network look?": defaults, every method, the sanity check, bad input."""

import pytest
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest

pytest.importorskip("captum")


def open_explain(lang="en") -> AppTest:
    return open_lesson("lessons/explain.py", lang, timeout=300)


def skip_the_guess(at: AppTest) -> AppTest:
    """Grad-CAM and everything else that shows where the network looks wait for a guess (issues 13, 17)."""
    at.button(key="explain.predict.skip_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_defaults_show_gradcam_with_curves():
    at = open_explain("pt_BR")
    assert not at.error, [e.value for e in at.error]
    assert any("Grad-CAM" in h.value for h in at.header)
    assert not any("Área sob a curva" in c.value for c in at.caption)   # the curves wait for the guess too
    skip_the_guess(at)
    assert any("Área sob a curva" in c.value for c in at.caption)
    assert any(b.label == "Baixar a sobreposição (PNG)" for b in at.get("download_button"))


def pointing_question(at: AppTest):
    """The self-check's pointing-game question on screen (its map is ``q.figure["heatmap"]``)."""
    from cnnviz import course, exercises

    i = exercises.KINDS[course.url("explain")].index("explain.pointing")
    return at.session_state[f"sc.explain.{i}.question"][1]


def answer_map():
    """Grad-CAM of the digits network's answer (a 7) on MNIST's first test picture, at its usual layer."""
    from cnnviz.analysis import attribution as attr
    from cnnviz import data, models

    loaded = models.load("digits")
    x = loaded.preprocess(data.example_image("mnist", 0))
    return attr.explain("gradcam", loaded.model, x, target=7, layer=attr.default_layer(loaded.model, x)).map


def curves(at: AppTest) -> list:
    """The lesson's deletion/insertion charts (not the self-check's made-up ones)."""
    return [c for c in at.get("plotly_chart") if (c.key or "").startswith("explain.curve.")]


def method_maps(at: AppTest) -> list[str]:
    """Captions of the maps of "Other ways to ask" on the page (each is its method's about text)."""
    from cnnviz.analysis import attribution as attr
    from cnnviz.i18n import LANGUAGES, t

    about = {t(m.about_key, code) for m in attr.REGISTRY.values() for code in LANGUAGES}
    return [i.caption for e in at.get("image") for i in e.proto.imgs if i.caption in about]


def shown_maps(at: AppTest) -> list[str]:
    """Captions of every picture on the page that shows where the network looks: Grad-CAM's map,
    the other methods' maps and the sanity check's."""
    return [i.caption for e in at.get("image") for i in e.proto.imgs
            if i.caption.startswith(("Grad-CAM of", "Grad-CAM de")) or "ρ=" in i.caption] + method_maps(at)


@pytest.mark.parametrize("lang, hidden", [("en", "Hidden until you have guessed"), ("pt_BR", "Escondido até")])
def test_nothing_shows_where_it_looks_before_the_guess(lang, hidden):
    """Issue 17: before the learner's guess, Guided Grad-CAM and saliency ("Other ways to ask"),
    the deletion/insertion curves, the sanity check and the self-check's map showed the answer."""
    import numpy as np

    at = open_explain(lang)
    at.multiselect(key="explain.methods").set_value(["guided_gradcam", "saliency"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert shown_maps(at) == [], shown_maps(at)
    assert not curves(at), "no deletion / insertion curve before the guess"
    assert not [b for b in at.button if b.key == "explain.sanity_run"]
    assert len([i for i in at.info if hidden in i.value]) == 3           # other methods, trust lab, sanity check
    assert not at.subheader or all(s.value not in ("Guided Grad-CAM", "Saliency (gradient)", "Saliência (gradiente)")
                                   for s in at.subheader)
    # the self-check asks about a made-up map, not the map the learner is asked to predict
    real = answer_map()
    assert "explain.selfcheck_map" not in at.session_state
    assert not np.allclose(pointing_question(at).figure["heatmap"], real)

    skip_the_guess(at)
    assert any(c.startswith("Grad-CAM") for c in shown_maps(at))
    assert len(method_maps(at)) == 2                                       # Guided Grad-CAM, saliency
    assert len(curves(at)) == 3                                # a deletion/insertion chart per map
    assert [b for b in at.button if b.key == "explain.sanity_run"]
    assert not [i for i in at.info if hidden in i.value]
    assert np.allclose(pointing_question(at).figure["heatmap"], real)     # now the real one


def test_a_guess_reveals_everything_and_try_again_keeps_the_self_check():
    """A click (the guess) shows the maps and curves; "Try again" asks again, the self-check's real map stays."""
    import numpy as np

    at = open_explain()
    real = answer_map()
    # the learner's click, as the clickable picture gives it: the guess is kept for this network/picture/class/layer
    guess_context = next(k.split(".")[-1] for k in at.session_state if str(k).startswith("explain.predict.click."))
    at.session_state["explain.predict.guess"] = (guess_context, (14.0, 14.0))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Your click" in c for c in shown_maps(at))
    assert any(s.value.startswith(("A hit", "A miss")) for s in [*at.success, *at.warning])
    assert curves(at) and [b for b in at.button if b.key == "explain.sanity_run"]
    assert np.allclose(pointing_question(at).figure["heatmap"], real)
    at.button(key="explain.predict.again_button").click().run()           # "Try again": asked again
    assert not at.exception
    assert not any("Your click" in c for c in shown_maps(at)) and not curves(at)
    assert np.allclose(pointing_question(at).figure["heatmap"], real)     # the learner has seen it: kept


def target_box(at: AppTest):
    """The "Class to explain" selectbox (its key changes with the network and the picture)."""
    return next(s for s in at.selectbox if (s.key or "").startswith("explain.target."))


class Browser:
    """What a browser shows in a selectbox: the label last chosen in it (by the learner, or sent
    by the script) while that label is still an option, else the option at its default index.
    (Chromium may also keep showing a label that is gone; either way it is not the script's value,
    see tests/browser/test_explain_browser.py.)"""

    def __init__(self):
        self.chosen: dict[str, str] = {}

    def pick(self, box, value):
        self.chosen[box.id] = box.format_func(value)
        return box.set_value(value)

    def shown(self, box) -> str:
        if box.proto.set_value and box.proto.raw_value:
            self.chosen[box.id] = box.proto.raw_value
        label = self.chosen.get(box.id)
        return label if label in box.options else box.options[box.proto.default]


def explained_class(at: AppTest) -> int:
    """The class Grad-CAM was computed for (the memo of the map on screen)."""
    (model_id, picture, target, layer), options = at.session_state["explain.gradcam"][0]
    return target


def assert_one_class(at: AppTest, browser: Browser):
    """The selectbox shows and returns, and the heading and the map use, the same class."""
    assert not at.exception, [e.value for e in at.exception]
    box = target_box(at)
    shown = browser.shown(box)
    assert box.format_func(box.value) == shown
    assert at.header[0].value == f"Grad-CAM for “{shown.rsplit(' (', 1)[0]}”"
    assert explained_class(at) == box.value


def test_every_method_and_another_class():
    from cnnviz.analysis import attribution as attr
    from cnnviz.i18n import t

    methods = ["guided_gradcam", "guided_backprop", "saliency", "integrated_gradients", "occlusion"]
    at = skip_the_guess(open_explain())
    at.multiselect(key="explain.methods").set_value(methods).run()
    assert not at.exception, [e.value for e in at.exception]
    # a column per method, named, in the order picked; then the lesson's summary
    assert [s.value for s in at.subheader] == [t(attr.REGISTRY[m].label_key, "en") for m in methods] + [
        t("course.summary_title", "en")]
    target_box(at).set_value(8).run()
    assert not at.exception
    assert any("“8”" in h.value for h in at.header)
    assert explained_class(at) == 8


def test_class_follows_the_picture_and_the_network():
    """Issue 10: after a new picture the selectbox showed its prediction, the map the old class."""
    at, browser = open_explain(), Browser()
    at.radio(key="explain.src").set_value("sample").run()
    at.selectbox(key="explain.sample").set_value("digit").run()
    assert_one_class(at, browser)
    assert at.header[0].value == "Grad-CAM for “3”"
    at.selectbox(key="explain.sample").set_value("mouse").run()          # a new picture
    assert_one_class(at, browser)
    browser.pick(target_box(at), 8).run()                                 # the learner picks a class
    assert_one_class(at, browser)
    assert explained_class(at) == 8
    at.selectbox(key="explain.sample").set_value("letters").run()        # and changes the picture
    assert_one_class(at, browser)
    at.selectbox(key="model").set_value("fashion").run()        # a new network
    assert_one_class(at, browser)
    at.selectbox(key="model").set_value("tiny-rgb").run()
    assert_one_class(at, browser)
    at.radio(key="explain.src").set_value("sample").run()               # Tiny VGG, then another picture
    assert_one_class(at, browser)
    at.selectbox(key="explain.sample").set_value("shapes").run()
    assert_one_class(at, browser)


def test_each_network_opens_on_its_own_world():
    at = open_explain()
    seen = {}
    for name in ("digits", "fashion", "tiny-rgb"):
        at.selectbox(key="model").set_value(name).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.radio(key="explain.src").value == "dataset"
        example = at.selectbox(key="explain.example")
        seen[name] = example.options[0]
        assert len(example.options) == 10                  # one test picture of each class
        assert_one_class(at, Browser())
    # the test set's first pictures: a 7, an ankle boot, a cat, each with its true class
    assert seen == {"digits": "“7”, test image 0", "fashion": "“Ankle boot”, test image 0",
                    "tiny-rgb": "“cat”, test image 0"}
    # an ImageNet-free sample picked by hand is kept only until the network changes
    at.radio(key="explain.src").set_value("sample").run()
    at.selectbox(key="model").set_value("digits").run()
    assert at.radio(key="explain.src").value == "dataset"


def test_confidence_note_beside_the_prediction():
    at = open_explain("pt_BR")
    assert any("Confiante" in s.value for s in at.success)          # a test digit: sure, and familiar
    assert any("softmax" in c.value for c in at.caption)
    at.radio(key="explain.src").set_value("sample").run()
    at.selectbox(key="explain.sample").set_value("mouse").run()   # nothing like a digit, yet "8" at 100 %
    assert not at.exception, [e.value for e in at.exception]
    assert target_box(at).value == 8 and target_box(at).options[0] == "8 (99,8 %)"
    assert any("Imagem desconhecida" in w.value and "“8” recebe 99,8 %" in w.value for w in at.warning), \
        [w.value for w in at.warning]


def test_sanity_check_runs():
    from cnnviz.analysis import sanity

    at = skip_the_guess(open_explain())
    at.button(key="explain.sanity_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    steps = at.session_state["explain.checks"][1].steps
    assert [s.randomized for s in steps][:2] == ["", "fc2"]          # original, then from the top down
    assert steps[-1].rank_corr["gradcam"] < 0.5                     # Grad-CAM falls apart
    shown = [i.caption for e in at.get("image") for i in e.proto.imgs if "ρ=" in i.caption]   # ρ under each map
    assert len(shown) == len(sanity.default_methods()) * len(steps)
    at.run()                                                        # and stays on screen on the next rerun
    assert not at.exception
    assert [i.caption for e in at.get("image") for i in e.proto.imgs if "ρ=" in i.caption] == shown
    assert at.session_state["explain.checks"][1].steps is steps     # shown again, not computed again


def test_corrupt_upload_is_explained():
    at = open_explain("pt_BR")
    at.session_state["explain.src"] = "upload"
    at.run()
    broken = b"\x89PNG\r\n\x1a\nbroken"
    at.file_uploader(key="explain.upload").set_value(("x.png", broken, "image/png")).run()
    assert not at.exception
    from cnnviz.base.errors import CnnvizError
    from cnnviz.maths import images

    with pytest.raises(CnnvizError) as err:     # the message images.load_image gives for it, in Portuguese
        images.load_image(broken)
    assert [e.value for e in at.error] == [err.value.message("pt_BR")]


def trained_export(dataset: str, arch: str, classes: list[str], examples=None):
    """What the Train lesson hands over ("train.export"): weights, card, its first test pictures."""
    from cnnviz.train import experiment
    from cnnviz import models

    channels, size, mean, std = (1, 28, [0.286], [0.353]) if arch == "FashionCNN" else \
        (3, 32, [0.4914, 0.4822, 0.4465], [0.247, 0.2435, 0.2616])
    model = models.ARCHITECTURES[arch](num_classes=len(classes))
    card = {"name": f"{dataset}-scratch-20", "architecture": arch, "classes": classes, "in_channels": channels,
            "input_size": [size, size], "normalization": {"mean": mean, "std": std},
            "data": {"dataset": dataset}}
    return experiment.TrainedNetwork(None, card, models.to_safetensors(model), examples)


def test_a_trained_network_opens_on_its_dataset():
    """Issue 10: a clothes network opened from the Train lesson was explained on a hand-drawn 3."""
    from cnnviz import ui

    export = trained_export("fashion", "FashionCNN", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
    at = open_lesson("lessons/explain.py", "en", state={"train.export": export, "model": ui.TRAINED}, timeout=300)
    assert at.radio(key="explain.src").value == "dataset"
    assert at.selectbox(key="explain.example").options[0] == "“Ankle boot”, test image 0"
    assert_one_class(at, Browser())


def test_a_network_trained_on_your_pictures_opens_on_one_of_them():
    torch = pytest.importorskip("torch")
    from cnnviz import ui

    pictures = torch.zeros(4, 3, 64, 64)
    pictures[:2, 0] = 1.0                                   # two red pictures, two blue ones
    pictures[2:, 2] = 1.0
    export = trained_export("own", "TinyVGG", ["red", "blue"], (pictures, torch.tensor([0, 0, 1, 1])))
    at = open_lesson("lessons/explain.py", "en", state={"train.export": export, "model": ui.TRAINED}, timeout=300)
    assert at.radio(key="explain.src").value == "dataset"
    example = at.selectbox(key="explain.example")
    assert example.options == ["“red”, your picture 0", "“red”, your picture 1",
                               "“blue”, your picture 2", "“blue”, your picture 3"]
    example.set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert_one_class(at, Browser())
