"""Lesson: how a network learns — activation functions, losses and one backpropagation step (issue 19, seed 002)."""

import numpy as np
import streamlit as st

from cnnviz import course, figures, ui
from cnnviz.figures import backprop_figures as bpf
from cnnviz.train import backprop

t = ui.t
URL = course.url("backprop")
LAYER_CHOICES = (0, backprop.DEPTH // 2 - 1, backprop.DEPTH - 1)   # the guess: first, a middle one, last layer
DIGITS = 10                       # the first test digits offered for the backpropagation step
RATES = [0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
PS = np.round(np.linspace(0.01, 0.99, 99), 2)   # the probabilities of the true class the loss charts run over
CELL = 62                         # a 3 x 3 matrix's cell, px


def the_activations():
    """1. Sigmoid or ReLU: the same 8-layer stack trained on the same digits, its loss curves; the
    slopes of both activations. -> the two runs (None while they are computed or after a Cancel)."""
    st.header(t("bp.act_header"))
    st.markdown(t("bp.act_intro", depth=backprop.DEPTH, width=backprop.WIDTH, images=backprop.IMAGES,
                  steps=backprop.STEPS, lr=ui.num(backprop.LR, 2)))
    st.latex(r"\sigma'(x) = \sigma(x)\,\bigl(1-\sigma(x)\bigr) \le " + figures.fmt_tex(0.25) +
             r"\qquad\qquad \mathrm{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}")
    runs = ui.activation_runs(0)
    if runs is None:          # cancelled: the page goes on without this experiment (its button computes it)
        return None, None
    names = {a: t(f"bp.act.{a}") for a in backprop.ACTIVATIONS}
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**{t('bp.curves_title')}**")
        ui.plot(bpf.loss_curves({names[a]: r.losses for a, r in runs.items()}, xtitle=t("bp.step_axis"),
                                ytitle=t("bp.loss_axis")), key="bp.curves")
        st.caption(t("bp.curves_caption", **{f"acc_{a}": ui.num(100 * r.accuracy, 1) for a, r in runs.items()},
                     **{f"loss_{a}": ui.num(r.losses[-1], 2) for a, r in runs.items()}))
    return runs, right


def guess_the_layer(runs, where) -> str:
    """Predict, then reveal: which layer's gradient is the smallest with sigmoid? The bars wait for the
    guess. -> "ask", "guessed" or "skipped" ("ask" without the runs)."""
    if runs is None:
        return "ask"
    grads = runs["sigmoid"].layer_grads
    smallest = int(np.argmin(grads))
    about = ui.predict_context(grads)
    state, guess = ui.predict_state("bp", about)
    with where:
        st.markdown(f"**{t('bp.bars_title')}**")
        if state == "ask":
            st.markdown(t("bp.predict_ask"))
            layer = ui.message("bp.layer_n")
            pick = st.radio(t("bp.predict_pick"), LAYER_CHOICES, index=None, key="bp.predict.pick",
                            format_func=lambda i: layer(n=i + 1), horizontal=True)
            if st.button(t("bp.predict_reveal"), key="bp.predict.reveal", type="primary", disabled=pick is None,
                         icon=":material/visibility:"):
                ui.predict_set("bp", about, int(pick))
                st.rerun()
            ui.predict_buttons("bp", state)
        elif state == "guessed":
            said = {"n": smallest + 1, "g": guess + 1}
            if guess == smallest:
                st.success(t("bp.predict_right", **said), icon=":material/ads_click:")
            else:
                st.warning(t("bp.predict_wrong", **said), icon=":material/ads_click:")
    return state


def the_gradients(runs, state: str, where) -> None:
    """Beside the curves, once guessed: the mean |dL/dW| of each layer for both activations (log
    scale), and how much smaller the first layer's is with sigmoid."""
    if runs is None or state == "ask":
        return
    sig, rel = runs["sigmoid"].layer_grads, runs["relu"].layer_grads
    with where:
        ui.plot(bpf.gradient_bars([t("bp.layer_short", n=i + 1) for i in range(backprop.DEPTH)],
                                  {t(f"bp.act.{a}"): runs[a].layer_grads for a in backprop.ACTIVATIONS},
                                  ytitle=t("bp.grad_axis"), xtitle=t("bp.layer_axis")), key="bp.bars")
        st.markdown(t("bp.bars_explain", sig=bpf.sci_text(sig[0]), relu=bpf.sci_text(rel[0]),
                      ratio=ui.num(rel[0] / sig[0], 0), sig_last=bpf.sci_text(sig[-1]),
                      shrink=ui.num(sig[-1] / sig[0], 0)))
        ui.predict_buttons("bp", state, key_suffix="_after")


def the_losses() -> None:
    """2. Cross-entropy or MSE: the learner sets the probability given to the true class; both losses,
    their slopes with respect to the true class's score, and the curves of both."""
    st.header(t("bp.loss_header"))
    st.markdown(t("bp.loss_intro", c=backprop.CLASSES))
    s1, s2 = st.columns([2, 3], vertical_alignment="center")
    p = ui.decimal_slider(s1, t("bp.p_true"), 0.01, 0.99, 0.7, 0.01, key="bp.p", help=t("bp.p_true_help"))
    out = backprop.losses(backprop.outputs_for(p), 0)
    s2.caption(t("bp.outputs", p=ui.num(p, 2), rest=ui.num((1 - p) / (backprop.CLASSES - 1), 3),
                 others=backprop.CLASSES - 1))
    for col, name, loss, slope in zip(st.columns(2, gap="large"), ("ce", "mse"), (out.cross_entropy, out.mse),
                                      (out.ce_grad[0], out.mse_grad[0])):
        col.markdown(f"**{t(f'bp.{name}')}**")
        m1, m2 = col.columns(2)
        m1.metric(t("bp.loss_metric"), ui.num(loss, 3))
        m2.metric(t("bp.slope_metric"), ui.num(slope, 3), help=t(f"bp.{name}_slope_help"))
    table = [backprop.losses(backprop.outputs_for(q), 0) for q in PS]
    names = (t("bp.mse"), t("bp.ce"))
    c1, c2 = st.columns(2, gap="large")
    with c1:
        ui.plot(bpf.loss_against_p(PS, {names[0]: [x.mse for x in table], names[1]: [x.cross_entropy for x in table]},
                                   marker=p, xtitle=t("bp.p_axis"), ytitle=t("bp.loss_value_axis")), key="bp.loss_chart")
    with c2:
        ui.plot(bpf.loss_against_p(PS, {names[0]: [abs(x.mse_grad[0]) for x in table],
                                        names[1]: [abs(x.ce_grad[0]) for x in table]},
                                   marker=p, xtitle=t("bp.p_axis"), ytitle=t("bp.slope_axis")), key="bp.slope_chart")
    st.markdown(t("bp.loss_explain", bound=ui.num(backprop.mse_bound(), 2), c=backprop.CLASSES))
    if p <= 0.1:
        st.warning(t("bp.confident_mistake", p=ui.num(p, 2), ce=ui.num(out.cross_entropy, 2), mse=ui.num(out.mse, 3),
                     ce_slope=ui.num(out.ce_grad[0], 3), mse_slope=ui.num(out.mse_grad[0], 3)),
                   icon=":material/report:")


def class_row(values, scale: str, vmin: float, vmax: float) -> None:
    """One number per class, 0 to 4 then 5 to 9 side by side (rows of five keep presentation mode's
    20 px digits), on one colour scale."""
    for col, start in zip(st.columns([5, 5, 2]), (0, 5)):
        col.html(figures.matrix_html(values[None, start:start + 5], scale=scale, vmin=vmin, vmax=vmax, digits=2,
                                     cell=56, hover=t("bp.scores_hover"), col0=start,
                                     title=t("bp.classes", a=start, b=start + 4)))


def the_step_settings():
    """3. One backpropagation step: the picture, the seed of the tiny network's weights and the learning
    rate. -> (the step computed forward and backward, the learning rate)."""
    st.header(t("bp.step_header"))
    st.markdown(t("bp.step_intro"))
    x, y = ui.first_digits(DIGITS)
    c1, c2, c3 = st.columns([2, 1, 3])
    index = c1.selectbox(t("bp.digit"), range(DIGITS), key="bp.digit", bind="query-params",
                         format_func=lambda i, _m=ui.message("bp.digit_n"): _m(i=i + 1, label=int(y[i])))
    seed = int(c2.number_input(t("bp.seed"), 0, 999, 0, key="bp.seed", bind="query-params", help=t("bp.seed_help")))
    number = ui.number_format()
    lr = c3.select_slider(t("bp.lr"), RATES, value=0.1, key="bp.lr", bind="query-params",
                          format_func=lambda v: number(v, 2, trim=True), help=t("bp.lr_help"))
    return backprop.conv_step(x[index], int(y[index]), backprop.tiny_net(seed)), float(lr)


def the_forward(step) -> None:
    """The forward pass, stage by stage: picture, the kernel's map, ReLU, 2 × 2 max pooling, the ten
    probabilities and the loss."""
    st.subheader(t("bp.forward_header"))
    stages = [(t("bp.stage_input"), step.image), (t("bp.stage_conv"), step.conv), (t("bp.stage_relu"), step.relu),
              (t("bp.stage_pool"), step.pooled)]
    for col, (label, arr) in zip(st.columns(4), stages):
        col.markdown(f"**{label}**  \n{arr.shape[0]} × {arr.shape[1]}")
        pic = figures.picture(arr, 168) if arr is step.image else figures.upscale(
            np.asarray(figures.colorize(arr)), 168)
        ui.image(pic, width="content", where=col)
    st.markdown(t("bp.probs_title"))
    class_row(step.probs, "sequential", 0.0, 1.0)
    st.markdown(t("bp.loss_line", label=step.label, p=ui.num(step.probs[step.label], 3), loss=ui.num(step.loss, 3)))


def the_backward(step) -> None:
    """The backward pass, layer by layer from the loss back to the kernel's map: dL/dz = p − y, the
    pooled map's gradient Wᵀ(p − y), and the map's, through max pooling and ReLU."""
    st.subheader(t("bp.backward_header"))
    st.markdown(t("bp.d_logits", label=step.label))
    top = float(np.abs(step.d_logits).max())
    class_row(step.d_logits, "signed", -top, top)
    b1, b2 = st.columns(2, gap="large")
    for col, (text, arr) in zip((b1, b2), (("bp.d_pooled", step.d_pooled), ("bp.d_conv", step.d_conv))):
        scale = figures.map_scale(arr, diverging=True)
        col.markdown(t(text))
        ui.image(figures.upscale(np.asarray(figures.colorize(arr, scale=scale)), 260), width="content", where=col)
        col.html(figures.legend_html(scale, fmt=ui.number_format(), digits=3, width=260))
    st.caption(t("bp.backward_caption", zero=ui.num(100 * float(np.mean(step.d_conv == 0)), 0)))


def the_update(step, lr: float) -> None:
    """The kernel, dL/dW beside it and the kernel after one step with the learner's learning rate; the
    chain rule for the centre weight written with the actual numbers."""
    st.subheader(t("bp.update_header"))
    new = step.new_kernel(lr)
    k1, op1, k2, op2, k3 = st.columns([3, 1.4, 3, 0.6, 3], vertical_alignment="center")
    k1.html(figures.matrix_html(step.net.kernel, digits=2, cell=CELL, title=t("bp.kernel_title")))
    op1.markdown(f"### −&nbsp;{ui.num(lr, 2, trim=True)}&nbsp;×")
    k2.html(figures.matrix_html(step.d_kernel, digits=3, cell=CELL, title=t("bp.grad_title")))
    op2.markdown("### =")
    with k3.container(key="bp.new_kernel"):
        st.html(figures.matrix_html(new, digits=3, cell=CELL, title=t("bp.new_title")))
    pairs, rest, others = step.terms(1, 1)
    f = figures.fmt_tex
    terms = " + ".join(rf"({f(d, 4)})\cdot {f(x, 3)}" for d, x in pairs)
    if others:
        terms += rf" + \bigl[\text{{{t('bp.more_terms', n=others)}}}\ {f(rest, 4)}\bigr]"
    st.markdown(t("bp.chain_intro"))
    st.latex(r"\frac{\partial L}{\partial w_{22}} = \sum_{p,q} \frac{\partial L}{\partial c_{pq}}\,"
             r"\frac{\partial c_{pq}}{\partial w_{22}} = \sum_{p,q} \delta_{pq}\, x_{p+1,\,q+1}")
    st.latex("= " + terms + " = " + f(step.d_kernel[1, 1], 4))
    st.latex(rf"w_{{22}} \leftarrow w_{{22}} - \eta\,\frac{{\partial L}}{{\partial w_{{22}}}} = {f(step.net.kernel[1, 1])}"
             rf" - {f(lr, 2)} \times ({f(step.d_kernel[1, 1], 4)}) = {f(new[1, 1], 4)}")
    st.caption(t("bp.chain_caption"))
    after = backprop.conv_step(step.image, step.label, backprop.TinyNet(new, step.net.bias, step.net.fc_w,
                                                                        step.net.fc_b))
    st.markdown(t("bp.after_line", lr=ui.num(lr, 2, trim=True), before=ui.num(step.loss, 4),
                  after=ui.num(after.loss, 4)))


ui.lesson_start(URL)   # title, introduction, goal
runs, bars_column = the_activations()
state = guess_the_layer(runs, bars_column)
the_gradients(runs, state, bars_column)
the_losses()
step, lr = the_step_settings()
the_forward(step)
the_backward(step)
the_update(step, lr)
ui.lesson_end(URL)
