"""docs/ARCHITECTURE.md and the code agree: the import graph, read from the source with ``ast``
(imports inside functions included: that is where cycles hide), has no cycle among cnnviz's modules,
never goes up the layers the document lists, and keeps streamlit in ``cnnviz.ui`` and the app.
The document's picture is drawn from its list of layers.

Reading an import: ``from . import x`` and ``from pkg import x`` where ``pkg.x`` is a module count as
importing module ``x``; any other ``from pkg import name`` as importing ``pkg``. A package's
``__init__`` that runs when one of its modules is imported is not an edge (every package would be
a cycle with its own modules)."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"


# ---------------------------------------------------------------- the source's import graph
def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> dict[str, Path]:
    """module name -> file: cnnviz/, lessons/ and app.py."""
    files = [*(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "lessons").glob("*.py"), ROOT / "app.py"]
    return {_name(p): p for p in files}


def imports(path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(module imported, line) for every import in ``path``, relative ones resolved."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            modules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
            out += [(m, node.lineno) for m in modules]
            if len(modules) < len(node.names):
                out.append((base, node.lineno))
    return out


def graph() -> dict[str, dict[str, int]]:
    """module -> {project module it imports: the first line that does}."""
    files = source_files()
    known = set(files)
    out = {}
    for name, path in files.items():
        edges = {}
        for target, line in imports(path, known):
            if target in known and target != name:
                edges.setdefault(target, line)
        out[name] = edges
    return out


def cycles(g: dict[str, dict[str, int]]) -> list[list[str]]:
    """Import cycles: in every strongly connected component of more than one module (Tarjan), a
    shortest cycle through each of its modules (each cycle once), in import order."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                for start in sorted(comp):
                    c = _one_cycle(g, set(comp), start)
                    if not any(set(c) == set(f) for f in found):
                        found.append(c)

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def _one_cycle(g, comp: set[str], start: str) -> list[str]:
    """A shortest cycle from ``start`` back to it inside its component (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(g[v]):
            if w == start:
                return paths[v] + [start]
            if w in comp and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return sorted(comp)


# ---------------------------------------------------------------- what the document says
def _block(kind: str) -> list[str]:
    found = re.search(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found, f"docs/ARCHITECTURE.md has no ```{kind} block"
    return [line for line in found.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def layers() -> list[tuple[str, list[str]]]:
    """(layer, module patterns), lowest first, from the ```layers block."""
    out = []
    for line in _block("layers"):
        name, _, modules = line.partition(":")
        out.append((name.strip(), modules.split()))
    return out


def layer_of(module: str, table=None) -> int | None:
    """The index of ``module``'s layer: an exact name wins over a pattern (``cnnviz.ui.*``)."""
    table = table or layers()
    for exact in (True, False):
        for i, (_, patterns) in enumerate(table):
            for p in patterns:
                if (p == module) if exact else ("*" in p and fnmatch.fnmatchcase(module, p)):
                    return i
    return None


def picture(table) -> str:
    """The layers drawn top-down (highest first), as the document shows them."""
    lines = []
    for i, (name, patterns) in enumerate(reversed(table)):
        words = [p.removeprefix("cnnviz.") if p != "cnnviz" else "cnnviz (package)" for p in patterns]
        rows, row = [], ""
        for w in words:
            if row and len(row) + 3 + len(w) > 78:
                rows.append(row)
                row = ""
            row = f"{row} · {w}" if row else w
        rows.append(row)
        lines.append(f"{name:>10} │ {rows[0]}")
        lines += [f"{'':>10} │ {r}" for r in rows[1:]]
        if i < len(table) - 1:
            lines.append(f"{'':>10} ▼")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the tests
def test_no_import_cycle_among_cnnviz_modules():
    g = graph()
    found = cycles({m: {t: n for t, n in e.items() if t.startswith("cnnviz")} for m, e in g.items()
                    if m.startswith("cnnviz")})
    shown = [" -> ".join(f"{a} (line {g[a][b]})" for a, b in zip(c, c[1:])) + f" -> {c[-1]}" for c in found]
    assert not found, "import cycles:\n" + "\n".join(shown)


def test_every_module_has_one_layer():
    table = layers()
    unplaced = sorted(m for m in source_files() if layer_of(m, table) is None)
    assert not unplaced, f"modules in no layer of docs/ARCHITECTURE.md: {unplaced}"
    listed = [p for _, ps in table for p in ps if "*" not in p]
    assert len(listed) == len(set(listed)), "a module listed twice"
    stale = [p for p in listed if p not in source_files()]
    assert not stale, f"docs/ARCHITECTURE.md lists modules that don't exist: {stale}"


def test_no_import_goes_up_the_layers():
    table = layers()
    up = []
    for module, edges in graph().items():
        mine = layer_of(module, table)
        for target, line in edges.items():
            theirs = layer_of(target, table)
            if mine is not None and theirs is not None and theirs > mine:
                up.append(f"{module} ({table[mine][0]}) imports {target} ({table[theirs][0]}), line {line}")
    assert not up, "imports that go up the layers:\n" + "\n".join(up)


def test_the_library_never_imports_streamlit_or_the_ui():
    files = source_files()
    bad = []
    for module, path in files.items():
        if not module.startswith("cnnviz") or module == "cnnviz.ui" or module.startswith("cnnviz.ui."):
            continue
        for target, line in imports(path, set(files)):
            if target.split(".")[0] == "streamlit":
                bad.append(f"{module} imports {target}, line {line}")
            if target == "cnnviz.ui" or target.startswith("cnnviz.ui."):
                bad.append(f"{module} imports {target}, line {line}")
    assert not bad, "the library reaches for streamlit or the ui:\n" + "\n".join(bad)


def test_the_picture_is_drawn_from_the_layers():
    drawn = "\n".join(_block("picture")) + "\n"
    assert drawn == picture(layers()), "docs/ARCHITECTURE.md's picture is stale; draw it again:\n" + picture(layers())


def test_the_graph_reader_sees_imports_inside_functions():
    """The reader itself: relative imports resolved, ``from . import x`` as module x, imports
    inside functions counted."""
    g = graph()
    assert "cnnviz.base.errors" in g["cnnviz.maths.kernels"]                       # from .errors import CnnvizError
    assert "cnnviz.exercises.core" in g["cnnviz.exercises"]             # from .core import ...
    assert "cnnviz.ui" in g["app"] and "cnnviz.course" in g["app"]      # from cnnviz import course, ui
    assert "cnnviz.course.progress_store" in g["cnnviz.serve"]                 # inside a function
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c", "a"]]
