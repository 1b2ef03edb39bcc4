"""Each browser's course progress, kept in SQLite and shared by every worker of one server.

A learner is a random id that the browser keeps in a cookie (``COOKIE``, set by ``cnnviz.ui.progress``),
never in a link. The store holds only that id, the lessons it opened, its self-check questions
(question id -> right or wrong at the question's first check) and the times of each: no names, no
addresses, nothing typed. Rows stay until the learner asks to forget them (``forget``): this is a
record, not a cache, and nothing evicts it.

Where it lives: ``CNNVIZ_PROGRESS_DB`` if set, else ``var/progress.db`` beside the app (gitignored).
``python -m cnnviz.serve`` points its workers at one file (its run folder by default), so a browser
that moves to another worker, or comes back after a worker restart, finds its progress. SQLite in
WAL mode: readers never wait for the writer, and every write is one short transaction, so the
workers' sessions can write at once (``busy_timeout`` lets a second writer wait its turn).

A file that can't be used (unwritable folder, a corrupt or foreign file) is never fatal: ``shared``
logs one warning and answers None, and the app keeps each session's progress in memory only
(``cnnviz.ui.progress`` says so in the sidebar). When the default location beside the app is read
only, a folder in the system's temporary directory is tried first, with a warning naming it.

No streamlit here: ``cnnviz.ui.progress`` reads the cookie and calls this module.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("cnnviz")

ENV = "CNNVIZ_PROGRESS_DB"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = ROOT / "var" / "progress.db"
COOKIE = "cnnviz_learner"
COOKIE_MAX_AGE = 400 * 24 * 3600         # seconds: the longest a browser keeps a cookie (Chromium caps at 400 days)
SCHEMA_VERSION = 1
_ID = re.compile(r"[0-9a-f]{32}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS opened (
    learner TEXT NOT NULL,
    lesson  TEXT NOT NULL,
    at      REAL NOT NULL,
    PRIMARY KEY (learner, lesson)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answers (
    learner  TEXT NOT NULL,
    lesson   TEXT NOT NULL,
    question TEXT NOT NULL,
    right    INTEGER NOT NULL CHECK (right IN (0, 1)),
    at       REAL NOT NULL,
    PRIMARY KEY (learner, lesson, question)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


class StoreError(Exception):
    """The progress file can't be opened, read or written (the message says which file and why)."""


def new_id() -> str:
    """A new anonymous learner id: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def valid_id(value) -> bool:
    """Whether ``value`` (e.g. a cookie sent by a browser) is an id that ``new_id`` could have made."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Progress:
    """One learner's progress: ``opened`` lesson url -> when first opened (unix time), in the order
    opened; ``results`` lesson url -> {question id: right at its first check}, in the order answered."""

    opened: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)


class Store:
    """The progress file at ``path`` (made with its folder if missing). Thread-safe: one connection,
    one lock; other processes share the file through SQLite's locks. Every method raises
    ``StoreError`` (never ``sqlite3.Error``) when the file fails."""

    def __init__(self, path, *, timeout: float = 10.0):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._init(timeout)
        except (OSError, sqlite3.Error) as err:
            self.close()
            raise StoreError(f"{self.path}: {err}") from err

    def _init(self, timeout: float) -> None:
        """WAL mode (kept in the file), the schema once (``user_version``), and one write: a file
        that can be read but not written fails here, not at the learner's first answer."""
        db = self._db
        deadline = time.monotonic() + timeout
        while True:       # several workers opening a new file at once: switching to WAL takes turns
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"journal mode {mode!r} instead of 'wal'")
        db.execute("PRAGMA synchronous = NORMAL")      # WAL: a committed answer survives a killed process
        with self._write():
            if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (repr(time.time()),))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('last_opened', ?)", (repr(time.time()),))

    class _Txn:
        def __init__(self, db):
            self.db = db

        def __enter__(self):
            self.db.execute("BEGIN IMMEDIATE")       # the write lock first: no upgrade deadlock
            return self.db

        def __exit__(self, kind, *_):
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def _write(self):
        return Store._Txn(self._db)

    def _run(self, work):
        with self._lock:
            if self._db is None:
                raise StoreError(f"{self.path}: closed")
            try:
                return work(self._db)
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise StoreError(f"{self.path}: {err}") from err

    def open_lesson(self, learner: str, lesson: str, *, at: float | None = None) -> bool:
        """Note that ``learner`` opened ``lesson`` (the first time counts); True when it is new."""
        at = time.time() if at is None else at
        return self._run(lambda db: db.execute(
            "INSERT OR IGNORE INTO opened (learner, lesson, at) VALUES (?, ?, ?)",
            (learner, lesson, at)).rowcount == 1)

    def record(self, learner: str, lesson: str, question: str, right: bool, *, at: float | None = None) -> bool:
        """Note the first check of ``question``: right or wrong, for good. A later check of the same
        question changes nothing (its answer has been shown by then). True when it is the first."""
        at = time.time() if at is None else at
        return self._run(lambda db: db.execute(
            "INSERT OR IGNORE INTO answers (learner, lesson, question, right, at) VALUES (?, ?, ?, ?, ?)",
            (learner, lesson, question, int(bool(right)), at)).rowcount == 1)

    def progress(self, learner: str) -> Progress:
        """Everything noted for ``learner`` (one read; never waits for a writer)."""
        def read(db):
            with self._read():
                opened = {lesson: at for lesson, at in db.execute(
                    "SELECT lesson, at FROM opened WHERE learner = ? ORDER BY at, lesson", (learner,))}
                results: dict = {}
                for lesson, question, right in db.execute(
                        "SELECT lesson, question, right FROM answers WHERE learner = ? ORDER BY at, question",
                        (learner,)):
                    results.setdefault(lesson, {})[question] = bool(right)
            return Progress(opened, results)
        return self._run(read)

    class _Read(_Txn):
        def __enter__(self):
            self.db.execute("BEGIN")                 # one snapshot for both tables
            return self.db

    def _read(self):
        return Store._Read(self._db)

    def forget(self, learner: str) -> int:
        """Delete every row of ``learner``; how many there were."""
        def delete(db):
            with self._write():
                return (db.execute("DELETE FROM opened WHERE learner = ?", (learner,)).rowcount
                        + db.execute("DELETE FROM answers WHERE learner = ?", (learner,)).rowcount)
        return self._run(delete)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                finally:
                    self._db = None


def configured_path() -> Path:
    """The progress file this process uses: ``CNNVIZ_PROGRESS_DB``, else ``DEFAULT_PATH``."""
    env = os.environ.get(ENV, "").strip()
    return Path(env).expanduser() if env else DEFAULT_PATH


def fallback_path() -> Path:
    """Where the progress goes when the default place beside the app is read only (a checkout
    without write access): a folder of this user's in the system's temporary directory."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"cnnviz-progress-{uid}" / "progress.db"


_shared: dict = {}            # configured path -> Store, or None (logged once: session-only progress)
_shared_lock = threading.Lock()


def shared() -> Store | None:
    """This process's store (one per configured path, opened once), or None when no file can be
    used: the reason is logged once, as a warning, and progress lasts for each session only.

    ``CNNVIZ_PROGRESS_DB`` set: that file or nothing (never somewhere the operator didn't choose).
    Not set: ``DEFAULT_PATH``, else ``fallback_path()`` (both named in the warning)."""
    path = configured_path()
    key = str(path)
    with _shared_lock:
        if key in _shared:
            return _shared[key]
        candidates = [path] if os.environ.get(ENV, "").strip() else [path, fallback_path()]
        store, problems = None, []
        for where in candidates:
            try:
                store = Store(where)
                break
            except StoreError as err:
                problems.append(str(err))
        if store is None:
            log.warning("cnnviz progress: no file can keep the learners' progress (%s); each browser session "
                        "keeps its own in memory only, and loses it on reload. Set %s to a writable file.",
                        "; ".join(problems), ENV)
        elif problems:
            log.warning("cnnviz progress: %s; keeping the learners' progress in %s instead (set %s to choose).",
                        problems[0], store.path, ENV)
        else:
            log.info("cnnviz progress: kept in %s", store.path)
        _shared[key] = store
        return store


def reset_shared() -> None:
    """Close and forget the process's stores (tests; a changed ``CNNVIZ_PROGRESS_DB``)."""
    with _shared_lock:
        for store in _shared.values():
            if store is not None:
                store.close()
        _shared.clear()
