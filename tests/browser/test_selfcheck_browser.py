"""Browser: every lesson's self-check at 1280x800 (a projector), in English and Portuguese.

Screenshots (shots/browser/selfcheck_<url>_<locale>.png: the self-check scrolled into view, and
..._all.png: the whole self-check) are for a person to look at; the test checks that the container
is there with its questions and Check buttons, and that Check answers inside the question (a
fragment) without an exception.
"""

import re

import pytest
from playwright.sync_api import expect
from browser_helpers import SHOTS, keyed, no_exception, sends_a_run, wait_idle

from cnnviz import course
from cnnviz import exercises as ex
from cnnviz import ui

LESSONS = [url for _, url, _ in ui.course()]


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
@pytest.mark.parametrize("url", LESSONS)
def test_selfcheck_on_a_projector(new_page, url, locale):
    page = new_page(url, locale)
    no_exception(page)
    box = keyed(page, f"selfcheck-{url}")
    box.wait_for(state="attached", timeout=120_000)
    box.scroll_into_view_if_needed()
    n = len(ex.KINDS[url])
    expect(box.locator("[data-testid='stButton'] button")).to_have_count(2 * n, timeout=60_000)   # Check, New question
    # Check without an answer: the question asks for one, the rest of the page stays
    keyed(page, f"sc.{url}.0.check").locator("button").click()
    expect(keyed(page, f"sc-{url}-0").locator("[data-testid='stAlert']")).to_have_count(1, timeout=60_000)
    wait_idle(page)
    no_exception(page)
    # an answer to question 2 (the first option, or 0): right or wrong, the feedback and the why
    q2 = keyed(page, f"sc-{url}-1")
    with sends_a_run(page):         # the answer reaches the server before Check asks for it
        if q2.locator("[data-testid='stRadio']").count():
            q2.locator("[data-testid='stRadio'] [role='radiogroup'] label").first.click()
        else:
            field = q2.locator("input[type='text'], textarea").first
            n = int("".join(ch for ch in (field.get_attribute("placeholder") or "") if ch.isdigit()) or 1)
            side = int(round(n ** 0.5))                     # a vector of n zeros, or a square matrix of them
            zeros = "; ".join(" ".join(["0"] * side) for _ in range(side)) if side * side == n and n > 3 \
                else "; ".join(["0"] * n)
            field.fill(zeros)
            field.press("Tab")
    keyed(page, f"sc.{url}.1.check").locator("button").click()
    expect(q2.locator("[data-testid='stAlert']")).to_have_count(1, timeout=60_000)
    wait_idle(page)
    no_exception(page)
    feedback = q2.locator("[data-testid='stAlertContentSuccess'], [data-testid='stAlertContentError']")
    assert feedback.count() == 1, q2.locator("[data-testid='stAlert']").inner_text()
    keyed(page, f"selfcheck-{url}").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"selfcheck_{url}_{locale}.png"))
    # the whole self-check: streamlit scrolls inside its main pane, so make the window tall enough
    page.set_viewport_size({"width": 1280, "height": 3200})
    box.screenshot(path=str(SHOTS / f"selfcheck_{url}_{locale}_all.png"))


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_start_the_course_from_home(new_page, locale):
    """Home's "Start the course" opens the first lesson, which opens with its goal; the sidebar
    counts it (screenshots: course_home_<locale>.png, course_first_<locale>.png)."""
    page = new_page("", locale)
    no_exception(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"course_home_{locale}.png"))
    keyed(page, "course.start").locator("button").click()
    first = course.LESSONS[0].url
    page.wait_for_url(re.compile(rf"/{re.escape(first)}(\?.*)?$"), timeout=60_000)
    expect(keyed(page, f"goal-{first}")).to_be_visible(timeout=60_000)
    wait_idle(page)
    no_exception(page)
    expect(keyed(page, "course-progress").locator("[data-testid='stProgress']")).to_contain_text("1")
    page.screenshot(path=str(SHOTS / f"course_first_{locale}.png"))


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_a_lesson_ends_with_summary_self_check_and_next(new_page, locale):
    """The end of a lesson (screenshot course_end_<locale>.png): the summary, then the self-check,
    then the link to the next lesson."""
    page = new_page(course.url("why_convolution"), locale)
    no_exception(page)
    summary = keyed(page, f"summary-{course.url('why_convolution')}")
    summary.scroll_into_view_if_needed()
    expect(summary).to_be_visible()
    nxt = page.locator("[data-testid='stPageLink']").last
    expect(nxt).to_contain_text("ReLU")
    page.screenshot(path=str(SHOTS / f"course_end_{locale}.png"))
    nxt.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"course_next_{locale}.png"))


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_a_right_answer_counts_in_the_sidebar_at_once(new_page, locale):
    """Check reruns only its question (a fragment); a right answer still updates the sidebar's
    count at once, not on the next page. The question: which of four kernels made this map. Only a
    question's first Check counts (a wrong one shows the answer), so after a wrong guess the test
    draws a new question and guesses again, until a first guess is right."""
    from cnnviz.i18n import t

    lang = locale.replace("-", "_")
    page = new_page(course.url("convolution"), locale)
    bar = keyed(page, "course-progress").locator("[data-testid='stProgress']")
    expect(bar).to_contain_text(t("course.progress", lang, opened=1, total=10, right=0), timeout=60_000)
    question = keyed(page, "sc-convolution-2")
    question.wait_for(state="attached", timeout=120_000)
    question.scroll_into_view_if_needed()
    options = question.locator("[data-testid='stRadio'] [role='radiogroup'] label")
    expect(options).to_have_count(4, timeout=60_000)
    for _ in range(30):                  # a first guess is right 1 time in 4: 30 wrong in a row ~ 2e-4
        options.first.click()           # a radio sends its value at once, before Check's click
        expect(options.first.locator("input")).to_be_checked()
        keyed(page, "sc.convolution.2.check").locator("button").click()
        expect(question.locator("[data-testid='stAlert']")).to_have_count(1, timeout=60_000)
        wait_idle(page)
        if question.locator("[data-testid='stAlertContentSuccess']").count():
            break
        expect(bar).to_contain_text(t("course.progress", lang, opened=1, total=10, right=0))   # wrong: no change
        keyed(page, "sc.convolution.2.new").locator("button").click()
        expect(question.locator("[data-testid='stAlert']")).to_have_count(0, timeout=60_000)
        wait_idle(page)
    else:
        raise AssertionError("30 first guesses were all wrong")
    expect(bar).to_contain_text(t("course.progress", lang, opened=1, total=10, right=1), timeout=30_000)
    expect(question.locator("[data-testid='stAlertContentSuccess']")).to_have_count(1)   # the feedback stays
    no_exception(page)
