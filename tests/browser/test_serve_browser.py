"""Two students in Chromium on the multi-worker setup (python -m cnnviz.serve): each one's lesson,
upload and step work through nginx, on the worker their cookie chose."""

import numpy as np
from PIL import Image

from browser_helpers import keyed, no_exception, shoot, wait_idle


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
        page.goto(url + "/convolution")
        wait_idle(page)
        # every request of this browser (page, scripts, websocket handshake, media) went to one worker
        served_by = {a for a in answers if a}
        assert len(served_by) == 1, served_by
        no_exception(page)
        assert page.get_by_text("6600").first.is_visible()
        page.get_by_text("Upload", exact=True).first.click()
        wait_idle(page)
        page.locator("input[type=file]").first.set_input_files(str(photo))
        wait_idle(page, 1500)
        keyed(page, "conv.next").locator("button").first.click()
        wait_idle(page)
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
