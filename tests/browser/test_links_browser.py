"""Links that reproduce a view (issue 11), in a real browser: change settings, read the page's
address, open it in a FRESH browser context (a student's laptop), and see the same view.
Also: a tampered link's message, presentation mode, the teachers' preset links."""

import re

import pytest

from browser_helpers import (choose_option, gone_then_idle, keyed, no_exception, reveal_prediction, shoot,
                             skip_explain_guess, wait_idle, watch)
from playwright.sync_api import expect

from cnnviz import course


@pytest.fixture
def open_url(chromium):
    """open_url(url, locale) -> a page in a new browser context (no cookies, no session)."""
    contexts = []

    def make(url: str, locale: str = "en-US"):
        ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        watch(page)
        page.goto(url)
        wait_idle(page)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def text_of(page, pattern: str) -> str:
    box = page.locator("[data-testid='stMarkdownContainer']", has_text=re.compile(pattern)).first
    box.wait_for(state="visible", timeout=90_000)
    return box.inner_text()


def caption_of(page, pattern: str) -> str:
    box = page.locator("[data-testid='stCaptionContainer']", has_text=re.compile(pattern)).first
    box.wait_for(state="visible", timeout=90_000)
    return box.inner_text()


def title_px(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")


def metric_values(page) -> list[str]:
    page.locator("[data-testid='stMetricValue']").first.wait_for(state="visible", timeout=90_000)
    return page.locator("[data-testid='stMetricValue']").all_inner_texts()


def in_url(page, *parts: str):
    """Until the page's address holds every ``key=value`` of ``parts`` (each change reaches it)."""
    for part in parts:
        expect(page).to_have_url(re.compile(re.escape(part)), timeout=60_000)


def set_number(page, key: str, value: str):
    box = keyed(page, key).locator("input")
    box.fill(value)
    box.press("Enter")
    in_url(page, f"{key}={value}")


def test_convolution_link_opens_the_same_view_in_a_fresh_browser(new_page, open_url):
    page = new_page(course.url("convolution"))
    choose_option(page, "conv.preset", "Sobel x (vertical edges)")
    in_url(page, "conv.preset=sobel_x")
    set_number(page, "conv.stride", "2")
    set_number(page, "conv.padding", "1")
    keyed(page, "conv.depth").get_by_text("Colour (3 channels)").click()
    in_url(page, "conv.depth=rgb")
    keyed(page, "conv.max").locator("button").first.click()     # the strongest answer
    gone_then_idle(page, "conv.predict.skip_button")             # ... answers the map's question
    no_exception(page)
    url = page.url
    for part in ("conv.preset=sobel_x", "conv.stride=2", "conv.padding=1", "conv.depth=rgb", "conv.t="):
        assert part in url, url
    view = (text_of(page, r"^Sum"), metric_values(page))
    assert not view[0].endswith("= 0"), view

    fresh = open_url(url)
    no_exception(fresh)
    # "Strongest answer" answered the map's question in the first browser (the guess was skipped);
    # a link never carries that: the receiver is asked, and sees the same map once they skip too
    keyed(fresh, "conv.predict.skip_button").locator("button").first.click()
    gone_then_idle(fresh, "conv.predict.skip_button")
    assert (text_of(fresh, r"^Sum"), metric_values(fresh)) == view
    assert fresh.locator("[data-testid='stAlertContentWarning']").count() == 0
    shoot(fresh, "links_conv_en")


def test_inside_link_opens_the_same_network_layer_and_channel(new_page, open_url):
    page = new_page(course.url("inside_a_cnn"))
    choose_option(page, "model", "Clothes (Fashion-MNIST)")
    in_url(page, "model=fashion")
    keyed(page, "inside.layer").get_by_role("radio", name="conv2", exact=True).click()
    in_url(page, "inside.layer=conv2")
    keyed(page, "inside.sort").get_by_text("channel number").click()
    in_url(page, "inside.sort=index")
    choose_option(page, "inside.channel.conv2", re.compile(r"^channel 7 "), typed="channel 7 (")
    in_url(page, "inside.channel=7")
    expect(page.locator("[data-testid='stCaptionContainer']", has_text=re.compile(r"^Channel 7, ")).first
           ).to_be_visible(timeout=90_000)
    wait_idle(page)
    no_exception(page)
    url = page.url
    heading = page.get_by_role("heading", name=re.compile(r"^3\. ")).inner_text()
    channel = caption_of(page, r"^Channel 7, ")            # the one map shown large, with its values
    reveal_prediction(page)         # the answer waits for a guess (issue 13; not part of a link)
    prediction = metric_values(page)[0]

    fresh = open_url(url)
    no_exception(fresh)
    assert fresh.get_by_role("heading", name=re.compile(r"^3\. ")).inner_text() == heading
    assert caption_of(fresh, r"^Channel 7, ") == channel
    reveal_prediction(fresh)
    assert metric_values(fresh)[0] == prediction
    shoot(fresh, "links_inside_en")


def test_explain_link_opens_the_same_class_and_map(new_page, open_url):
    page = new_page(course.url("explain"), "pt-BR")
    choose_option(page, "model", "Roupas (Fashion-MNIST)")
    in_url(page, "model=fashion")
    target = page.locator("[class*='st-key-explain-target'] input[role='combobox']").first
    target.click()
    option = page.get_by_role("option").nth(2)
    label = option.inner_text().strip()
    option.click()
    expect(target).to_have_value(label)
    in_url(page, "explain.class=")        # not in the link while the class is the network's answer
    wait_idle(page)
    no_exception(page)
    url = page.url
    skip_explain_guess(page)                  # the maps wait for a guess; a link never carries the skip
    heading = page.get_by_role("heading", name=re.compile("^Grad-CAM")).first.inner_text()
    caption = page.locator("[data-testid='stImageCaption']", has_text="Grad-CAM").first.inner_text()

    fresh = open_url(url, "en-US")            # the link carries the language: lang=pt_BR
    no_exception(fresh)
    skip_explain_guess(fresh)
    assert fresh.get_by_role("heading", name=re.compile("^Grad-CAM")).first.inner_text() == heading
    assert fresh.locator("[data-testid='stImageCaption']", has_text="Grad-CAM").first.inner_text() == caption
    shoot(fresh, "links_explain_pt")


def test_a_tampered_link_gives_a_message_and_the_defaults(app_url, open_url):
    tampered = "lang=pt_BR&conv.stride=abc&conv.k=1,2;x&conv.t=999999&model=../../etc"
    page = open_url(f"{app_url}/{course.url('convolution', tampered)}")
    no_exception(page)
    warning = page.locator("[data-testid='stAlertContentWarning']", has_text="Este link").first
    assert "conv.stride=abc" in warning.inner_text() and "conv.k=1,2;x" in warning.inner_text()
    assert "6600" in text_of(page, r"^Soma")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "links_tampered_pt")


@pytest.mark.parametrize("locale,lang", [("en-US", "en"), ("pt-BR", "pt_BR")])
def test_presentation_mode_and_the_copy_link_box(app_url, open_url, locale, lang):
    page = open_url(f"{app_url}/{course.url('convolution', f'present=1&lang={lang}')}", locale)
    no_exception(page)
    page.wait_for_function("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize) >= 48",
                           timeout=20_000)            # 3rem of 20 px: 60 px (44 px without)
    assert page.locator("[data-testid='stSidebar'][aria-expanded='true']").count() == 0   # folded away
    shoot(page, f"links_present_{lang}")
    page.screenshot(path=f"shots/browser/links_present_{lang}_full.png", full_page=True)
    # the sidebar: the copy box holds the page's address, with the language
    page.locator("[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl'] button").first.click()
    page.locator("#cnnviz-copy").click()        # (a click waits until the sidebar is in: visible, still)
    assert page.locator("#cnnviz-url").input_value() == page.url or f"lang={lang}" in page.locator(
        "#cnnviz-url").input_value()
    shoot(page, f"links_copy_{lang}")
    # leave presentation mode
    keyed(page, "present.on").locator("label").first.click()
    expect(page).not_to_have_url(re.compile("present="))
    page.wait_for_function("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize) < 48",
                           timeout=20_000)
    assert title_px(page) < 48, title_px(page)


@pytest.mark.parametrize("locale,lang,word", [("en-US", "en", "Sum"), ("pt-BR", "pt_BR", "Soma")])
def test_the_teachers_preset_opens_the_28_by_28_example(new_page, locale, lang, word):
    page = new_page("", locale)
    page.get_by_text(re.compile("For teachers|Para professores")).first.click()
    link = page.get_by_role("link", name=re.compile("28 × 28"))
    expect(link).to_be_visible()
    link.scroll_into_view_if_needed()
    shoot(page, f"links_home_{lang}")
    link.click()
    expect(page).to_have_url(re.compile(rf"/{course.url('convolution')}\?"), timeout=60_000)
    expect(page.locator("[data-testid='stMetricValue']").nth(2)).to_have_text("28 × 28 × 1", timeout=90_000)
    wait_idle(page)
    no_exception(page)
    assert metric_values(page)[:3] == ["32 × 32 × 3", "5 × 5 × 3", "28 × 28 × 1"]
    shoot(page, f"links_preset28_{lang}")
