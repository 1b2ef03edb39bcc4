"""What the Train lesson shares between learners: its small training sets, the whole training set
and the plan of the network about to be trained (cached: the page reruns at every widget change);
and the editor of the learner's own architecture."""

from __future__ import annotations

import streamlit as st

from .language import t
from .models import shared_model


# cnnviz.data.splits and cnnviz.train.transfer import torch: loaded on the first call only.
@st.cache_resource(show_spinner=False, max_entries=6)
def small_split(name: str, per_class: int, seed: int, source: str | None, root: str):
    """The balanced few-images training set (shared, read-only: nobody changes its tensors).
    Where the images come from is part of the key: once the full dataset is downloaded (or the
    data folder changes), the bundled sample's split is not served any more."""
    from cnnviz.data import splits

    return splits.few_shot(name, per_class, seed=seed)


@st.cache_data(show_spinner=False, max_entries=64)
def layer_plan(dataset: str, num_classes: int, strategy: str, source: str | None, train_from: str | None):
    """(plan, trainable, frozen) of the network about to be trained. Cached: building it copies the
    source network (ResNet-18: 45 MB), and the page reruns at every widget change."""
    from cnnviz.train import transfer

    if strategy == "scratch":
        net, plan = transfer.scratch_model(dataset, num_classes)
    else:
        net, plan = transfer.transfer_model(shared_model(source).model, num_classes, train_from)
    return (plan, *transfer.param_split(net))


@st.cache_resource(show_spinner=False, max_entries=1)
def full_split(name: str, seed: int, root: str):
    """The whole training set (shared, read-only; MNIST: 190 MB of floats, one per server)."""
    from cnnviz.data import splits

    return splits.full_split(name, seed=seed)


# ---------------------------------------------------------------- your own architecture
BLOCK_FIELDS = ("channels", "kernel", "stride", "padding", "pool", "batch_norm", "dropout")
ARCH_PARAM = "arch"        # the link's parameter: the architecture's text (cnnviz.models.builder)


def _block_keys(prefix: str, i: int) -> dict[str, str]:
    return {f: f"{prefix}.b{i}.{f}" for f in BLOCK_FIELDS}


def _seed_architecture(prefix: str, arch) -> None:
    """Every widget of the editor set to ``arch``'s values (a link opened, or the first visit)."""
    st.session_state[f"{prefix}.blocks"] = len(arch.blocks)
    for i, b in enumerate(arch.blocks):
        keys = _block_keys(prefix, i)
        for f in BLOCK_FIELDS:
            value = getattr(b, f)
            st.session_state[keys[f]] = round(100 * value) if f == "dropout" else value
    st.session_state[f"{prefix}.dense"] = ", ".join(str(u) for u in arch.dense)
    st.session_state[f"{prefix}.dense_dropout"] = round(100 * arch.dropout)


def architecture_editor(prefix: str = "train"):
    """The learner's own network, block by block: one row of settings per conv block (channels,
    kernel, stride, padding, pooling, batch norm, dropout), Add / Remove block, the dense layers.
    Its text follows the link (``?arch=``; a damaged one is reported and the default is used).
    -> the ``cnnviz.models.builder.Architecture`` (or a ``CnnvizError`` for what can't be read)."""
    from cnnviz.base.errors import CnnvizError
    from cnnviz.maths.params import parse_int_list
    from cnnviz.models import builder

    from .links import url_keep, url_seed

    default = builder.Architecture()
    if url_seed(ARCH_PARAM, None, builder.parse):
        _seed_architecture(prefix, builder.parse(st.query_params[ARCH_PARAM]))
    elif f"{prefix}.blocks" not in st.session_state:
        _seed_architecture(prefix, default)
    n = st.session_state[f"{prefix}.blocks"]
    widths = [3, 2, 2, 2, 2, 3, 3]
    labels = {f: t(f"train.arch.{f}") for f in BLOCK_FIELDS}
    pool_label = _pool_label()
    blocks = []
    for i in range(n):
        keys = _block_keys(prefix, i)
        for f, value in zip(BLOCK_FIELDS, (32, 3, 1, 1, 2, True, 0)):
            st.session_state.setdefault(keys[f], value)
        shown = "visible" if i == 0 else "collapsed"
        cols = st.columns(widths, vertical_alignment="bottom")
        cols[0].number_input(labels["channels"], *builder.CHANNELS, key=keys["channels"], label_visibility=shown,
                             help=t("train.arch.channels_help", i=i + 1))
        cols[1].selectbox(labels["kernel"], range(builder.KERNEL[0], builder.KERNEL[1] + 1), key=keys["kernel"],
                          label_visibility=shown, help=t("train.arch.kernel_help"))
        cols[2].selectbox(labels["stride"], range(builder.STRIDE[0], builder.STRIDE[1] + 1), key=keys["stride"],
                          label_visibility=shown, help=t("train.arch.stride_help"))
        cols[3].selectbox(labels["padding"], range(builder.PADDING[0], builder.PADDING[1] + 1), key=keys["padding"],
                          label_visibility=shown, help=t("train.arch.padding_help"))
        cols[4].selectbox(labels["pool"], range(builder.POOL[0], builder.POOL[1] + 1), key=keys["pool"],
                          format_func=pool_label, label_visibility=shown, help=t("train.arch.pool_help"))
        cols[5].checkbox(labels["batch_norm"], key=keys["batch_norm"], label_visibility=shown,
                         help=t("train.arch.batch_norm_help"))
        cols[6].number_input(labels["dropout"], 0, round(100 * builder.DROPOUT[1]), step=5, key=keys["dropout"],
                             label_visibility=shown, help=t("train.arch.dropout_help"))
        s = st.session_state
        blocks.append(builder.Block(int(s[keys["channels"]]), int(s[keys["kernel"]]), int(s[keys["stride"]]),
                                    int(s[keys["padding"]]), int(s[keys["pool"]]), bool(s[keys["batch_norm"]]),
                                    int(s[keys["dropout"]]) / 100))

    def resize(by: int) -> None:
        st.session_state[f"{prefix}.blocks"] = min(max(1, n + by), builder.MAX_BLOCKS)

    b1, b2, d1, d2 = st.columns([2, 2, 3, 2], vertical_alignment="bottom")
    b1.button(t("train.arch.add"), key=f"{prefix}.add_block", icon=":material/add:", on_click=resize, args=(1,),
              disabled=n >= builder.MAX_BLOCKS, use_container_width=True)
    b2.button(t("train.arch.remove"), key=f"{prefix}.remove_block", icon=":material/remove:", on_click=resize,
              args=(-1,), disabled=n <= 1, use_container_width=True)
    dense_text = d1.text_input(t("train.arch.dense"), key=f"{prefix}.dense", help=t("train.arch.dense_help"))
    dense_dropout = d2.number_input(t("train.arch.dense_dropout"), 0, round(100 * builder.DROPOUT[1]), step=5,
                                    key=f"{prefix}.dense_dropout", help=t("train.arch.dropout_help"))
    try:
        dense = tuple(parse_int_list(dense_text, low=builder.UNITS[0], high=builder.UNITS[1])) \
            if dense_text.strip() else ()
        arch = builder.Architecture(tuple(blocks), dense, int(dense_dropout) / 100)
        arch.check()
    except CnnvizError as err:
        return err
    url_keep(ARCH_PARAM, arch.text(), default.text())
    return arch


def _pool_label():
    """The pooling choices' labels: "none", "2 × 2", "3 × 3"."""
    none = t("train.arch.no_pool")
    return lambda p: none if p == 1 else f"{p} × {p}"
