"""Lesson: shortcut learning — a cue planted in one class's training pictures is learned instead of
the class; Grad-CAM finds it, pasting it flips other classes, and two fixes remove it (issue 19)."""

import streamlit as st

from cnnviz import course, data, figures, ui
from cnnviz.base.errors import CnnvizError

t = ui.t
URL = course.url("shortcuts")
PER_CLASS = [20, 50, 100]          # with the full dataset; the bundled sample holds 50 per class
SHARES = [25, 50, 75, 100]         # % of the class's training pictures that carry the cue
EPOCHS = [3, 5, 8, 12]             # epochs of a training
SHOWN = 5                          # planted training pictures shown
CAM_SIDE = 196                     # px of a picture with its Grad-CAM


def class_names(dataset: str) -> list[str]:
    """The dataset's classes in the learner's language (the bundled model trained on it names them)."""
    from cnnviz.train import transfer

    n = len(data.DATASETS[dataset].classes)
    return [t(f"models.classes.{transfer.model_trained_on(dataset)}.{i}") for i in range(n)]


def pct(v: float) -> str:
    """A share (0..1) in % with one decimal, the learner's way (the % never alone on a new line)."""
    return f"{ui.num(100 * v, 1)}\u00a0%"


def the_cue():
    """1. Plant a cue: the data, the class that gets it, the square (size, corner, colour), on which
    share of that class's training pictures; a few of them, the cue visible. -> (plan, split, names)."""
    st.header(t("shortcut.plant_header"))
    st.markdown(t("shortcut.plant_intro"))
    available = [d for d in sc.DATASET_NAMES if data.source(d)]
    if not available:
        st.warning(t("shortcut.no_data", folder=str(data.data_root())), icon=":material/folder_off:")
        ui.lesson_end(URL)
        st.stop()
    c1, c2, c3, c4 = st.columns(4)
    dataset = c1.selectbox(t("shortcut.dataset"), available, key="shortcut.dataset", bind="query-params",
                           format_func=ui.labels("shortcut.ds."))
    names = class_names(dataset)
    target = c2.selectbox(t("shortcut.target"), list(range(len(names))), index=sc.TARGETS[dataset],
                          key=f"shortcut.target.{dataset}", bind="query-params", format_func=lambda i: names[i],
                          help=t("shortcut.target_help"))
    size = c3.select_slider(t("shortcut.size"), sc.SIZES, value=4, key="shortcut.size", bind="query-params",
                            help=t("shortcut.size_help"))
    corner = c4.selectbox(t("shortcut.corner_label"), sc.CORNERS, key="shortcut.corner", bind="query-params",
                          format_func=ui.labels("shortcut.corner."))
    d1, d2, d3, d4, d5 = st.columns([3, 3, 3, 3, 2])
    colour = "white"
    if data.DATASETS[dataset].in_channels == 3:
        colour = d1.selectbox(t("shortcut.colour"), list(sc.COLOURS), index=list(sc.COLOURS).index("magenta"),
                              key="shortcut.colour", bind="query-params", format_func=ui.labels("shortcut.colour_name."))
    else:
        d1.caption(t("shortcut.grey_cue"))
    share = d2.select_slider(t("shortcut.share"), SHARES, value=100, key="shortcut.share", bind="query-params",
                             format_func=lambda v: f"{v} %", help=t("shortcut.share_help"))
    full = data.source(dataset) == "full"
    per_class = d3.select_slider(t("shortcut.per_class"), PER_CLASS if full else [20, 50], value=50,
                                 key=f"shortcut.per_class.{data.source(dataset)}", bind="query-params",
                                 help=t("shortcut.per_class_help"))
    epochs = d4.select_slider(t("shortcut.epochs"), EPOCHS, value=sc.EPOCHS, key="shortcut.epochs",
                              bind="query-params", help=t("shortcut.epochs_help"))
    seed = int(d5.number_input(t("shortcut.seed"), 0, 9999, 0, key="shortcut.seed", bind="query-params"))
    try:
        split = ui.small_split(dataset, per_class, seed, data.source(dataset), str(data.data_root()))
    except CnnvizError as err:
        ui.show_error(err)
        st.stop()
    plan = sc.Plan(dataset, int(target), sc.Cue(size=int(size), corner=corner, colour=colour), share / 100,
                   int(per_class), int(epochs), seed)
    planted = sc.training_split(split, plan, "planted")
    members = (split.train_y == plan.target).nonzero().flatten().tolist()
    carried = [i for i in members if not (planted.train_x[i] == split.train_x[i]).all()]
    shown = carried[:SHOWN]
    other = int((split.train_y != plan.target).nonzero()[0])
    ui.image([figures.picture(planted.train_x[i], 84) for i in shown + [other]],
             caption=[names[plan.target]] * len(shown) + [names[int(split.train_y[other])]], width=84)
    st.caption(t("shortcut.planted_count", k=sc.planted_count(len(members), plan.share), n=len(members),
                 c=names[plan.target], val=sc.planted_count(int((split.val_y == plan.target).sum()), plan.share)))
    if split.source == "sample":
        st.caption(t("shortcut.from_sample", n=data.SAMPLE_TRAIN_PER_CLASS, test=ui.num(len(split.test_y))))
    return plan, split, names


def results_for(plan) -> dict:
    """This learner's runs of ``plan`` (fix -> run); empty after a change of the settings."""
    kept = st.session_state.get("shortcut.runs")
    return kept["runs"] if kept and kept["plan"] == plan else {}


def train(plan, split, fixes: tuple) -> None:
    """Train ``fixes`` one after the other through the server's line (place, progress, Stop) and keep
    their runs (small: numbers and a few maps) in this learner's session."""
    with ui.training_status("shortcut") as (box, job):
        done = {}
        for i, fix in enumerate(fixes):
            what = t(f"shortcut.fix.{fix}")

            def report(s, i=i, what=what):
                if s.batch == s.batches or s.batch % 5 == 0:
                    job.progress((i + s.fraction) / len(fixes), text=t(
                        "shortcut.batch_line", what=what, epoch=s.epoch, epochs=s.epochs, loss=ui.num(s.loss, 3)))
            try:
                done[fix], _ = sc.run_fix(plan, split, fix, [fit.Progress(on_batch=report)])
            except (CnnvizError, ValueError) as err:   # jobs.Cancelled too: a newer request replaced it
                ui.show_error(err)
                return
        runs = dict(results_for(plan))
        runs.update(done)
        st.session_state["shortcut.runs"] = {"plan": plan, "runs": runs}
        box.update(label=t("shortcut.trained", secs=ui.num(sum(r.seconds for r in done.values()), 1)),
                   state="complete", expanded=False)


def the_training(plan, split):
    """2. Train the dataset's small network on the planted pictures. -> its run; without one, the page
    ends here (the self-check still ends it)."""
    st.header(t("shortcut.train_header"))
    b1, b2 = st.columns([1, 3], vertical_alignment="center")
    if b1.button(t("shortcut.train"), key="shortcut.go", type="primary", icon=":material/model_training:"):
        train(plan, split, ("planted",))
    b2.caption(t("shortcut.cost", epochs=plan.epochs, n=ui.num(len(split.train_y))))
    run = results_for(plan).get("planted")
    if run is None:
        st.caption(t("shortcut.not_trained" if not st.session_state.get("shortcut.runs") else "shortcut.changed"))
        ui.lesson_end(URL)
        st.stop()
    return run


def the_question(run, names):
    """3. Predict first: the square pasted on a picture of another class (a sneaker at first): what
    will the network say? Until the guess (or Skip), the rest of the page stays hidden. -> the probe."""
    st.header(t("shortcut.question_header"))
    others = [p.label for p in run.probes if p.label != run.plan.target]
    default = sc.PROBES[run.plan.dataset]
    label = st.selectbox(t("shortcut.probe"), others, index=others.index(default) if default in others else 0,
                         key="shortcut.probe", format_func=lambda i: names[i])
    probe = next(p for p in run.probes if p.label == label)
    about = ui.predict_context(repr(run.plan), run.seconds, label)
    state, guess = ui.predict_state("shortcut", about)
    q1, q2 = st.columns([1, 2], gap="large")
    ui.image([figures.picture(probe.picture, 140), figures.picture(probe.cued_picture, 140)],
             caption=[t("shortcut.without_cue"), t("shortcut.with_cue")], width=140, where=q1)
    with q2:
        if state == "ask":
            st.markdown(t("shortcut.ask", c=names[label], target=names[run.plan.target]))
            pick = st.radio(t("shortcut.your_guess"), list(range(len(names))), index=None, horizontal=True,
                            key=f"shortcut.guess.{about}", format_func=lambda i: names[i])
            if st.button(t("shortcut.reveal"), key="shortcut.reveal", disabled=pick is None, icon=":material/visibility:"):
                ui.predict_set("shortcut", about, pick)
                st.rerun()
            ui.predict_buttons("shortcut", state)
        else:
            said = names[probe.cued_pred]
            if state == "guessed":
                right = guess == probe.cued_pred
                (st.success if right else st.warning)(t("shortcut.right" if right else "shortcut.wrong",
                                                        g=names[guess], c=said, p=pct(probe.cued_prob)),
                                                      icon=":material/psychology:")
            st.markdown(t("shortcut.answer", c=names[label], clean=names[probe.clean_pred], pc=pct(probe.clean_prob),
                          cued=said, pq=pct(probe.cued_prob)))
            ui.predict_buttons("shortcut", state)
    if state == "ask":
        st.info(t("shortcut.hidden"), icon=":material/visibility_off:")
        ui.lesson_end(URL)
        st.stop()
    return probe


def cam_pair(probe, names, where) -> None:
    """The probe without and with the cue, each with its Grad-CAM (for the class the network says)."""
    cols = where.columns(2)
    for col, pic, cam, pred, share, key in (
            (cols[0], probe.picture, probe.clean_cam, probe.clean_pred, probe.clean_share, "shortcut.cam_clean"),
            (cols[1], probe.cued_picture, probe.cued_cam, probe.cued_pred, probe.cued_share, "shortcut.cam_cued")):
        img = figures.picture(pic, pic.shape[-1])
        ui.image(figures.overlay(img, cam, alpha=0.55, target=CAM_SIDE), where=col, width="content",
                 caption=t(key, c=names[pred], share=pct(share)))


def where_it_looks(run, probe, names) -> None:
    """Grad-CAM on the same picture without and with the cue, and its mass inside the square over
    every pasted test picture, against the square's share of the area."""
    st.subheader(t("shortcut.cam_header"))
    left, right = st.columns([3, 2], gap="large")
    cam_pair(probe, names, left)
    with left:
        st.html(figures.legend_html(figures.Scale(0.0, 1.0, False), gray="heat", fmt=ui.number_format(),
                                    width=CAM_SIDE, label=t("shortcut.legend")))
    with right:
        st.metric(t("shortcut.cam_share"), pct(run.cam_share), help=t("shortcut.cam_share_help", n=len(run.cam_shares)))
        st.metric(t("shortcut.area_share"), pct(run.area_share))
        st.markdown(t("shortcut.cam_explain", times=ui.num(run.cam_share / run.area_share, 1),
                      n=len(run.cam_shares)))


def the_numbers(run, names) -> None:
    """4. What it learned: the validation accuracy (planted like the training pictures) against the
    clean test pictures, the cue's class without and with the cue, and the clean confusion matrix."""
    st.header(t("shortcut.numbers_header"))
    c = names[run.plan.target]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("shortcut.val_acc"), pct(run.val_acc), help=t("shortcut.val_acc_help"))
    m2.metric(t("shortcut.clean_acc"), pct(run.clean_acc), help=t("shortcut.clean_acc_help", n=ui.num(run.test_images)))
    m3.metric(t("shortcut.target_clean", c=c), pct(run.target_clean_acc))
    m4.metric(t("shortcut.target_cued", c=c), pct(run.target_cued_acc))
    st.markdown(t("shortcut.numbers_explain", c=c, clean=pct(run.target_clean_acc), cued=pct(run.target_cued_acc)))
    fig = figures.confusion_figure(run.confusion, names, xtitle=t("shortcut.predicted"), ytitle=t("shortcut.true"),
                                   hover=t("shortcut.confusion_hover"))
    fig.update_traces(textfont={"size": 20 if ui.presenting() else 15})
    ui.plot(fig, key="shortcut.confusion")
    st.caption(t("shortcut.confusion_caption", c=c))


def the_flips(run, names) -> None:
    """5. The cue pasted on every other class's test pictures: the share that flips, per class."""
    st.header(t("shortcut.flip_header"))
    c = names[run.plan.target]
    f1, f2 = st.columns([1, 2], gap="large")
    f1.container(key="shortcut.flip_metric").metric(
        t("shortcut.flip_share", c=c), pct(run.flip_share),
        help=t("shortcut.flip_help", flipped=ui.num(int(run.flipped.sum())), n=ui.num(int(run.eligible.sum()))))
    f1.markdown(t("shortcut.flip_explain", c=c, flipped=ui.num(int(run.flipped.sum())),
                  n=ui.num(int(run.eligible.sum()))))
    shares = run.class_flip_shares
    keep = [i for i in range(len(names)) if i != run.plan.target]
    with f2:
        ui.plot(figures.share_bars([names[i] for i in keep], [shares[i] for i in keep], xtitle=t("shortcut.flip_axis", c=c),
                                   font=20 if ui.presenting() else 15), key="shortcut.flips")


def the_fixes(plan, split, run, probe, names) -> None:
    """6. Fix it: train again without the cue, and with the cue on every class's pictures; the numbers
    side by side, and where each network looks on the probe with the cue."""
    st.header(t("shortcut.fix_header"))
    st.markdown(t("shortcut.fix_intro", c=names[plan.target], share=ui.num(100 * plan.share)))
    if st.button(t("shortcut.train_fixes"), key="shortcut.go_fixes", type="primary", icon=":material/healing:"):
        train(plan, split, ("clean", "augment"))
    runs = results_for(plan)
    done = [f for f in sc.FIXES if f in runs]
    if len(done) < len(sc.FIXES):
        st.caption(t("shortcut.fixes_not_trained"))
        return
    c = names[plan.target]
    rows = [("shortcut.row_val", lambda r: pct(r.val_acc)), ("shortcut.row_clean", lambda r: pct(r.clean_acc)),
            ("shortcut.row_target_clean", lambda r: pct(r.target_clean_acc)),
            ("shortcut.row_target_cued", lambda r: pct(r.target_cued_acc)),
            ("shortcut.row_flip", lambda r: pct(r.flip_share)), ("shortcut.row_cam", lambda r: pct(r.cam_share))]
    # a table of text, not a data grid: its numbers grow with the page's type in presentation mode
    head = [t("shortcut.col_measure")] + [t(f"shortcut.fix.{fix}") for fix in sc.FIXES]
    lines = [head, ["---"] + ["---:"] * len(sc.FIXES)]
    lines += [[t(key, c=c)] + [value(runs[fix]) for fix in sc.FIXES] for key, value in rows]
    with st.container(key="shortcut.fix_table"):
        st.markdown("\n".join("| " + " | ".join(cells) + " |" for cells in lines))
    st.markdown(t("shortcut.fix_explain", c=c, planted=pct(runs["planted"].flip_share),
                  clean=pct(runs["clean"].flip_share), augment=pct(runs["augment"].flip_share)))
    st.markdown(t("shortcut.fix_cams", c=names[probe.label]))
    cols = st.columns(len(sc.FIXES))
    for col, fix in zip(cols, sc.FIXES):
        p = next(x for x in runs[fix].probes if x.label == probe.label)
        img = figures.picture(p.cued_picture, p.cued_picture.shape[-1])
        ui.image(figures.overlay(img, p.cued_cam, alpha=0.55, target=CAM_SIDE), where=col, width="content",
                 caption=t("shortcut.fix_cam", fix=t(f"shortcut.fix.{fix}"), c=names[p.cued_pred],
                           share=pct(p.cued_share)))


ui.lesson_start(URL)   # title, introduction, goal
from cnnviz.train import fit, shortcut as sc  # noqa: E402  (after the title: torch loads meanwhile)

plan, split, names = the_cue()
run = the_training(plan, split)
probe = the_question(run, names)
where_it_looks(run, probe, names)
the_numbers(run, names)
the_flips(run, names)
the_fixes(plan, split, run, probe, names)
ui.lesson_end(URL)
