"""The home page: what cnnviz is, Start the course, one card per lesson, and links for teachers."""

import streamlit as st

from cnnviz import course, ui

t = ui.t
# The course's examples one click away: each link opens a lesson on that view (issue 11)
PRESET_LINKS = [
    ("lessons/convolution.py", "links.preset_curve", {"conv.sample": "mouse", "conv.preset": "curve_detector"}),
    ("lessons/convolution.py", "links.preset_28",
     {"conv.sample": "shapes", "conv.side": "32", "conv.depth": "rgb", "conv.preset": "gaussian_blur"}),
    ("lessons/why_convolution.py", "links.preset_why", {"why.h": "256", "why.w": "256", "why.c": "1"}),
    ("lessons/receptive_field.py", "links.preset_vgg", {"rf.stack": "vgg16"}),
]


def welcome() -> None:
    """The title and what cnnviz is."""
    st.title(t("home.title"))
    st.markdown(t("home.intro"))


def start_the_course() -> None:
    """The course for learners alone: Start opens the first lesson (cnnviz.course.LESSONS' order)."""
    start_col, note_col = st.columns([1, 3], vertical_alignment="center")
    if start_col.button(t("course.start"), type="primary", icon=":material/play_arrow:", key="course.start",
                        width="stretch"):
        st.switch_page(course.LESSONS[0].path)
    note_col.markdown(t("course.start_note"))


def lesson_cards() -> None:
    """One card per lesson, named as in the sidebar (the registry's title key); <catalog>.summary says
    what the lesson does."""
    for start in range(0, len(course.LESSONS), 2):   # one row per pair, so the cards line up
        cols = st.columns(2)
        for col, lesson in zip(cols, course.LESSONS[start:start + 2]):
            with col.container(border=True, height="stretch"):
                st.subheader(t(lesson.title_key))   # the sidebar's name for it, in both languages
                st.write(t(f"{lesson.catalog}.summary"))
                st.page_link(lesson.path, label=t("home.open_lesson"), icon=lesson.icon)


def for_teachers() -> None:
    """For teachers: how to use it in class, and the course's examples as links."""
    with st.expander(t("home.teachers_title")):
        st.markdown(t("home.teachers"))
        st.markdown(t("links.presets_intro"))
        for page, label, params in PRESET_LINKS:   # paths from the repository's root, whatever the entrypoint's folder
            st.page_link(str(course.REPO / page), label=t(label), icon=":material/link:", query_params={**params, "lang": ui.lang()})


def footer() -> None:
    """The footer line."""
    st.caption(t("home.footer"))


welcome()
start_the_course()
lesson_cards()
for_teachers()
footer()
