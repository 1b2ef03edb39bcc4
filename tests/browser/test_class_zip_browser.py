"""Your own pictures from one .zip in a real browser: the zip goes through the uploader, the classes
are counted with a picture each, and a one-epoch training on them finishes."""

import io
import re
import zipfile

from browser_helpers import choose_option, keyed, no_exception, sends_a_run, shoot, wait_idle
from playwright.sync_api import expect
from PIL import Image, ImageDraw

from cnnviz import course


def shapes_zip() -> bytes:
    """A zipped folder "formas/" with 5 circles and 4 squares, each in its class folder, and a note."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, count, draw in (("círculo", 5, "ellipse"), ("quadrado", 4, "rectangle")):
            for k in range(count):
                im = Image.new("RGB", (90, 90), (250, 240 - 25 * k, 210))
                getattr(ImageDraw.Draw(im), draw)((15 + 4 * k, 15, 70 + 4 * k, 72), fill=(30, 50, 140))
                encoded = io.BytesIO()
                im.save(encoded, "PNG")
                archive.writestr(f"formas/{folder}/{k}.png", encoded.getvalue())
        archive.writestr("formas/leia-me.txt", "círculos e quadrados")
    return out.getvalue()


def test_a_class_zip_is_uploaded_counted_and_trained_on(new_page):
    page = new_page(course.url("train", "train.epochs=1"), locale="pt-BR")
    choose_option(page, "train.dataset", "Suas próprias fotos", tries=5)
    keyed(page, "train.own_way").get_by_text("Um .zip com uma pasta por classe").click()
    uploader = keyed(page, "train.own_zip").locator("input[type=file]")
    uploader.wait_for(state="attached")
    with sends_a_run(page):
        uploader.set_input_files({"name": "formas.zip", "mimeType": "application/zip", "buffer": shapes_zip()})
    expect(page.get_by_text("Classes encontradas: 2, com 9 fotos no total: círculo (5), quadrado (4).")).to_be_visible()
    for caption in ("círculo", "quadrado"):
        expect(page.get_by_test_id("stImageCaption").filter(has_text=caption).first).to_be_visible()
    expect(page.get_by_text("Arquivos ignorados: 1")).to_be_visible()
    wait_idle(page)
    no_exception(page)
    shoot(page, "train_class_zip_pt")
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(r"Pronto: .* % nas imagens de teste")).first.wait_for(state="visible",
                                                                                     timeout=120_000)
    expect(page.locator("[data-testid='stMetricValue']", has_text=re.compile(r"^1 / 1$"))).to_have_count(1)
    wait_idle(page)
    no_exception(page)
