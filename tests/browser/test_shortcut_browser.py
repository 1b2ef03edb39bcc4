"""The Shortcut-learning lab in a real browser: train on the planted pictures (3 epochs, set by the
link), guess what the square does to a sneaker, then see the numbers and the flips."""

import re

from browser_helpers import gone_then_idle, keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course


def test_train_guess_then_see_the_flip(new_page):
    page = new_page(course.url("shortcuts", "shortcut.epochs=3"), locale="en-US")
    no_exception(page)
    expect(page.get_by_text(re.compile(r"The square is on \d+ of the \d+ training pictures of “Shirt”"))).to_be_visible()
    keyed(page, "shortcut.go").locator("button").click()
    # predict first: the sneaker with and without the square, the guess, and nothing measured yet
    guess = page.get_by_role("radiogroup").first
    guess.wait_for(state="visible", timeout=180_000)
    wait_idle(page)
    expect(page.get_by_text("The answer is hidden")).to_be_visible()
    assert page.locator("[data-testid='stMetricValue']").count() == 0
    shoot(page, "shortcut_question_en")
    guess.get_by_text("Sneaker", exact=True).click()
    keyed(page, "shortcut.reveal").locator("button:not([disabled])").click()
    gone_then_idle(page, "shortcut.reveal")
    verdict = page.get_by_text(re.compile(r"(Right|Not this time): you said “Sneaker”, the network says “\w"))
    expect(verdict).to_be_visible()
    # the flip share, in %, in the learner's format; the square pasted on other classes makes them shirts
    flipped = keyed(page, "shortcut.flip_metric").locator("[data-testid='stMetricValue']")
    flipped.scroll_into_view_if_needed()
    value = flipped.inner_text()
    assert re.fullmatch(r"\d{1,3}\.\d\s%", value), value
    assert float(value.split()[0]) > 80
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(2)    # confusion matrix, flips per class
    no_exception(page)
    shoot(page, "shortcut_flips_en")
