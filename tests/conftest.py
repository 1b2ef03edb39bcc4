"""Shared test setup: the repo on sys.path, and the `browser` marker.

Browser tests (``-m browser``) start ``streamlit run app.py`` and drive Debian's
Chromium through Playwright; they live in tests/browser/ with their fixtures.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Learners' progress (cnnviz.course.progress_store) never goes into the repo from a test: one file per test
# run in a temporary folder, for the AppTests and the Streamlit servers the browser tests start
# (they inherit this environment). Set here, before any test imports the app.
_PROGRESS_DIR = tempfile.mkdtemp(prefix="cnnviz-test-progress-")
os.environ["CNNVIZ_PROGRESS_DB"] = str(Path(_PROGRESS_DIR) / "progress.db")
atexit.register(shutil.rmtree, _PROGRESS_DIR, ignore_errors=True)




@pytest.fixture(scope="session")
def cluster():
    """Two Streamlit workers behind nginx (python -m cnnviz.serve), with the debug header that
    names the worker of each response; skipped where nginx is not installed. One for the whole run:
    tests/test_serve.py and tests/browser/test_serve_browser.py share it (a warmed start is seconds)."""
    import shutil

    from cnnviz import serve

    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed (apt-get install nginx)")
    c = serve.Cluster(workers=2, port=serve.free_port(), debug_header=True)
    try:
        c.start()
        yield c
    finally:
        c.stop()
