"""The basic lessons must open without importing torch (7 s warm, 28 s cold, ~500 MB)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _fresh(code: str) -> str:
    """``code`` run in a fresh Python (nothing imported by other tests): its output."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


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
    out = _fresh(code)
    assert "HEAVY []" in out, out


def test_the_explanations_load_pytorch_grad_cam_only_for_its_cams():
    """pytorch-grad-cam brings cv2 and scikit-learn (~4 s): Grad-CAM, saliency and the baselines must
    not load it; Grad-CAM++ does. (matplotlib is not checked: captum's own import loads it.)"""
    code = (
        "import sys, torch\n"
        "from cnnviz import models\n"
        "from cnnviz.analysis import attribution\n"
        "loaded = models.load('digits')\n"
        "x = torch.zeros(1, 1, 28, 28)\n"
        "for m in ('gradcam', 'saliency', 'sobel', 'random'):\n"
        "    attribution.explain(m, loaded.model, x)\n"
        "print('BEFORE', [m for m in ('pytorch_grad_cam', 'cv2', 'sklearn') if m in sys.modules])\n"
        "attribution.explain('gradcam_pp', loaded.model, x)\n"
        "print('AFTER', 'pytorch_grad_cam' in sys.modules)\n"
    )
    out = _fresh(code)
    assert "BEFORE []" in out and "AFTER True" in out, out
