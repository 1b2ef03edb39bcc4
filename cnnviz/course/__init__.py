"""The lessons: one registry read by the app's navigation, the home page, the course path and the tests.

A lesson has one name: its file ``lessons/<name>.py`` and its URL ``/<name with dashes>``. Its
messages live under a short prefix (``catalog``: ``conv.title``, ``conv.summary``...) in the catalog
file named after that prefix, as every key's file is named after its first segment
(``cnnviz/i18n/<lang>/conv.toml``); its sidebar title is ``nav.page.<catalog>`` and its goal and
summary are ``course.<name>.goal`` / ``.summary``. ``LESSONS`` is in the course's
order (the seeds' order), grouped as the sidebar shows them. No streamlit here (``cnnviz.ui`` and
``app.py`` draw it).

Adding a lesson = one ``Lesson`` here, its file in ``lessons/``, its catalog file in both languages
and its self-check kinds in ``cnnviz.exercises.KINDS``; ``tests/test_course.py`` checks the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Lesson:
    name: str        # lessons/<name>.py
    catalog: str     # the prefix of its messages (<catalog>.title, <catalog>.summary), i18n/<lang>/<catalog>.toml
    icon: str        # a Material icon, as st.Page and st.page_link take it
    group: str       # the sidebar's group: nav.<group>

    # the page's URL path is the same in both languages (a teacher's link works for everyone)
    url = property(lambda self: self.name.replace("_", "-"))
    # the page's script, absolute: st.Page, st.page_link and st.switch_page read a relative path from the
    # entrypoint's folder, which is hosted/ for the hosted demo (hosted/streamlit_app.py, docs/DEPLOY.md)
    path = property(lambda self: str(REPO / "lessons" / f"{self.name}.py"))
    catalog_file = property(lambda self: f"{self.catalog}.toml")
    title_key = property(lambda self: f"nav.page.{self.catalog}")      # the sidebar's and the card's name
    goal_key = property(lambda self: f"course.{self.name}.goal")       # what you will be able to do
    summary_key = property(lambda self: f"course.{self.name}.summary")  # three lines at the end


GROUPS = ("basics", "inside", "train", "explain")   # the sidebar's groups, in order (DESIGN.md)

HOME = Lesson("home", "home", ":material/home:", "basics")   # the start page, not a lesson of the course

LESSONS: tuple[Lesson, ...] = (
    Lesson("image_as_numbers", "numbers", ":material/grid_on:", "basics"),
    Lesson("convolution", "conv", ":material/filter_center_focus:", "basics"),
    Lesson("conv1d", "conv1d", ":material/show_chart:", "basics"),
    Lesson("why_convolution", "why", ":material/calculate:", "basics"),
    Lesson("layers", "layers", ":material/stacks:", "basics"),
    Lesson("inside_a_cnn", "inside", ":material/layers:", "inside"),
    Lesson("receptive_field", "rf", ":material/center_focus_strong:", "inside"),
    Lesson("datasets", "datasets", ":material/dataset:", "train"),
    Lesson("gradient_descent", "gd", ":material/trending_down:", "train"),
    Lesson("backprop", "bp", ":material/account_tree:", "train"),
    Lesson("train", "train", ":material/model_training:", "train"),
    Lesson("autoencoder", "ae", ":material/compress:", "train"),
    Lesson("explain", "explain", ":material/visibility:", "explain"),
    Lesson("shortcuts", "shortcut", ":material/alt_route:", "explain"),
    Lesson("fool_the_network", "fool", ":material/masks:", "explain"),
)

BY_URL = {lesson.url: lesson for lesson in LESSONS}
BY_NAME = {lesson.name: lesson for lesson in (HOME, *LESSONS)}


def named(name: str) -> Lesson:
    """The lesson (or the home page) called ``name``, its file's name (``"inside_a_cnn"``);
    ``ValueError`` for any other, so a renamed lesson fails where it is named."""
    if name not in BY_NAME:
        raise ValueError(f"no lesson is called {name!r}; the lessons: {', '.join(BY_NAME)}")
    return BY_NAME[name]


def url(name: str, query: str = "") -> str:
    """The URL path of the lesson called ``name`` (``"inside_a_cnn"`` -> ``"inside-a-cnn"``), with
    ``query`` after a "?" when given. The one way code outside this module writes a lesson's URL
    (``tests/test_one_home.py``)."""
    path = named(name).url
    return f"{path}?{query}" if query else path


def lesson(url: str) -> Lesson:
    """The lesson at this URL path (``KeyError`` for any other)."""
    return BY_URL[url]


def next_after(url: str) -> Lesson | None:
    """The lesson that follows in the course (None after the last one)."""
    i = [x.url for x in LESSONS].index(url)
    return LESSONS[i + 1] if i + 1 < len(LESSONS) else None


def grouped() -> dict[str, list[Lesson]]:
    """The sidebar: group -> its pages in order, the home page first."""
    out: dict[str, list[Lesson]] = {g: [] for g in GROUPS}
    for x in (HOME, *LESSONS):
        out[x.group].append(x)
    return out
