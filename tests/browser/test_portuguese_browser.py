"""Portuguese in front of a class: every lesson at 1280x800 in pt-BR, read as a learner reads it.

- No number written with a decimal point (``1377.8``, ``0.00``, ``1.0000``): Brazilians write
  ``1377,8``. Only what Streamlit formats itself (sliders, number inputs) and code is exempt.
- No word broken across two lines ("Preenchim/ento") and no label cut off with "…".
- The home page's card titles are the sidebar's lesson names.
"""

import re

import pytest
from browser_helpers import SHOTS, choose_option, gone_then_idle, keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course

# Every page of the app, by its address (the home page is "")
LESSONS = ["", *(lesson.url for lesson in course.LESSONS)]

ROOTS = "[data-testid='stMain'], [data-testid='stSidebarUserContent']"
# Not checked, and why:
EXEMPT = ", ".join([
    "[data-testid='stSlider']",       # Streamlit writes slider values itself (no locale setting)
    "[data-testid='stNumberInput']",  # same for number inputs
    "[data-testid='stCode']", "code", "pre",   # Python and shell need a point: torch.nn.Conv2d(...)
    ".katex-html",                    # a formula is checked once, in its TeX source (.katex-mathml)
    "style", "script",
])

_TEXTS_JS = """([roots, exempt]) => {
  const out = [];
  for (const root of document.querySelectorAll(roots)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) {
      const el = n.parentElement;
      if (!el || el.closest(exempt)) continue;
      const text = n.textContent.trim();
      if (text) out.push(text);
    }
    // what a text field starts with is ours too (a kernel "0,2 0,2 0,2", logits "2,0; 1,0; 0,1")
    for (const box of root.querySelectorAll("[data-testid='stTextInput'] input, [data-testid='stTextArea'] textarea"))
      if (box.value.trim()) out.push(box.value.trim());
  }
  return out;
}"""

# A word whose letters sit on two lines: the browser broke it because its column is too narrow.
_BROKEN_WORDS_JS = """([roots, exempt]) => {
  const bad = [];
  for (const root of document.querySelectorAll(roots)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) {
      const el = n.parentElement;
      if (!el || el.closest(exempt)) continue;
      const re = /[\\p{L}\\p{N}]{3,}/gu;
      let m;
      while ((m = re.exec(n.textContent))) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) bad.push(m[0] + " in: " + el.textContent.trim().slice(0, 60));
      }
    }
  }
  return bad;
}"""

# A visible label cut off with an ellipsis (text-overflow) because it is wider than its box.
_TRUNCATED_JS = """([roots]) => {
  const bad = [];
  for (const root of document.querySelectorAll(roots)) {
    for (const el of root.querySelectorAll('*')) {
      if (!el.textContent.trim() || el.children.length > 2) continue;
      const style = getComputedStyle(el);
      if (style.textOverflow !== 'ellipsis' || style.visibility === 'hidden') continue;
      const rect = el.getBoundingClientRect();
      if (rect.width > 0 && el.scrollWidth > el.clientWidth + 1) bad.push(el.textContent.trim().slice(0, 60));
    }
  }
  return bad;
}"""

DECIMAL_POINT = re.compile(r"\d\.\d")
# 12.288 and 4.294.967.296 are Brazilian thousands, not decimals (0.111 and 1234.5 are not thousands)
THOUSANDS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:\.\d{3})+(?![\d.])")


def decimal_points(texts):
    """The texts that write a decimal with a point (1377.8, 0.00, 1.0000, e^{2.00})."""
    return [t for t in texts if DECIMAL_POINT.search(THOUSANDS.sub("N", t))]


def settle(page):
    """Until the script has run and every element is drawn (no placeholder skeleton left)."""
    wait_idle(page)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=120_000)


def open_lesson(new_page, path, locale="pt-BR"):
    page = new_page(path, locale=locale)
    page.locator("[data-testid='stMain'] h1").first.wait_for(state="visible", timeout=120_000)
    settle(page)
    no_exception(page)
    return page


def page_problems(page, *, decimals: bool = True) -> dict:
    texts = page.evaluate(_TEXTS_JS, [ROOTS, EXEMPT])
    assert texts, "nothing read from the page"
    problems = {
        "numbers with a decimal point": decimal_points(texts) if decimals else [],
        "words broken across two lines": page.evaluate(_BROKEN_WORDS_JS, [ROOTS, EXEMPT]),
        "labels cut off with an ellipsis": page.evaluate(_TRUNCATED_JS, [ROOTS]),
    }
    return {k: v for k, v in problems.items() if v}


@pytest.mark.parametrize("path", LESSONS)
def test_portuguese_lessons_write_numbers_and_labels_the_brazilian_way(new_page, path):
    page = open_lesson(new_page, path)
    shoot(page, f"pt_{path or 'home'}")
    assert not (problems := page_problems(page)), f"/{path} in Portuguese: {problems!r}"


@pytest.mark.parametrize("path", LESSONS)
def test_english_lessons_break_no_word_and_cut_no_label(new_page, path):
    page = open_lesson(new_page, path, "en-US")
    shoot(page, f"en_{path or 'home'}")
    assert not (problems := page_problems(page, decimals=False)), f"/{path} in English: {problems!r}"


def test_a_stepped_kernel_keeps_decimal_commas(new_page):
    """The step-by-step part is a fragment: its reruns must format numbers the learner's way too."""
    page = open_lesson(new_page, course.url("convolution"))
    choose_option(page, "conv.preset", "Desfoque média (box)")
    main = page.locator("[data-testid='stMain']")
    main.locator("table.cnnviz-matrix td", has_text="0,11").first.wait_for(state="attached", timeout=60_000)
    settle(page)
    # the first position, then two steps forward: each a fragment rerun, not the whole page (the
    # position is always in the link)
    for button, at in (("conv.first", 0), ("conv.next", 1), ("conv.next", 2)):
        keyed(page, button).locator("button").first.click()
        expect(page).to_have_url(re.compile(rf"conv\.t={at}(&|$)"), timeout=60_000)
        settle(page)
    no_exception(page)
    cells = [c.strip() for c in main.locator("table.cnnviz-matrix td").all_inner_texts()]
    shoot(page, "pt_convolution_box_blur_stepped")
    assert any(c.startswith("0,11") for c in cells) and not decimal_points(cells), sorted(set(cells))
    assert not (problems := page_problems(page)), problems


def test_a_network_on_a_sample_speaks_portuguese(new_page):
    """Inside a CNN opens on an empty canvas: give it the sample digit to show maps, softmax and formula."""
    page = open_lesson(new_page, course.url("inside_a_cnn"))
    keyed(page, "inside.draw").locator("label").first.click()
    keyed(page, "inside.predict.skip_button").locator("button").first.click()   # the softmax waits for a guess (issue 13)
    gone_then_idle(page, "inside.predict.skip_button")
    settle(page)
    page.locator("[data-testid='stMain'] .katex").first.wait_for(state="attached", timeout=120_000)
    no_exception(page)
    page.screenshot(path=str(SHOTS / "pt_inside_sample_full.png"), full_page=True)
    assert not (problems := page_problems(page)), problems


def test_the_decimal_point_check_tells_thousands_from_decimals():
    assert decimal_points(["12.288 números", "4.294.967.296", "1.020,0", "v 2.000 dígitos"]) == []
    assert decimal_points(["1377.8", "0.00", "1.0000", "e^{2.00}", "0.111", "1234.567", "1.020.0"]) == [
        "1377.8", "0.00", "1.0000", "e^{2.00}", "0.111", "1234.567", "1.020.0"]


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_home_cards_are_named_like_the_sidebar(new_page, locale):
    page = new_page("", locale=locale)
    page.locator("[data-testid='stMain'] h3").first.wait_for(state="visible", timeout=60_000)
    cards = [h.inner_text().strip() for h in page.locator("[data-testid='stMain'] h3").all()]
    nav = [a.inner_text().strip() for a in page.locator("[data-testid='stSidebarNav'] a").all()]
    nav = [n.splitlines()[-1].strip() for n in nav]   # "home\n\nInício": the icon's ligature, then the name
    assert len(cards) == len(LESSONS) - 1, cards
    assert cards == [n for n in nav if n not in ("Início", "Home")], (cards, nav)
