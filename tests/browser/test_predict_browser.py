"""Predict, then reveal, in a real browser (issue 13): real mouse clicks on the clickable picture
(streamlit-image-coordinates, an iframe) in Chromium, at 1280 x 800, in both languages."""

import re

import numpy as np
from browser_helpers import image_loaded, keyed, no_exception, sends_a_run, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course
from cnnviz.maths import conv, images, kernels

SCORE = re.compile(r"(\d+) (?:points out of|pontos de) 100")


def picture(page, prefix: str):
    """The clickable picture (an <img> inside the component's iframe) of this lesson part."""
    frame = page.frame_locator(f"[class*='st-key-{prefix}-predict-click'] iframe")
    img = frame.locator("img#image")
    img.wait_for(state="visible", timeout=120_000)
    wait_idle(page)
    img.scroll_into_view_if_needed()
    image_loaded(img)                       # its size is the picture's: the click's pixel depends on it
    return img


def click_pixel(page, prefix: str, row: float, col: float, side: int):
    """A real mouse click on the centre of pixel (row, col) of the ``side``-pixel picture, sent to the
    server."""
    box = picture(page, prefix).bounding_box()
    k = box["width"] / side
    with sends_a_run(page):
        page.mouse.click(box["x"] + (col + 0.5) * k, box["y"] + (row + 0.5) * box["height"] / side)


def verdict(page) -> str:
    """The scored guess: the alert with the click icon."""
    alert = page.locator("[data-testid='stAlert']", has_text=re.compile(
        r"points out of 100|pontos de 100")).first
    alert.wait_for(state="visible", timeout=120_000)
    return alert.inner_text()


def strongest_centre() -> tuple[int, int]:
    mouse = images.to_array(images.fit(images.load_sample("mouse"), 64), "gray").astype(np.float64)
    out = conv.convolve2d(mouse, kernels.CURVE_DETECTOR).output
    r, c = np.argwhere(out == out.max())[0]
    return int(r) + 3, int(c) + 3


def map_maximum(page) -> str:
    metric = page.locator("[data-testid='stMetric']", has_text=re.compile("Maximum|Máximo")).first
    metric.wait_for(state="visible", timeout=120_000)
    return metric.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_convolution_a_click_on_the_strongest_spot_beats_an_empty_corner(new_page):
    page = new_page(course.url("convolution"))
    picture(page, "conv")
    assert page.locator("[data-testid='stMetric']", has_text="Maximum").count() == 0   # map hidden
    shoot(page, "predict_conv_en_ask")
    r, c = strongest_centre()
    click_pixel(page, "conv", r, c, 64)
    on_it = verdict(page)
    assert map_maximum(page) == "9000"                    # the map appears after the click
    page.locator("[data-testid='stAlert']", has_text="points out of 100").first.scroll_into_view_if_needed()
    shoot(page, "predict_conv_en_revealed")
    no_exception(page)

    keyed(page, "conv.predict.again_button").locator("button").click()
    expect(page.locator("[data-testid='stAlert']", has_text="points out of 100")).to_have_count(0, timeout=60_000)
    click_pixel(page, "conv", 1, 62, 64)                   # the empty top-right corner
    corner = verdict(page)
    assert int(SCORE.search(on_it).group(1)) == 100, on_it
    assert int(SCORE.search(corner).group(1)) < 20, corner
    assert "(9000," in on_it and "Close" in on_it and "Further away" in corner
    no_exception(page)


def test_convolution_in_portuguese(new_page):
    page = new_page(course.url("convolution"), locale="pt-BR")
    picture(page, "conv")
    assert page.get_by_text("onde este kernel vai responder mais forte").count() == 1
    shoot(page, "predict_conv_pt_ask")
    r, c = strongest_centre()
    click_pixel(page, "conv", r + 2, c - 2, 64)             # near it: scored, in the learner's format
    text = verdict(page)
    assert "(9000," in text and 60 <= int(SCORE.search(text).group(1)) < 100, text
    assert map_maximum(page) == "9000"
    page.locator("[data-testid='stAlert']", has_text="pontos de 100").first.scroll_into_view_if_needed()
    shoot(page, "predict_conv_pt_revealed")
    no_exception(page)


def pointing(page) -> str:
    alert = page.locator("[data-testid='stAlert']", has_text=re.compile(r"A hit|A miss|Acertou|Errou")).first
    alert.wait_for(state="visible", timeout=180_000)
    return alert.inner_text()


def test_explain_a_click_gives_a_pointing_game_result_and_the_map_appears(new_page):
    for locale in ("en-US", "pt-BR"):
        page = new_page(course.url("explain"), locale=locale)
        picture(page, "explain")
        shoot(page, f"predict_explain_{locale}_ask")
        click_pixel(page, "explain", 14, 14, 28)            # the middle of the digit
        text = pointing(page)
        assert re.search(r"\d+(,\d)? (out of|pontos de) 100", text), text
        caption = "Your click (cyan ring)" if locale == "en-US" else "Seu clique (anel ciano)"
        shown = page.locator("[data-testid='stImage']", has_text=caption).first
        shown.wait_for(state="visible", timeout=60_000)
        shown.scroll_into_view_if_needed()
        shoot(page, f"predict_explain_{locale}_revealed")
        no_exception(page)


def test_inside_guess_the_class_then_the_softmax(new_page):
    for locale, reveal, right in (("en-US", "Reveal", "Right"), ("pt-BR", "Revelar", "Acertou")):
        page = new_page(course.url("inside_a_cnn"), locale=locale)
        keyed(page, "inside.draw").locator("label").first.click()     # the sample digit (a 7), not the canvas
        box = page.locator("[class*='st-key-inside-predict-pick'] input[role='combobox']").first
        box.wait_for(state="visible", timeout=120_000)
        wait_idle(page)
        box.scroll_into_view_if_needed()
        assert page.locator("[data-testid='stMain'] .katex").count() == 0     # no softmax yet
        shoot(page, f"predict_inside_{locale}_ask")
        box.click()
        page.get_by_role("option", name="7", exact=True).click()
        expect(box).to_have_value("7")
        reveal = keyed(page, "inside.predict.reveal").locator("button")
        expect(reveal).to_be_enabled(timeout=60_000)         # the page has run with the guess
        reveal.click()
        alert = page.locator("[data-testid='stAlert']", has_text=right).first
        alert.wait_for(state="visible", timeout=60_000)
        page.locator("[data-testid='stMain'] .katex").first.wait_for(state="attached", timeout=60_000)
        alert.scroll_into_view_if_needed()
        shoot(page, f"predict_inside_{locale}_revealed")
        no_exception(page)
