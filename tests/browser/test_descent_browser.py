"""Gradient descent in Chromium at 1280 x 800: once the guess is skipped, the race of SGD, momentum and
Adam plays in the browser when the figure's Play is pressed: the trails grow frame after frame while
the page asks the server for nothing (plotly frames, not a Streamlit rerun per step)."""

from browser_helpers import _SOCKETS, _asks_a_run, keyed, no_exception, shoot, wait_idle
from cnnviz import course

TRAILS = """() => Array.from(document.querySelectorAll('.st-key-gd-race .scatterlayer .trace'))
    .map(t => t.querySelectorAll('path.point').length)"""


def test_the_race_animates_in_the_browser(new_page):
    page = new_page(course.url("gradient_descent"))
    skip = keyed(page, "gd.predict.skip_button").locator("button").first
    skip.click()
    race = page.locator(".st-key-gd-race .js-plotly-plot")
    race.wait_for(state="visible", timeout=120_000)
    wait_idle(page)
    no_exception(page)
    race.scroll_into_view_if_needed()
    before = page.evaluate(TRAILS)          # the bottom's star, then one trail per optimizer: its start only
    assert before == [1, 1, 1, 1], before
    asked = []
    _SOCKETS[page].on("framesent", lambda payload: asked.append(1) if _asks_a_run(payload) else None)
    page.locator(".st-key-gd-race .updatemenu-button").first.click()
    # several frames in a few seconds: every trail five points long or more (80 ms a frame)
    page.wait_for_function(f"() => ({TRAILS})().slice(1).every(n => n >= 6)", timeout=15_000)
    grown = page.evaluate(TRAILS)
    page.wait_for_function(f"() => ({TRAILS})().slice(1).some(n => n >= {max(grown) + 10})", timeout=15_000)
    shoot(page, "descent-race")
    assert not asked, "the race asked the server for a run while it played"
