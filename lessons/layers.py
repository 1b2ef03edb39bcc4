"""Lesson: the other layers — ReLU, pooling, softmax, batch norm, and a whole conv block (seed 000)."""

import numpy as np
import streamlit as st

from cnnviz import conv, figures, images, kernels, layers, ui
from cnnviz.errors import CnnvizError

t = ui.t
st.title(t("layers.title"))
st.markdown(t("layers.intro"))
tab_relu, tab_pool, tab_softmax, tab_bn, tab_block = st.tabs(
    [t("layers.tab_relu"), t("layers.tab_pool"), t("layers.tab_softmax"), t("layers.tab_bn"), t("layers.tab_block")])


def small_matrix(seed: int, size: int, signed: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-9 if signed else 0, 10, (size, size)).astype(float)


with tab_relu:
    st.markdown(t("layers.relu_explain"))
    seed = st.number_input(t("layers.seed"), 0, 9999, 3, key="layers.relu_seed", help=t("layers.seed_help"))
    m = small_matrix(seed, 6, signed=True)
    a, b = st.columns(2)
    a.html(figures.matrix_html(m, title=t("layers.before"), cell=40))
    b.html(figures.matrix_html(layers.relu(m), title=t("layers.after_relu"), cell=40))
    st.caption(t("layers.relu_count", n=int((m < 0).sum()), total=m.size))

with tab_pool:
    st.markdown(t("layers.pool_explain"))
    p1, p2, p3, p4 = st.columns(4)
    mode = p1.radio(t("layers.pool_mode"), ["max", "avg"], key="layers.pool_mode", format_func=ui.labels("layers.mode_"))
    window = p2.select_slider(t("layers.window"), [2, 3, 4], value=2, key="layers.window")
    stride = p3.select_slider(t("layers.stride"), [1, 2, 3, 4], value=2, key="layers.pool_stride")
    seed = p4.number_input(t("layers.seed"), 0, 9999, 7, key="layers.pool_seed")
    m = small_matrix(seed, 6, signed=False)
    try:
        pooled = layers.pool2d(m, window, stride, mode)
    except CnnvizError as err:
        ui.show_error(err)
    else:
        a, b = st.columns([3, 2])
        a.html(figures.matrix_html(m, scale="sequential", title=t("layers.before"), cell=44))
        b.html(figures.matrix_html(pooled.output, scale="sequential", title=t(f"layers.after_{mode}"), cell=44))
        st.caption(t("layers.pool_sizes", h=6, w=6, ho=pooled.output.shape[0], wo=pooled.output.shape[1],
                     window=window, stride=stride))
    st.divider()
    st.markdown(t("layers.pool_image"))
    img = ui.image_picker("layers.pool", default="checkerboard", camera=False)
    if img is not None:
        gray = images.to_array(images.fit(img, 256), "gray").astype(float)
        cols = st.columns(4)
        current = gray
        cols[0].image(figures.upscale(current.astype(np.uint8), 220), caption=f"{gray.shape[0]} × {gray.shape[1]}",
                      width="content")
        for col in cols[1:]:
            if min(current.shape) < window:
                break
            current = layers.pool2d(current, window, stride, mode).output
            col.image(figures.upscale(np.clip(current, 0, 255).astype(np.uint8), 220),
                      caption=f"{current.shape[0]} × {current.shape[1]}", width="content")
        st.caption(t("layers.pool_image_caption"))

with tab_softmax:
    st.markdown(t("layers.softmax_explain"))
    text = st.text_input(t("layers.logits"), "2.0; 1.0; 0.1", key="layers.logits", help=t("layers.logits_help"))
    try:
        z = kernels.parse_text(text).ravel()
    except CnnvizError as err:
        ui.show_error(err)
    else:
        s = layers.softmax(z)
        rows = np.stack([s.logits, np.exp(s.logits - s.logits.max()), s.probs])
        st.html(figures.matrix_html(rows, scale="sequential", digits=3, cell=64,
                                    hover=t("layers.softmax_hover")))
        st.caption(t("layers.softmax_rows"))
        terms = " + ".join(f"e^{{{v:.2f}}}" for v in s.logits[:6]) + (r" + \dots" if len(z) > 6 else "")
        st.latex(rf"p_1 = \frac{{e^{{{s.logits[0]:.2f}}}}}{{{terms}}} = {s.probs[0]:.4f}")
        st.caption(t("layers.softmax_sum", total=f"{s.probs.sum():.4f}"))

with tab_bn:
    st.markdown(t("layers.bn_explain"))
    b1, b2, b3, b4 = st.columns(4)
    mean = b1.slider(t("layers.bn_mean"), -50.0, 50.0, 20.0, key="layers.bn_mean")
    std = b2.slider(t("layers.bn_std"), 0.1, 30.0, 8.0, key="layers.bn_std")
    gamma = b3.slider("γ (gamma)", -3.0, 3.0, 1.0, 0.1, key="layers.gamma")
    beta = b4.slider("β (beta)", -5.0, 5.0, 0.0, 0.1, key="layers.beta")
    batch = np.random.default_rng(0).normal(mean, std, size=(16, 1))
    train = layers.batch_norm(batch, gamma=gamma, beta=beta, training=True)
    steps = st.slider(t("layers.bn_steps"), 1, 100, 10, key="layers.bn_steps", help=t("layers.bn_steps_help"))
    rm, rv = np.zeros(1), np.ones(1)
    rng = np.random.default_rng(1)
    for _ in range(steps):   # training batches move the running statistics
        out = layers.batch_norm(rng.normal(mean, std, size=(16, 1)), training=True, running_mean=rm, running_var=rv)
        rm, rv = out.running_mean, out.running_var
    evald = layers.batch_norm(batch, gamma=gamma, beta=beta, training=False, running_mean=rm, running_var=rv)
    c1, c2 = st.columns(2)
    c1.metric(t("layers.bn_batch_stats"), f"μ = {ui.num(train.mean[0], 2)}; σ² = {ui.num(train.var[0], 1)}")
    c2.metric(t("layers.bn_running_stats"), f"μ = {ui.num(rm[0], 2)}; σ² = {ui.num(rv[0], 1)}")
    st.html(figures.matrix_html(np.stack([batch[:8, 0], train.output[:8, 0], evald.output[:8, 0]]), digits=2,
                                cell=58, scale="signed"))
    st.caption(t("layers.bn_rows"))

with tab_block:
    st.markdown(t("layers.block_explain"))
    img = ui.image_picker("layers.block", default="shapes", camera=False)
    if img is not None:
        name = st.selectbox(t("kernel.preset"), kernels.PRESET_NAMES, index=1, key="layers.block_kernel",
                            format_func=ui.labels("kernel.presets."))
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
        stages = [(t("layers.block_input"), gray, False), (t("layers.block_conv"), mapped, None),
                  (t("layers.block_bn"), normed, None), (t("layers.block_relu"), rect, None),
                  (t("layers.block_pool"), pooled, None)]
        cols = st.columns(len(stages))
        for col, (label, arr, div) in zip(cols, stages):
            pic = figures.upscale(arr.astype(np.uint8), 180) if div is False else \
                figures.upscale(figures.colorize(arr), 180)
            col.image(pic, width="content")
            col.caption(f"**{label}**  \n{arr.shape[0]} × {arr.shape[1]} · min {ui.num(arr.min(), 1)} · max {ui.num(arr.max(), 1)}")
        st.code(f"nn.Sequential(nn.Conv2d(1, 1, {k.shape[0]}, padding={k.shape[0] // 2}), nn.BatchNorm2d(1), "
                "nn.ReLU(), nn.MaxPool2d(2))", language="python", wrap_lines=True)
