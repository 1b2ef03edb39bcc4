"""Helpers the AppTest files share: open a lesson of the real app, run code in threads at once."""

import threading
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def open_lesson(page: str, lang: str = "en", *, state: dict | None = None, timeout: int = 240,
                check: bool = True) -> AppTest:
    """The app in ``lang`` switched to ``page`` (e.g. "lessons/train.py"), with ``state`` put in
    the session first (widget values such as the sidebar's model); no exception unless ``check=False``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.query_params["lang"] = lang
    at.run()
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.switch_page(page).run()
    if check:
        assert not at.exception, [e.value for e in at.exception]
    return at


def run_in_threads(work, n: int) -> list[BaseException]:
    """``work(0)`` ... ``work(n - 1)``, each in its own thread at the same time; what they raised."""
    errors: list[BaseException] = []

    def guarded(i):
        try:
            work(i)
        except Exception as e:  # noqa: BLE001 - reported to the test, which asserts there are none
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errors


def mean_and_std(pixels, channels: int = 1, chunk: int = 1 << 22):
    """Per-channel mean and (population) standard deviation of uint8 ``pixels`` divided by 255, with
    numpy in float64, a chunk at a time (MNIST's 47 million values would be 376 MB as one float copy)."""
    import numpy as np

    flat = np.asarray(pixels).reshape(-1, channels)
    s1, s2 = np.zeros(channels), np.zeros(channels)
    for start in range(0, len(flat), chunk):
        x = flat[start:start + chunk].astype(np.float64) / 255
        s1 += x.sum(axis=0)
        s2 += (x * x).sum(axis=0)
    mean = s1 / len(flat)
    return mean, np.sqrt(s2 / len(flat) - mean * mean)
