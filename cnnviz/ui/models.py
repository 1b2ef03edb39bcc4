"""The model picker: bundled networks, torchvision's zoo (download on demand), the learner's
own weights and the network they trained in the Train lesson."""

from __future__ import annotations


import streamlit as st

from cnnviz.base.errors import CnnvizError
from .language import lang, num, show_error, t
from .links import url_keep, url_seed



# ---------------------------------------------------------------- models
# cnnviz.models imports torch: only lessons that show a network call these.
@st.cache_resource(show_spinner=False, max_entries=8)
def shared_model(name: str, pretrained: bool = True):
    """One copy per server of each bundled/zoo model, shared read-only by every learner."""
    from .. import models

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
    from .. import models

    trained = st.session_state.get("train.export") if allow_own else None
    names = list(models.BUNDLED_NAMES) + (list(models.ZOO_NAMES) if allow_zoo else []) + \
        ([TRAINED] if trained else []) + ([OWN] if allow_own else [])
    if st.session_state.get(key) not in (None, *names):
        del st.session_state[key]          # e.g. the trained network was cleared
    url_seed(key, key, str, lambda v: v in names and v not in (OWN, TRAINED))
    own_label = t("models.group_user")
    trained_label = t("models.trained_label", name=trained.name) if trained else ""
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
    from .. import models

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
    random = c2.toggle(t("models.random_weights"), key=f"{key}.random.{name}", help=t("models.random_help"))
    if random:
        return shared_model(name, pretrained=False)
    return None


def _trained_model(export):
    """The network trained in the Train lesson (a ``cnnviz.train.experiment.TrainedNetwork``), through
    the same safe loader as an upload."""
    from .. import models

    memo = st.session_state.get("train.export_loaded")
    if memo and memo[0] is export:
        return memo[1]
    try:
        loaded = models.load_user_weights(export.weights, "trained.safetensors", card=export.card)
    except CnnvizError as err:
        show_error(err)
        return None
    st.session_state["train.export_loaded"] = (export, loaded)
    return loaded


def zoo_download_button(name: str, key: str) -> None:
    """A button that downloads zoo model ``name``'s weights with a progress bar, then reruns."""
    from .. import models

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
    from .. import models

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
