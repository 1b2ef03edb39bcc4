"""The lesson registry (cnnviz.course) is the one list of lessons, and importing the library keeps
streamlit unloaded (issue 12: the source's imports are checked in tests/test_architecture.py);
torchvision comes through cnnviz.base.memory and pictures through ui.image (issue 11)."""

import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import cnnviz
from cnnviz import course, exercises
from cnnviz.i18n import LANGUAGES, catalog

ROOT = Path(__file__).resolve().parent.parent
LESSONS = course.LESSONS


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.name)
def test_a_lesson_has_one_name_for_its_file_url_and_catalog(lesson):
    assert (ROOT / lesson.path).is_file()
    assert lesson.url == lesson.name.replace("_", "-")
    for lang in LANGUAGES:
        path = ROOT / "cnnviz" / "i18n" / lang / lesson.catalog_file
        assert path.is_file(), path
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
        assert path.stem == lesson.catalog                          # named after its messages' prefix
        assert list(tables) == [lesson.catalog], (path, list(tables))   # its messages, and no others


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.name)
def test_every_lesson_has_its_catalog_keys_in_both_languages(lesson, lang):
    messages = catalog(lang)
    for key in (lesson.title_key, f"{lesson.catalog}.title", f"{lesson.catalog}.summary", lesson.goal_key,
                lesson.summary_key):
        assert messages.get(key, "").strip(), (lang, key)
    for kind in exercises.KINDS[lesson.url]:                    # its self-check's questions
        assert any(k.startswith(f"exercises.{kind}.") for k in messages), (lang, kind)


def test_the_registry_is_the_course_and_every_lesson_has_a_self_check():
    assert [x.url for x in LESSONS] == list(exercises.KINDS)    # the same lessons, in the same order
    assert all(len(exercises.KINDS[x.url]) >= 3 for x in LESSONS)
    files = {p.name for p in (ROOT / "lessons").glob("*.py")}
    assert files == {Path(x.path).name for x in (course.HOME, *LESSONS)}   # no page outside the registry
    assert len({x.url for x in LESSONS}) == len(LESSONS)
    assert {x.group for x in (course.HOME, *LESSONS)} == set(course.GROUPS)
    assert course.next_after(LESSONS[0].url) is LESSONS[1] and course.next_after(LESSONS[-1].url) is None


def test_the_navigation_home_page_and_course_read_the_registry():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    # the home page's cards, one per lesson in the course's order, each linked to the URL the
    # navigation registered for its file (a page link resolves through st.navigation's pages)
    cards = [x.proto.page for x in at.get("page_link")][:len(LESSONS)]
    assert cards == [x.url for x in LESSONS], cards
    at.button(key="course.start").click().run()                 # "Start the course": the first lesson
    assert not at.exception
    assert any(LESSONS[0].goal_key and "After this lesson" in m.value for m in at.markdown)


def _library_modules():
    for info in pkgutil.walk_packages(cnnviz.__path__, "cnnviz."):
        if info.name == "cnnviz.ui" or info.name.startswith("cnnviz.ui."):
            continue
        yield info.name


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
    return names


def test_torchvision_is_imported_through_cnnviz_memory_only():
    """torchvision's own import also imports torch._dynamo (~150 MB of a worker's RSS);
    cnnviz.base.memory.torchvision() leaves it out. A plain import anywhere else brings it back."""
    offenders = [f"{path.relative_to(ROOT)}: {n}" for folder in ("cnnviz", "lessons")
                 for path in (ROOT / folder).rglob("*.py") if path.name != "memory.py"
                 for n in _imports(path) if n.split(".")[0] == "torchvision"]
    assert not offenders, offenders


def test_lessons_show_pictures_through_ui_image():
    """ui.image sends PNG encoded once for the class; st.image (or a column's .image) would send
    a JPEG encoded again on every run."""
    offenders = []
    for path in (ROOT / "lessons").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "image" \
                    and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "ui"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_importing_the_whole_library_but_ui_leaves_streamlit_unloaded():
    modules = list(_library_modules())
    assert "cnnviz.course" in modules and "cnnviz.analysis.attribution" in modules
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    if m.endswith('__main__'): continue\n"
            "    importlib.import_module(m)\n"
            "print('STREAMLIT', 'streamlit' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "STREAMLIT False" in out.stdout, out.stdout
