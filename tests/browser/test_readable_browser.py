"""Issue 17, "Readable from the back of the room" and presentation mode, in a real browser at 1280 x 800:
the computed size of the digits in the lessons' matrices, headline numbers in presentation mode, labels
that wrap instead of ending in "...", and the convolution's hidden answer and its map's colour bar."""

import re

import pytest
from browser_helpers import gone_then_idle, keyed, no_exception, shoot, step_view_fits_one_screen
from playwright.sync_api import expect

from cnnviz import course

CELL_SIZES = """sel => [...document.querySelectorAll(sel)].map(t => {
  const td = t.querySelector('td');
  return {rows: t.rows.length, cols: t.rows[0].cells.length, px: parseFloat(getComputedStyle(td).fontSize),
          fits: [...t.querySelectorAll('td')].every(c => c.scrollWidth <= c.clientWidth + 1)};
})"""

# the 7 x 7 kernel is the page as it opens: read in the same visit as its opening (test_the_opening_hides_where_...)
KERNELS = {3: "conv.preset=sobel_x", 11: "conv.preset=gaussian_blur&conv.preset_size=11"}


def in_presentation_mode(page):
    """Until presentation mode's styles are on the page (the title at 3rem of 20 px: 60 px; 44 px
    without): measured before them, a matrix still has its normal 15 px."""
    page.wait_for_function("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize) >= 48",
                           timeout=60_000)


def _matrices(page, sel=".cnnviz-step-matrices .cnnviz-matrix", count=3):
    page.locator(sel).nth(count - 1).wait_for(state="attached", timeout=90_000)
    return page.evaluate(f"({CELL_SIZES})({sel!r})")


@pytest.mark.parametrize("present", [False, True], ids=["normal", "present"])
@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_the_convolution_matrices_are_readable_from_the_back(new_page, locale, present):
    """The window, the kernel and the products: 10 px digits before (196 cells of a 7 x 7 step);
    now at least 14 px, and 20 px in presentation mode up to 7 x 7 (14 px for 11 x 11). Every
    number fits its cell. (7 x 7, the page as it opens: ``test_the_opening_hides_where_...``.)"""
    for k, query in KERNELS.items():
        params = "&".join(p for p in (query, "present=1" if present else "") if p)
        page = new_page(course.url("convolution", params), locale=locale)
        no_exception(page)
        readable_step_matrices(page, k, locale, present)
        page.context.close()


def readable_step_matrices(page, k, locale, present):
    """The step's three k x k matrices: digits of 14 px at least (20 px in presentation mode up to
    7 x 7), each number inside its cell (screenshot readable_conv_k<k>_<locale>[_present].png)."""
    if present:
        in_presentation_mode(page)
    found = _matrices(page)
    assert [(m["rows"], m["cols"]) for m in found] == [(k, k)] * 3, found
    want = 20 if present and k <= 7 else 14
    assert all(m["px"] >= want for m in found), (k, present, found)
    assert all(m["fits"] for m in found), (k, found)
    page.evaluate("() => document.querySelector('.cnnviz-step-matrices').scrollIntoView({block: 'center'})")
    shoot(page, f"readable_conv_k{k}_{locale}{'_present' if present else ''}")


@pytest.mark.parametrize("present", [False, True], ids=["normal", "present"])
def test_other_lessons_matrices_have_14_px_digits(new_page, present):
    """Every lesson's matrices (Image as numbers, ReLU/pooling/softmax/BN): at least 14 px; in
    presentation mode 20 px for those up to 7 x 7."""
    for path in (course.url("image_as_numbers"), course.url("layers")):
        page = new_page(f"{path}{'?present=1' if present else ''}")
        no_exception(page)
        if present:
            in_presentation_mode(page)
        page.locator(".cnnviz-matrix").first.wait_for(state="attached", timeout=90_000)
        found = page.evaluate(f"({CELL_SIZES})('.cnnviz-matrix')")
        assert found and all(m["px"] >= 14 for m in found), (path, found)
        small = [m for m in found if max(m["rows"], m["cols"]) <= 7]
        assert all(m["px"] >= 20 for m in small) if present else True, (path, small)
        assert small or path == course.url("image_as_numbers"), found       # its 8 x 8 (and larger) windows: 14 px
        page.context.close()


METRICS = """() => {
  const body = parseFloat(getComputedStyle(document.querySelector("[data-testid='stMarkdownContainer'] p")).fontSize);
  return {body, values: [...document.querySelectorAll("[data-testid='stMetricValue']")].map(e => {
    const p = e.querySelector('p') || e;
    return parseFloat(getComputedStyle(p).fontSize);
  })};
}"""


def headline_numbers(page, present):
    """Shapes (64 × 64 × 1) and weight counts (4,295,622,656) are st.metric: in presentation mode
    their paragraph took the body's 23 px. They stay about twice the text's size, in both modes:
    their sizes, for the caller to compare the two modes (they grow with the text)."""
    if present:
        in_presentation_mode(page)
    page.locator("[data-testid='stMetricValue']").first.wait_for(state="visible", timeout=90_000)
    got = page.evaluate(METRICS)
    assert got["values"] and min(got["values"]) >= 1.8 * got["body"], (present, got)
    return got


def test_headline_numbers_grow_with_the_text_in_presentation_mode(new_page):
    """Why convolution's weight counts (Convolution's shapes: ``test_the_opening_hides_where_...``)."""
    sizes = {}
    for present in (False, True):
        page = new_page(course.url("why_convolution", "present=1" if present else ""))
        sizes[present] = headline_numbers(page, present)
        page.context.close()
    assert min(sizes[True]["values"]) > min(sizes[False]["values"]), sizes     # they grew with the text


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_a_long_toggle_label_wraps_in_presentation_mode(new_page, locale):
    """Why convolution's "Hidden layer as wide as the input (the course's example)" ended in
    "the course..." at 23 px: it wraps now, whole."""
    page = new_page(course.url("why_convolution", "present=1"), locale=locale)
    label = keyed(page, "why.same").locator("[data-testid='stWidgetLabel'] [data-testid='stMarkdownContainer']")
    label.wait_for(state="visible", timeout=90_000)
    cut = label.evaluate("e => e.scrollWidth > e.clientWidth + 1 || getComputedStyle(e).textOverflow === 'ellipsis'")
    label.scroll_into_view_if_needed()
    shoot(page, f"readable_why_toggle_{locale}")
    assert not cut, label.inner_text()
    assert "(" in label.inner_text() and label.inner_text().rstrip().endswith(")")


LEGEND = {"en-US": ("Map so far: 2603/3364 · zoom", "9000", "Output of this window", "Skip: show where"),
          "pt-BR": ("Mapa até aqui: 2603/3364 · zoom", "9000", "Saída desta janela", "Pular: mostrar onde")}


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_the_opening_hides_where_the_kernel_is_then_the_map_so_far_has_a_colour_bar(new_page, locale):
    """Issue 17: the page opens on the tail (6600), one row from the answer to "where will it fire most?".
    Until the guess nothing shows where the kernel is; then "Map so far" has a colour bar with numbers.
    The same visit, normal and in presentation mode: its 7 x 7 step matrices are readable from the back,
    and its headline numbers (the shapes) are twice the text's size and grow with it."""
    sizes = {}
    for present in (False, True):
        page = new_page(course.url("convolution", "present=1" if present else ""), locale=locale)
        no_exception(page)
        readable_step_matrices(page, 7, locale, present)
        sizes[present] = headline_numbers(page, present)
        the_opening_hides_where_the_kernel_is(page, locale, present)
        page.context.close()
    assert min(sizes[True]["values"]) > min(sizes[False]["values"]), sizes     # they grew with the text


def the_opening_hides_where_the_kernel_is(page, locale, present):
    """Nothing says where the kernel is until "Skip: show where"; then the pictures, the slider and the
    map so far with its colour bar (screenshots readable_conv_asking_... and readable_conv_shown_...).
    Before and after, the step view fits one projector screen (issue 10; audit10_conv_step_gray_...)."""
    caption, top, hidden_title, skip = LEGEND[locale]
    card = page.locator(".cnnviz-card").first
    card.wait_for(state="visible", timeout=90_000)
    assert hidden_title in card.inner_text() and card.inner_text().rstrip().endswith("6600")
    where = re.compile("Orange box|Zoom on the dashed|Caixa laranja|Zoom na moldura")
    assert page.locator("[data-testid='stImage']", has_text=where).count() == 0     # no picture of it, no zoom
    assert page.locator(".cnnviz-legend-caption", has_text=caption[:8]).count() == 0   # nor the map so far
    expect(keyed(page, "conv.t")).to_be_hidden()                           # no slider saying where
    assert page.locator(".cnnviz-legend", has_text=top).count() == 0       # no bar giving the maximum away
    keyed(page, "conv.first").scroll_into_view_if_needed()
    shoot(page, f"readable_conv_asking_{locale}{'_present' if present else ''}")
    step_view_fits_one_screen(page, "asking")      # issue 10: the whole step view on one projector screen

    keyed(page, "conv.predict.skip_step").get_by_role("button", name=skip).click()
    gone_then_idle(page, "conv.predict.skip_step")
    legend = page.locator(".cnnviz-legend", has_text=caption).first
    legend.wait_for(state="visible", timeout=90_000)
    assert page.locator("[data-testid='stImage']", has_text=where).count() == 2
    ticks = legend.locator(".cnnviz-legend-tick").all_inner_texts()
    assert ticks == ["0", top], ticks                                       # the map's own numbers
    expect(keyed(page, "conv.t")).to_be_visible()
    assert re.search(r"\(44, 50\)", card.inner_text())
    keyed(page, "conv.first").scroll_into_view_if_needed()
    shoot(page, f"readable_conv_shown_{locale}{'_present' if present else ''}")
    step_view_fits_one_screen(page, "shown")
    shoot(page, f"audit10_conv_step_gray_{locale}{'_present' if present else ''}")
    no_exception(page)
