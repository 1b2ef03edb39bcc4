"""Inside a CNN's feature grid in a real browser: the click, the progress in the line of heavy work,
the question first, then every channel's optimized picture as a tile."""

import re

from browser_helpers import keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course
from cnnviz.i18n import t


def test_the_feature_grid_of_the_digits_network(new_page):
    page = new_page(course.url("inside_a_cnn", "inside.draw=false"))
    button = keyed(page, "inside.fv.grid_button").get_by_role("button",
                                                               name=t("inside.fv_grid_button", "en", n=32, layer="conv1"))
    expect(button).to_be_visible(timeout=120_000)
    button.scroll_into_view_if_needed()
    button.click()
    # the line of heavy work: its Stop button and the progress bar while the 32 pictures are optimized
    expect(keyed(page, "inside.fv.grid.cancel")).to_be_visible(timeout=60_000)
    expect(page.locator("[data-testid='stProgress']").first).to_be_visible(timeout=60_000)
    # then the question, before any channel number is on the page
    pattern_a = page.get_by_text(t("inside.fv_pattern", "en", letter="A"), exact=True).first
    expect(pattern_a).to_be_visible(timeout=120_000)
    expect(page.get_by_text("channel 0", exact=True)).to_have_count(0)
    wait_idle(page)
    pattern_a.scroll_into_view_if_needed()
    shoot(page, "featviz_predict")
    keyed(page, "featviz.predict.skip_button").get_by_role("button").click()
    # every channel's tile, with its number
    last = page.get_by_text("channel 31", exact=True)
    expect(last).to_be_visible(timeout=60_000)
    tiles = page.locator("[data-testid='stImageCaption']").filter(has_text=re.compile(r"^channel \d+$"))
    expect(tiles).to_have_count(32, timeout=30_000)
    wait_idle(page)
    page.get_by_text(t("inside.fv_grid_title", "en", n=32, layer="conv1").strip("*").split("**")[0]).first \
        .scroll_into_view_if_needed()
    shoot(page, "featviz_grid")
    no_exception(page)
