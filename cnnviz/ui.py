"""The only streamlit-aware module of cnnviz: shared widgets and session helpers.

Pages stay thin: they call these widgets and the cnnviz functions, and show
figures. Every string goes through ``t`` (the learner's language); every
``CnnvizError`` is shown with ``show_error`` in that language, never as a
traceback.
"""

from __future__ import annotations

from contextlib import contextmanager

import logging

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
    fig.update_layout(separators=",." if lang() == "pt_BR" else ".,")
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
        st.rerun()
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
    text = where.text_input(label, key=key, help=help)
    try:
        st.session_state[good] = kernels.parse_value(text, label)
    except CnnvizError as err:
        where.error(err.message(lang()), icon=":material/warning:")
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
    src = st.session_state.get(f"{key}.src")
    st.session_state[f"{key}.src"] = src if src in sources else sources[0]
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
        from .figures import upscale

        st.image(upscale(by_index[i][1], 112), width="content", caption=t("picker.true_class", c=describe_class(i)))
        return by_index[i][1]
    if src == "sample":
        names = list(images.SAMPLES)
        chosen = st.session_state.get(f"{key}.sample")
        st.session_state[f"{key}.sample"] = chosen if chosen in names else default
        name = st.selectbox(t("picker.sample"), names, key=f"{key}.sample", format_func=labels("samples."))
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


def _kernel_presets(key: str) -> None:
    def on_preset():
        name = st.session_state[f"{key}.preset"]
        _set_kernel(key, kernels.make(name, st.session_state.get(f"{key}.preset_size")
                                      if kernels.resizable(name) else None))
    # persist_state: the preset is still named when the learner comes back from the other tabs
    name = st.selectbox(t("kernel.preset"), kernels.PRESET_NAMES, key=f"{key}.preset", persist_state="session",
                        format_func=labels("kernel.presets."), on_change=on_preset)
    if kernels.resizable(name):
        st.select_slider(t("kernel.size"), kernels.SIZES, value=kernels.natural_size(name),
                         key=f"{key}.preset_size", on_change=on_preset, persist_state="session")
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
            st.rerun()

    def on_paste():
        try:
            _set_kernel(key, kernels.parse_text(st.session_state[f"{key}.paste"]))
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
    own_label = t("models.group_user")
    trained_label = t("models.trained_label", name=trained["card"]["name"]) if trained else ""
    current = lang()

    def fmt(name):
        return own_label if name == OWN else trained_label if name == TRAINED else models.label(name, current)

    box = where if where is not None else st.container()
    pick, about = box.columns([2, 3], gap="medium")
    name = pick.selectbox(":material/hub: " + t("models.picker_label"), names, index=names.index(default), key=key,
                          format_func=fmt, help=t("models.picker_help"))
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


@st.cache_resource(show_spinner=False, max_entries=6)
def _top_images_for(name: str):
    """For a bundled model: its first 1,000 test images and every layer's top images (computed once)."""
    import torch

    from . import data, models
    from . import inspect as insp

    loaded = shared_model(name)
    dataset = data.load_dataset(models.BUNDLED[name].dataset, train=False)
    x, _ = data.as_tensors(dataset, TOP_IMAGES_N)
    mean = torch.tensor(loaded.mean).view(1, -1, 1, 1)
    std = torch.tensor(loaded.std).view(1, -1, 1, 1)
    acts = insp.activations(loaded.model, ((x[:1] - mean) / std))
    layers = [n for n, a in acts.items() if n != "output" and a.ndim == 4]
    found = insp.top_images(loaded.model, (x - mean) / std, layers, k=8)
    return x, found


def top_images(name: str, layer: str):
    """(images in [0, 1], TopImages of ``layer``) for bundled model ``name``, or None with a message."""
    try:
        with st.spinner(t("inside.top_computing", n=TOP_IMAGES_N)):
            x, found = _top_images_for(name)
    except CnnvizError as err:
        show_error(err)
        return None
    return x, found[layer]


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


# ---------------------------------------------------------------- stepping a kernel
@contextmanager
def training_status(prefix: str):
    """A training run drawn live in the page: ``with training_status("train") as (box, bar):``.

    An expanded ``st.status`` box (``{prefix}.training``) with a Stop button and a progress bar
    (``{prefix}.preparing`` until the first update). The button needs no handler: any click reruns
    the page, which interrupts the running script at its next update, so training stops.
    """
    with st.status(t(f"{prefix}.training"), expanded=True) as box:
        stop_box = st.empty()
        stop_box.button(t(f"{prefix}.stop"), key=f"{prefix}.stop", icon=":material/stop:")
        bar = st.progress(0.0, text=t(f"{prefix}.preparing"))
        yield box, bar
        stop_box.empty()


PLAY_TICK = 0.5   # seconds between two steps while Play is on (x1 = 2 positions a second)


def playing(prefix: str) -> bool:
    """Whether ``{prefix}.play`` is on: read it once per page run and give the fragment its timer,
    ``@st.fragment(run_every=ui.PLAY_TICK if ticking else None)``, then pass ``ticking`` on."""
    return bool(st.session_state.get(f"{prefix}.play", False))


def step_controls(prefix: str, pos_key: str, n: int, strongest: int, *, ticking: bool,
                  speeds: list[int] | None = None, speed_label=None) -> int:
    """First / back / forward / last / strongest buttons, Play and a position slider -> the position.

    Call it inside a fragment whose timer runs when ``ticking`` (see ``playing``): each timer
    tick moves ``speed`` positions. A fragment's timer is fixed when the page defines it, so
    whenever Play and the timer disagree (Play was just switched on or off, inside the fragment,
    or the end was reached) the whole page reruns and defines the fragment again. Labels:
    ``{prefix}.first``, ``.prev``, ``.next``, ``.last``, ``.goto_max``, ``.play``, ``.speed``,
    ``.position``.
    """
    st.session_state.setdefault(pos_key, 0)
    if st.session_state[pos_key] >= n:
        st.session_state[pos_key] = n - 1

    def move(delta=None, to=None):
        st.session_state[pos_key] = int(np.clip(st.session_state[pos_key] + delta if to is None else to, 0, n - 1))

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
    b[4].button(t(f"{prefix}.goto_max"), key=f"{prefix}.max", on_click=move, icon=":material/target:",
                kwargs={"to": int(strongest)})
    b[5].toggle(t(f"{prefix}.play"), key=play_key)
    if speeds:
        if st.session_state.get(speed_key) not in speeds:  # the map changed size under us
            st.session_state[speed_key] = speeds[0]
        b[6].select_slider(t(f"{prefix}.speed"), speeds, key=speed_key, format_func=speed_label)
    if st.session_state[play_key] != ticking:
        st.rerun()  # the whole page, so the fragment is defined again with its timer on or off
    if n > 1:
        st.slider(t(f"{prefix}.position"), 0, n - 1, key=pos_key)
    return st.session_state[pos_key]
