"""The registry of attribution methods (issue 12): one entry per method, read by explain(), the
sanity check and the Explain lesson. Adding a method = one entry + its strings."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")
from app_helpers import open_lesson  # noqa: E402
from test_attribution import digit_x, digits  # noqa: E402,F401 - the digits network and its sample 3

from cnnviz.analysis import attribution as A  # noqa: E402
from cnnviz.analysis import sanity  # noqa: E402
from cnnviz.analysis.private_copies import private_copy  # noqa: E402
from cnnviz import i18n  # noqa: E402

warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")


def _input_x_gradient(call: A.Call):
    """captum's InputXGradient, scaled by an option (to see the option arrive)."""
    from captum.attr import InputXGradient

    return InputXGradient(call.model).attribute(call.x, target=call.target) * call.options["gain"]


GAIN = A.Option("gain", "explain.toy_gain", "toy_gain", lambda size, _: (1, 9, 3))
STRINGS = {"en": {"explain.m.toy": "Input × gradient (toy)",
                  "explain.about.toy": "Each pixel times its gradient.",
                  "explain.toy_gain": "Input × gradient: gain"},
           "pt_BR": {"explain.m.toy": "Entrada × gradiente (teste)",
                     "explain.about.toy": "Cada pixel vezes o seu gradiente.",
                     "explain.toy_gain": "Entrada × gradiente: ganho"}}


@pytest.fixture
def toy_method(monkeypatch):
    """A new method, registered the way a contributor would: one entry + its strings; removed after."""
    for lang, strings in STRINGS.items():
        for key, text in strings.items():
            monkeypatch.setitem(i18n.catalog(lang), key, text)
    calls = []

    def attribute(call):
        calls.append(call)
        return _input_x_gradient(call)

    A.register(A.Method("toy", attribute, options=(GAIN,)))
    yield calls
    A.unregister("toy")


def test_methods_are_the_registry_names():
    assert list(A.METHODS) == list(A.REGISTRY) == ["gradcam", "guided_backprop", "guided_gradcam", "saliency",
                                                   "integrated_gradients", "occlusion", "gradcam_pp", "layercam",
                                                   "scorecam", "smoothgrad", "input_x_gradient", "deeplift",
                                                   "gradient_shap", "sobel", "random"]
    assert {m for m, e in A.REGISTRY.items() if e.heavy} == {"integrated_gradients", "occlusion", "scorecam",
                                                             "smoothgrad", "gradient_shap"}
    assert A.baselines() == ["sobel", "random"]
    assert sanity.default_methods() == ["gradcam", "guided_backprop", "saliency", "gradcam_pp", "layercam",
                                        "input_x_gradient", "sobel", "random"]
    for name, method in A.REGISTRY.items():          # every method has its strings in both languages
        for lang in ("en", "pt_BR"):
            for key in (method.label_key, method.about_key, *(o.label_key for o in method.options)):
                assert key in i18n.catalog(lang), (lang, key)


def test_a_registered_method_works_through_explain_and_then_is_gone(toy_method, digits, digit_x):
    assert "toy" in A.METHODS
    exp = A.explain("toy", digits.model, digit_x)
    assert exp.method == "toy" and exp.target == 3 and not exp.flat
    assert exp.map.shape == (28, 28) and exp.map.min() == 0 and exp.map.max() == 1
    assert toy_method[-1].options == {"gain": 3}              # its default, from its entry
    # the same map as captum's InputXGradient itself (|value|, largest over channels: one channel)
    from captum.attr import InputXGradient

    twin, _ = private_copy(digits.model)
    x = digit_x.clone().requires_grad_(True)
    ref = InputXGradient(twin).attribute(x, target=3)[0, 0].abs().detach().numpy()
    np.testing.assert_allclose(exp.raw, 3 * ref, rtol=1e-5, atol=1e-7)
    A.explain("toy", digits.model, digit_x, gain=50, window=5)   # kept in bounds; others' ignored
    assert toy_method[-1].options == {"gain": 9}
    with pytest.raises(TypeError, match="unknown options"):
        A.explain("saliency", digits.model, digit_x, n_step=8)             # a typo is not ignored
    A.unregister("toy")
    assert "toy" not in A.METHODS
    with pytest.raises(ValueError, match="unknown method"):
        A.explain("toy", digits.model, digit_x)


def test_options_have_their_defaults_and_bounds_in_the_registry():
    occ, ig = A.REGISTRY["occlusion"], A.REGISTRY["integrated_gradients"]
    assert occ.settings((28, 28)) == {"window": 4, "stride": 2}          # max(2, 28 // 7), half of it
    assert occ.settings((224, 224)) == {"window": 32, "stride": 16}
    assert occ.settings((28, 28), {"window": 10}) == {"window": 10, "stride": 5}
    assert occ.settings((28, 28), {"window": 6, "stride": 40}) == {"window": 6, "stride": 6}   # stride <= window
    assert occ.settings((28, 28), {"window": None, "stride": None}) == {"window": 4, "stride": 2}
    assert [o.bounds((28, 28), {"window": 4}) for o in occ.options] == [(2, 14, 4), (1, 4, 2)]
    assert ig.settings((28, 28)) == {"n_steps": 16}
    assert ig.settings((28, 28), {"n_steps": 1}) == {"n_steps": 4}
    assert ig.settings((28, 28), {"n_steps": 10_000}) == {"n_steps": A.MAX_IG_STEPS}
    assert A.REGISTRY["gradcam"].settings((28, 28), {"n_steps": 3}) == {}


def test_occlusion_uses_the_registry_default_window(digits, digit_x):
    default = A.explain("occlusion", digits.model, digit_x)
    assert np.array_equal(default.raw, A.explain("occlusion", digits.model, digit_x, window=4, stride=2).raw)
    assert not np.array_equal(default.raw, A.explain("occlusion", digits.model, digit_x, window=7, stride=7).raw)


def test_the_sanity_check_takes_the_registry_methods_and_each_method_its_own_options(digits, digit_x, toy_method):
    steps = sanity.cascading_randomization(digits.model, digit_x, 3, max_steps=1, gain=5)
    assert set(steps[0].maps) == set(sanity.default_methods())        # the registry's sanity ones
    steps = sanity.cascading_randomization(digits.model, digit_x, 3, ["toy", "gradcam"], max_steps=1,
                                      gain=5, window=3)
    assert [s.randomized for s in steps] == ["", "fc2"] and set(steps[1].maps) == {"toy", "gradcam"}
    assert all(c.options == {"gain": 5} for c in toy_method)
    with pytest.raises(ValueError, match="unknown"):
        sanity.cascading_randomization(digits.model, digit_x, 3, ["nope"])


def test_a_registered_method_appears_in_the_lesson_with_its_option(toy_method):
    at = open_lesson("lessons/explain.py", "pt_BR", timeout=300)
    at.button(key="explain.predict.skip_button").click().run()     # the maps wait for the guess (issue 17)
    methods = at.multiselect(key="explain.methods")
    assert methods.options[-1] == "Entrada × gradiente (teste)", methods.options     # in its language
    methods.set_value(["toy"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Entrada × gradiente (teste)" in [s.value for s in at.subheader]
    gain = at.slider(key="explain.toy_gain")
    assert (gain.label, gain.min, gain.max, gain.value) == ("Entrada × gradiente: ganho", 1, 9, 3)
    assert toy_method[-1].options == {"gain": 3}
    gain.set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    assert toy_method[-1].options == {"gain": 7}
    assert at.session_state["explain.toy"][1].method == "toy"
    assert any("Cada pixel vezes o seu gradiente." == i.caption for e in at.get("image") for i in e.proto.imgs)


def test_without_it_the_lesson_offers_the_registry_methods_only():
    at = open_lesson("lessons/explain.py", "en", timeout=300)
    methods = at.multiselect(key="explain.methods")
    assert methods.options == ["Guided backprop", "Guided Grad-CAM", "Saliency (gradient)", "Integrated gradients",
                               "Occlusion", "Grad-CAM++", "LayerCAM", "Score-CAM", "SmoothGrad", "Input × gradient",
                               "DeepLift", "GradientShap", "Edge map (Sobel)", "Random map"]   # but Grad-CAM (above)
    assert methods.value == ["guided_gradcam", "saliency", "sobel", "random"]   # the "shown" ones: two methods, the two baselines
