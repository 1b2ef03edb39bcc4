"""The server-wide line of heavy jobs (cnnviz.serve.jobs): order, positions, cancel, one per learner, slots."""

import threading
import time

import pytest
import torch  # noqa: F401  (jobs set torch's threads: imported here, not inside the first job)

from cnnviz.serve import jobs

LONG = 30   # seconds: a bound on every wait, so a bug fails the test instead of hanging it


def wait_until(condition, timeout=LONG):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


class Worker:
    """A thread that takes a ticket from ``queue`` and holds its slot until ``go`` is set."""

    def __init__(self, queue, owner, log, kind="train"):
        self.go, self.error, self.ticket = threading.Event(), None, None
        self.submitted = threading.Event()

        def work():
            try:
                with queue.run(kind, owner, on_wait=lambda t: self._seen(t), poll=0.01) as ticket:
                    self.ticket = ticket
                    self.submitted.set()
                    log.append(("start", owner))
                    while not self.go.wait(0.01):
                        ticket.check()
                    log.append(("end", owner))
            except BaseException as e:  # noqa: BLE001 - the test reads it
                self.error = e
                self.submitted.set()

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()

    def _seen(self, ticket):
        self.ticket = ticket
        self.submitted.set()

    def finish(self):
        self.go.set()
        self.thread.join(LONG)
        assert not self.thread.is_alive()


def test_default_slots_leave_cores_for_clicks(monkeypatch):
    monkeypatch.delenv("CNNVIZ_HEAVY_SLOTS", raising=False)
    assert jobs.default_slots(2) == 1          # the classroom laptop: one job, one core free
    assert jobs.default_slots(1) == 1
    assert jobs.default_slots(8) == 4
    monkeypatch.setenv("CNNVIZ_HEAVY_SLOTS", "3")
    assert jobs.default_slots(2) == 3


def test_first_come_first_served_with_positions():
    q, log = jobs.JobQueue(slots=1), []
    first = Worker(q, "a", log)
    wait_until(lambda: ("start", "a") in log)
    others = []
    for owner in "bcd":                     # one after the other: a known order
        w = Worker(q, owner, log)
        w.submitted.wait(LONG)
        others.append(w)
    assert [t.owner for t in q.waiting()] == ["b", "c", "d"]
    assert [w.ticket.position for w in others] == [1, 2, 3]
    assert [w.ticket.first_position for w in others] == [1, 2, 3]
    assert first.ticket.position == 0 and q.running() == [first.ticket]
    first.finish()
    wait_until(lambda: ("start", "b") in log)
    assert [w.ticket.position for w in others] == [0, 1, 2]
    for w in others:
        wait_until(lambda w=w: ("start", w.ticket.owner) in log)
        w.finish()
    assert [e for e in log if e[0] == "start"] == [("start", o) for o in "abcd"]
    # never two at once with one slot: each start follows the previous end
    assert log == [(s, o) for o in "abcd" for s in ("start", "end")]
    assert all(w.error is None for w in [first, *others])
    assert q.waiting() == [] and q.running() == []


def test_slots_are_respected():
    q, log = jobs.JobQueue(slots=2), []
    workers = [Worker(q, owner, log) for owner in "abcde"]
    wait_until(lambda: len(q.running()) == 2 and len(q.waiting()) == 3)
    time.sleep(0.05)
    assert len(q.running()) == 2 and sum(1 for e in log if e[0] == "start") == 2
    peak = []
    for w in workers:
        w.go.set()
    for w in workers:
        peak.append(len(q.running()))
        w.thread.join(LONG)
    assert max(peak) <= 2
    assert sorted(o for s, o in log if s == "end") == list("abcde")


def three_in_line(qa, qb, qc, log):
    """Learner "a" runs (through ``qa``), then "b" (``qb``) and "c" (``qc``) wait, in that order."""
    a = Worker(qa, "a", log)
    wait_until(lambda: ("start", "a") in log)
    b = Worker(qb, "b", log)
    b.submitted.wait(LONG)
    c = Worker(qc, "c", log)
    c.submitted.wait(LONG)
    return a, b, c


def test_cancel_while_waiting_leaves_the_line():
    q, log = jobs.JobQueue(slots=1), []
    a, b, c = three_in_line(q, q, q, log)
    assert c.ticket.position == 2
    b.ticket.cancel()
    b.thread.join(LONG)
    assert isinstance(b.error, jobs.Cancelled)
    assert c.ticket.position == 1                 # moved up
    a.finish()
    wait_until(lambda: ("start", "c") in log)
    c.finish()
    assert ("start", "b") not in log


def test_cancel_while_running_stops_at_the_next_check_and_frees_the_slot():
    q, log = jobs.JobQueue(slots=1), []
    a = Worker(q, "a", log)
    wait_until(lambda: ("start", "a") in log)
    b = Worker(q, "b", log)
    b.submitted.wait(LONG)
    a.ticket.cancel()
    a.thread.join(LONG)
    assert isinstance(a.error, jobs.Cancelled) and ("end", "a") not in log
    assert a.ticket.state == jobs.CANCELLED
    wait_until(lambda: ("start", "b") in log)
    b.finish()


def test_one_job_per_learner_the_new_request_replaces_the_old():
    q, log = jobs.JobQueue(slots=2), []
    old = Worker(q, "same", log)
    wait_until(lambda: ("start", "same") in log)
    other = Worker(q, "other", log)
    wait_until(lambda: ("start", "other") in log)      # a free slot: another learner runs
    new = Worker(q, "same", log, kind="occlusion")
    new.submitted.wait(LONG)
    old.thread.join(LONG)
    assert isinstance(old.error, jobs.Cancelled)        # the old one stopped at its next check
    wait_until(lambda: log.count(("start", "same")) == 2)
    assert new.ticket.kind == "occlusion"
    assert [t.owner for t in q.running()].count("same") == 1
    new.finish()
    other.finish()


def test_a_learner_waiting_twice_keeps_only_the_newest_ticket():
    q, log = jobs.JobQueue(slots=1), []
    a = Worker(q, "a", log)
    wait_until(lambda: ("start", "a") in log)
    first = Worker(q, "b", log)
    first.submitted.wait(LONG)
    second = Worker(q, "b", log)
    second.submitted.wait(LONG)
    first.thread.join(LONG)
    assert isinstance(first.error, jobs.Cancelled)
    assert q.waiting() == [second.ticket] and second.ticket.position == 1
    a.finish()
    wait_until(lambda: ("start", "b") in log)
    second.finish()


def test_a_job_that_raises_gives_its_slot_back():
    q = jobs.JobQueue(slots=1)
    with pytest.raises(ZeroDivisionError):
        with q.run("train", "a"):
            1 / 0
    assert q.running() == [] and q.waiting() == []
    started = threading.Event()

    def next_one():
        with q.run("train", "b"):
            started.set()

    t = threading.Thread(target=next_one)
    t.start()
    t.join(LONG)
    assert started.is_set()        # no deadlock: the next one got the slot


def test_on_wait_raising_leaves_the_line():
    """A Streamlit rerun (the learner's Cancel click) raises inside ``on_wait``: the ticket must go."""
    q = jobs.JobQueue(slots=1)
    holder = q.submit("train", "a")
    assert holder.state == jobs.RUNNING

    class Rerun(Exception):
        pass

    def on_wait(ticket):
        raise Rerun()

    with pytest.raises(Rerun):
        with q.run("train", "b", on_wait=on_wait):
            pass
    assert q.waiting() == []
    holder.release()
    assert q.running() == []


def hammer(queues, *, threads: int, owners: int, seconds: float) -> tuple[int, list]:
    """``threads`` jobs at once through ``queues`` (thread i uses queue i % len(queues), owner
    i % ``owners``, so newer requests cancel older ones): the most that ran at once, the errors."""
    active, peak, lock, errors = [0], [0], threading.Lock(), []

    def one(i):
        try:
            with queues[i % len(queues)].run("x", i % owners, on_wait=lambda t: None, poll=0.001) as ticket:
                with lock:
                    active[0] += 1
                    peak[0] = max(peak[0], active[0])
                try:
                    time.sleep(seconds)
                    ticket.check()     # a newer request of the same owner may have cancelled it
                finally:
                    with lock:
                        active[0] -= 1
        except jobs.Cancelled:
            pass
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    pool = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(LONG)
    assert not any(th.is_alive() for th in pool)
    return peak[0], errors


def test_many_threads_no_deadlock_and_never_more_than_the_slots():
    q = jobs.JobQueue(slots=2)
    peak, errors = hammer([q], threads=40, owners=7, seconds=0.001)
    assert not errors and peak <= 2
    assert q.running() == [] and q.waiting() == []


def test_jobs_run_on_the_set_torch_threads():
    import torch

    before = torch.get_num_threads()
    try:
        with jobs.JobQueue(slots=2).run("train", "a"):
            assert torch.get_num_threads() == jobs.THREADS_PER_JOB
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------ one line for the whole machine
# ``python -m cnnviz.serve`` starts several worker processes; with CNNVIZ_JOBS_DIR they share one
# line: the slots and the order are the machine's. Two JobQueues on one folder stand for two
# processes (each keeps its own tickets and threads); a real second process checks the rest.

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """The folder of a shared line, as cnnviz.serve gives its workers (through the environment)."""
    folder = tmp_path / "jobs"
    monkeypatch.setenv("CNNVIZ_JOBS_DIR", str(folder))
    return folder


def test_two_workers_on_one_machine_share_the_slots(machine):
    one, two = jobs.JobQueue(slots=1), jobs.JobQueue(slots=1)     # two workers, one 1-slot machine
    log = []
    a = Worker(one, "a", log)
    wait_until(lambda: ("start", "a") in log)
    b = Worker(two, "b", log)                  # the other worker's learner waits: the machine is busy
    b.submitted.wait(LONG)
    time.sleep(0.3)
    assert ("start", "b") not in log and b.ticket.state == jobs.WAITING and b.ticket.position == 1
    a.finish()
    wait_until(lambda: ("start", "b") in log)
    b.finish()
    assert log == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b")]


def test_first_come_first_served_and_positions_across_workers(machine):
    one, two = jobs.JobQueue(slots=1), jobs.JobQueue(slots=1)
    log = []
    first = Worker(one, "a", log)
    wait_until(lambda: ("start", "a") in log)
    others = []
    for queue, owner in ((two, "b"), (one, "c"), (two, "d"), (one, "e")):   # alternating workers
        w = Worker(queue, owner, log)
        w.submitted.wait(LONG)
        others.append(w)
    assert [w.ticket.position for w in others] == [1, 2, 3, 4]
    assert [w.ticket.first_position for w in others] == [1, 2, 3, 4]
    assert one.machine_waiting() == two.machine_waiting() == 4
    assert [t.owner for t in one.waiting()] == ["c", "e"] and [t.owner for t in two.waiting()] == ["b", "d"]
    first.finish()
    wait_until(lambda: ("start", "b") in log)
    assert [w.ticket.position for w in others] == [0, 1, 2, 3]
    for w in others:
        wait_until(lambda w=w: ("start", w.ticket.owner) in log)
        w.finish()
    assert log == [(s, o) for o in "abcde" for s in ("start", "end")]     # one at a time, in order
    assert not list((machine / "wait").iterdir())                          # no ticket left behind


def test_many_threads_in_two_workers_never_exceed_the_machine_slots(machine):
    queues = [jobs.JobQueue(slots=2), jobs.JobQueue(slots=2)]
    peak, errors = hammer(queues, threads=30, owners=5, seconds=0.01)
    assert not errors and peak == 2          # both machine slots used, never a third
    assert all(q.running() == [] and q.waiting() == [] for q in queues)


def test_cancel_in_line_and_a_failing_job_across_workers(machine):
    one, two = jobs.JobQueue(slots=1), jobs.JobQueue(slots=1)
    log = []
    a, b, c = three_in_line(one, two, one, log)
    assert c.ticket.position == 2
    b.ticket.cancel()                          # b leaves the line: c, in the other worker, moves up
    b.thread.join(LONG)
    assert isinstance(b.error, jobs.Cancelled) and c.ticket.position == 1
    a.finish()
    wait_until(lambda: ("start", "c") in log)
    c.finish()
    with pytest.raises(ZeroDivisionError):     # a job that raises gives the machine's slot back
        with two.run("train", "d"):
            1 / 0
    with one.run("train", "e") as ticket:
        assert ticket.state == jobs.RUNNING and ticket.first_position == 0


def test_a_learners_new_request_replaces_the_old_one_in_a_shared_line(machine):
    q, other_worker = jobs.JobQueue(slots=2), jobs.JobQueue(slots=2)
    log = []
    old = Worker(q, "same", log)
    wait_until(lambda: ("start", "same") in log)
    new = Worker(q, "same", log, kind="occlusion")     # the old one runs on: the new one is held
    new.submitted.wait(LONG)
    behind = Worker(other_worker, "other", log)        # behind it, but a slot is free: it goes first
    wait_until(lambda: ("start", "other") in log or old.error is not None)
    old.thread.join(LONG)
    assert isinstance(old.error, jobs.Cancelled)
    wait_until(lambda: log.count(("start", "same")) == 2)
    assert new.ticket.kind == "occlusion"
    new.finish()
    behind.finish()


CHILD = """
import sys
from cnnviz import jobs
q = jobs.JobQueue(slots=1)
with q.run("train", "child", on_wait=lambda t: print("waiting", t.position, flush=True), poll=0.05):
    print("running", flush=True)
    sys.stdin.readline()
print("done", flush=True)
"""


class Child:
    """A real second server process taking a ticket of the shared line (from the environment)."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=os.environ.copy(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines = []
        threading.Thread(target=lambda: self.lines.extend(iter(self.proc.stdout.readline, "")),
                         daemon=True).start()

    def said(self, text):
        return any(line.strip() == text for line in self.lines)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(LONG)


@pytest.mark.slow
def test_a_second_process_waits_for_the_machine_slot_and_a_killed_one_gives_it_back(machine):
    q, log = jobs.JobQueue(slots=1), []
    child = Child()                                # another worker process: it trains first
    try:
        wait_until(lambda: child.said("running"))
        a = Worker(q, "a", log)
        a.submitted.wait(LONG)
        time.sleep(0.3)
        assert ("start", "a") not in log and a.ticket.position == 1
        child.kill()                               # the worker crashes in the middle of its job:
        wait_until(lambda: ("start", "a") in log)  # its flock went with it, the slot is free
        # now a second process comes while ours runs: it waits, number 1 in line
        waiting = Child()
        wait_until(lambda: waiting.said("waiting 1"))
        b = Worker(q, "b", log)
        b.submitted.wait(LONG)
        assert b.ticket.position == 2              # behind the other process's ticket
        waiting.kill()                             # it crashes in line: its ticket is removed
        wait_until(lambda: b.ticket.position == 1)
        a.finish()
        wait_until(lambda: ("start", "b") in log)
        b.finish()
        # and a third one, which finishes normally, gets the slot as well
        last = Child()
        wait_until(lambda: last.said("running"))
        last.proc.stdin.write("\n")
        last.proc.stdin.flush()
        wait_until(lambda: last.said("done"))
        assert last.proc.wait(LONG) == 0
    finally:
        for c in [child] + [v for v in (locals().get("waiting"), locals().get("last")) if v]:
            if c.proc.poll() is None:
                c.kill()
    assert not list((machine / "wait").iterdir())


def test_a_folder_that_cannot_be_made_leaves_the_line_in_the_process(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(UserWarning, match="per process"):
        q = jobs.JobQueue(slots=1, shared=blocker / "jobs")
    assert q.shared is None
    with q.run("train", "a") as ticket:
        assert ticket.state == jobs.RUNNING
