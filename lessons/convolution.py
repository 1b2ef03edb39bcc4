"""Lesson: slide a kernel across an image, one step at a time (course article, seed 003)."""

from typing import NamedTuple

import numpy as np
import streamlit as st
from PIL import ImageOps

from cnnviz.maths import conv, images, kernels, layers
from cnnviz import course, exercises, figures, ui
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("convolution")


class Choice(NamedTuple):
    """What the learner picked: the picture, its working size and depth, the kernel and how it slides."""
    img: object          # the picture (PIL), None before one is picked
    side: int            # its working size (px, the longer side)
    depth: str           # "gray" or "rgb"
    kernel: np.ndarray   # kh × kw, or channels × kh × kw
    stride: int
    padding: int
    dilation: int
    bias: float


class Convolved(NamedTuple):
    """The picture the kernel slides over, and what it gives: what the sections below the sizes show."""
    small: object        # the picture at its working size (PIL)
    shown: object        # the same, as the lesson shows it (gray unless the depth is RGB)
    lo: float            # the range of its pixels the pictures stretch to black..white
    hi: float            # (a dim picture, such as the course's mouse, is shown stretched)
    result: object       # the convolution (maths.conv.convolve2d)
    about: str           # what the question under the map is about (predict, then reveal)


class Sizes(NamedTuple):
    """px of the step view: three pictures and the card side by side under the controls, the three
    matrices under them; the whole step view fits a 1280 x 800 projector, with or without presentation mode."""
    panel: int           # the whole picture with the box, and the map so far
    zoom: int            # the zoom around the kernel: a 7x7 box readable on a 512 px photo
    map_column: int      # "Mapa até aqui: 2603/3364 · zoom" on one line, over its colour bar
    card: int


SIZES = {False: Sizes(panel=140, zoom=200, map_column=215, card=240),    # key: presentation mode
         True: Sizes(panel=170, zoom=200, map_column=270, card=300)}


def the_inputs() -> Choice:
    """The picture (its working size and depth) beside the kernel (stride, padding, dilation, bias).
    Without a picture, the page ends here."""
    col_img, col_kernel = st.columns(2, gap="large")
    with col_img:
        st.subheader(t("conv.image_header"))
        img = ui.image_picker("conv", default="mouse")
        c1, c2 = st.columns(2)
        side = c1.selectbox(t("conv.working_size"), [16, 32, 64, 128, 256, 512], index=2, key="conv.side",
                            bind="query-params", help=t("conv.working_size_help"))
        ui.url_seed("conv.depth", "conv.depth", str, lambda v: v in ("gray", "rgb"))   # ids in the link, not labels
        depth = c2.radio(t("conv.depth"), ["gray", "rgb"], key="conv.depth", horizontal=True,
                         format_func=ui.labels("conv.depth_"))
        ui.url_keep("conv.depth", depth, "gray")
    with col_kernel:
        st.subheader(t("conv.kernel_header"))
        kernel = ui.kernel_picker("conv")
        k1, k2, k3, k4 = st.columns(4)
        stride = k1.number_input(t("conv.stride"), min_value=0, max_value=16, value=1, key="conv.stride",
                                 bind="query-params", help=t("conv.stride_help"))
        padding = k2.number_input(t("conv.padding"), min_value=0, max_value=16, value=0, key="conv.padding",
                                  bind="query-params", help=t("conv.padding_help"))
        dilation = k3.number_input(t("conv.dilation"), min_value=0, max_value=8, value=1, key="conv.dilation",
                                   bind="query-params", help=t("conv.dilation_help"))
        bias = ui.decimal_input(k4, t("conv.bias"), key="conv.bias", value=0.0, help=t("conv.bias_help"))
    if img is None:
        st.stop()
    return Choice(img, side, depth, kernel, stride, padding, dilation, bias)


def the_convolution(choice: Choice) -> Convolved:
    """The kernel slid over the picture at its working size. Settings it cannot slide with (a
    kernel larger than the padded picture, a stride or dilation of 0, ...) are said in the learner's
    language, and the page ends there."""
    small = images.fit(choice.img, choice.side)
    rgb = choice.depth == "rgb"
    pixels = images.to_array(small, "rgb" if rgb else "gray").astype(np.float64)
    x = pixels.transpose(2, 0, 1) if rgb else pixels
    try:
        result = conv.convolve2d(x, choice.kernel, stride=int(choice.stride), padding=int(choice.padding),
                                 dilation=int(choice.dilation), bias=float(choice.bias))
    except CnnvizError as err:
        ui.show_error(err)
        st.stop()
    lo, hi = figures.display_range(pixels)
    return Convolved(small, small if rgb else small.convert("L"), lo, hi, result,
                     ui.predict_context(result.output, choice.kernel))


def the_sizes(choice: Choice, result) -> None:
    """Sizes: the output size formula with these numbers, the three shapes, how many products, the
    same layer in PyTorch."""
    stride, padding, dilation = choice.stride, choice.padding, choice.dilation
    c_in, h, w = result.image.shape
    kh, kw = choice.kernel.shape
    h_out, w_out = result.shape
    st.subheader(t("conv.sizes_header"))
    st.latex(conv.output_size_tex("H", h, kh, stride, padding, dilation))
    if (h, kh) != (w, kw):
        st.latex(conv.output_size_tex("W", w, kw, stride, padding, dilation, general=False))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("conv.input_shape"), f"{h} × {w} × {c_in}")
    m2.metric(t("conv.kernel_shape"), f"{kh} × {kw} × {c_in}", help=t("conv.kernel_depth_help"))
    m3.metric(t("conv.output_shape"), f"{h_out} × {w_out} × 1")
    st.markdown(t("conv.counts", positions=ui.num(result.positions), products=result.products_per_step,
                  kh=kh, kw=kw, c=c_in))
    st.code(conv.torch_line(c_in, 1, kh if kh == kw else (kh, kw), int(stride), int(padding), int(dilation)),
            language="python", wrap_lines=True)


def sum_line(step, kernel, c_in: int, presenting: bool) -> str:
    """The sum of one step written out: its first non-zero products, then how many more."""
    terms = [(f, k) for f, k in zip(step.field.ravel(), np.tile(kernel.ravel(), 1 if kernel.ndim == 3 else c_in))
             if f * k != 0]
    first = 4 if presenting else 8      # larger type: fewer terms, so the line stays on the screen
    shown = " + ".join(f"({figures.fmt(f)}×{figures.fmt(k)})" for f, k in terms[:first])
    if len(terms) > first:
        shown += " + " + t("conv.more_terms", n=len(terms) - first)
    return t("conv.sum_line", terms=shown or "0", n=step.products.size, zero=step.products.size - len(terms),
             total=figures.fmt(step.total - step.bias))


def step_card(step, c_in: int, title: str) -> str:
    """The card beside the pictures: the sum of the products (per channel on an RGB picture), the
    bias, the total and the ReLU."""
    rows = []
    if c_in == 3:   # the three channels' sums on one line: the card stays on the projector's screen
        r, g, b = (figures.fmt(v) for v in step.channel_sums)
        rows.append((t("conv.card_channels", r=r, g=g, b=b), ""))
    rows += [(t("conv.card_sum", n=step.products.size), figures.fmt(step.total - step.bias)),
             (t("conv.card_bias"), figures.fmt(step.bias)), (t("conv.card_total"), figures.fmt(step.total)),
             (t("conv.card_relu"), figures.fmt(step.relu))]
    return figures.steps_card(rows, title=title)


def step_by_step(choice: Choice, done: Convolved) -> None:
    """Step by step: the kernel at one position (Play moves it) on the picture, zoomed, and on the map
    so far; the window × kernel = products, their sum, the bias and the ReLU. While the question under
    the map is open, where the kernel is stays hidden."""
    kernel, padding, result, hi = choice.kernel, choice.padding, done.result, done.hi
    c_in = result.image.shape[0]
    kh, kw = kernel.shape
    h_out, w_out = result.shape
    st.subheader(t("conv.step_header"))
    st.caption(t("conv.step_help") + (" " + t("figures.stretched", hi=figures.fmt(hi)) if hi < 255 else ""))
    n_pos = result.positions
    if "conv.t" not in st.session_state:
        # Start where the article starts, on our mouse: its 7x7 receptive field at the tail's tip.
        top, left = images.SAMPLE_FOCUS
        st.session_state["conv.t"] = min(top, h_out - 1) * w_out + min(left, w_out - 1)

    ticking = ui.playing("conv")
    asking = ui.predict_state("conv", done.about)[0] == "ask"
    full_map = figures.colorize(result.output)   # coloured once; each step only greys out the rest
    full_scale = figures.map_scale(result.output)
    padded = ImageOps.expand(figures.stretched(done.shown, hi), border=int(padding), fill=0)
    presenting = ui.presenting()
    px = SIZES[presenting]

    @st.fragment(run_every=ui.PLAY_TICK if ticking else None)
    def stepper():
        row_label = t("conv.speed_row")
        idx = ui.step_controls("conv", "conv.t", n_pos, int(np.argmax(result.output)), ticking=ticking,
                               speeds=sorted({1, 2, 4, 8, w_out}),
                               speed_label=lambda v: row_label if v == w_out and v > 8 else f"×{v}",
                               # the strongest answer is the question's answer: pressing it skips the guess
                               on_strongest=(lambda: ui.predict_skip("conv")) if asking else None,
                               strongest_help=t("exercises.predict.conv_strongest_help") if asking else None,
                               # while the question is open, where the kernel is stays hidden: no position
                               show_position=not asking, compact=presenting)
        row, col = divmod(idx, w_out)
        step = result.step(row, col)
        top, left, bh, bw = result.receptive_box(row, col)
        pad = int(padding)
        box = (top + pad, left + pad, bh, bw)            # in the padded picture
        window = figures.neighbourhood((padded.size[1], padded.size[0]), box, side=max(21, 3 * max(bh, bw)))

        # 1. where the kernel is: the whole picture, the zoom around it, the map so far around it; the card
        if asking:      # predict, then reveal: the opening view (the tail, 6600) would answer the question
            where, v4 = st.columns([px.panel + px.zoom + px.map_column, px.card], gap="xsmall")
            where.info(t("conv.where_hidden"), icon=":material/visibility_off:")
            if where.button(t("conv.show_where"), key="conv.predict.skip_step", icon=":material/visibility:",
                            help=t("exercises.predict.skip_help")):
                ui.predict_skip("conv")
                st.rerun()          # the map below is outside this fragment
        else:
            v1, v2, v3, v4 = st.columns([px.panel, px.zoom, px.map_column, px.card], gap="xsmall")
            ui.image(figures.locate(padded, box, target=2 * px.panel, zoom=window), width=px.panel,
                     caption=t("conv.where_caption", top=top, bottom=top + bh - 1, left=left, right=left + bw - 1),
                     where=v1)
            ui.image(figures.zoomed(padded, window, box, target=2 * px.zoom), width=px.zoom,
                     caption=t("conv.zoom_caption", r0=window[0] - pad, r1=window[0] + window[2] - 1 - pad,
                               c0=window[1] - pad, c1=window[1] + window[3] - 1 - pad), where=v2)
            mwin = figures.neighbourhood((h_out, w_out), (row, col, 1, 1), side=21 if max(h_out, w_out) > 48 else 10**6)
            ui.image(figures.zoomed(figures.filling_in(full_map, row, col), mwin, (row, col, 1, 1),
                                    target=2 * px.panel), width=px.panel, where=v3)
            # its caption over its colour bar (the map's numbers), as wide as the column, not the picture
            v3.html(figures.legend_html(full_scale, fmt=ui.number_format(), width=px.map_column,
                                        caption=t("conv.map_so_far", done=ui.num(idx + 1), total=ui.num(n_pos))
                                        + ("" if mwin[2:] == (h_out, w_out) else " · " + t("conv.map_zoomed"))))

        # 2. the arithmetic: window x kernel = products -> sum, + bias, ReLU
        channel, of_channel = 0, ""
        if c_in == 3:   # which channel the matrices show: just above them, under the picture
            channel = (where if asking else v1).segmented_control(
                t("conv.show_channel"), [0, 1, 2], default=0, required=True, key="conv.channel",
                bind="query-params", format_func=lambda i: "RGB"[i], label_visibility="collapsed",
                help=t("conv.show_channel"))
            of_channel = " · " + "RGB"[channel]
        cell = max(16, min(34, 180 // max(kh, kw)))
        hover = t("figures.hover") if not asking else t("conv.hover_window")   # image rows, or the window's own
        at = (top, left) if not asking else (0, 0)
        matrices = [
            figures.matrix_html(step.field[channel], scale="gray", vmin=done.lo, vmax=hi, cell=cell, hover=hover,
                                title=t("conv.m_field") + of_channel, row0=at[0], col0=at[1]),
            figures.matrix_html(kernel[channel] if kernel.ndim == 3 else kernel, cell=cell,
                                title="× " + t("conv.m_kernel") + of_channel, hover=hover, digits=3),
            figures.matrix_html(step.products[channel], cell=cell, title="= " + t("conv.m_products") + of_channel,
                                hover=hover)]
        # one row that wraps: three 7 x 7 matrices of 20 px digits don't always fit side by side
        st.html('<div class="cnnviz-step-matrices" style="display:flex;flex-wrap:wrap;gap:0 28px;'
                'align-items:flex-start">' + "".join(f"<div>{m}</div>" for m in matrices) + "</div>")
        v4.html(step_card(step, c_in, t("conv.card_title", row=row, col=col) if not asking
                          else t("conv.card_title_hidden")))
        st.markdown(sum_line(step, kernel, c_in, presenting))

    stepper()


def centre(result, p):
    """The centre of map position ``p``'s receptive field, in image pixels."""
    top, left, bh, bw = result.receptive_box(*p)
    return top + (bh - 1) / 2, left + (bw - 1) / 2


def the_whole_map(choice: Choice, done: Convolved) -> None:
    """The whole map: predict, then reveal. The learner clicks where the kernel will fire most before
    the map is drawn; then the map (with or without a ReLU), the guess scored and marked, and the
    map's smallest, largest and mean value."""
    kernel, result, shown, hi, about = choice.kernel, done.result, done.shown, done.hi, done.about
    h, w = result.image.shape[1:]
    kh, kw = kernel.shape
    h_out, w_out = result.shape
    st.subheader(t("conv.map_header"))
    state, guess = ui.predict_state("conv", about)
    if state == "ask":
        st.markdown(t("exercises.predict.conv_ask"))
        q1, q2 = st.columns([3, 2])
        with q1:
            click = ui.click_on(figures.stretched(shown, hi), width=round(420 * w / max(h, w)),
                                key=f"conv.predict.click.{st.session_state.get('conv.predict.round', 0)}.{about}")
        with q2:                       # the kernel to think with: which pattern does it look for?
            st.html(figures.matrix_html(kernel if kernel.ndim == 2 else kernel[0], title=t("conv.m_kernel"),
                                        cell=max(16, min(34, 180 // max(kh, kw))), digits=3))
            ui.predict_buttons("conv", state)
        if click is not None:
            ui.predict_set("conv", about, click)
            st.rerun()
        return
    if state == "guessed":
        scored = exercises.click_score(result.output, guess, result)
        (st.success if scored.close else st.warning)(exercises.explain_click(scored, ui.lang()),
                                                     icon=":material/ads_click:")
    apply_relu = st.toggle(t("conv.apply_relu"), value=False, key="conv.relu", bind="query-params")
    amap = layers.relu(result.output) if apply_relu else result.output
    scale = figures.map_scale(amap)
    a1, a2 = st.columns([3, 2])
    caption = t("conv.map_caption", h=h_out, w=w_out)
    if state == "guessed":        # the strongest answer nearest the click, on the map and on the picture
        peak = min(np.argwhere(result.output == scored.value),
                   key=lambda p: np.hypot(*np.subtract(centre(result, p), scored.best)))
        ui.image(ui.mark_guess(figures.colorize(amap), 420, best=tuple(peak)), caption=caption, width="content", where=a1)
        ui.image(ui.mark_guess(figures.stretched(shown, hi), 240, click=guess, best=scored.best,
                               box=result.receptive_box(*peak)),
                 caption=t("exercises.predict.conv_marked"), width="content", where=a2)
    else:
        ui.image(figures.upscale(figures.colorize(amap), 420), caption=caption, width="content", where=a1)
    a1.html(figures.legend_html(scale, fmt=ui.number_format(), width=420,
                                label=t("conv.legend_signed" if scale.diverging else "conv.legend_positive")))
    with a2:
        s1, s2 = st.columns(2)                     # two a row: "1.377,8" must not be cut off
        s1.metric(t("conv.map_min"), figures.fmt(float(amap.min())))
        s2.metric(t("conv.map_max"), figures.fmt(float(amap.max())))
        s1.metric(t("conv.map_mean"), figures.fmt(float(amap.mean()), 1))
        st.markdown(t("conv.map_explain_signed" if scale.diverging else "conv.map_explain"))
        ui.predict_buttons("conv", state)


def the_article() -> None:
    """The article's numbers, when opened: its curve detector on a curve and on no curve."""
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


ui.lesson_start(URL)   # title, introduction, goal
choice = the_inputs()
done = the_convolution(choice)
the_sizes(choice, done.result)
step_by_step(choice, done)
the_whole_map(choice, done)
the_article()
ui.lesson_end(URL)
