"""Lesson: gradient descent and the learning rate, on a loss bowl you can see whole (seed 003)."""

import numpy as np
import streamlit as st

from cnnviz import course, figures, ui
from cnnviz.base.errors import CnnvizError
from cnnviz.figures import descent as figs
from cnnviz.train import descent

t = ui.t
URL = course.url("gradient_descent")
STARTS = [x / 2 for x in range(-5, 6)]          # -2.5 ... 2.5: a start inside the map
STEP_CHOICES = [10, 20, 30, 50, 80, 100, 150, 200]
RACE_STEPS = 80
RACE_RATES = (0.01, 0.03, 0.05, 0.1, 0.2)
GUESSES = ("bottom", "crawl", "diverged")
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def names() -> dict:
    """The figures' words in the learner's language."""
    keys = ("w1", "w2", "loss", "bottom", "path", "start", "step", "play", "pause", "sgd", "momentum", "adam")
    return {k: t(f"gd.fig.{k}") for k in keys}


def font() -> int:
    """Digits a class reads: 14 px, 20 px on a projector."""
    return 20 if ui.presenting() else 14


def the_data():
    """1. The data and the model: MNIST's 0s and 1s, two numbers per picture, one neuron and its loss.
    -> the problem (or the page stops with the reason)."""
    st.header(t("gd.data_header"))
    try:
        prob = descent.problem()
    except CnnvizError as err:
        ui.show_error(err)
        st.stop()
    st.markdown(t("gd.data_intro", n=ui.num(prob.n), zeros=ui.num(prob.counts[0]), ones=ui.num(prob.counts[1]),
                  ink=ui.num(prob.raw_mean[0] * 100, 1), width=ui.num(prob.raw_mean[1], 1)))
    st.caption(t(f"gd.source.{prob.source}"))
    st.latex(r"s = w_1 x_1 + w_2 x_2 \qquad L(w_1, w_2) = \frac{1}{N}\sum_{i=1}^{N} (s_i - y_i)^2")
    m1, m2, m3 = st.columns(3)
    bottom = prob.bottom
    m1.metric(t("gd.lowest"), ui.num(prob.lowest_loss, 3), help=t("gd.lowest_help"))
    m2.metric(t("gd.bottom_at"), f"({ui.num(bottom[0], 2)}; {ui.num(bottom[1], 2)})")
    m3.metric(t("gd.accuracy"), f"{ui.num(100 * prob.accuracy(bottom), 1)} %", help=t("gd.accuracy_help"))
    return prob


def preset(rate: float) -> None:
    st.session_state["gd.rate"] = rate


def the_settings():
    """2. The walk's settings: the learning rate (or a preset), the start and the number of steps.
    -> (rate, start, steps)."""
    st.header(t("gd.walk_header"))
    st.markdown(t("gd.walk_intro"))
    number = ui.number_format()
    p = st.columns(3)
    for col, (name, rate) in zip(p, descent.PRESETS.items()):
        col.button(t(f"gd.preset.{name}", rate=number(rate, 2, trim=True)), key=f"gd.preset_{name}",
                   on_click=preset, args=(rate,), width="stretch")
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    rate = c1.select_slider(t("gd.rate"), descent.RATES, value=descent.PRESETS["good"], key="gd.rate",
                            bind="query-params", format_func=lambda v: number(v, 3, trim=True), help=t("gd.rate_help"))
    w1 = c2.select_slider(t("gd.start_w1"), STARTS, value=descent.START[0], key="gd.w1", bind="query-params",
                          format_func=lambda v: number(v, 1))
    w2 = c3.select_slider(t("gd.start_w2"), STARTS, value=descent.START[1], key="gd.w2", bind="query-params",
                          format_func=lambda v: number(v, 1))
    steps = c4.select_slider(t("gd.steps"), STEP_CHOICES, value=descent.STEPS, key="gd.steps", bind="query-params")
    return float(rate), (float(w1), float(w2)), int(steps)


def the_guess(prob, rate: float, start, steps: int) -> str:
    """3. Predict first: will this rate reach the bottom? The map shows the start only until the
    learner answers (or skips). -> the state: "ask", "guessed" or "skipped"."""
    about = ui.predict_context(prob.source, rate, start, steps)
    state, guess = ui.predict_state("gd", about)
    if state != "ask":
        return state
    st.markdown(t("gd.ask", rate=ui.num(rate, 3, trim=True), steps=steps))
    pick = st.radio(t("gd.your_guess"), GUESSES, index=None, key=f"gd.pick.{about}",
                    format_func=ui.labels("gd.guess."), horizontal=True)
    g2, g3, _ = st.columns([1, 1, 1], vertical_alignment="bottom")
    if g2.button(t("gd.reveal"), key="gd.reveal", type="primary", disabled=pick is None,
                 icon=":material/visibility:"):
        ui.predict_set("gd", about, pick)
        st.rerun()
    ui.predict_buttons("gd", state, where=g3)
    w1, w2, loss = descent.surface(prob)
    left, right = st.columns([11, 9], vertical_alignment="center")
    ui.plot(figs.contour_figure(w1, w2, loss, bottom=prob.bottom, lowest=prob.lowest_loss,
                                start=start, names=names(), area=descent.AREA, font=font()), key="gd.map_ask",
            where=left)
    right.caption(t("gd.ask_caption"))
    return state


def big(v: float) -> str:
    """A loss of any size in the learner's format: 12.5, 3,456.7, 2.1 × 10¹⁸."""
    if abs(v) < 1e6:
        return ui.num(v, 2 if abs(v) < 100 else 1)
    exponent = int(np.floor(np.log10(abs(v))))
    return f"{ui.num(v / 10 ** exponent, 1)} × 10{str(exponent).translate(SUPERSCRIPT)}"


def said(prob, path, steps: int) -> tuple[str, str]:
    """What happened, in words: (the verdict's key, its sentence). A path cut where it left the map
    is walked on to its last step (or to the step its loss overflows) to say how far it went."""
    v = path.verdict
    if path.blew_up is not None:
        return v, t("gd.said.overflow", step=path.blew_up)
    if path.left_at is not None:
        if v == "left":
            return v, t("gd.said.left", step=path.left_at, loss=big(path.exit_loss), start=big(path.losses[0]))
        whole = descent.run(prob, "sgd", path.lr, path.points[0], steps, cut=False)
        if whole.blew_up is not None:
            return v, t("gd.said.overflow", left=path.left_at, step=whole.blew_up)
        return v, t("gd.said.diverged", step=path.left_at, start=big(path.losses[0]), steps=steps,
                    loss=big(whole.losses[-1]))
    if v == "bottom":
        return v, t("gd.said.bottom", step=path.reached_at, loss=ui.num(path.losses[-1], 3),
                    lowest=ui.num(path.lowest, 3)) + (" " + t("gd.said.zigzag") if path.zigzags else "")
    return v, t("gd.said.crawl", steps=steps, loss=ui.num(path.losses[-1], 3), lowest=ui.num(path.lowest, 3))


def the_path(prob, rate: float, start, steps: int, state: str) -> None:
    """4. The path, once guessed: in words (reached the bottom, crawls, flew off), on the map and in 3D,
    and its first step written out with its numbers."""
    if state == "ask":
        return
    path = descent.run(prob, "sgd", rate, start, steps)
    verdict, sentence = said(prob, path, steps)
    guess = ui.predict_state("gd", ui.predict_context(prob.source, rate, start, steps))[1]
    if state == "guessed":
        right = guess == verdict or (guess == "diverged" and verdict == "left")
        sentence = t("gd.right" if right else "gd.wrong", guess=t(f"gd.guess.{guess}")) + " " + sentence
    box = {"bottom": st.success, "crawl": st.info}.get(verdict, st.warning)
    box(sentence, icon=":material/trending_down:")
    ui.predict_buttons("gd", state)
    w1, w2, loss = descent.surface(prob)
    left, right_col = st.columns([11, 9])
    with left:
        ui.plot(figs.contour_figure(w1, w2, loss, bottom=prob.bottom, lowest=prob.lowest_loss, path=path.points,
                                    names=names(), area=descent.AREA, font=font()), key="gd.map")
    with right_col:
        ui.plot(figs.surface_figure(w1, w2, loss, path=path.points, losses=path.losses, names=names(), font=font()),
                key="gd.bowl")
    g = prob.gradient(start)
    nxt = descent.sgd_step(start[0], g[0], rate), descent.sgd_step(start[1], g[1], rate)
    st.markdown(t("gd.first_step"))
    for i in range(2):
        st.latex(rf"w_{i + 1} \leftarrow {figures.fmt_tex(start[i], 2, fixed=False)} - "
                 rf"{figures.fmt_tex(rate, 3, fixed=False)} \times ({figures.fmt_tex(g[i], 3)}) = "
                 rf"{figures.fmt_tex(nxt[i], 3)}")
    st.caption(t("gd.limit", limit=ui.num(descent.limit(prob), 2), steep=ui.num(prob.curvatures[-1], 2)))


def the_race(prob, start, state: str) -> None:
    """5. The race: SGD, momentum and Adam from the same start at the same rate, animated in the figure
    (its Play button), their update rules, and when each reached the bottom. It opens after the guess
    (its SGD could be the walk asked about)."""
    st.header(t("gd.race_header"))
    st.markdown(t("gd.race_intro", mu=ui.num(descent.MOMENTUM, 1)))
    number = ui.number_format()
    r1, r2 = st.columns([2, 3])
    everyone = list(descent.OPTIMIZERS)
    st.session_state["gd.racers"] = st.session_state.get("gd.racers", everyone)
    ui.url_seed("gd.racers", "gd.racers", lambda s: [o for o in s.split(",") if o],     # ?gd.racers=sgd,adam
                lambda v: set(v) <= set(everyone))
    chosen = r1.multiselect(t("gd.racers"), everyone, key="gd.racers", format_func=ui.labels("gd.fig."),
                            placeholder=t("gd.racers_placeholder"))
    ui.url_keep("gd.racers", chosen, everyone, fmt=",".join)
    rate = r2.select_slider(t("gd.race_rate"), RACE_RATES, value=0.1, key="gd.race_rate", bind="query-params",
                            format_func=lambda v: number(v, 2, trim=True))
    if state == "ask":      # its settings stay (a link may hold them), its runners wait
        st.info(t("gd.race_after"), icon=":material/sports_score:")
        return
    if not chosen:
        st.info(t("gd.no_racers"), icon=":material/sports_score:")
        return
    paths = {o: descent.run(prob, o, float(rate), start, RACE_STEPS) for o in chosen}
    w1, w2, loss = descent.surface(prob)
    fig, rules = st.columns([11, 9])
    with fig:
        ui.plot(figs.race_figure(w1, w2, loss, bottom=prob.bottom, lowest=prob.lowest_loss,
                                 paths={o: p.points for o, p in paths.items()}, names=names(), area=descent.AREA,
                                 font=font()), key="gd.race")
    with rules:
        st.markdown(t("gd.rules"))
        for o in chosen:
            st.markdown(f"**{t(f'gd.fig.{o}')}**")
            st.latex(descent.RULES_TEX[o])
        for o, p in paths.items():
            reached = p.reached_at
            st.markdown("- " + (t("gd.race_reached", name=t(f"gd.fig.{o}"), step=reached) if reached is not None
                                else t("gd.race_not", name=t(f"gd.fig.{o}"), steps=RACE_STEPS)))
    st.caption(t("gd.race_caption"))


ui.lesson_start(URL)   # title, introduction, goal
prob = the_data()
rate, start, steps = the_settings()
state = the_guess(prob, rate, start, steps)
the_path(prob, rate, start, steps, state)
the_race(prob, start, state)
ui.lesson_end(URL)
