"""benchmarks/classroom.py: the classroom load tool (issue 11) speaks Streamlit's protocol right.

The fast tests feed the tool's page model the ForwardMsgs a server sends and check it keeps the page
and the widget values the way the browser does; the slow one runs two students against a real
`streamlit run app.py`; the browser one compares the tool with a real Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import classroom  # noqa: E402

TOOL = [sys.executable, str(ROOT / "benchmarks" / "classroom.py")]


def delta(path, fill, fragment_id=""):
    msg = ForwardMsg()
    msg.metadata.delta_path.extend(path)
    fill(msg.delta.new_element)
    if fragment_id:
        msg.delta.fragment_id = fragment_id
    return msg


def finished(status=ForwardMsg.FINISHED_SUCCESSFULLY):
    msg = ForwardMsg()
    msg.script_finished = status
    return msg


def new_session(fragment=""):
    msg = ForwardMsg()
    msg.new_session.page_script_hash = "main"
    if fragment:
        msg.metadata.run.fragment_ids.append(fragment)
    return msg


def slider(value, set_value, key="conv.t"):
    def fill(el):
        el.slider.id = f"$$ID-0123abcd-{key}"
        el.slider.default.append(0)
        el.slider.value.append(value)
        el.slider.set_value = set_value
    return fill


def markdown(body):
    return lambda el: setattr(el.markdown, "body", body)


# ---------------------------------------------------------------------------- refusing
@pytest.mark.parametrize("url", ["http://example.com:8501", "http://10.0.0.5:8501", "http://0.0.0.0:8501",
                                 "ws://127.0.0.1:8501", "http://127.0.0.1.example.com"])
def test_only_this_machine_is_accepted(url):
    with pytest.raises(SystemExit, match="refused"):
        classroom.parse_args(["--url", url])


def test_local_urls_are_accepted():
    assert classroom.parse_args(["--url", "http://localhost:8501/"]).url == "http://localhost:8501"
    assert classroom.parse_args(["--url", "http://127.0.0.1:9"]).url == "http://127.0.0.1:9"


@pytest.mark.parametrize("argv", [["--sessions", "0"], ["--sessions", "100000"], ["--duration", "99999"],
                                  ["--duration", "0"], ["--think", "3", "1"], ["--interactions", "100000"]])
def test_runs_are_bounded(argv):
    with pytest.raises(SystemExit):
        classroom.parse_args(["--url", "http://127.0.0.1:1", *argv])


# ---------------------------------------------------------------------------- the page model
def test_widget_values_follow_the_server_when_it_sets_one_and_the_student_otherwise():
    page = classroom.Page()
    page.feed(new_session())
    page.feed(delta([0, 0], slider(2602, set_value=True)))          # session_state put it at 2602
    wid = "$$ID-0123abcd-conv.t"
    assert list(page.values[wid].double_array_value.data) == [2602]
    page.values[wid].double_array_value.data[:] = [7]                # the student moved it
    page.feed(delta([0, 0], slider(2602, set_value=False)))         # a rerun that did not touch it
    assert list(page.values[wid].double_array_value.data) == [7]
    page.feed(delta([0, 0], slider(2603, set_value=True)))          # a callback moved it
    assert list(page.values[wid].double_array_value.data) == [2603]
    assert [s.id for s in page.states()] == [wid]


def test_reruns_ask_for_the_page_navigation_shows_not_the_main_script():
    """new_session carries app.py's hash; a rerun sent with it would show the home page instead."""
    page = classroom.Page()
    page.feed(new_session())
    nav = ForwardMsg()
    nav.navigation.page_script_hash = "conv-hash"
    for name, h in (("", "home-hash"), ("convolution", "conv-hash"), ("explain", "explain-hash")):
        nav.navigation.app_pages.add(url_pathname=name, page_script_hash=h)
    page.feed(nav)
    assert page.page_hash == "conv-hash"
    assert page.pages["explain"] == "explain-hash"


def test_selectbox_sends_the_label_of_its_option():
    def fill(el):
        el.selectbox.id = "$$ID-ff00-explain.target.m.abc.en"
        el.selectbox.options.extend(["seven (99.1 %)", "nine (0.5 %)"])
        el.selectbox.default = 0
    page = classroom.Page()
    page.feed(delta([0, 3], fill))
    assert page.values["$$ID-ff00-explain.target.m.abc.en"].string_value == "seven (99.1 %)"
    path, kind, w = page.widget("explain.target", prefix=True)
    assert (path, kind, list(w.options)) == ((0, 3), "selectbox", ["seven (99.1 %)", "nine (0.5 %)"])


def test_a_cached_element_sent_by_reference_lands_where_the_reference_says():
    page = classroom.Page()
    big = delta([0, 1], markdown("(10×50) + (20×30) = **6600**"))
    big.hash, big.metadata.cacheable = "h1", True
    page.feed(big)
    ref = ForwardMsg()
    ref.ref_hash = "h1"
    ref.metadata.delta_path.extend([0, 4])
    page.feed(ref)
    assert page.elements[(0, 4)].markdown.body.endswith("**6600**")
    assert "h1" in page.cache and not page.problems
    missing = ForwardMsg()
    missing.ref_hash = "never-sent"
    missing.metadata.delta_path.extend([0, 5])
    page.feed(missing)
    assert page.problems == ["cache miss never-sent"]


def test_the_cache_offers_only_what_the_browser_still_holds():
    """Chromium forgets a cached element two runs after it was last used (max_cached_message_age);
    offering it longer would let the server send references a browser would get in full."""
    page = classroom.Page()
    page.feed(new_session())
    big = delta([0, 1], markdown("big"))
    big.hash, big.metadata.cacheable = "h1", True
    page.feed(big)
    page.feed(finished())
    page.feed(new_session())
    page.feed(finished())
    assert "h1" in page.cache                                        # 2 runs old
    page.feed(new_session(fragment="f1"))                            # a fragment run does not age it
    page.feed(finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY))
    assert "h1" in page.cache
    page.feed(new_session())
    page.feed(finished())
    assert "h1" not in page.cache


def test_a_full_run_drops_what_it_did_not_send_again_and_a_fragment_run_does_not():
    page = classroom.Page()
    page.feed(new_session())
    page.feed(delta([0, 0], markdown("title")))
    page.feed(delta([0, 1], markdown("old")))
    page.feed(finished())
    page.feed(new_session(fragment="f1"))                            # a fragment run sends only its part
    page.feed(delta([0, 0], markdown("title again"), fragment_id="f1"))
    page.feed(finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY))
    assert set(page.elements) == {(0, 0), (0, 1)}
    page.feed(new_session())                                         # a full run without (0, 1)
    page.feed(delta([0, 0], markdown("title")))
    page.feed(finished())
    assert set(page.elements) == {(0, 0)}


def test_the_sum_line_and_exceptions_are_read_off_the_page():
    page = classroom.Page()
    page.feed(delta([0, 0], markdown("**Sum** of the 49 products (12 of them are 0): (50×30) + … = **6600**")))
    page.feed(delta([0, 1], lambda el: (setattr(el.exception, "type", "ValueError"),
                                        setattr(el.exception, "message", "boom"))))
    assert page.observe()["sums"] == ["6600"]
    assert page.exceptions == ["ValueError: boom"]


def test_students_who_saw_different_numbers_make_the_run_fail():
    args = classroom.parse_args(["--url", "http://127.0.0.1:1", "--sessions", "3"])
    steps = classroom.lesson_path()[:1]
    obs = {"sums": ["6600"], "metrics": [], "headings": [], "alerts": [], "images": []}
    odd = dict(obs, sums=["6601"])
    records = [classroom.Record(i, "en", steps[0].name, 0, 1.0, obs=o) for i, o in enumerate([obs, obs, odd])]
    r = classroom.summarize(args, records, steps, [], 3.0, 0.1, None, None, None, None, None, 0)
    assert not r["ok"]
    assert r["steps"][0]["variants"] == 2
    assert [c["student"] for c in r["failed_checks"]] == [2]          # 6600 is what the course says
    same = [classroom.Record(i, "en", steps[0].name, 0, 1.0, obs=obs) for i in range(3)]
    assert classroom.summarize(args, same, steps, [], 3.0, 0.1, None, None, None, None, None, 0)["ok"]


def test_the_place_in_line_is_read_off_the_progress_bar_and_not_compared():
    """--trainers: a heavy job's progress bar says the learner's place in line; it depends on who else
    asked at that moment, so students given different places still saw the same page."""
    page = classroom.Page()
    for text in ("Waiting in line: you are number 3. Heavy computations take turns...",
                 "Aguardando na fila: você é o número 2...", "Epoch 1/5"):
        page.feed(delta([0, 0], lambda el, text=text: setattr(el.progress, "text", text)))
    assert [int(m.group(1)) for m in map(classroom.PLACE_RE.search, page.progress) if m] == [3, 2]
    args = classroom.parse_args(["--url", "http://127.0.0.1:1", "--sessions", "3"])
    steps = classroom.lesson_path()[6:8]               # open inside, inside: digit sample
    obs = {"sums": [], "metrics": [], "headings": ["Inside a CNN"], "alerts": [], "images": []}
    records = [classroom.Record(i, "en", steps[1].name, 0, 1.0, obs=dict(obs, place=i + 1)) for i in range(3)]
    assert classroom.summarize(args, records, steps, [], 3.0, 0.1, None, None, None, None, None, 0)["ok"]
    odd = records[:2] + [classroom.Record(2, "en", steps[1].name, 0, 1.0, obs=dict(obs, headings=["?"]))]
    assert not classroom.summarize(args, odd, steps, [], 3.0, 0.1, None, None, None, None, None, 0)["ok"]


def test_trainers_take_the_train_path_and_are_bounded():
    args = classroom.parse_args(["--url", "http://127.0.0.1:1", "--sessions", "30", "--trainers", "5"])
    assert args.trainers == 5 and "train.per_class=" in args.train_query
    names = [s.name for s in classroom.train_path()]
    assert names == ["open train", "train: run (line)"]
    with pytest.raises(SystemExit):
        classroom.parse_args(["--url", "http://127.0.0.1:1", "--sessions", "3", "--trainers", "4"])


# ---------------------------------------------------------------------------- against a real server
@pytest.mark.slow
def test_two_students_on_a_real_server_see_the_course_numbers():
    env = dict(os.environ, CNNVIZ_DATA=os.environ.get("CNNVIZ_DATA", "/nonexistent"))
    run = subprocess.run([*TOOL, "--start", "--sessions", "2", "--interactions", "5", "--think", "0", "0.3",
                          "--lang", "mixed", "--duration", "120", "--json", "-"],
                         capture_output=True, text=True, timeout=240, cwd=ROOT, env=env)
    assert run.stdout, run.stderr[-2000:]
    r = json.loads(run.stdout)
    assert r["errors"] == [] and r["exceptions"] == [] and r["media_errors"] == 0, r
    steps = {s["step"]: s for s in r["steps"]}
    seen = {name: s["seen"] for name, s in steps.items() if s["n"]}
    assert seen["open convolution"] == ["sum 6600"]
    assert seen["conv: next"] == ["sum 8400"]
    assert seen["conv: strongest"] == ["sum 9000"]
    assert all(s["n"] == 2 and s["variants"] == 1 for s in steps.values() if s["n"]), steps
    assert r["server"]["cpu_s"] > 0 and r["server"]["rss_mb_peak"] >= r["server"]["rss_mb_start"] > 0
    assert r["ok"] and run.returncode == 0


@pytest.mark.slow
@pytest.mark.browser
def test_the_tool_and_chromium_see_the_same_convolution():
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not shutil.which(chromium) and not Path(chromium).exists():
        pytest.skip(f"no Chromium at {chromium}")
    pytest.importorskip("playwright.sync_api")
    run = subprocess.run([*TOOL, "--start", "--chromium-check", "--json", "-"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert run.stdout, run.stderr[-2000:]
    r = json.loads(run.stdout)
    phases = {p["phase"]: p for p in r["phases"]}
    assert phases["open convolution"]["chromium"]["sums"] == phases["open convolution"]["tool"]["sums"] == ["6600"]
    assert phases["next"]["chromium"]["sums"] == phases["next"]["tool"]["sums"] == ["8400"]
    assert r["ok"], json.dumps(r, indent=1, ensure_ascii=False)[:3000]
