"""Where does it look? in a real browser: the class shown is the class explained, whatever changes."""

import re
from pathlib import Path

import pytest

from browser_helpers import choose_option, gone_then_idle, keyed, no_exception, shoot, wait_idle, whole_page_run
from playwright.sync_api import expect

from cnnviz import course

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


def class_box(page):
    """The "Class to explain" selectbox (its key carries the network and the picture)."""
    box = page.locator("[class*='st-key-explain-target-']").first
    box.wait_for(state="visible", timeout=90_000)
    return box


def shown_class(page) -> str:
    """The class name the selectbox shows, without its probability: 'frog (81.2 %)' -> 'frog'."""
    text = class_box(page).locator("input[role='combobox']").input_value().strip()
    return re.sub(r"\s*\([\d.,]+\s*%\)$", "", text)


def heading_of(page, cls: str = ""):
    """The "Grad-CAM for “cls”" heading (any class when ``cls`` is empty), in either language."""
    return page.get_by_role("heading", name=re.compile(f"^Grad-CAM (for|de) “{re.escape(cls)}")).first


def heading_class(page) -> str:
    heading = heading_of(page)
    heading.wait_for(state="visible", timeout=90_000)
    return re.search(r"“(.+)”", heading.inner_text()).group(1)


def caption_class(page) -> str:
    """The class named under the Grad-CAM map ("Grad-CAM of “frog” through relu6...")."""
    caption = page.get_by_text(re.compile(r"^Grad-CAM (of|de) “")).first
    return re.search(r"“(.+?)”", caption.inner_text()).group(1)


def skip_the_guess(page):
    """Predict-then-reveal asks for a click before Grad-CAM is drawn; "skip" lasts the session."""
    wait_idle(page)
    skip = keyed(page, "explain.predict.skip_button")
    if skip.count():
        skip.locator("button").first.click()
        gone_then_idle(page, "explain.predict.skip_button")


def assert_one_class(page):
    no_exception(page)
    skip_the_guess(page)
    shown = shown_class(page)
    assert heading_class(page) == shown
    assert caption_class(page) == shown


def pick_model(page, label: str):
    """The network ``label`` ("Clothes (Fashion-MNIST)"), until the picture's source names its world."""
    choose_option(page, "model", label)
    world = re.search(r"\(([^)]+)\)$", label).group(1)
    expect(keyed(page, "explain.src")).to_contain_text(f"({world})", timeout=90_000)
    wait_idle(page)


def upload(page, path: Path):
    keyed(page, "explain.src").get_by_text(re.compile("^(Upload|Enviar arquivo)$")).click()
    field = keyed(page, "explain.upload").locator("input[type='file']")
    field.wait_for(state="attached", timeout=60_000)
    with whole_page_run(page):          # the page has run on the photo
        field.set_input_files(str(path))


# One page per test, each doing several things in a row (a page costs seconds to open and draw)
def test_class_shown_is_the_class_explained_after_a_new_picture(new_page):
    """Issue 10: Tiny VGG, a new picture: the box said "frog", the map explained the old "airplane"."""
    page = new_page(course.url("explain"))
    assert_one_class(page)
    pick_model(page, "Tiny VGG, colour (CIFAR-10)")
    assert_one_class(page)
    first = shown_class(page)
    upload(page, SAMPLES / "checkerboard.png")           # Tiny VGG calls it a frog, not the landscape's airplane
    assert shown_class(page) == "frog"
    assert shown_class(page) != first
    assert_one_class(page)
    shoot(page, "explain_tiny_upload")
    pick_model(page, "Clothes (Fashion-MNIST)")          # and another network on the same session
    assert_one_class(page)


def test_each_network_opens_on_a_test_picture_of_its_world(new_page):
    page = new_page(course.url("explain"), locale="pt-BR")
    for label, world, first in (("Dígitos (MNIST)", "MNIST", "“7”"),
                                ("Roupas (Fashion-MNIST)", "Fashion-MNIST", "“Bota de cano curto”"),
                                ("Tiny VGG, colorida (CIFAR-10)", "CIFAR-10", "“gato”")):
        if label != "Dígitos (MNIST)":
            pick_model(page, label)
        source = keyed(page, "explain.src").locator("input[type='radio']:checked")
        assert source.evaluate("el => el.closest('label').innerText").strip() == f"Imagem de teste ({world})"
        assert keyed(page, "explain.example").locator("input[role='combobox']").input_value().startswith(first)
        assert_one_class(page)
        shoot(page, f"explain_world_{world.lower()}_pt")
        if world == "MNIST":                            # another test picture, through a language switch
            chosen_picture_survives_a_language_switch(page)


def chosen_picture_survives_a_language_switch(page):
    """The labels change with the language; the box must still show the picture on screen
    (Portuguese, then English, then back)."""
    box = keyed(page, "explain.example").locator("input[role='combobox']")
    choose_option(page, "explain.example", "“4”, imagem de teste 4")
    expect(heading_of(page, "4”")).to_be_visible(timeout=90_000)
    wait_idle(page)
    choose_option(page, "lang_picker", "English")   # at the foot of a long sidebar: scrolled to, then opened
    expect(box).to_have_value("“4”, test image 4", timeout=90_000)
    assert_one_class(page)
    assert heading_class(page) == "4"
    methods = keyed(page, "explain.methods").inner_text()
    assert "Saliency (gradient)" in methods and "Saliência" not in methods, methods
    switch_language(page, "Português (Brasil)")


LANGUAGES = {"en-US": ("English", "Português (Brasil)"), "pt-BR": ("Português (Brasil)", "English")}


def switch_language(page, name: str):
    """Until the page speaks the language ``name``: the Grad-CAM heading in its words."""
    choose_option(page, "lang_picker", name)
    word = "for" if name == "English" else "de"
    expect(page.get_by_role("heading", name=re.compile(f"^Grad-CAM {word} “")).first).to_be_visible(timeout=90_000)
    wait_idle(page)


@pytest.mark.parametrize("locale", ["pt-BR"])
def test_the_chosen_class_survives_a_language_switch(new_page, locale):
    """Issue 17: the learner explains class 3 of the test 7, switches the language: it was 7 again.
    (One locale: Portuguese to English and back covers the switch both ways.)"""
    page = new_page(course.url("explain"), locale=locale)
    skip_the_guess(page)
    assert shown_class(page) == "7"
    choose_option(page, None, re.compile(r"^3 \("), box=class_box(page), typed="3")
    expect(heading_of(page, "3”")).to_be_visible(timeout=90_000)
    skip_the_guess(page)
    assert shown_class(page) == heading_class(page) == "3"
    switch_language(page, LANGUAGES[locale][1])
    assert_one_class(page)
    assert shown_class(page) == heading_class(page) == caption_class(page) == "3"
    assert "explain.class=3" in page.url
    switch_language(page, LANGUAGES[locale][0])                # and back
    assert shown_class(page) == heading_class(page) == "3"
    no_exception(page)


@pytest.mark.parametrize("locale, replaced, network", [
    ("pt-BR", "a sua foto enviada foi substituída", "Roupas (Fashion-MNIST)")])
def test_a_photo_replaced_by_another_network_is_said_so(new_page, locale, replaced, network):
    """Issue 17: switching to the clothes network silently replaced an uploaded photo with a test
    picture. The photo survives a language switch (to English and back); a new network says why it
    is gone. (One locale: its round trip through English covers the switch both ways.)"""
    page = new_page(course.url("explain"), locale=locale)
    upload(page, SAMPLES / "checkerboard.png")
    assert_one_class(page)
    photo = heading_class(page)
    switch_language(page, LANGUAGES[locale][1])                # the photo stays through a language switch
    assert heading_class(page) == photo
    switch_language(page, LANGUAGES[locale][0])
    note = page.locator("[data-testid='stAlert']", has_text=replaced)
    assert note.count() == 0
    pick_model(page, network)
    note.first.wait_for(state="visible")
    assert network in note.first.inner_text()
    shoot(page, f"explain_photo_replaced_{locale}")
    keyed(page, "explain.src").get_by_text(re.compile("^(Upload|Enviar arquivo)$")).click()   # uploading again
    expect(note).to_have_count(0, timeout=60_000)
    wait_idle(page)
    no_exception(page)


def trust_lab_on_a_projector(page):
    """Issue 20: the trust lab opened, three maps picked by letter, the scores revealed in one table
    a class can read (digits >= 20 px in presentation mode)."""
    keyed(page, "explain.trust.open").locator("label").first.click()
    tiles = page.locator("[data-testid='stImage']", has_text=re.compile(r"^Mapa [A-H]$"))
    expect(tiles).to_have_count(8, timeout=120_000)
    wait_idle(page)
    reveal = keyed(page, "explain.trust.reveal").locator("button")
    expect(reveal).to_be_disabled()
    picks = page.locator("[class*='st-key-explain-trust-picks-']").first
    box = picks.locator("input[role='combobox']")
    for letter in "CAF":                         # typed, then Enter: the list filters to the letter
        box.click()
        page.keyboard.type(letter)
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(reveal).to_be_enabled()                # three letters picked
    reveal.click()
    table = page.locator("table", has_text="Sanidade")
    expect(table).to_be_visible(timeout=180_000)
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(8)
    wait_idle(page)
    size = rows.first.locator("td").nth(2).evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 20, size
    table.scroll_into_view_if_needed()
    shoot(page, "explain_trust_lab_pt-BR_present")


def sanity_tiles_are_one_size(page, name: str):
    """Issue 17: the first tile of each row (its caption also named the method) was wider than the
    others (104 to 151 px against 84) at 1280 x 800."""
    keyed(page, "explain.sanity_run").locator("button").first.click()
    tiles = page.locator("[data-testid='stImage']", has_text="ρ=")
    # the digits network: 8 maps (the registry's sanity methods, baselines included) x 5 columns
    expect(tiles).to_have_count(8 * 5, timeout=180_000)
    wait_idle(page)
    imgs = tiles.locator("img")
    # one read of every tile at once (tile by tile, a late rerun could detach one between two reads)
    page.wait_for_function("n => { const t = [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                           ".filter(i => i.closest(\"[data-testid='stImage']\").innerText.includes('ρ='));"
                           " return t.length === n && t.every(i => i.getBoundingClientRect().width > 0); }",
                           arg=8 * 5, timeout=60_000)
    sizes = imgs.evaluate_all("els => els.map(e => [Math.round(e.getBoundingClientRect().width),"
                              " Math.round(e.getBoundingClientRect().height)])")
    assert {tuple(b) for b in sizes} == {(84, 84)}, sizes
    wait_idle(page)
    imgs.first.evaluate("el => el.scrollIntoView({block: 'center'})")   # one JS call: a late rerun can't detach it midway
    shoot(page, name)
    no_exception(page)


def test_trust_lab_and_sanity_tiles_on_a_projector(new_page):
    page = new_page(course.url("explain", "present=1"), locale="pt-BR")
    skip_the_guess(page)
    trust_lab_on_a_projector(page)               # its job is the sanity check's too
    sanity_tiles_are_one_size(page, "explain_sanity_tiles_pt-BR_present")
