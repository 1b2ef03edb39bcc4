"""The line of heavy work's threads (issue 19): a job alone in a one-slot line uses both cores; a job
that waits in line never changes the threads of the one that runs; with several slots, one each."""

import threading

import pytest
import torch

from cnnviz.serve import jobs


@pytest.fixture
def threads_back():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_job_threads_rule():
    assert jobs.job_threads(1, cores=2) == 2
    assert jobs.job_threads(1, cores=8) == jobs.ALONE_THREADS == 2
    assert jobs.job_threads(1, cores=1) == 1           # never more threads than cores
    assert jobs.job_threads(2, cores=4) == jobs.THREADS_PER_JOB == 1


def test_a_job_alone_runs_on_two_threads_and_a_second_waits_without_changing_them(threads_back):
    torch.set_num_threads(1)
    q = jobs.JobQueue(slots=1)
    expected = jobs.job_threads(1)
    seen, second_started, first_done = {}, threading.Event(), threading.Event()

    def second():
        with q.run("train", "b"):
            seen["second"] = torch.get_num_threads()
            second_started.set()

    with q.run("train", "a"):
        seen["first"] = torch.get_num_threads()
        t = threading.Thread(target=second)
        t.start()
        # the second learner's job is in line, not running: the first keeps its threads
        for _ in range(200):
            if q.waiting():
                break
            threading.Event().wait(0.005)
        assert [tk.owner for tk in q.waiting()] == ["b"] and not second_started.is_set()
        assert torch.get_num_threads() == expected
        first_done.set()
    t.join(10)
    assert second_started.is_set()
    assert seen == {"first": expected, "second": expected}


def test_a_job_in_a_thread_of_its_own_gets_the_threads(threads_back):
    """Streamlit runs each session's script in a thread of its own: the job's thread is the one
    that trains, and it runs on the rule's threads."""
    torch.set_num_threads(1)
    got = {}

    def job():
        with jobs.JobQueue(slots=1).run("train", "x"):
            got["threads"] = torch.get_num_threads()

    th = threading.Thread(target=job)
    th.start()
    th.join(10)
    assert got["threads"] == jobs.job_threads(1)
