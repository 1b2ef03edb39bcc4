"""Shared test setup: the repo on sys.path, and the `browser` marker.

Browser tests (``-m browser``) start ``streamlit run app.py`` and drive Debian's
Chromium through Playwright; they live in tests/browser/ with their fixtures.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


