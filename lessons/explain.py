"""Lesson: where does the network look? Grad-CAM and friends, with honest checks."""

from typing import NamedTuple

import streamlit as st

from cnnviz import course, exercises, figures, ui

t = ui.t
URL = course.url("explain")
MAIN = "gradcam"                                              # the method of the lesson's first section
SANITY_STEPS = 8                                              # the layers the sanity check randomizes (from the top)


class Seen(NamedTuple):
    """One picture through one network: what every part of the page below the picker works on."""
    loaded: object       # the network (cnnviz.models)
    model_key: str       # names the network in widget keys and guesses
    lang: str            # the learner's language
    labels: list         # the classes in that language
    x: object            # the picture as the network takes it (a tensor)
    size: tuple          # its height and width
    logits: object       # the network's scores
    probs: object        # their softmax
    top5: list           # the (up to) five most likely classes, most likely first
    image: object        # the picture as the network sees it (PIL)
    layers: list         # the layers an explanation can look through
    default_layer: str   # the usual one (the last with maps)
    picture: str         # a digest of the picture: widgets and guesses belong to it
    right: object        # the column beside the picker: the class, the layer and the opacity


class View(NamedTuple):
    """What the class-dependent part of the page works on (set by its controls on each of its runs)."""
    seen: Seen
    target: int          # the class explained
    layer: str
    alpha: float         # the opacity of a map over the picture (0..1)
    key: tuple           # the network, the picture, the class and the layer: what a map is computed for


def the_network():
    """The network first, in the page: the class sees which one it is. Without one, the page ends here."""
    loaded = ui.model_picker("model")
    if loaded is None:
        st.stop()
    return loaded


def picker_with_note(loaded, model_key: str, lang: str):
    """The picture picker, with a note above it: a new network opens on a picture of its own world
    (ui.image_picker), so a photo the learner gave the network before is replaced. Said so, in the
    learner's language, until the learner uploads (or takes) a picture again or changes the network."""
    note = st.empty()     # above the picker: the first thing read after changing the network
    img = ui.image_picker("explain", default="digit" if loaded.in_channels == 1 else "landscape", model=loaded)
    src = st.session_state.get("explain.src")
    before = st.session_state.get("explain.picked")
    if before and before[0] != model_key and before[1] in ("upload", "camera") and before[2] \
            and src not in ("upload", "camera"):
        st.session_state["explain.replaced"] = (model_key, before[1])
    replaced = st.session_state.get("explain.replaced")
    if replaced and replaced[0] == model_key and src not in ("upload", "camera"):
        note.info(t(f"explain.replaced_{replaced[1]}",
                  net=models.label(loaded.name, lang) if loaded.source != "user" else loaded.name),
                  icon=":material/swap_horiz:")
    else:
        st.session_state.pop("explain.replaced", None)
    st.session_state["explain.picked"] = (model_key, src, img is not None)
    return img


def the_picture(loaded) -> Seen:
    """The picture (a new one reruns the whole page) and the network's answer on it. Without a
    picture, the page ends here."""
    lang = ui.lang()
    labels = loaded.class_labels(lang)
    left, right = st.columns([2, 3], gap="large")
    model_key = f"{loaded.source}-{loaded.name}-{id(loaded.model)}"
    with left:
        img = picker_with_note(loaded, model_key, lang)
    if img is None:
        st.stop()
    x = loaded.preprocess(img)
    with torch.no_grad():
        logits = loaded.model(x)[0]
    soft = nn_layers.softmax(logits.numpy())
    layers = ui.session_memo("explain.layers", id(loaded.model), lambda: attr.map_layers(loaded.model, x))
    default_layer = attr.default_layer(loaded.model, x, layers=layers)   # no second forward pass
    # The class and layer widgets belong to one network, one picture and one language: their labels
    # (class names with this picture's probabilities) change with them, and a widget kept across such a
    # change shows one class while returning another. A new key starts them at this picture's prediction.
    picture = hashlib.blake2b(x.numpy().tobytes(), digest_size=6).hexdigest()
    return Seen(loaded, model_key, lang, labels, x, tuple(x.shape[-2:]), logits, soft.probs,
                soft.top(min(5, len(labels))), loaded.to_image(x), layers, default_layer, picture, right)


def run(v: View, method, given=None):
    """One explanation, computed once per image/class/layer/settings (once for the whole class on a
    bundled or ImageNet model, ui.model_memo); the heavy
    ones through the server's line (place in line, Cancel, progress): None once cancelled."""
    loaded, x = v.seen.loaded, v.seen.x
    m = attr.REGISTRY[method]
    options = m.settings(v.seen.size, given)
    ident = (v.key, tuple(sorted(options.items())))
    if not m.heavy:
        return ui.model_memo(loaded, f"explain.{method}", ident, lambda: attr.explain(
            method, loaded.model, x, target=v.target, layer=v.layer, **options))
    text = t("explain.computing", method=t(m.label_key))
    return ui.heavy_memo(f"explain.{method}", ident, method, lambda job: attr.explain(
        method, loaded.model, x, target=v.target, layer=v.layer,
        progress=lambda done, total: job.progress(done / max(total, 1), text=text), **options), text=text)


def show(v: View, exp, caption):
    """An explanation over the picture with its colour bar (a flat map: said so, the picture alone)
    -> the picture drawn, None for a flat map."""
    if exp.flat:
        st.warning(t("explain.flat"), icon=":material/blur_off:")
        ui.image(figures.upscale(v.seen.image.convert("RGB"), 280), caption=caption, width="content")
        return None
    pic = figures.overlay(v.seen.image, exp.map, alpha=v.alpha, target=280)
    ui.image(pic, caption=caption, width="content")
    heat_legend()
    return pic


def heat_legend():
    """The colour bar of an explanation map over the picture (every map is scaled to 0..1)."""
    st.html(figures.legend_html(figures.Scale(0.0, 1.0, False), gray="heat", fmt=ui.number_format(), width=280,
                                label=t("explain.legend")))


def faithfulness(v: View, exp):
    """The deletion and insertion curves of an explanation, and the areas under them."""
    if exp.flat:
        return
    loaded, x = v.seen.loaded, v.seen.x
    deletion, insertion = ui.model_memo(loaded, f"explain.curves.{exp.method}", (v.key, exp.method, exp.map.tobytes()),
                                        lambda: faith.deletion_insertion(loaded.model, x, exp.map, v.target))
    ui.plot(figures.curves_figure(deletion.fractions, deletion.probs, insertion.probs,
                                  names=(t("explain.deletion"), t("explain.insertion")),
                                  xtitle=t("explain.pixels_changed"),
                                  ytitle=t("explain.prob_of", c=v.seen.labels[v.target][:20])),
            key=f"explain.curve.{exp.method}")
    st.caption(t("explain.auc", deletion=ui.num(deletion.auc, 2), insertion=ui.num(insertion.auc, 2)))


def where_it_looks(v: View, cam) -> bool:
    """Predict, then reveal: the learner clicks where they think the network looks, then Grad-CAM
    is shown with the click marked and a pointing-game score (a flat map has nothing to find).
    True once revealed (guessed or skipped): until then the rest of the page keeps every map,
    curve and check that shows where the network looks hidden too (issue 17)."""
    seen, labels = v.seen, v.seen.labels
    about = ui.predict_context(seen.model_key, seen.picture, v.target, v.layer)
    state, guess = ui.predict_state("explain", about)
    if state == "ask" and not cam.flat:
        st.markdown(t("exercises.predict.explain_ask", c=labels[v.target]))
        click = ui.click_on(seen.image, width=280,
                            key=f"explain.predict.click.{st.session_state.get('explain.predict.round', 0)}.{about}")
        ui.predict_buttons("explain", state)
        if click is not None:
            ui.predict_set("explain", about, click)
            st.rerun()
        return False
    st.session_state.setdefault("explain.revealed", set()).add(about)
    caption = t("explain.gradcam_caption", c=labels[v.target], layer=v.layer)
    if state == "guessed" and not cam.flat:
        (mh, mw), (w, h) = cam.map.shape, seen.image.size          # the click, in the map's pixels (x, y)
        hit, score = exercises.pointing_score(cam.map, ((guess[1] + 0.5) * mw / w - 0.5, (guess[0] + 0.5) * mh / h - 0.5))
        (st.success if hit else st.warning)(exercises.explain_pointing(hit, score, seen.lang),
                                            icon=":material/ads_click:")
        pic = figures.overlay(seen.image, cam.map, alpha=v.alpha, target=280)
        (ph, pw) = pic.size[1], pic.size[0]
        ui.image(ui.mark_guess(pic, pw, click=((guess[0] + 0.5) * ph / h - 0.5, (guess[1] + 0.5) * pw / w - 0.5)),
                 caption=caption + " · " + t("exercises.predict.explain_marked", c=labels[v.target]), width="content")
        heat_legend()
    else:
        pic = show(v, cam, caption)
    if pic is not None:
        st.download_button(t("explain.download"), figures.png_bytes(pic), file_name=f"gradcam_{seen.loaded.name}.png",
                           mime="image/png", icon=":material/download:")
    if not cam.flat:
        ui.predict_buttons("explain", state)
    return True


def hidden_until_guessed():
    """In place of what would show where the network looks, before the learner's guess."""
    st.info(t("explain.hidden_until_guess"), icon=":material/visibility_off:")


def answer_revealed(seen: Seen) -> bool:
    """Whether the self-check may ask about the real map of the network's answer (at the usual
    layer): only once the learner has seen it in the lesson (guessed or skipped), or the question
    below would show the map the lesson asks them to predict. Before that it asks about a made-up map."""
    about = ui.predict_context(seen.model_key, seen.picture, seen.top5[0], seen.default_layer)
    return ui.predict_state("explain", about)[0] != "ask" or about in st.session_state.get("explain.revealed", ())


def method_settings(seen: Seen, chosen) -> dict:
    """A slider per option of the chosen methods (their bounds and defaults from the registry)."""
    wanted = [(name, opt) for name in chosen for opt in attr.REGISTRY[name].options]
    settings: dict = {}
    if not wanted:
        return settings
    cols = st.columns(max(3, len(wanted)))
    for col, (name, opt) in zip(cols, wanted):
        mine = settings.setdefault(name, {})
        low, high, default = opt.bounds(seen.size, mine)
        ui.keep_in_range(f"explain.{opt.key}", high, low)
        mine[opt.name] = col.slider(t(opt.label_key), low, high, default, key=f"explain.{opt.key}")
    return settings


def the_controls(seen: Seen) -> View:
    """Beside the picture: the class to explain (this picture's probabilities, ?explain.class=), the
    layer (?explain.layer=) and the maps' opacity."""
    loaded, labels, probs, layers, default_layer = seen.loaded, seen.labels, seen.probs, seen.layers, seen.default_layer
    with seen.right:
        options = seen.top5 + [i for i in range(len(labels)) if i not in seen.top5]
        target_key = f"explain.target.{seen.model_key}.{seen.picture}.{seen.lang}"
        ui.url_seed("explain.class", target_key, int, lambda i: 0 <= i < len(labels))   # ?explain.class=3
        # The box is new in each language (its labels are); the learner's class is not: kept per
        # network and picture, it is where a box in the other language starts (issue 17: 3 became 7).
        kept_key = f"explain.class_kept.{seen.model_key}.{seen.picture}"
        if target_key not in st.session_state and st.session_state.get(kept_key) in options:
            st.session_state[target_key] = st.session_state[kept_key]
        target = st.selectbox(t("explain.target"), options, key=target_key,
                              format_func=lambda i, _n=ui.number_format(): f"{labels[i]} ({_n(probs[i] * 100, 1)} %)",
                              help=t("explain.target_help"))
        st.session_state[kept_key] = target
        ui.url_keep("explain.class", target, options[0])
        ui.confidence_note(seen.logits, labels, loaded=loaded, x=seen.x)
        ui.url_seed("explain.layer", f"explain.layer.{seen.model_key}", str, lambda name: name in layers)
        layer = st.selectbox(t("explain.layer"), layers, index=layers.index(default_layer),
                             key=f"explain.layer.{seen.model_key}", help=t("explain.layer_help"))
        ui.url_keep("explain.layer", layer, default_layer)
        if layer == default_layer:
            st.caption(t("explain.why_last", layer=layer))
        # in percent: a whole number reads the same in both languages (a slider always writes "0.70")
        alpha = st.slider(t("explain.opacity"), 0, 100, 70, 5, format="%d %%", key="explain.opacity",
                          bind="query-params") / 100
    return View(seen, target, layer, alpha, (id(loaded.model), seen.x.numpy().tobytes(), target, layer))


def the_gradcam(v: View) -> bool:
    """Grad-CAM of the class: where the learner thinks the network looks first, then the map and its
    curves. -> whether it is revealed (guessed or skipped)."""
    st.header(t("explain.gradcam_header", c=v.seen.labels[v.target]))
    g1, g2 = st.columns([3, 2], gap="large")
    cam = run(v, MAIN)
    with g1:
        revealed = where_it_looks(v, cam)
    with g2:
        st.markdown(t("explain.gradcam_explain"))
        if revealed:
            faithfulness(v, cam)
    if answer_revealed(v.seen) != st.session_state.get("explain.selfcheck_real"):
        st.rerun()          # a skip in this part: the self-check below (outside it) may now show the real map
    return revealed


def the_other_methods(v: View, revealed: bool) -> None:
    """Other ways to ask (?explain.methods=): the methods picked, their settings, each map with its
    curves; hidden until the learner's guess."""
    others = [m.name for m in attr.REGISTRY.values() if m.compare and m.name != MAIN]
    first_shown = [m for m in others if attr.REGISTRY[m].shown]
    st.header(t("explain.compare_header"))
    # written back each run: the browser is sent the methods in the current language's labels
    st.session_state["explain.methods"] = st.session_state.get("explain.methods", first_shown)
    ui.url_seed("explain.methods", "explain.methods", lambda s: [m for m in s.split(",") if m],   # ?explain.methods=saliency,occlusion
                lambda ms: len(ms) <= len(others) and all(m in others for m in ms))
    chosen = st.multiselect(t("explain.methods"), others, format_func=ui.labels("explain.m."), key="explain.methods",
                            placeholder=t("explain.methods_placeholder"))
    ui.url_keep("explain.methods", chosen, first_shown, fmt=",".join)
    settings = method_settings(v.seen, chosen)
    if not revealed:
        hidden_until_guessed()
        chosen = []
    per_row = 2                  # two maps a row: their curves' legends stay whole at 1280 px
    cols = [c for i in range(0, len(chosen), per_row) for c in st.columns(per_row, gap="large")]
    for col, method in zip(cols, chosen):
        with col:
            st.subheader(t(attr.REGISTRY[method].label_key))
            try:
                exp = run(v, method, settings.get(method))
            except CnnvizError as err:       # DeepLift on a network that reuses a ReLU module
                ui.show_error(err)
                continue
            if exp is not None:
                show(v, exp, t(attr.REGISTRY[method].about_key))
                edge_closeness(v, exp)
                faithfulness(v, exp)


def edge_closeness(v: View, exp) -> None:
    """How close a map is to a plain edge detector: its rank correlation with the Sobel map."""
    if exp.flat or exp.method == trust.EDGES:
        return
    edges = run(v, trust.EDGES)
    st.caption(t("explain.edge_rho", rho=ui.num(sanity.spearman(exp.map, edges.map), 2)))


def checks(v: View, asked: bool):
    """The sanity check and every map's curves, in one job through the server's line (the sanity
    check's section and the trust lab share it) -> trust.Report, or None until asked / once cancelled."""
    memo_key = ("checks", v.key)
    if not (asked or st.session_state.get("explain.checks", (None,))[0] == memo_key):
        return None
    return ui.heavy_memo("explain.checks", memo_key, "sanity", lambda job: trust.assess(
        v.seen.loaded.model, v.seen.x, v.target, layer=v.layer, max_steps=SANITY_STEPS,
        progress=lambda d, n: job.progress(d / n, text=t("explain.sanity_step", d=d, n=n))),
        text=t("explain.sanity_running"), asked=asked)


def method_name(m: str) -> str:
    """A method's name, with "baseline" after it for a map that ignores the network."""
    name = t(attr.REGISTRY[m].label_key)
    return t("explain.baseline_name", name=name) if attr.REGISTRY[m].baseline else name


def trust_lab(v: View, revealed: bool) -> None:
    """The trust lab: the learner ranks the maps (shown blind, by letter) by how much they trust
    them BEFORE any score is shown; then one table says which pass the sanity check and the
    faithfulness test, and which of their picks do."""
    st.header(t("explain.trust_header"))
    st.markdown(t("explain.trust_explain"))
    if not revealed:
        hidden_until_guessed()
        return
    if not st.toggle(t("explain.trust_open", n=len(sanity.default_methods())), key="explain.trust.open"):   # only on request
        return
    methods = random.Random(v.seen.picture).sample(sanity.default_methods(), len(sanity.default_methods()))
    letters = [chr(ord("A") + i) for i in range(len(methods))]
    about = ui.predict_context("trust", *v.key[1:], v.layer)
    cols = st.columns(4)
    for i, (letter, m) in enumerate(zip(letters, methods)):
        exp = run(v, m)
        tile = figures.overlay(v.seen.image, exp.map, alpha=v.alpha, target=150)
        ui.image(tile, width=tile.width, caption=t("explain.trust_map", letter=letter), where=cols[i % 4])
    state, picks = ui.predict_state("explain.trust", about)
    if state == "ask":
        chosen = st.multiselect(t("explain.trust_pick"), letters, max_selections=3, key=f"explain.trust.picks.{about}.{st.session_state.get('explain.trust.predict.round', 0)}",
                                placeholder=t("explain.trust_placeholder"))
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        if c1.button(t("explain.trust_reveal"), key="explain.trust.reveal", type="primary", disabled=len(chosen) < 3,
                     icon=":material/visibility:"):
            ui.predict_set("explain.trust", about, [methods[letters.index(c)] for c in chosen])
            st.rerun()
        c2.button(t("explain.trust_skip"), key="explain.trust.skip", on_click=ui.predict_skip, args=("explain.trust",),
                  icon=":material/visibility:")
        return
    report = checks(v, asked=True)
    if report is None:
        return
    trust_table(report, methods, letters, picks or [])
    st.button(t("explain.trust_again"), key="explain.trust.again", on_click=ui.predict_again, args=("explain.trust",),
              icon=":material/replay:")


def trust_table(report, methods, letters, picks) -> None:
    """Every map's scores, its pass or fail by the stated thresholds, and the learner's picks."""
    yes, no = t("explain.trust_pass"), t("explain.trust_fail")
    rows = [t("explain.trust_columns"), "|" + " --- |" * 8]
    for letter, m in zip(letters, methods):
        s = report.scores[m]
        rank = str(picks.index(m) + 1) if m in picks else ""
        rows.append(f"| {letter} | {method_name(m)} | {ui.num(s.sanity_rho, 2)} | {yes if s.sane else no} | "
                    f"{ui.num(s.deletion_auc, 2)} | {ui.num(s.insertion_auc, 2)} | {yes if s.faithful else no} | {rank} |")
    st.markdown("\n".join(rows))
    st.caption(t("explain.trust_thresholds", rho=ui.num(trust.SANITY_MAX, 1), steps=len(report.steps) - 1,
                 deletion=ui.num(report.scores[trust.RANDOM].deletion_auc, 2),
                 insertion=ui.num(report.scores[trust.RANDOM].insertion_auc, 2)))
    if picks:
        passed = [m for m in picks if report.scores[m].trusted]
        names = ", ".join(f"{letters[methods.index(m)]} ({method_name(m)})" for m in passed)
        (st.success if len(passed) == len(picks) else st.info)(
            t("explain.trust_verdict", n=len(passed), k=len(picks), names=names or "—"), icon=":material/fact_check:")


def sanity_check(v: View, revealed: bool):
    """The sanity check, on the learner's click: the network's layers randomized one after another,
    and how much each method's map changes (a map that does not change does not explain the network)."""
    sanity_methods = sanity.default_methods()
    st.header(t("explain.sanity_header"))
    st.markdown(t("explain.sanity_explain"))
    if not revealed:
        hidden_until_guessed()
        return
    run_it = st.button(t("explain.sanity_run"), key="explain.sanity_run", icon=":material/science:")
    report = checks(v, asked=run_it)
    if report is None:
        return
    steps = report.steps
    ui.plot(figures.rank_corr_figure([s.randomized or t("explain.original") for s in steps],
                                     {method_name(m): [s.rank_corr[m] for s in steps] for m in sanity_methods},
                                     ytitle=t("explain.rank_corr")),
            key="explain.sanity_chart")
    for m in sanity_methods:
        # the method's name over its row, not in its first caption: a long caption widened the first
        # tile ("content" width), and every tile of a row must be the same size to compare (issue 17)
        st.markdown(f"**{method_name(m)}**")
        row = st.columns(len(steps))
        for col, s in zip(row, steps):
            tile = figures.overlay(v.seen.image, s.maps[m], alpha=0.85, target=96)
            ui.image(tile, width=tile.width, caption=f"ρ={ui.num(s.rank_corr[m], 2)}", where=col)
    st.caption(t("explain.sanity_caption"))


def selfcheck_map_shown(seen: Seen) -> None:
    """Writes down whether the self-check at the bottom is drawn with the real map of the network's
    answer (answer_revealed): the part below reruns the whole page when that changes."""
    st.session_state["explain.selfcheck_real"] = answer_revealed(seen)


@st.fragment
def explained(seen: Seen):
    """Everything that depends on the class (and the layer, the opacity, the methods): changing
    one of them reruns only this, not the picture and the network above (issue 11)."""
    v = the_controls(seen)
    revealed = the_gradcam(v)
    the_other_methods(v, revealed)
    trust_lab(v, revealed)
    sanity_check(v, revealed)


def selfcheck_context(seen: Seen) -> dict:
    """The self-check asks about the map of the network's own answer (at the usual layer), whatever class
    is explained above: it stays out of the part a class change reruns, and its question stays put.
    Before the learner has seen that map (guessed or skipped), the question is about a made-up map
    (issue 17)."""
    loaded, x, answer = seen.loaded, seen.x, seen.top5[0]
    context = {"target": seen.labels[answer]}
    if st.session_state["explain.selfcheck_real"]:
        answer_map = ui.model_memo(loaded, "explain.selfcheck_map",
                                   (id(loaded.model), x.numpy().tobytes(), answer, seen.default_layer),
                                   lambda: attr.explain(MAIN, loaded.model, x, target=answer, layer=seen.default_layer))
        context["heatmap"] = answer_map.map
    return context


ui.lesson_start(URL)   # title, introduction, goal
loaded = the_network()
import hashlib  # noqa: E402  (torch: only once the page shows a network)
import random  # noqa: E402

import torch  # noqa: E402

from cnnviz.analysis import attribution as attr  # noqa: E402
from cnnviz.analysis import faithfulness as faith, sanity, trust  # noqa: E402
from cnnviz.base.errors import CnnvizError  # noqa: E402
from cnnviz.maths import layers as nn_layers  # noqa: E402
from cnnviz import models  # noqa: E402

seen = the_picture(loaded)
selfcheck_map_shown(seen)
explained(seen)
context = selfcheck_context(seen)
ui.lesson_end(URL, context=context)
