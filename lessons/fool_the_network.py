"""Lesson: fool the network — adversarial examples. A change of at most epsilon per pixel, chosen
along the gradient (FGSM, PGD), changes the answer; a random change of the same size does not (issue 20)."""

from typing import NamedTuple

import streamlit as st

from cnnviz import course, figures, ui
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("fool_the_network")
QUESTION_EPS = 0.05                # predict first: will FGSM at this epsilon fool it?
DEFAULT_EPS = 0.15                 # the attack's epsilon when the page opens
SIDE = 196                         # px of each picture of the attack
CAM_SIDE = 196


class Seen(NamedTuple):
    """One picture through one network: what the page below the picker works on."""
    loaded: object       # the network (cnnviz.models)
    labels: list         # its classes in the learner's language
    x: object            # the picture as the network takes it (a tensor)
    said: int            # the class the network gives it
    prob: float          # its probability
    picture: str         # a digest of the network and the picture: guesses and memos belong to it
    right: object        # the column beside the picker: the answer, then the attack's settings


def pct(v: float) -> str:
    """A probability or share (0..1) in % with one decimal, the learner's way."""
    return f"{ui.num(100 * float(v), 1)}\u00a0%"


def eps_text(e: float) -> str:
    return ui.num(e, 3, trim=True)


def the_network():
    """The network first: the class sees which one it is. Without one, the page ends here."""
    loaded = ui.model_picker("fool.model")
    if loaded is None:
        ui.lesson_end(URL)
        st.stop()
    return loaded


def the_picture(loaded) -> Seen:
    """The picture (a test picture of the network's own data, a sample, an upload) and the network's
    answer on it. Without a picture, the page ends here."""
    left, right = st.columns([2, 3], gap="large")
    with left:
        img = ui.image_picker("fool", default="digit" if loaded.in_channels == 1 else "landscape", model=loaded)
    if img is None:
        ui.lesson_end(URL)
        st.stop()
    try:
        x = loaded.preprocess(img)
    except CnnvizError as err:
        ui.show_error(err)
        ui.lesson_end(URL)
        st.stop()
    probs = loaded.probabilities(x)
    said = int(probs.argmax())
    labels = loaded.class_labels(ui.lang())
    picture = ui.predict_context(loaded.source, loaded.name, id(loaded.model), x.numpy())
    with right.container(key="fool.says"):
        st.metric(t("fool.says"), labels[said], pct(probs[said]), delta_color="off", delta_arrow="off")
    return Seen(loaded, labels, x, said, float(probs[said]), picture, right)


def attacked(seen: Seen, method: str, eps: float, target: int | None):
    """(x_adv, prediction) of ``method`` at ``eps`` on this picture: once for the whole class on a
    bundled or ImageNet network (``ui.model_memo``)."""
    return ui.model_memo(seen.loaded, "fool.attack", (seen.picture, method, eps, target), lambda: adv.attack(
        seen.loaded, seen.x, method=method, epsilon=eps, label=None if target is not None else seen.said,
        target=target))


def the_question(seen: Seen) -> None:
    """Predict first: will FGSM at epsilon 0.05 fool it? Until the guess (or Skip), the rest of the
    page stays hidden."""
    st.header(t("fool.question_header"))
    about = seen.picture
    state, guess = ui.predict_state("fool", about)
    options = [t("fool.yes"), t("fool.no")]
    if state == "ask":
        ui.predict_choice("fool", about, options, ask=t("fool.ask", eps=eps_text(QUESTION_EPS), c=seen.labels[seen.said]),
                          pick=t("fool.your_guess"), reveal=t("fool.reveal"))
        st.info(t("fool.hidden", eps=eps_text(QUESTION_EPS)), icon=":material/visibility_off:")
        ui.lesson_end(URL)
        st.stop()
    _, pred = attacked(seen, "fgsm", QUESTION_EPS, None)
    fooled = pred.label != seen.said
    answer = t("fool.answer_yes" if fooled else "fool.answer_no", eps=eps_text(QUESTION_EPS),
               c=seen.labels[seen.said], new=seen.labels[pred.label], p=pct(pred.probs[pred.label]))
    if state == "guessed":
        right = (guess == 0) == fooled
        (st.success if right else st.warning)(t("fool.right" if right else "fool.wrong") + " " + answer,
                                              icon=":material/psychology:")
    else:
        st.markdown(answer)
    ui.predict_buttons("fool", state)


def the_settings(seen: Seen):
    """The attack, epsilon, the goal (away from the answer, or towards a class) and whether to measure
    the curve, in the link, beside the picture: drawn above the question, so a teacher's link keeps them
    while it asks."""
    c1, c3 = seen.right.columns(2)
    c2 = c4 = seen.right
    # ids in the link, not labels (which change with the language)
    grid = list(adv.GRID[1:])
    goals = [-1] + list(range(len(seen.labels)))
    goal_key = f"fool.goal.{len(seen.labels)}"
    ui.url_seed("fool.method", "fool.method", str, lambda v: v in adv.ATTACKS)
    ui.url_seed("fool.eps", "fool.eps", float, lambda v: v in grid)
    ui.url_seed("fool.goal", goal_key, int, lambda v: v in goals)
    first = {} if "fool.eps" in st.session_state else {"value": DEFAULT_EPS}   # a link's value: already there
    method = c1.selectbox(t("fool.method"), list(adv.ATTACKS), key="fool.method",
                          format_func=ui.labels("fool.m."), help=t("fool.method_help", steps=adv.PGD_STEPS))
    eps = c2.select_slider(t("fool.eps"), grid, key="fool.eps", format_func=eps_text, help=t("fool.eps_help"), **first)
    names = [t("fool.away")] + [t("fool.towards", c=c) for c in seen.labels]     # bound to the language now
    goal = c3.selectbox(t("fool.goal"), goals, key=goal_key, format_func=lambda g: names[g + 1])
    ui.url_keep("fool.method", method, "fgsm")
    ui.url_keep("fool.eps", eps, DEFAULT_EPS, fmt=lambda v: f"{v:g}")
    ui.url_keep("fool.goal", goal, -1)
    curve = c4.toggle(t("fool.curve_go"), key="fool.curve_on", bind="query-params", help=t("fool.curve_help"))
    return method, float(eps), None if goal < 0 else int(goal), curve


def the_attack(seen: Seen, method: str, eps: float, target: int | None):
    """The picture, the change (amplified) and the attacked picture side by side; the answers before
    and after with their probabilities, and a random change of the same size as a baseline."""
    st.header(t("fool.attack_header"))
    st.markdown(t("fool.attack_intro"))
    x_adv, pred = attacked(seen, method, eps, target)
    noisy_pred = ui.model_memo(seen.loaded, "fool.random", (seen.picture, eps),
                               lambda: adv.random_sign(seen.loaded, seen.x, epsilon=eps, seed=0))[1]
    loaded = seen.loaded
    shown = adv.perturbation(loaded, seen.x, x_adv, eps)
    cols = st.columns(3)
    ui.image(figures.picture(adv.pixels(loaded, seen.x)[0], SIDE), where=cols[0], width=SIDE,
             caption=t("fool.original", c=seen.labels[seen.said], p=pct(seen.prob)))
    ui.image(figures.upscale((shown * 255).round().astype("uint8"), SIDE), where=cols[1], width=SIDE,
             caption=t("fool.change", eps=eps_text(eps), times=ui.num(1 / (2 * eps), 1)))
    ui.image(figures.picture(adv.pixels(loaded, x_adv)[0], SIDE), where=cols[2], width=SIDE,
             caption=t("fool.adversarial", c=seen.labels[pred.label], p=pct(pred.probs[pred.label])))
    m1, m2, m3 = st.columns(3)
    with m1.container(key="fool.before"):
        st.metric(t("fool.before"), seen.labels[seen.said], pct(seen.prob), delta_color="off", delta_arrow="off")
    with m2.container(key="fool.after"):
        st.metric(t("fool.after", m=t(f"fool.m.{method}")), seen.labels[pred.label], pct(pred.probs[pred.label]),
                  delta_color="off", delta_arrow="off")
    with m3.container(key="fool.noise"):
        st.metric(t("fool.noise", eps=eps_text(eps)), seen.labels[noisy_pred.label],
                  pct(noisy_pred.probs[noisy_pred.label]), delta_color="off", delta_arrow="off")
    key = ("fool.fooled" if pred.label != seen.said else "fool.not_fooled") if target is None else \
        ("fool.reached" if pred.label == target else "fool.not_reached")
    st.markdown(t(key, eps=eps_text(eps), c=seen.labels[seen.said], new=seen.labels[pred.label],
                  target=seen.labels[target] if target is not None else "",
                  noise=seen.labels[noisy_pred.label]))
    return x_adv, pred


def the_smallest(seen: Seen, method: str) -> None:
    """The smallest epsilon of the grid that changes the answer, every epsilon of the grid tried."""
    st.subheader(t("fool.smallest_header"))
    found, said = ui.model_memo(seen.loaded, "fool.smallest", (seen.picture, method),
                                lambda: adv.smallest_flip(seen.loaded, seen.x, method=method, label=seen.said))
    grid = ", ".join(eps_text(e) for e in adv.GRID[1:])
    if found is None:
        st.markdown(t("fool.smallest_none", m=t(f"fool.m.{method}"), grid=grid, c=seen.labels[seen.said]))
    else:
        st.markdown(t("fool.smallest", m=t(f"fool.m.{method}"), eps=eps_text(found), grid=grid,
                      c=seen.labels[seen.said], new=seen.labels[said[adv.GRID.index(found)]]))
    head = "| ε | " + " | ".join(eps_text(e) for e in adv.GRID[1:]) + " |"
    line = "|---|" + "---:|" * (len(adv.GRID) - 1)
    row = f"| {t('fool.answer_row')} | " + " | ".join(
        f"**{seen.labels[c]}**" if c != seen.said else seen.labels[c] for c in said[1:]) + " |"
    with st.container(key="fool.grid_table"):
        st.markdown("\n".join([head, line, row]))
    st.caption(t("fool.smallest_note"))


def where_it_looks(seen: Seen, x_adv, pred) -> None:
    """Grad-CAM of the picture (for its class) and of the attacked picture (for its new class)."""
    st.subheader(t("fool.cam_header"))
    loaded = seen.loaded
    if not loaded.conv_layers():
        st.caption(t("fool.cam_none"))
        return
    cols = st.columns(2)
    for col, x, c, key in ((cols[0], seen.x, seen.said, "fool.cam_before"), (cols[1], x_adv, pred.label, "fool.cam_after")):
        cam = ui.model_memo(loaded, "fool.cam", (seen.picture, key, x.numpy().tobytes(), c),
                            lambda x=x, c=c: attribution.grad_cam(loaded.model, x, target=c))
        img = loaded.to_image(x)
        ui.image(figures.overlay(img, cam, alpha=0.5, target=CAM_SIDE), where=col, width=SIDE,
                 caption=t(key, c=seen.labels[c]))
    st.markdown(t("fool.cam_explain"))


def the_curve(loaded, on: bool) -> None:
    """Accuracy against epsilon over the network's first test pictures: FGSM, PGD, the random
    baseline (computed once per server, in the line of heavy work)."""
    st.header(t("fool.curve_header"))
    dataset = ui.model_dataset(loaded)
    if loaded.source != "bundled" or dataset not in data.DATASETS or not data.source(dataset):
        st.caption(t("fool.curve_none"))
        return
    if not on:
        st.caption(t("fool.curve_off", n=ui.num(ui.CURVE_PICTURES)))
        return
    curve = ui.robustness_curve(loaded, dataset)
    if curve is None:
        return
    names = {m: t(f"fool.m.{m}") for m in ("fgsm", "pgd", "random")}
    ui.plot(figures_adv.epsilon_curves(curve.epsilons, {names[m]: curve.accuracy[m] for m in names},
                                       xtitle=t("fool.curve_x"), ytitle=t("fool.curve_y"),
                                       font=20 if ui.presenting() else 15), key="fool.curve")
    src = t("fool.source_full" if data.source(dataset) == "full" else "fool.source_sample")
    st.caption(t("fool.curve_caption", n=ui.num(curve.n), data=t(f"picker.world.{dataset}"), src=src))
    e = 0.1 if 0.1 in curve.epsilons else curve.epsilons[-1]
    st.markdown(t("fool.curve_explain", eps=eps_text(e), fgsm=pct(curve.flip_share("fgsm", e)),
                  pgd=pct(curve.flip_share("pgd", e)), random=pct(curve.flip_share("random", e)),
                  top=eps_text(curve.epsilons[-1]), fgsm_top=pct(curve.flip_share("fgsm", curve.epsilons[-1])),
                  pgd_top=pct(curve.flip_share("pgd", curve.epsilons[-1])),
                  random_top=pct(curve.flip_share("random", curve.epsilons[-1]))))


def the_why(loaded) -> None:
    """Why it happens (linearity in many dimensions), why it is not noise, and what defends against it."""
    st.header(t("fool.why_header"))
    h, w = loaded.input_size
    n = loaded.in_channels * h * w
    st.markdown(t("fool.why", n=ui.num(n), eps=eps_text(0.05), moved=ui.num(0.05 * n, 1)))
    st.markdown(t("fool.defend"))


ui.lesson_start(URL)   # title, introduction, goal
from cnnviz import data  # noqa: E402  (after the title: torch loads meanwhile)
from cnnviz.analysis import adversarial as adv, attribution  # noqa: E402
from cnnviz.figures import adversarial_figures as figures_adv  # noqa: E402

loaded = the_network()
seen = the_picture(loaded)
method, eps, target, curve_on = the_settings(seen)
the_question(seen)
x_adv, pred = the_attack(seen, method, eps, target)
the_smallest(seen, method)
where_it_looks(seen, x_adv, pred)
the_curve(loaded, curve_on)
the_why(loaded)
ui.lesson_end(URL)
