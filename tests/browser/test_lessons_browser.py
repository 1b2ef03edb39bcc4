"""The calculator, the explanation and the receptive-field lessons in a real browser."""

import re

from browser_helpers import choose_option, keyed, no_exception, shoot, skip_explain_guess, wait_idle
from playwright.sync_api import expect

from cnnviz import course


def metric_values(page):
    """The metrics' values, once the page has drawn them (a loaded machine may take a while)."""
    page.locator("[data-testid='stMetricValue']").first.wait_for(state="visible", timeout=90_000)
    return [v.inner_text().strip() for v in page.locator("[data-testid='stMetricValue']").all()]


def test_mlp_calculator_updates_the_counts(new_page):
    page = new_page(course.url("why_convolution"))
    no_exception(page)
    metrics = page.locator("[data-testid='stMetricValue']")
    expect(metrics.first).to_have_text("4,295,622,656", timeout=90_000)   # the first run drawn, not a partial one
    expect(metrics.nth(1)).to_have_text("678,544")
    shoot(page, "why_default")
    # a 28 x 28 grey digit instead of 256 x 256
    for key in ("why.h", "why.w"):
        box = keyed(page, key).locator("input")
        box.fill("28")
        box.press("Enter")
        expect(box).to_have_value("28")
    expected = f"{784 * 784 + 784 * 10:,}"
    expect(page.locator("[data-testid='stMetricValue']").first).to_have_text(expected, timeout=60_000)
    wait_idle(page)
    values = metric_values(page)
    assert values[0] == expected, values
    assert values[1] != "678,544"
    # the course's 17 GB stays in the box below, computed
    expect(page.get_by_text(re.compile(r"4,294,967,296 weights")).first).to_be_visible()
    no_exception(page)


def test_gradcam_page_shows_the_overlay_and_follows_the_class(new_page):
    page = new_page(course.url("explain"), locale="pt-BR")
    no_exception(page)
    heading = page.get_by_role("heading", name=re.compile("Grad-CAM de “7”"))   # MNIST's first test digit
    expect(heading).to_be_visible()
    skip_explain_guess(page)
    shoot(page, "explain_pt")
    # (the class box is keyed by network and picture)
    choose_option(page, None, re.compile(r"^8 "), box=page.locator("[class*='st-key-explain-target-']").first)
    expect(page.get_by_role("heading", name=re.compile("Grad-CAM de “8”"))).to_be_visible(timeout=90_000)
    wait_idle(page)
    assert page.locator("[data-testid='stImage'] img").count() >= 3
    no_exception(page)


def test_receptive_field_table_drives_the_numbers(new_page):
    page = new_page(course.url("receptive_field"))
    no_exception(page)
    expect(page.get_by_text(re.compile(r"one unit sees 24 × 24 pixels")).first).to_be_visible()
    shoot(page, "receptive_field")
