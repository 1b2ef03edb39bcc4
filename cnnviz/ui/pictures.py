"""Pictures: the image picker (samples, test pictures of a network's own dataset, uploads,
the camera) and the upload guard."""

from __future__ import annotations

import logging

import streamlit as st

from cnnviz.maths import images
from cnnviz.base.errors import CnnvizError
from .language import labels, lang, message, show_error, t
from .links import url_keep, url_seed

log = logging.getLogger("cnnviz")
WORKING_MAX_SIDE = 1024   # uploads are shrunk to this on arrival: every lesson stays fast


# ---------------------------------------------------------------- showing a picture
def image(pic, *, where=None, **kw) -> None:
    """``st.image`` for the lessons (same arguments; ``where``: a column or container): every
    picture is sent as PNG, every pixel kept, and encoded once per content for the whole class
    (``figures.png_shared``). Streamlit's own choice for a picture without transparency is a
    JPEG, encoded again on every run: blurred edges on enlarged pixels, and ten times the bytes
    of a PNG for a grid of maps. ``pic``: an image, a uint8 array, PNG bytes, or a list of them."""
    from ..figures import png_shared

    def encoded(p):
        if isinstance(p, (bytes, bytearray)):
            return p                       # already encoded (PNG: kept panels)
        data = png_shared(p)
        return p if data is None else data   # anything else: Streamlit converts it, as PNG

    data = [encoded(p) for p in pic] if isinstance(pic, (list, tuple)) else encoded(pic)
    (where or st).image(data, output_format="PNG", **kw)


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


def decode_uploads(files, memo: dict, kept: dict, decode, limit: int) -> tuple[list, list[str]]:
    """The first ``limit`` files of a multiple upload, each decoded once (``images.load_image``, then
    ``decode``) and remembered in ``memo`` (upload id -> what ``decode`` made, None for a file that is
    no picture); ``kept`` gets the ids still uploaded. -> (the pictures, the names of the bad files)."""
    pictures, bad = [], []
    for f in (files or [])[:limit]:
        ident = getattr(f, "file_id", None) or (f.name, f.size)
        if ident not in memo:
            try:
                memo[ident] = decode(images.load_image(f.getvalue()))
            except CnnvizError:
                memo[ident] = None
        kept[ident] = memo[ident]
        if memo[ident] is None:
            bad.append(f.name)
        else:
            pictures.append(memo[ident])
    return pictures, bad


WORLD_PICTURES = 10   # test pictures offered per network: the first one of each class


@st.cache_resource(show_spinner=False, max_entries=8)
def _dataset_pictures(name: str):
    """[(test index, true class, RGB image)]: the first test picture of each class of dataset
    ``name`` (``cnnviz.data.datasets.example_image``: the bundled sample, so it works offline). [] if none."""
    from cnnviz.data import datasets

    first: dict[int, int] = {}
    try:
        for i in range(200):
            first.setdefault(datasets.example_label(name, i), i)
            if len(first) == WORLD_PICTURES:
                break
        return [(i, y, datasets.example_image(name, i)) for i, y in sorted((i, y) for y, i in first.items())]
    except (CnnvizError, IndexError, OSError) as err:
        log.warning("no test pictures of %s: %s", name, err)
        return []


def _own_pictures(loaded):
    """The learner's own pictures a network from the Train lesson was tested on, [(i, class, image)]
    (``st.session_state["train.export"]``: a ``cnnviz.train.experiment.TrainedNetwork``)."""
    export = st.session_state.get("train.export")
    memo = st.session_state.get("train.export_loaded")
    if export is None or not memo or memo[1] is not loaded:
        return []
    return export.example_pictures()


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
    from cnnviz.data import datasets

    dataset = model_dataset(loaded)
    if dataset == "own":
        pictures = _own_pictures(loaded)
    elif dataset in datasets.DATASETS:
        pictures = _dataset_pictures(dataset)
    else:
        return None
    return (dataset, pictures) if pictures else None


def image_picker(key: str, *, default: str = "mouse", camera: bool = True, label: str | None = None,
                 model=None, class_hidden=None):
    """Sample / upload / camera -> RGB PIL image, or None (with a message) when there is none.

    With ``model`` (a ``LoadedModel``), a first source is offered: a test picture of the network's
    own dataset with its true class (an MNIST digit for the digits network, a Fashion-MNIST item for
    the clothes network, a CIFAR-10 photo for Tiny VGG, the trained dataset or the learner's own
    pictures for a network from the Train lesson). It is the default whenever the lesson opens or
    the network changes: every network opens on a picture from its own world. ImageNet networks
    have no such source and open on the sample ``default``.

    ``class_hidden``: a function of a test picture, True while its true class must not show (a
    lesson that asks the learner to guess the network's answer first): its class reads "?".
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

        hidden = class_hidden is not None and class_hidden(by_index[st.session_state[f"{key}.example"]][1])

        def describe_class(i):
            y = by_index[i][0]
            return "?" if hidden else classes[y] if y < len(classes) else str(y)

        def describe(i):
            return option(c=describe_class(i), i=i)

        i = st.selectbox(t("picker.test_image"), list(by_index), key=f"{key}.example", format_func=describe,
                         help=t("picker.test_help"))
        url_keep(f"{key}.example", i, pictures[0][0])
        from ..figures import upscale

        image(upscale(by_index[i][1], 112), width="content", caption=t("picker.true_class", c=describe_class(i)))
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
