"""Heavy work through the server's line (cnnviz.serve.jobs): place in line, Cancel, progress;
training drawn live; heavy values memoized per learner."""

from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from cnnviz.base.errors import CnnvizError
from .language import show_error, t



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
def _given_back():
    """When a heavy job ends (done, failed or cancelled), the memory it freed goes back to the
    system (``cnnviz.base.memory.give_back``: ~1-20 ms; top images left ~200 MB free in the heap)."""
    from cnnviz.base import memory

    try:
        yield
    finally:
        memory.give_back()


@contextmanager
def heavy(kind: str, *, cancel_key: str, label: str | None = None, cancel_label: str | None = None,
          preparing: str | None = None, owner=None):
    """Heavy work (training, integrated gradients, occlusion, the sanity check, top images) through
    the server's line, ``cnnviz.serve.jobs.QUEUE``: ``with ui.heavy("occlusion", cancel_key=...) as job:``.

    While the learner waits, the bar says their place in line ("number 3"), updated every
    ``WAIT_POLL`` s, next to a Cancel button (``cancel_key``); once a slot is theirs it becomes the
    job's progress bar (``job.progress(fraction, text)``; call it from the job's progress reports).
    With ``label``, all this sits in an expanded ``st.status`` box of that label, with a note of the
    time spent in line; without, it is drawn in place and, when the job ends, replaced by that note
    (or nothing, if it did not wait).

    Cancel needs no handler: any click reruns the page, which interrupts this script at its next
    update, in line or running, and the ticket is given back. A job replaced by a newer request of
    the same learner raises ``cnnviz.serve.jobs.Cancelled`` (a ``CnnvizError``) out of the ``with``.
    """
    from cnnviz.serve import jobs

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
                with _given_back(), jobs.QUEUE.run(kind, owner or _session_owner(), on_wait=on_wait, poll=WAIT_POLL) as ticket:
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
