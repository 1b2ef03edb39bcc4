"""Browser: every page of the app at 1280x800 (a projector), in English and Portuguese, one visit each
(a page opens in a fresh browser once, and every check below reads that same visit: the suite's time).

As it opens, the page is read as a learner reads it (``browser_helpers.page_problems``): no word broken
across two lines, no label cut off with "…", and in Portuguese no number written with a decimal point
(screenshots shots/browser/<en|pt>_<page>.png). Then:

- a lesson: its end, the summary and the link to the next lesson (screenshots course_end_<locale>.png and
  course_next_<locale>.png for Why convolution), and its self-check (shots/browser/selfcheck_<url>_<locale>.png:
  the self-check scrolled into view, and ..._all.png: the whole self-check): the container is there with
  its questions and Check buttons, and Check answers inside the question (a fragment) without an exception;
- the home page: its cards are named like the sidebar's lessons, and "Start the course" opens the first
  lesson, which the sidebar counts (course_home_<locale>.png, course_first_<locale>.png).

The pages come from the lessons' registry: a new lesson is visited without a line here.
"""

import re

import pytest
from playwright.sync_api import expect
from browser_helpers import SHOTS, keyed, no_exception, open_lesson, page_problems, sends_a_run, shoot, wait_idle

from cnnviz import course
from cnnviz import exercises as ex
from cnnviz import ui
from cnnviz.i18n import t

LESSONS = [url for _, url, _ in ui.course()]
PAGES = ["", *LESSONS]          # the home page is ""


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
@pytest.mark.parametrize("url", PAGES, ids=lambda url: url or "home")
def test_every_page_on_a_projector(new_page, url, locale):
    page = open_lesson(new_page, url, locale)
    shoot(page, f"{locale[:2]}_{url or 'home'}")
    language = "Portuguese" if locale == "pt-BR" else "English"
    assert not (problems := page_problems(page, decimals=locale == "pt-BR")), f"/{url} in {language}: {problems!r}"
    if url:
        lesson_end(page, url, locale)
        selfcheck(page, url, locale)
    else:
        home(page, locale)


def lesson_end(page, url, locale):
    """The summary, then the self-check, then the link to the next lesson (or, after the last, home)."""
    lang = locale.replace("-", "_")
    summary = keyed(page, f"summary-{url}")
    summary.scroll_into_view_if_needed()
    expect(summary).to_be_visible()
    after = course.next_after(url)
    nxt = page.locator("[data-testid='stPageLink']").last
    expect(nxt).to_contain_text(t(after.title_key, lang) if after else t("course.back_home", lang))
    if url == course.url("why_convolution"):
        page.screenshot(path=str(SHOTS / f"course_end_{locale}.png"))
        nxt.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"course_next_{locale}.png"))


def selfcheck(page, url, locale):
    """One question per kind with Check and New question; Check without an answer asks for one, and an
    answer (right or wrong) gets its feedback, inside the question."""
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


def home(page, locale):
    """The cards are named like the sidebar's lessons; "Start the course" opens the first lesson, which
    opens with its goal, and the sidebar counts it."""
    cards = [h.inner_text().strip() for h in page.locator("[data-testid='stMain'] h3").all()]
    nav = [a.inner_text().strip() for a in page.locator("[data-testid='stSidebarNav'] a").all()]
    nav = [n.splitlines()[-1].strip() for n in nav]   # "home\n\nInício": the icon's ligature, then the name
    assert len(cards) == len(LESSONS), cards
    assert cards == [n for n in nav if n not in ("Início", "Home")], (cards, nav)
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
def test_a_right_answer_counts_in_the_sidebar_at_once(new_page, locale):
    """Check reruns only its question (a fragment); a right answer still updates the sidebar's
    count at once, not on the next page. The question: which of four kernels made this map. Only a
    question's first Check counts (a wrong one shows the answer), so after a wrong guess the test
    draws a new question and guesses again, until a first guess is right."""
    from cnnviz.i18n import t

    lang = locale.replace("-", "_")
    page = new_page(course.url("convolution"), locale)
    bar = keyed(page, "course-progress").locator("[data-testid='stProgress']")
    expect(bar).to_contain_text(t("course.progress", lang, opened=1, total=len(LESSONS), right=0), timeout=60_000)
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
        expect(bar).to_contain_text(t("course.progress", lang, opened=1, total=len(LESSONS), right=0))   # wrong: no change
        keyed(page, "sc.convolution.2.new").locator("button").click()
        expect(question.locator("[data-testid='stAlert']")).to_have_count(0, timeout=60_000)
        wait_idle(page)
    else:
        raise AssertionError("30 first guesses were all wrong")
    expect(bar).to_contain_text(t("course.progress", lang, opened=1, total=len(LESSONS), right=1), timeout=30_000)
    expect(question.locator("[data-testid='stAlertContentSuccess']")).to_have_count(1)   # the feedback stays
    no_exception(page)
