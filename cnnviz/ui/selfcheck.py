"""Self-checks: generated questions (cnnviz.exercises) checked in place, one fragment per question."""

from __future__ import annotations

import logging

import numpy as np
import streamlit as st

from .language import lang, plot, t
from .pictures import image
from .progress import _results, lesson_summary, next_lesson, record_answer

log = logging.getLogger("cnnviz")


def lesson_end(lesson_url: str, *, context: dict | None = None) -> None:
    """The end of every lesson: summary, self-check, next lesson. A lesson that stops early in its
    normal course (nothing trained yet, nothing drawn yet) calls this before ``st.stop()``."""
    st.divider()
    lesson_summary(lesson_url)
    self_check(lesson_url, context=context)
    next_lesson(lesson_url)


def self_check(lesson_url: str, *, context: dict | None = None) -> None:
    """The lesson's self-check: one question per kind of ``exercises.KINDS[lesson_url]`` (>= 3),
    each in its own fragment (Check / New question rerun only that question).

    ``context``: values of the lesson for the kinds in ``exercises.CONTEXT``, either flat
    (``{"logits": ..., "classes": [...]}``, given to every kind that takes them) or per kind
    (``{"inside.predict_class": {...}}``).
    """
    from .. import exercises as ex

    kinds = ex.KINDS[lesson_url]
    with st.container(key=f"selfcheck-{lesson_url}"):
        st.header(":material/quiz: " + t("exercises.header"))
        st.caption(t("exercises.intro"))
        for i, kind in enumerate(kinds):
            _self_check_question(lesson_url, i, kind, _kind_context(kind, context))


def _kind_context(kind: str, context: dict | None) -> dict:
    from .. import exercises as ex

    if not context:
        return {}
    wanted = ex.CONTEXT.get(kind, ())
    own = context.get(kind, {}) if isinstance(context.get(kind), dict) else {}
    merged = {k: v for k, v in context.items() if k in wanted}
    merged.update({k: v for k, v in own.items() if k in wanted})
    return {k: v for k, v in merged.items() if v is not None}


def _context_sig(ctx: dict) -> str:
    """A short fingerprint of the lesson values a question was made from (a new picture: a new question)."""
    import hashlib

    h = hashlib.sha1()
    for k in sorted(ctx):
        v = ctx[k]
        h.update(k.encode())
        try:
            h.update(np.ascontiguousarray(np.asarray(v, dtype=np.float64)).tobytes())
        except (TypeError, ValueError):
            h.update(repr(v).encode())
    return h.hexdigest()[:16]


def _fresh_seed() -> int:
    import secrets

    return secrets.randbelow(2**31)


def _question_for(base: str, kind: str, ctx: dict):
    """The question shown at ``base`` (cached in the session with its seed and context)."""
    from .. import exercises as ex

    seed = st.session_state.setdefault(base + ".seed", _fresh_seed())
    sig = f"{seed}:{_context_sig(ctx)}"
    cached = st.session_state.get(base + ".question")
    if cached is not None and cached[0] == sig:
        return sig, cached[1]
    try:
        q = ex.generate(kind, seed, **ctx)
    except Exception:   # noqa: BLE001 - a lesson value the generator can't use: a made-up question instead
        log.exception("self-check %s: context not usable", kind)
        q = ex.generate(kind, seed)
    st.session_state[base + ".question"] = (sig, q)
    return sig, q


def _new_question(base: str, kind: str, ctx: dict) -> None:
    """on_click of "New question": a fresh seed whose question reads differently, the answer cleared."""
    from .. import exercises as ex

    _, old = _question_for(base, kind, ctx)
    before = ex.render_prompt(old), ex.expected_text(old)
    for _ in range(8):
        st.session_state[base + ".seed"] = _fresh_seed()
        _, q = _question_for(base, kind, ctx)
        if (ex.render_prompt(q), ex.expected_text(q)) != before or q.figure is not None:
            break
    for suffix in (".answer", ".result"):
        st.session_state.pop(base + suffix, None)


def _record(lesson_url: str, qid: str, correct: bool) -> bool:
    """Note a question's first check (a readable answer), right or wrong, for good: a wrong Check
    shows the right answer, so typing it afterwards is not counted as right, and a second Check of
    a question answered right changes nothing. True when this was the first check: the sidebar's
    count and its report change (the caller redraws the whole page)."""
    return record_answer(lesson_url, qid, correct)


@st.fragment
def _self_check_question(lesson_url: str, i: int, kind: str, ctx: dict) -> None:
    from .. import exercises as ex

    base = f"sc.{lesson_url}.{i}"
    sig, q = _question_for(base, kind, ctx)
    current = lang()
    with st.container(border=True, key=f"sc-{lesson_url}-{i}"):
        st.markdown(f"**{t('exercises.question_n', n=i + 1)}** · {ex.render_prompt(q, current)}")
        result = st.session_state.get(base + ".result")
        checked = result is not None and result[0] == sig
        _exercise_figure(q, base, revealed=checked)
        label = t("exercises.your_answer")
        if q.answer_type == "choice":      # the options across the question, the buttons under them
            names = [ex.render_choice(q, k, current) for k in range(len(q.choices))]
            st.radio(label, list(range(len(names))), index=None, key=base + ".answer", horizontal=True,
                     format_func=lambda k, _names=names: _names[k])
            b1, b2, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
        else:                              # a typed answer: the field and its buttons on one row
            a, b1, b2 = st.columns([2, 1, 1], vertical_alignment="bottom")
            if q.answer_type == "number":
                a.text_input(label, key=base + ".answer", help=t("exercises.number_help"),
                             placeholder=t("exercises.number_placeholder"))
            else:
                a.text_area(label, key=base + ".answer", height=68,
                            help=t("exercises.matrix_help" if q.answer_type == "matrix" else "exercises.vector_help"),
                            placeholder=t("exercises.shape_placeholder", n=int(np.prod(q.shape or (1,)))))
        if b1.button(t("exercises.check"), key=base + ".check", type="primary", icon=":material/check:",
                     width="stretch"):
            given = st.session_state.get(base + ".answer")
            verdict = ex.check(q, given, current)
            st.session_state[base + ".result"] = result = (sig, given)
            checked = True
            if verdict.problem is None and _record(lesson_url, f"{i}:{sig}", verdict.correct):
                # the whole page: the sidebar's count and the report its download button keeps (both
                # outside this fragment) are drawn again with this answer, right or wrong
                st.rerun(scope="app")
        b2.button(t("exercises.new_question"), key=base + ".new", icon=":material/casino:", width="stretch",
                  on_click=_new_question, args=(base, kind, ctx))
        if checked:
            verdict = ex.check(q, result[1], current)
            if verdict.problem is not None:
                nothing_picked = q.answer_type == "choice" and result[1] is None
                st.warning(t("exercises.error.choice", n=len(q.choices)) if nothing_picked else verdict.problem,
                           icon=":material/edit:")
            elif verdict.correct:
                st.success(t("exercises.correct", answer=verdict.expected_text), icon=":material/check_circle:")
                if _results().get(lesson_url, {}).get(f"{i}:{sig}") is False:   # its first check was wrong
                    st.caption(":material/info: " + t("course.not_counted"))
                st.markdown(verdict.explanation)
            else:
                st.error(t("exercises.wrong", answer=verdict.expected_text), icon=":material/cancel:")
                st.markdown(verdict.explanation)


def _exercise_figure(q, base: str, *, revealed: bool) -> None:
    """What a question shows with its prompt (``figures.exercise_panels``: values that give the answer
    away, the activations of "which picture", only after checking), laid out in rows of columns."""
    from .. import exercises as ex
    from .. import figures

    current = lang()
    options = [ex.render_choice(q, k, current) for k in range(len(q.choices))]
    panels = figures.exercise_panels(q.figure, options, [c.figure for c in q.choices], lang=current,
                                     revealed=revealed)
    if not panels:
        return
    per_row = figures.panels_per_row(panels)
    for start in range(0, len(panels), per_row):
        cols = st.columns(per_row, gap="medium")
        for j, (col, panel) in enumerate(zip(cols, panels[start:start + per_row])):
            with col:
                if panel.caption:
                    st.markdown(f"**{panel.caption}**")
                if isinstance(panel.body, str):
                    st.html(panel.body)
                elif hasattr(panel.body, "save"):
                    image(panel.body, width="content")
                    if panel.legend:
                        st.html(panel.legend)
                else:
                    plot(panel.body, key=f"{base}.fig.{start + j}")
