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
    """d(k-1)+1 (and d(k-1)) is written once, in cnnviz.maths.conv.kernel_span; the rest calls it."""
    span = re.compile(r"(\bd|dilation)\s*\*\s*\(\s*[\w.()]+?\s*-\s*1\s*\)")
    found = [f"{_rel(path)}:{i}" for path in SOURCES if _rel(path) != "cnnviz/maths/conv.py"
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if span.search(line)]
    assert not found, found


# ---------------------------------------------------------------- lesson URLs
import ast  # noqa: E402

from cnnviz import course  # noqa: E402

# calls whose string argument is a lesson's URL (a lesson name goes through course.url / course.named);
# the second line: the browser tests' ways of opening a page
URL_TAKERS = {"lesson_start", "lesson_end", "lesson", "next_after", "open", "goto", "switch_page",
              "new_page", "open_url", "open_page", "make", "_open", "wait_for_url"}
URL_FREE = {"cnnviz/course/__init__.py",      # the one home (the catalogs and the README are not Python)
            "tests/test_one_home.py"}  # pins the URLs a teacher's links use


def _url_literals(path: pathlib.Path) -> list[str]:
    urls = {x.url for x in course.LESSONS}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        rest = text.split("/")[-1] if "/" in text else text
        base = re.split(r"[?(\\#]", rest)[0]          # r"/image-as-numbers(\?.*)?$": a pattern of its URL, too
        if base not in urls:
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.JoinedStr):          # f"{app_url}/convolution": the f-string's caller
            parent = parents.get(parent)
        call = parent.func if isinstance(parent, ast.Call) else None
        called = getattr(call, "attr", getattr(call, "id", None))
        if called in {"url", "named"}:
            continue
        # a list of pages: a lesson's URL beside one written with dashes ("why-convolution"), where a list
        # of lesson names would have underscores ("why_convolution")
        siblings = parent.elts if isinstance(parent, (ast.List, ast.Tuple)) else []
        listed = any(isinstance(e, ast.Constant) and e.value in urls and "-" in e.value for e in siblings)
        if "-" in base or "/" in text or "?" in text or called in URL_TAKERS or listed:
            found.append(f"{_rel(path)}:{node.lineno} {text!r}")
    return found


def test_lesson_urls_are_written_only_in_course():
    """A lesson's URL comes from ``cnnviz.course`` (``course.url("inside_a_cnn")``, which fails on an
    unknown name), never typed: renaming a lesson then breaks where it is named, not a link later. The
    browser tests too: a page they open, a list of pages, an address they wait for."""
    files = [*SOURCES, *sorted((ROOT / "benchmarks").glob("*.py")), *sorted((ROOT / "tests").rglob("*.py"))]
    found = [hit for path in files if _rel(path) not in URL_FREE for hit in _url_literals(path)]
    assert not found, found


def test_course_url_knows_every_lesson_and_refuses_any_other_name():
    assert [course.url(x.name) for x in course.LESSONS] == [x.url for x in course.LESSONS]
    assert course.url("inside_a_cnn", "inside.draw=false") == "inside-a-cnn?inside.draw=false"
    for wrong in ("inside-a-cnn", "convolutions", ""):
        try:
            course.url(wrong)
        except ValueError:
            continue
        raise AssertionError(f"course.url({wrong!r}) should fail")


def test_only_cnnviz_layers_computes_a_softmax():
    """torch.softmax / F.softmax / a tensor's .softmax() outside cnnviz.maths.layers would be a second softmax."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in {"softmax", "log_softmax"} and _rel(path) != "cnnviz/maths/layers.py":
                receiver = node.func.value
                name = getattr(receiver, "id", getattr(receiver, "attr", ""))
                if name not in {"layers", "nnl", "nn_layers"}:      # cnnviz.maths.layers under the lessons' names
                    found.append(f"{_rel(path)}:{node.lineno}")
    assert not found, found
