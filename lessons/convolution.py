"""Lesson: slide a kernel across an image, one step at a time (course article, seed 003)."""

import numpy as np
import streamlit as st

from cnnviz import conv, figures, images, kernels, ui
from cnnviz.errors import CnnvizError

t = ui.t
st.title(t("conv.title"))
st.markdown(t("conv.intro"))

# ------------------------------------------------------------------ inputs
col_img, col_kernel = st.columns(2, gap="large")
with col_img:
    st.subheader(t("conv.image_header"))
    img = ui.image_picker("conv", default="mouse")
    c1, c2 = st.columns(2)
    side = c1.selectbox(t("conv.working_size"), [16, 32, 64, 128, 256, 512], index=2, key="conv.side",
                        help=t("conv.working_size_help"))
    depth = c2.radio(t("conv.depth"), ["gray", "rgb"], key="conv.depth", horizontal=True,
                     format_func=ui.labels("conv.depth_"))
with col_kernel:
    st.subheader(t("conv.kernel_header"))
    kernel = ui.kernel_picker("conv")
    k1, k2, k3, k4 = st.columns(4)
    stride = k1.number_input(t("conv.stride"), min_value=0, max_value=16, value=1, key="conv.stride",
                             help=t("conv.stride_help"))
    padding = k2.number_input(t("conv.padding"), min_value=0, max_value=16, value=0, key="conv.padding",
                              help=t("conv.padding_help"))
    dilation = k3.number_input(t("conv.dilation"), min_value=0, max_value=8, value=1, key="conv.dilation",
                               help=t("conv.dilation_help"))
    bias = k4.number_input(t("conv.bias"), value=0.0, step=10.0, key="conv.bias", help=t("conv.bias_help"))
if img is None:
    st.stop()

small = images.fit(img, side)
pixels = images.to_array(small, "rgb" if depth == "rgb" else "gray").astype(np.float64)
x = pixels.transpose(2, 0, 1) if depth == "rgb" else pixels
try:
    result = conv.convolve2d(x, kernel, stride=int(stride), padding=int(padding), dilation=int(dilation),
                             bias=float(bias))
except CnnvizError as err:
    ui.show_error(err)
    st.stop()

# ------------------------------------------------------------------ sizes
c_in, h, w = result.image.shape
kh, kw = kernel.shape
h_out, w_out = result.shape
st.subheader(t("conv.sizes_header"))
st.latex(
    rf"H_{{out}} = \left\lfloor \frac{{H + 2p - d(k-1) - 1}}{{s}} \right\rfloor + 1 = "
    rf"\left\lfloor \frac{{{h} + 2\cdot{padding} - {dilation}\cdot({kh}-1) - 1}}{{{stride}}} \right\rfloor + 1 = {h_out}"
)
if (h, kh) != (w, kw):
    st.latex(rf"W_{{out}} = \left\lfloor \frac{{{w} + 2\cdot{padding} - {dilation}\cdot({kw}-1) - 1}}{{{stride}}}"
             rf" \right\rfloor + 1 = {w_out}")
m1, m2, m3 = st.columns(3)
m1.metric(t("conv.input_shape"), f"{h} × {w} × {c_in}")
m2.metric(t("conv.kernel_shape"), f"{kh} × {kw} × {c_in}", help=t("conv.kernel_depth_help"))
m3.metric(t("conv.output_shape"), f"{h_out} × {w_out} × 1")
st.markdown(t("conv.counts", positions=ui.num(result.positions), products=result.products_per_step,
              kh=kh, kw=kw, c=c_in))
st.code(conv.torch_line(c_in, 1, kh if kh == kw else (kh, kw), int(stride), int(padding), int(dilation)),
        language="python", wrap_lines=True)

# ------------------------------------------------------------------ step by step
st.subheader(t("conv.step_header"))
st.caption(t("conv.step_help"))
n_pos = result.positions
if "conv.t" not in st.session_state:
    # Start where the article starts, on our mouse: its 7x7 receptive field at the tail's tip.
    top, left = images.SAMPLE_FOCUS
    st.session_state["conv.t"] = min(top, h_out - 1) * w_out + min(left, w_out - 1)


playing = st.session_state.get("conv.play", False)
full_map = figures.colorize(result.output)   # coloured once; each step only greys out the rest


@st.fragment(run_every=0.8 if playing else None)
def stepper():
    row_label = t("conv.speed_row")
    idx = ui.step_controls("conv", "conv.t", n_pos, int(np.argmax(result.output)), speeds=sorted({1, 2, 4, 8, w_out}),
                           speed_label=lambda v: row_label if v == w_out and v > 8 else f"×{v}")
    row, col = divmod(idx, w_out)
    step = result.step(row, col)

    view1, view2 = st.columns(2)
    box = result.receptive_box(row, col)
    shown = small if depth == "rgb" else small.convert("L")
    with view1:
        st.image(_with_padding(shown, int(padding), box), caption=t("conv.field_caption", row=row, col=col,
                 top=box[0], left=box[1]), width="content")
    with view2:
        st.image(figures.draw_box(figures.filling_in(full_map, row, col), (row, col, 1, 1), target=340),
                 caption=t("conv.map_so_far", done=idx + 1, total=n_pos), width="content")

    channel = 0
    if c_in == 3:
        channel = st.radio(t("conv.show_channel"), [0, 1, 2], horizontal=True, key="conv.channel",
                           format_func=lambda i: "RGB"[i])
    cell = max(22, min(42, 330 // max(kh, kw)))
    hover = t("numbers.hover")
    top, left = box[0], box[1]
    f1, f2, f3 = st.columns(3)
    f1.html(figures.matrix_html(step.field[channel], scale="gray", vmin=0, vmax=255, cell=cell, hover=hover,
                                title=t("conv.m_field"), row0=top, col0=left))
    f2.html(figures.matrix_html(kernel, cell=cell, title=t("conv.m_kernel"), hover=hover, digits=3))
    f3.html(figures.matrix_html(step.products[channel], cell=cell, title=t("conv.m_products"), hover=hover))
    st.markdown(_sum_text(step, c_in))


def _with_padding(img, pad, box):
    """The image with its zero padding drawn around it, and the receptive field box."""
    from PIL import ImageOps

    if pad:
        img = ImageOps.expand(img, border=pad, fill=0)
    top, left, bh, bw = box
    return figures.draw_box(img, (top + pad, left + pad, bh, bw), target=340)


def _sum_text(step, c_in):
    terms = [(f, k) for f, k in zip(step.field.ravel(), np.tile(kernel.ravel(), c_in)) if f * k != 0]
    shown = " + ".join(f"({figures.fmt(f)}×{figures.fmt(k)})" for f, k in terms[:10])
    if len(terms) > 10:
        shown += " + " + t("conv.more_terms", n=len(terms) - 10)
    lines = [t("conv.sum_line", terms=shown or "0", n=step.products.size, zero=step.products.size - len(terms),
               total=figures.fmt(step.total - step.bias))]
    if c_in == 3:
        r, g, b = (figures.fmt(v) for v in step.channel_sums)
        lines.append(t("conv.channel_sums", r=r, g=g, b=b))
    lines.append(t("conv.bias_relu", bias=figures.fmt(step.bias), total=figures.fmt(step.total),
                   relu=figures.fmt(step.relu)))
    return "\n\n".join(lines)


stepper()

# ------------------------------------------------------------------ the whole map
st.subheader(t("conv.map_header"))
apply_relu = st.toggle(t("conv.apply_relu"), value=False, key="conv.relu")
amap = np.maximum(result.output, 0) if apply_relu else result.output
a1, a2 = st.columns([3, 2])
a1.image(figures.upscale(figures.colorize(amap), 420), caption=t("conv.map_caption", h=h_out, w=w_out),
         width="content")
with a2:
    s1, s2, s3 = st.columns(3)
    s1.metric(t("conv.map_min"), figures.fmt(float(amap.min())))
    s2.metric(t("conv.map_max"), figures.fmt(float(amap.max())))
    s3.metric(t("conv.map_mean"), figures.fmt(float(amap.mean()), 1))
    st.markdown(t("conv.map_explain"))

# ------------------------------------------------------------------ the article's numbers
with st.expander(t("conv.article_header"), expanded=False):
    article = conv.convolve2d(kernels.COURSE_RECEPTIVE_FIELD, kernels.PRESETS["curve_detector"])
    flat = conv.convolve2d(kernels.COURSE_NO_CURVE_FIELD, kernels.PRESETS["curve_detector"])
    n28 = conv.output_size(32, 5)
    st.markdown(t("conv.article_text", n=n28, positions=n28 * n28, products=5 * 5 * 3,
                  value=figures.fmt(article.output[0, 0]), flat=figures.fmt(flat.output[0, 0])))
    a, b, c = st.columns(3)
    a.html(figures.matrix_html(kernels.COURSE_RECEPTIVE_FIELD, scale="gray", vmin=0, vmax=255, cell=32,
                               title=t("conv.article_curve")))
    b.html(figures.matrix_html(kernels.PRESETS["curve_detector"], cell=32, title=t("conv.m_kernel")))
    c.html(figures.matrix_html(kernels.COURSE_NO_CURVE_FIELD, scale="gray", vmin=0, vmax=255, cell=32,
                               title=t("conv.article_no_curve")))
