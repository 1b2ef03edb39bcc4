"""AppTest for the Explain lesson's new parts (issue 20): the trust lab (rank the maps blind, then the
scores), the baselines in the sanity check, the edge-map closeness and DeepLift's refusal, in both languages."""

import numpy as np
import pytest
from app_helpers import open_lesson
from streamlit.testing.v1 import AppTest

pytest.importorskip("captum")

PASS = {"en": "✔ passes", "pt_BR": "✔ passa"}


def open_revealed(lang: str) -> AppTest:
    at = open_lesson("lessons/explain.py", lang, timeout=300)
    at.button(key="explain.predict.skip_button").click().run()       # the maps wait for the Grad-CAM guess
    assert not at.exception, [e.value for e in at.exception]
    return at


def tile_letters(at: AppTest) -> list[str]:
    return [i.caption for e in at.get("image") for i in e.proto.imgs
            if i.caption.startswith(("Map ", "Mapa ")) and len(i.caption.split()) == 2]


def table(at: AppTest) -> list[list[str]]:
    """The trust lab's table: its rows (cells), header first."""
    text = next(m.value for m in at.markdown if m.value.startswith(("| Map |", "| Mapa |")))
    return [[c.strip() for c in row.strip("|").split("|")] for row in text.splitlines() if "---" not in row]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_trust_lab_asks_before_it_scores_then_tells_which_picks_pass(lang):
    from cnnviz.analysis import attribution as attr, sanity, trust
    from cnnviz.i18n import t
    from cnnviz import data, models

    at = open_revealed(lang)
    assert not tile_letters(at)                                       # its maps only on request
    methods = sanity.default_methods()
    assert at.toggle(key="explain.trust.open").label == t("explain.trust_open", lang, n=8) and len(methods) == 8
    at.toggle(key="explain.trust.open").set_value(True).run()
    letters = [chr(ord("A") + i) for i in range(len(methods))]
    assert sorted(tile_letters(at)) == [t("explain.trust_map", lang, letter=x) for x in letters]   # blind: letters only
    picks = at.multiselect(key=next(k for k in at.session_state if str(k).startswith("explain.trust.picks.")))
    reveal = at.button(key="explain.trust.reveal")
    assert reveal.disabled and picks.options == letters
    # nothing on the page gives the scores away before the ranking
    assert "explain.checks" not in at.session_state
    assert not [m for m in at.markdown if m.value.startswith(("| Map |", "| Mapa |"))]
    picks.set_value(["C", "A", "F"]).run()
    at.button(key="explain.trust.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    report = at.session_state["explain.checks"][1]
    rows = table(at)
    assert len(rows) == 1 + len(methods) and [r[0] for r in rows[1:]] == letters
    label = {m: t(attr.REGISTRY[m].label_key, lang) for m in methods}
    named = {t("explain.baseline_name", lang, name=label[m]) if attr.REGISTRY[m].baseline else label[m]: m for m in methods}
    order = [named[r[1]] for r in rows[1:]]
    assert sorted(order) == sorted(methods)
    assert {r[7] for r in rows[1:]} == {"1", "2", "3", ""} and [rows[1 + letters.index(x)][7] for x in "CAF"] == ["1", "2", "3"]
    # each row's numbers, recomputed independently: the curves by torch on the maps the lesson shows
    loaded = models.load("digits")
    x = loaded.preprocess(data.example_image("mnist", 0))
    for row, m in zip(rows[1:], order):
        s = report.scores[m]
        sep = "," if lang == "pt_BR" else "."
        assert row[2] == f"{s.sanity_rho:.2f}".replace(".", sep) and row[4] == f"{s.deletion_auc:.2f}".replace(".", sep)
        assert row[5] == f"{s.insertion_auc:.2f}".replace(".", sep)
        assert s.sanity_rho == report.steps[-1].rank_corr[m]          # after the last randomized layer
        assert (row[3] == PASS[lang]) == (s.sanity_rho < trust.SANITY_MAX)
        chance = report.scores["random"]
        assert (row[6] == PASS[lang]) == (s.deletion_auc < chance.deletion_auc and s.insertion_auc > chance.insertion_auc)
        if lang == "pt_BR":                # the areas recomputed with torch alone (once: time)
            own = attr.explain(m, loaded.model, x, target=7).map
            np.testing.assert_allclose(own, report.steps[0].maps[m], atol=1e-6)
            ref = _torch_curve_auc(loaded.model, x, own, 7)
            assert s.deletion_auc == pytest.approx(ref[0], abs=1e-5) and s.insertion_auc == pytest.approx(ref[1], abs=1e-5)
    # the baselines ignore the weights: rho 1 at every step, so they fail the sanity check
    for b in ("sobel", "random"):
        assert all(step.rank_corr[b] == pytest.approx(1.0) for step in report.steps)
        assert rows[1 + order.index(b)][3] != PASS[lang]
    verdict = [s.value for s in [*at.success, *at.info] if s.value.startswith(("Among your top", "Entre as suas"))]
    passed = [m for m in (order[letters.index(c)] for c in "CAF") if report.scores[m].trusted]
    assert len(verdict) == 1 and f": {len(passed)} (" in verdict[0]
    # the sanity check below shows the same run, baselines included, without computing it again
    at.button(key="explain.sanity_run").click().run()
    assert at.session_state["explain.checks"][1] is report
    chart = next(c for c in at.get("plotly_chart") if c.key == "explain.sanity_chart")
    assert t("explain.baseline_name", lang, name=t("explain.m.random", lang)) in chart.proto.spec
    at.button(key="explain.trust.again").click().run()               # rank again: asked again, scores hidden
    assert not [m for m in at.markdown if m.value.startswith(("| Map |", "| Mapa |"))]


def _torch_curve_auc(model, x, saliency, target, steps=24):
    """Deletion and insertion areas with torch alone: pixels sorted by the map, zeroed (or put back
    on a zero picture) in 24 equal steps, trapezoids under softmax's probability of the class."""
    import torch

    h, w = saliency.shape
    order = torch.argsort(torch.as_tensor(-saliency.ravel()), stable=True)
    counts = torch.linspace(0, h * w, steps + 1).round().long()
    dels, ins = [], []
    with torch.no_grad():
        for n in counts:
            keep = torch.ones(h * w)
            keep[order[:n]] = 0
            keep = keep.view(1, 1, h, w)
            dels.append(torch.softmax(model(x * keep), 1)[0, target].item())
            ins.append(torch.softmax(model(x * (1 - keep)), 1)[0, target].item())
    frac = (counts / (h * w)).numpy()
    return float(np.trapezoid(dels, frac)), float(np.trapezoid(ins, frac))


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_new_methods_show_their_edge_closeness_and_deeplift_refuses_resnet_in_words(lang, monkeypatch):
    from cnnviz.analysis import attribution as attr, sanity
    from cnnviz.i18n import t
    from cnnviz import data, models

    at = open_revealed(lang)
    at.multiselect(key="explain.methods").set_value(["gradcam_pp", "input_x_gradient"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader][:2] == [t("explain.m.gradcam_pp", lang), t("explain.m.input_x_gradient", lang)]
    loaded = models.load("digits")
    x = loaded.preprocess(data.example_image("mnist", 0))
    edges = attr.explain("sobel", loaded.model, x, target=7).map
    for m in ("gradcam_pp", "input_x_gradient"):
        rho = sanity.spearman(attr.explain(m, loaded.model, x, target=7).map, edges)
        want = t("explain.edge_rho", lang, rho=f"{rho:.2f}".replace(".", "," if lang == "pt_BR" else "."))
        assert want in [c.value for c in at.caption], (want, [c.value for c in at.caption])
    # DeepLift on a network that reuses a ReLU module: a message in the learner's language, the page goes on
    import torch

    class Reuse(torch.nn.Module):                 # ResNet's pattern, small: one ReLU module called twice
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.Conv2d(4, 4, 3, padding=1)
            self.relu, self.fc = torch.nn.ReLU(), torch.nn.Linear(4 * 28 * 28, 10)

        def forward(self, z):
            return self.fc(self.relu(self.conv2(self.relu(self.conv1(z)))).flatten(1))

    from cnnviz.base.errors import CnnvizError
    with pytest.raises(CnnvizError) as err:
        attr.explain("deeplift", Reuse().eval(), x)
    assert err.value.key == "attribution.error.deeplift_reused_relu" and err.value.params == {"layer": "relu"}
    # as if the picked network were a ResNet (its blocks call their relu twice): said, then the page goes on
    monkeypatch.setattr(attr, "reused_relu", lambda model, z: "layer1.0.relu")
    # a class of its own per language: the maps of a bundled network are kept for the whole class
    box = at.selectbox(key=next(k for k in at.session_state if str(k).startswith("explain.target.")))
    box.set_value({"en": 1, "pt_BR": 2}[lang]).run()
    at.multiselect(key="explain.methods").set_value(["deeplift", "saliency"]).run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("attribution.error.deeplift_reused_relu", lang, layer="layer1.0.relu")]
    assert t("explain.about.saliency", lang) in [i.caption for e in at.get("image") for i in e.proto.imgs]
    monkeypatch.undo()                                  # the digits network has one ReLU module per use
    at.multiselect(key="explain.methods").set_value(["deeplift"]).run()
    assert not at.exception and not at.error
    assert t("explain.about.deeplift", lang) in [i.caption for e in at.get("image") for i in e.proto.imgs]
