"""Every lesson reads like a table of contents: its page is a list of named sections, called in
order at the bottom of the file. Read with ``ast`` from ``lessons/*.py``.

The rule, statement by statement at the module's top level:

1. the module's docstring comes first;
2. then the head: imports, constants and definitions, in any order. A constant is an assignment to
   UPPER_CASE names (``URL = course.url("train")``, ``MAX_RUNS = 12``), or ``t = ui.t`` (a name bound
   to an attribute of an imported module: an alias). A definition is a ``def`` or a ``class``;
3. from the first statement that is none of those to the end of the file: the section calls. Each is
   a call on its own (``the_output(seen)``) or an assignment of a call's result
   (``seen = the_input(loaded)``), of a function the file defines or of ``ui.<name>``
   (``ui.lesson_start(URL)``, ``ui.lesson_end(URL)``). Imports may sit among them: a heavy module
   (torch) is imported once the title is on the page, where the lesson used to import it;
4. every function the section calls name has a docstring (what that part of the page shows).

So no ``if``, ``for``, ``with`` or ``try`` at the top level: a section that may end the page early
(nothing drawn yet, no network picked) calls ``st.stop()`` itself.
"""

import ast
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def _is_import(node) -> bool:
    return isinstance(node, (ast.Import, ast.ImportFrom))


def _imported(tree) -> set[str]:
    names = set()
    for node in tree.body:
        if _is_import(node):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _is_constant(node, imported: set[str]) -> bool:
    if isinstance(node, ast.AnnAssign):
        targets, value = [node.target], node.value
    elif isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    else:
        return False
    names = [n for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]
    if names and all(n.id.isupper() for n in names):
        return True
    alias = (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)
             and value.value.id in imported)
    return alias and len(targets) == 1 and isinstance(targets[0], ast.Name)


def _is_definition(node) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


def _section_call(node) -> ast.Call | None:
    """The call a section statement makes, or None if the statement is not one."""
    if isinstance(node, ast.Expr):
        value = node.value
    elif isinstance(node, ast.Assign):
        value = node.value
    else:
        return None
    return value if isinstance(value, ast.Call) else None


def problems(source: str) -> list[str]:
    """What breaks the rule in a lesson's source, one line each ("line N: ..."); none if it follows it."""
    tree = ast.parse(source)
    body = tree.body
    found = []
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return ["line 1: the lesson starts with its docstring"]
    imported = _imported(tree)
    defined = {n.name: n for n in body if _is_definition(n)}
    head = 1
    while head < len(body) and (_is_import(body[head]) or _is_definition(body[head])
                                or _is_constant(body[head], imported)):
        head += 1
    calls = body[head:]
    if not calls:
        found.append("the file ends without section calls")
    for node in calls:
        if _is_import(node):
            continue
        call = _section_call(node)
        func = call.func if call else None
        if isinstance(func, ast.Name) and func.id in defined:
            if not ast.get_docstring(defined[func.id]):
                found.append(f"line {node.lineno}: section {func.id} has no docstring")
        elif not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "ui"):
            found.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0]!r} after the first section call "
                         "(only calls of the file's sections, ui.* and imports)")
    return found


@pytest.mark.parametrize("path", sorted(LESSONS.glob("*.py")), ids=lambda p: p.stem)
def test_lesson_is_a_list_of_sections(path):
    assert problems(path.read_text(encoding="utf-8")) == []


def test_every_lesson_is_checked():
    names = {p.stem for p in LESSONS.glob("*.py")}
    assert {"home", "train", "inside_a_cnn", "conv1d", "layers", "convolution", "explain"} <= names


GOOD = '''"""Lesson."""
import streamlit as st
from cnnviz import course, ui
t = ui.t
URL = course.url("x")
def first():
    """Part one."""
    return 1
ui.lesson_start(URL)
import torch
n = first()
ui.lesson_end(URL)
'''


@pytest.mark.parametrize("change, expected", [
    (("n = first()\n", "n = first()\nif n:\n    st.stop()\n"), "line 12: 'if n:' after the first section call"),
    (("n = first()\n", "n = first()\nst.header('x')\n"), "line 12: \"st.header('x')\" after the first section call"),
    (("n = first()\n", "n = first() + 1\n"), "line 11: 'n = first() + 1' after the first section call"),
    (('    """Part one."""\n', ""), "line 10: section first has no docstring"),
    (('"""Lesson."""\n', ""), "line 1: the lesson starts with its docstring"),
    (("ui.lesson_start(URL)\nimport torch\nn = first()\nui.lesson_end(URL)\n", ""), "the file ends without section calls"),
])
def test_the_rule_catches_what_breaks_it(change, expected):
    assert problems(GOOD) == []
    broken = GOOD.replace(*change)
    assert any(p.startswith(expected) for p in problems(broken)), problems(broken)
