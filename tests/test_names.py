"""The names notebooks and scripts use keep working after the move into subpackages (issue 18):
``from cnnviz import conv, kernels, ...`` loads each module from its home, lazily (``import cnnviz``
loads nothing else), and the commands still run."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# every short name a user imported before the move (and the checks of a map split from attribution
# since), written where it lives now: the short name is the last part
HOMES_NOW = """
    base.errors base.numbers base.memory
    maths.conv maths.kernels maths.layers maths.params maths.signals maths.images
    figures figures.signal_figures
    data data.datasets data.splits data.download data.signal_csv
    models analysis.inspect analysis.receptive analysis.attribution analysis.confidence
    analysis.faithfulness analysis.sanity analysis.adversarial analysis.featviz
    train train.fit train.transfer train.experiment train.cards train.autoencoder train.signal_cnn
    course course.progress_store exercises i18n serve serve.jobs
""".split()
NAMES = {home.rpartition(".")[2]: f"cnnviz.{home}" for home in HOMES_NOW}

COMMANDS = [
    (["-m", "cnnviz.serve", "--help"], "python -m cnnviz.serve"),
    (["-m", "cnnviz.train", "--help"], "python -m cnnviz.train"),
    (["-m", "cnnviz.train.autoencoder", "--help"], "python -m cnnviz.train.autoencoder"),
]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_every_short_name_imports_from_its_home():
    """In a fresh interpreter, ``from cnnviz import <name>`` gives the module that lives at its home
    (the same object as importing the home), for every name."""
    out = _run("import cnnviz, importlib, json\n"
               f"names = {sorted(NAMES)!r}\n"
               "got = {}\n"
               "for n in names:\n"
               "    exec(f'from cnnviz import {n} as m')\n"
               "    got[n] = [m.__name__, m is importlib.import_module(m.__name__)]\n"
               "print(json.dumps(got))")
    import json

    got = json.loads(out)
    assert {n: v[0] for n, v in got.items()} == NAMES
    assert all(v[1] for v in got.values())


def test_the_lazy_table_is_the_list_here():
    """``cnnviz.HOMES`` (what ``__getattr__`` serves) is this list without the real subpackages."""
    import cnnviz

    assert cnnviz.HOMES == {n: h for n, h in NAMES.items() if h != f"cnnviz.{n}"}
    for n, home in NAMES.items():
        if home == f"cnnviz.{n}":
            assert (ROOT / "cnnviz" / n / "__init__.py").is_file(), n


def test_importing_cnnviz_loads_no_torch_and_no_module_of_its_own():
    out = _run("import sys, cnnviz\n"
               "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('cnnviz.')))")
    assert out == "[]"


def test_an_unknown_name_is_an_attribute_error():
    import cnnviz

    with pytest.raises(AttributeError, match="no attribute 'convolution'"):
        cnnviz.convolution  # noqa: B018
    with pytest.raises(ImportError):
        exec("from cnnviz import convolution")


@pytest.mark.parametrize("argv, prog", COMMANDS, ids=[c[1] for c in COMMANDS])
def test_the_commands_run(argv, prog):
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {prog}")


def test_the_docs_and_cards_name_only_commands_that_exist():
    """Every ``python -m cnnviz...`` written in the README, the docs, the model cards and the code is one
    of the commands above (or the warm-up client serve starts)."""
    known = {prog.split()[-1] for _, prog in COMMANDS} | {"cnnviz.ui.session_client"}
    import re

    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "assets").rglob("*.json"),
             *(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "hosted").rglob("*"), *(ROOT / "deploy").rglob("*")]
    seen = {}
    for f in files:
        if f.is_file():
            for m in re.findall(r"python -m (cnnviz[\w.]*)", f.read_text(encoding="utf-8", errors="replace")):
                seen.setdefault(m.rstrip("."), f.relative_to(ROOT))
    unknown = {m: str(f) for m, f in seen.items() if m not in known}
    assert not unknown, unknown
    assert {"cnnviz.serve", "cnnviz.train"} <= set(seen)
    for home in set(NAMES.values()):
        importlib.import_module(home)
