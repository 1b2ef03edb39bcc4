"""The basic lessons must open without importing torch (7 s warm, 28 s cold, ~500 MB)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_basic_lessons_do_not_import_torch():
    code = (
        "import sys, runpy\n"
        "from streamlit.testing.v1 import AppTest\n"
        "for page in ['lessons/home.py', 'lessons/image_as_numbers.py', 'lessons/convolution.py']:\n"
        "    at = AppTest.from_file('app.py', default_timeout=60)\n"
        "    at.run(); at.switch_page(page).run()\n"
        "    assert not at.exception, page\n"
        "import cnnviz, cnnviz.maths.images, cnnviz.maths.kernels, cnnviz.maths.conv, cnnviz.figures, cnnviz.ui\n"
        "heavy = [m for m in ('torch', 'torchvision', 'captum') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout, out.stdout
