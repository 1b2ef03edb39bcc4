"""Inside a CNN in a real browser: draw a digit, watch the prediction change, pick a layer."""

import pytest
from browser_helpers import draw_stroke, keyed, no_exception, reveal_prediction, sends_a_run, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course


def prediction(page, expected: str) -> str:
    """The network's answer at the top once it says ``expected`` (asked first: the guess is skipped)."""
    skip = keyed(page, "inside.predict.skip_button_top")
    value = page.locator("[data-testid='stMetricValue']").first
    expect(skip.or_(value)).to_be_visible(timeout=90_000)
    wait_idle(page)
    if skip.count():                    # hidden until a guess: skip it
        reveal_prediction(page)
    expect(value).to_have_text(expected, timeout=90_000)
    return value.inner_text().strip()


def canvas_box(page):
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    canvas.scroll_into_view_if_needed()
    return canvas.bounding_box()


def test_draw_digits_and_select_a_layer(new_page):
    page = new_page(course.url("inside_a_cnn"))
    no_exception(page)
    box = canvas_box(page)
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    # a "1": one vertical stroke in the middle
    with sends_a_run(page):
        draw_stroke(page, [(x0 + w * 0.5, y0 + h * (0.15 + 0.7 * i / 20)) for i in range(21)])
    first = prediction(page, "1")
    shoot(page, "inside_drawn_1")

    # turn it into a "7": a bar across the top, joined to the stroke
    with sends_a_run(page):
        draw_stroke(page, [(x0 + w * (0.2 + 0.3 * i / 10), y0 + h * 0.15) for i in range(11)])
    second = prediction(page, "7")
    assert second != first, second
    no_exception(page)

    # pick the second convolution and see its 64 maps
    page.locator("[data-testid='stButtonGroup']").get_by_text("conv2", exact=True).click()
    heading = page.get_by_role("heading", name="3. Layer conv2: 64 activation maps of 14 × 14")
    expect(heading).to_be_visible(timeout=90_000)
    wait_idle(page)
    heading.scroll_into_view_if_needed()
    expect(heading).to_be_in_viewport()
    shoot(page, "inside_conv2")
    no_exception(page)


TEXT_BOXES = """() => [...document.querySelectorAll('svg.cnnviz-arch-item')].flatMap(svg => {
    const s = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('text')].filter(t => t.textContent).map(t => {
        const r = t.getBoundingClientRect();
        return {text: t.textContent, left: r.left - s.left, right: s.right - r.right,
                top: r.top - s.top, bottom: s.bottom - r.bottom};
    });
})"""


@pytest.mark.parametrize("locale, weights, present", [("en-US", "401,536 weights", ""),
                                                      ("pt-BR", "401.536 pesos", "&present=1")])
def test_every_word_of_the_architecture_fits_its_drawing(new_page, locale, weights, present):
    """Issue 17: the drawing clipped "401,536 weights" (its width guessed at half the font size a
    letter). Every text's box, read in Chromium at 1280 x 800, lies inside its SVG's box."""
    page = new_page(course.url("inside_a_cnn", "inside.draw=false" + present), locale=locale)
    drawing = page.locator(".cnnviz-arch").first
    expect(drawing).to_contain_text(weights, timeout=120_000)
    boxes = page.evaluate(TEXT_BOXES)
    assert weights in [b["text"] for b in boxes], [b["text"] for b in boxes]
    outside = [b for b in boxes if min(b["left"], b["right"], b["top"], b["bottom"]) < 0]
    assert not outside, outside
    drawing.scroll_into_view_if_needed()
    shoot(page, f"inside_architecture_{locale}{'_present' if present else ''}")
    no_exception(page)
