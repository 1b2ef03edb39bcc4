"""Lesson: the other layers — ReLU, pooling, softmax, batch norm, and a whole conv block (seed 000)."""

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz.maths import conv, images, kernels, layers
from cnnviz import course, figures, ui
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("layers")


def small_matrix(seed: int, size: int, signed: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-9 if signed else 0, 10, (size, size)).astype(float)


def the_tabs() -> list:
    """One tab per layer: ReLU, pooling, softmax, batch norm, a whole conv block."""
    return st.tabs([t("layers.tab_relu"), t("layers.tab_pool"), t("layers.tab_softmax"), t("layers.tab_bn"),
                    t("layers.tab_block")])


def relu_tab(tab) -> None:
    """ReLU: a small signed matrix before and after, on one colour scale (0 stays white)."""
    num = ui.number_format()
    with tab:
        st.markdown(t("layers.relu_explain"))
        seed = st.number_input(t("layers.seed"), 0, 9999, 3, key="layers.relu_seed", bind="query-params", help=t("layers.seed_help"))
        m = small_matrix(seed, 6, signed=True)
        scale = figures.map_scale(m, diverging=True)      # one scale before and after: 0 stays white
        a, b = st.columns(2)
        a.html(figures.matrix_html(m, title=t("layers.before"), cell=44, vmin=scale.lo, vmax=scale.hi))
        b.html(figures.matrix_html(layers.relu(m), title=t("layers.after_relu"), cell=44, vmin=scale.lo, vmax=scale.hi))
        st.html(figures.legend_html(scale, fmt=num, label=t("layers.relu_legend")))
        st.caption(t("layers.relu_count", n=int((m < 0).sum()), total=m.size))


def pooling_tab(tab) -> None:
    """Pooling: max or average over a window with a stride, on a small matrix, then again and again
    on a picture."""
    with tab:
        st.markdown(t("layers.pool_explain"))
        p1, p2, p3, p4 = st.columns(4)
        mode = p1.radio(t("layers.pool_mode"), ["max", "avg"], key="layers.pool_mode", format_func=ui.labels("layers.mode_"))
        window = p2.select_slider(t("layers.window"), [2, 3, 4], value=2, key="layers.window", bind="query-params")
        stride = p3.select_slider(t("layers.stride"), [1, 2, 3, 4], value=2, key="layers.pool_stride", bind="query-params")
        seed = p4.number_input(t("layers.seed"), 0, 9999, 7, key="layers.pool_seed", bind="query-params")
        m = small_matrix(seed, 6, signed=False)
        try:
            pooled = layers.pool2d(m, window, stride, mode)
        except CnnvizError as err:
            ui.show_error(err)
        else:
            st.html(figures.pooling_html(m, pooled, titles=(t("layers.before"), t(f"layers.after_{mode}")), cell=50))
            st.caption(t("layers.pool_sizes", h=6, w=6, ho=pooled.output.shape[0], wo=pooled.output.shape[1],
                         window=window, stride=stride))
            overlap = "overlap" if stride < window else "separate"
            st.caption(t(f"layers.pool_windows_{overlap}") + " " + (t("layers.pool_winner") if mode == "max" else "")
                       + (" " + t("layers.pool_unused") if (6 - window) % stride else ""))
        st.divider()
        st.markdown(t("layers.pool_image"))
        img = ui.image_picker("layers.pool", default="checkerboard", camera=False)
        if img is not None:
            gray = images.to_array(images.fit(img, 256), "gray").astype(float)
            cols = st.columns(4)
            current = gray
            ui.image(figures.upscale(current.astype(np.uint8), 220), caption=f"{gray.shape[0]} × {gray.shape[1]}",
                     width="content", where=cols[0])
            for col in cols[1:]:
                if min(current.shape) < window:
                    break
                current = layers.pool2d(current, window, stride, mode).output
                ui.image(figures.upscale(np.clip(current, 0, 255).astype(np.uint8), 220),
                         caption=f"{current.shape[0]} × {current.shape[1]}", width="content", where=col)
            st.caption(t("layers.pool_image_caption"))


def softmax_tab(tab) -> None:
    """Softmax: the learner's scores, their exponentials and the probabilities, and the formula."""
    num = ui.number_format()
    with tab:
        st.markdown(t("layers.softmax_explain"))
        text = st.text_input(t("layers.logits"), "; ".join(ui.num(v, 1) for v in (2, 1, 0.1)), key="layers.logits", help=t("layers.logits_help"))
        try:
            z = kernels.parse_text(text).ravel()
        except CnnvizError as err:
            ui.show_error(err)
        else:
            s = layers.softmax(z)
            # one row per quantity, each on its own scale with its colour bar: scores, e^z and
            # probabilities have different ranges (one scale made the probabilities all pale)
            for i, (name, row, digits) in enumerate((("z", s.logits, 2), ("exp", s.exps, 3), ("p", s.probs, 3))):
                scale = figures.map_scale(row)
                left, right = st.columns([3, 2], vertical_alignment="center")
                left.html(figures.matrix_html(row[None], scale="auto", digits=digits, cell=64, title=t(f"layers.softmax_row_{name}"),
                                              hover=t("layers.softmax_hover"), vmin=scale.lo, vmax=scale.hi))
                right.html(figures.legend_html(scale, fmt=num, digits=digits, width=220))
            st.caption(t("layers.softmax_rows"))
            terms = " + ".join(f"e^{{{figures.fmt_tex(v)}}}" for v in s.logits[:6]) + (r" + \dots" if len(z) > 6 else "")
            st.latex(rf"p_1 = \frac{{e^{{{figures.fmt_tex(s.logits[0])}}}}}{{{terms}}} = {figures.fmt_tex(s.probs[0], 4)}")
            st.caption(t("layers.softmax_sum", total=ui.num(s.probs.sum(), 4)))


def batch_norm_tab(tab) -> None:
    """Batch norm: a batch normalized with its own statistics (training) and with the running ones
    after some training batches (evaluation)."""
    num = ui.number_format()
    with tab:
        st.markdown(t("layers.bn_explain"))
        b1, b2, b3, b4 = st.columns(4)
        mean = ui.decimal_slider(b1, t("layers.bn_mean"), -50.0, 50.0, 20.0, 0.5, key="layers.bn_mean", digits=1)
        std = ui.decimal_slider(b2, t("layers.bn_std"), 0.5, 30.0, 8.0, 0.5, key="layers.bn_std", digits=1)
        gamma = ui.decimal_slider(b3, "γ (gamma)", -3.0, 3.0, 1.0, 0.1, key="layers.gamma")
        beta = ui.decimal_slider(b4, "β (beta)", -5.0, 5.0, 0.0, 0.1, key="layers.beta")
        # the batch is exactly the values shown: μ and σ² below are their mean and variance
        batch = np.random.default_rng(0).normal(mean, std, size=(layers.BN_DEMO_BATCH, 1))
        train = layers.batch_norm(batch, gamma=gamma, beta=beta, training=True)
        steps = st.slider(t("layers.bn_steps"), 1, 100, 10, key="layers.bn_steps", bind="query-params", help=t("layers.bn_steps_help"))
        rm, rv = layers.running_statistics(mean, std, steps)   # training batches move the running statistics
        evald = layers.batch_norm(batch, gamma=gamma, beta=beta, training=False, running_mean=rm, running_var=rv)
        c1, c2 = st.columns(2)
        c1.metric(t("layers.bn_batch_stats"), f"μ = {ui.num(train.mean[0], 2)}; σ² = {ui.num(train.var[0], 2)}")
        c2.metric(t("layers.bn_running_stats"), f"μ = {ui.num(rm[0], 2)}; σ² = {ui.num(rv[0], 2)}")
        bn_rows = np.stack([batch[:, 0], train.output[:, 0], evald.output[:, 0]])
        st.html(figures.matrix_html(bn_rows, digits=2, cell=58, scale="signed"))
        st.html(figures.legend_html(figures.map_scale(bn_rows, diverging=True), fmt=num))
        st.caption(t("layers.bn_rows"))


def conv_block_tab(tab) -> None:
    """A whole conv block on a picture: convolution, batch norm, ReLU, max pooling, stage by stage."""
    num = ui.number_format()
    with tab:
        st.markdown(t("layers.block_explain"))
        img = ui.image_picker("layers.block", default="shapes", camera=False)
        if img is not None:
            name = st.selectbox(t("kernels.preset"), kernels.PRESET_NAMES, index=1, key="layers.block_kernel",
                                format_func=ui.labels("kernels.presets."))
            gray = images.to_array(images.fit(img, 128), "gray").astype(float)
            k = kernels.make(name)
            try:
                mapped = conv.convolve2d(gray, k, padding=k.shape[0] // 2).output
            except CnnvizError as err:
                ui.show_error(err)
                st.stop()
            normed = layers.batch_norm(mapped[None, None]).output[0, 0]
            rect = layers.relu(normed)
            pooled = layers.pool2d(rect, 2, 2, "max").output
            # conv has its own range; BN, ReLU and pooling share BN's diverging scale, so ReLU is
            # seen turning the blue (negative) part white (0) instead of switching colour scale.
            shared = figures.map_scale(normed, diverging=True)
            stages = [(t("layers.block_input"), gray, None, "block_input_legend"),
                      (t("layers.block_conv"), mapped, figures.map_scale(mapped, diverging=True), "block_conv_legend"),
                      (t("layers.block_bn"), normed, shared, "block_shared_legend"),
                      (t("layers.block_relu"), rect, shared, "block_shared_legend"),
                      (t("layers.block_pool"), pooled, shared, "block_shared_legend")]
            # two rows of three: each stage ~270 px wide at 1280 px, readable from the back of a room
            cols = st.columns(3, gap="medium") + st.columns(3, gap="medium")
            for i, (col, (label, arr, scale, legend)) in enumerate(zip(cols, stages)):
                with col.container(key=f"layers.stage{i}"):
                    st.markdown(f"**{label}** · {arr.shape[0]} × {arr.shape[1]}")
                    pic = Image.fromarray(arr.astype(np.uint8)) if scale is None else figures.colorize(arr, scale=scale)
                    ui.image(pic.resize((256, 256), Image.Resampling.NEAREST), width="stretch")
                    st.html(figures.legend_html(scale if scale is not None else figures.map_scale(arr, 0, 255),
                                                fmt=num, label=t(f"layers.{legend}"), width=400,
                                                gray=scale is None))
            cols[5].markdown(t("layers.block_scales"))
            st.code(f"nn.Sequential(nn.Conv2d(1, 1, {k.shape[0]}, padding={k.shape[0] // 2}), nn.BatchNorm2d(1), "
                    "nn.ReLU(), nn.MaxPool2d(2))", language="python", wrap_lines=True)


ui.lesson_start(URL)   # title, introduction, goal
tab_relu, tab_pool, tab_softmax, tab_bn, tab_block = the_tabs()
relu_tab(tab_relu)
pooling_tab(tab_pool)
softmax_tab(tab_softmax)
batch_norm_tab(tab_bn)
conv_block_tab(tab_block)
ui.lesson_end(URL)
