"""The course: lesson order, goals, summaries, next-lesson links, the sidebar's progress and the
learner's report."""

from __future__ import annotations

import json
import logging

import streamlit as st

from .. import course as registry
from cnnviz.course import progress_store
from .language import t

log = logging.getLogger("cnnviz")

# A learner alone follows the lessons in the course's order (cnnviz.course.LESSONS), each opening
# with what they will be able to do, ending with a three-line summary, a self-check of generated
# questions (cnnviz.exercises) and a link to the next lesson. The sidebar counts lessons opened and
# questions answered right, and offers them as a small report.
#
# The progress belongs to the browser, not to the session: a random id (progress_store.new_id) kept
# in a cookie (progress_store.COOKIE, written by a line of script, read back from the websocket's
# request with st.context.cookies) names the learner in progress_store, which every worker of a server
# shares. So a reload, a link, another tab or a restarted worker finds the same progress; another
# browser starts at zero; the id never enters a URL (Copy link shares the view, never the progress).
# The session keeps a copy (SELF_CHECK_OPENED, SELF_CHECK_RESULTS), read again from the store on every
# full run; when no store can be used (progress_store.shared is None, or it fails later) that copy
# is the progress, for this session only, and the sidebar says so.
SELF_CHECK_OPENED = "course.opened"      # session state: {lesson url: True}, in the order opened
SELF_CHECK_RESULTS = "course.results"    # session state: {lesson url: {question id: right at its first check}}
LEARNER = "course.learner"               # session state: this browser's id (its cookie, or a new one)
SESSION_ONLY = "course.session_only"     # session state: True once no store could keep the progress


def course() -> tuple[tuple[str, str, str], ...]:
    """The lessons in course order as (page path, url, title key) (from ``cnnviz.course``)."""
    return tuple((x.path, x.url, x.title_key) for x in registry.LESSONS)


def _opened() -> dict:
    return st.session_state.setdefault(SELF_CHECK_OPENED, {})


def _results() -> dict:
    return st.session_state.setdefault(SELF_CHECK_RESULTS, {})


def _browser_id() -> str | None:
    """The id in the cookie this browser sent when the session connected (None without one)."""
    try:
        return st.context.cookies.get(progress_store.COOKIE)
    except Exception:  # noqa: BLE001 - no request (a bare script run): no cookie
        return None


def learner() -> str:
    """This browser's anonymous id: its cookie's, else a new one (written to the cookie by the sidebar)."""
    if LEARNER not in st.session_state:
        sent = _browser_id()
        st.session_state[LEARNER] = sent if progress_store.valid_id(sent) else progress_store.new_id()
    return st.session_state[LEARNER]


def _store():
    """The server's progress store, or None: this session keeps its progress itself."""
    if st.session_state.get(SESSION_ONLY):
        return None
    store = progress_store.shared()
    if store is None:
        st.session_state[SESSION_ONLY] = True
    return store


def _store_failed(err: Exception) -> None:
    """A store that worked fails (a full disk, a file replaced): the session goes on with its copy."""
    log.warning("cnnviz progress: %s; this session keeps its progress in memory only", err)
    st.session_state[SESSION_ONLY] = True


def load_progress() -> None:
    """The session's copy of the progress, read again from the store (another tab's answers too)."""
    store = _store()
    if store is None:
        return
    try:
        kept = store.progress(learner())
    except progress_store.StoreError as err:
        _store_failed(err)
        return
    st.session_state[SELF_CHECK_OPENED] = {url: True for url in kept.opened}
    st.session_state[SELF_CHECK_RESULTS] = kept.results


def mark_opened(lesson_url: str) -> None:
    if lesson_url in registry.BY_URL and lesson_url not in _opened():
        store = _store()
        if store is not None:
            try:
                store.open_lesson(learner(), lesson_url)
            except progress_store.StoreError as err:
                _store_failed(err)
        _opened()[lesson_url] = True


def record_answer(lesson_url: str, question: str, right: bool) -> bool:
    """Note the first check of a question (right or wrong, for good: a wrong check shows the right
    answer, so a later right one doesn't count). True when it is the first: the progress changed."""
    per = _results().setdefault(lesson_url, {})
    if question in per:
        return False
    store = _store()
    if store is not None:
        try:
            if not store.record(learner(), lesson_url, question, right):
                load_progress()      # noted already (another tab of this browser): the store's answer stands
                return False
        except progress_store.StoreError as err:
            _store_failed(err)
    per[question] = bool(right)
    return True


def forget_progress() -> None:
    """on_click of "Forget my progress": this browser's rows deleted, a new id (the cookie follows),
    the session's copy and its questions cleared (new questions: none of them counted yet)."""
    store = _store()
    if store is not None:
        try:
            store.forget(learner())
        except progress_store.StoreError as err:
            _store_failed(err)
    st.session_state[LEARNER] = progress_store.new_id()
    st.session_state[SELF_CHECK_OPENED] = {}
    st.session_state[SELF_CHECK_RESULTS] = {}
    for key in [k for k in st.session_state if str(k).startswith("sc.")]:
        del st.session_state[key]


def _keep_id_in_browser() -> None:
    """The browser's cookie says this session's id (a first visit, after "forget"): a line of script
    writes it, for every page of the site (path=/), for 400 days, never sent to other sites."""
    if _browser_id() == learner():
        return
    cookie = (f"{progress_store.COOKIE}={learner()}; path=/; max-age={progress_store.COOKIE_MAX_AGE}; "
              "SameSite=Lax")
    with st.container(key="course-keep-id", height=1, border=False):   # 1 px: next to no room in the sidebar
        st.html(f"<script>document.cookie = {json.dumps(cookie)} + "
                "(location.protocol === 'https:' ? '; Secure' : '');</script>", unsafe_allow_javascript=True)


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
    """The sidebar's progress view for this browser: lessons opened, questions right, a download of
    the report, and "Forget my progress". ``current_url``: the page being opened (counted before it
    runs). Drawn on every full run, after a self-check's answer has been noted (its Check reruns the
    whole app), so the count and the report's data (kept by the download button when drawn) include it."""
    load_progress()
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
        with st.popover(t("course.forget"), icon=":material/delete:", width="stretch", key="course.forget_menu"):
            st.markdown(t("course.forget_note"))
            st.button(t("course.forget_confirm"), key="course.forget", type="primary", icon=":material/delete:",
                      on_click=forget_progress, width="stretch")
        if st.session_state.get(SESSION_ONLY):
            st.caption(":material/warning: " + t("course.progress_session_only"))
        else:
            _keep_id_in_browser()


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
