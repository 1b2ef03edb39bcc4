"""Lesson: inside a trained CNN, layer by layer (seeds 000 and 003)."""

from typing import NamedTuple

import streamlit as st

from cnnviz import course, figures, ui

t = ui.t
URL = course.url("inside_a_cnn")


class Seen(NamedTuple):
    """One picture through the network: what the sections below it show."""
    x: object            # the picture as the network takes it
    acts: dict           # layer name -> its output ("output": the scores)
    logits: object
    soft: object         # the softmax of the scores (maths.layers.softmax)
    labels: list         # the classes in the learner's language
    about: str           # what the learner's guess of section 6 is about (guess_about)
    best: int            # the network's answer


class Architecture(NamedTuple):
    """The network's layers, as the sections below the drawing read them."""
    names: list          # the layers with an output, in order
    pretty: dict         # name -> its name on screen
    fields: dict         # name -> its receptive field at this input size
    modules: dict        # name -> the torch module
    shapes: dict         # name -> its output's shape (without the batch)
    map_layers: list     # the layers whose output is maps (channels × height × width)


def legend(where, scale, label_key: str, width: int = 320) -> None:
    """The colour bar with numbers of a map or grid, right under it."""
    where.html(figures.legend_html(scale, fmt=ui.number_format(), label=t(label_key), width=width))


def guess_about(loaded, pic) -> str:
    """What the learner's guess of section 6 is about: this network and this picture."""
    return ui.predict_context(loaded.source, loaded.name, loaded.preprocess(pic).numpy())


def the_network():
    """The network first, in the page (not below the sidebar's fold): the class sees which one it is.
    Without one, the page ends here."""
    loaded = ui.model_picker("model")
    if loaded is None:
        st.stop()
    return loaded


def the_input(loaded) -> Seen:
    """1. Input: a drawn digit or a picture, what the network sees, and its answer (once guessed).
    Without a picture, the page ends here (the self-check still ends it)."""
    c_in, (h_in, w_in) = loaded.in_channels, loaded.input_size
    is_digits = loaded.preprocessing == "digits"   # drawn digits are what it knows
    st.header(t("inside.input_header"))
    col_in, col_seen, col_pred = st.columns([5, 3, 4], gap="large")
    with col_in:
        img = None
        if is_digits and st.toggle(t("inside.draw_digit"), value=True, key="inside.draw", bind="query-params"):
            img = ui.digit_canvas("inside.canvas")
            if img is None:
                st.info(t("inside.draw_hint"), icon=":material/draw:")
        else:   # a test picture's true class waits with the network's answer (issue 17)
            img = ui.image_picker("inside", default="digit" if c_in == 1 else "landscape", model=loaded,
                                  class_hidden=lambda pic: ui.predict_state("inside", guess_about(loaded, pic))[0] == "ask")
    if img is None:
        ui.lesson_end(URL)   # nothing drawn yet: the self-check still ends the page
        st.stop()

    x = loaded.preprocess(img)
    acts = ui.layer_outputs(loaded, x)
    logits = acts["output"][0]
    soft = nnl.softmax(logits.numpy())
    probs = soft.probs
    labels = loaded.class_labels(ui.lang())
    with col_seen:
        ui.image(figures.upscale(loaded.to_image(x), 220),
                 caption=t("inside.network_sees", h=h_in, w=w_in, c=c_in), width="content")
    about = guess_about(loaded, img)   # the guess of section 6 is about this
    best = int(probs.argmax())
    with col_pred:
        if ui.predict_state("inside", about)[0] == "ask":    # the answer waits for the learner's guess
            st.info(t("exercises.predict.inside_hidden"), icon=":material/help:")
            ui.predict_buttons("inside", "ask", key_suffix="_top")
        else:
            st.metric(t("inside.prediction"), labels[best], f"{ui.num(probs[best] * 100, 1)} %", delta_color="off",
                      delta_arrow="off")
            ui.confidence_note(logits, labels, loaded=loaded, x=x)
        st.caption(t("inside.preprocess_" + ("digits" if is_digits else "gray" if c_in == 1 else "rgb"),
                     h=h_in, w=w_in))
    return Seen(x, acts, logits, soft, labels, about, best)


def the_architecture(loaded, acts) -> tuple[Architecture, str]:
    """2. Architecture: the network drawn block by block, the layer to look at (?inside.layer=),
    and the table of every layer when opened. -> (the layers, the layer picked)."""
    model = loaded.model
    c_in, (h_in, w_in) = loaded.in_channels, loaded.input_size
    st.header(t("inside.arch_header"))
    names = [n for n in acts if n != "output"]
    pretty = insp.display_names(model, names)
    fields = receptive.fields(model, names, (h_in, w_in))   # adaptive poolings as they are at this size (issue 17)
    modules = dict(model.named_modules())
    params = {n: cnnparams.count(modules[n]) for n in names}
    shapes = {n: tuple(acts[n].shape[1:]) for n in names}
    map_layers = [n for n in names if len(shapes[n]) == 3]
    block_of = insp.blocks(model, names)
    ui.url_seed("inside.layer", "inside.layer", str, lambda v: v in map_layers)   # ?inside.layer=conv2
    layer = st.session_state.get("inside.layer")
    if layer not in map_layers:
        layer = map_layers[0]
    block_weights = {}
    for n in names:                                   # a block's weights: its conv's + its batch norm's
        block_weights[block_of[n]] = block_weights.get(block_of[n], 0) + params[n]
    drawn = [{"name": "input", "label": t("inside.input"), "shape": (c_in, h_in, w_in), "caption": ""}]
    for i, n in enumerate(names):
        first = i == 0 or block_of[names[i - 1]] != block_of[n]
        total = block_weights[block_of[n]] if first else 0
        drawn.append({"name": n, "label": pretty[n], "shape": shapes[n], "group": block_of[n],
                      "caption": t("inside.n_weights", n=ui.num(total)) if total else ""})
    st.markdown(figures.architecture_svg(drawn, selected=layer), unsafe_allow_html=True)
    st.caption(t("inside.arch_caption"))
    layer = st.pills(t("inside.pick_layer"), map_layers, default=layer, key="inside.layer",
                     format_func=lambda n: pretty[n]) or layer
    ui.url_keep("inside.layer", layer, map_layers[0])
    table = st.expander(t("inside.table_title"), key="inside.table", on_change="rerun")   # built when opened
    if table.open:
        table.dataframe({
            t("inside.col_layer"): [pretty[n] for n in names],
            t("inside.col_kind"): [type(modules[n]).__name__ for n in names],
            t("inside.col_shape"): [" × ".join(map(str, shapes[n][1:] + shapes[n][:1] if len(shapes[n]) == 3
                                                   else shapes[n])) for n in names],
            t("inside.col_params"): [ui.num(params[n]) for n in names],
            t("inside.col_rf"): [t("inside.rf_all") if fields[n].whole else f"{fields[n].size} × {fields[n].size}"
                                 for n in names],
        }, hide_index=True)
        table.caption(t("inside.total_params", n=ui.num(loaded.num_params)))
    return Architecture(names, pretty, fields, modules, shapes, map_layers), layer


def the_layer(loaded, acts, arch: Architecture, layer: str) -> int:
    """3. The selected layer: its maps (sorted, as many as asked), one channel up close with the
    filter that made it, and what a ReLU, pooling or batch norm changed. -> the channel picked."""
    names, pretty, modules, shapes = arch.names, arch.pretty, arch.modules, arch.shapes
    number = ui.number_format()
    maps_t = acts[layer][0]
    maps = insp.to_numpy_maps(maps_t)
    n_ch, mh, mw = maps.shape
    field = arch.fields[layer]
    st.header(t("inside.layer_header", layer=pretty[layer], c=n_ch, h=mh, w=mw))
    kind = type(modules[layer]).__name__
    st.markdown(t("inside.layer_explain", rf=field.size, kind=kind))
    s1, s2, s3 = st.columns([2, 2, 3])
    ui.url_seed("inside.sort", "inside.sort", str, lambda v: v in ("max", "mean", "index"))
    order_by = s1.radio(t("inside.sort"), ["max", "mean", "index"], horizontal=True, key="inside.sort",
                        format_func=ui.labels("inside.sort_"))
    limit = s2.select_slider(t("inside.show_n"), sorted({min(8, n_ch), min(16, n_ch), min(32, n_ch), min(64, n_ch), n_ch}),
                             value=min(16, n_ch), key=f"inside.limit.{n_ch}")
    ui.url_keep("inside.sort", order_by, "max")
    order = list(range(n_ch)) if order_by == "index" else insp.rank_channels(maps_t, order_by)
    shown = order[:limit]
    grid_scale = figures.map_scale(maps[shown])            # one scale for the grid, and its legend
    big = len(shown) <= 16                                   # projector-sized tiles (168 px) up to 16 maps
    ui.image(figures.map_grid(maps, order=shown, cols=4 if big else 8, cell=168 if big else 96, scale=grid_scale),
             width="content")
    legend(st, grid_scale, "inside.legend_grid", width=420)
    st.caption(t("inside.grid_caption_" + ("signed" if grid_scale.diverging else "positive"), n=len(shown), total=n_ch))

    channel_label = ui.message("inside.channel_label")
    ui.url_seed("inside.channel", f"inside.channel.{layer}", int, lambda c: 0 <= c < n_ch)   # ?inside.channel=12
    channel = s3.selectbox(t("inside.channel"), order, key=f"inside.channel.{layer}",
                           format_func=lambda c: channel_label(c=c, v=number(maps[c].max(), 2)))
    ui.url_keep("inside.channel", channel, order[0])
    one, flt = st.columns([3, 2], gap="large")
    with one:
        one_scale = figures.map_scale(maps[channel])
        ui.plot(figures.heatmap(maps[channel], hover=t("inside.hover_value"), scale=one_scale), key="inside.onemap")
        st.caption(t("inside.one_caption_" + ("signed" if one_scale.diverging else "positive"), c=channel, h=mh, w=mw,
                     lo=ui.num(maps[channel].min(), 2), hi=ui.num(maps[channel].max(), 2)))
    with flt:
        is_block = any(True for _ in modules[layer].children())
        conv_name = None if is_block else insp.feeding_conv(loaded.model, layer)
        weight = insp.conv_weight(loaded.model, conv_name) if conv_name else None
        if weight is not None and weight.shape[0] == n_ch:
            ui.show_filters(weight, channel, pretty.get(conv_name, conv_name))
        else:
            st.caption(t("inside.no_filter_block"))
        before = names[names.index(layer) - 1] if names.index(layer) > 0 else None
        if before and kind in ("ReLU", "MaxPool2d", "AvgPool2d", "BatchNorm2d") and len(shapes[before]) == 3:
            prev = insp.to_numpy_maps(acts[before][0])
            if prev.shape[0] == n_ch:
                st.markdown(t(f"inside.changed_{'relu' if kind == 'ReLU' else 'pool' if 'Pool' in kind else 'bn'}",
                              before=pretty[before], zeroed=ui.num((prev[channel] < 0).mean() * 100),
                              h0=prev.shape[1], w0=prev.shape[2], h=mh, w=mw))
                lo, hi = float(min(prev[channel].min(), maps[channel].min())), float(max(prev[channel].max(),
                                                                                          maps[channel].max()))
                pair = figures.map_scale([lo, hi])                 # the same colour scale for both
                b1, b2 = st.columns(2)
                for col, m in ((b1, prev[channel]), (b2, maps[channel])):
                    ui.image(figures.upscale(figures.colorize(m, scale=pair), 168), width="content", where=col)
                legend(st, pair, "inside.legend_pair")
                st.caption(t("inside.before_after", before=pretty[before], after=pretty[layer]))
    return channel


def the_top_images(loaded, arch: Architecture, layer: str, channel: int) -> None:
    """4. Top images: the test pictures that excite the channel most (bundled networks only)."""
    if loaded.source == "bundled":
        st.subheader(t("inside.top_header", c=channel, layer=arch.pretty[layer]))
        top = ui.top_images(loaded.name, layer)
        if top is not None:
            dataset_x, found = top
            ui.show_top_images(loaded, dataset_x, found, channel, arch.fields[layer])


def the_feature_pictures(loaded, arch: Architecture, layer: str, channel: int) -> None:
    """4b. Feature visualization: the picture each channel wants most, optimized from noise (on a
    click, once for the class). Bundled networks: the whole layer, guessed first; others: one
    channel at a time."""
    st.subheader(t("inside.fv_header", c=channel, layer=arch.pretty[layer]))
    st.markdown(t("inside.fv_explain"))
    if loaded.source == "bundled":
        ui.feature_grid(loaded, layer, arch.pretty[layer], channel, arch.shapes[layer][0],
                        ui.kept_top_images(loaded.name, layer), arch.fields[layer])
    else:
        ui.one_channel(loaded, layer, arch.pretty[layer], channel)


def the_hierarchy(acts, arch: Architecture) -> None:
    """5. Hierarchy: the four most active maps at the end of each stage, fields growing with depth."""
    pretty, fields = arch.pretty, arch.fields
    st.header(t("inside.hier_header"))
    st.markdown(t("inside.hier_explain"))
    stages = insp.stages({n: arch.shapes[n] for n in arch.map_layers})
    for stage in stages:
        sm = insp.to_numpy_maps(acts[stage][0])
        top4 = insp.rank_channels(acts[stage][0], "mean")[:4]
        stage_scale = figures.map_scale(sm[top4])
        head, key_col = st.columns([1, 1], vertical_alignment="bottom")
        head.markdown(f"**{pretty[stage]}** · {t('inside.stage_rf', rf=fields[stage].size)} · "
                      f"{sm.shape[1]} × {sm.shape[2]} × {sm.shape[0]}")
        legend(key_col, stage_scale, "inside.legend_stage")
        ui.image(figures.map_grid(sm, order=top4, cols=4, cell=168, scale=stage_scale), width="content")
    st.caption(t("inside.hier_caption"))


def guess_the_class(seen: Seen) -> str:
    """Predict, then reveal: the learner picks the class the network will say before the softmax
    is shown; then whether it was right. The state: "ask" (softmax hidden), "guessed", "skipped"."""
    labels, about, best, probs = seen.labels, seen.about, seen.best, seen.soft.probs
    state, guess = ui.predict_state("inside", about)   # (``best``: the answer section 1 computed)
    if state == "ask":
        ui.predict_choice("inside", about, labels, ask=t("exercises.predict.inside_ask"),
                          pick=t("exercises.predict.inside_pick"), reveal=t("exercises.predict.inside_reveal"))
        return state
    if state == "guessed":
        said = {"c": labels[best], "p": ui.num(probs[best] * 100, 1)}
        if guess == best:
            st.success(t("exercises.predict.inside_right", **said), icon=":material/ads_click:")
        else:
            st.warning(t("exercises.predict.inside_wrong", g=labels[guess], pg=ui.num(probs[guess] * 100, 1), **said),
                       icon=":material/ads_click:")
    return state


def softmax_section(seen: Seen, state: str):
    labels, probs = seen.labels, seen.soft.probs
    k = min(5, len(labels))
    top_i = seen.soft.top(k)
    o1, o2 = st.columns([3, 2], gap="large")
    with o1:
        ui.plot(figures.probability_bars([labels[i] for i in top_i], [float(probs[i]) for i in top_i]),
                key="inside.bars")
    with o2:
        st.markdown(t("inside.softmax_explain"))
        ui.predict_buttons("inside", state)
    softmax_formula(seen)


def softmax_formula(seen: Seen):
    labels = seen.labels
    terms = nnl.softmax_terms(seen.logits.tolist(), show=4)
    name0 = figures.latex_text(labels[terms.target][:18])
    others = t("inside.softmax_others", k=len(terms.rest))
    sym = [rf"e^{{{figures.fmt_tex(z, 2)}}}" for z in terms.logits] + ([rf"\text{{{others}}}"] if terms.rest else [])
    sig = figures.significant_tex             # 3 significant digits: e^19 and e^-14 side by side
    val = [sig(e) for e in terms.exps] + ([sig(terms.rest_sum)] if terms.rest else [])
    st.latex(rf"p_{{\text{{{name0}}}}} = \dfrac{{e^{{z_{{\text{{{name0}}}}}}}}}{{\sum_j e^{{z_j}}}} = "
             rf"\dfrac{{{sym[0]}}}{{{' + '.join(sym)}}}")
    st.latex(rf"= \dfrac{{{val[0]}}}{{{' + '.join(val)}}} = \dfrac{{{val[0]}}}{{{sig(terms.total)}}} = "
             rf"{figures.fmt_tex(terms.prob, 4)}")
    st.caption(t("inside.softmax_sum", n=len(labels), shown=len(terms.shown), k=len(terms.rest),
                 rest=figures.fmt(terms.rest_sum, 4) if terms.rest else "0"))


def the_output(seen: Seen) -> None:
    """6. Output: the learner guesses the class, then the softmax's probabilities and formula."""
    st.header(t("inside.out_header"))
    state = guess_the_class(seen)
    if state != "ask":
        softmax_section(seen, state)


ui.lesson_start(URL)   # title, introduction, goal
loaded = the_network()
from cnnviz.analysis import inspect as insp  # noqa: E402  (torch: only once the page shows something)
from cnnviz.maths import layers as nnl  # noqa: E402
from cnnviz.maths import params as cnnparams  # noqa: E402
from cnnviz.analysis import receptive  # noqa: E402

seen = the_input(loaded)
arch, layer = the_architecture(loaded, seen.acts)
channel = the_layer(loaded, seen.acts, arch, layer)
the_top_images(loaded, arch, layer, channel)
the_feature_pictures(loaded, arch, layer, channel)
the_hierarchy(seen.acts, arch)
the_output(seen)
ui.lesson_end(URL, context={"logits": seen.logits.detach().numpy(), "classes": seen.labels})
