"""The kernel picker: presets by name, a drawn kernel, a typed table of weights."""

from __future__ import annotations


import numpy as np
import streamlit as st

from cnnviz.maths import kernels
from cnnviz.base.errors import CnnvizError
from .language import labels, show_error, t
from .links import decode_kernel, encode_kernel, link_opened, url_keep, url_seed



# ---------------------------------------------------------------- kernels
def _set_kernel(key: str, kernel: np.ndarray) -> None:
    st.session_state[f"{key}.kernel"] = np.asarray(kernel, dtype=np.float64)
    st.session_state[f"{key}.ver"] = st.session_state.get(f"{key}.ver", 0) + 1


def _grid_image(size: int, px: int):
    """Canvas background: a light grid with one square per kernel cell."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (px, px), "white")
    d = ImageDraw.Draw(img)
    for i in range(1, size):
        p = round(i * px / size)
        d.line((p, 0, p, px), fill=(205, 205, 205))
        d.line((0, p, px, p), fill=(205, 205, 205))
    return img


def kernel_picker(key: str, *, default: str = "curve_detector") -> np.ndarray:
    """Presets, a drawing canvas, or typed numbers -> the current kernel (k x k floats)."""
    if f"{key}.kernel" not in st.session_state:
        _set_kernel(key, kernels.make(default))
        st.session_state[f"{key}.preset"] = default
        st.session_state[f"{key}.origin"] = _preset_id(default)
    if url_seed(f"{key}.k", f"{key}.kernel", decode_kernel):   # a link's own kernel: ?conv.k=0,1,0;1,-4,1;0,1,0
        _set_kernel(key, st.session_state[f"{key}.kernel"])
        _custom_kernel(key, st.session_state[f"{key}.kernel"])
    elif link_opened() and f"{key}.k" not in st.query_params and st.session_state[f"{key}.origin"] == "custom":
        st.session_state[f"{key}.origin"] = None           # a link without one: its preset, not the last drawing
    # Only the open tab runs: the drawing canvas (a custom component) answers once when it is
    # mounted, which would run the whole page a second time on every visit.
    tab_preset, tab_draw, tab_numbers = st.tabs([t("kernels.tab_preset"), t("kernels.tab_draw"),
                                                 t("kernels.tab_numbers")], key=f"{key}.tab", on_change="rerun")
    if tab_preset.open:
        with tab_preset:
            _kernel_presets(key)
    if tab_draw.open:
        with tab_draw:
            _kernel_canvas(key)
    if tab_numbers.open:
        with tab_numbers:
            _kernel_table(key)
    return st.session_state[f"{key}.kernel"]


def _preset_id(name: str, size=None):
    """(preset, size) of a preset kernel: what the link says (``{key}.preset``, ``{key}.preset_size``)."""
    return (name, (size or kernels.natural_size(name)) if kernels.resizable(name) else None)


def _custom_kernel(key: str, kernel: np.ndarray) -> None:
    """A kernel drawn, typed or pasted: its numbers go in the link (``{key}.k``)."""
    st.session_state[f"{key}.origin"] = "custom"
    url_keep(f"{key}.k", encode_kernel(kernel), None)


def _kernel_presets(key: str) -> None:
    def on_preset():
        name = st.session_state[f"{key}.preset"]
        _set_kernel(key, kernels.make(name, st.session_state.get(f"{key}.preset_size")
                                      if kernels.resizable(name) else None))
        st.session_state[f"{key}.origin"] = _preset_id(name, st.session_state.get(f"{key}.preset_size"))
        url_keep(f"{key}.k", None, None)
    # persist_state: the preset is still named when the learner comes back from the other tabs
    # the preset's name (not its label, which changes with the language) is in the link
    url_seed(f"{key}.preset", f"{key}.preset", str, lambda v: v in kernels.PRESET_NAMES)
    name = st.selectbox(t("kernels.preset"), kernels.PRESET_NAMES, key=f"{key}.preset", persist_state="session",
                        format_func=labels("kernels.presets."), on_change=on_preset)
    url_keep(f"{key}.preset", name, "curve_detector")
    size = None
    if kernels.resizable(name):
        size = st.select_slider(t("kernels.size"), kernels.SIZES, value=kernels.natural_size(name),
                                key=f"{key}.preset_size", on_change=on_preset, persist_state="session",
                                bind="query-params")
    if st.session_state.get(f"{key}.origin") not in ("custom", _preset_id(name, size)):
        _set_kernel(key, kernels.make(name, size))    # a preset named by a link
        st.session_state[f"{key}.origin"] = _preset_id(name, size)
    st.caption(t(f"kernels.about.{name}"))


def _kernel_canvas(key: str) -> None:
    from streamlit_drawable_canvas import st_canvas  # a custom component: only load it when shown

    c1, c2, c3 = st.columns(3)
    size = c1.selectbox(t("kernels.size"), kernels.SIZES, index=2, key=f"{key}.draw_size")
    weight = c2.number_input(t("kernels.ink_weight"), min_value=0.1, max_value=1000.0, value=30.0,
                             step=1.0, key=f"{key}.ink", help=t("kernels.ink_help"))
    pen = c3.radio(t("kernels.pen"), ["positive", "negative", "eraser"], key=f"{key}.pen",
                   format_func=labels("kernels.pen_"))
    color = {"positive": "#000000", "negative": "#e00000", "eraser": "#ffffff"}[pen]
    px = 280
    st.caption(t("kernels.draw_help"))  # (also keeps the canvas toolbar clear of the pen choice)
    result = st_canvas(stroke_width=max(6, px // size - 4), stroke_color=color, background_color="#ffffff",
                       background_image=_grid_image(size, px), height=px, width=px,
                       drawing_mode="freedraw", return_image_data=True, key=f"{key}.canvas.{size}")
    drawn = getattr(result, "image_data", None) if result is not None else None
    if st.button(t("kernels.use_drawing"), key=f"{key}.use_drawing", type="primary"):
        if drawn is None or not np.any(drawn[..., 3]):
            st.warning(t("kernels.nothing_drawn"))
        else:
            _set_kernel(key, kernels.rasterize(drawn, size, weight))
            _custom_kernel(key, st.session_state[f"{key}.kernel"])
            st.rerun()


def _kernel_table(key: str) -> None:
    import pandas as pd

    kernel = st.session_state[f"{key}.kernel"]
    from ..figures import fmt

    frame = pd.DataFrame([[fmt(v, 3) for v in row] for row in kernel],
                         columns=[str(j + 1) for j in range(kernel.shape[1])], dtype="string")
    st.caption(t("kernels.table_help"))
    edited = st.data_editor(frame, key=f"{key}.table.{st.session_state[f'{key}.ver']}",
                            hide_index=True, num_rows="fixed",
                            column_config={c: st.column_config.TextColumn(c, width=48) for c in frame.columns})
    try:
        parsed = kernels.parse(edited.astype(object).where(edited.notna(), None).values.tolist())
    except CnnvizError as e:
        show_error(e)
        st.caption(t("kernels.kept_last"))
    else:
        if parsed.shape != kernel.shape or not np.array_equal(parsed, kernel):
            st.session_state[f"{key}.kernel"] = parsed  # keep the editor's key: the learner is typing
            _custom_kernel(key, parsed)
            st.rerun()

    def on_paste():
        try:
            _set_kernel(key, kernels.parse_text(st.session_state[f"{key}.paste"]))
            _custom_kernel(key, st.session_state[f"{key}.kernel"])
            st.session_state[f"{key}.paste_error"] = None
        except CnnvizError as e:
            st.session_state[f"{key}.paste_error"] = e

    with st.expander(t("kernels.paste_title")):
        st.text_area(t("kernels.paste"), key=f"{key}.paste", on_change=on_paste, height=160,
                     placeholder="0 0 0 0 0 30 0\n0 0 0 0 30 0 0\n...", help=t("kernels.paste_help"))
        if st.session_state.get(f"{key}.paste_error"):
            show_error(st.session_state[f"{key}.paste_error"])
            st.caption(t("kernels.kept_last"))
