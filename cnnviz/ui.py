"""The only streamlit-aware module of cnnviz: shared widgets and session helpers.

Pages stay thin: they call these widgets and the cnnviz functions, and show
figures. Every string goes through ``t`` (the learner's language); every
``CnnvizError`` is shown with ``show_error`` in that language, never as a
traceback.
"""

from __future__ import annotations

from contextlib import contextmanager

import logging
import threading

import numpy as np
import streamlit as st

from . import i18n, images, kernels
from .errors import CnnvizError

log = logging.getLogger("cnnviz")
WORKING_MAX_SIDE = 1024   # uploads are shrunk to this on arrival: every lesson stays fast


# ---------------------------------------------------------------- language
def lang() -> str:
    """The learner's language: ?lang= in the URL, else their choice, else the browser's."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang")
        st.session_state["lang"] = wanted if wanted in i18n.LANGUAGES else i18n.detect_language(
            getattr(st.context, "locale", None))
    return st.session_state["lang"]


def _session_language() -> str | None:
    """The language of the session whose script (or fragment) runs in this thread, else None.

    Registered as ``i18n.current()``'s source: ``figures.fmt``, ``matrix_html``, ``fmt_tex``
    write numbers the learner's way without a ``lang`` argument. Streamlit runs every rerun and
    every fragment rerun of a session in a script thread that carries the session's context.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return lang()


i18n.set_language_source(_session_language)


def t(key: str, **kw) -> str:
    return i18n.t(key, lang(), **kw)


def num(value: float, digits: int = 0) -> str:
    """A count formatted for the learner's language (12,288 / 12.288)."""
    return i18n.number(value, lang(), digits)


def number_format():
    """``fmt(value, digits)`` bound to the learner's language, for ``format_func`` lambdas
    (they run outside the session, so they can't call ``num``)."""
    current = lang()
    return lambda value, digits=0: i18n.number(value, current, digits)


def plot(fig, *, key: str, where=None) -> None:
    """A plotly chart in the learner's language: 12.288,5 in Portuguese, 12,288.5 in English,
    without plotly's toolbar (a class doesn't need the zoom buttons)."""
    separators = ",." if lang() == "pt_BR" else ".,"
    if fig.layout.separators != separators:     # a shared (cached) figure comes with them: not modified
        fig.update_layout(separators=separators)
    (where or st).plotly_chart(fig, config={"displayModeBar": False}, key=key)


def labels(prefix: str):
    """``format_func`` for options whose labels are catalog keys ``prefix + option``.

    The language is read now, not when the label is drawn: the function must
    not depend on session state (AppTest and fragments call it elsewhere).
    """
    current = lang()
    return lambda option: i18n.t(f"{prefix}{option}", current)


def message(key: str):
    """``message(key)(**kw)``: a catalog message bound to the current language, for ``format_func``
    lambdas that need numbers filled in (they run outside the session)."""
    current = lang()
    return lambda **kw: i18n.t(key, current, **kw)


def language_picker() -> str:
    """Sidebar switch between English and Portuguese (remembered for the session)."""
    current = lang()
    codes = list(i18n.LANGUAGES)
    choice = st.sidebar.selectbox(":material/translate: " + t("app.language"), codes, index=codes.index(current),
                                  format_func=i18n.LANGUAGES.get, key="lang_picker")
    if choice != current:
        st.session_state["lang"] = choice
        st.query_params["lang"] = choice      # the address says the language too (links)
        st.rerun()
    if st.query_params.get("lang") != choice:
        st.query_params["lang"] = choice      # so that a copied address opens in the same language
    return choice


def show_error(err: Exception) -> None:
    """A learner-friendly message in their language; unexpected errors are logged, not shown raw."""
    if isinstance(err, CnnvizError):
        st.error(err.message(lang()), icon=":material/warning:")
    else:
        log.exception("unexpected error", exc_info=err)
        st.error(t("app.unexpected_error", detail=type(err).__name__), icon=":material/warning:")


def decimal_input(where, label: str, *, key: str, value: float, help: str | None = None, digits: int = 2) -> float:
    """A number the learner types in their own format ("0,5" in Portuguese; "0.5" works too),
    instead of ``st.number_input``, which always writes a decimal point. A value that isn't a
    number gets a message in the learner's language, and the last good value is kept."""
    good = f"{key}.value"
    if key not in st.session_state:
        st.session_state[key] = num(value, digits)
        st.session_state[good] = float(value)
    url_seed(key, key, lambda raw: num(kernels.parse_value(raw, label), digits))   # ?conv.bias=-0.5
    text = where.text_input(label, key=key, help=help)
    try:
        st.session_state[good] = kernels.parse_value(text, label)
    except CnnvizError as err:
        where.error(err.message(lang()), icon=":material/warning:")
    url_keep(key, st.session_state[good], float(value), fmt=lambda v: f"{v:g}")
    return st.session_state[good]


# ---------------------------------------------------------------- images
@st.cache_resource(show_spinner=False)
def _sample(name: str):
    return images.load_sample(name)


def _decode_upload(upload, key: str):
    """Decode an upload once per file and remember it in this learner's session."""
    memo = st.session_state.get(f"{key}.decoded")
    file_id = getattr(upload, "file_id", None) or (upload.name, upload.size)
    if memo and memo[0] == file_id:
        return memo[1], memo[2]
    try:
        img = images.load_image(upload)
        original = img.size
        img = images.fit(img, WORKING_MAX_SIDE)
        result = (img, original if original != img.size else None)
        err = None
    except Exception as e:  # noqa: BLE001 - anything at all must end as a message
        result, err = (None, None), e
    st.session_state[f"{key}.decoded"] = (file_id, result, err)
    return result, err


WORLD_PICTURES = 10   # test pictures offered per network: the first one of each class


@st.cache_resource(show_spinner=False, max_entries=8)
def _dataset_pictures(name: str):
    """[(test index, true class, RGB image)]: the first test picture of each class of dataset
    ``name`` (``cnnviz.data.example_image``: the bundled sample, so it works offline). [] if none."""
    from . import data

    first: dict[int, int] = {}
    try:
        for i in range(200):
            first.setdefault(data.example_label(name, i), i)
            if len(first) == WORLD_PICTURES:
                break
        return [(i, y, data.example_image(name, i)) for i, y in sorted((i, y) for y, i in first.items())]
    except (CnnvizError, IndexError, OSError) as err:
        log.warning("no test pictures of %s: %s", name, err)
        return []


def _own_pictures(loaded):
    """The learner's own pictures a network from the Train lesson was tested on, [(i, class, image)]."""
    from PIL import Image

    export = st.session_state.get("train.export")
    memo = st.session_state.get("train.export_loaded")
    if not export or not memo or memo[1] is not loaded or export.get("examples") is None:
        return []
    xs, ys = export["examples"]
    out = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        arr = (x.permute(1, 2, 0).float().clamp(0, 1).numpy() * 255).round().astype(np.uint8)
        out.append((i, int(y), Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).convert("RGB")))
    return out


def model_dataset(loaded) -> str | None:
    """The dataset a network learned from: its card's ("mnist", "fashion", "cifar10-subset",
    "cifar10", "own" for the learner's own pictures), None if unknown (ImageNet zoo, bare uploads)."""
    if loaded is None:
        return None
    data = (loaded.card or {}).get("data")
    dataset = data.get("dataset") if isinstance(data, dict) else None   # zoo cards: "data" is a sentence
    return dataset if isinstance(dataset, str) else None


def _world(loaded):
    """(dataset, [(index, true class, image)]) of the pictures ``loaded`` learned from, or None."""
    from . import data

    dataset = model_dataset(loaded)
    if dataset == "own":
        pictures = _own_pictures(loaded)
    elif dataset in data.DATASETS:
        pictures = _dataset_pictures(dataset)
    else:
        return None
    return (dataset, pictures) if pictures else None


def image_picker(key: str, *, default: str = "mouse", camera: bool = True, label: str | None = None,
                 model=None):
    """Sample / upload / camera -> RGB PIL image, or None (with a message) when there is none.

    With ``model`` (a ``LoadedModel``), a first source is offered: a test picture of the network's
    own dataset with its true class (an MNIST digit for the digits network, a Fashion-MNIST item for
    the clothes network, a CIFAR-10 photo for Tiny VGG, the trained dataset or the learner's own
    pictures for a network from the Train lesson). It is the default whenever the lesson opens or
    the network changes: every network opens on a picture from its own world. ImageNet networks
    have no such source and open on the sample ``default``.
    """
    world = _world(model)
    ident = (getattr(model, "name", None), id(getattr(model, "model", None)), default)
    if st.session_state.get(f"{key}.world") != ident:      # a new network: start over in its world
        st.session_state[f"{key}.world"] = ident
        st.session_state[f"{key}.src"] = "dataset" if world else "sample"
        st.session_state[f"{key}.sample"] = default
        st.session_state.pop(f"{key}.example", None)
    sources = (["dataset"] if world else []) + ["sample", "upload"] + (["camera"] if camera else [])
    # Each choice below is written back before its widget is drawn, so the browser is always sent
    # the value the script uses: the labels change with the language (and the network), and a
    # browser that can't find its old label shows the first option while the script keeps another.
    url_seed(f"{key}.src", f"{key}.src", str, lambda v: v in sources)
    if world:
        url_seed(f"{key}.example", f"{key}.example", int, lambda v: v in {i for i, _, _ in world[1]})
    url_seed(f"{key}.sample", f"{key}.sample", str, lambda v: v in images.SAMPLES)
    src = st.session_state.get(f"{key}.src")
    st.session_state[f"{key}.src"] = src if src in sources else sources[0]
    url_keep(f"{key}.src", st.session_state[f"{key}.src"], sources[0])
    names = {src: t("picker." + src) for src in sources}
    if world:
        names["dataset"] = t("picker.dataset", data=t(f"picker.world.{world[0]}"))
    src = st.radio(label or t("picker.source"), sources, horizontal=True, key=f"{key}.src",
                   format_func=names.get)
    if src == "dataset":
        dataset, pictures = world
        classes = model.class_labels(lang())
        option = message("picker.own_option" if dataset == "own" else "picker.test_option")
        by_index = {i: (y, img) for i, y, img in pictures}
        chosen = st.session_state.get(f"{key}.example")
        st.session_state[f"{key}.example"] = chosen if chosen in by_index else pictures[0][0]

        def describe_class(i):
            y = by_index[i][0]
            return classes[y] if y < len(classes) else str(y)

        def describe(i):
            return option(c=describe_class(i), i=i)

        i = st.selectbox(t("picker.test_image"), list(by_index), key=f"{key}.example", format_func=describe,
                         help=t("picker.test_help"))
        url_keep(f"{key}.example", i, pictures[0][0])
        from .figures import upscale

        st.image(upscale(by_index[i][1], 112), width="content", caption=t("picker.true_class", c=describe_class(i)))
        return by_index[i][1]
    if src == "sample":
        names = list(images.SAMPLES)
        chosen = st.session_state.get(f"{key}.sample")
        st.session_state[f"{key}.sample"] = chosen if chosen in names else default
        name = st.selectbox(t("picker.sample"), names, key=f"{key}.sample", format_func=labels("samples."))
        url_keep(f"{key}.sample", name, default)
        return _sample(name)
    if src == "upload":
        upload = st.file_uploader(t("picker.upload"), type=images.EXTENSIONS, key=f"{key}.upload",
                                  help=t("picker.upload_help", mb=images.MAX_BYTES // 2**20))
    else:
        upload = st.camera_input(t("picker.camera_label"), key=f"{key}.camera")
    if upload is None:
        st.info(t("picker.waiting"), icon=":material/photo_camera:" if src == "camera" else ":material/folder_open:")
        return None
    (img, original), err = _decode_upload(upload, key)
    if err is not None:
        show_error(err)
        return None
    if original:
        st.caption(t("picker.resized", w0=original[0], h0=original[1], w=img.size[0], h=img.size[1]))
    return img


# ---------------------------------------------------------------- confidence of a prediction
REFERENCE_PICTURES = 300   # test pictures a network's usual evidence is measured on
LEARNER_REFERENCE_PICTURES = 200   # for a learner's network, each through its own preprocess


def _measure_reference(loaded, pictures):
    from . import confidence

    import torch

    x = torch.cat([loaded.preprocess(img) for img in pictures])
    return confidence.reference_of(loaded.model, x)


def _dataset_reference(loaded, dataset: str):
    from . import data

    try:
        ds = data.load_dataset(dataset, train=False)
        n = min(LEARNER_REFERENCE_PICTURES, len(ds))
        return _measure_reference(loaded, [ds[i][0].convert("RGB") for i in range(n)])
    except (CnnvizError, OSError) as err:
        log.warning("no reference for %s on %s: %s", loaded.name, dataset, err)
        return None


@st.cache_resource(show_spinner=False, max_entries=8)
def _shared_reference(name: str, dataset: str, _loaded):
    """A bundled network on its own test pictures: they are already in its input format, so
    ``preprocess`` is only the normalization (a test checks it) and a batch is normalized at once
    (the digits network's per-picture path costs 3.4 s for 300 pictures, this 0.6 s)."""
    import torch

    from . import confidence, data

    try:
        x, _ = data.as_tensors(data.load_dataset(dataset, train=False), REFERENCE_PICTURES)
    except (CnnvizError, OSError) as err:
        log.warning("no reference for %s on %s: %s", name, dataset, err)
        return None
    mean = torch.tensor(_loaded.mean).view(1, -1, 1, 1)
    std = torch.tensor(_loaded.std).view(1, -1, 1, 1)
    return confidence.reference_of(_loaded.model, (x - mean) / std)


def model_reference(loaded):
    """The usual evidence of ``loaded`` on its own test pictures (``cnnviz.confidence.Reference``),
    measured once (per server for a bundled network, per session for a learner's), or None when
    its dataset is unknown or absent (ImageNet networks)."""
    dataset = model_dataset(loaded)
    if dataset is None:
        return None
    if loaded.source == "bundled":
        return _shared_reference(loaded.name, dataset, loaded)
    if dataset == "own":
        pictures = [img for _, _, img in _own_pictures(loaded)]
        return session_memo("own.reference", id(loaded.model),
                            lambda: _measure_reference(loaded, pictures) if len(pictures) >= 5 else None)
    return session_memo("own.reference", id(loaded.model),
                        lambda: _dataset_reference(loaded, dataset))


def confidence_note(logits, classes, *, loaded=None, where=None):
    """Beside a prediction: how sure the network is, whether the picture looks like anything it
    learned from, and one sentence on why a softmax always picks a class -> ``Confidence``.

    ``logits``: the outputs of one picture before softmax ((classes,) or (1, classes)), ``classes``:
    the class names shown to the learner. With ``loaded`` (the ``LoadedModel``), the network's usual
    evidence on its own test pictures is measured (``model_reference``) and a picture from another
    world is called "unfamiliar"; without it the note only says "confident" or "unsure".
    """
    from . import confidence

    ref = model_reference(loaded) if loaded is not None else None
    c = confidence.assess(logits, ref)
    box = where or st
    kw = {"c": classes[c.top], "p": 100 * c.top_prob, "c2": classes[c.second], "p2": 100 * c.second_prob}
    if c.level == "unfamiliar":
        dataset = model_dataset(loaded)
        box.warning(t("confidence.unfamiliar", share=100 * (1 - confidence.REFERENCE_QUANTILE),
                      data=t(f"picker.world.{dataset}"), **kw), icon=":material/explore_off:")
    elif c.level == "unsure":
        box.warning(t("confidence.unsure", **kw), icon=":material/help:")
    else:
        box.success(t("confidence.confident", **kw), icon=":material/check_circle:")
    details = t("confidence.details", h=c.entropy, e=c.energy) if ref is None else \
        t("confidence.details_ref", h=c.entropy, e=c.energy, median=ref.energy_median, low=ref.energy_low)
    box.caption(t("confidence.why", n=len(classes)), help=details)
    return c


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
    tab_preset, tab_draw, tab_numbers = st.tabs([t("kernel.tab_preset"), t("kernel.tab_draw"),
                                                 t("kernel.tab_numbers")], key=f"{key}.tab", on_change="rerun")
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
    name = st.selectbox(t("kernel.preset"), kernels.PRESET_NAMES, key=f"{key}.preset", persist_state="session",
                        format_func=labels("kernel.presets."), on_change=on_preset)
    url_keep(f"{key}.preset", name, "curve_detector")
    size = None
    if kernels.resizable(name):
        size = st.select_slider(t("kernel.size"), kernels.SIZES, value=kernels.natural_size(name),
                                key=f"{key}.preset_size", on_change=on_preset, persist_state="session",
                                bind="query-params")
    if st.session_state.get(f"{key}.origin") not in ("custom", _preset_id(name, size)):
        _set_kernel(key, kernels.make(name, size))    # a preset named by a link
        st.session_state[f"{key}.origin"] = _preset_id(name, size)
    st.caption(t(f"kernel.about.{name}"))


def _kernel_canvas(key: str) -> None:
    from streamlit_drawable_canvas import st_canvas  # a custom component: only load it when shown

    c1, c2, c3 = st.columns(3)
    size = c1.selectbox(t("kernel.size"), kernels.SIZES, index=2, key=f"{key}.draw_size")
    weight = c2.number_input(t("kernel.ink_weight"), min_value=0.1, max_value=1000.0, value=30.0,
                             step=1.0, key=f"{key}.ink", help=t("kernel.ink_help"))
    pen = c3.radio(t("kernel.pen"), ["positive", "negative", "eraser"], key=f"{key}.pen",
                   format_func=labels("kernel.pen_"))
    color = {"positive": "#000000", "negative": "#e00000", "eraser": "#ffffff"}[pen]
    px = 280
    st.caption(t("kernel.draw_help"))  # (also keeps the canvas toolbar clear of the pen choice)
    result = st_canvas(stroke_width=max(6, px // size - 4), stroke_color=color, background_color="#ffffff",
                       background_image=_grid_image(size, px), height=px, width=px,
                       drawing_mode="freedraw", return_image_data=True, key=f"{key}.canvas.{size}")
    drawn = getattr(result, "image_data", None) if result is not None else None
    if st.button(t("kernel.use_drawing"), key=f"{key}.use_drawing", type="primary"):
        if drawn is None or not np.any(drawn[..., 3]):
            st.warning(t("kernel.nothing_drawn"))
        else:
            _set_kernel(key, kernels.rasterize(drawn, size, weight))
            _custom_kernel(key, st.session_state[f"{key}.kernel"])
            st.rerun()


def _kernel_table(key: str) -> None:
    import pandas as pd

    kernel = st.session_state[f"{key}.kernel"]
    from .figures import fmt

    frame = pd.DataFrame([[fmt(v, 3) for v in row] for row in kernel],
                         columns=[str(j + 1) for j in range(kernel.shape[1])], dtype="string")
    st.caption(t("kernel.table_help"))
    edited = st.data_editor(frame, key=f"{key}.table.{st.session_state[f'{key}.ver']}",
                            hide_index=True, num_rows="fixed",
                            column_config={c: st.column_config.TextColumn(c, width=48) for c in frame.columns})
    try:
        parsed = kernels.parse(edited.astype(object).where(edited.notna(), None).values.tolist())
    except CnnvizError as e:
        show_error(e)
        st.caption(t("kernel.kept_last"))
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

    with st.expander(t("kernel.paste_title")):
        st.text_area(t("kernel.paste"), key=f"{key}.paste", on_change=on_paste, height=160,
                     placeholder="0 0 0 0 0 30 0\n0 0 0 0 30 0 0\n...", help=t("kernel.paste_help"))
        if st.session_state.get(f"{key}.paste_error"):
            show_error(st.session_state[f"{key}.paste_error"])
            st.caption(t("kernel.kept_last"))


# ---------------------------------------------------------------- models
# cnnviz.models imports torch: only lessons that show a network call these.
@st.cache_resource(show_spinner=False, max_entries=8)
def shared_model(name: str, pretrained: bool = True):
    """One copy per server of each bundled/zoo model, shared read-only by every learner."""
    from . import models

    return models.load(name, pretrained=pretrained)


OWN = "__own__"
TRAINED = "__trained__"   # the network this learner trained in the Train lesson (session only)


def model_picker(key: str = "model", *, default: str = "digits", allow_zoo: bool = True,
                 allow_own: bool = True, where=None):
    """Pick a bundled model, an ImageNet model, or upload your own -> LoadedModel or None.

    Drawn in the lesson's main area (``where``, default: here), at the top of the lesson:
    on a 1280 x 800 projector the sidebar's navigation pushed a sidebar picker below the
    fold, and the class should see which network the teacher is showing. The selectbox
    and a one-line description share a row; the model card is an expander beside them.
    """
    from . import models

    trained = st.session_state.get("train.export") if allow_own else None
    names = list(models.BUNDLED_NAMES) + (list(models.ZOO_NAMES) if allow_zoo else []) + \
        ([TRAINED] if trained else []) + ([OWN] if allow_own else [])
    if st.session_state.get(key) not in (None, *names):
        del st.session_state[key]          # e.g. the trained network was cleared
    url_seed(key, key, str, lambda v: v in names and v not in (OWN, TRAINED))
    own_label = t("models.group_user")
    trained_label = t("models.trained_label", name=trained["card"]["name"]) if trained else ""
    current = lang()

    def fmt(name):
        return own_label if name == OWN else trained_label if name == TRAINED else models.label(name, current)

    box = where if where is not None else st.container()
    pick, about = box.columns([2, 3], gap="medium")
    name = pick.selectbox(":material/hub: " + t("models.picker_label"), names, index=names.index(default), key=key,
                          format_func=fmt, help=t("models.picker_help"))
    url_keep(key, None if name in (OWN, TRAINED) else name, default)   # a learner's own network can't travel
    about.caption(t("models.upload_help", max_mb=models.MAX_UPLOAD_MB) if name == OWN else
                  t("models.trained_help") if name == TRAINED else t(f"models.description.{name}"))
    with box:
        if name == OWN:
            loaded = _own_model(key)
        elif name == TRAINED:
            loaded = _trained_model(trained)
        elif models.is_zoo(name):
            loaded = _zoo_model(name, key)
        else:
            try:
                loaded = shared_model(name)
            except CnnvizError as err:
                show_error(err)
                loaded = None
    if loaded is not None:
        _card(loaded, about)
    return loaded


def _card(loaded, where=None) -> None:
    """The model card (an expander): what it was trained on, how well it does, how it was made."""
    card = loaded.card or {}
    metrics = card.get("metrics") or {}
    with (where if where is not None else st).expander(t("models.card_title")):
        acc = metrics.get("test_accuracy") or metrics.get("acc@1")
        if acc is not None:
            value = acc * 100 if acc <= 1 else acc
            st.markdown(t("models.accuracy", accuracy=f"{num(value, 1)} %"))
        st.markdown(t("models.params", params=num(loaded.num_params)))
        if isinstance(card.get("command"), str):
            st.code(card["command"], language="bash", wrap_lines=True)   # how the weights were rebuilt


def _zoo_model(name: str, key: str):
    from . import models

    status = models.zoo_status(name)
    if status.cached:
        try:
            return shared_model(name)
        except CnnvizError as err:
            show_error(err)
            return None
    size = f"{status.size_mb:.0f}" if status.size_mb else "?"
    st.warning(t("models.zoo_missing", name=models.label(name, lang()), file=status.filename, size_mb=size,
                 url=status.url, folder=str(status.folder)), icon=":material/inventory_2:")
    c1, c2 = st.columns(2)
    with c1:
        zoo_download_button(name, key)
    random = c2.toggle(t("inside.random_weights"), key=f"{key}.random.{name}", help=t("inside.random_help"))
    if random:
        return shared_model(name, pretrained=False)
    return None


def _trained_model(export: dict):
    """The network trained in the Train lesson, through the same safe loader as an upload."""
    from . import models

    memo = st.session_state.get("train.export_loaded")
    if memo and memo[0] is export:
        return memo[1]
    try:
        loaded = models.load_user_weights(export["weights"], "trained.safetensors", card=export["card"])
    except CnnvizError as err:
        show_error(err)
        return None
    st.session_state["train.export_loaded"] = (export, loaded)
    return loaded


def zoo_download_button(name: str, key: str) -> None:
    """A button that downloads zoo model ``name``'s weights with a progress bar, then reruns."""
    from . import models

    status = models.zoo_status(name)
    size = f"{status.size_mb:.0f}" if status.size_mb else "?"
    if not st.button(t("models.download_button", name=models.label(name, lang()), size_mb=size),
                     key=f"{key}.download.{name}", icon=":material/download:"):
        return
    bar = st.progress(0.0, text=t("models.downloading", file=status.filename, done_mb=0, total_mb=size))

    def progress(done, total):
        frac = done / total if total else 0.0
        bar.progress(min(frac, 1.0), text=t("models.downloading", file=status.filename,
                                             done_mb=f"{done / 2**20:.0f}", total_mb=size))
    try:
        import urllib.request

        models.download(name, progress, opener=lambda url: urllib.request.urlopen(url, timeout=20))
    except CnnvizError as err:
        bar.empty()
        show_error(err)
    else:
        st.success(t("models.download_done", name=models.label(name, lang())))
        st.rerun()


def _own_model(key: str):
    """The learner's uploaded weights: loaded for this session only (never shared)."""
    from . import models

    side = st   # the picker's container (model_picker draws us inside it)
    up1, up2 = st.columns(2)
    weights = up1.file_uploader(t("models.upload_label"), type=["safetensors", "pt", "pth"],
                                key=f"{key}.own_weights")
    card_file = up2.file_uploader(t("models.upload_card_label"), type=["json"], key=f"{key}.own_card")
    if weights is None:
        st.info(t("models.upload_help", max_mb=models.MAX_UPLOAD_MB), icon=":material/folder_open:")
        return None
    ident = (weights.file_id, getattr(card_file, "file_id", None))
    memo = st.session_state.get(f"{key}.own_loaded")
    if memo and memo[0] == ident:
        return memo[1]
    try:
        card = models.read_card(card_file.getvalue()) if card_file is not None else None
        loaded = models.load_user_weights(weights.getvalue(), weights.name, card=card)
    except CnnvizError as err:
        show_error(err)
        return None
    except Exception as err:  # noqa: BLE001 - a learner's file must never crash the lesson
        show_error(err)
        return None
    st.session_state[f"{key}.own_loaded"] = (ident, loaded)
    side.success(t("models.user_loaded", name=loaded.name, arch=loaded.arch, classes=len(loaded.classes)))
    return loaded


# ---------------------------------------------------------------- inside a network
@st.cache_resource(show_spinner=False, max_entries=8)
def _shared_outputs(name: str, source: str, pretrained: bool, picture: str, _model, _x):
    from . import inspect as insp

    return insp.activations(_model, _x)


def layer_outputs(loaded, x):
    """Every layer's output for ``x`` (``cnnviz.inspect.activations``), computed once.

    A bundled or ImageNet model is the same object for every learner, so its outputs for
    a picture are shared too: a class looking at the same sample costs one copy (VGG-16:
    110 MB), and at most 8 pictures are kept. A learner's own or trained network stays
    in their session. Callers must not modify the tensors.
    """
    import hashlib

    from . import inspect as insp

    picture = hashlib.sha256(x.numpy().tobytes()).hexdigest() + str(tuple(x.shape))
    if loaded.source in ("bundled", "zoo"):
        pretrained = bool((loaded.card or {}).get("pretrained", True))
        return _shared_outputs(loaded.name, loaded.source, pretrained, picture, loaded.model, x)
    return session_memo("own.outputs", (id(loaded.model), picture), lambda: insp.activations(loaded.model, x))


def session_memo(key: str, ident, compute):
    """``compute()`` once per ``ident`` for this learner (kept in their session only)."""
    memo = st.session_state.get(key)
    if memo is None or memo[0] != ident:
        memo = (ident, compute())
        st.session_state[key] = memo
    return memo[1]


@st.cache_resource(show_spinner=False)
def _class_memo():
    """The server-wide memo of ``model_memo``: {key: value} (LRU order) and a lock per key."""
    import collections
    import threading

    return collections.OrderedDict(), {}, threading.Lock()


CLASS_MEMO_ENTRIES = 64


def model_memo(loaded, key: str, ident, compute):
    """``compute()`` once per ``ident`` for the whole class when ``loaded`` is a bundled or ImageNet
    model (the same weights for everyone: 30 learners on the same picture cost one computation,
    and the ones who arrive while it runs wait for it instead of repeating it); a learner's own or
    trained network stays in their session (``session_memo``). Kept in the session too (as
    ``session_memo`` does, ``st.session_state[key] == (ident, value)``). Callers must not modify it.
    """
    if loaded.source not in ("bundled", "zoo"):
        return session_memo(key, ident, compute)
    return session_memo(key, ident, lambda: _class_value(loaded, key, ident, compute))


def _class_value(loaded, key: str, ident, compute):
    import threading

    pretrained = bool((loaded.card or {}).get("pretrained", True))
    full = (loaded.name, loaded.source, pretrained, key, ident)
    values, locks, guard = _class_memo()
    with guard:
        if full in values:
            values.move_to_end(full)
            return values[full]
        lock = locks.setdefault(full, threading.Lock())
    with lock:                                   # one learner computes, the others wait for it
        with guard:
            if full in values:
                return values[full]
        value = compute()
        with guard:
            values[full] = value
            while len(values) > CLASS_MEMO_ENTRIES:
                values.popitem(last=False)
            locks.pop(full, None)
    return value


def digit_canvas(key: str, px: int = 280):
    """A canvas to draw a digit with the mouse or a finger -> RGB PIL image, or None if empty."""
    from PIL import Image
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=max(10, px // 14), stroke_color="#000000", background_color="#ffffff",
                       height=px, width=px, drawing_mode="freedraw", return_image_data=True, key=key)
    data = getattr(result, "image_data", None) if result is not None else None
    if data is None or not np.any(data[..., :3].min(axis=2) < 128):
        return None
    rgba = Image.fromarray(np.asarray(data, dtype=np.uint8), "RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def show_filters(weight, channel: int, conv_name: str) -> None:
    """The learned filter that made ``channel``: colour for an RGB first layer, else per input channel."""
    from . import figures
    from . import inspect as insp

    imgs = insp.filter_images(weight)
    out_c, in_c, kh, kw = weight.shape
    if in_c == 3 and imgs.ndim == 4 and imgs.shape[-1] == 3:
        one = figures.filter_tiles(imgs[channel:channel + 1], cols=1, cell=168)
        st.image(one, caption=t("inside.filter_rgb", c=channel, layer=conv_name, k=kh), width=one.width)
        with st.expander(t("inside.all_filters", n=out_c, layer=conv_name)):
            grid = figures.filter_tiles(imgs, cols=8, cell=48)
            st.image(grid, width=grid.width)
            st.caption(t("inside.filters_scale"))
    else:
        tiles = figures.filter_tiles(imgs[channel][:64], cols=8, cell=48 if in_c > 1 else 168)
        st.image(tiles, width=tiles.width,
                 caption=t("inside.filter_slices", c=channel, layer=conv_name, k=kh, n=min(in_c, 64), total=in_c))
        st.caption(t("inside.filters_scale"))


TOP_IMAGES_N = 1000


_TOP: dict[str, tuple] = {}     # bundled model -> (its test images, every layer's top images), per server
_TOP_LOCK = threading.Lock()


def _top_images_for(name: str, progress=None):
    """For a bundled model: its first 1,000 test images and every layer's top images, computed once
    per server process. Not ``st.cache_resource``: the first computation draws its progress bar,
    which a cached function may not do. Two first requests at once: the second waits for the first."""
    import torch

    from . import data, models
    from . import inspect as insp

    with _TOP_LOCK:
        if name not in _TOP:
            loaded = shared_model(name)
            dataset = data.load_dataset(models.BUNDLED[name].dataset, train=False)
            x, _ = data.as_tensors(dataset, TOP_IMAGES_N)
            mean = torch.tensor(loaded.mean).view(1, -1, 1, 1)
            std = torch.tensor(loaded.std).view(1, -1, 1, 1)
            acts = insp.activations(loaded.model, ((x[:1] - mean) / std))
            layers = [n for n, a in acts.items() if n != "output" and a.ndim == 4]
            _TOP[name] = (x, insp.top_images(loaded.model, (x - mean) / std, layers, k=8, progress=progress))
        return _TOP[name]


def top_images(name: str, layer: str):
    """(images in [0, 1], TopImages of ``layer``) for bundled model ``name``, or None with a message.

    The first computation (1,000 images through the network) takes its turn in the server's line
    (``heavy_memo``: place in line, Cancel, progress); once computed, every learner gets it at once."""
    if name in _TOP:
        x, found = _TOP[name]
        return x, found[layer]
    text = t("inside.top_computing", n=TOP_IMAGES_N)
    top = heavy_memo("inside.top", name, "top_images", lambda job: _top_images_for(
        name, progress=lambda done, total: job.progress(done / max(total, 1), text=text)), text=text)
    return None if top is None else (top[0], top[1][layer])


def show_top_images(loaded, x, found, channel: int, field, *, per_row: int = 4) -> None:
    """The images (and their patches) that make ``channel`` fire most, Zeiler & Fergus style.

    Projector-sized: ``per_row`` images of about 168 px, each above the patch its strongest
    unit saw (enlarged); the first row shows, the rest is one click away. Where the patch
    reaches past the border, the outside is drawn as grey stripes (the network's padding)
    and said so. A dead channel, or one whose top images all tie, is explained instead of
    being shown as if its images meant something.
    """
    from PIL import Image, ImageOps

    from . import figures
    from . import inspect as insp

    status = found.status(channel)
    values = found.values[channel]
    searched = found.searched or TOP_IMAGES_N
    if status == "dead":
        st.warning(t("inside.top_dead", c=channel, v=num(float(values[0]), 2), n=searched),
                   icon=":material/block:")
        return
    if status == "tied":
        value, count = insp.tie(values)
        reach = int(found.reach[channel]) if found.reach is not None else len(values)
        st.info(t("inside.top_tied", c=channel, v=num(value, 2), count=count, k=len(values), reach=num(reach),
                  n=num(searched)), icon=":material/drag_handle:")
    padded = False

    def one(col, idx, value, rc):
        nonlocal padded
        arr = (x[int(idx)].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        img = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).convert("RGB")
        top, left, size = field.box(int(rc[0]), int(rc[1])) if not field.whole else (0, 0, max(img.size))
        framed = ImageOps.expand(figures.draw_box(img, (top, left, size, size), target=168, width=3), 2, "#8a99a8")
        col.image(framed, width="content")
        patch, outside = insp.padded_patch(np.asarray(img), top, left, size, target=168)
        padded |= outside > 0
        # a frame: a white patch must not melt into the white page
        col.image(ImageOps.expand(Image.fromarray(patch), 2, "#e07b00"), width="content")
        col.markdown(f"**{num(float(value), 2)}**")

    items = list(zip(found.images[channel], values, found.where[channel]))
    first, rest = items[:per_row], items[per_row:]
    for col, item in zip(st.columns(per_row), first):
        one(col, *item)
    if rest:
        with st.expander(t("inside.top_more", n=len(rest))):
            for col, item in zip(st.columns(per_row), rest):
                one(col, *item)
    st.caption(t("inside.top_caption", n=len(items), total=num(searched), rf=field.size))
    if padded:
        st.caption(t("inside.top_padding"))


# ---------------------------------------------------------------- small inputs
def parse_int_list(text: str, *, low: int, high: int) -> list[int]:
    """"16, 32, 64" -> [16, 32, 64]; anything else is a translated error naming the bad item."""
    items = [s.strip() for s in (text or "").replace(";", ",").split(",") if s.strip()]
    if not items:
        raise CnnvizError("why.error.empty_list")
    out = []
    for item in items:
        if not item.isdigit():
            raise CnnvizError("why.error.not_int", value=item[:20])
        value = int(item)
        if not low <= value <= high:
            raise CnnvizError("why.error.out_of_range", value=value, low=low, high=high)
        out.append(value)
    return out


@st.cache_data(show_spinner=False)
def layer_counts(name: str) -> list[tuple[str, str, int]]:
    """(layer, type, weights) of a model's architecture: no weights file needed."""
    from . import models, params

    if name in models.ZOO:
        from .models.zoo import build_zoo

        return params.model_counts(build_zoo(name))
    spec = models.BUNDLED[name]
    return params.model_counts(models.ARCHITECTURES[spec.arch](num_classes=len(spec.classes)))


# ---------------------------------------------------------------- heavy work, in line
WAIT_POLL = 0.5   # seconds between two updates of the place in line (a click interrupts the wait)


class HeavyJob:
    """What ``heavy`` yields: ``progress(fraction, text)`` for the job's reports (it stops a job
    whose ticket was cancelled), the status box (``None`` without one), the bar and the ticket."""

    def __init__(self, box, bar, ticket):
        self.box, self.bar, self.ticket = box, bar, ticket

    def progress(self, fraction: float, text: str | None = None) -> None:
        self.ticket.check()
        self.bar.progress(min(max(float(fraction), 0.0), 1.0), text=text)

    def check(self) -> None:
        self.ticket.check()


def _session_owner():
    """This learner, for the line: their Streamlit session (one heavy job per session)."""
    import threading

    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else f"thread-{threading.get_ident()}"


@contextmanager
def heavy(kind: str, *, cancel_key: str, label: str | None = None, cancel_label: str | None = None,
          preparing: str | None = None, owner=None):
    """Heavy work (training, integrated gradients, occlusion, the sanity check, top images) through
    the server's line, ``cnnviz.jobs.QUEUE``: ``with ui.heavy("occlusion", cancel_key=...) as job:``.

    While the learner waits, the bar says their place in line ("number 3"), updated every
    ``WAIT_POLL`` s, next to a Cancel button (``cancel_key``); once a slot is theirs it becomes the
    job's progress bar (``job.progress(fraction, text)``; call it from the job's progress reports).
    With ``label``, all this sits in an expanded ``st.status`` box of that label, with a note of the
    time spent in line; without, it is drawn in place and, when the job ends, replaced by that note
    (or nothing, if it did not wait).

    Cancel needs no handler: any click reruns the page, which interrupts this script at its next
    update, in line or running, and the ticket is given back. A job replaced by a newer request of
    the same learner raises ``cnnviz.jobs.Cancelled`` (a ``CnnvizError``) out of the ``with``.
    """
    from . import jobs

    holder = st.empty()
    with holder.container():
        with (st.status(label, expanded=True) if label else st.container()) as box:
            stop = st.empty()
            stop.button(cancel_label or t("jobs.cancel"), key=cancel_key, icon=":material/stop:")
            bar = st.progress(0.0, text=preparing or t("jobs.preparing"))
            note = st.empty()

            def on_wait(ticket):
                bar.progress(0.0, text=t("jobs.waiting", pos=ticket.position, slots=jobs.QUEUE.slots,
                                         button=cancel_label or t("jobs.cancel")))
                if label:
                    box.update(label=t("jobs.waiting_label", pos=ticket.position), expanded=True)

            ticket = None
            try:
                with jobs.QUEUE.run(kind, owner or _session_owner(), on_wait=on_wait, poll=WAIT_POLL) as ticket:
                    waited = t("jobs.waited", pos=ticket.first_position, secs=ticket.waited) \
                        if ticket.first_position else None
                    if label:   # (``expanded`` each time: an update without it folds the box)
                        box.update(label=label, expanded=True)
                    if waited:
                        note.caption(waited)
                    bar.progress(0.0, text=preparing or t("jobs.preparing"))
                    yield HeavyJob(box if label else None, bar, ticket)
            except jobs.Cancelled as err:
                if ticket is not None:      # cancelled while running: the caller's except shows it
                    raise
                # cancelled in line: only a newer request of this learner does that, and its own run
                # draws the page; this one says why it ends, and ends
                stop.empty()
                bar.empty()
                show_error(err)
                st.stop()
            stop.empty()
    if not label:   # drawn in place: the bar goes; the time spent in line stays (why this took longer)
        holder.caption(waited) if waited else holder.empty()


@contextmanager
def training_status(prefix: str, kind: str | None = None):
    """A training run drawn live in the page: ``with training_status("train") as (box, bar):``.

    An expanded ``st.status`` box (``{prefix}.training``) with a Stop button (``{prefix}.stop``)
    and a progress bar (``{prefix}.preparing`` until the first update), through the server's line
    of heavy work (``heavy``): first the learner's place in line, then the training. The button
    needs no handler: any click reruns the page, which interrupts the running script at its next
    update, so training (or the wait) stops.
    """
    with heavy(kind or prefix, cancel_key=f"{prefix}.stop", label=t(f"{prefix}.training"),
               cancel_label=t(f"{prefix}.stop"), preparing=t(f"{prefix}.preparing")) as job:
        yield job.box, job


def heavy_memo(key: str, ident, kind: str, compute, *, text: str | None = None, asked: bool = False):
    """``compute(job)`` once per ``ident`` for this learner, like ``session_memo``, but through the
    server's line (``heavy``: place in line, Cancel, progress). After a click on Cancel it returns
    None and says so, with a button to compute it after all (or ``asked``: the learner's own
    button was just pressed); a changed ``ident`` starts afresh."""
    memo = st.session_state.get(key)
    if memo is not None and memo[0] == ident:
        return memo[1]
    cancel_key, again_key, off = f"{key}.cancel", f"{key}.again", f"{key}.cancelled"
    if st.session_state.get(cancel_key):            # this rerun is the learner's Cancel click
        st.session_state[off] = ident
    if st.session_state.get(off) == ident and not (asked or st.session_state.get(again_key)):
        st.info(t("jobs.stopped"), icon=":material/stop_circle:")
        st.button(t("jobs.again"), key=again_key, icon=":material/play_arrow:")
        return None
    st.session_state.pop(off, None)
    try:
        with heavy(kind, cancel_key=cancel_key, preparing=text) as job:
            value = compute(job)
    except CnnvizError as err:                       # jobs.Cancelled: a newer request replaced it
        show_error(err)
        return None
    st.session_state[key] = (ident, value)
    return value


def keep_in_range(key: str, high: int, low: int = 0) -> None:
    """Before a slider keyed ``key`` is drawn: bring a value it kept from a bigger picture (or a
    link) back into ``low``..``high``; Streamlit raises on a value outside the slider's range."""
    value = st.session_state.get(key)
    if isinstance(value, (int, float)) and not low <= value <= max(low, high):
        st.session_state[key] = int(min(max(value, low), max(low, high)))


PLAY_TICK = 0.5   # seconds between two steps while Play is on (x1 = 2 positions a second)


def playing(prefix: str) -> bool:
    """Whether ``{prefix}.play`` is on: read it once per page run and give the fragment its timer,
    ``@st.fragment(run_every=ui.PLAY_TICK if ticking else None)``, then pass ``ticking`` on."""
    return bool(st.session_state.get(f"{prefix}.play", False))


def step_controls(prefix: str, pos_key: str, n: int, strongest: int, *, ticking: bool,
                  speeds: list[int] | None = None, speed_label=None, on_strongest=None,
                  strongest_help: str | None = None) -> int:
    """First / back / forward / last / strongest buttons, Play and a position slider -> the position.

    Call it inside a fragment whose timer runs when ``ticking`` (see ``playing``): each timer
    tick moves ``speed`` positions. A fragment's timer is fixed when the page defines it, so
    whenever Play and the timer disagree (Play was just switched on or off, inside the fragment,
    or the end was reached) the whole page reruns and defines the fragment again. Labels:
    ``{prefix}.first``, ``.prev``, ``.next``, ``.last``, ``.goto_max``, ``.play``, ``.speed``,
    ``.position``. ``on_strongest()`` runs too when the strongest button is pressed (e.g. it
    answers a question the lesson asks below: the guess is skipped), ``strongest_help`` says so.
    """
    # the position is always in the link (?conv.t=168): a lesson may start elsewhere than 0
    url_seed(pos_key, pos_key, int, lambda v: 0 <= v < n)
    st.session_state.setdefault(pos_key, 0)
    if st.session_state[pos_key] >= n:
        st.session_state[pos_key] = n - 1

    def move(delta=None, to=None):
        st.session_state[pos_key] = int(np.clip(st.session_state[pos_key] + delta if to is None else to, 0, n - 1))

    def to_strongest():
        move(to=int(strongest))
        if on_strongest is not None:
            on_strongest()
            st.session_state[f"{prefix}.max.rerun"] = True   # what it changed lies outside the fragment

    play_key, speed_key = f"{prefix}.play", f"{prefix}.speed"
    if ticking and st.session_state.get(play_key):
        if st.session_state[pos_key] < n - 1:
            move(st.session_state.get(speed_key, 1))
        else:                                   # the end: Play switches itself off
            st.session_state[play_key] = False
    b = st.columns([0.7, 0.7, 0.7, 0.7, 2.2, 1.4] + ([2] if speeds else []), vertical_alignment="bottom")
    b[0].button(":material/first_page:", key=f"{prefix}.first", on_click=move, kwargs={"to": 0},
                help=t(f"{prefix}.first"))
    b[1].button(":material/chevron_left:", key=f"{prefix}.prev", on_click=move, args=(-1,), help=t(f"{prefix}.prev"))
    b[2].button(":material/chevron_right:", key=f"{prefix}.next", on_click=move, args=(1,), help=t(f"{prefix}.next"))
    b[3].button(":material/last_page:", key=f"{prefix}.last", on_click=move, kwargs={"to": n - 1},
                help=t(f"{prefix}.last"))
    b[4].button(t(f"{prefix}.goto_max"), key=f"{prefix}.max", on_click=to_strongest, icon=":material/target:",
                help=strongest_help)
    b[5].toggle(t(f"{prefix}.play"), key=play_key)
    if speeds:
        if st.session_state.get(speed_key) not in speeds:  # the map changed size under us
            st.session_state[speed_key] = speeds[0]
        b[6].select_slider(t(f"{prefix}.speed"), speeds, key=speed_key, format_func=speed_label)
    if st.session_state[play_key] != ticking or st.session_state.pop(f"{prefix}.max.rerun", False):
        st.rerun()  # the whole page, so the fragment is defined again with its timer on or off
    if n > 1:
        st.slider(t(f"{prefix}.position"), 0, n - 1, key=pos_key)
    url_keep(pos_key, st.session_state[pos_key], None)
    return st.session_state[pos_key]


# ---------------------------------------------------------------- links that reproduce a view
# Widgets with ``bind="query-params"`` keep their value in the URL under their key (Streamlit drops
# a default value, and ignores an invalid one). State that isn't a plain widget (a custom kernel,
# the model, the picture, a class or channel whose widget key changes with the picture) is written
# by ``url_keep`` and read back by ``url_seed``. A bad value in a link is named in one warning at
# the top of the page, in the learner's language, and the default is used instead.
_LINK_BAD = "link.bad"
_LINK_SEEDED = "link.seeded"
PRESENT_VALUES = ("1", "true", "yes", "on")


def link_start(page: str) -> None:
    """Called by app.py before ``page`` runs: a place at the top for the warning, and what the
    URL said when this page was opened (for the widgets Streamlit binds natively)."""
    st.session_state[_LINK_BAD] = []
    st.session_state["link.slot"] = st.empty()
    arrived = st.session_state.get("link.page", ()) != page
    st.session_state["link.page"] = page
    st.session_state["link.incoming"] = dict(st.query_params.to_dict()) if arrived else {}
    if arrived:
        st.session_state[_LINK_SEEDED] = {}     # a page opened by a link: its values are applied afresh


def link_opened() -> bool:
    """Whether this run opened the page through a link with settings (not the sidebar, not a click)."""
    return any(k not in ("lang", "present") for k in st.session_state.get("link.incoming") or {})


def _loosely_equal(text: str, value) -> bool:
    if isinstance(value, bool):
        return text.strip().lower() == str(value).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return text == str(value)


def link_end() -> None:
    """Called by app.py after the page ran: a natively bound parameter that Streamlit dropped or
    corrected (stride=abc, t=999999) is reported like the others."""
    incoming = st.session_state.get("link.incoming") or {}
    now = st.query_params.to_dict()
    for param, raw in incoming.items():
        if param in ("lang", "present") or param in (st.session_state.get(_LINK_SEEDED) or {}):
            continue
        if now.get(param) == raw or param not in st.session_state:
            continue            # kept, or not a widget of this page
        if not _loosely_equal(raw, st.session_state[param]):
            _link_bad(param, raw)


def _link_bad(param: str, raw) -> None:
    bad = st.session_state.setdefault(_LINK_BAD, [])
    bad.append(f"{param}={str(raw)[:40]}")
    slot = st.session_state.get("link.slot")
    if slot is not None:
        slot.warning(t("app.link_bad", params=", ".join(bad)), icon=":material/link_off:")


def url_seed(param: str, key: str | None, parse, valid=lambda v: True) -> bool | None:
    """Before a widget: the value the link gives ``param`` becomes the widget's (``key``), once per
    link. ``parse`` turns the text into a value (may raise); ``valid`` says whether it may be used.
    A value that can't be used is reported and removed from the URL: the widget keeps its default.
    True when the link's value was just applied."""
    raw = st.query_params.get(param)
    seeded = st.session_state.setdefault(_LINK_SEEDED, {})
    if raw is None or seeded.get(param) == raw:
        return
    seeded[param] = raw
    try:
        value = parse(raw)
        ok = bool(valid(value))
    except (ValueError, TypeError, KeyError, IndexError, CnnvizError):
        ok = False
    if ok:
        if key is not None:
            st.session_state[key] = value
        return True
    else:
        _link_bad(param, raw)
        del st.query_params[param]      # (still marked as seen: reported once)


def url_keep(param: str, value, default, fmt=str) -> None:
    """After a widget: the URL says ``param``'s value, or nothing when it is ``default``."""
    want = None if value is None or value == default else fmt(value)
    seeded = st.session_state.setdefault(_LINK_SEEDED, {})
    if st.query_params.get(param) != want:
        if want is None:
            del st.query_params[param]
        else:
            st.query_params[param] = want
    if want is None:
        seeded.pop(param, None)
    else:
        seeded[param] = want


def encode_kernel(kernel: np.ndarray) -> str:
    """A kernel in one URL parameter: rows split by ";", values by "," ("0,1,0;1,-4,1;0,1,0")."""
    return ";".join(",".join(f"{float(v):.6g}" for v in row) for row in np.asarray(kernel))


def decode_kernel(text: str) -> np.ndarray:
    """``encode_kernel``'s inverse, for text from a link: at most 31 x 31 numbers of at most 10^6
    (``kernels.parse``'s limits), square; anything else is a ``KernelError``."""
    text = str(text or "")
    if len(text) > 12 * kernels.MAX_SIZE ** 2:
        raise CnnvizError("kernels.error.too_big", h="?", w="?", max=kernels.MAX_SIZE)
    kernel = kernels.parse([row.split(",") for row in text.split(";")])
    if kernel.shape[0] != kernel.shape[1]:
        raise CnnvizError("kernels.error.ragged", row=1, got=kernel.shape[1], want=kernel.shape[0])
    return kernel


def link_url() -> str:
    """The address of this view: the page, its parameters and the learner's language."""
    from urllib.parse import urlencode

    base = str(getattr(st.context, "url", None) or "").split("?")[0]
    params = {k: v for k, v in st.query_params.to_dict().items()}
    params["lang"] = lang()
    return base + "?" + urlencode(params, safe=",;:")


def copy_link(where=None) -> None:
    """A "Copy link" button (sidebar): copies the page's current address, which holds the whole
    view; the address is also shown, to copy by hand where a browser refuses (plain http)."""
    import html as html_lib
    import json

    box = where if where is not None else st.sidebar
    url = link_url()
    label, done = t("app.copy_link"), t("app.link_copied")
    box.html(f"""
<div class="cnnviz-link">
  <button type="button" id="cnnviz-copy" title="{html_lib.escape(t('app.copy_link_help'))}"
   style="padding:.35rem .8rem;border:1px solid #bbb;border-radius:.5rem;background:#fff;cursor:pointer">
   🔗 {html_lib.escape(label)}</button>
  <input id="cnnviz-url" readonly value="{html_lib.escape(url)}" aria-label="{html_lib.escape(label)}"
   style="width:100%;margin-top:.3rem;font-size:.75rem;border:1px solid #ddd;border-radius:.3rem;padding:.2rem"/>
</div>
<script>
(function() {{
  const doc = document, btn = doc.getElementById("cnnviz-copy"), box = doc.getElementById("cnnviz-url");
  if (!btn || btn.dataset.ready) return;
  btn.dataset.ready = "1";
  const here = () => {{
    const u = new URL(window.location.href);
    if (!u.searchParams.get("lang")) u.searchParams.set("lang", {json.dumps(lang())});
    return u.toString();
  }};
  box.addEventListener("focus", () => {{ box.value = here(); box.select(); }});
  btn.addEventListener("click", () => {{
    box.value = here();
    const shown = () => {{ btn.textContent = "✓ " + {json.dumps(done)}; }};
    if (navigator.clipboard && window.isSecureContext) {{
      navigator.clipboard.writeText(box.value).then(shown, () => {{ box.select(); doc.execCommand("copy"); shown(); }});
    }} else {{ box.select(); doc.execCommand("copy"); shown(); }}
  }});
}})();
</script>""", unsafe_allow_javascript=True)


def presenting() -> bool:
    """Presentation mode (``?present=1``): remembered for the session until the learner leaves it."""
    if "present.on" not in st.session_state:
        st.session_state["present.on"] = str(st.query_params.get("present", "")).lower() in PRESENT_VALUES
    return bool(st.session_state["present.on"])


PRESENT_CSS = """
<style>
  html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
  [data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p { font-size: 1.15rem !important; }
  h1 { font-size: 3rem !important; }
  h2 { font-size: 2.3rem !important; }
  h3 { font-size: 1.8rem !important; }
  [data-testid="stMetricValue"] { font-size: 2.6rem !important; }
  [data-testid="stSelectbox"] input, [data-testid="stNumberInput"] input, [data-testid="stTextInput"] input,
  [data-testid="stCode"] code { font-size: 1.05rem !important; }
  .block-container, [data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
</style>
"""


def present_mode() -> bool:
    """Larger type for a projector, and a sidebar switch to leave it (app.py calls this)."""
    on = presenting()

    def changed():
        if st.session_state["present.on"]:
            st.query_params["present"] = "1"
        elif "present" in st.query_params:
            del st.query_params["present"]

    st.sidebar.toggle(":material/co_present: " + t("app.present"), key="present.on", on_change=changed,
                      help=t("app.present_help"))
    if on:
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
        st.html(PRESENT_CSS)
    return on


# ------------------------------------------------------------------ predict, then reveal (issue 13)
# A guess is kept per lesson part (``prefix``) with the ``context`` it was made for (a digest of the
# picture and kernel, or of the network, picture and class): a new picture or kernel asks again.
# "Skip" is kept for the session (a teacher skips once); "Try again" asks again with a fresh picture.
def predict_context(*parts) -> str:
    """A short digest of what a guess is about (arrays, strings, numbers)."""
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    for p in parts:
        h.update(np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()


def predict_state(prefix: str, context: str) -> tuple[str, object]:
    """("ask", None), ("guessed", the guess) or ("skipped", None) for this part of the lesson."""
    if st.session_state.get(f"{prefix}.predict.skip"):
        return "skipped", None
    kept = st.session_state.get(f"{prefix}.predict.guess")
    if kept is not None and kept[0] == context:
        return "guessed", kept[1]
    return "ask", None


def predict_set(prefix: str, context: str, guess) -> None:
    st.session_state[f"{prefix}.predict.guess"] = (context, guess)


def predict_skip(prefix: str) -> None:
    st.session_state[f"{prefix}.predict.skip"] = True


def predict_again(prefix: str) -> None:
    """Forget the guess (and a skip): the question is asked again, with a fresh clickable picture."""
    st.session_state[f"{prefix}.predict.skip"] = False
    st.session_state.pop(f"{prefix}.predict.guess", None)
    st.session_state[f"{prefix}.predict.round"] = st.session_state.get(f"{prefix}.predict.round", 0) + 1


def predict_buttons(prefix: str, state: str, *, where=None, key_suffix: str = "") -> None:
    """"Skip: show it" while asking; "Try again" once revealed; "Predict first" after a skip
    (``key_suffix``: a second set of them elsewhere on the page)."""
    where = where or st
    if state == "ask":
        where.button(t(f"exercises.predict.skip.{prefix}"), key=f"{prefix}.predict.skip_button{key_suffix}",
                     on_click=predict_skip, args=(prefix,), icon=":material/visibility:", help=t("exercises.predict.skip_help"))
    else:
        where.button(t("exercises.predict.again" if state == "guessed" else "exercises.predict.first"),
                     key=f"{prefix}.predict.again_button{key_suffix}", on_click=predict_again, args=(prefix,),
                     icon=":material/replay:")


def click_on(img, key: str, width: int | None = None) -> tuple[float, float] | None:
    """Show ``img`` (PIL) ``width`` px wide (default: its own width) and return where the learner
    clicked: (row, col) in ``img``'s own pixels, (0, 0) being the centre of its top-left pixel;
    None before a click. The component (streamlit-image-coordinates, MIT)
    ships its JavaScript: nothing is fetched at run time."""
    from PIL import Image
    from streamlit_image_coordinates import streamlit_image_coordinates

    w, h = img.size
    width = int(width or w)
    s = max(1, -(-width // w))              # enlarged (nearest) so every pixel stays a crisp square
    big = img.convert("RGB").resize((w * s, h * s), Image.Resampling.NEAREST)
    value = streamlit_image_coordinates(big, key=key, width=width, cursor="crosshair")
    if not value or not value.get("width") or not value.get("height"):
        return None
    return (value["y"] * h / value["height"] - 0.5, value["x"] * w / value["width"] - 0.5)


def mark_guess(img, target: int, *, click=None, best=None, box=None):
    """``img`` enlarged (nearest) to about ``target`` px with the learner's ``click`` (row, col: a
    cyan ring with a cross) and the true answer: ``box`` (top, left, h, w: an orange outline) and
    ``best`` (row, col: an orange ring), all in ``img``'s pixels."""
    from PIL import Image, ImageDraw

    rgb = img.convert("RGB")
    w, h = rgb.size
    s = max(1, target // max(w, h))
    out = rgb.resize((w * s, h * s), Image.Resampling.NEAREST)
    d = ImageDraw.Draw(out)
    ring = max(7, round(s * 1.2))
    line = max(2, out.size[0] // 140)
    if box is not None:
        top, left, bh, bw = box
        d.rectangle([left * s, top * s, (left + bw) * s - 1, (top + bh) * s - 1], outline=(255, 160, 0), width=line)
    if best is not None:
        cy, cx = (best[0] + 0.5) * s, (best[1] + 0.5) * s
        d.ellipse([cx - ring, cy - ring, cx + ring, cy + ring], outline=(255, 160, 0), width=line)
    if click is not None:
        cy, cx = (click[0] + 0.5) * s, (click[1] + 0.5) * s
        d.ellipse([cx - ring, cy - ring, cx + ring, cy + ring], outline=(0, 230, 255), width=line)
        d.line([cx - ring - 4, cy, cx + ring + 4, cy], fill=(0, 230, 255), width=max(1, line // 2))
        d.line([cx, cy - ring - 4, cx, cy + ring + 4], fill=(0, 230, 255), width=max(1, line // 2))
    return out


# ---------------------------------------------------------------- the course: goals, self-checks, progress (issue 13)
# A learner alone follows the lessons in the navigation's order (app.py's PAGES), each opening with
# what they will be able to do, ending with a three-line summary, a self-check of generated questions
# (cnnviz.exercises) and a link to the next lesson. The sidebar counts lessons opened and questions
# answered right in this browser session, and offers them as a small report.
SELF_CHECK_OPENED = "course.opened"      # session state: {lesson url: True}, in the order opened
SELF_CHECK_RESULTS = "course.results"    # session state: {lesson url: {question id: ever answered right}}


from functools import lru_cache as _lru_cache  # noqa: E402


@_lru_cache(maxsize=1)
def course() -> tuple[tuple[str, str, str], ...]:
    """The lessons in course order: (page path, url, title key), read from app.py's ``PAGES``
    (the navigation is the one list; the home page is not a lesson)."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parent.parent / "app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(tg, "id", None) == "PAGES" for tg in node.targets):
            pages = ast.literal_eval(node.value)
            return tuple((path, url, title) for group in pages.values()
                         for path, url, title, _icon, default in group if not default)
    raise RuntimeError("app.py has no PAGES")


def _slug(lesson_url: str) -> str:
    return lesson_url.replace("-", "_")


def _opened() -> dict:
    return st.session_state.setdefault(SELF_CHECK_OPENED, {})


def _results() -> dict:
    return st.session_state.setdefault(SELF_CHECK_RESULTS, {})


def mark_opened(lesson_url: str) -> None:
    if lesson_url in {url for _, url, _ in course()}:
        _opened()[lesson_url] = True


def lesson_goal(lesson_url: str) -> None:
    """The lesson's first sentence: what the learner will be able to do after it."""
    mark_opened(lesson_url)
    with st.container(border=True, key=f"goal-{lesson_url}"):
        st.markdown(":material/flag: " + t(f"course.{_slug(lesson_url)}.goal"))


def lesson_summary(lesson_url: str) -> None:
    """Three lines: what the lesson taught."""
    with st.container(key=f"summary-{lesson_url}"):
        st.subheader(t("course.summary_title"))
        st.markdown(t(f"course.{_slug(lesson_url)}.summary").strip())


def next_lesson(lesson_url: str) -> None:
    """A link to the next lesson of the course (or, after the last one, back to the start)."""
    urls = [url for _, url, _ in course()]
    i = urls.index(lesson_url) if lesson_url in urls else len(urls) - 1
    if i + 1 < len(urls):
        path, _, title = course()[i + 1]
        with st.container(border=True, key=f"next-{lesson_url}"):     # big enough to find on a projector
            st.page_link(path, label=f"**{t('course.next', name=t(title))}**", icon=":material/arrow_forward:")
    else:
        st.success(t("course.last"), icon=":material/school:")
        st.page_link("lessons/home.py", label=t("course.back_home"), icon=":material/home:")


def lesson_end(lesson_url: str, *, context: dict | None = None) -> None:
    """The end of every lesson: summary, self-check, next lesson. A lesson that stops early in its
    normal course (nothing trained yet, nothing drawn yet) calls this before ``st.stop()``."""
    st.divider()
    lesson_summary(lesson_url)
    self_check(lesson_url, context=context)
    next_lesson(lesson_url)


def self_check(lesson_url: str, *, context: dict | None = None) -> None:
    """The lesson's self-check: one question per kind of ``exercises.KINDS[lesson_url]`` (>= 3),
    each in its own fragment (Check / New question rerun only that question).

    ``context``: values of the lesson for the kinds in ``exercises.CONTEXT``, either flat
    (``{"logits": ..., "classes": [...]}``, given to every kind that takes them) or per kind
    (``{"inside.predict_class": {...}}``).
    """
    from . import exercises as ex

    kinds = ex.KINDS[lesson_url]
    with st.container(key=f"selfcheck-{lesson_url}"):
        st.header(":material/quiz: " + t("exercises.header"))
        st.caption(t("exercises.intro"))
        for i, kind in enumerate(kinds):
            _self_check_question(lesson_url, i, kind, _kind_context(kind, context))


def _kind_context(kind: str, context: dict | None) -> dict:
    from . import exercises as ex

    if not context:
        return {}
    wanted = ex.CONTEXT.get(kind, ())
    own = context.get(kind, {}) if isinstance(context.get(kind), dict) else {}
    merged = {k: v for k, v in context.items() if k in wanted}
    merged.update({k: v for k, v in own.items() if k in wanted})
    return {k: v for k, v in merged.items() if v is not None}


def _context_sig(ctx: dict) -> str:
    """A short fingerprint of the lesson values a question was made from (a new picture: a new question)."""
    import hashlib

    h = hashlib.sha1()
    for k in sorted(ctx):
        v = ctx[k]
        h.update(k.encode())
        try:
            h.update(np.ascontiguousarray(np.asarray(v, dtype=np.float64)).tobytes())
        except (TypeError, ValueError):
            h.update(repr(v).encode())
    return h.hexdigest()[:16]


def _fresh_seed() -> int:
    import secrets

    return secrets.randbelow(2**31)


def _question_for(base: str, kind: str, ctx: dict):
    """The question shown at ``base`` (cached in the session with its seed and context)."""
    from . import exercises as ex

    seed = st.session_state.setdefault(base + ".seed", _fresh_seed())
    sig = f"{seed}:{_context_sig(ctx)}"
    cached = st.session_state.get(base + ".question")
    if cached is not None and cached[0] == sig:
        return sig, cached[1]
    try:
        q = ex.generate(kind, seed, **ctx)
    except Exception:   # noqa: BLE001 - a lesson value the generator can't use: a made-up question instead
        log.exception("self-check %s: context not usable", kind)
        q = ex.generate(kind, seed)
    st.session_state[base + ".question"] = (sig, q)
    return sig, q


def _new_question(base: str, kind: str, ctx: dict) -> None:
    """on_click of "New question": a fresh seed whose question reads differently, the answer cleared."""
    from . import exercises as ex

    _, old = _question_for(base, kind, ctx)
    before = ex.render_prompt(old), ex.expected_text(old)
    for _ in range(8):
        st.session_state[base + ".seed"] = _fresh_seed()
        _, q = _question_for(base, kind, ctx)
        if (ex.render_prompt(q), ex.expected_text(q)) != before or q.figure is not None:
            break
    for suffix in (".answer", ".result"):
        st.session_state.pop(base + suffix, None)


def _record(lesson_url: str, qid: str, correct: bool) -> bool:
    """Note an answer; True when it is a new right one (the sidebar's count changes)."""
    per = _results().setdefault(lesson_url, {})
    before = bool(per.get(qid))
    per[qid] = before or correct
    return per[qid] and not before


@st.fragment
def _self_check_question(lesson_url: str, i: int, kind: str, ctx: dict) -> None:
    from . import exercises as ex

    base = f"sc.{lesson_url}.{i}"
    sig, q = _question_for(base, kind, ctx)
    current = lang()
    with st.container(border=True, key=f"sc-{lesson_url}-{i}"):
        st.markdown(f"**{t('exercises.question_n', n=i + 1)}** · {ex.render_prompt(q, current)}")
        result = st.session_state.get(base + ".result")
        checked = result is not None and result[0] == sig
        _exercise_figure(q, base, revealed=checked)
        label = t("exercises.your_answer")
        if q.answer_type == "choice":      # the options across the question, the buttons under them
            names = [ex.render_choice(q, k, current) for k in range(len(q.choices))]
            st.radio(label, list(range(len(names))), index=None, key=base + ".answer", horizontal=True,
                     format_func=lambda k, _names=names: _names[k])
            b1, b2, _ = st.columns([1, 1, 2], vertical_alignment="bottom")
        else:                              # a typed answer: the field and its buttons on one row
            a, b1, b2 = st.columns([2, 1, 1], vertical_alignment="bottom")
            if q.answer_type == "number":
                a.text_input(label, key=base + ".answer", help=t("exercises.number_help"),
                             placeholder=t("exercises.number_placeholder"))
            else:
                a.text_area(label, key=base + ".answer", height=68,
                            help=t("exercises.matrix_help" if q.answer_type == "matrix" else "exercises.vector_help"),
                            placeholder=t("exercises.shape_placeholder", n=int(np.prod(q.shape or (1,)))))
        if b1.button(t("exercises.check"), key=base + ".check", type="primary", icon=":material/check:",
                     width="stretch"):
            given = st.session_state.get(base + ".answer")
            verdict = ex.check(q, given, current)
            st.session_state[base + ".result"] = result = (sig, given)
            checked = True
            if verdict.problem is None and _record(lesson_url, f"{i}:{sig}", verdict.correct):
                st.rerun()   # the whole page: the sidebar's count of right answers, outside this fragment
        b2.button(t("exercises.new_question"), key=base + ".new", icon=":material/casino:", width="stretch",
                  on_click=_new_question, args=(base, kind, ctx))
        if checked:
            verdict = ex.check(q, result[1], current)
            if verdict.problem is not None:
                nothing_picked = q.answer_type == "choice" and result[1] is None
                st.warning(t("exercises.error.choice", n=len(q.choices)) if nothing_picked else verdict.problem,
                           icon=":material/edit:")
            elif verdict.correct:
                st.success(t("exercises.correct", answer=verdict.expected_text), icon=":material/check_circle:")
                st.markdown(verdict.explanation)
            else:
                st.error(t("exercises.wrong", answer=verdict.expected_text), icon=":material/cancel:")
                st.markdown(verdict.explanation)


def _lines_figure(series, *, xtitle: str = "", ytitle: str = "", height: int = 230, steps: bool = False):
    """A small plotly line chart: ``series`` = [(name, x, y, dash)]."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, x, y, dash in series:
        fig.add_trace(go.Scatter(x=list(x), y=list(np.asarray(y, dtype=float)), name=name, mode="lines",
                                 line={"dash": dash, "width": 3}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title=xtitle,
                      yaxis_title=ytitle, legend={"orientation": "h", "y": 1.15, "x": 0}, font={"size": 15})
    if steps:           # whole steps (layers randomized): no 0.5 ticks
        fig.update_xaxes(dtick=1)
    return fig


def _exercise_figure(q, base: str, *, revealed: bool) -> None:
    """What a question shows with its prompt, drawn from ``q.figure`` by what each entry is: small
    matrices (windows, kernels, pooling inputs) as numbers in coloured cells, larger 2D arrays as
    pictures or coloured maps, short vectors as one row of cells, curves as plotly lines; each
    choice's own array (a kernel) under its label. Values that give the answer away (the
    activations of "which picture") only after checking."""
    from PIL import Image, ImageDraw, ImageOps

    from . import exercises as ex
    from . import figures

    f = dict(q.figure or {})
    current = lang()
    cap = lambda name: i18n.t(f"exercises.fig.{name}", current)   # noqa: E731
    option = [ex.render_choice(q, k, current) for k in range(len(q.choices))]
    panels: list = []      # (caption, html | PIL image | plotly figure)

    def cells(arr, name):
        a = np.atleast_2d(np.asarray(arr, dtype=np.float64))
        whole = bool(np.all(a == np.round(a)))
        # pixels in grey (their own range: a window of 0..9 is not black), kernels blue < 0 < red
        grey = name in ("window", "image") and a.min() >= 0 and a.max() <= 255
        scale = "gray" if grey else "signed" if name == "kernel" else "auto"
        return figures.matrix_html(a, scale=scale, vmin=float(a.min()) if grey else None,
                                   vmax=float(a.max()) if grey else None, digits=0 if whole else 2,
                                   cell=44 if a.size <= 16 else 38, hover="{value}")

    def picture(arr, name, points=None):
        a = np.asarray(arr, dtype=np.float64)
        if name == "image" or (name == "images" and a.min() >= 0 and a.max() <= 255):
            img = figures.upscale(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).convert("RGB"), 200)
        else:
            img = figures.upscale(figures.colorize(a), 200)
        if points:
            s = img.size[0] / a.shape[1]
            d = ImageDraw.Draw(img)
            from PIL import ImageFont
            font = ImageFont.load_default(size=max(14, int(img.size[0] / 11)))
            for k, (x, y) in enumerate(points):
                cx, cy, r = (x + 0.5) * s, (y + 0.5) * s, max(5, s * 0.6)
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(0, 230, 255), outline=(0, 0, 0), width=2)
                d.text((cx + r + 2, cy), chr(ord("A") + k), fill=(255, 255, 255), font=font, anchor="lm",
                       stroke_width=3, stroke_fill=(0, 0, 0))
        return ImageOps.expand(img, border=2, fill=(150, 150, 150))   # a white picture keeps its edge

    if "runs" in f:        # train.overfit: one chart per run
        for k, run in enumerate(f.pop("runs")):
            epochs = range(1, len(run["train"]) + 1)
            panels.append((option[k] if k < len(option) else "", _lines_figure(
                [(cap("train"), epochs, run["train"], "solid"), (cap("val"), epochs, run["val"], "dash")],
                xtitle=cap("epoch"), ytitle=cap("accuracy"))))
    if "train" in f and "val" in f:      # train.best_epoch
        tr, va = f.pop("train"), f.pop("val")
        epochs = range(1, len(tr) + 1)
        panels.append(("", _lines_figure([(cap("train"), epochs, tr, "solid"), (cap("val"), epochs, va, "dash")],
                                         xtitle=cap("epoch"), ytitle=cap("accuracy"))))
    if "curves" in f:      # explain.faithful: deletion curves over the fraction of pixels removed
        xs = f.pop("fractions", None)
        curves = f.pop("curves")
        xs = xs if xs is not None else range(len(curves[0]))
        panels.append(("", _lines_figure([(option[k] if k < len(option) else str(k), np.asarray(xs) * 100, c, "solid")
                                          for k, c in enumerate(curves)],
                                         xtitle=cap("removed"), ytitle=cap("probability"))))
    if "correlations" in f:   # explain.sanity: one line per method, layer after layer randomized
        corr = f.pop("correlations")
        panels.append(("", _lines_figure([(option[k] if k < len(option) else str(k), range(len(c)), c, "solid")
                                          for k, c in enumerate(corr)],
                                         xtitle=cap("randomized"), ytitle=cap("correlation"), steps=True)))
    if "logits" in f:      # made-up scores of a network: one bar per class
        import plotly.graph_objects as go

        z, classes = np.asarray(f.pop("logits"), dtype=float), f.pop("classes", None)
        names = [str(c) for c in (classes if classes is not None else range(len(z)))]
        fig = go.Figure(go.Bar(x=names, y=z, marker_color="#1f77b4"))
        fig.update_layout(height=230, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_title=cap("logits"),
                          font={"size": 15}, xaxis={"type": "category"})
        panels.append(("", fig))
    points = f.pop("points", None)
    activations = f.pop("activations", None)
    for name, value in f.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)) or value is None:
            continue         # settings already in the prompt (window, stride, position, epochs)
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
            continue         # names that would give the answer away
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 3:    # several pictures: one panel each, lettered like the options
            for k, img in enumerate(arr):
                extra = ""
                if revealed and activations is not None:
                    extra = " · " + t("exercises.fig.activation_is", value=ex.fmt(np.asarray(activations)[k], current, 1))
                panels.append((chr(ord("A") + k) + extra, picture(img, name)))
        elif arr.ndim == 2 and max(arr.shape) <= 8:
            panels.append((cap(name), cells(arr, name)))
        elif arr.ndim == 2:
            panels.append((cap(name), picture(arr, name, points if name == "heatmap" else None)))
        elif arr.ndim == 1 and arr.size <= 12:
            panels.append((cap(name), cells(arr, name)))
        elif arr.ndim == 1:
            panels.append((cap(name), _lines_figure([(cap(name), range(arr.size), arr, "solid")], height=170)))
    for k, choice in enumerate(q.choices):       # options that are arrays (kernels): drawn under their label
        if choice.figure is not None:
            panels.append((option[k], cells(choice.figure, "kernel")))
    if not panels:
        return
    per_row = 4 if len(panels) >= 4 and all(isinstance(p, str) for _, p in panels) else min(len(panels), 3)
    for start in range(0, len(panels), per_row):
        cols = st.columns(per_row, gap="medium")
        for j, (col, (caption, panel)) in enumerate(zip(cols, panels[start:start + per_row])):
            with col:
                if caption:
                    st.markdown(f"**{caption}**")
                if isinstance(panel, str):
                    st.html(panel)
                elif hasattr(panel, "save"):
                    st.image(panel, width="content")
                else:
                    plot(panel, key=f"{base}.fig.{start + j}")


def progress_sidebar(current_url: str | None = None) -> None:
    """The sidebar's progress view for this browser session: lessons opened, questions right, and
    a download of the report. ``current_url``: the page being opened (counted before it runs)."""
    if current_url:
        mark_opened(current_url)
    total = len(course())
    opened = sum(1 for _, url, _ in course() if url in _opened())
    right = sum(sum(per.values()) for per in _results().values())
    with st.sidebar.container(key="course-progress"):
        st.markdown(f"**:material/school: {t('course.progress_title')}**")
        st.progress(opened / max(total, 1), text=t("course.progress", opened=opened, total=total, right=right))
        st.download_button(t("course.report_download"), progress_report(), key="course.report",
                           file_name=t("course.report_file"), mime="text/markdown",
                           icon=":material/download:", width="stretch")


def progress_report(when=None) -> str:
    """This session's progress as Markdown in the learner's language: the date, and per lesson
    whether it was opened and how many self-check questions were answered and answered right."""
    import datetime

    when = when or datetime.datetime.now()
    opened, results = _opened(), _results()
    lines = [f"# {t('course.report_title')}", "",
             t("course.report_date", date=when.strftime(t("course.report_date_format"))), ""]
    total_answered = total_right = 0
    rows = []
    for _, url, title in course():
        per = results.get(url, {})
        answered, right = len(per), sum(per.values())
        total_answered += answered
        total_right += right
        seen = t("course.report_yes") if url in opened else t("course.report_no")
        rows.append(f"| {t(title)} | {seen} | {answered} | {right} |")
    lines.append(t("course.report_totals", opened=sum(1 for _, u, _ in course() if u in opened),
                   total=len(course()), answered=total_answered, right=total_right))
    lines += ["", f"| {t('course.report_lesson')} | {t('course.report_opened')} | {t('course.report_answered')} "
              f"| {t('course.report_right')} |", "|---|---|---:|---:|", *rows, ""]
    return "\n".join(lines)
