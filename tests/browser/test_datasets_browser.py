"""The Datasets lesson in Chromium, in Portuguese and presentation mode at 1280 x 800: the average
pixel is guessed before any statistic is drawn, then the numbers appear in the learner's format and
in digits a class reads from the back (20 px at least)."""

import numpy as np
from app_helpers import mean_and_std
from browser_helpers import choose_option, keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course
from cnnviz.data import datasets
from cnnviz.i18n import number, t


def mnist_pixels() -> np.ndarray:
    """The pixels the page looks at, read here with numpy: the training file, or the bundled sample."""
    if datasets.source("mnist") == "full":
        raw = (datasets.data_root() / "MNIST/raw/train-images-idx3-ubyte").read_bytes()
        return np.frombuffer(raw, np.uint8, offset=16)
    return np.load(datasets.sample_path("mnist"))["images"].ravel()


def test_guess_the_average_pixel_then_read_the_constants(new_page):
    page = new_page(course.url("datasets", "present=1"), locale="pt-BR")
    expect(page.get_by_role("heading", name=t("datasets.title", "pt_BR"))).to_be_visible()
    pick = page.locator("[class*='st-key-datasets-predict-pick']").first
    pick.scroll_into_view_if_needed()
    expect(page.locator("[data-testid='stMarkdownContainer'] table")).to_have_count(0)   # nothing given away
    (mean,), (std,) = mean_and_std(mnist_pixels())
    band = t(f"datasets.band.{int(np.searchsorted([0.25, 0.5, 0.75], mean, side='right'))}", "pt_BR")
    choose_option(page, None, band, box=pick)
    keyed(page, "datasets.predict.reveal").locator("button").click()
    right = page.locator("[data-testid='stAlert']", has_text=t("datasets.predict_right", "pt_BR", m=number(
        mean, "pt_BR", 3), band=band))
    expect(right).to_be_visible(timeout=120_000)
    wait_idle(page)
    table = page.locator("[data-testid='stMarkdownContainer'] table").first
    table.scroll_into_view_if_needed()
    cells = table.locator("td").all_inner_texts()
    assert cells[1] == number(mean, "pt_BR", 4) and cells[3] == number(std, "pt_BR", 4), cells
    assert cells[2] == "0,1307" and cells[4] == "0,3081", cells            # the constants the network uses
    sizes = table.locator("td").evaluate_all("cells => cells.map(c => parseFloat(getComputedStyle(c).fontSize))")
    assert min(sizes) >= 20, sizes
    shoot(page, "datasets_pt_present_revealed")
    digits = page.locator("[data-testid='stMetricValue']").evaluate_all(
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert digits and min(digits) >= 20, digits
    no_exception(page)
