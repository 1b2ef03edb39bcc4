"""Heavy work queued server-wide: a few slots, first come first served, one job per learner.

Every Streamlit session is a thread of one server process. Training a network, integrated
gradients, occlusion, the sanity check and the top images of a layer keep a CPU core busy for
seconds; stepping a kernel needs a few milliseconds of it. Without a bound, five students
pressing Train at once leave no core for the other twenty-five's clicks. So heavy work goes
through one queue per process (``QUEUE``):

- ``slots`` jobs run at once (``default_slots``: half the cores, at least one; on the 2-core
  classroom laptop that is one job, and the other core stays free for everybody's clicks).
  ``CNNVIZ_HEAVY_SLOTS`` overrides it (with several server processes on one machine, give each
  its share).
- Each job runs on ``THREADS_PER_JOB`` torch threads: small batches gain nothing from more, and
  threads of several jobs fighting over cores were measured 10x slower (``cnnviz.signals``).
  ``torch.set_num_threads`` is process-wide, so every job sets the same value (no race between
  different values) and the interactive work runs on it too (a single picture's forward pass).
- Waiting tickets are served in the order they came (FIFO); each knows its position in line
  (1 = next). A learner holds at most one ticket: a new request from the same learner cancels
  the previous one (it leaves the line, or stops at its next progress report) and runs only
  once that one has let its slot go.
- Cancelling: a waiting ticket leaves the line at once; a running job sees the flag the next
  time it reports progress (``Ticket.check`` raises ``Cancelled``).
- A job that raises still gives its slot back (``with QUEUE.run(...)``).

No streamlit here: ``cnnviz.ui.heavy`` draws the line, the Cancel button and the progress.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from contextlib import contextmanager
from typing import Callable, Hashable, Iterator

from .errors import CnnvizError

THREADS_PER_JOB = 1
WAITING, RUNNING, DONE, CANCELLED = "waiting", "running", "done", "cancelled"


class Cancelled(CnnvizError):
    """The job's ticket was cancelled (by the learner's newer request, or by the server): a
    message for the learner, shown like every other ``CnnvizError``."""

    def __init__(self):
        super().__init__("jobs.cancelled")


def default_slots(cores: int | None = None) -> int:
    """Jobs at once: ``CNNVIZ_HEAVY_SLOTS`` if set, else half the cores (at least one), so the
    other half always serves the clicks of everybody who is not training."""
    env = os.environ.get("CNNVIZ_HEAVY_SLOTS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = cores or os.cpu_count() or 1
    return max(1, cores // 2)


def limit_torch_threads(n: int | None = None) -> None:
    """Heavy jobs run on ``n`` (``THREADS_PER_JOB``) torch threads (process-wide; every caller
    passes the same ``n``)."""
    import torch

    n = n or THREADS_PER_JOB
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


class Ticket:
    """One request for heavy work: its place in line, then its slot, and a cancel flag."""

    def __init__(self, queue: "JobQueue", number: int, kind: str, owner: Hashable):
        self.queue, self.number, self.kind, self.owner = queue, number, kind, owner
        self.state = WAITING
        self.submitted = time.monotonic()
        self.started: float | None = None
        self.first_position = 0          # its place in line when it came (0: it ran at once)
        self._cancel = threading.Event()

    def __repr__(self) -> str:
        return f"Ticket({self.number}, {self.kind!r}, {self.state})"

    @property
    def position(self) -> int:
        """1 = next in line, 2 = second...; 0 once it runs (or is over)."""
        return self.queue.position(self)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def waited(self) -> float:
        """Seconds spent in line (so far, or until it started)."""
        return (self.started or time.monotonic()) - self.submitted

    def cancel(self) -> None:
        """Leave the line now, or, running, stop at the next ``check``."""
        self.queue.cancel(self)

    def check(self) -> None:
        """Call it from the job's progress reports: raises ``Cancelled`` once the ticket is cancelled."""
        if self._cancel.is_set():
            raise Cancelled()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for a slot: True once it runs; ``Cancelled`` if cancelled."""
        return self.queue.wait(self, timeout)

    def release(self) -> None:
        """Give the slot back (or leave the line): the next in line starts."""
        self.queue.release(self)


class JobQueue:
    """A FIFO line in front of ``slots`` slots, thread-safe, one ticket per owner."""

    def __init__(self, slots: int | None = None):
        self.slots = slots or default_slots()
        self._cond = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._numbers = itertools.count(1)

    # -------------------------------------------------------------- inspection
    def waiting(self) -> list[Ticket]:
        with self._cond:
            return list(self._waiting)

    def running(self) -> list[Ticket]:
        with self._cond:
            return list(self._running)

    def position(self, ticket: Ticket) -> int:
        with self._cond:
            try:
                return self._waiting.index(ticket) + 1
            except ValueError:
                return 0

    # -------------------------------------------------------------- the line
    def submit(self, kind: str, owner: Hashable) -> Ticket:
        """A new ticket at the end of the line. The owner's previous ticket is cancelled: it
        leaves the line, or (running) stops at its next progress report; this one starts only
        after it has given its slot back."""
        with self._cond:
            for old in [t for t in self._waiting + self._running if t.owner == owner]:
                self._cancel_locked(old)
            ticket = Ticket(self, next(self._numbers), kind, owner)
            self._waiting.append(ticket)
            self._grant_locked()
            ticket.first_position = self._waiting.index(ticket) + 1 if ticket.state == WAITING else 0
            return ticket

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while ticket.state == WAITING:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            if ticket.state == CANCELLED:
                raise Cancelled()
            return ticket.state == RUNNING

    def cancel(self, ticket: Ticket) -> None:
        with self._cond:
            self._cancel_locked(ticket)

    def release(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
                ticket.state = CANCELLED
            elif ticket in self._running:
                self._running.remove(ticket)
                ticket.state = CANCELLED if ticket.cancelled else DONE
            self._grant_locked()
            self._cond.notify_all()

    @contextmanager
    def run(self, kind: str, owner: Hashable, *, on_wait: Callable[[Ticket], None] | None = None,
            poll: float = 0.5) -> Iterator[Ticket]:
        """``with queue.run("train", session) as ticket:`` waits for a slot, calling ``on_wait(ticket)``
        at once and every ``poll`` seconds while in line (to show the position; an exception it
        raises leaves the line), then runs the block on ``THREADS_PER_JOB`` torch threads. The slot
        is given back however the block ends. ``Cancelled`` if the ticket is cancelled in line."""
        ticket = self.submit(kind, owner)
        try:
            while not ticket.wait(0 if on_wait else None):
                on_wait(ticket)
                if ticket.wait(poll):
                    break
            limit_torch_threads()
            yield ticket
        finally:
            ticket.release()

    # -------------------------------------------------------------- inside the lock
    def _cancel_locked(self, ticket: Ticket) -> None:
        ticket._cancel.set()
        if ticket in self._waiting:
            self._waiting.remove(ticket)
            ticket.state = CANCELLED
            self._grant_locked()
        self._cond.notify_all()

    def _grant_locked(self) -> None:
        """Start waiting tickets in order while slots are free; a ticket whose owner still has a
        job running (being cancelled) lets the ones behind it go first."""
        busy = {t.owner for t in self._running}
        for ticket in list(self._waiting):
            if len(self._running) >= self.slots:
                break
            if ticket.owner in busy:
                continue
            self._waiting.remove(ticket)
            ticket.state, ticket.started = RUNNING, time.monotonic()
            self._running.append(ticket)
            busy.add(ticket.owner)
        self._cond.notify_all()


QUEUE = JobQueue()   # the server's line (one per process: Streamlit sessions are its threads)
