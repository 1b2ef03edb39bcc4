"""Issue 10 in a real browser at 1280 x 800: what /why-convolution, /layers and /autoencoder show
a class is true and readable (a true MLP-vs-CNN factor, pooling windows, legends, the latent point)."""

import re

import pytest
from browser_helpers import image_loaded, keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course

LOCALES = ["en-US", "pt-BR"]


def open_tab(page, name_re):
    tab = page.get_by_role("tab", name=re.compile(name_re))
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def set_number(page, key, value):
    box = keyed(page, key).locator("input")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


@pytest.mark.parametrize("locale, value, sentence", [
    ("en-US", "CNN, 2.5 ×", "The CNN needs 2.5 times as many weights as the MLP."),
    ("pt-BR", "CNN, 2,5 ×", "A CNN precisa de 2,5 vezes mais pesos do que o MLP.")])
def test_why_names_the_network_that_needs_more_weights(new_page, locale, value, sentence):
    page = new_page(course.url("why_convolution"), locale=locale)
    set_number(page, "why.h", 28)
    set_number(page, "why.w", 28)
    convs = keyed(page, "why.convs").locator("input")
    convs.fill("16, 32, 64, 128, 256, 512")
    convs.press("Enter")
    expect(page.get_by_text(sentence).first).to_be_visible(timeout=60_000)
    expect(page.locator("[data-testid='stMetricValue']").nth(2)).to_have_text(value)
    wait_idle(page)
    values = [v.inner_text().strip() for v in page.locator("[data-testid='stMetricValue']").all()]
    assert not re.search(r"×\s*[01]\b", " ".join(values))
    no_exception(page)
    shoot(page, f"basics_why_28_{locale}")


@pytest.mark.parametrize("locale", LOCALES)
def test_layers_conv_block_stages_then_pooling_windows(new_page, locale):
    """One visit of /layers: the conv block's stages (read as the page opens), then the pooling tab."""
    page = new_page(course.url("layers"), locale=locale)
    conv_block_stages_are_large_with_a_legend_each(page, locale)
    pooling_windows_are_outlined_and_matched_to_their_output(page, locale)


def pooling_windows_are_outlined_and_matched_to_their_output(page, locale):
    open_tab(page, "^Pooling$")
    pool = page.locator(".cnnviz-pool").first
    pool.wait_for(state="visible")
    assert pool.get_attribute("data-windows") == "9"       # 6 x 6, window 2, stride 2
    tables = pool.locator("table.cnnviz-matrix")
    before, after = tables.nth(0), tables.nth(1)
    shadow = lambda cell: cell.evaluate("e => getComputedStyle(e).boxShadow")  # noqa: E731
    bg = lambda cell: cell.evaluate("e => getComputedStyle(e).backgroundColor")  # noqa: E731
    # the top-left window: its 4 cells outlined, one colour band shared with output (0, 0)
    corner = before.locator("td.c0_0")
    assert shadow(corner) != "none"
    assert bg(corner) == bg(before.locator("td.c1_1")) == bg(after.locator("td.o0"))
    assert bg(corner) != bg(before.locator("td.c0_2"))      # the next window has another colour
    # pointing at output (1, 2) outlines its window, rows 2-3, columns 4-5, in orange
    after.locator("td.o5").hover()
    orange = re.compile(r"230, 81, 0")
    expect(before.locator("td.c2_4")).to_have_css("box-shadow", orange)
    expect(before.locator("td.c0_0")).not_to_have_css("box-shadow", orange)
    shoot(page, f"basics_pool_{locale}")
    # overlapping windows (stride 1): the first output's window is outlined
    keyed(page, "layers.pool_stride").get_by_role("slider").press("Home")
    expect(pool).to_have_attribute("data-windows", "25", timeout=60_000)     # 5 x 5 windows
    wait_idle(page)
    page.mouse.move(5, 5)          # pointing at nothing: the first output's window is shown
    expect(pool.locator("td.c1_1")).to_have_css("box-shadow", orange)
    expect(pool.locator("td.c2_2")).not_to_have_css("box-shadow", orange)
    no_exception(page)
    open_tab(page, "^ReLU$")      # one scale before and after, with its legend
    page.locator(".cnnviz-legend:visible").first.scroll_into_view_if_needed()
    shoot(page, f"basics_relu_{locale}")


def conv_block_stages_are_large_with_a_legend_each(page, locale):
    open_tab(page, "conv")
    for i in range(5):
        stage = keyed(page, f"layers.stage{i}")
        stage.wait_for(state="visible")
        img = stage.locator("[data-testid='stImage'] img").first
        box = img.bounding_box()
        assert box["width"] >= 160, (i, box)
        legend = stage.locator(".cnnviz-legend")
        assert legend.count() == 1
        font = legend.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert font >= 14
    kinds = [keyed(page, f"layers.stage{i}").locator(".cnnviz-legend").get_attribute("data-kind") for i in range(5)]
    assert kinds == ["gray", "diverging", "diverging", "diverging", "diverging"]   # no silent switch at ReLU
    # BN, ReLU and pool: the same scale, so the same colours mean the same numbers
    ends = {keyed(page, f"layers.stage{i}").locator(".cnnviz-legend").get_attribute("data-hi") for i in (2, 3, 4)}
    assert len(ends) == 1
    no_exception(page)
    keyed(page, "layers.stage4").scroll_into_view_if_needed()
    shoot(page, f"basics_block_{locale}")
    open_tab(page, "^Batch norm$")
    page.locator(".cnnviz-legend:visible").last.scroll_into_view_if_needed()
    shoot(page, f"basics_bn_{locale}")


def _orange_centre(png: bytes):
    """Centre (x, y) as fractions of the image of its orange (figures.CHOSEN) pixels, or None."""
    import io

    import numpy as np
    from PIL import Image

    arr = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    orange = (abs(arr[..., 0] - 230) < 25) & (abs(arr[..., 1] - 81) < 30) & (arr[..., 2] < 40)
    if orange.sum() < 20:
        return None
    ys, xs = np.nonzero(orange)
    h, w = orange.shape
    return (xs.min() + xs.max()) / 2 / w, (ys.min() + ys.max()) / 2 / h


def _plane(page, z1: str, z2: str):
    """The decoded plane's picture once its caption names the point (z1, z2) of the sliders, loaded."""
    z = [rf"{v.replace('-', '[-−]')}[.,]0" for v in (z1, z2)]
    shown = page.locator("[data-testid='stImage']", has_text=re.compile(rf"(point|ponto) \({z[0]}[,;] {z[1]}\)"))
    img = shown.locator("img").first
    expect(img).to_be_visible(timeout=60_000)
    wait_idle(page)
    image_loaded(img)
    return img


@pytest.mark.parametrize("locale", LOCALES)
def test_autoencoder_marks_the_chosen_point_on_the_decoded_plane(new_page, locale):
    page = new_page(course.url("autoencoder"), locale=locale)
    no_exception(page)
    for key, presses in (("ae.z1", "End"), ("ae.z2", "Home")):     # z = (3, -3): bottom right
        keyed(page, key).get_by_role("slider").press(presses)
    plane = _plane(page, "3", "-3")
    plane.scroll_into_view_if_needed()
    centre = _orange_centre(plane.screenshot())
    assert centre is not None
    # 15 x 15 tiles from -3 to +3: the point (3, -3) is the centre of the bottom-right tile
    assert centre[0] == pytest.approx(14.5 / 15, abs=0.03) and centre[1] == pytest.approx(14.5 / 15, abs=0.03)
    for key, presses in (("ae.z1", "Home"), ("ae.z2", "End")):     # (-3, 3): top left
        keyed(page, key).get_by_role("slider").press(presses)
    plane = _plane(page, "-3", "3")
    centre = _orange_centre(plane.screenshot())
    assert centre[0] == pytest.approx(0.5 / 15, abs=0.03) and centre[1] == pytest.approx(0.5 / 15, abs=0.03)
    no_exception(page)
    shoot(page, f"basics_ae_plane_{locale}")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    if chart.count():
        chart.scroll_into_view_if_needed()
        expect(chart.locator(".main-svg").first).to_be_attached()      # plotly has drawn it
        shoot(page, f"basics_ae_space_{locale}")


@pytest.mark.parametrize("locale, ticks", [("en-US", ["0", "255"]), ("pt-BR", ["0", "255"])])
def test_image_numbers_matrix_has_its_legend(new_page, locale, ticks):
    page = new_page(course.url("image_as_numbers"), locale=locale)
    legend = page.locator(".cnnviz-legend:visible").first
    legend.wait_for(state="visible")
    assert legend.get_attribute("data-kind") == "gray"
    assert [t.inner_text() for t in legend.locator(".cnnviz-legend-tick").all()] == ticks
    legend.scroll_into_view_if_needed()
    no_exception(page)
    shoot(page, f"basics_numbers_{locale}")
