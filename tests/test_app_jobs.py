"""Heavy work takes its turn in the server's line (cnnviz.serve.jobs) and says where the learner stood.

The line is filled from the test with tickets of other learners that hold their slot; a thread
frees them once the lesson's ticket is waiting, so the lesson runs its job after them.
"""

import threading
import time

import pytest

import app_helpers
from cnnviz import data
from cnnviz.serve import jobs
from cnnviz.i18n import t

LONG = 120


def wait_until(condition, timeout=LONG):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.fixture
def line(monkeypatch):
    """A server line of one slot, held by 'teacher' (running) with 'student' waiting behind."""
    q = jobs.JobQueue(slots=1)
    monkeypatch.setattr(jobs, "QUEUE", q)
    holders = [q.submit("train", "teacher"), q.submit("train", "student")]
    assert [h.state for h in holders] == [jobs.RUNNING, jobs.WAITING]
    yield q, holders
    for h in holders:
        h.release()


def lesson_ticket(q, holders, then, seen):
    """In a thread: wait until the lesson's ticket is in line, let its wait loop run a bit, then ``then(ticket)``."""
    def work():
        wait_until(lambda: any(tk not in holders for tk in q.waiting()))
        ticket = next(tk for tk in q.waiting() if tk not in holders)
        seen.append(ticket)
        time.sleep(1.2)                      # the page redraws the place in line meanwhile
        then(ticket)
    th = threading.Thread(target=work, daemon=True)
    th.start()
    return th


def free(holders):
    def then(_ticket):
        for h in holders:
            h.release()
            time.sleep(0.2)
    return then


def small_training(lang):
    at = app_helpers.open_lesson("lessons/train.py", lang)
    if not [d for d in ("fashion", "mnist", "cifar10-subset") if data.source(d)]:
        pytest.skip("no dataset and no bundled sample")
    at.select_slider(key="train.per_class").set_value(5)
    at.slider(key="train.epochs").set_value(1)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_training_waits_its_turn_then_trains_and_says_where_it_stood(line, lang):
    q, holders = line
    at = small_training(lang)
    seen = []
    th = lesson_ticket(q, holders, free(holders), seen)
    at.button(key="train.go").click().run()
    th.join(LONG)
    assert not at.exception, [e.value for e in at.exception]
    ticket = seen[0]
    assert ticket.first_position == 2 and ticket.kind == "train"     # behind the teacher and the student
    assert t("jobs.waited", lang, pos=2, secs=ticket.waited) in [c.value for c in at.caption]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("train.epochs_run", lang)] == "1 / 1"           # it did train, after its turn
    assert len(at.session_state["train.runs"]) == 1
    assert q.waiting() == [] and q.running() == []                   # its slot was given back


def test_a_cancelled_ticket_leaves_the_line_and_the_learner_is_told(line):
    q, holders = line
    at = small_training("pt_BR")
    seen = []
    th = lesson_ticket(q, holders, lambda ticket: ticket.cancel(), seen)
    at.button(key="train.go").click().run()
    th.join(LONG)
    assert not at.exception, [e.value for e in at.exception]
    assert t("jobs.cancelled", "pt_BR") in [e.value for e in at.error]
    assert at.session_state["train.runs"] == []                      # nothing trained
    assert seen[0].state == jobs.CANCELLED and q.waiting() == [holders[1]]


def test_integrated_gradients_wait_their_turn_then_show_the_map(line):
    q, holders = line
    holders[1].release()                      # only the teacher's job: the lesson is next in line
    at = app_helpers.open_lesson("lessons/explain.py", "en")
    at.button(key="explain.predict.skip_button").click().run()     # the other methods wait for the guess (issue 17)
    seen = []
    th = lesson_ticket(q, holders[:1], free(holders[:1]), seen)
    at.multiselect(key="explain.methods").set_value(["integrated_gradients"]).run()
    th.join(LONG)
    assert not at.exception, [e.value for e in at.exception]
    ticket = seen[0]
    assert ticket.first_position == 1 and ticket.kind == "integrated_gradients"
    assert t("jobs.waited", "en", pos=1, secs=ticket.waited) in [c.value for c in at.caption]
    assert t("explain.m.integrated_gradients", "en") in [s.value for s in at.subheader]
    memo = at.session_state["explain.integrated_gradients"]
    assert memo[1].method == "integrated_gradients" and memo[1].map.shape == (28, 28)
    assert q.waiting() == [] and q.running() == []


def test_cancel_click_is_remembered_until_the_learner_asks_again(line):
    """A click on Cancel reruns the page with the button pressed: the explanation is not started
    again by that rerun; a Compute button is offered instead, and computes it."""
    q, holders = line
    for h in holders:
        h.release()
    at = app_helpers.open_lesson("lessons/explain.py", "en")
    at.button(key="explain.predict.skip_button").click().run()     # the other methods wait for the guess (issue 17)
    at.session_state["explain.integrated_gradients.cancel"] = True      # as the rerun of a Cancel click
    at.multiselect(key="explain.methods").set_value(["integrated_gradients"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert t("jobs.stopped", "en") in [i.value for i in at.info]
    assert "explain.integrated_gradients" not in at.session_state
    del at.session_state["explain.integrated_gradients.cancel"]        # the button is up again
    at.run()
    assert t("jobs.stopped", "en") in [i.value for i in at.info]     # still cancelled: not recomputed
    at.button(key="explain.integrated_gradients.again").click().run()
    assert not at.exception
    assert at.session_state["explain.integrated_gradients"][1].method == "integrated_gradients"
    assert t("jobs.stopped", "en") not in [i.value for i in at.info]


def test_inside_first_top_images_take_their_turn_then_everybody_gets_them_at_once(line, monkeypatch):
    from cnnviz.base.kept import Kept
    from cnnviz.ui import inside as ui      # the top images' server-wide store lives in cnnviz.ui.inside

    q, holders = line
    holders[1].release()
    monkeypatch.setattr(ui, "_TOP", Kept())              # as on a fresh server: not computed yet
    seen = []
    th = lesson_ticket(q, holders[:1], free(holders[:1]), seen)
    at = app_helpers.open_lesson("lessons/inside_a_cnn.py", "pt_BR", state={"inside.draw": False,
                                                                      "inside.predict.skip": True})
    th.join(LONG)
    assert seen and seen[0].kind == "top_images" and seen[0].first_position == 1
    assert t("jobs.waited", "pt_BR", pos=1, secs=seen[0].waited) in [c.value for c in at.caption]
    assert "digits" in ui._TOP                        # computed once, for the whole server
    # another learner, the line full again: the top images come at once, without waiting
    again = q.submit("train", "teacher-again")
    other = app_helpers.open_lesson("lessons/inside_a_cnn.py", "en", state={"inside.draw": False,
                                                                      "inside.predict.skip": True})
    assert q.waiting() == [] and q.running() == [again]      # it never stood in line
    again.release()
    assert not [c.value for c in other.caption if "in line" in c.value]
    assert [c.value for c in other.caption if c.value.startswith("The 8 test images (out of the first 1000)")]
