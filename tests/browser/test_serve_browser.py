"""Two students in Chromium on the multi-worker setup (python -m cnnviz.serve): each one's lesson,
upload and step work through nginx, on the worker their cookie chose."""

import re

import numpy as np
import pytest
from PIL import Image

from browser_helpers import gone_then_idle, image_loaded, keyed, no_exception, sends_a_run, shoot, wait_idle, watch
from playwright.sync_api import expect

from cnnviz import course, data
from cnnviz.serve import jobs


def test_two_students_on_two_workers(chromium, cluster, tmp_path):
    url = f"http://127.0.0.1:{cluster.port}"
    photo = tmp_path / "stripes.png"
    arr = np.zeros((40, 40), np.uint8)
    arr[:, ::4] = 255
    Image.fromarray(arr).save(photo)
    workers = set()
    for i in range(6):                 # new browsers until both workers have had one (hash of a random id)
        ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        answers = []
        page.on("response", lambda r: answers.append(r.headers.get("x-cnnviz-upstream")))
        watch(page)
        page.goto(f"{url}/{course.url('convolution')}")
        wait_idle(page)
        # every request of this browser (page, scripts, websocket handshake, media) went to one worker
        served_by = {a for a in answers if a}
        assert len(served_by) == 1, served_by
        no_exception(page)
        expect(page.get_by_text("6600").first).to_be_visible()
        page.get_by_text("Upload", exact=True).first.click()
        upload = page.locator("input[type=file]").first
        upload.wait_for(state="attached", timeout=60_000)
        with sends_a_run(page):              # the photo is uploaded and the uploader's new value sent
            upload.set_input_files(str(photo))
        keyed(page, "conv.next").locator("button").first.click()
        # where the kernel is stays hidden until the guess (issue 17): "Show where" draws the pictures
        keyed(page, "conv.predict.skip_step").locator("button").first.click()
        gone_then_idle(page, "conv.predict.skip_step")
        for img in page.locator("[data-testid='stImage'] img").all():
            image_loaded(img)
        no_exception(page)
        loaded = page.evaluate("() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                               ".map(i => i.complete && i.naturalWidth > 0)")
        assert len(loaded) >= 3 and all(loaded), loaded          # the /media/ pictures reached us
        assert len({a for a in answers if a}) == 1
        workers |= served_by
        if i == 0:
            shoot(page, "serve_student")
        ctx.close()
        if len(workers) == 2:
            break
    assert len(workers) == 2, workers


LONG_TRAINING = course.url("train", "train.per_class=500&train.epochs=30")     # a link: holds the slot a while


def _student_on(chromium, url, locale, taken):
    """A new browser on the Train lesson through the proxy, opened until it lands on a worker not in
    ``taken``: (context, page, its worker)."""
    for _ in range(10):
        ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        answers = []
        page.on("response", lambda r: answers.append(r.headers.get("x-cnnviz-upstream")))
        page.goto(f"{url}/{LONG_TRAINING}")
        wait_idle(page)
        worker = next(a for a in answers if a)
        if worker not in taken:
            no_exception(page)
            return ctx, page, worker
        ctx.close()
    raise AssertionError(f"no new browser reached a worker other than {taken}")


@pytest.mark.skipif(not data.is_available("fashion"), reason="Fashion-MNIST not available (500 per class)")
def test_a_training_on_one_worker_makes_a_training_on_the_other_wait(chromium, cluster):
    """Two workers on one machine share one line of heavy work (cnnviz.serve.jobs, CNNVIZ_JOBS_DIR): on the
    2-core class laptop it has one slot, so a student on worker 2 waits for the student training on
    worker 1 (with a line per worker, both trained at once on the two cores)."""
    if jobs.default_slots() != 1:
        pytest.skip("the line of this machine has more than one slot")
    url = f"http://127.0.0.1:{cluster.port}"
    ctx1, first, w1 = _student_on(chromium, url, "en-US", set())
    ctx2, second, w2 = _student_on(chromium, url, "pt-BR", {w1})
    try:
        assert w1 != w2
        keyed(first, "train.go").locator("button").click()
        first.get_by_text(re.compile(r"Epoch 1/30")).first.wait_for(state="visible", timeout=180_000)
        keyed(second, "train.go").locator("button").click()
        # the other worker's student is number 1 in the machine's line, in Portuguese
        second.get_by_text("Aguardando na fila: você é o número 1").first.wait_for(state="visible", timeout=60_000)
        assert not second.get_by_text(re.compile(r"Época 1/30")).count()
        shoot(first, "serve_line_training_en")
        shoot(second, "serve_line_waiting_pt")
        no_exception(second)
        keyed(first, "train.stop").locator("button").click()        # the slot is given back:
        second.get_by_text(re.compile(r"Época 1/30")).first.wait_for(state="visible", timeout=180_000)
        expect(second.get_by_text(re.compile(r"Você esperou \d+,\d s na fila \(era o número 1 quando pediu\)")).first
               ).to_be_visible()
        shoot(second, "serve_line_after_wait_pt")
        keyed(second, "train.stop").locator("button").click()
        expect(second.get_by_text("Treino interrompido").first).to_be_visible(timeout=60_000)
        no_exception(second)
    finally:
        ctx1.close()
        ctx2.close()
