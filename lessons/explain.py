"""Lesson: where does the network look? Grad-CAM and friends, with honest checks."""

import streamlit as st

from cnnviz import exercises, figures, ui

t = ui.t
st.title(t("explain.title"))
st.markdown(t("explain.intro"))
ui.lesson_goal("explain")

loaded = ui.model_picker("model")
if loaded is None:
    st.stop()


import hashlib  # noqa: E402

import torch  # noqa: E402

from cnnviz import attribution as attr  # noqa: E402

lang = ui.lang()
labels = loaded.class_labels(lang)
c_in = loaded.in_channels

# ------------------------------------------------------------------ input and class
left, right = st.columns([2, 3], gap="large")
with left:
    img = ui.image_picker("explain", default="digit" if c_in == 1 else "landscape", model=loaded)
if img is None:
    st.stop()
x = loaded.preprocess(img)
with torch.no_grad():
    logits = loaded.model(x)[0]
probs = torch.softmax(logits, dim=0)
top5 = probs.topk(min(5, len(labels))).indices.tolist()
seen = loaded.to_image(x)
layers = ui.session_memo("explain.layers", id(loaded.model), lambda: attr.map_layers(loaded.model, x))
default_layer = attr.default_layer(loaded.model, x, layers=layers)   # no second forward pass
# The class and layer widgets belong to one network, one picture and one language: their labels
# (class names with this picture's probabilities) change with them, and a widget kept across such a
# change shows one class while returning another. A new key starts them at this picture's prediction.
picture = hashlib.blake2b(x.numpy().tobytes(), digest_size=6).hexdigest()
model_key = f"{loaded.source}-{loaded.name}-{id(loaded.model)}"

with right:
    options = top5 + [i for i in range(len(labels)) if i not in top5]
    target_key = f"explain.target.{model_key}.{picture}.{lang}"
    ui.url_seed("explain.class", target_key, int, lambda i: 0 <= i < len(labels))   # ?explain.class=3
    target = st.selectbox(t("explain.target"), options, key=f"explain.target.{model_key}.{picture}.{lang}",
                          format_func=lambda i, _n=ui.number_format(): f"{labels[i]} ({_n(probs[i] * 100, 1)} %)", help=t("explain.target_help"))
    ui.url_keep("explain.class", target, options[0])
    ui.confidence_note(logits, labels, loaded=loaded)
    ui.url_seed("explain.layer", f"explain.layer.{model_key}", str, lambda v: v in layers)
    layer = st.selectbox(t("explain.layer"), layers, index=layers.index(default_layer), key=f"explain.layer.{model_key}",
                         help=t("explain.layer_help"))
    ui.url_keep("explain.layer", layer, default_layer)
    if layer == default_layer:
        st.caption(t("explain.why_last", layer=layer))
    alpha = st.slider(t("explain.opacity"), 0.0, 1.0, 0.7, 0.05, key="explain.alpha", bind="query-params")

key = (id(loaded.model), x.numpy().tobytes(), target, layer)


HEAVY = {"integrated_gradients", "occlusion"}   # many passes through the network: they take turns on the server


def run(method, **options):
    """One explanation, computed once per image/class/layer/settings (once for the whole class on a
    bundled or ImageNet model, ui.model_memo); the heavy
    ones through the server's line (place in line, Cancel, progress): None once cancelled."""
    ident = (key, tuple(sorted(options.items())))
    if method not in HEAVY:
        return ui.model_memo(loaded, f"explain.{method}", ident, lambda: attr.explain(
            method, loaded.model, x, target=target, layer=layer, **options))
    text = t("explain.computing", method=t(f"explain.m.{method}"))
    return ui.heavy_memo(f"explain.{method}", ident, method, lambda job: attr.explain(
        method, loaded.model, x, target=target, layer=layer,
        progress=lambda done, total: job.progress(done / max(total, 1), text=text), **options), text=text)


def show(exp, caption):
    if exp.flat:
        st.warning(t("explain.flat"), icon=":material/blur_off:")
        st.image(figures.upscale(seen.convert("RGB"), 280), caption=caption, width="content")
        return None
    pic = figures.overlay(seen, exp.map, alpha=alpha, target=280)
    st.image(pic, caption=caption, width="content")
    heat_legend()
    return pic


def heat_legend():
    """The colour bar of an explanation map over the picture (every map is scaled to 0..1)."""
    st.html(figures.legend_html(figures.Scale(0.0, 1.0, False), gray="heat", fmt=ui.number_format(), width=280,
                                label=t("explain.legend")))


def faithfulness(exp):
    if exp.flat:
        return
    deletion, insertion = ui.model_memo(loaded, f"explain.curves.{exp.method}", (key, exp.method, exp.map.tobytes()),
                                        lambda: attr.deletion_insertion(loaded.model, x, exp.map, target))
    ui.plot(figures.curves_figure(deletion.fractions, deletion.probs, insertion.probs,
                                          names=(t("explain.deletion"), t("explain.insertion")),
                                          xtitle=t("explain.pixels_changed"), ytitle=t("explain.prob_of", c=labels[target][:20])),
                    key=f"explain.curve.{exp.method}")
    st.caption(t("explain.auc", deletion=ui.num(deletion.auc, 2), insertion=ui.num(insertion.auc, 2)))


# ------------------------------------------------------------------ Grad-CAM
st.header(t("explain.gradcam_header", c=labels[target]))
g1, g2 = st.columns([3, 2], gap="large")
cam = run("gradcam")


def where_it_looks(cam):
    """Predict, then reveal: the learner clicks where they think the network looks, then Grad-CAM
    is shown with the click marked and a pointing-game score (a flat map has nothing to find)."""
    about = ui.predict_context(model_key, picture, target, layer)
    state, guess = ui.predict_state("explain", about)
    if state == "ask" and not cam.flat:
        st.markdown(t("exercises.predict.explain_ask", c=labels[target]))
        click = ui.click_on(seen, width=280,
                            key=f"explain.predict.click.{st.session_state.get('explain.predict.round', 0)}.{about}")
        ui.predict_buttons("explain", state)
        if click is not None:
            ui.predict_set("explain", about, click)
            st.rerun()
        return
    caption = t("explain.gradcam_caption", c=labels[target], layer=layer)
    if state == "guessed" and not cam.flat:
        (mh, mw), (w, h) = cam.map.shape, seen.size          # the click, in the map's pixels (x, y)
        hit, score = exercises.pointing_score(cam.map, ((guess[1] + 0.5) * mw / w - 0.5, (guess[0] + 0.5) * mh / h - 0.5))
        (st.success if hit else st.warning)(exercises.explain_pointing(hit, score, lang), icon=":material/ads_click:")
        pic = figures.overlay(seen, cam.map, alpha=alpha, target=280)
        (ph, pw) = pic.size[1], pic.size[0]
        st.image(ui.mark_guess(pic, pw, click=((guess[0] + 0.5) * ph / h - 0.5, (guess[1] + 0.5) * pw / w - 0.5)),
                 caption=caption + " · " + t("exercises.predict.explain_marked", c=labels[target]), width="content")
        heat_legend()
    else:
        pic = show(cam, caption)
    if pic is not None:
        st.download_button(t("explain.download"), figures.png_bytes(pic), file_name=f"gradcam_{loaded.name}.png",
                           mime="image/png", icon=":material/download:")
    if not cam.flat:
        ui.predict_buttons("explain", state)


with g1:
    where_it_looks(cam)
with g2:
    st.markdown(t("explain.gradcam_explain"))
    faithfulness(cam)

# ------------------------------------------------------------------ other methods
st.header(t("explain.compare_header"))
others = ["guided_gradcam", "guided_backprop", "saliency", "integrated_gradients", "occlusion"]
# written back each run: the browser is sent the methods in the current language's labels
st.session_state["explain.methods"] = st.session_state.get("explain.methods", ["guided_gradcam", "saliency"])
ui.url_seed("explain.methods", "explain.methods", lambda v: [m for m in v.split(",") if m],   # ?explain.methods=saliency,occlusion
            lambda ms: len(ms) <= len(others) and all(m in others for m in ms))
chosen = st.multiselect(t("explain.methods"), others, format_func=ui.labels("explain.m."), key="explain.methods")
ui.url_keep("explain.methods", chosen, ["guided_gradcam", "saliency"], fmt=",".join)
settings = {}
if "integrated_gradients" in chosen or "occlusion" in chosen:
    s1, s2, s3 = st.columns(3)
    if "integrated_gradients" in chosen:
        settings["integrated_gradients"] = {"n_steps": s1.slider(t("explain.ig_steps"), 4, attr.MAX_IG_STEPS, 16,
                                                                   key="explain.ig_steps")}
    if "occlusion" in chosen:
        h = loaded.input_size[0]
        window = s2.slider(t("explain.occ_window"), 2, max(3, h // 2), max(2, h // 7), key="explain.occ_window")
        stride = s3.slider(t("explain.occ_stride"), 1, window, max(1, window // 2), key="explain.occ_stride")
        settings["occlusion"] = {"window": window, "stride": stride}
cols = st.columns(max(1, len(chosen)))
for col, method in zip(cols, chosen):
    with col:
        st.subheader(t(f"explain.m.{method}"))
        exp = run(method, **settings.get(method, {}))
        if exp is not None:
            show(exp, t(f"explain.about.{method}"))
            faithfulness(exp)

# ------------------------------------------------------------------ sanity check
st.header(t("explain.sanity_header"))
st.markdown(t("explain.sanity_explain"))
sanity_methods = ["gradcam", "guided_backprop", "saliency"]
run_it = st.button(t("explain.sanity_run"), key="explain.sanity_run", icon=":material/science:")
memo_key = ("sanity", key)
steps = None
if run_it or st.session_state.get("explain.sanity", (None,))[0] == memo_key:
    steps = ui.heavy_memo("explain.sanity", memo_key, "sanity", lambda job: attr.cascading_randomization(
        loaded.model, x, target, sanity_methods, layer=layer, max_steps=8,
        progress=lambda d, n: job.progress(d / n, text=t("explain.sanity_step", d=d, n=n))),
        text=t("explain.sanity_running"), asked=run_it)
if steps is not None:
    ui.plot(figures.rank_corr_figure([s.randomized or t("explain.original") for s in steps],
                                             {t(f"explain.m.{m}"): [s.rank_corr[m] for s in steps] for m in sanity_methods},
                                             ytitle=t("explain.rank_corr")),
                    key="explain.sanity_chart")
    for m in sanity_methods:
        row = st.columns(len(steps))
        for col, s in zip(row, steps):
            col.image(figures.overlay(seen, s.maps[m], alpha=0.85, target=96), width="content",
                      caption=f"{t(f'explain.m.{m}') if s is steps[0] else ''} ρ={ui.num(s.rank_corr[m], 2)}")
    st.caption(t("explain.sanity_caption"))

ui.lesson_end("explain", context={"heatmap": getattr(cam, "map", None), "target": labels[target]})
