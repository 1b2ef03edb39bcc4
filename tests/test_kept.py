"""cnnviz.base.kept: the one bounded store of what the server keeps for everybody (the shared
pictures and heatmaps, the layer outputs and per-class memos of a shared network, the top images
and their panels). Bounded, least recently used out, one computation per key for a whole class."""

import threading
import time

import pytest

from cnnviz.base.kept import Kept

WAIT = 10   # seconds a thread may wait for the others before the test calls it a deadlock


def test_a_count_bound_is_kept_and_the_least_recently_used_goes_first():
    store = Kept(max_items=3)
    for key in "abc":
        store.get_or_make(key, lambda key=key: key.upper())
    assert store.get("a") == "A"                       # used again: now the most recent
    store.get_or_make("d", lambda: "D")
    assert len(store) == 3 and list(store.entries) == ["c", "a", "d"]     # b, the least recently used, went
    assert "b" not in store and store.get("b") is None
    assert store.get_or_make("c", lambda: "not made again") == "C"
    store.get_or_make("e", lambda: "E")
    assert list(store.entries) == ["d", "c", "e"]


def test_a_size_bound_is_kept_and_the_newest_stays_even_alone_over_it():
    store = Kept(max_bytes=10)
    for key, value in (("a", b"1234"), ("b", b"5678"), ("c", b"90")):
        store.get_or_make(key, lambda value=value: value)
    assert store.total == 10 and list(store.entries) == ["a", "b", "c"]
    store.get_or_make("d", lambda: b"xyz")                          # 13 bytes: the oldest goes
    assert list(store.entries) == ["b", "c", "d"] and store.total == 9
    store.get_or_make("big", lambda: b"x" * 25)                     # over the budget alone: its learner uses it
    assert list(store.entries) == ["big"] and store.total == 25
    store.max_bytes = 40                                            # a bound may be changed
    store.get_or_make("e", lambda: b"12345")
    assert list(store.entries) == ["big", "e"] and store.total == sum(len(v) for v in store.entries.values())


def test_both_bounds_at_once():
    store = Kept(max_items=2, max_bytes=100, size=lambda v: v["bytes"])
    store.get_or_make(1, lambda: {"bytes": 10})
    store.get_or_make(2, lambda: {"bytes": 10})
    store.get_or_make(3, lambda: {"bytes": 10})                     # the count goes over first
    assert list(store.entries) == [2, 3] and store.total == 20
    store.get_or_make(4, lambda: {"bytes": 95})                     # then the size
    assert list(store.entries) == [4] and store.total == 95


def test_a_class_asking_for_the_same_key_at_once_computes_it_once():
    store = Kept(max_items=4)
    learners = 8
    start = threading.Barrier(learners, timeout=WAIT)
    made, got, errors = [], [], []

    def make():
        made.append(threading.current_thread().name)
        time.sleep(0.2)                     # long enough for every other learner to arrive and wait
        return object()

    def learner():
        try:
            start.wait()
            got.append(store.get_or_make("sample 7", make))
        except Exception as err:            # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=learner) for _ in range(learners)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT)
    assert not errors and len(got) == learners
    assert len(made) == 1                                           # one computation for the class
    assert all(value is got[0] for value in got)                    # and everybody shares its value


def test_different_keys_are_computed_at_the_same_time():
    """Two keys whose computations each wait for the other: only possible if neither waits for
    the other's key (one lock for the whole store would deadlock here, and the barrier breaks)."""
    store = Kept()
    both = threading.Barrier(2, timeout=WAIT)
    got, errors = {}, []

    def make(key):
        both.wait()                          # returns once the other key's computation is running too
        return key

    def learner(key):
        try:
            got[key] = store.get_or_make(key, lambda: make(key))
        except Exception as err:            # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=learner, args=(key,)) for key in ("digits", "fashion")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT)
    assert not errors and got == {"digits": "digits", "fashion": "fashion"}


def _fails():
    raise RuntimeError("out of memory")


def test_a_failed_computation_keeps_nothing_and_the_next_one_tries_again():
    store = Kept(max_items=4)
    with pytest.raises(RuntimeError):
        store.get_or_make("k", _fails)
    assert "k" not in store and len(store) == 0
    assert store.get_or_make("k", lambda: 42) == 42 and store.get("k") == 42
    assert not store._making                                        # no lock left behind for the key


def test_a_learner_waiting_for_a_computation_that_fails_computes_it_itself():
    store = Kept(max_items=4)
    started, release = threading.Event(), threading.Event()
    outcome = {}

    def failing():
        started.set()
        release.wait(WAIT)
        raise RuntimeError("cancelled")

    def first():
        try:
            store.get_or_make("k", failing)
        except RuntimeError as err:
            outcome["first"] = err

    def second():
        outcome["second"] = store.get_or_make("k", lambda: "made by the second")

    a = threading.Thread(target=first)
    a.start()
    assert started.wait(WAIT)
    b = threading.Thread(target=second)
    b.start()
    time.sleep(0.1)                          # the second learner is now waiting for the first's key
    assert "second" not in outcome
    release.set()
    a.join(WAIT)
    b.join(WAIT)
    assert isinstance(outcome["first"], RuntimeError)
    assert outcome["second"] == "made by the second" and store.get("k") == "made by the second"
    assert not store._making
