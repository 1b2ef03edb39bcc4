"""The course: lesson order, goals, summaries, next-lesson links, the sidebar's progress and the
learner's report."""

from __future__ import annotations

import streamlit as st

from .. import course as registry
from .language import t

# A learner alone follows the lessons in the course's order (cnnviz.course.LESSONS), each opening
# with what they will be able to do, ending with a three-line summary, a self-check of generated
# questions (cnnviz.exercises) and a link to the next lesson. The sidebar counts lessons opened and
# questions answered right in this browser session, and offers them as a small report.
SELF_CHECK_OPENED = "course.opened"      # session state: {lesson url: True}, in the order opened
SELF_CHECK_RESULTS = "course.results"    # session state: {lesson url: {question id: ever answered right}}


def course() -> tuple[tuple[str, str, str], ...]:
    """The lessons in course order as (page path, url, title key) (from ``cnnviz.course``)."""
    return tuple((x.path, x.url, x.title_key) for x in registry.LESSONS)


def _opened() -> dict:
    return st.session_state.setdefault(SELF_CHECK_OPENED, {})


def _results() -> dict:
    return st.session_state.setdefault(SELF_CHECK_RESULTS, {})


def mark_opened(lesson_url: str) -> None:
    if lesson_url in registry.BY_URL:
        _opened()[lesson_url] = True


def lesson_start(lesson_url: str) -> None:
    """The top of every lesson: its title and introduction (the registry's catalog prefix) and the
    goal sentence."""
    lesson = registry.lesson(lesson_url)
    st.title(t(f"{lesson.catalog}.title"))
    st.markdown(t(f"{lesson.catalog}.intro"))
    lesson_goal(lesson_url)


def lesson_goal(lesson_url: str) -> None:
    """The lesson's first sentence: what the learner will be able to do after it."""
    mark_opened(lesson_url)
    with st.container(border=True, key=f"goal-{lesson_url}"):
        st.markdown(":material/flag: " + t(registry.lesson(lesson_url).goal_key))


def lesson_summary(lesson_url: str) -> None:
    """Three lines: what the lesson taught."""
    with st.container(key=f"summary-{lesson_url}"):
        st.subheader(t("course.summary_title"))
        st.markdown(t(registry.lesson(lesson_url).summary_key).strip())


def next_lesson(lesson_url: str) -> None:
    """A link to the next lesson of the course (or, after the last one, back to the start)."""
    after = registry.next_after(lesson_url)
    if after is not None:
        with st.container(border=True, key=f"next-{lesson_url}"):     # big enough to find on a projector
            st.page_link(after.path, label=f"**{t('course.next', name=t(after.title_key))}**",
                         icon=":material/arrow_forward:")
    else:
        st.success(t("course.last"), icon=":material/school:")
        st.page_link(registry.HOME.path, label=t("course.back_home"), icon=":material/home:")


def progress_sidebar(current_url: str | None = None) -> None:
    """The sidebar's progress view for this browser session: lessons opened, questions right, and
    a download of the report. ``current_url``: the page being opened (counted before it runs)."""
    if current_url:
        mark_opened(current_url)
    total = len(course())
    opened = sum(1 for _, url, _ in course() if url in _opened())
    right = sum(sum(per.values()) for per in _results().values())
    with st.sidebar.container(key="course-progress"):
        st.markdown(f"**:material/school: {t('course.progress_title')}**")
        st.progress(opened / max(total, 1), text=t("course.progress", opened=opened, total=total, right=right))
        st.download_button(t("course.report_download"), progress_report(), key="course.report",
                           file_name=t("course.report_file"), mime="text/markdown",
                           icon=":material/download:", width="stretch")


def progress_report(when=None) -> str:
    """This session's progress as Markdown in the learner's language: the date, and per lesson
    whether it was opened and how many self-check questions were answered and answered right."""
    import datetime

    when = when or datetime.datetime.now()
    opened, results = _opened(), _results()
    lines = [f"# {t('course.report_title')}", "",
             t("course.report_date", date=when.strftime(t("course.report_date_format"))), ""]
    total_answered = total_right = 0
    rows = []
    for _, url, title in course():
        per = results.get(url, {})
        answered, right = len(per), sum(per.values())
        total_answered += answered
        total_right += right
        seen = t("course.report_yes") if url in opened else t("course.report_no")
        rows.append(f"| {t(title)} | {seen} | {answered} | {right} |")
    lines.append(t("course.report_totals", opened=sum(1 for _, u, _ in course() if u in opened),
                   total=len(course()), answered=total_answered, right=total_right))
    lines += ["", f"| {t('course.report_lesson')} | {t('course.report_opened')} | {t('course.report_answered')} "
              f"| {t('course.report_right')} |", "|---|---|---:|---:|", *rows, ""]
    return "\n".join(lines)
