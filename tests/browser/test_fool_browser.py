"""Fool the network in a real browser, in Portuguese on a projector (presentation mode), opened from a
teacher's link that chose PGD: the question first with nothing of the attack on the page, the guess,
then the three pictures, the answers before and after with probabilities in the learner's format,
and digits a class reads from the back (>= 20 px)."""

import re

from browser_helpers import choose_option, gone_then_idle, keyed, no_exception, open_lesson, page_problems, shoot
from playwright.sync_api import expect

from cnnviz import course

FONT_PX_JS = "e => parseFloat(getComputedStyle(e).fontSize)"


def test_predict_then_see_the_attack_on_a_projector(new_page):
    page = open_lesson(new_page, course.url("fool_the_network", "lang=pt_BR&present=1&fool.method=pgd"))
    expect(page.get_by_text("O ataque fica escondido")).to_be_visible()
    assert page.locator("[class*='st-key-fool-after']").count() == 0        # nothing of the attack yet
    says = keyed(page, "fool.says").locator("[data-testid='stMetricValue']")
    assert says.evaluate(FONT_PX_JS) >= 20
    shoot(page, "fool_question_pt")
    box = page.locator("[class*='st-key-fool-predict-pick-']").first
    box.scroll_into_view_if_needed()
    choose_option(page, None, "Sim: ela vai dar outra resposta", box=box)
    keyed(page, "fool.predict.reveal").locator("button:not([disabled])").click()
    gone_then_idle(page, "fool.predict.reveal")
    verdict = page.get_by_text(re.compile(r"^(Acertou!|Não foi desta vez\.) O FGSM com ε = 0,05"))
    expect(verdict).to_be_visible()
    # the link's attack: PGD, at the default ε 0,15; three pictures of one size side by side
    assert "fool.method=pgd" in page.url
    after = keyed(page, "fool.after")
    expect(after).to_be_visible(timeout=120_000)
    after.scroll_into_view_if_needed()
    expect(after.get_by_text("Depois do PGD")).to_be_visible()
    pictures = page.locator("[data-testid='stImage'] img")
    widths = {round(pictures.nth(i).bounding_box()["width"]) for i in range(1, 4)}   # 0: the picker's
    assert len(widths) == 1, widths
    expect(page.get_by_text(re.compile(r"A mudança, ampliada 3,3 vezes: cinza\s=\s0, branco\s=\s\+0,15"))).to_be_visible()
    for key in ("fool.before", "fool.after", "fool.noise"):
        value = keyed(page, key).locator("[data-testid='stMetricValue']")
        assert value.evaluate(FONT_PX_JS) >= 20
        delta = keyed(page, key).locator("[data-testid='stMetricDelta']").inner_text()
        assert re.fullmatch(r"\d{1,3},\d\s%", delta.strip()), delta
    cells = keyed(page, "fool.grid_table").locator("td")
    assert cells.count() == 11 and cells.first.evaluate(FONT_PX_JS) >= 20
    no_exception(page)
    problems = page_problems(page)          # (words broken across lines: the folded sidebar's, not the lesson's)
    assert not problems.get("numbers with a decimal point") and not problems.get("labels cut off with an ellipsis"), problems
    shoot(page, "fool_attack_pt_present")
