"""Your own architecture in a real browser (issue 19): compose a network (add a block, the table of
layers follows), train it briefly, read the result, open it in Inside a CNN."""

import re

import pytest
from browser_helpers import keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course, data


def cell(page, text: str):
    """A cell of the page's tables (the data grid's accessible table holds every cell's text)."""
    return page.locator("[role='gridcell']", has_text=re.compile(f"^{re.escape(text)}$"))


@pytest.mark.skipif(not data.source("fashion"), reason="no Fashion-MNIST, not even its bundled sample")
def test_compose_train_and_open_your_own_network(new_page):
    page = new_page(course.url("train") + "?network=own&train.per_class=5&train.epochs=1", locale="en-US")
    no_exception(page)
    expect(cell(page, "pool2")).to_have_count(1)
    expect(cell(page, "64 × 7 × 7")).to_have_count(1)          # Fashion-MNIST, 28 x 28: after two poolings
    expect(cell(page, "conv3")).to_have_count(0)
    keyed(page, "train.add_block").locator("button").click()
    expect(cell(page, "conv3")).to_have_count(1)               # the new block's layers, in the table
    expect(cell(page, "32 × 3 × 3")).to_have_count(1)          # its pooling: 7 -> 3
    wait_idle(page)
    assert "arch=c32k3p1m2bn-c64k3p1m2bn-c32k3p1m2bn-f128" in page.url
    shoot(page, "builder_en")
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(r"Done: .* % on the test images")).first.wait_for(state="visible", timeout=120_000)
    expect(page.locator("[data-testid='stMetricValue']", has_text=re.compile(r"^1 / 1$"))).to_have_count(1)
    expect(page.get_by_text(re.compile(r"Result: From scratch · Your own network"))).to_have_count(1)
    wait_idle(page)
    no_exception(page)
    keyed(page, "train.train.open_inside").locator("button").click()
    picker = keyed(page, "model").locator("input[role='combobox']")
    expect(picker).to_have_value(re.compile(r"Your trained network \(fashion-scratch-5\)"), timeout=120_000)
    wait_idle(page)
    no_exception(page)
    shoot(page, "builder_inside_en")
