"""The Fool-the-network lesson runs headless (AppTest) on the bundled sample, as on a fresh machine:
it asks first in both languages, with nothing of the attack on the page; once revealed, the
answers before and after the attack, the random baseline, the smallest epsilon of the grid and the
accuracy against epsilon are the ones plain torch computes here, in the learner's number format."""

import app_helpers
import pytest
import torch
import torch.nn.functional as F

from cnnviz import models
from cnnviz.data import datasets
from cnnviz.i18n import number, t

PAGE = "lessons/fool_the_network.py"
MEAN, STD = 0.1307, 0.3081            # MNIST's statistics: the digits network's input


def pct(v, lang):
    return f"{number(100 * float(v), lang, 1)}\u00a0%"


@pytest.fixture(autouse=True)
def bundled_sample(monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", "/nonexistent")


@pytest.fixture(scope="module")
def net():
    return models.load("digits").model


@pytest.fixture(scope="module")
def first_digits():
    return datasets.as_tensors(datasets.load_sample("mnist"), 20)


def scores(net, p):
    with torch.no_grad():
        return net((p - MEAN) / STD)


def fgsm(net, p, y, eps):
    q = p.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(net((q - MEAN) / STD).double(), y, reduction="sum"), q)
    return (p + eps * g.sign()).clamp(0, 1)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_it_asks_first_and_shows_nothing_of_the_attack(lang, net, first_digits):
    at = app_helpers.open_lesson(PAGE, lang)
    assert at.title[0].value == t("fool.title", lang)
    assert [h.value for h in at.header][0] == t("fool.question_header", lang)
    assert any(i.value == t("fool.hidden", lang, eps=number(0.05, lang)) for i in at.info)
    p = first_digits[0][:1]
    probs = torch.softmax(scores(net, p), 1)[0]
    [says] = at.metric
    assert says.label == t("fool.says", lang) and says.value == str(int(probs.argmax()))
    assert says.proto.delta == pct(probs.max(), lang)
    assert not any(m.key == "fool.after" for m in at.metric) and not at.image[1:]   # no attack before the guess
    pick = next(s for s in at.selectbox if s.label == t("fool.your_guess", lang))
    assert pick.proto.placeholder == t("exercises.predict.placeholder", lang)       # not Streamlit's English one


def test_the_guess_the_attack_and_the_smallest_epsilon(net, first_digits):
    # English: AppTest sends a select slider of decimals labelled with commas as its first option
    # (Portuguese after the guess is tests/browser/test_fool_browser.py)
    lang = "en"
    at = app_helpers.open_lesson(PAGE, lang)
    p, y = first_digits[0][:1], first_digits[1][:1]
    said = int(scores(net, p).argmax())
    fooled_at_005 = int(scores(net, fgsm(net, p, torch.tensor([said]), 0.05)).argmax()) != said
    pick = next(s for s in at.selectbox if s.label == t("fool.your_guess", lang))
    pick.set_value(1).run()                                             # "No: it will keep its answer"
    at.button(key="fool.predict.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    verdict = (at.success or at.warning)[0].value
    assert verdict.startswith(t("fool.wrong" if fooled_at_005 else "fool.right", lang))
    # the attack at epsilon 0.15 (the default): FGSM's answer, its probability
    eps = at.select_slider(key="fool.eps").value
    assert eps == 0.15
    after = torch.softmax(scores(net, fgsm(net, p, torch.tensor([said]), eps)), 1)[0]
    m = {x.label: x for x in at.metric}
    got = m[t("fool.after", lang, m="FGSM")]
    assert got.value == str(int(after.argmax())) and got.proto.delta == pct(after.max(), lang)
    signs = torch.randint(0, 2, p.shape, generator=torch.Generator().manual_seed(0)).float() * 2 - 1
    noisy = torch.softmax(scores(net, (p + eps * signs).clamp(0, 1)), 1)[0]
    base = m[t("fool.noise", lang, eps=number(eps, lang))]
    assert base.value == str(int(noisy.argmax())) and base.proto.delta == pct(noisy.max(), lang)
    # the smallest epsilon of the grid, every epsilon tried by plain torch
    grid = [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3]
    answers = [int(scores(net, fgsm(net, p, torch.tensor([said]), e)).argmax()) for e in grid]
    first = next(e for e, c in zip(grid, answers) if c != said)
    texts = [md.value for md in at.markdown]
    assert t("fool.smallest", lang, m="FGSM", eps=number(first, lang), grid=", ".join(number(e, lang) for e in grid),
             c=str(said), new=str(answers[grid.index(first)])) in texts
    assert int(y) == said


def test_accuracy_against_epsilon_on_the_first_test_digits(monkeypatch, net, first_digits):
    from cnnviz.ui import fool

    monkeypatch.setattr(fool, "CURVE_PICTURES", 20)                     # 20 digits: seconds, not a minute
    fool._CURVES.entries.clear()
    at = app_helpers.open_lesson(PAGE, "en")
    at.button(key="fool.predict.skip_button").click().run()
    at.toggle(key="fool.curve_on").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("fool.curve_caption", "en", n=20, data="MNIST", src=t("fool.source_sample", "en")) in \
        [c.value for c in at.caption]
    p, y = first_digits
    right = scores(net, p).argmax(1) == y

    def flips(q):
        return float(((scores(net, q).argmax(1) != y) & right).sum() / right.sum())

    signs = torch.randint(0, 2, p[:20].shape, generator=torch.Generator().manual_seed(0)).float() * 2 - 1
    want = {e: (flips(fgsm(net, p, y, e)), flips((p + e * signs).clamp(0, 1))) for e in (0.1, 0.3)}
    text = next(md.value for md in at.markdown if md.value.startswith("At ε = 0.1, FGSM"))
    assert f"FGSM fools the network on **{pct(want[0.1][0], 'en')}**" in text
    assert f"a random change of the same size on **{pct(want[0.1][1], 'en')}**" in text
    assert f"FGSM {pct(want[0.3][0], 'en')}" in text and f"random {pct(want[0.3][1], 'en')}" in text
    assert fool._CURVES.get(("digits", "mnist", "sample")).n == 20      # kept for the next learner
