"""The names and paths the docs write exist (a renamed module or function leaves no stale name behind).

tests/test_one_home.py resolves `cnnviz.x.y` and `x.y` for x a top-level subpackage; this file covers
what it leaves out since the subpackages: a module's short name (`fit.train_mode`, `attribution.register`:
the module of that name, wherever it is in cnnviz), a file's path (`cnnviz/maths/conv.py`,
`figures/markup.py`), and the double-backticked cnnviz names the library's own docstrings and comments write."""

import pkgutil
import re
from pathlib import Path

import pytest

import cnnviz
from test_one_home import _resolve

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
TOP = {m.name for m in pkgutil.iter_modules(cnnviz.__path__)}
# every module of cnnviz by its last name: conv -> cnnviz.maths.conv (kernels: maths.kernels and ui.kernels)
MODULES: dict[str, list[str]] = {}
for _info in pkgutil.walk_packages(cnnviz.__path__, "cnnviz."):
    MODULES.setdefault(_info.name.rsplit(".", 1)[1], []).append(_info.name)
FILE_ENDS = {"py", "toml", "md", "txt", "log", "lock", "conf", "json", "csv", "png", "db", "sh", "service",
             "yml", "yaml", "cfg", "ini", "html", "js", "css", "pt", "safetensors", "npz", "gz", "zip"}
NOT_NAMES = {"conv.t"}            # a link's query key (`?conv.t=...`), not a Python name


def _resolves(dotted: str) -> bool:
    try:
        _resolve(dotted)      # the longest importable prefix, then attributes
    except (ImportError, AttributeError):
        return False
    return True


def _catalog_key(name: str) -> bool:
    from cnnviz import i18n

    keys = i18n.catalog("en")
    return name in keys or any(k.startswith(name + ".") for k in keys)


def _short_name_resolves(head: str, rest: str) -> bool:
    """`fit` + `.train_mode`: a name in the module called `fit`, wherever it is in cnnviz."""
    return any(_resolves(full + rest) for full in MODULES[head] + ([f"cnnviz.{head}"] if head in TOP else []))


def _backticked(text: str):
    for m in re.finditer(r"`([^`\n]+)`", text):
        yield m.group(1).strip()


def test_every_short_module_name_the_docs_write_exists():
    """`fit.train_mode`, `conv.output_size`, `datasets.DATASETS`: a module's short name, then a name in it."""
    missing, seen = [], 0
    for doc in DOCS:
        for code in _backticked(doc.read_text(encoding="utf-8")):
            m = re.fullmatch(r"([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)(?:\(.*\))?", code)
            if not m or m.group(1) in TOP or m.group(1) not in MODULES or code in NOT_NAMES:
                continue
            name = m.group(1) + m.group(2)
            if name.rsplit(".", 1)[1] in FILE_ENDS or _catalog_key(name):
                continue
            seen += 1
            if not _short_name_resolves(m.group(1), m.group(2)):
                missing.append(f"{doc.name}: {name}")
    assert seen > 10, seen
    assert not missing, missing


# folders the docs name on purpose although the repository has none: Streamlit's own pages/ (DESIGN-NOTES
# says why the lessons are not there)
ABSENT_ON_PURPOSE = {"pages"}


def _ignored() -> set[str]:
    """The first folders .gitignore keeps out of the repository (var/, shots/): made when the app runs."""
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    return {x.strip("/") for x in lines if x.strip() and not x.startswith(("#", "*")) and x.endswith("/")}


def _exists(path: str) -> bool:
    """A file or folder, from the root or from cnnviz/ (`figures/markup.py`); `ui/__init__` is a module,
    `tests/app_helpers.open_lesson` a name in a module."""
    stem, _, attr = path.rpartition(".")
    candidates = [path, f"{path}.py"] + ([f"{stem}.py"] if attr and attr not in FILE_ENDS else [])
    return any((base / c).exists() for base in (ROOT, ROOT / "cnnviz") for c in candidates)


def test_every_path_the_docs_write_exists():
    """`cnnviz/maths/conv.py`, `tests/test_i18n.py`, `figures/markup.py` (inside cnnviz/): each is a file
    or folder of the repository; a path with a placeholder (`lessons/<name>.py`, `*.toml`) is a pattern."""
    missing, seen = [], 0
    skip = _ignored() | ABSENT_ON_PURPOSE
    for doc in DOCS:
        for code in _backticked(doc.read_text(encoding="utf-8")):
            path = code.rstrip("/")
            if "/" not in code or not re.fullmatch(r"\w[\w.\-/]*", path) or path.split("/")[0] in skip:
                continue
            seen += 1
            if not _exists(path):
                missing.append(f"{doc.name}: {code}")
    assert seen > 20, seen
    assert not missing, missing


@pytest.mark.parametrize("folder", ["cnnviz", "lessons"])
def test_every_name_the_code_writes_in_its_docs_exists(folder):
    """``cnnviz.train.experiment.run_experiment`` or ``experiment.run_experiment`` in a docstring or a
    comment names something that exists (``transfer.run_experiment`` would not)."""
    missing, seen = [], 0
    for path in sorted((ROOT / folder).rglob("*.py")) + ([ROOT / "app.py"] if folder == "lessons" else []):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in re.finditer(r"``([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)``", line):
                head, rest = m.groups()
                if head != "cnnviz" and (head not in MODULES or rest.rsplit(".", 1)[1] in FILE_ENDS
                                         or _catalog_key(head + rest)):
                    continue
                seen += 1
                if not (_resolves(head + rest) if head == "cnnviz" else _short_name_resolves(head, rest)):
                    missing.append(f"{path.relative_to(ROOT)}:{i}: {head}{rest}")
    assert seen or folder == "lessons"
    assert not missing, missing
