"""Lesson: the receptive field grows with depth (seed 003)."""

import streamlit as st

from cnnviz import course, figures, ui
from cnnviz.maths import images
from cnnviz.analysis import receptive

t = ui.t
URL = course.url("receptive_field")
DEFAULT = [["conv", 3, 1, 1, 1], ["conv", 3, 1, 1, 1], ["pool", 2, 2, 0, 1],
           ["conv", 3, 1, 1, 1], ["conv", 3, 1, 1, 1], ["pool", 2, 2, 0, 1], ["conv", 3, 1, 1, 1]]
# VGG-16's feature extractor: 13 convolutions 3 x 3 (padding 1) in five blocks, each closed by a 2 x 2 pooling
VGG16 = [row for n in (2, 2, 3, 3, 3) for row in [["conv", 3, 1, 1, 1]] * n + [["pool", 2, 2, 0, 1]]]
STACKS = {"course": DEFAULT, "vgg16": VGG16}
COLUMNS = ["kind", "kernel", "stride", "padding", "dilation"]


def field_text(f: receptive.Field) -> str:
    if f.whole:
        return t("rf.whole")
    return t("rf.square" if f.uniform else "rf.at_most", size=ui.num(f.size))


def compose_a_stack():
    """1. Compose a stack: a preset (?rf.stack=vgg16) edited row by row, and how the field and the
    jump grow layer after layer. An incomplete row ends the page with a message.
    -> (the stack as (name, kernel, stride, padding, dilation), the layers' names, the last field)."""
    st.header(t("rf.stack_header"))
    import pandas as pd   # once the page shows something (streamlit loads it only when a table needs it)

    ui.url_seed("rf.stack", "rf.stack", str, lambda v: v in STACKS)   # ?rf.stack=vgg16 (a teacher's preset)
    stack = st.radio(t("links.rf_stack"), list(STACKS), key="rf.stack", horizontal=True,
                     format_func=ui.labels("links.rf_stack_"))
    ui.url_keep("rf.stack", stack, "course")
    table = st.data_editor(
        pd.DataFrame(STACKS[stack], columns=COLUMNS), num_rows="dynamic", key=f"rf.table.{stack}", hide_index=True,
        column_config={
            "kind": st.column_config.SelectboxColumn(t("rf.col_kind"), options=["conv", "pool"], required=True),
            "kernel": st.column_config.NumberColumn(t("rf.col_kernel"), min_value=1, max_value=31, step=1),
            "stride": st.column_config.NumberColumn(t("rf.col_stride"), min_value=1, max_value=8, step=1),
            "padding": st.column_config.NumberColumn(t("rf.col_padding"), min_value=0, max_value=15, step=1),
            "dilation": st.column_config.NumberColumn(t("rf.col_dilation"), min_value=1, max_value=8, step=1),
        })
    problems = [i + 1 for i, row in table.iterrows() if row.isna().any()]
    if problems or table.empty:
        st.error(t("rf.incomplete", rows=", ".join(map(str, problems)) or "–"), icon=":material/warning:")
        st.stop()
    names, counts = [], {"conv": 0, "pool": 0}
    for kind in table["kind"]:
        counts[kind] += 1
        names.append(f"{kind}{counts[kind]}")
    spec = [(n, int(r.kernel), int(r.stride), int(r.padding), int(r.dilation)) for n, r in zip(names, table.itertuples())]
    rows = receptive.stack(spec)
    ui.plot(figures.growth_figure([n for n, _ in rows], [f.size for _, f in rows], [f.jump for _, f in rows],
                                  names=(t("rf.size"), t("rf.jump"))),
            key="rf.growth")
    last = rows[-1][1]
    st.markdown(t("rf.formula", size=last.size, jump=last.jump, n=len(rows)))
    return spec, names, last


def on_an_image(spec, names, last):
    """2. On an image: the stack's output size on a picture, and the pixels one output unit sees.
    -> the picture (None without one)."""
    st.header(t("rf.image_header"))
    left, right = st.columns([2, 3], gap="large")
    with left:
        img = ui.image_picker("rf", default="landscape", camera=False)
    if img is not None:
        small = images.fit(img, 128)
        w, h = small.size
        from cnnviz.base.errors import CnnvizError

        try:
            oh, ow = receptive.stack_output_size(spec, (h, w))
        except CnnvizError as err:
            ui.show_error(err)
        else:
            with left:
                st.caption(t("rf.out_size", h=h, w=w, oh=oh, ow=ow, layer=names[-1]))
                ui.keep_in_range("rf.row", oh - 1)      # a smaller picture than the last one (or a link)
                ui.keep_in_range("rf.col", ow - 1)
                r = st.slider(t("rf.unit_row"), 0, oh - 1, oh // 2, key="rf.row", bind="query-params") if oh > 1 else 0
                c = st.slider(t("rf.unit_col"), 0, ow - 1, ow // 2, key="rf.col", bind="query-params") if ow > 1 else 0
            top, lft, size = last.box(r, c)
            with right:
                ui.image(figures.draw_box(small, (top, lft, size, size), target=420), width="content",
                         caption=t("rf.box_caption", r=r, c=c, layer=names[-1], size=size, top=top, left=lft))
    return img


def real_networks():
    """3. Real networks: the network to look into. Without one, the page ends here."""
    st.header(t("rf.real_header"))
    st.markdown(t("rf.real_explain"))
    loaded = ui.model_picker("model", allow_own=False)
    if loaded is None:
        st.stop()
    return loaded


def real_fields(loaded, img) -> None:
    """Each layer's receptive field in that network, then one unit's: the arithmetic's square next
    to the pixels that really move it (its gradient)."""
    # The network gets a picture of the kind it learned from (issue 10: a landscape photo went through
    # the digits network); a colour network can take the picture of section 2.
    c_in, (h_in, w_in) = loaded.in_channels, loaded.input_size
    pick, seen_col = st.columns([3, 2], gap="large")
    with pick:
        st.markdown(t("rf.real_input_" + ("gray" if c_in == 1 else "rgb"), h=h_in, w=w_in))
        use_yours = c_in == 3 and img is not None and st.toggle(t("rf.real_use_yours"), key="rf.real_yours", bind="query-params")
        picture = img if use_yours else ui.image_picker("rf.real", default="digit" if c_in == 1 else "landscape",
                                                         camera=False, model=loaded)
    if picture is None:
        st.stop()
    x = loaded.preprocess(picture)
    with seen_col:
        ui.image(figures.upscale(loaded.to_image(x), 200), width="content",
                 caption=t("rf.real_seen", h=h_in, w=w_in, c=c_in))
    layer_list = insp.layer_names(loaded.model)
    acts = ui.layer_outputs(loaded, x)
    map_layers = [n for n in layer_list if n in acts and acts[n].ndim == 4]
    pretty = insp.display_names(loaded.model, layer_list)
    fields = receptive.fields(loaded.model, layer_list, (h_in, w_in))   # at the size this network sees

    st.dataframe({t("rf.col_layer"): [pretty[n] for n in layer_list],
                  t("rf.size"): [field_text(fields[n]) for n in layer_list],
                  t("rf.jump"): [t("rf.one_unit") if len(fields[n].rows) * len(fields[n].cols) == 1 else
                                 ui.num(fields[n].jump, 0 if float(fields[n].jump).is_integer() else 1) for n in layer_list]},
                 hide_index=True, height=240)
    notes = [t("rf.whole_note", h=h_in, w=w_in)]
    for a in receptive.adaptive_pools(loaded.model, layer_list, fields):
        notes.append(t(f"rf.adaptive_{a.kind}", layer=pretty[a.layer], nh=a.before[0], nw=a.before[1],
                       mh=a.after[0], mw=a.after[1], k=a.kernel))
    st.caption(" ".join(notes))
    layer = st.selectbox(t("rf.layer"), map_layers, index=len(map_layers) // 2, key=f"rf.layer.{loaded.name}",
                         format_func=lambda n: pretty[n])
    _, _, lh, lw = acts[layer].shape
    u1, u2 = st.columns(2)
    r = u1.slider(t("rf.unit_row"), 0, lh - 1, lh // 2, key=f"rf.real_row.{loaded.name}.{layer}") if lh > 1 else 0
    c = u2.slider(t("rf.unit_col"), 0, lw - 1, lw // 2, key=f"rf.real_col.{loaded.name}.{layer}") if lw > 1 else 0
    grad, (r, c) = receptive.effective_field(loaded.model, x, layer, row=r, col=c)
    field = fields[layer]
    # the arithmetic's square (it may hang over the border); after uneven adaptive windows, the unit's own pixels
    box = (*field.box(r, c)[:2], field.size, field.size) if field.uniform else field.seen(r, c)
    seen = loaded.to_image(x)
    e1, e2 = st.columns(2)
    ui.image(figures.draw_box(seen.convert("RGB"), box, target=320), width="content",
             caption=t("rf.theory_caption", layer=pretty[layer], size=field_text(field)), where=e1)
    heat = grad / grad.max() if grad.max() > 0 else grad
    native = figures.overlay(seen, heat, alpha=0.85, target=max(seen.size))   # one pixel per input pixel
    ui.image(figures.draw_box(native, box, target=320), width="content",
             caption=t("rf.effective_caption", share=ui.num((grad > grad.max() * 0.05).mean() * 100)), where=e2)
    e2.html(figures.legend_html(figures.Scale(0.0, 1.0, False), gray="heat", fmt=ui.number_format(), width=320,
                                label=t("rf.effective_legend")))
    st.caption(t("rf.effective_explain"))


ui.lesson_start(URL)   # title, introduction, goal
spec, names, last = compose_a_stack()
img = on_an_image(spec, names, last)
loaded = real_networks()
import torch  # noqa: E402, F401  (once a network is picked)

from cnnviz.analysis import inspect as insp  # noqa: E402

real_fields(loaded, img)
ui.lesson_end(URL)
