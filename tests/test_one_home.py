"""One home per fact (issue 18): the palette, the lesson URLs and the names the docs cite are
written in one place each, and everything else reads them from there."""

import pathlib
import re
import tomllib

from cnnviz.figures import scale

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "lessons").rglob("*.py"), ROOT / "app.py"])
PALETTE = {"ACCENT": scale.ACCENT, "SECOND": scale.SECOND, "CHOSEN": scale.CHOSEN, "MUTED": scale.MUTED}


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def test_the_palette_is_written_only_in_figures_scale():
    assert len(set(v.lower() for v in PALETTE.values())) == len(PALETTE)
    found = []
    for path in SOURCES:
        if _rel(path) == "cnnviz/figures/scale.py":
            continue
        text = path.read_text(encoding="utf-8").lower()
        found += [f"{_rel(path)}: {name} {colour}" for name, colour in PALETTE.items() if colour.lower() in text]
    assert not found, "read these from cnnviz.figures.scale: " + "; ".join(found)


def test_the_theme_colour_is_the_accent():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]
    assert theme["primaryColor"].lower() == scale.ACCENT.lower()


# ---------------------------------------------------------------- names the docs cite
import importlib  # noqa: E402
import pkgutil  # noqa: E402

import cnnviz  # noqa: E402

PLACEHOLDERS = {"ui.name", "figures.X", "exercises.X"}      # "a name of ui", not a name
URL_KEYS = {"conv.t"}                                       # a link's query key, not a name
FILE_ENDS = {"py", "toml", "md", "txt", "log", "lock", "conf", "json", "csv", "png", "db", "sh", "service"}


def _resolve(dotted: str):
    parts = dotted.split(".")
    for j in range(len(parts), 0, -1):     # the longest importable prefix, then attributes
        try:
            obj = importlib.import_module(".".join(parts[:j]))
        except ModuleNotFoundError:
            continue
        for part in parts[j:]:
            obj = getattr(obj, part)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_cnnviz_name_the_docs_write_exists():
    """`cnnviz.x.y`, or `x.y` where x is one of cnnviz's modules (`fit.train_mode`), in docs/*.md and
    the README names something that exists (a renamed function leaves no stale name behind)."""
    modules = {m.name for m in pkgutil.iter_modules(cnnviz.__path__)}
    missing = []
    for doc in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        text = doc.read_text(encoding="utf-8")
        for m in re.finditer(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?!\w|=)", text):   # `conv.k=...`: a URL's
            name = m.group(1)
            head, *_, last = name.split(".")
            if name in PLACEHOLDERS | URL_KEYS or last in FILE_ENDS or (head != "cnnviz" and head not in modules):
                continue
            try:
                _resolve(name if head == "cnnviz" else f"cnnviz.{name}")
            except (ImportError, AttributeError):
                missing.append(f"{doc.name}: {name}")
    assert not missing, missing


def test_the_kernels_span_is_computed_only_by_conv_kernel_span():
    """d(k-1)+1 (and d(k-1)) is written once, in cnnviz.conv.kernel_span; the rest calls it."""
    span = re.compile(r"(\bd|dilation)\s*\*\s*\(\s*[\w.()]+?\s*-\s*1\s*\)")
    found = [f"{_rel(path)}:{i}" for path in SOURCES if _rel(path) != "cnnviz/conv.py"
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if span.search(line)]
    assert not found, found
