"""Learners' progress that lasts (issue 17): cnnviz.course.progress_store, the SQLite file every worker shares,
and the app's use of it (AppTest; the browser, reloads, links and a killed worker are in
tests/browser/test_progress_browser.py).

What is stored is only a random id, lessons opened and question id -> right at its first check, with
times. A file that can't be used is logged and the app keeps each session's progress in memory.
"""

import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from app_helpers import open_lesson

from cnnviz import course
from cnnviz.course import progress_store as ps
from cnnviz import serve
from cnnviz.i18n import t

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path):
    store = ps.Store(tmp_path / "progress.db")
    yield store
    store.close()


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    """The app's store (``ps.shared``) on a file of this test's, closed afterwards."""
    path = tmp_path / "app" / "progress.db"
    monkeypatch.setenv(ps.ENV, str(path))
    ps.reset_shared()
    yield path
    ps.reset_shared()


# ---------------------------------------------------------------- the store
def test_ids_are_random_hex_and_anything_else_is_refused():
    ids = {ps.new_id() for _ in range(200)}
    assert len(ids) == 200 and all(ps.valid_id(i) and len(i) == 32 for i in ids)
    for bad in (None, "", "abc", "0" * 31, "0" * 33, "G" * 32, "A" * 32, "../" + "0" * 29, 12345, "0" * 31 + "\n"):
        assert not ps.valid_id(bad), bad


def test_the_first_check_of_a_question_counts_for_good(db):
    me = ps.new_id()
    assert db.open_lesson(me, "convolution") and not db.open_lesson(me, "convolution")
    assert db.record(me, "convolution", "0:11:aa", False)           # wrong first: the answer is shown
    assert not db.record(me, "convolution", "0:11:aa", True)        # typed afterwards: changes nothing
    assert db.record(me, "convolution", "1:12:aa", True)
    assert not db.record(me, "convolution", "1:12:aa", False)
    got = db.progress(me)
    assert list(got.opened) == ["convolution"]
    assert got.results == {"convolution": {"0:11:aa": False, "1:12:aa": True}}
    assert db.progress(ps.new_id()) == ps.Progress({}, {})           # somebody else: nothing


def test_only_the_id_lessons_questions_and_times_are_stored(db):
    me = ps.new_id()
    db.open_lesson(me, "train", at=100.0)
    db.record(me, "train", "2:7:ff", True, at=101.0)
    raw = sqlite3.connect(db.path)
    columns = {table: [c[1] for c in raw.execute(f"PRAGMA table_info({table})")]
               for (table,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert columns == {"opened": ["learner", "lesson", "at"],
                       "answers": ["learner", "lesson", "question", "right", "at"],
                       "meta": ["key", "value"]}
    assert {k for (k,) in raw.execute("SELECT key FROM meta")} == {"created", "last_opened"}


def test_forget_deletes_that_browser_only(db):
    me, other = ps.new_id(), ps.new_id()
    for who in (me, other):
        db.open_lesson(who, "layers")
        db.record(who, "layers", "0:1:aa", True)
    assert db.forget(me) == 2
    assert db.progress(me) == ps.Progress({}, {})
    assert db.progress(other).results == {"layers": {"0:1:aa": True}}


def test_wal_and_the_schema_made_once(tmp_path):
    path = tmp_path / "progress.db"
    first = ps.Store(path)
    me = ps.new_id()
    first.record(me, "conv1d", "0:1:aa", True)
    created = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key = 'created'").fetchone()
    second = ps.Store(path)                          # another worker opening the same file
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == ps.SCHEMA_VERSION
    assert raw.execute("SELECT value FROM meta WHERE key = 'created'").fetchone() == created
    assert second.progress(me).results == {"conv1d": {"0:1:aa": True}}     # not made again, not emptied
    first.close()
    second.close()


def test_two_connections_see_each_others_writes(tmp_path):
    a, b = ps.Store(tmp_path / "p.db"), ps.Store(tmp_path / "p.db")
    me = ps.new_id()
    a.open_lesson(me, "explain")
    b.record(me, "explain", "0:1:aa", True)
    assert a.progress(me) == b.progress(me)
    assert a.progress(me).results == {"explain": {"0:1:aa": True}}
    assert not a.record(me, "explain", "0:1:aa", False)          # the other connection's first check stands
    a.close()
    b.close()


def test_threads_writing_at_once_lose_nothing(tmp_path):
    stores = [ps.Store(tmp_path / "p.db") for _ in range(2)]       # two connections, four threads each
    learners = [ps.new_id() for _ in range(8)]
    errors = []

    def work(k):
        try:
            store, me = stores[k % 2], learners[k]
            for q in range(40):
                store.open_lesson(me, f"lesson{q % 5}")
                assert store.record(me, "layers", f"{q}:1:aa", q % 3 == 0)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for me in learners:
        got = stores[0].progress(me)
        assert len(got.opened) == 5 and len(got.results["layers"]) == 40
        assert sum(got.results["layers"].values()) == 14
    for s in stores:
        s.close()


_WRITER = """
import sys
from cnnviz import course
from cnnviz import progress_store as ps
path, me, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = ps.Store(path)                  # a fresh file: every process races to make the schema
firsts = 0
for q in range(n):
    store.open_lesson(me, course.url("inside_a_cnn"))
    firsts += store.record(me, course.url("inside_a_cnn"), f"{q}:shared", tag == "a")   # the same ones everywhere
    store.record(me, "train", f"{q}:{tag}", True)                            # and each its own
print(firsts)
"""


def test_processes_writing_one_file_at_once(tmp_path):
    """Four processes (workers) open a new file at the same time and write the same learner's rows:
    the schema is made once, nothing is lost, and each shared question has exactly one first check."""
    path, me, n = tmp_path / "p.db", ps.new_id(), 60
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), me, tag, str(n)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag in "abcd"]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-800:] for _, err in outs]
    assert sum(int(out) for out, _ in outs) == n          # each shared question counted once, by whoever came first
    store = ps.Store(path)
    got = store.progress(me)
    assert list(got.opened) == [course.url("inside_a_cnn")]
    assert len(got.results[course.url("inside_a_cnn")]) == n and len(got.results["train"]) == 4 * n
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == ps.SCHEMA_VERSION
    store.close()


# ---------------------------------------------------------------- a file that can't be used
def test_a_corrupt_file_is_logged_once_and_the_app_goes_on_without_it(tmp_path, monkeypatch, caplog):
    bad = tmp_path / "progress.db"
    bad.write_bytes(b"not a database, somebody's notes\n" * 200)
    monkeypatch.setenv(ps.ENV, str(bad))
    ps.reset_shared()
    with pytest.raises(ps.StoreError, match="not a database"):
        ps.Store(bad)
    with caplog.at_level(logging.WARNING, logger="cnnviz"):
        assert ps.shared() is None
        assert ps.shared() is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(bad) in warnings[0] and ps.ENV in warnings[0], warnings
    assert bad.read_bytes().startswith(b"not a database")                   # left as it was
    ps.reset_shared()


def test_a_folder_that_cannot_be_made_or_a_folder_as_the_file_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for where in (tmp_path / "a-file" / "progress.db", tmp_path):
        with pytest.raises(ps.StoreError) as refused:
            ps.Store(where)
        assert str(where) in str(refused.value)


_READ_ONLY = """
import os, sys
from cnnviz import progress_store as ps
if os.getuid() == 0:
    os.setgid(65534)
    os.setuid(65534)        # nobody: root would write anyway
try:
    ps.Store(sys.argv[1])
except ps.StoreError as err:
    print("refused:", err)
else:
    print("opened")
"""


def test_a_read_only_file_is_refused_at_open_not_at_the_first_answer(tmp_path):
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cnnviz-ro-"))
    try:
        path = folder / "progress.db"
        ps.Store(path).close()
        for p in folder.iterdir():
            p.chmod(0o444)
        folder.chmod(0o555)
        out = subprocess.run([sys.executable, "-c", _READ_ONLY, str(path)], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert out.stdout.startswith("refused:") and "readonly" in out.stdout.replace("-", ""), out
    finally:
        folder.chmod(0o755)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_a_read_only_checkout_keeps_progress_in_the_temporary_folder(tmp_path, monkeypatch, caplog):
    (tmp_path / "checkout").write_text("a file where the folder should be")
    monkeypatch.delenv(ps.ENV, raising=False)
    monkeypatch.setattr(ps, "DEFAULT_PATH", tmp_path / "checkout" / "var" / "progress.db")
    monkeypatch.setattr(ps, "fallback_path", lambda: tmp_path / "tmp" / "progress.db")
    ps.reset_shared()
    try:
        with caplog.at_level(logging.WARNING, logger="cnnviz"):
            store = ps.shared()
        assert store is not None and store.path == tmp_path / "tmp" / "progress.db"
        text = " ".join(r.getMessage() for r in caplog.records)
        assert "checkout" in text and str(tmp_path / "tmp" / "progress.db") in text
    finally:
        ps.reset_shared()


def test_a_file_chosen_by_the_operator_is_never_swapped_for_another(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("x")
    monkeypatch.setenv(ps.ENV, str(tmp_path / "a-file" / "progress.db"))
    monkeypatch.setattr(ps, "fallback_path", lambda: tmp_path / "tmp" / "progress.db")
    ps.reset_shared()
    try:
        assert ps.shared() is None
        assert not (tmp_path / "tmp").exists()
    finally:
        ps.reset_shared()


def test_tests_never_write_progress_into_the_repo_and_the_default_is_ignored_by_git():
    assert ROOT not in ps.configured_path().resolve().parents        # tests/conftest.py's temporary file
    assert ps.DEFAULT_PATH.parent == ROOT / "var"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(ps.DEFAULT_PATH)], cwd=ROOT)
    assert ignored.returncode == 0


# ---------------------------------------------------------------- cnnviz.serve: one file for all workers
class _Started:
    def __init__(self, cmd, **kw):
        _Started.env = kw["env"]


@pytest.mark.parametrize("given", ["default", "environment", "option"])
def test_serve_gives_every_worker_one_progress_file(given, tmp_path, monkeypatch):
    monkeypatch.setattr(serve.subprocess, "Popen", _Started)
    monkeypatch.delenv(ps.ENV, raising=False)
    if given == "environment":
        monkeypatch.setenv(ps.ENV, str(tmp_path / "env.db"))
    if given == "default":         # as under streamlit run: the next run of serve finds the same file
        monkeypatch.setattr(ps, "DEFAULT_PATH", tmp_path / "app" / "var" / "progress.db")
    cluster = serve.Cluster(run_dir=tmp_path / "run", progress_db=tmp_path / "opt.db" if given == "option" else None)
    (tmp_path / "run").mkdir()
    seen = set()
    for port in (1, 2):
        cluster._start_worker(serve.Worker(port))
        seen.add(_Started.env[ps.ENV])
    want = {"default": tmp_path / "app" / "var" / "progress.db", "environment": tmp_path / "env.db",
            "option": tmp_path / "opt.db"}[given]
    assert seen == {str(want)}


# ---------------------------------------------------------------- the app: one browser, reloads, forget
def _as_browser(monkeypatch, learner):
    """The cookie this browser sends (AppTest can't send cookies)."""
    from cnnviz.ui import progress

    monkeypatch.setattr(progress, "_browser_id", lambda: learner)


def _count(at) -> str:
    return at.sidebar.get("progress")[0].proto.text


def _answer_first_right(at, url, lang="en"):
    from test_app_selfcheck import answer, question

    answer(at, url, 0, question(at, url, 0), lang, right=True)


def test_a_browser_finds_its_progress_in_a_new_session_and_another_starts_at_zero(own_store, monkeypatch):
    me = ps.new_id()
    _as_browser(monkeypatch, me)
    at = open_lesson("lessons/layers.py", "en")
    assert at.session_state["course.learner"] == me
    _answer_first_right(at, "layers")
    assert _count(at) == t("course.progress", "en", opened=1, total=len(course.LESSONS), right=1)

    again = open_lesson("lessons/home.py", "pt_BR")                # a reload: a new session, the same cookie
    assert _count(again) == t("course.progress", "pt_BR", opened=1, total=len(course.LESSONS), right=1)
    assert not again.sidebar.get("caption") or all(
        t("course.progress_session_only", "pt_BR") not in c.value for c in again.sidebar.caption)

    _as_browser(monkeypatch, None)                                 # another browser: no cookie
    other = open_lesson("lessons/home.py", "en")
    assert other.session_state["course.learner"] != me
    assert _count(other) == t("course.progress", "en", opened=0, total=len(course.LESSONS), right=0)
    assert ps.shared().progress(me).results["layers"] == {next(iter(at.session_state["course.results"]["layers"])): True}


def test_a_cookie_that_is_not_an_id_is_not_used(own_store, monkeypatch):
    _as_browser(monkeypatch, "' OR 1=1 --")
    at = open_lesson("lessons/home.py", "en")
    assert ps.valid_id(at.session_state["course.learner"])


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_forget_deletes_this_browsers_rows_and_starts_a_new_id(lang, own_store, monkeypatch):
    me, other = ps.new_id(), ps.new_id()
    ps.shared().record(other, "layers", "0:1:aa", True)
    _as_browser(monkeypatch, me)
    at = open_lesson("lessons/layers.py", lang)
    _answer_first_right(at, "layers", lang)
    assert _count(at) == t("course.progress", lang, opened=1, total=len(course.LESSONS), right=1)
    seed = at.session_state["sc.layers.0.seed"]
    forget = at.button(key="course.forget")
    assert forget.label == t("course.forget_confirm", lang)
    forget.click().run()
    assert not at.exception
    new = at.session_state["course.learner"]
    assert ps.valid_id(new) and new != me
    assert ps.shared().progress(me) == ps.Progress({}, {})
    assert ps.shared().progress(other).results == {"layers": {"0:1:aa": True}}      # nobody else's
    assert _count(at) == t("course.progress", lang, opened=1, total=len(course.LESSONS), right=0)   # the page still open
    assert at.session_state["sc.layers.0.seed"] != seed      # new questions (the old ones' answers are gone)
    assert "sc.layers.0.result" not in at.session_state


def test_a_corrupt_progress_file_leaves_the_app_working_for_this_session(tmp_path, monkeypatch):
    bad = tmp_path / "progress.db"
    bad.write_bytes(b"\x00garbage" * 500)
    monkeypatch.setenv(ps.ENV, str(bad))
    ps.reset_shared()
    try:
        _as_browser(monkeypatch, ps.new_id())
        at = open_lesson("lessons/layers.py", "pt_BR")
        _answer_first_right(at, "layers", "pt_BR")
        assert _count(at) == t("course.progress", "pt_BR", opened=1, total=len(course.LESSONS), right=1)
        assert any(c.value.endswith(t("course.progress_session_only", "pt_BR")) for c in at.sidebar.caption)
        at.button(key="course.forget").click().run()
        assert not at.exception
        assert _count(at) == t("course.progress", "pt_BR", opened=1, total=len(course.LESSONS), right=0)
    finally:
        ps.reset_shared()


def test_a_store_that_fails_during_a_session_leaves_the_app_working(own_store, monkeypatch, caplog):
    """The file worked when the session began, then fails (closed here; a full disk, a file replaced):
    the answer still counts for this session, the sidebar says it won't last, a warning is logged."""
    _as_browser(monkeypatch, ps.new_id())
    at = open_lesson("lessons/layers.py", "en")
    assert not at.sidebar.caption or all(
        not c.value.endswith(t("course.progress_session_only", "en")) for c in at.sidebar.caption)
    ps.shared().close()
    with caplog.at_level(logging.WARNING, logger="cnnviz"):
        _answer_first_right(at, "layers")
    assert _count(at) == t("course.progress", "en", opened=1, total=len(course.LESSONS), right=1)
    assert any(c.value.endswith(t("course.progress_session_only", "en")) for c in at.sidebar.caption)
    assert any("closed" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def _cookie_scripts(at) -> list[str]:
    return [h.proto.body for h in at.sidebar.get("html") if ps.COOKIE in h.proto.body]


def test_the_page_writes_the_cookie_only_when_the_browser_lacks_this_id(own_store, monkeypatch):
    """A first visit (no cookie) and the visit after Forget get a script writing the id for the whole
    site, 400 days, SameSite=Lax (Secure over https); a browser that sent its id gets none."""
    _as_browser(monkeypatch, None)
    at = open_lesson("lessons/home.py", "en")
    me = at.session_state["course.learner"]
    (script,) = _cookie_scripts(at)
    for part in (f"{ps.COOKIE}={me}; path=/", f"max-age={400 * 24 * 3600}", "SameSite=Lax", "'; Secure'"):
        assert part in script, (part, script)
    _as_browser(monkeypatch, me)
    assert _cookie_scripts(open_lesson("lessons/home.py", "en")) == []      # it came back: nothing to write
    at = open_lesson("lessons/layers.py", "en")
    at.button(key="course.forget").click().run()
    new = at.session_state["course.learner"]
    (script,) = _cookie_scripts(at)
    assert f"{ps.COOKIE}={new};" in script and me not in script
