"""Lesson: the data a CNN learns from: samples, counts, sizes, pixel statistics and the normalization
constants, augmentations and a DataLoader's batches (seeds 000 and 002, issue 19)."""

import streamlit as st

from cnnviz import course, data, figures, ui
from cnnviz.data import explore
from cnnviz.maths import images
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("datasets")
DATASETS = ("mnist", "fashion", "cifar10-subset")
PER_CLASS = 8            # pictures shown per class
MAX_OWN = 100            # the learner's own pictures looked at (64 x 64 each, as the Train lesson keeps them)
AUGMENTED = 6            # random versions shown per augmentation
BATCHES = [16, 32, 64, 128, 256]


def class_names(name: str, n: int) -> list[str]:
    """The classes in the learner's language (the bundled network trained on the data names them)."""
    if name == "own":
        return [t("datasets.own_class")]
    return [t(f"models.classes.{transfer.model_trained_on(name)}.{i}") for i in range(n)]


def own_pictures():
    """The learner's uploads, each kept as 64 x 64 RGB; the files that are no picture are listed.
    -> the collection, or the page stops with a hint while there is none."""
    files = st.file_uploader(t("datasets.own_upload"), type=images.EXTENSIONS, accept_multiple_files=True,
                             key="datasets.own_files", help=t("datasets.own_upload_help"))
    memo, kept = st.session_state.get("datasets.own_memo", {}), {}   # upload id -> uint8 picture (None: unreadable)
    pictures, bad = ui.decode_uploads(files, memo, kept, explore.own_picture, MAX_OWN)
    st.session_state["datasets.own_memo"] = kept                # forget pictures that were removed
    if bad:
        st.warning(t("datasets.own_bad", names=", ".join(bad)), icon=":material/broken_image:")
    if len(files or []) > MAX_OWN:
        st.caption(t("datasets.own_limit", n=MAX_OWN))
    try:
        return explore.own_collection(pictures)
    except CnnvizError as err:
        st.info(err.message(ui.lang()), icon=":material/add_photo_alternate:")
        st.stop()


def the_data():
    """1. Which pictures: a dataset (its whole training set, or the bundled sample) or the learner's
    own, and the sentence that says which and how many. -> (collection, class names)."""
    st.header(t("datasets.data_header"))
    available = [d for d in DATASETS if data.source(d)]
    options = available + ["own"]
    ui.url_seed("datasets.data", "datasets.dataset", str, lambda v: v in options)   # ids in the link, not labels
    name = st.selectbox(t("datasets.dataset"), options, key="datasets.dataset", format_func=ui.labels("datasets.ds."))
    ui.url_keep("datasets.data", name, options[0])
    if name == "own":
        col = own_pictures()
        st.markdown(t("datasets.looking_own", n=col.n, side=col.height))
    else:
        try:
            with st.spinner(t("datasets.loading")):
                col = ui.dataset_collection(name, data.source(name), str(data.data_root()))
        except CnnvizError as err:
            ui.show_error(err)
            st.stop()
        where = "sample" if col.source == "sample" else "subset" if name == "cifar10-subset" else "full"
        total = explore.constants_of(name)[1]             # the training images the constants come from
        st.markdown(t(f"datasets.looking_{where}", n=col.n, name=t(f"datasets.short.{name}"),
                      folder=str(data.data_root()), share=ui.num(100 * col.n / total), total=total))
    if len(available) < len(DATASETS):
        missing = [t(f"datasets.ds.{d}") for d in DATASETS if d not in available]
        st.caption(t("datasets.some_missing", names=", ".join(missing), folder=str(data.data_root())))
    return col, class_names(name, col.num_classes)


def the_samples(col, names: list[str]) -> None:
    """2. Pictures of every class, one row each (the first ones, or a seeded draw)."""
    st.header(t("datasets.samples_header"))
    seed = int(st.columns([1, 3])[0].number_input(t("datasets.seed"), 0, 9999, 0, key="datasets.seed",
                                                  bind="query-params", help=t("datasets.seed_help")))
    rows = explore.samples_per_class(col.labels, col.num_classes, PER_CLASS, seed)
    cell = 64 if ui.presenting() else 48
    for c, idx in enumerate(rows):
        label, row = st.columns([1, 5], vertical_alignment="center")
        label.markdown(f"**{names[c]}**")
        if idx:
            ui.image(figures.picture_row([col.images[i] for i in idx], cell=cell), width="content", where=row)
        else:
            row.caption(t("datasets.no_picture"))


def the_counts(col, names: list[str]) -> None:
    """3. How many pictures each class has (bars)."""
    st.header(t("datasets.counts_header"))
    counts = explore.class_counts(col.labels, col.num_classes)
    ui.plot(figures.count_bars(names, [int(v) for v in counts], font=20 if ui.presenting() else 14),
            key="datasets.counts")
    same = counts.min() == counts.max()
    st.caption(t("datasets.counts_same" if same else "datasets.counts_spread", n=int(counts.sum()),
                 low=int(counts.min()), high=int(counts.max())))


def the_shape(col) -> None:
    """4. One picture's size and channels, and the numbers the whole collection stores."""
    st.header(t("datasets.shape_header"))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("datasets.shape"), f"{col.height} × {col.width} × {col.channels}", help=t("datasets.shape_help"))
    m2.metric(t("datasets.per_image"), ui.num(col.values_per_image))
    m3.metric(t("datasets.all_values"), ui.num(col.values))
    st.markdown(t("datasets.shape_text", h=col.height, w=col.width, c=col.channels, per=ui.num(col.values_per_image),
                  n=ui.num(col.n), total=ui.num(col.values), mb=ui.num(col.values / 1e6, 1)))


def statistics_of(col, name: str):
    """The pixel counts per channel and their mean and std, computed now (a dataset's once per server)."""
    counts = explore.histogram(col.images) if name == "own" else \
        ui.dataset_histogram(name, data.source(name), str(data.data_root()))
    return counts, explore.channel_stats(counts)


def the_guess(col, name: str, stats) -> str:
    """Predict, then reveal: is the average pixel dark or bright? The statistics wait for the guess.
    -> "ask", "guessed" or "skipped"."""
    st.header(t("datasets.stats_header"))
    about = ui.predict_context(name, col.source, col.n, col.values)
    state, guess = ui.predict_state("datasets", about)
    bands = [t(f"datasets.band.{i}") for i in range(len(explore.BANDS) + 1)]
    if state == "ask":
        ui.predict_choice("datasets", about, bands, ask=t("datasets.predict_ask"), pick=t("datasets.predict_pick"),
                          reveal=t("datasets.predict_reveal"))
        return state
    if state == "guessed":
        right = explore.brightness_band(stats.overall)
        said = {"m": ui.num(stats.overall, 3), "band": bands[right]}
        if guess == right:
            st.success(t("datasets.predict_right", **said), icon=":material/ads_click:")
        else:
            st.warning(t("datasets.predict_wrong", g=bands[guess], **said), icon=":material/ads_click:")
    return state


def channel_names(col) -> list[str]:
    """"R", "G", "B" for colour pictures, the grey channel's name otherwise."""
    return ["R", "G", "B"] if col.channels == 3 else [t("datasets.gray")]


def the_statistics(col, name: str, counts, stats, state: str) -> None:
    """5. Once guessed: the pixel histogram per channel, the mean and std computed now, the constants
    the networks normalize with (and where each comes from) and what normalizing does."""
    if state == "ask":
        st.caption(t("datasets.stats_hidden"))
        return
    chans = channel_names(col)
    font = 20 if ui.presenting() else 14
    log = explore.peaked(counts)
    ui.plot(figures.pixel_histogram(counts, chans, xtitle=t("datasets.hist_x"), ytitle=t("datasets.hist_y"),
                                    font=font, log=log), key="datasets.hist")
    st.caption(t("datasets.hist_caption_log" if log else "datasets.hist_caption", n=ui.num(stats.pixels)))
    origin, n_origin, mean, std = explore.constants_of(transfer.OWN_LIKE if name == "own" else name)
    after_mean, after_std = explore.after_normalize(stats, mean, std)
    head = [t("datasets.col_channel"), t("datasets.col_mean_now"), t("datasets.col_mean_net"),
            t("datasets.col_std_now"), t("datasets.col_std_net"), t("datasets.col_after")]
    rows = [f"| {' | '.join(head)} |", "|" + " --- |" * len(head)]
    for i, c in enumerate(chans):
        rows.append(f"| {c} | {ui.num(stats.mean[i], 4)} | {ui.num(mean[i], 4)} | {ui.num(stats.std[i], 4)} | "
                    f"{ui.num(std[i], 4)} | {ui.num(after_mean[i], 2)} / {ui.num(after_std[i], 2)} |")
    st.markdown("\n".join(rows))
    nets = ", ".join(models.label(m, ui.lang()) for m in explore.networks_using(
        transfer.OWN_LIKE if name == "own" else name))
    st.markdown(t("datasets.where_from", n=ui.num(n_origin), origin=t(f"datasets.origin.{origin}"), nets=nets))
    same = all(round(a, 4) == b for a, b in zip(stats.mean + stats.std, mean + std))
    st.markdown(t("datasets.match" if same else f"datasets.differ_{col.source}", n=ui.num(col.n)))
    white = explore.after_normalize(explore.ChannelStats((1.0,) * len(mean), (0.0,) * len(mean), 1), mean, std)[0]
    black = explore.after_normalize(explore.ChannelStats((0.0,) * len(mean), (0.0,) * len(mean), 1), mean, std)[0]
    st.latex(rf"x' = \frac{{x/255 - \text{{{t('datasets.tex_mean')}}}}}{{\text{{{t('datasets.tex_std')}}}}}")
    st.markdown(t("datasets.normalize_text", m=ui.num(mean[0], 4), s=ui.num(std[0], 4), black=ui.num(black[0], 2),
                  white=ui.num(white[0], 2)))
    st.caption(t("datasets.imagenet", mean="; ".join(ui.num(v, 3) for v in zoo.IMAGENET_MEAN),
                 std="; ".join(ui.num(v, 3) for v in zoo.IMAGENET_STD)))
    ui.predict_buttons("datasets", state)


def the_augmentations(col, name: str, names: list[str]) -> None:
    """6. What each augmentation does to one picture: the ones the app's training uses (shift, flip),
    then common ones it does not use (rotation, crop, colour, noise), all seeded."""
    st.header(t("datasets.aug_header"))
    st.markdown(t("datasets.aug_intro"))
    a1, a2 = st.columns(2)
    ui.url_seed("datasets.class", "datasets.aug_class", int, lambda i: 0 <= i < col.num_classes)   # ?datasets.class=3
    c = a1.selectbox(t("datasets.aug_class"), range(col.num_classes), format_func=names.__getitem__,
                     key="datasets.aug_class")
    ui.url_keep("datasets.class", c, 0)
    seed = int(a2.number_input(t("datasets.seed"), 0, 9999, 0, key="datasets.aug_seed", bind="query-params"))
    picks = explore.samples_per_class(col.labels, col.num_classes, 1)[c]
    if not picks:
        st.caption(t("datasets.no_picture"))
        return
    img = col.picture(picks[0])
    cell = 80 if ui.presenting() else 64
    flip = name != "mnist"                                          # experiment.augmentation: a mirrored 3 is no 3
    x = torch.from_numpy(img).permute(2, 0, 1).float().div(255)[None].repeat(AUGMENTED, 1, 1, 1)
    moved = fit.augment(x, 2, flip, torch.Generator().manual_seed(seed))
    rows = [("app", [img] + [(m.permute(1, 2, 0).numpy() * 255).round().astype("uint8") for m in moved])]
    rows += [(kind, [img] + explore.augmented(img, kind, seed, AUGMENTED)) for kind in explore.COMMON]
    for kind, pics in rows:
        left, right = st.columns([2, 5], vertical_alignment="center")
        left.markdown(t(f"datasets.aug.{kind}" + ("_flip" if kind == "app" and flip else "")))
        ui.image(figures.picture_row(pics, cell=cell), width="content", where=right)
    st.caption(t("datasets.aug_caption"))
    st.markdown(t("datasets.aug_used", recipes="; ".join(recipe(s) for s in models.BUNDLED.values())))


def recipe(spec) -> str:
    """How a bundled network was trained: its shifts and mirror (``models.specs.Recipe``)."""
    r = spec.recipe
    return t("datasets.recipe", net=models.label(spec.name, ui.lang()),
             shift=t("datasets.shift_yes" if r.shift else "datasets.shift_no", shift=r.shift),
             flip=t("datasets.flip_yes" if r.flip else "datasets.flip_no"))


def the_loader(col) -> None:
    """7. A real DataLoader over these pictures: one batch's shape, the batches of an epoch."""
    st.header(t("datasets.loader_header"))
    b1, b2 = st.columns([2, 3])
    batch = int(b1.select_slider(t("datasets.batch"), BATCHES, value=64, key="datasets.batch", bind="query-params",
                                 help=t("datasets.batch_help")))
    loader = explore.loader(col, batch, seed=0)
    x, y = next(iter(loader))
    steps = len(loader)
    last = col.n - (steps - 1) * batch
    m1, m2 = b2.columns(2)
    m1.metric(t("datasets.batch_shape"), " × ".join(str(v) for v in x.shape), help=t("datasets.batch_shape_help"))
    m2.metric(t("datasets.steps"), ui.num(steps))
    st.markdown(t("datasets.loader_text", n=ui.num(col.n), b=batch, steps=ui.num(steps), last=last,
                  shape=" × ".join(str(v) for v in x.shape)))
    shown = [(v.permute(1, 2, 0).numpy() * 255).round().astype("uint8") for v in x[:12]]
    ui.image(figures.picture_row(shown, cell=56 if ui.presenting() else 44), width="content",
             caption=t("datasets.batch_caption", k=len(shown), b=len(y)))
    st.code(f"loader = DataLoader(dataset, batch_size={batch}, shuffle=True)\n"
            f"x, y = next(iter(loader))   # x: torch.Size([{', '.join(str(v) for v in x.shape)}])\n"
            f"len(loader)                 # {steps}", language="python")


ui.lesson_start(URL)   # title, introduction, goal
import torch  # noqa: E402  (after the title: the page shows something while torch loads)

from cnnviz.train import fit, transfer  # noqa: E402
from cnnviz import models  # noqa: E402
from cnnviz.models import zoo  # noqa: E402

collection, classes = the_data()
the_samples(collection, classes)
the_counts(collection, classes)
the_shape(collection)
counts, stats = statistics_of(collection, collection.name)
state = the_guess(collection, collection.name, stats)
the_statistics(collection, collection.name, counts, stats, state)
the_augmentations(collection, collection.name, classes)
the_loader(collection)
ui.lesson_end(URL)
