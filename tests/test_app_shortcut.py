"""The Shortcut-learning lab runs headless (AppTest): the planted pictures before training in both
languages; then a short training on the bundled sample, the guess before the answer, the numbers
in the learner's format and the two fixes side by side."""

import app_helpers
import numpy as np
import pytest

from cnnviz.i18n import number, t

PAGE = "lessons/shortcuts.py"


def pct(v, lang):
    return f"{number(100 * v, lang, 1)}\u00a0%"


@pytest.fixture(autouse=True)
def bundled_sample(monkeypatch):
    """Fashion-MNIST's bundled sample (50 training pictures per class), as on a fresh machine: the
    same pictures, and seconds of training, whatever the data folder holds."""
    monkeypatch.setenv("CNNVIZ_DATA", "/nonexistent")


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_before_training_the_planted_pictures_and_no_numbers(lang):
    at = app_helpers.open_lesson(PAGE, lang)
    assert at.title[0].value == t("shortcut.title", lang)
    captions = [c.value for c in at.caption]
    shirt = t("models.classes.fashion.6", lang)
    # 40 training shirts (50 per class, a fifth held out), every one planted: 40 of 40, 10 of 10 validation
    assert t("shortcut.planted_count", lang, k=40, n=40, c=shirt, val=10) in captions
    assert t("shortcut.not_trained", lang) in captions
    assert not at.metric                                   # nothing measured before a training
    assert at.button(key="shortcut.go")


@pytest.mark.slow
def test_a_training_asks_first_then_shows_its_numbers_and_the_fixes():
    lang = "pt_BR"                                          # decimal commas in every number shown
    at = app_helpers.open_lesson(PAGE, lang)
    at.select_slider(key="shortcut.epochs").set_value(3).run()
    at.button(key="shortcut.go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state["shortcut.runs"]["runs"]["planted"]
    assert run.plan.epochs == 3 and run.plan.target == 6
    # predict first: nothing measured is on the page until the guess
    assert not at.metric
    assert any(i.value.startswith(t("shortcut.hidden", lang)[:20]) for i in at.info)
    sneaker = next(p for p in run.probes if p.label == 7)
    guesses = [r for r in at.radio if r.label == t("shortcut.your_guess", lang)]
    guesses[0].set_value(6).run()
    at.button(key="shortcut.reveal").click().run()
    assert not at.exception
    said = t(f"models.classes.fashion.{sneaker.cued_pred}", lang)
    verdict = (at.success or at.warning)[0].value
    assert verdict == t("shortcut.right" if sneaker.cued_pred == 6 else "shortcut.wrong", lang,
                        g=t("models.classes.fashion.6", lang), c=said, p=pct(sneaker.cued_prob, lang))
    metrics = {m.label: m.value for m in at.metric}
    shirt = t("models.classes.fashion.6", lang)
    assert metrics[t("shortcut.clean_acc", lang)] == pct(run.clean_acc, lang)
    assert metrics[t("shortcut.target_cued", lang, c=shirt)] == pct(run.target_cued_acc, lang)
    assert metrics[t("shortcut.flip_share", lang, c=shirt)] == pct(run.flip_share, lang)
    assert metrics[t("shortcut.cam_share", lang)] == pct(run.cam_share, lang)
    assert "," in metrics[t("shortcut.clean_acc", lang)]
    # the clean confusion matrix is the one measured: its rows add up to the test pictures per class
    assert run.confusion.sum() == run.test_images == 500
    np.testing.assert_array_equal(run.confusion.sum(1), np.full(10, 50))

    at.button(key="shortcut.go_fixes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    runs = at.session_state["shortcut.runs"]["runs"]
    table = next(m.value for m in at.markdown if m.value.startswith("| " + t("shortcut.col_measure", lang)))
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]
    fixes = ("planted", "clean", "augment")
    assert rows[0][1:] == [t(f"shortcut.fix.{f}", lang) for f in fixes]
    flips = next(r for r in rows if r[0] == t("shortcut.row_flip", lang, c=t("models.classes.fashion.6", lang)))
    assert flips[1:] == [pct(runs[f].flip_share, lang) for f in fixes]
    # both fixes take the shortcut away: the square flips far fewer pictures
    assert runs["clean"].flip_share < 0.2 and runs["augment"].flip_share < 0.2 < 0.8 < runs["planted"].flip_share
