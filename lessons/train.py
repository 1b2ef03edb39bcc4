"""Lesson: train a CNN live, from scratch, by transfer learning or by fine-tuning (seed 001)."""

import json

import streamlit as st

from cnnviz import course, data, figures, ui
from cnnviz.data import class_zip
from cnnviz.maths import images
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("train")
DATASETS = ("fashion", "mnist", "cifar10-subset")
PER_CLASS = [5, 10, 20, 50, 100, 200, 500]
MAX_RUNS = 12            # runs remembered per learner for the comparison table
MAX_OWN = 100            # pictures kept per class of the learner's own (6 KB each at 64 x 64)
NETWORKS = ("usual", "own")   # from scratch: the dataset's network, or the learner's own (cnnviz.models.builder)


def class_names(name: str, n: int) -> list[str]:
    """The dataset's classes in the learner's language (the bundled model trained on it names them)."""
    return [t(f"models.classes.{transfer.model_trained_on(name)}.{i}") for i in range(n)]


def lr_text(number, v: float) -> str:
    """0.0003 / 0,0003: as many decimals as the rate needs, in the learner's format (``number``:
    ``ui.number_format()``)."""
    return number(v, 6, trim=True)


def points(number, v: float) -> str:
    """50 / 33,3: whole numbers without decimals, others with one."""
    return number(v, 1, trim=True)


def offer_downloads(missing: list[str], expanded: bool) -> None:
    """Missing MNIST / Fashion-MNIST can be fetched (a server with internet, e.g. the hosted demo)."""
    can = [d for d in missing if d in data.DOWNLOADS]
    if not can:
        return
    with st.expander(t("train.get_data"), expanded=expanded, icon=":material/download:"):
        st.markdown(t("train.get_data_intro", folder=str(data.data_root())))
        for d in can:
            label = t("train.download", name=t(f"train.ds.{d}"), mb=ui.num(data.DOWNLOADS[d][2], 1))
            if not st.button(label, key=f"train.download.{d}"):
                continue
            bar = st.progress(0.0, text=t("train.preparing_download"))
            shown = [0]

            def progress(file, done, total):
                if done - shown[0] >= 1 << 20 or done == total:   # about once per MB
                    shown[0] = done
                    bar.progress(min(done / total, 1.0) if total else 0.0, text=t(
                        "train.downloading", file=file, done=ui.num(done / 1e6, 1), total=ui.num(total / 1e6, 1)))
            try:
                data.download_dataset(d, progress=progress)
            except CnnvizError as err:
                bar.empty()
                ui.show_error(err)
            else:
                st.rerun()


def own_uploads() -> list:
    """Your own pictures, one uploader per class. -> [(class name, pictures)]."""
    n = int(st.number_input(t("train.own_classes"), 2, 5, 2, key="train.own_n"))
    memo = st.session_state.get("train.own_pictures", {})     # upload id -> uint8 picture or None
    kept, groups = {}, []
    for i, col in enumerate(st.columns(n)):
        with col:
            name = st.text_input(t("train.own_name"), t("train.own_default", i=i + 1), key=f"train.own_name.{i}")
            files = st.file_uploader(t("train.own_upload"), type=images.EXTENSIONS, accept_multiple_files=True,
                                     key=f"train.own_files.{i}")
            pictures, bad = ui.decode_uploads(files, memo, kept, lambda img: (data.picture_tensor(img) * 255).round().to(
                torch.uint8), MAX_OWN)
            pictures = [p.float() / 255 for p in pictures]
            st.caption(t("train.own_count", n=len(pictures)))
            if bad:
                st.warning(t("train.own_bad", names=", ".join(bad)), icon=":material/broken_image:")
            groups.append((name, pictures))
    st.session_state["train.own_pictures"] = kept    # forget pictures that were removed
    return groups


def own_zip() -> list:
    """Your own pictures in one .zip with a folder per class: the limits, the upload, the classes
    found (their counts and a picture each) and the files skipped. -> [(class name, pictures)]."""
    upload_mb = int(st.get_option("server.maxUploadSize"))
    st.markdown(t("train.own_zip_intro", upload_mb=upload_mb, files=class_zip.MAX_FILES,
                  total_mb=class_zip.MAX_TOTAL // class_zip.MB, mp=images.MAX_PIXELS // 1_000_000,
                  total_mp=class_zip.MAX_PIXELS // 1_000_000,
                  min=class_zip.MIN_PER_CLASS, per_class=MAX_OWN, classes=class_zip.MAX_CLASSES))
    upload = st.file_uploader(t("train.own_zip_upload"), type=["zip"], key="train.own_zip")
    if upload is None:
        st.session_state.pop("train.own_zip_read", None)
        st.info(t("train.own_zip_waiting"), icon=":material/folder_zip:")
        st.stop()
    ident = getattr(upload, "file_id", None) or (upload.name, upload.size)
    memo = st.session_state.get("train.own_zip_read")
    if not memo or memo[0] != ident:          # read once per upload, kept (or its error) for this session
        with st.spinner(t("train.own_zip_reading")):
            try:
                memo = (ident, data.read_class_zip(upload.getvalue(), max_upload=upload_mb * class_zip.MB,
                                                   max_per_class=MAX_OWN))
            except CnnvizError as err:
                memo = (ident, err)
        st.session_state["train.own_zip_read"] = memo
    found = memo[1]
    if isinstance(found, CnnvizError):
        ui.show_error(found)
        st.stop()
    counts = ", ".join(t("train.own_zip_class", name=name, n=ui.num(n)) for name, n in zip(found.classes, found.counts))
    st.markdown(t("train.own_zip_found", classes=len(found.classes), pictures=sum(found.counts), counts=counts))
    ui.image([figures.picture(pics[0].float() / 255, 72) for pics in found.pictures], caption=list(found.classes),
             width=96)
    if found.skipped:
        lang = ui.lang()
        with st.expander(t("train.own_zip_skipped", n=len(found.skipped)), icon=":material/block:"):
            st.dataframe({t("train.own_zip_file"): [s.name for s in found.skipped],
                          t("train.own_zip_reason"): [s.message(lang) for s in found.skipped]}, hide_index=True)
    return found.groups()


def own_split(seed: int):
    """The learner's own classes, Teachable-Machine style (an uploader per class, or one .zip with a
    folder per class) -> SmallSplit (or stop with a hint)."""
    st.markdown(t("train.own_intro"))
    way = st.radio(t("train.own_way"), ["uploads", "zip"], key="train.own_way", horizontal=True,
                   format_func=ui.labels("train.own_way_"))
    groups = own_zip() if way == "zip" else own_uploads()
    try:
        return data.from_pictures(groups, seed=seed), min(len(p) for _, p in groups)
    except CnnvizError as err:
        st.info(err.message(ui.lang()) if any(len(p) for _, p in groups) else t("train.own_waiting"),
                icon=":material/add_photo_alternate:")
        st.stop()


def the_data():
    """1. The data: a dataset (or the learner's own pictures), images per class or the whole training
    set, the seed; one training image of each class. -> (dataset, per_class, seed, split, examples, full)."""
    available = [d for d in DATASETS if data.source(d)]   # the full dataset, or its bundled sample
    st.header(t("train.data_header"))
    if not available:
        st.warning(t("train.no_data", folder=str(data.data_root())), icon=":material/folder_off:")
        offer_downloads(list(DATASETS), expanded=True)
    d1, d2, d3 = st.columns([2, 2, 1])
    dataset = d1.selectbox(t("train.dataset"), available + ["own"], key="train.dataset",
                           format_func=ui.labels("train.ds."))
    seed = int(d3.number_input(t("train.seed"), 0, 9999, 0, key="train.seed", bind="query-params",
                               help=t("train.seed_help")))
    full = False
    if dataset == "own":
        split, per_class = own_split(seed)
        names = split.classes
        st.markdown(t("train.own_split", train=ui.num(len(split.train_y)), val=ui.num(len(split.val_y)),
                      test=ui.num(len(split.test_y)), classes=split.num_classes))
    else:
        full = whole_training_set(dataset, d2)
        per_class = d2.select_slider(t("train.per_class"), PER_CLASS, value=20, key="train.per_class",
                                     bind="query-params", help=t("train.per_class_help"), disabled=full)
        missing = [d for d in DATASETS if not data.is_available(d)]
        if missing and available:
            st.caption(t("train.some_missing", names=", ".join(t(f"train.ds.{d}") for d in missing),
                         folder=str(data.data_root())))
            offer_downloads(missing, expanded=False)
        try:
            with st.spinner(t("train.loading")):
                split = ui.full_split(dataset, seed, str(data.data_root())) if full else \
                    ui.small_split(dataset, per_class, seed, data.source(dataset), str(data.data_root()))
        except CnnvizError as err:
            ui.show_error(err)
            st.stop()
        names = class_names(dataset, split.num_classes)
        st.markdown(t("train.full_split" if full else "train.split", train=ui.num(len(split.train_y)),
                      val=ui.num(len(split.val_y)),
                      test=ui.num(len(split.test_y)), classes=split.num_classes))
        if split.source == "sample":
            st.caption(t("train.from_sample", name=t(f"train.ds.{dataset}"), n=data.SAMPLE_TRAIN_PER_CLASS))
    examples = [int((split.train_y == c).nonzero()[0]) for c in range(split.num_classes)]
    ui.image([figures.picture(split.train_x[i], 72) for i in examples],
             caption=[names[int(split.train_y[i])] for i in examples], width=74)
    return dataset, per_class, seed, split, examples, full


def whole_training_set(dataset: str, where) -> bool:
    """The switch to the whole training set (MNIST, when its full data is here; else one line why not)."""
    if dataset not in experiment.FULL_DATASETS:
        return False
    if data.source(dataset) != "full":
        where.caption(t("train.full_missing", name=t(f"train.ds.{dataset}")))
        return False
    return where.toggle(t("train.full"), key="train.full", bind="query-params", help=t("train.full_help"))


def the_strategy(dataset: str, full: bool):
    """2. From scratch, transfer or fine-tuning: the strategy, the network to start from (the data's
    usual network or the learner's own, from scratch) and the layer to train from. The whole training
    set has its own recipe. -> (strategy, source, train_from, loaded, the column for the plan, network)."""
    lang = ui.lang()
    st.header(t("train.strategy_header"))
    s1, s2 = st.columns([1, 2], gap="large")
    if full:
        s1.markdown(t("train.full_recipe", epochs=experiment.FULL_RECIPE.epochs,
                      batch=experiment.FULL_RECIPE.batch_size, lr=lr_text(ui.number_format(), experiment.FULL_RECIPE.lr)))
        return "scratch", None, None, None, s2, "full"
    strategy = s1.radio(t("train.how"), transfer.STRATEGIES, key="train.strategy",
                        format_func=ui.labels("train.strategy."), captions=[t(f"train.strategy_caption.{s}")
                                                                           for s in transfer.STRATEGIES])
    source = train_from = None
    loaded = None
    network = "usual"
    if strategy == "scratch":
        # in the link by its value (a bound radio would write its label, which changes with the language)
        ui.url_seed("network", "train.network", str, lambda v: v in NETWORKS)
        network = s1.radio(t("train.network_label"), NETWORKS, key="train.network", horizontal=True,
                           format_func=ui.labels("train.network."), help=t("train.network_help"))
        ui.url_keep("network", network, NETWORKS[0])
    else:
        imagenet = [m for m in transfer.ZOO_SOURCES if models.zoo_status(m).cached]
        sources = [m for m in models.BUNDLED_NAMES if m != transfer.model_trained_on(dataset)] + imagenet
        source = s1.selectbox(t("train.source"), sources, key="train.source",
                              format_func=lambda m, _l=lang: models.label(m, _l), help=t("train.source_help"))
        if len(imagenet) < len(transfer.ZOO_SOURCES):
            with s1.expander(t("train.imagenet_title"), icon=":material/public:"):
                st.markdown(t("train.imagenet_intro", size=transfer.ZOO_INPUT))
                for m in transfer.ZOO_SOURCES:
                    if m not in imagenet:
                        ui.zoo_download_button(m, "train.zoo")
        try:
            loaded = ui.shared_model(source)
        except CnnvizError as err:
            ui.show_error(err)
            st.stop()
        if strategy == "fine_tune":
            choices = transfer.trainable_from_choices(loaded.model)
            train_from = s1.selectbox(t("train.train_from"), choices, index=len(choices) - 1, key="train.train_from",
                                      help=t("train.train_from_help"))
    return strategy, source, train_from, loaded, s2, network


def the_own_network(where, dataset: str, num_classes: int, network: str):
    """For the learner's own network (or the whole set's recipe): beside the strategy, its input,
    weights and work; below, its blocks to edit and every layer's output shape and weights, updated
    live. An impossible network gets its message here, before any training. -> its text
    (``cnnviz.models.builder``), or None for the dataset's usual network."""
    if network == "usual":
        return None
    if network == "full":
        arch = builder.FULL_MNIST
    else:
        where.markdown(t("train.arch.intro"))
        arch = ui.architecture_editor("train")
    channels, (size, _), _, _ = experiment.input_format(experiment.Experiment(dataset, 2))
    try:
        if isinstance(arch, CnnvizError):
            raise arch
        plan = builder.plan(arch, channels, size, num_classes)
    except CnnvizError as err:
        ui.show_error(err)
        ui.lesson_end(URL)   # nothing can train: the self-check still ends the page
        st.stop()
    with where:
        m1, m2, m3 = st.columns(3)
        m1.metric(t("train.arch.input"), " × ".join(str(v) for v in plan.in_shape))
        m2.metric(t("train.total"), ui.num(plan.weights), help=t("train.arch.weights_help"))
        m3.metric(t("train.arch.work"), ui.num(plan.multiply_adds), help=t("train.arch.work_help"))
    st.dataframe({t("train.col_layer"): [layer.name for layer in plan.layers],
                  t("train.col_kind"): [layer.kind for layer in plan.layers],
                  t("train.arch.col_shape"): [" × ".join(str(v) for v in layer.shape) for layer in plan.layers],
                  t("train.col_weights"): [ui.num(layer.weights) for layer in plan.layers]},
                 hide_index=True, height=38 + 35 * len(plan.layers))   # every layer in sight: no inner scrolling
    return arch.text()


def the_plan(where, dataset: str, per_class: int, num_classes: int, strategy: str, source, train_from,
             arch) -> None:
    """Beside the strategy: the weights that learn and the frozen ones, layer by layer (the learner's
    own network has its table already: ``the_own_network``)."""
    if arch is not None:
        return
    lang = ui.lang()
    try:
        plan, trainable, frozen = ui.layer_plan(dataset, num_classes, strategy, source, train_from)
    except ValueError as err:
        ui.show_error(err)
        st.stop()
    with where:
        m1, m2, m3 = st.columns(3)
        m1.metric(t("train.trainable"), ui.num(trainable), help=t("train.trainable_help"))
        m2.metric(t("train.frozen"), ui.num(frozen), help=t("train.frozen_help"))
        m3.metric(t("train.total"), ui.num(trainable + frozen))
        status_label = ui.labels("train.status.")
        st.dataframe({t("train.col_layer"): [p.name for p in plan],
                      t("train.col_kind"): [p.kind for p in plan],
                      t("train.col_weights"): [ui.num(p.params) for p in plan],
                      t("train.col_status"): [status_label(p.status) for p in plan]},
                     hide_index=True, height=min(38 + 35 * len(plan), 320))
        adapted = experiment.adapted_format(experiment.Experiment(dataset, per_class, strategy, source))
        if adapted:
            c0, s0, c1, s1 = adapted
            st.caption(t("train.adapted", source=models.label(source, lang), c0=c0, s0=s0, c1=c1, s1=s1))
        elif strategy != "scratch":
            st.caption(t("train.normalized", source=models.label(source, lang)))


def the_settings(dataset: str, per_class: int, seed: int, split, examples, strategy: str, source, train_from,
                 arch, full: bool):
    """3. Train: epochs, early stopping, learning rate, batch size, augmentation (with a preview)
    and what one training step does; the whole training set's recipe is fixed.
    -> the planned ``experiment.Experiment``."""
    st.header(t("train.run_header"))
    if full:
        st.caption(t("train.full_fixed", n=ui.num(len(split.train_y)),
                     steps=ui.num(2 * fit.steps_per_epoch(len(split.train_y), experiment.FULL_RECIPE.batch_size))))
        return experiment.full_experiment(dataset, seed)
    h1, h2, h3, h4 = st.columns(4)
    epochs = h1.slider(t("train.epochs"), 1, 30, 15, key="train.epochs", bind="query-params",
                       help=t("train.epochs_help"))
    patience_n, patience_off = ui.message("train.patience_n"), t("train.patience_off")
    patience = h2.selectbox(t("train.patience"), [0, 2, 3, 5, 10], index=3, key="train.patience",
                            format_func=lambda p: patience_off if p == 0 else patience_n(n=p),
                            help=t("train.patience_help"))
    number = ui.number_format()
    lr = h3.select_slider(t("train.lr"), [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3, key="train.lr",
                          bind="query-params", format_func=lambda v: lr_text(number, v), help=t("train.lr_help"))
    batch = h4.select_slider(t("train.batch"), [8, 16, 32, 64, 128], value=32, key="train.batch", bind="query-params",
                             help=t("train.batch_help"))
    a1, a2 = st.columns([1, 3], vertical_alignment="center")
    augment = a1.toggle(t("train.augment"), key="train.augment", bind="query-params", help=t("train.augment_help"))
    planned = experiment.Experiment(dataset, per_class, strategy, source, train_from, epochs=int(epochs),
                                    patience=int(patience) or None, lr=float(lr), batch_size=int(batch), seed=seed,
                                    augment=augment, arch=arch)
    if augment:
        shift, flip = experiment.augmentation(planned)
        first = split.train_x[examples[0]][None].repeat(7, 1, 1, 1)
        moved = fit.augment(first, shift, flip, torch.Generator().manual_seed(seed))
        ui.image([figures.picture(x, 64) for x in (split.train_x[examples[0]], *moved)],
                 caption=[t("train.original")] + [""] * len(moved), width=64, where=a2)
        a2.caption(t("train.augment_flip" if flip else "train.augment_shift", shift=shift))
    with st.expander(t("train.step_title"), icon=":material/school:"):
        st.markdown(t("train.step_text", lr=lr_text(number, lr), batch=batch, n=len(split.train_y),
                      steps=fit.steps_per_epoch(len(split.train_y), batch)))
    return planned


def curve_names() -> dict:
    """The learning curves' names in the learner's language."""
    return {k: t(f"train.curve.{k}") for k in ("loss", "accuracy", "train", "val", "epoch", "best")}


def the_training(planned, split, loaded) -> list:
    """The Train button: the network trains live (curves drawn at each epoch), through the server's
    line. -> this learner's runs; with none yet, the page ends here (the self-check still ends it)."""
    b1, b2 = st.columns([1, 3], vertical_alignment="center")
    clicked = b1.button(t("train.train"), key="train.go", type="primary", icon=":material/model_training:")
    b2.caption(t("train.full_cost" if planned.full else "train.cost"))
    runs = st.session_state.setdefault("train.runs", [])
    if clicked:
        names = curve_names()
        with ui.training_status("train") as (box, bar):
            chart = st.empty()

            class Live(fit.Callback):
                def on_batch_end(self, state):
                    if state.batch == state.batches or state.batch % 5 == 0:
                        bar.progress(state.fraction, text=t("train.batch_line", epoch=state.epoch,
                                                            epochs=state.epochs, loss=ui.num(state.loss, 3)))

                def on_epoch_end(self, state):
                    h = state.history[-1]
                    bar.progress(state.epoch / state.epochs, text=t(
                        "train.epoch_line", epoch=state.epoch, epochs=state.epochs, loss=ui.num(h["loss"], 3),
                        acc=ui.num(100 * h["train_acc"], 1), val=ui.num(100 * h["val_acc"], 1),
                        wait=state.epochs_without_improvement))
                    live = figures.training_figure(state.history, names=names, best_epoch=state.best_epoch,
                                                   max_epochs=state.epochs)
                    ui.plot(live, key=f"train.live.{state.epoch}", where=chart)

            # the status box took this learner's turn in the server's line (cnnviz.serve.jobs) before we got here
            try:
                result, model = experiment.run_experiment(planned, split, loaded.model if loaded else None, [Live()])
            except (CnnvizError, ValueError) as err:   # jobs.Cancelled too: a newer request replaced it
                ui.show_error(err)
                result = None
            if result is not None:
                runs.append(result)
                del runs[:-MAX_RUNS]
                # the last network, ready for the other lessons (~0.5-1.7 MB, this session only)
                st.session_state["train.export"] = experiment.TrainedNetwork.from_run(result, model, split)
                box.update(label=t("train.trained", acc=ui.num(100 * result.test_acc, 1),
                                   secs=ui.num(result.seconds, 1)), state="complete", expanded=False)
    elif st.session_state.get("train.stop"):
        st.info(t("train.stopped"), icon=":material/stop_circle:")
    if not runs:
        st.caption(t("train.not_trained"))
        ui.lesson_end(URL)   # nothing trained yet: the self-check still ends the page
        st.stop()
    return runs


def the_last_run(last) -> None:
    """4. The last run: its test accuracy (and how far it can be trusted), best epoch, curves,
    confusion matrix, hardest class and the pictures it got wrong."""
    exp = last.experiment
    st.subheader(t("train.result_header_full" if exp.full else "train.result_header", what=run_what(exp),
                   ds=t(f"train.ds.{exp.dataset}"), n=ui.num(last.train_images) if exp.full else exp.per_class))
    r1, r2, r3, r4 = st.columns(4)
    r1.metric(t("train.test_acc"), f"{ui.num(100 * last.test_acc, 1)} %", help=t("train.test_acc_help",
                                                                                 n=ui.num(last.test_images)))
    best = last.best
    r2.metric(t("train.best_val"), f"{ui.num(100 * best['val_acc'], 1)} %",
              help=t("train.best_val_help", epoch=last.best_epoch))
    r3.metric(t("train.epochs_run"), f"{len(last.history)} / {exp.epochs}",
              help=t(f"train.stop_reason.{last.stop_reason}", patience=exp.patience or 0))
    r4.metric(t("train.seconds"), f"{ui.num(last.seconds, 1)} s")
    # how far the test accuracy can be trusted: on 2 test pictures, "50 %" is 1 of 2
    number = ui.number_format()
    low, high = last.test_interval
    n_test, right = last.test_images, last.test_correct
    if n_test < fit.SMALL_TEST:
        st.warning(t("train.few_test", n=n_test, correct=right, acc=ui.num(100 * last.test_acc, 1),
                     step=points(number, 100 / max(n_test, 1)), low=ui.num(100 * low, 0), high=ui.num(100 * high, 0),
                     small=fit.SMALL_TEST, small_step=points(number, 100 / fit.SMALL_TEST)),
                   icon=":material/balance:")
    else:
        st.caption(t("train.interval", n=ui.num(n_test), correct=ui.num(right), low=ui.num(100 * low, 0),
                     high=ui.num(100 * high, 0)))
    st.caption(t(f"train.stop_reason.{last.stop_reason}", patience=exp.patience or 0) + " " +
               t("train.restored", epoch=last.best_epoch))
    ui.plot(figures.training_figure(last.history, names=curve_names(), best_epoch=last.best_epoch,
                                    max_epochs=exp.epochs), key="train.curves")
    if last.overfit_gap > 15:
        st.info(t("train.overfit", gap=ui.num(last.overfit_gap, 0)), icon=":material/warning:")

    run_names = last.classes or class_names(exp.dataset, last.confusion.shape[0])
    c1, c2 = st.columns([3, 2], gap="large")
    with c1:
        st.markdown(t("train.confusion_intro"))
        ui.plot(figures.confusion_figure(last.confusion, run_names, xtitle=t("train.predicted"),
                                         ytitle=t("train.true"), hover=t("train.confusion_hover")),
                key="train.confusion")
    with c2:
        worst, worst_acc, other = last.hardest
        st.markdown(t("train.worst", name=run_names[worst], acc=ui.num(100 * worst_acc, 0), other=run_names[other]))
        if last.wrong:
            st.markdown(t("train.wrong_intro"))
            ui.image([figures.picture(x, 72) for x in last.wrong_images],
                     caption=[t("train.wrong_caption", true=run_names[y], pred=run_names[p]) for _, y, p in last.wrong],
                     width=72)


def run_what(exp) -> str:
    """How a run trained, in a few words: the strategy, and which network from scratch."""
    how = t(f"train.strategy.{exp.strategy}")
    return how + (f" · {t('train.network.full')}" if exp.full else f" · {t('train.network.own')}" if exp.arch else "")


def use_it(last) -> None:
    """The last network, to download (weights and card) or to open in Inside a CNN and Explain."""
    export = st.session_state.get("train.export")
    if not (export and export.result is last):
        return
    st.subheader(t("train.use_header"))
    st.markdown(t("train.use_intro"))
    u1, u2, u3, u4 = st.columns(4, vertical_alignment="center")
    name = export.name
    u1.download_button(t("train.download_weights"), export.weights, file_name=f"{name}.safetensors",
                       mime="application/octet-stream", key="train.dl_weights", icon=":material/download:")
    u2.download_button(t("train.download_card"), json.dumps(export.card, indent=2, ensure_ascii=False),
                       file_name=f"{name}.json", mime="application/json", key="train.dl_card",
                       icon=":material/description:")
    for col, name, label in ((u3, "inside_a_cnn", "train.open_inside"), (u4, "explain", "train.open_explain")):
        page, icon = course.named(name).path, course.named(name).icon
        if col.button(t(label), key=f"train.{label}", icon=icon):
            st.session_state["model"] = ui.TRAINED     # the sidebar picker of those lessons
            # the language and presentation mode go along; this page's settings stay behind (with none
            # given, switch_page clears them all, and refuses to while a widget is bound to one)
            st.switch_page(page, query_params={k: v for k, v in st.query_params.to_dict().items()
                                               if k in ("lang", "present")})


def compare(runs: list) -> None:
    """5. Compare: every run of this learner in a table (and their test accuracies side by side), Clear."""
    lang = ui.lang()
    st.header(t("train.compare_header"))
    st.markdown(t("train.compare_intro"))
    rows = {t("train.col_run"): [], t("train.col_dataset"): [], t("train.col_per_class"): [],
            t("train.col_strategy"): [], t("train.col_source"): [], t("train.col_trainable"): [],
            t("train.col_frozen"): [], t("train.col_epochs"): [], t("train.col_test"): [], t("train.col_secs"): []}
    for i, r in enumerate(runs, 1):
        e = r.experiment
        values = [i, t(f"train.ds.{e.dataset}").split(" (")[0],   # short names: the table fits
                  t("train.whole") if e.full else e.per_class,
                  run_what(e) + (f" ({e.train_from}→)" if e.train_from and e.strategy == "fine_tune" else ""),
                  models.label(e.source, lang).split(" (")[0] if e.source and e.strategy != "scratch" else "—",
                  ui.num(r.trainable), ui.num(r.frozen), f"{len(r.history)} ({r.best_epoch})",
                  ui.num(100 * r.test_acc, 1), ui.num(r.seconds, 1)]
        for key, value in zip(rows, values):
            rows[key].append(value)
    st.dataframe(rows, hide_index=True)
    if len(runs) > 1:
        ui.plot(figures.probability_bars([f"{i}. {t(f'train.strategy.{r.experiment.strategy}')}"
                                          for i, r in enumerate(runs, 1)],
                                         [r.test_acc for r in runs]), key="train.compare")
    st.caption(t("train.course_numbers"))
    if st.button(t("train.clear"), key="train.clear", icon=":material/delete:"):
        st.session_state["train.runs"] = []
        st.session_state.pop("train.export", None)
        st.rerun()


ui.lesson_start(URL)   # title, introduction, goal
import torch  # noqa: E402  (after the title: the page shows something while torch loads)

from cnnviz.train import experiment, fit, transfer  # noqa: E402
from cnnviz import models  # noqa: E402
from cnnviz.models import builder  # noqa: E402

dataset, per_class, seed, split, examples, full = the_data()
strategy, source, train_from, loaded, plan_column, network = the_strategy(dataset, full)
arch = the_own_network(plan_column, dataset, split.num_classes, network)
the_plan(plan_column, dataset, per_class, split.num_classes, strategy, source, train_from, arch)
planned = the_settings(dataset, per_class, seed, split, examples, strategy, source, train_from, arch, full)
runs = the_training(planned, split, loaded)
the_last_run(runs[-1])
use_it(runs[-1])
compare(runs)
ui.lesson_end(URL)
