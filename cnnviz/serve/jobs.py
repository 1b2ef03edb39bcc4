"""Heavy work queued machine-wide: a few slots, first come first served, one job per learner.

Every Streamlit session is a thread of one server process. Training a network, integrated
gradients, occlusion, the sanity check and the top images of a layer keep a CPU core busy for
seconds; stepping a kernel needs a few milliseconds of it. Without a bound, five students
pressing Train at once leave no core for the other twenty-five's clicks. So heavy work goes
through one line (``QUEUE``):

- ``slots`` jobs run at once (``default_slots``: half the machine's cores, at least one; on the
  2-core classroom laptop that is one job, and the other core stays free for everybody's clicks).
  ``CNNVIZ_HEAVY_SLOTS`` overrides it.
- **One line per machine** when the server processes share a folder, ``CNNVIZ_JOBS_DIR``
  (``python -m cnnviz.serve`` gives all its workers one): the slots and the order are then the
  machine's, not each worker's, so two workers on two cores still run one training at a time.
  Each waiting ticket is a file in ``<dir>/wait`` named by its submit time (the machine-wide
  monotonic clock, in ns), its pid and its number; a ticket starts only when it is the oldest
  waiting file and it can take one of ``slots`` slot files with a non-blocking ``flock``. Its place
  in line is the number of older waiting files + 1. A crashed worker's ``flock`` goes with it, and
  the waiting files of a pid that no longer exists are removed by whoever lists the line. Without
  ``CNNVIZ_JOBS_DIR`` (``streamlit run app.py``: one process) the line lives in the process.
- Each job runs on ``THREADS_PER_JOB`` torch threads: small batches gain nothing from more, and
  threads of several jobs fighting over cores were measured 10x slower (``cnnviz.maths.signals``).
  A job alone in the line (``slots`` is 1, the 2-core laptop's case: nothing else can run beside
  it) runs on ``ALONE_THREADS`` (2, at most the machine's cores): the whole MNIST trains in about
  half the time (issue 19). A job sets ``torch.set_num_threads`` when it starts, from the thread
  that runs it (with torch's OpenMP threads the setting is that thread's: ``tests/test_job_threads.py``),
  and a second job waits in line while the first runs, so it never changes the first's threads;
  with more slots every job runs on ``THREADS_PER_JOB``.
- Waiting tickets are served in the order they came (FIFO); each knows its position in line
  (1 = next). A learner holds at most one ticket: a new request from the same learner cancels
  the previous one (it leaves the line, or stops at its next progress report) and runs only
  once that one has let its slot go (meanwhile the ones behind it may go first). A learner's
  session lives in one process, so this rule is the process's.
- Cancelling: a waiting ticket leaves the line at once; a running job sees the flag the next
  time it reports progress (``Ticket.check`` raises ``Cancelled``).
- A job that raises still gives its slot back (``with QUEUE.run(...)``).

No streamlit here: ``cnnviz.ui.heavy`` draws the line, the Cancel button and the progress.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Hashable, Iterator

from cnnviz.base.errors import CnnvizError

THREADS_PER_JOB = 1
ALONE_THREADS = 2    # a job alone on the machine's line (one slot) uses both cores of the classroom laptop
SHARED_POLL = 0.05   # seconds between two looks at a shared line (a local release wakes at once)
WAITING, RUNNING, DONE, CANCELLED = "waiting", "running", "done", "cancelled"


class Cancelled(CnnvizError):
    """The job's ticket was cancelled (by the learner's newer request, or by the server): a
    message for the learner, shown like every other ``CnnvizError``."""

    def __init__(self):
        super().__init__("jobs.cancelled")


def default_slots(cores: int | None = None) -> int:
    """Jobs at once: ``CNNVIZ_HEAVY_SLOTS`` if set, else half the machine's cores (at least one),
    so the other half always serves the clicks of everybody who is not training. With a shared
    line (``CNNVIZ_JOBS_DIR``) these are the slots of the whole machine, not of each worker."""
    env = os.environ.get("CNNVIZ_HEAVY_SLOTS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = cores or os.cpu_count() or 1
    return max(1, cores // 2)


def job_threads(slots: int, cores: int | None = None) -> int:
    """Torch threads of a heavy job: ``ALONE_THREADS`` (at most ``cores``) when the line has one slot,
    so the job that runs is alone (the others wait); ``THREADS_PER_JOB`` when jobs may run side by side."""
    if slots == 1:
        return max(1, min(ALONE_THREADS, cores or os.cpu_count() or 1))
    return THREADS_PER_JOB


def limit_torch_threads(n: int | None = None) -> None:
    """Heavy jobs run on ``n`` (``THREADS_PER_JOB``) torch threads (``job_threads`` decides ``n``)."""
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
        self._name: str | None = None    # shared line: its file in <dir>/wait while it waits
        self._held = False               # shared line: its owner's previous job still runs
        self._slot: int | None = None    # shared line: the open slot file it holds with flock

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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # another user's process: alive
        return True
    return True


class JobQueue:
    """A FIFO line in front of ``slots`` slots, thread-safe, one ticket per owner.

    ``shared``: a folder shared by every server process of the machine (default:
    ``CNNVIZ_JOBS_DIR``, if set): the slots and the order are then machine-wide (see the module's
    docstring). Without it, the line is this process's."""

    def __init__(self, slots: int | None = None, shared: str | os.PathLike | None = None):
        self.slots = slots or default_slots()
        if shared is None:
            shared = os.environ.get("CNNVIZ_JOBS_DIR", "").strip() or None
        self.shared = Path(shared) if shared else None
        self._cond = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._numbers = itertools.count(1)
        if self.shared:
            try:
                (self.shared / "wait").mkdir(parents=True, exist_ok=True)
            except OSError as err:      # a folder we cannot write: this process's own line, as before
                import warnings

                warnings.warn(f"CNNVIZ_JOBS_DIR {self.shared}: {err}; heavy work queued per process")
                self.shared = None

    # -------------------------------------------------------------- inspection
    def waiting(self) -> list[Ticket]:
        """This process's waiting tickets, in the order of the line."""
        with self._cond:
            return list(self._waiting)

    def running(self) -> list[Ticket]:
        """This process's running tickets."""
        with self._cond:
            return list(self._running)

    def position(self, ticket: Ticket) -> int:
        with self._cond:
            if ticket not in self._waiting:
                return 0
            if not self.shared:
                return self._waiting.index(ticket) + 1
            names = self._line()
            me = self._file_key(ticket._name)
            return 1 + sum(1 for n in names if self._file_key(n) < me)

    def machine_waiting(self) -> int:
        """Tickets waiting in the whole line (every process's, with a shared line)."""
        with self._cond:
            return len(self._line()) if self.shared else len(self._waiting)

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
            if self.shared:
                ticket._held = any(t.owner == owner for t in self._running)
                ticket._name = f"{time.monotonic_ns():020d}-{os.getpid()}-{ticket.number}" + \
                    (".hold" if ticket._held else "")
                (self.shared / "wait" / ticket._name).write_text(kind)
            self._grant_locked()
            ticket.first_position = self.position(ticket) if ticket.state == WAITING else 0
            return ticket

    def wait(self, ticket: Ticket, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while ticket.state == WAITING:
                if self.shared:     # another process may have let a slot go: look again
                    self._grant_locked()
                    if ticket.state != WAITING:
                        break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                if self.shared:
                    left = SHARED_POLL if left is None else min(left, SHARED_POLL)
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
                self._unlink(ticket)
                ticket.state = CANCELLED
            elif ticket in self._running:
                self._running.remove(ticket)
                self._free_slot(ticket)
                ticket.state = CANCELLED if ticket.cancelled else DONE
            self._grant_locked()
            self._cond.notify_all()

    @contextmanager
    def run(self, kind: str, owner: Hashable, *, on_wait: Callable[[Ticket], None] | None = None,
            poll: float = 0.5) -> Iterator[Ticket]:
        """``with queue.run("train", session) as ticket:`` waits for a slot, calling ``on_wait(ticket)``
        at once and every ``poll`` seconds while in line (to show the position; an exception it
        raises leaves the line), then runs the block on ``job_threads(self.slots)`` torch threads. The
        slot is given back however the block ends. ``Cancelled`` if the ticket is cancelled in line."""
        ticket = self.submit(kind, owner)
        try:
            while not ticket.wait(0 if on_wait else None):
                on_wait(ticket)
                if ticket.wait(poll):
                    break
            limit_torch_threads(job_threads(self.slots))
            yield ticket
        finally:
            ticket.release()

    # -------------------------------------------------------------- inside the lock
    def _cancel_locked(self, ticket: Ticket) -> None:
        ticket._cancel.set()
        if ticket in self._waiting:
            self._waiting.remove(ticket)
            self._unlink(ticket)
            ticket.state = CANCELLED
            self._grant_locked()
        self._cond.notify_all()

    def _grant_locked(self) -> None:
        """Start waiting tickets in order while slots are free; a ticket whose owner still has a
        job running (being cancelled) lets the ones behind it go first."""
        if self.shared:
            self._grant_shared()
            return
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

    # -------------------------------------------------------------- the machine's line (files)
    @staticmethod
    def _file_key(name: str) -> str:
        return name.removesuffix(".hold")

    def _line(self) -> list[str]:
        """The waiting files of the machine, oldest first; those of dead processes are removed."""
        folder = self.shared / "wait"
        me, alive, names = os.getpid(), {}, []
        for name in os.listdir(folder):
            try:
                pid = int(name.split("-")[1])
            except (IndexError, ValueError):
                continue
            if pid != me:
                if pid not in alive:
                    alive[pid] = _pid_alive(pid)
                if not alive[pid]:
                    try:
                        os.unlink(folder / name)
                    except FileNotFoundError:
                        pass
                    continue
            names.append(name)
        return sorted(names, key=self._file_key)

    def _grant_shared(self) -> None:
        """While the oldest waiting file that is not held is one of ours, take a free slot for it."""
        busy = {t.owner for t in self._running}
        mine = {t._name: t for t in self._waiting}
        for ticket in self._waiting:            # an owner's old job is gone: it may go now
            if ticket._held and ticket.owner not in busy:
                new = self._file_key(ticket._name)
                try:
                    os.rename(self.shared / "wait" / ticket._name, self.shared / "wait" / new)
                except FileNotFoundError:
                    (self.shared / "wait" / new).write_text(ticket.kind)
                mine.pop(ticket._name, None)
                ticket._name, ticket._held = new, False
                mine[new] = ticket
        while True:
            head = next((n for n in self._line() if not n.endswith(".hold")), None)
            ticket = mine.get(head)
            if ticket is None:                  # nobody waits, or the next one is another process's
                break
            slot = self._take_slot()
            if slot is None:
                break
            self._waiting.remove(ticket)
            self._unlink(ticket)
            ticket._slot = slot
            ticket.state, ticket.started = RUNNING, time.monotonic()
            self._running.append(ticket)
        self._cond.notify_all()

    def _take_slot(self) -> int | None:
        """An open slot file locked for us (non-blocking), or None if every slot is taken."""
        for i in range(self.slots):
            fd = os.open(self.shared / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    continue
                raise
            return fd
        return None

    def _free_slot(self, ticket: Ticket) -> None:
        if ticket._slot is not None:
            os.close(ticket._slot)          # closing the file lets its flock go
            ticket._slot = None

    def _unlink(self, ticket: Ticket) -> None:
        if self.shared and ticket._name:
            try:
                os.unlink(self.shared / "wait" / ticket._name)
            except FileNotFoundError:
                pass
            ticket._name = None


QUEUE = JobQueue()   # the server's line: this process's, or the machine's with CNNVIZ_JOBS_DIR
