"""Portuguese in front of a class: what the learner's actions bring onto a page, read as a learner reads it.

- No number written with a decimal point (``1377.8``, ``0.00``, ``1.0000``): Brazilians write
  ``1377,8``. Only what Streamlit formats itself (sliders, number inputs) and code is exempt.
- No word broken across two lines ("Preenchim/ento") and no label cut off with "…".

Every page as it opens, in both languages, is read in the same visit as its self-check
(``test_selfcheck_browser.py``: one visit per page and language, all checks); the readers are
``browser_helpers.page_problems`` and ``decimal_points``.
"""

import re

from browser_helpers import (SHOTS, choose_option, decimal_points, gone_then_idle, keyed, no_exception, open_lesson,
                             page_problems, settle, shoot)
from playwright.sync_api import expect

from cnnviz import course


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


def test_the_page_reader_finds_broken_words_cut_labels_and_decimal_points(chromium):
    """``page_problems`` on a page of its own (no server): a word split over two lines by a narrow
    column, a label cut off with "…", a decimal point and a point inside a text field are found; a
    slider's value, code and Brazilian thousands are not."""
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.set_content("""
          <div data-testid="stMain">
            <p style="width: 3ch; word-break: break-all">Preenchimento</p>
            <p style="width: 60px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis">
              Camada oculta tão larga quanto a entrada</p>
            <p>Soma 1377.8</p><p>12.288 pesos</p>
            <div data-testid="stTextInput"><input value="0.5 0.5"></div>
            <div data-testid="stSlider">0.25</div><code>torch.nn.Conv2d</code>
          </div>""")
        problems = page_problems(page)
        assert problems["numbers with a decimal point"] == ["Soma 1377.8", "0.5 0.5"], problems
        assert [w.split(" in: ")[0] for w in problems["words broken across two lines"]] == ["Preenchimento"], problems
        assert problems["labels cut off with an ellipsis"] == ["Camada oculta tão larga quanto a entrada"], problems
        assert "numbers with a decimal point" not in page_problems(page, decimals=False)
    finally:
        page.close()
