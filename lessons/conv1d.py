"""Lesson: a kernel sliding along a signal (1D convolution), then a tiny 1D CNN that classifies signals."""

import html

import numpy as np
import streamlit as st

from cnnviz.maths import conv, layers, signals
from cnnviz import course, figures, ui
from cnnviz.train import signal_cnn
from cnnviz.data import signal_csv
from cnnviz.figures import signal_figures
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("conv1d")
MAX_SHOWN = 1000   # samples on screen at once: plotly stays fast with a class of 30


# ------------------------------------------------------------------ helpers
def uploaded_signal():
    """The learner's CSV column -> (signal, name), or None after a translated message."""
    upload = st.file_uploader(t("conv1d.upload"), type=["csv", "txt", "tsv"], key="conv1d.upload",
                              help=t("conv1d.upload_help", max=ui.num(signal_csv.MAX_ROWS)))
    if upload is None:
        st.info(t("conv1d.upload_waiting"), icon=":material/description:")
        return None
    try:
        ident = getattr(upload, "file_id", None) or (upload.name, upload.size)
        table = ui.session_memo("conv1d.table", ident, lambda: signal_csv.read_csv(upload.getvalue()))
    except Exception as err:  # noqa: BLE001 - a learner's file must never crash the lesson
        st.session_state.pop("conv1d.table", None)
        ui.show_error(err)
        return None
    names = list(table.columns)
    name = table.default
    if len(names) > 1:
        name = st.selectbox(t("conv1d.column"), names, index=names.index(table.default), key="conv1d.column")
    x = table.columns[name]
    if len(x) > MAX_SHOWN:
        start = st.number_input(t("conv1d.start"), 0, len(x) - MAX_SHOWN, 0, step=MAX_SHOWN // 2,
                                key="conv1d.start")
        st.caption(t("conv1d.excerpt", n=ui.num(len(x)), a=start, b=start + MAX_SHOWN - 1, shown=MAX_SHOWN))
        x = x[int(start):int(start) + MAX_SHOWN]
    return x, name


def synthetic_signal():
    kind = st.selectbox(t("conv1d.kind"), signals.KINDS, key="conv1d.kind", format_func=ui.labels("signals.kind."))
    c1, c2, c3 = st.columns(3)
    # select sliders, so the values read in the learner's format (a slider always writes "0.20")
    number = ui.number_format()
    freq = c1.select_slider(t("conv1d.freq"), [i / 2 for i in range(1, 21)], value=3.0, key="conv1d.freq", bind="query-params",
                            format_func=lambda v: number(v, 1), help=t("conv1d.freq_help"))
    noise = c2.select_slider(t("conv1d.noise"), [i / 20 for i in range(21)], value=0.2, key="conv1d.noise", bind="query-params",
                             format_func=lambda v: number(v, 2), help=t("conv1d.noise_help"))
    n = c3.slider(t("conv1d.length"), 8, 400, 64, 1, key="conv1d.n", bind="query-params", help=t("conv1d.length_help"))
    return signals.make(kind, n, freq=freq, noise=noise, seed=0), kind


def set_preset():
    name = st.session_state["conv1d.preset"]
    st.session_state["conv1d.kernel_text"] = signals.kernel_text(signals.PRESETS[name])


def figure_names() -> dict:
    """The names in the convolution's figures, in the learner's language."""
    return {key: t(f"conv1d.fig_{key}") for key in ("signal", "padding", "window", "output", "time")}


def labelled(title, values, **kw):
    """A one-row matrix with its title above it (a caption would wrap to the width of a short row)."""
    return (f'<div style="font-weight:600;font-size:14px;margin:6px 0 4px 0">{html.escape(title)}</div>'
            + figures.matrix_html(values, **kw))


def _history_rows(history):
    """The epochs as a table, in the learner's language and number format (drawn when shown, so a
    change of language after training changes it too)."""
    return {t("conv1d.col_epoch"): [h["epoch"] for h in history],
            t("conv1d.col_loss"): [ui.num(h["loss"], 4) for h in history],
            t("conv1d.col_train_acc"): [ui.num(100 * h["train_acc"], 1) for h in history],
            t("conv1d.col_val_acc"): [ui.num(100 * h["val_acc"], 1) for h in history]}


# ------------------------------------------------------------------ sections
def the_inputs():
    """The signal (synthetic or the learner's CSV) and the kernel (a preset or typed), stride,
    padding, dilation and bias. Without a signal, the page ends here.
    -> (signal, its name, its source, kernel, {stride, padding, dilation}, bias)."""
    col_sig, col_ker = st.columns(2, gap="large")
    with col_sig:
        st.subheader(t("conv1d.signal_header"))
        src = st.radio(t("conv1d.source"), ["synthetic", "upload"], key="conv1d.src", horizontal=True,
                       format_func=ui.labels("conv1d.source_"))
        picked = synthetic_signal() if src == "synthetic" else uploaded_signal()
    with col_ker:
        st.subheader(t("conv1d.kernel_header"))
        presets = list(signals.PRESETS)
        st.selectbox(t("conv1d.preset"), presets, key="conv1d.preset", on_change=set_preset,
                     format_func=ui.labels("signals.kernel."))
        if "conv1d.kernel_text" not in st.session_state:
            set_preset()
        about = st.empty()
        text = st.text_input(t("conv1d.kernel_text"), key="conv1d.kernel_text", help=t("conv1d.kernel_text_help"))
        try:
            kernel = signals.parse_kernel(text)
            st.session_state["conv1d.kernel_ok"] = kernel
        except CnnvizError as err:
            ui.show_error(err)
            kernel = st.session_state.get("conv1d.kernel_ok", signals.PRESETS[presets[0]])
            st.caption(t("conv1d.kept_last", kernel=signals.kernel_text(kernel)))
        preset = signals.PRESETS[st.session_state["conv1d.preset"]]
        if kernel.shape == preset.shape and np.allclose(kernel, preset, atol=1e-4):
            about.caption(t(f"signals.kernel_about.{st.session_state['conv1d.preset']}"))
        else:
            about.caption(t("conv1d.own_kernel"))
        k1, k2 = st.columns(2)
        k3, k4 = st.columns(2)
        stride = k1.number_input(t("conv1d.stride"), 1, 16, 1, key="conv1d.stride", bind="query-params", help=t("conv1d.stride_help"))
        padding = k2.number_input(t("conv1d.padding"), 0, 32, 0, key="conv1d.padding", bind="query-params", help=t("conv1d.padding_help"))
        dilation = k3.number_input(t("conv1d.dilation"), 1, 8, 1, key="conv1d.dilation", bind="query-params", help=t("conv1d.dilation_help"))
        bias = ui.decimal_input(k4, t("conv1d.bias"), key="conv1d.bias", value=0.0, help=t("conv1d.bias_help"))
    if picked is None:
        st.stop()
    signal, signal_name = picked
    sizes = {"stride": int(stride), "padding": int(padding), "dilation": int(dilation)}
    return signal, signal_name, src, kernel, sizes, float(bias)


def convolved(signal, kernel, sizes: dict, bias: float):
    """The signal convolved with the kernel (maths.signals.convolve); an impossible size ends the
    page with a message."""
    try:
        return signals.convolve(signal, kernel, **sizes, bias=bias)
    except CnnvizError as err:
        ui.show_error(err)
        st.stop()


def the_sizes(signal, kernel, result, sizes: dict) -> None:
    """Sizes: the output length's formula, the lengths, and the same layer in PyTorch."""
    n, k, n_out = len(signal), len(kernel), len(result.output)
    stride, padding, dilation = sizes["stride"], sizes["padding"], sizes["dilation"]
    st.subheader(t("conv1d.sizes_header"))
    st.latex(conv.output_size_tex("N", n, k, stride, padding, dilation))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("conv1d.input_len"), ui.num(n))
    m2.metric(t("conv1d.kernel_len"), k)
    m3.metric(t("conv1d.output_len"), ui.num(n_out))
    st.markdown(t("conv1d.counts", positions=ui.num(n_out), k=k))
    st.code(signals.torch_line(k, stride, padding, dilation), language="python", wrap_lines=True)


def step_by_step(signal, kernel, result) -> None:
    """Step by step: the window at one position (Play moves it), its products and their sum."""
    n, k, n_out = len(signal), len(kernel), len(result.output)
    st.subheader(t("conv1d.step_header"))
    st.caption(t("conv1d.step_help"))
    names = figure_names()
    ticking = ui.playing("conv1d")

    @st.fragment(run_every=ui.PLAY_TICK if ticking else None)
    def stepper():
        i = ui.step_controls("conv1d", "conv1d.i", n_out, int(np.argmax(result.output)), ticking=ticking)
        step = result.step(i)
        # On a long signal the window would be a sliver: show the samples around it (the whole signal is in 5.).
        zoom = 60 if n > 150 else None
        ui.plot(signal_figures.conv_figure(result, i, names=names, zoom=zoom), key="conv1d.step_fig")

        left = step.left
        cell = max(30, min(56, 560 // k))
        window, products = step.field[0, 0], step.products[0, 0]
        last = left + conv.kernel_span(k, result.dilation) - 1       # the window's last sample
        st.html(labelled(t("conv1d.m_window", a=left, b=last), window[None], cell=cell,
                         hover=t("conv1d.hover_window"), col0=1)
                + labelled(t("conv1d.m_kernel"), kernel[None], cell=cell, digits=3, hover=t("conv1d.hover_weight"), col0=1)
                + labelled(t("conv1d.m_products"), products[None], cell=cell, hover=t("conv1d.hover_product"), col0=1))
        terms = " + ".join(f"({figures.fmt(x)}×{figures.fmt(w, 3)})" for x, w in zip(window[:12], kernel[:12]))
        if k > 12:
            terms += " + " + t("conv1d.more_terms", n=k - 12)
        st.markdown(t("conv1d.sum_line", terms=terms, total=figures.fmt(step.total - step.bias, 3),
                      bias=figures.fmt(step.bias), out=figures.fmt(step.total, 3), i=i))

    stepper()


def the_whole_output(result) -> None:
    """The whole output, with or without a ReLU, and its smallest, largest and mean value."""
    st.subheader(t("conv1d.output_header"))
    relu = st.toggle(t("conv1d.apply_relu"), value=False, key="conv1d.relu", bind="query-params")
    ui.plot(signal_figures.conv_figure(result, names=figure_names(), relu=relu), key="conv1d.out_fig")
    out = layers.relu(result.output) if relu else result.output
    s1, s2, s3 = st.columns(3)
    s1.metric(t("conv1d.map_min"), figures.fmt(float(out.min()), 3))
    s2.metric(t("conv1d.map_max"), figures.fmt(float(out.max()), 3))
    s3.metric(t("conv1d.map_mean"), figures.fmt(float(out.mean()), 3))
    st.markdown(t("conv1d.output_explain"))


def a_1d_cnn():
    """A 1D CNN: its task, examples of each class, its layers, and training it live. Without a
    trained network, the page ends here (the self-check still ends it). -> the trained network."""
    st.header(t("conv1d.cnn_header"))
    st.markdown(t("conv1d.cnn_intro", n=signal_cnn.LENGTH, classes=len(signal_cnn.CLASSES),
                  f0=ui.num(signal_cnn.FREQ_RANGE[0], 1), f1=ui.num(signal_cnn.FREQ_RANGE[1], 1),
                  noise=ui.num(signal_cnn.NOISE_MAX, 2), extra=ui.num(signals.NOISY_EXTRA, 1)))
    rng = np.random.default_rng(7)
    examples = {kind: signal_cnn.prepare(signal_cnn.random_example(kind, rng)) for kind in signal_cnn.CLASSES}
    ui.plot(signal_figures.examples_figure(examples, {k_: t(f"signals.kind.{k_}") for k_ in examples}),
            key="conv1d.examples")
    c1, c2 = signal_cnn.CHANNELS
    st.markdown(t("conv1d.architecture", c1=c1, c2=c2, k=signal_cnn.KERNEL, classes=len(signal_cnn.CLASSES),
                  n=signal_cnn.LENGTH))
    e1, e2, e3 = st.columns([1, 1, 2], vertical_alignment="bottom")
    epochs = e1.slider(t("conv1d.epochs"), 2, 20, 8, key="conv1d.epochs", bind="query-params", help=t("conv1d.epochs_help"))
    seed = e2.number_input(t("conv1d.seed"), 0, 9999, 0, key="conv1d.seed", bind="query-params", help=t("conv1d.seed_help"))
    train_clicked = e3.button(t("conv1d.train"), key="conv1d.train", type="primary", icon=":material/model_training:")

    if train_clicked:
        with ui.training_status("conv1d") as (status, bar):
            table = st.empty()

            def on_epoch(state):
                h = state.history[-1]
                bar.progress(state.epoch / state.epochs, text=t(
                    "conv1d.epoch_line", epoch=state.epoch, epochs=state.epochs, loss=ui.num(h["loss"], 3),
                    acc=ui.num(100 * h["train_acc"], 1), val=ui.num(100 * h["val_acc"], 1)))
                table.dataframe(_history_rows(state.history), hide_index=True)

            try:
                trained = signal_cnn.train_signal_cnn(int(epochs), int(seed), on_epoch)
            except CnnvizError as err:
                ui.show_error(err)
                trained = None
            if trained is not None:
                st.session_state["conv1d.model"] = ((int(epochs), int(seed)), trained)
                status.update(label=t("conv1d.trained", acc=ui.num(100 * trained.test_acc, 1),
                                      secs=ui.num(trained.seconds, 1)), state="complete", expanded=False)
    elif st.session_state.get("conv1d.stop"):
        st.info(t("conv1d.stopped"), icon=":material/stop_circle:")

    memo = st.session_state.get("conv1d.model")
    if memo is None:
        st.caption(t("conv1d.not_trained"))
        ui.lesson_end(URL)   # nothing trained yet: the self-check still ends the page
        st.stop()
    (trained_epochs, trained_seed), trained = memo
    st.metric(t("conv1d.test_acc"), f"{ui.num(100 * trained.test_acc, 1)} %",
              help=t("conv1d.test_acc_help", n=ui.num(trained.n_test)))
    st.caption(t("conv1d.trained_with", epochs=trained_epochs, seed=trained_seed, secs=ui.num(trained.seconds, 1)))
    with st.expander(t("conv1d.history")):
        st.dataframe(_history_rows(trained.history), hide_index=True)
    return trained


def what_conv1_learned(trained) -> None:
    """What conv1 learned: its kernels, drawn and as numbers; one of them can go up to the kernel box."""
    st.subheader(t("conv1d.learned_header"))
    learned = signal_cnn.first_layer_kernels(trained.model)
    st.markdown(t("conv1d.learned_intro", n=len(learned), k=learned.shape[1]))
    l1, l2 = st.columns([3, 2], gap="large", vertical_alignment="center")
    ui.plot(signal_figures.kernels_figure(learned, t("conv1d.kernel_n")), key="conv1d.learned_fig", where=l1)
    l2.html(labelled(t("conv1d.learned_matrix"), learned, cell=40, digits=2, hover=t("conv1d.hover_learned")))
    u1, u2 = st.columns([1, 2], vertical_alignment="bottom")
    u1.selectbox(t("conv1d.pick_learned"), list(range(len(learned))), key="conv1d.learned_i",
                 format_func=lambda i: t("conv1d.kernel_n", i=i))

    def use_learned():
        st.session_state["conv1d.kernel_text"] = signals.kernel_text(learned[st.session_state["conv1d.learned_i"]])

    u2.button(t("conv1d.use_learned"), key="conv1d.use_learned", on_click=use_learned, icon=":material/north:")


def its_answer(trained, signal, signal_name: str, src: str) -> None:
    """Its answer for the learner's signal: the probabilities of each kind."""
    st.subheader(t("conv1d.predict_header"))
    try:
        probs = signal_cnn.predict(trained.model, signal)
    except CnnvizError as err:
        ui.show_error(err)
        st.stop()
    order = np.argsort(probs)[::-1]
    best = signal_cnn.CLASSES[int(order[0])]
    p1, p2 = st.columns([3, 2], gap="large")
    with p1:
        ui.plot(figures.probability_bars([t(f"signals.kind.{signal_cnn.CLASSES[j]}") for j in order],
                                         probs[order].tolist()), key="conv1d.probs")
    with p2:
        st.markdown(t("conv1d.prediction", kind=t(f"signals.kind.{best}"), p=ui.num(100 * probs[order[0]], 1)))
        if src == "synthetic":
            st.markdown(t("conv1d.you_picked", kind=t(f"signals.kind.{signal_name}")))
        st.caption(t("conv1d.predict_note", n=signal_cnn.LENGTH))


ui.lesson_start(URL)   # title, introduction, goal
signal, signal_name, src, kernel, sizes, bias = the_inputs()
result = convolved(signal, kernel, sizes, bias)
the_sizes(signal, kernel, result, sizes)
step_by_step(signal, kernel, result)
the_whole_output(result)
trained = a_1d_cnn()
what_conv1_learned(trained)
its_answer(trained, signal, signal_name, src)
ui.lesson_end(URL)
