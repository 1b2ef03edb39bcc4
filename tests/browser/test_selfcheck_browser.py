"""Browser: every lesson's self-check at 1280x800 (a projector), in English and Portuguese.

Screenshots (shots/browser/selfcheck_<url>_<locale>.png: the self-check scrolled into view, and
..._all.png: the whole self-check) are for a person to look at; the test checks that the container
is there with its questions and Check buttons, and that Check answers inside the question (a
fragment) without an exception.
"""

import pytest
from playwright.sync_api import expect
from browser_helpers import SHOTS, keyed, no_exception, wait_idle

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
    page.wait_for_timeout(600)
    n = len(ex.KINDS[url])
    expect(box.locator("[data-testid='stButton'] button")).to_have_count(2 * n, timeout=60_000)   # Check, New question
    # Check without an answer: the question asks for one, the rest of the page stays
    keyed(page, f"sc.{url}.0.check").locator("button").click()
    wait_idle(page)
    no_exception(page)
    expect(keyed(page, f"sc-{url}-0").locator("[data-testid='stAlert']")).to_have_count(1, timeout=60_000)
    keyed(page, f"selfcheck-{url}").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"selfcheck_{url}_{locale}.png"))
    box.screenshot(path=str(SHOTS / f"selfcheck_{url}_{locale}_all.png"))
