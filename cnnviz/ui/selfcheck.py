"""Self-checks: generated questions (cnnviz.exercises) checked in place, one fragment per question."""

from __future__ import annotations

import logging

import numpy as np
import streamlit as st

from .language import lang, plot, t
from .pictures import image
from .progress import _results, lesson_summary, next_lesson, record_answer

from .. import i18n

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


def _lines_figure(series, *, xtitle: str = "", ytitle: str = "", height: int = 230, steps: bool = False):
    """A small plotly line chart: ``series`` = [(name, x, y, dash)]."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, x, y, dash in series:
        fig.add_trace(go.Scatter(x=list(x), y=list(np.asarray(y, dtype=float)), name=name, mode="lines",
                                 line={"dash": dash, "width": 3}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title=xtitle,
                      yaxis_title=ytitle, legend={"orientation": "h", "y": 1.15, "x": 0}, font={"size": 15})
    if steps:           # whole steps (layers randomized): no 0.5 ticks
        fig.update_xaxes(dtick=1)
    return fig


def _exercise_figure(q, base: str, *, revealed: bool) -> None:
    """What a question shows with its prompt, drawn from ``q.figure`` by what each entry is: small
    matrices (windows, kernels, pooling inputs) as numbers in coloured cells, larger 2D arrays as
    pictures or coloured maps, short vectors as one row of cells, curves as plotly lines; each
    choice's own array (a kernel) under its label. Values that give the answer away (the
    activations of "which picture") only after checking."""
    from PIL import Image, ImageDraw, ImageOps

    from .. import exercises as ex
    from .. import figures

    f = dict(q.figure or {})
    current = lang()
    cap = lambda name: i18n.t(f"exercises.fig.{name}", current)   # noqa: E731
    option = [ex.render_choice(q, k, current) for k in range(len(q.choices))]
    panels: list = []      # (caption, html | PIL image | plotly figure)

    def cells(arr, name):
        a = np.atleast_2d(np.asarray(arr, dtype=np.float64))
        whole = bool(np.all(a == np.round(a)))
        # pixels in grey (their own range: a window of 0..9 is not black), kernels blue < 0 < red
        grey = name in ("window", "image") and a.min() >= 0 and a.max() <= 255
        scale = "gray" if grey else "signed" if name == "kernel" else "auto"
        return figures.matrix_html(a, scale=scale, vmin=float(a.min()) if grey else None,
                                   vmax=float(a.max()) if grey else None, digits=0 if whole else 2,
                                   cell=44 if a.size <= 16 else 38, hover="{value}")

    def picture(arr, name, points=None):
        a = np.asarray(arr, dtype=np.float64)
        legend = None
        if name == "image" or (name == "images" and a.min() >= 0 and a.max() <= 255):
            img = figures.upscale(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).convert("RGB"), 200)
        else:                     # a map in colours: its colour bar with numbers goes under it
            scale = figures.map_scale(a)
            img = figures.upscale(figures.colorize(a, scale=scale), 200)
            legend = figures.legend_html(scale, fmt=lambda v, d=0: ex.fmt(v, current, d), width=200)
        if points:
            s = img.size[0] / a.shape[1]
            d = ImageDraw.Draw(img)
            from PIL import ImageFont
            font = ImageFont.load_default(size=max(14, int(img.size[0] / 11)))
            for k, (x, y) in enumerate(points):
                cx, cy, r = (x + 0.5) * s, (y + 0.5) * s, max(5, s * 0.6)
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(0, 230, 255), outline=(0, 0, 0), width=2)
                d.text((cx + r + 2, cy), chr(ord("A") + k), fill=(255, 255, 255), font=font, anchor="lm",
                       stroke_width=3, stroke_fill=(0, 0, 0))
        framed = ImageOps.expand(img, border=2, fill=(150, 150, 150))   # a white picture keeps its edge
        if legend:
            framed.info["cnnviz.legend"] = legend
        return framed

    if "runs" in f:        # train.overfit: one chart per run
        for k, run in enumerate(f.pop("runs")):
            epochs = range(1, len(run["train"]) + 1)
            panels.append((option[k] if k < len(option) else "", _lines_figure(
                [(cap("train"), epochs, run["train"], "solid"), (cap("val"), epochs, run["val"], "dash")],
                xtitle=cap("epoch"), ytitle=cap("accuracy"))))
    if "train" in f and "val" in f:      # train.best_epoch
        tr, va = f.pop("train"), f.pop("val")
        epochs = range(1, len(tr) + 1)
        panels.append(("", _lines_figure([(cap("train"), epochs, tr, "solid"), (cap("val"), epochs, va, "dash")],
                                         xtitle=cap("epoch"), ytitle=cap("accuracy"))))
    if "curves" in f:      # explain.faithful: deletion curves over the fraction of pixels removed
        xs = f.pop("fractions", None)
        curves = f.pop("curves")
        xs = xs if xs is not None else range(len(curves[0]))
        panels.append(("", _lines_figure([(option[k] if k < len(option) else str(k), np.asarray(xs) * 100, c, "solid")
                                          for k, c in enumerate(curves)],
                                         xtitle=cap("removed"), ytitle=cap("probability"))))
    if "correlations" in f:   # explain.sanity: one line per method, layer after layer randomized
        corr = f.pop("correlations")
        panels.append(("", _lines_figure([(option[k] if k < len(option) else str(k), range(len(c)), c, "solid")
                                          for k, c in enumerate(corr)],
                                         xtitle=cap("randomized"), ytitle=cap("correlation"), steps=True)))
    if "logits" in f:      # made-up scores of a network: one bar per class
        import plotly.graph_objects as go

        z, classes = np.asarray(f.pop("logits"), dtype=float), f.pop("classes", None)
        names = [str(c) for c in (classes if classes is not None else range(len(z)))]
        fig = go.Figure(go.Bar(x=names, y=z, marker_color="#1f77b4"))
        fig.update_layout(height=230, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_title=cap("logits"),
                          font={"size": 15}, xaxis={"type": "category"})
        panels.append(("", fig))
    points = f.pop("points", None)
    activations = f.pop("activations", None)
    for name, value in f.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)) or value is None:
            continue         # settings already in the prompt (window, stride, position, epochs)
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
            continue         # names that would give the answer away
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 3:    # several pictures: one panel each, lettered like the options
            for k, img in enumerate(arr):
                extra = ""
                if revealed and activations is not None:
                    extra = " · " + t("exercises.fig.activation_is", value=ex.fmt(np.asarray(activations)[k], current, 1))
                panels.append((chr(ord("A") + k) + extra, picture(img, name)))
        elif arr.ndim == 2 and max(arr.shape) <= 8:
            panels.append((cap(name), cells(arr, name)))
        elif arr.ndim == 2:
            panels.append((cap(name), picture(arr, name, points if name == "heatmap" else None)))
        elif arr.ndim == 1 and arr.size <= 12:
            panels.append((cap(name), cells(arr, name)))
        elif arr.ndim == 1:
            panels.append((cap(name), _lines_figure([(cap(name), range(arr.size), arr, "solid")], height=170)))
    for k, choice in enumerate(q.choices):       # options that are arrays (kernels): drawn under their label
        if choice.figure is not None:
            panels.append((option[k], cells(choice.figure, "kernel")))
    if not panels:
        return
    per_row = 4 if len(panels) >= 4 and all(isinstance(p, str) for _, p in panels) else min(len(panels), 3)
    for start in range(0, len(panels), per_row):
        cols = st.columns(per_row, gap="medium")
        for j, (col, (caption, panel)) in enumerate(zip(cols, panels[start:start + per_row])):
            with col:
                if caption:
                    st.markdown(f"**{caption}**")
                if isinstance(panel, str):
                    st.html(panel)
                elif hasattr(panel, "save"):
                    image(panel, width="content")
                    if panel.info.get("cnnviz.legend"):
                        st.html(panel.info["cnnviz.legend"])
                else:
                    plot(panel, key=f"{base}.fig.{start + j}")
