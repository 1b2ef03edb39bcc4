"""Lesson: why convolution? Count the weights of an MLP and of a CNN (seed 000)."""

import streamlit as st

from cnnviz import course, figures, ui
from cnnviz.maths import params
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("why_convolution")


def the_image() -> tuple:
    """The image: its height, width and channels (?why.h=, ?why.w=, ?why.c=), and how many numbers
    it is. -> ((H, W, C), inputs)."""
    c1, c2, c3 = st.columns(3)
    h = c1.number_input(t("why.height"), 1, 4096, 256, key="why.h", bind="query-params")
    w = c2.number_input(t("why.width"), 1, 4096, 256, key="why.w", bind="query-params")
    ui.url_seed("why.c", "why.c", int, lambda v: v in (1, 3))   # ?why.c=3
    c = c3.selectbox(t("why.channels"), [1, 3], key="why.c", format_func=ui.labels("why.channels_"))
    ui.url_keep("why.c", c, 1)
    n_in = params.inputs((h, w, c))
    st.markdown(t("why.inputs", h=h, w=w, c=c, n=ui.num(n_in)))
    return (h, w, c), n_in


def mlp_and_cnn(shape, n_in: int):
    """MLP vs CNN: the MLP's hidden layers (as wide as the image, or typed) beside the CNN's
    convolutions and kernel size. A typo ends the page with a message.
    -> (the MLP's hidden layers, its weights, the CNN's layers, the kernel size)."""
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("why.mlp_header"))
        same = st.toggle(t("why.same_width"), value=True, key="why.same", bind="query-params")
        if same:
            hidden = [n_in]
            st.caption(t("why.same_width_help", n=ui.num(n_in)))
        else:
            text = st.text_input(t("why.hidden"), "1024, 256", key="why.hidden", bind="query-params", help=t("why.hidden_help"))
            try:
                hidden = params.parse_int_list(text, low=1, high=10**7)
            except CnnvizError as err:
                ui.show_error(err)
                st.stop()
        mlp = params.mlp_weights(shape, hidden, outputs=10)
    with right:
        st.subheader(t("why.cnn_header"))
        text = st.text_input(t("why.convs"), "16, 32, 64", key="why.convs", bind="query-params", help=t("why.convs_help"))
        k = st.select_slider(t("why.kernel"), [1, 3, 5, 7, 9, 11], value=3, key="why.k", bind="query-params")
        try:
            convs = [(n, k) for n in params.parse_int_list(text, low=1, high=4096)]
        except CnnvizError as err:
            ui.show_error(err)
            st.stop()
        rows = params.cnn_weights(shape, convs, dense=[], outputs=10)
    return hidden, mlp, rows, k


def the_counts(shape, hidden, mlp: int, rows, k: int) -> None:
    """Both counts with their memory, how many times more, and the weights layer by layer."""
    cnn = sum(r.weights for r in rows)
    m1, m2, m3 = st.columns(3)
    for col, label, n in ((m1, t("why.mlp_header"), mlp), (m2, t("why.cnn_header"), cnn)):
        v32, u32 = params.human_bytes(params.memory_bytes(n, "float32"))
        v16, u16 = params.human_bytes(params.memory_bytes(n, "float16"))
        col.metric(label, ui.num(n), help=t("why.memory", m32=f"{ui.num(v32, 1)} {u32}", m16=f"{ui.num(v16, 1)} {u16}"))
        col.caption(t("why.memory", m32=f"{ui.num(v32, 1)} {u32}", m16=f"{ui.num(v16, 1)} {u16}"))
    cmp = params.compare(mlp, cnn)
    factor = ui.num(cmp.factor, cmp.digits)
    m3.metric(t("why.ratio_label"), t(f"why.ratio_value.{cmp.more}", factor=factor))
    m3.markdown(t(f"why.ratio.{cmp.more}", factor=factor))

    mlp_layers = [(r.name, r.weights) for r in params.mlp_layers(shape, hidden, outputs=10)]
    ui.plot(figures.log_bars({t("why.mlp_header"): mlp_layers,
                              t("why.cnn_header"): [(r.name, r.weights) for r in rows if r.weights]},
                             ytitle=t("why.weights_log")),
            key="why.bars")
    st.caption(t("why.cnn_note", k=k))


def what_fits(mlp: int) -> None:
    """What fits: the MLP's weights against the memory of a phone, a laptop, a GPU..."""
    st.subheader(t("why.fits_header"))
    mem = params.memory_bytes(mlp, "float32")
    cols = st.columns(len(params.DEVICES))
    for col, (device, size) in zip(cols, params.DEVICES.items()):
        fits = mem <= size
        v, u = params.human_bytes(size)
        col.metric(t(f"why.device.{device}"), f"{ui.num(v)} {u}", t("why.fits") if fits else t("why.no_fit"),
                   delta_color="green" if fits else "red", delta_arrow="off")
    st.caption(t("why.fits_note"))


def the_course_numbers() -> None:
    """The course's numbers: a 256 × 256 image into an equally wide layer, RGB inputs, small counts."""
    with st.expander(t("why.course_header"), expanded=True):
        weights = params.mlp_weights((256, 256), [256 * 256])
        gb, unit = params.human_bytes(params.memory_bytes(weights))
        st.markdown(t("why.course", n=ui.num(weights), mem=f"{ui.num(gb, 1)} {unit}", rgb=ui.num(params.inputs((256, 256, 3))),
                      small=params.mlp_weights(3, [4]), filt=params.conv_weights(3, 1, 5)))


def real_models() -> None:
    """Real models: the weights of a real network, layer by layer, and their memory."""
    st.subheader(t("why.real_header"))
    from cnnviz import models   # imports torch: only now, below the calculator

    name = st.selectbox(t("why.real_model"), models.available(), key="why.model", format_func=ui.labels("models.name."))
    counts = models.layer_counts(name)
    total = sum(n for _, _, n in counts)
    ui.plot(figures.log_bars({name: [(layer, n) for layer, _, n in counts]}, ytitle=t("why.weights_log")),
            key="why.real_bars")
    v, u = params.human_bytes(params.memory_bytes(total))
    st.caption(t("why.real_total", n=ui.num(total), mem=f"{ui.num(v, 1)} {u}"))


ui.lesson_start(URL)   # title, introduction, goal
shape, n_in = the_image()
hidden, mlp, rows, k = mlp_and_cnn(shape, n_in)
the_counts(shape, hidden, mlp, rows, k)
what_fits(mlp)
the_course_numbers()
real_models()
ui.lesson_end(URL)
