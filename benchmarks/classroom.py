"""A class on one laptop: N simulated students follow a lesson path over Streamlit's own protocol.

Each student is one websocket to ``/_stcore/stream`` speaking what the browser speaks
(``BackMsg`` rerun requests with widget states, ``ForwardMsg`` deltas back), so 30 of them
fit on 2 cores. The client keeps the page the way the frontend does (elements by delta
path, widget values, the message cache, fragments), reads widget ids from the deltas it
receives, and answers like a browser: a button is a ``trigger_value``, a toggle a
``bool_value``, a selectbox the option's label; a widget inside a fragment reruns only the
fragment. Images are fetched as a browser would (``--no-media`` to skip).

Lesson path (issue 11): open Convolution; scroll down (only when the page holds a component: in
Chromium the drawing canvas then loads and sends its value, one more full run); next; strongest; skip the guess (when the page asks for one first);
ReLU on; open Inside a CNN and use the digit sample; open Explain and choose the second class;
open Image as numbers. Latency
of an interaction = from sending the BackMsg to the ``script_finished`` that ends it (a
fragment's finish for a fragment rerun; a run stopped for ``st.rerun()`` does not end it).

The runs of issue 11 (on a quiet machine; each starts its own server and stops it):

    python benchmarks/classroom.py --start --warmup --sessions 1                    # one student alone
    python benchmarks/classroom.py --start --warmup --sessions 10 --json c10.json   # a small group
    python benchmarks/classroom.py --start --warmup --sessions 30 --json c30.json   # the class, 1-3 s think
    python benchmarks/classroom.py --start --warmup --sessions 30 --burst           # no think time at all
    python benchmarks/classroom.py --start --warmup --sessions 30 --lockstep 20     # "now all press next"
    python benchmarks/classroom.py --start --warmup --sessions 30 --workers 2       # 2 workers behind nginx
    python benchmarks/classroom.py --start --warmup --sessions 30 --workers 2 --trainers 5 \
        --interactions 10000 --duration 150 --timeout 600  # 5 train (one line for the machine), 25 step
    python benchmarks/classroom.py --start --sessions 10 --interactions 200 --duration 1200 --settle 30
                                                          # leak: the path 20 times; RSS over time, after
    python benchmarks/classroom.py --start --chromium-check        # the tool's page == Chromium's page?

Against a server already running: ``--url http://127.0.0.1:8501 --server-pid PID`` (repeat
``--server-pid`` for each worker). ``--lang pt-BR`` or ``mixed`` for Portuguese browsers.

With ``--trainers N`` the first N students open the Train lesson by a link
(``train?train.per_class=...&train.epochs=...``, ``--train-query``) and press Train once: their
trainings go through the server's line of heavy work (with several workers, the machine's line);
the report says the place in line each one was given and how long its click took, while the other
students follow the path (``--interactions`` and ``--duration`` keep them going meanwhile).
The machine's load average (1 min) is printed at the start and the end of the class: the machine
may be shared.

Only 127.0.0.1 / localhost: this is a load tool for your own laptop, not for anyone's server.
Exit status 0 when there was no error, every check held and every student saw the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cnnviz import course  # noqa: E402  (the lessons' URLs; no torch, no streamlit)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_SESSIONS = 200
MAX_DURATION = 3600.0
LOCALES = {"en": "en-US", "pt-BR": "pt-BR"}
TRIGGERS = ("button", "download_button")
COMPONENTS = ("bidi_component", "component_instance")


def _answers_on_mount(el) -> bool:
    """A component that sends a value as soon as it is drawn: the drawing canvas does (its size);
    the clickable picture of predict-then-reveal (streamlit-image-coordinates) waits for a click."""
    kind = el.WhichOneof("type")
    if kind not in COMPONENTS:
        return False
    name = getattr(getattr(el, kind), "component_name", "") or ""
    return "image_coordinates" not in name
# A run that ends an interaction (a run stopped for st.rerun() is followed by another one).
ENDING = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
          ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
SUM_RE = re.compile(r"=\s*\*\*([^*]+)\*\*\s*$")   # the convolution's sum line ends "= **6600**"


class StepFailed(Exception):
    """The student could not do this step (a widget is missing, the server did not answer...)."""


def user_key(widget_id: str) -> str:
    """``$$ID-<hash>-<key>`` -> ``key`` (streamlit's element ids carry the user's key last)."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "$$ID" else ""


def check_local(url: str) -> str:
    """The url without a trailing slash, or SystemExit if it is not this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in LOCAL_HOSTS:
        raise SystemExit(f"refused: {url!r} (only http://127.0.0.1:PORT or http://localhost:PORT)")
    return url.rstrip("/")


# ---------------------------------------------------------------------------- the page model
@dataclass
class Page:
    """What the frontend holds: elements by delta path, widget values, the message cache."""

    elements: dict = field(default_factory=dict)      # path -> Element proto
    fragments: dict = field(default_factory=dict)     # path -> fragment id of the delta
    values: dict = field(default_factory=dict)        # widget id -> WidgetState (its value now)
    seen: set = field(default_factory=set)            # paths sent during the current full run
    cache: dict = field(default_factory=dict)         # hash -> [ForwardMsg, run count, fragment id]
    runs: int = 0                                     # runs finished (the cache's clock)
    max_age: int = 2                                  # new_session.config.max_cached_message_age
    run_fragments: tuple = ()                         # fragment ids of the run going on
    pages: dict = field(default_factory=dict)         # url path ("" for home) -> page_script_hash
    page_hash: str = ""                               # st.navigation's current page
    exceptions: list = field(default_factory=list)    # messages of exception elements
    problems: list = field(default_factory=list)      # protocol problems (cache miss, page not found)
    finishes: list = field(default_factory=list)      # (status, fragment run?) as they come
    deltas: dict = field(default_factory=dict)        # element type -> count (for the Chromium check)
    progress: list = field(default_factory=list)      # texts of progress bars, as they come
    auto_reruns: int = 0

    def feed(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                self.problems.append(f"cache miss {msg.ref_hash}")
                return
            entry[1] = self.runs                          # used now: young again
            real = ForwardMsg()
            real.CopyFrom(entry[0])
            real.metadata.CopyFrom(msg.metadata)          # where it goes now
            msg, kind = real, real.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = [msg, self.runs, msg.delta.fragment_id if kind == "delta" else ""]
        if kind == "new_session":
            if msg.new_session.config.max_cached_message_age:
                self.max_age = msg.new_session.config.max_cached_message_age
            self.run_fragments = tuple(msg.metadata.run.fragment_ids)
            if not msg.metadata.run.fragment_ids:        # a full run: the page is rebuilt
                self.seen = set()
        elif kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.page_hash = msg.navigation.page_script_hash       # the page this run shows
        elif kind == "delta":
            path = tuple(msg.metadata.delta_path)
            self.seen.add(path)
            dk = msg.delta.WhichOneof("type")
            if dk == "new_element":
                el = msg.delta.new_element
                et = el.WhichOneof("type")
                self.deltas[et] = self.deltas.get(et, 0) + 1
                self.elements[path] = el
                self.fragments[path] = msg.delta.fragment_id
                if et == "exception":
                    self.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:300])
                elif et == "progress" and el.progress.text:
                    self.progress.append(el.progress.text)
                self._widget_value(el, et)
            elif dk == "add_block":
                self.deltas["block"] = self.deltas.get("block", 0) + 1
                self.elements.pop(path, None)
        elif kind == "script_finished":
            status = msg.script_finished
            # the frontend's cache forgets what the last runs did not use (a fragment run ages
            # only its own messages)
            self.runs += 1
            for h, (_, used, frag) in list(self.cache.items()):
                if (not self.run_fragments or frag in self.run_fragments) and self.runs - used > self.max_age:
                    del self.cache[h]
            if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                # the frontend drops what this run did not send again
                for path in [p for p in self.elements if p not in self.seen]:
                    self.elements.pop(path, None)
            self.finishes.append(status)
        elif kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
            self.exceptions.append("compile error: " + msg.session_event.script_compilation_exception.message)
        elif kind == "page_not_found":
            self.problems.append(f"page not found: {msg.page_not_found.page_name}")
        elif kind == "auto_rerun":
            self.auto_reruns += 1

    def _widget_value(self, el, et: str) -> None:
        """Keep the widget's value as the frontend does: the server's if it set one, else ours, else
        the default."""
        if et in TRIGGERS or not hasattr(getattr(el, et), "id"):
            return
        w = getattr(el, et)
        if not w.id:
            return
        known = self.values.get(w.id)
        set_value = getattr(w, "set_value", False)
        if known is not None and not set_value:
            return
        s = WidgetState(id=w.id)
        if et == "checkbox":
            s.bool_value = w.value if set_value else w.default
        elif et in ("selectbox", "radio"):
            if set_value:
                s.string_value = w.raw_value
            elif w.HasField("default") and 0 <= w.default < len(w.options):
                s.string_value = w.options[w.default]
            else:
                return
        elif et == "number_input":
            v = w.value if set_value or not w.HasField("default") else w.default
            if w.data_type == w.INT:
                s.int_value = int(v)
            else:
                s.double_value = v
        elif et == "slider":
            if w.type == w.SELECT_SLIDER:
                s.string_array_value.data.extend(
                    list(w.raw_value) if set_value else [w.options[int(i)] for i in w.default])
            else:
                s.double_array_value.data.extend(list(w.value) if set_value else list(w.default))
        elif et == "multiselect":
            s.string_array_value.data.extend(
                list(w.raw_values) if set_value else [w.options[i] for i in w.default])
        elif et == "button_group":
            s.string_array_value.data.extend(
                list(w.raw_values) if set_value else [w.options[i].content for i in w.default])
        elif et in ("text_input", "text_area"):
            s.string_value = w.value if set_value else w.default
        else:
            return                      # components, charts' selections...: a browser's business
        self.values[w.id] = s

    # -------------------------------------------------------------- reading the page
    def ordered(self):
        return [self.elements[p] for p in sorted(self.elements)]

    def widget(self, key: str, *, prefix: bool = False):
        """(path, element type, proto) of the widget with this user key (or key prefix)."""
        for path in sorted(self.elements):
            el = self.elements[path]
            et = el.WhichOneof("type")
            w = getattr(el, et, None)
            wid = getattr(w, "id", "") if w is not None else ""
            k = user_key(wid) if isinstance(wid, str) else ""
            if k == key or (prefix and k.startswith(key)):
                return path, et, w
        return None

    def states(self, *, only_sidebar: bool = False) -> list[WidgetState]:
        """The values of the widgets on the page, as the frontend sends them with every rerun."""
        out = []
        for path in sorted(self.elements):
            if only_sidebar and path[:1] != (1,):
                continue
            el = self.elements[path]
            w = getattr(el, el.WhichOneof("type"), None)
            wid = getattr(w, "id", None)
            if isinstance(wid, str) and wid in self.values:
                out.append(self.values[wid])
        return out

    def observe(self) -> dict:
        """What a learner reads off the page: the sums, the metrics, the headings, the alerts."""
        sums, metrics, headings, alerts, images = [], [], [], [], []
        for el in self.ordered():
            et = el.WhichOneof("type")
            if et == "markdown":
                m = SUM_RE.search(el.markdown.body)
                if m and "×" in el.markdown.body:
                    sums.append(m.group(1).strip())
            elif et == "metric":
                metrics.append(f"{el.metric.label}={el.metric.body} {el.metric.delta}".strip())
            elif et == "heading":
                headings.append(el.heading.body)
            elif et == "alert" and el.alert.format in (1, 2):      # ERROR, WARNING
                alerts.append(el.alert.body[:120])
            elif et == "imgs":
                images.extend(i.url for i in el.imgs.imgs)
        return {"sums": sums, "metrics": metrics, "headings": headings, "alerts": alerts, "images": images}


def headline(obs: dict) -> str:
    """The one number of a step the table shows: the convolution's sum, else the first metric, else
    the Grad-CAM heading."""
    if obs["sums"]:
        return "sum " + obs["sums"][-1]
    if obs["metrics"]:
        return obs["metrics"][0][:40]
    return next((h for h in obs["headings"] if "Grad-CAM" in h), obs["headings"][0] if obs["headings"] else "")[:40]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# ---------------------------------------------------------------------------- one student
class Student:
    def __init__(self, index: int, base: str, lang: str, timeout: float, media: bool):
        self.index, self.base, self.lang, self.timeout, self.media = index, base, lang, timeout, media
        self.page = Page()
        self.ws = None
        self.cookie = ""
        self.worker = ""                      # which worker a proxy chose (X-Cnnviz-Upstream), if it says
        self.opened = False
        self.fetched: set[str] = set()
        self.media_errors = 0
        self.page_load = None                 # seconds for the HTML and its static files
        self._reader = None
        self._finished = asyncio.Event()
        self._url = base + "/"
        self.query = ""                       # the query string of the page's url (a link's)

    # -------------------------------------------------------------- connection
    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        # the HTML first, as a browser does: a proxy in front of several workers sets its cookie
        t0 = time.perf_counter()
        self.cookie = await asyncio.to_thread(self._load_page)
        self.page_load = time.perf_counter() - t0
        host = urllib.parse.urlsplit(self.base)
        ws_url = ("wss" if host.scheme == "https" else "ws") + f"://{host.netloc}/_stcore/stream"
        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await connect(ws_url, origin=self.base, subprotocols=["streamlit"], additional_headers=headers,
                                max_size=None, proxy=None, ping_interval=None, open_timeout=self.timeout,
                                compression="deflate")
        self._reader = asyncio.create_task(self._read())

    def _load_page(self) -> str:
        """GET the HTML (and, unless --no-media, the static files it names, as a browser with an empty
        cache does); the cookies set."""
        conn = _http(self.base)
        try:
            conn.request("GET", "/", headers={"Accept": "text/html", "Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            html = resp.read()
            self.worker = resp.headers.get("X-Cnnviz-Upstream", "")
            cookie = "; ".join(c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or [])
            if resp.status != 200:
                raise StepFailed(f"GET / answered {resp.status}")
        finally:
            conn.close()
        if self.media:
            if resp.headers.get("Content-Encoding") == "gzip":
                import gzip
                html = gzip.decompress(html)
            assets = sorted(set(re.findall(r'(?:src|href)="\./(static/[^"]+)"', html.decode("utf-8", "replace"))))
            self.cookie = cookie
            self.media_errors += self._get_all(["/" + a for a in assets])
        return cookie

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
                self.page.feed(msg)
                if msg.WhichOneof("type") == "script_finished" and msg.script_finished in ENDING:
                    self._finished.set()
        except Exception as e:  # noqa: BLE001 - a dropped connection is the student's error
            self.page.problems.append(f"connection: {type(e).__name__}: {e}")
        finally:
            self._finished.set()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    # -------------------------------------------------------------- one interaction
    async def rerun(self, *, states: list[WidgetState], page_name: str = "", page_hash: str = "",
                    fragment_id: str = "") -> float:
        """Send one rerun request; seconds until the run (or fragment run) that answers it ends."""
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        rs.widget_states.widgets.extend(states)
        if page_name:
            rs.page_name = page_name
        rs.page_script_hash = page_hash
        rs.fragment_id = fragment_id
        rs.cached_message_hashes.extend(self.page.cache)
        ci = rs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, LOCALES[self.lang]
        ci.url, ci.is_embedded, ci.color_scheme = self._url, False, "light"
        problems = len(self.page.problems)
        self._finished.clear()
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(self._finished.wait(), self.timeout)
        except asyncio.TimeoutError:
            raise StepFailed(f"no script_finished within {self.timeout:.0f} s") from None
        elapsed = time.perf_counter() - t0
        if len(self.page.problems) > problems:
            raise StepFailed("; ".join(self.page.problems[problems:]))
        return elapsed

    async def open(self, url_path: str, query: str = "") -> float:
        """Open a lesson: by its URL the first time (a teacher's link, ``?query`` included), then from
        the sidebar."""
        self._url = f"{self.base}/{url_path}" + (f"?{query}" if query else "")
        self.query = query
        if not self.opened:
            self.opened = True
            return await self.rerun(states=[], page_name=url_path)
        if url_path not in self.page.pages:
            raise StepFailed(f"no page /{url_path} in the navigation")
        return await self.rerun(states=self.page.states(only_sidebar=True), page_hash=self.page.pages[url_path])

    def _find(self, key: str, prefix: bool = False):
        found = self.page.widget(key, prefix=prefix)
        if found is None:
            raise StepFailed(f"no widget with key {key!r}{' (prefix)' if prefix else ''} on the page")
        return found

    async def _change(self, path, state: WidgetState) -> float:
        states = [s for s in self.page.states() if s.id != state.id] + [state]
        return await self.rerun(states=states, page_hash=self.page.page_hash,
                                fragment_id=self.page.fragments.get(path, ""))

    async def scroll(self) -> float:
        """Scroll down: Chromium then loads the page's components (the drawing canvas, in its tab), the
        canvas sends its size as its value, and that is one more full run of the page. None if the page
        has no component."""
        if not any(_answers_on_mount(el) for el in self.page.elements.values()):
            return None
        return await self.rerun(states=self.page.states(), page_hash=self.page.page_hash)

    async def click(self, key: str) -> float:
        path, et, w = self._find(key)
        if et not in TRIGGERS:
            raise StepFailed(f"{key!r} is a {et}, not a button")
        return await self._change(path, WidgetState(id=w.id, trigger_value=True))

    async def toggle(self, key: str, value: bool) -> float:
        path, et, w = self._find(key)
        if et != "checkbox":
            raise StepFailed(f"{key!r} is a {et}, not a toggle")
        state = WidgetState(id=w.id, bool_value=value)
        self.page.values[w.id] = state
        return await self._change(path, state)

    async def choose(self, key_prefix: str, index: int) -> float:
        path, et, w = self._find(key_prefix, prefix=True)
        if et != "selectbox" or len(w.options) <= index:
            raise StepFailed(f"{key_prefix!r}: a {et} with {len(getattr(w, 'options', []))} options")
        state = WidgetState(id=w.id, string_value=w.options[index])
        self.page.values[w.id] = state
        return await self._change(path, state)

    async def fetch_media(self) -> None:
        """The images on the page a browser has not loaded yet (off the clock, as the browser's cache)."""
        urls = [u for u in self.page.observe()["images"] if u.startswith("/") and u not in self.fetched]
        if not urls:
            return
        self.fetched.update(urls)
        self.media_errors += await asyncio.to_thread(self._get_all, urls)

    def _get_all(self, urls) -> int:
        errors = 0
        conn = _http(self.base)
        try:
            for u in urls:
                try:
                    headers = {"Accept-Encoding": "gzip"} | ({"Cookie": self.cookie} if self.cookie else {})
                    conn.request("GET", u, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    errors += resp.status != 200
                except (OSError, http.client.HTTPException):
                    errors += 1
                    conn.close()
                    conn = _http(self.base)
        finally:
            conn.close()
        return errors


def _http(base: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(base)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), timeout=60)


# ---------------------------------------------------------------------------- the lesson path
@dataclass
class Step:
    name: str
    run: object                       # async (Student) -> float seconds
    expect: str | None = None         # digits the headline must show (first pass only)
    optional: bool = False            # skipped, not failed, when its widget is absent
    show: object = None               # obs -> the text the table shows (default: headline)
    same: bool = True                 # every student must see the same page (a training's curves differ)


def lesson_path() -> list[Step]:
    return [
        Step("open convolution", lambda s: s.open(course.url("convolution")), expect="6600"),
        Step("conv: scroll down", lambda s: s.scroll(), optional=True),
        Step("conv: next", lambda s: s.click("conv.next"), expect="8400"),
        Step("conv: strongest", lambda s: s.click("conv.max"), expect="9000"),
        # predict-then-reveal (issue 13): the whole map waits for a guess; the class skips it
        Step("conv: skip the guess", lambda s: s.click("conv.predict.skip_button"), optional=True),
        Step("conv: ReLU on", lambda s: s.toggle("conv.relu", True), show=lambda o: o["metrics"][3]),
        Step("open inside", lambda s: s.open(course.url("inside_a_cnn"))),
        Step("inside: digit sample", lambda s: s.toggle("inside.draw", False), optional=True),
        Step("open explain", lambda s: s.open(course.url("explain"))),
        Step("explain: 2nd class", lambda s: s.choose("explain.target", 1)),
        Step("open image-as-numbers", lambda s: s.open(course.url("image_as_numbers"))),
    ]


TRAIN_QUERY = "train.per_class=500&train.epochs=5"
PLACE_RE = re.compile(r"(?:number|número) (\d+)")      # "Waiting in line: you are number 2..."


def train_path(query: str = TRAIN_QUERY) -> list[Step]:
    """A student who trains (--trainers): opens Train by a link, presses Train once, waits for it."""
    return [
        Step("open train", lambda s: s.open(course.url("train"), query)),
        Step("train: run (line)", lambda s: s.click("train.go"), same=False,
             show=lambda o: "place in line " + (str(o["place"]) if o.get("place") else "- (ran at once)")),
    ]


@dataclass
class Record:
    student: int
    lang: str
    step: str
    loop: int
    seconds: float | None
    cpu: float | None = None
    error: str = ""
    exceptions: list = field(default_factory=list)
    obs: dict | None = None
    skipped: bool = False


# ---------------------------------------------------------------------------- server resources
def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def server_usage(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds, RSS MB) of these processes and their children, now."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = rss = 0.0
    for root in pids:
        for p in _descendants(root):
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                cpu += (int(fields[11]) + int(fields[12])) / tick     # utime, stime
                with open(f"/proc/{p}/status") as f:
                    rss += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
            except (OSError, StopIteration, IndexError, ValueError):
                pass
    return cpu, rss


class Sampler:
    """RSS of the server while the class runs: its peak (every half second) and a timeline (every 5 s)."""

    def __init__(self, pids: list[int]):
        self.pids, self.peak, self._task, self.timeline = pids, 0.0, None, []

    async def _run(self):
        t0, n = time.monotonic(), 0
        while True:
            cpu, rss = server_usage(self.pids)
            self.peak = max(self.peak, rss)
            if n % 10 == 0:
                self.timeline.append((round(time.monotonic() - t0, 1), round(cpu, 1), round(rss, 1)))
            n += 1
            await asyncio.sleep(0.5)

    def start(self):
        if self.pids:
            self._task = asyncio.create_task(self._run())

    async def stop(self):
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.pids:
            self.peak = max(self.peak, server_usage(self.pids)[1])


# ---------------------------------------------------------------------------- the class
async def student_session(i: int, args, rng: random.Random, base: str, deadline: float, steps: list[Step],
                          records: list[Record], pids: list[int], clients: list) -> None:
    lang = args.langs[i % len(args.langs)]
    trainer = i < getattr(args, "trainers", 0)
    if trainer:
        steps = train_path(args.train_query)
    else:
        steps = [st for st in steps if st.name not in {x.name for x in train_path()}]
    s = Student(i, base, lang, args.timeout, not args.no_media)
    clients.append(s)
    t0 = time.monotonic()
    if not args.burst and not args.lockstep:
        await asyncio.sleep(rng.uniform(0, args.ramp))
    try:
        await s.connect()
    except Exception as e:  # noqa: BLE001
        records.append(Record(i, lang, "connect", 0, None, error=f"{type(e).__name__}: {e}"))
        return
    done = slot = 0
    loop = 0
    try:
        while done < args.interactions and time.monotonic() < deadline and (not (args.one_pass or trainer) or loop < 1):
            for step in steps:
                if done >= args.interactions or time.monotonic() >= deadline:
                    break
                if args.lockstep:                             # the teacher: "now everyone, ..."
                    await asyncio.sleep(max(0.0, t0 + slot * args.lockstep - time.monotonic()))
                elif done and not args.burst:
                    await asyncio.sleep(rng.uniform(*args.think))
                slot += 1
                before = len(s.page.exceptions)
                cpu0 = server_usage(pids)[0] if pids and args.sessions == 1 else None
                rec = Record(i, lang, step.name, loop, None)
                progress = len(s.page.progress)
                try:
                    rec.seconds = await step.run(s)
                    rec.skipped = rec.seconds is None
                except StepFailed as e:
                    if step.optional and "no widget" in str(e):
                        rec.skipped = True
                    else:
                        rec.error = str(e)
                except Exception as e:  # noqa: BLE001 - e.g. the server closed the connection: the student's error
                    rec.error = f"{type(e).__name__}: {e}"
                if cpu0 is not None:
                    rec.cpu = server_usage(pids)[0] - cpu0
                rec.exceptions = s.page.exceptions[before:]
                rec.obs = s.page.observe()
                places = [int(m.group(1)) for text in s.page.progress[progress:] for m in [PLACE_RE.search(text)] if m]
                if places:
                    rec.obs["place"] = max(places)
                records.append(rec)
                done += not rec.skipped
                if rec.error and s._reader is not None and s._reader.done():
                    return                                    # the connection is gone
                if s.media:
                    await s.fetch_media()
            loop += 1
    finally:
        await s.close()


async def run_class(args, base: str, pids: list[int]) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    # page loads and pictures are blocking GETs in threads: enough threads that no student waits
    # for another's (a browser has its own connections)
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=min(64, args.sessions + 4)))
    rng = random.Random(args.seed)
    steps = lesson_path() + (train_path(args.train_query) if args.trainers else [])
    records: list[Record] = []
    clients: list[Student] = []
    if args.warmup:            # one student through the path first: imports, models, caches (not counted)
        warm = argparse.Namespace(**{**vars(args), "burst": True, "lockstep": 0.0, "one_pass": True,
                                             "sessions": 1})
        warm_records: list[Record] = []
        warm.trainers = 0
        await student_session(0, warm, rng, base, time.monotonic() + args.timeout * len(steps), steps,
                              warm_records, [], [])
        bad = [r for r in warm_records if r.error or r.exceptions]
        if bad:
            print(f"warm-up: {bad[0].step}: {bad[0].error or bad[0].exceptions[0]}", file=sys.stderr)
    load0 = os.getloadavg()[0]
    cpu0, rss0 = server_usage(pids) if pids else (None, None)
    sampler = Sampler(pids)
    sampler.start()
    t0 = time.monotonic()
    proc0 = time.process_time()
    deadline = t0 + args.duration
    tasks = [asyncio.create_task(student_session(i, args, random.Random(rng.random()), base, deadline, steps,
                                                 records, pids, clients)) for i in range(args.sessions)]
    # hard bound: the deadline plus one interaction's timeout for whoever is mid-step
    _, pending = await asyncio.wait(tasks, timeout=args.duration + args.timeout + 30)
    for t in pending:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.monotonic() - t0
    if pids and args.settle:
        await asyncio.sleep(args.settle)          # everyone has left: does the memory come back?
    await sampler.stop()
    cpu1, rss1 = server_usage(pids) if pids else (None, None)
    out = summarize(args, records, steps, clients, wall, time.process_time() - proc0,
                    cpu0, cpu1, rss0, rss1, sampler.peak if pids else None, len(pending))
    out["load_avg"] = {"start": load0, "end": os.getloadavg()[0]}
    if args.trainers:
        runs = [r for r in records if r.step == train_path()[1].name]
        out["trainings"] = [{"student": r.student, "seconds": r.seconds, "place": (r.obs or {}).get("place"),
                             "error": r.error} for r in sorted(runs, key=lambda r: r.student)]
    if pids:
        out["server"]["timeline"] = sampler.timeline        # (s, CPU s, RSS MB) every 5 s
        out["server"]["settle_s"] = args.settle
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summarize(args, records, steps, clients, wall, client_cpu, cpu0, cpu1, rss0, rss1, peak, cut) -> dict:
    by_step = {s.name: [r for r in records if r.step == s.name] for s in steps}
    expect = {s.name: s.expect for s in steps}
    shows = {s.name: s.show for s in steps}
    same = {s.name: s.same for s in steps}

    def seen(name, obs):
        try:
            return shows[name](obs) if shows[name] else headline(obs)
        except (IndexError, KeyError):
            return headline(obs)
    rows, mismatches, failed_checks = [], [], []
    for name, recs in by_step.items():
        ok = [r for r in recs if r.seconds is not None and not r.error]
        secs = [r.seconds for r in ok]
        # every student who did this step (same pass, same language) must have seen the same page
        groups: dict = {}
        for r in ok:
            key = (r.loop, r.lang)
            # (the place in line a heavy job was given depends on who else asked: not the page's content)
            groups.setdefault(key, {}).setdefault(json.dumps({k: v for k, v in r.obs.items() if k not in ("images", "place")},
                                                             sort_keys=True, ensure_ascii=False), []).append(r)
        distinct = max((len(g) for g in groups.values()), default=0) if same[name] else 1
        for (loop, lang), g in groups.items():
            if len(g) > 1 and same[name]:
                mismatches.append({"step": name, "loop": loop, "lang": lang,
                                   "variants": [{"students": [r.student for r in rs], "obs": json.loads(k)}
                                                for k, rs in g.items()]})
        heads = sorted({seen(name, r.obs) for r in ok if r.loop == 0})
        if expect[name]:
            for r in ok:
                if r.loop == 0 and digits(seen(name, r.obs)) != expect[name]:
                    failed_checks.append({"step": name, "student": r.student, "expected": expect[name],
                                          "seen": seen(name, r.obs)})
        cpus = [r.cpu for r in ok if r.cpu is not None]
        rows.append({
            "step": name, "n": len(ok), "skipped": sum(r.skipped for r in recs),
            "errors": sum(bool(r.error) for r in recs), "exceptions": sum(len(r.exceptions) for r in recs),
            "p50": pct(secs, 0.5), "p95": pct(secs, 0.95), "max": max(secs) if secs else float("nan"),
            "cpu_per_step": statistics.mean(cpus) if cpus else None,
            "seen": heads, "variants": distinct,
        })
    n_int = sum(r.seconds is not None for r in records)
    errors = [{"student": r.student, "step": r.step, "loop": r.loop, "error": r.error} for r in records if r.error]
    exceptions = [{"student": r.student, "step": r.step, "exception": e} for r in records for e in r.exceptions]
    all_secs = [r.seconds for r in records if r.seconds is not None and not r.error]
    loads = [c.page_load for c in clients if c.page_load is not None]
    out = {
        "sessions": args.sessions, "langs": args.langs, "burst": args.burst, "think": args.think,
        "lockstep": args.lockstep,
        "interactions": n_int, "wall_s": wall, "cut_short": cut,
        "steps": rows,
        "overall": {"p50": pct(all_secs, 0.5), "p95": pct(all_secs, 0.95),
                    "max": max(all_secs) if all_secs else float("nan")},
        "errors": errors, "exceptions": exceptions, "mismatches": mismatches, "failed_checks": failed_checks,
        "media_errors": sum(c.media_errors for c in clients),
        "auto_reruns": sum(c.page.auto_reruns for c in clients),
        "client_cpu_s": client_cpu,
        "students_per_worker": _count(c.worker for c in clients if c.worker),
        "page_load": {"p50": pct(loads, 0.5), "max": max(loads) if loads else float("nan")},
    }
    if cpu0 is not None:
        out["server"] = {"cpu_s": cpu1 - cpu0, "cpu_s_per_interaction": (cpu1 - cpu0) / max(n_int, 1),
                         "rss_mb_start": rss0, "rss_mb_end": rss1, "rss_mb_peak": peak}
    out["ok"] = not (errors or exceptions or mismatches or failed_checks or out["media_errors"] or cut)
    return out


def _count(items) -> dict:
    out: dict = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def print_report(r: dict) -> None:
    f = lambda x: "    -" if x is None or x != x else f"{x:6.2f}"  # noqa: E731
    pace = ("burst (no think time)" if r["burst"] else f"all together every {r['lockstep']:g} s" if r["lockstep"]
            else f"think {r['think'][0]:g}-{r['think'][1]:g} s")
    print(f"\n{r['sessions']} student(s), {', '.join(r['langs'])}, {pace}"
          + f"; {r['interactions']} interactions in {r['wall_s']:.1f} s"
          + (f"; load average {r['load_avg']['start']:.1f} -> {r['load_avg']['end']:.1f}" if "load_avg" in r else "")
          + "\n")
    print(f"{'step':24} {'n':>4} {'err':>4} {'exc':>4} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'cpu s':>6}  seen")
    for row in r["steps"]:
        if not (row["n"] or row["skipped"] or row["errors"]):
            continue                                   # a step nobody reached (--interactions)
        same = "" if row["variants"] <= 1 else f"  [{row['variants']} DIFFERENT pages]"
        skipped = f" ({row['skipped']} skipped)" if row["skipped"] else ""
        print(f"{row['step']:24} {row['n']:4d} {row['errors']:4d} {row['exceptions']:4d} {f(row['p50'])} "
              f"{f(row['p95'])} {f(row['max'])} {f(row['cpu_per_step'])}  {' | '.join(row['seen'])}{same}{skipped}")
    o = r["overall"]
    print(f"{'all':24} {sum(x['n'] for x in r['steps']):4d} {len(r['errors']):4d} {len(r['exceptions']):4d} "
          f"{f(o['p50'])} {f(o['p95'])} {f(o['max'])}")
    if "server" in r:
        s = r["server"]
        print(f"\nserver CPU {s['cpu_s']:.1f} s = {s['cpu_s_per_interaction']:.2f} s per interaction; "
              f"RSS {s['rss_mb_start']:.0f} MB at start, {s['rss_mb_end']:.0f} MB at end"
              + (f" ({s['settle_s']:g} s after the last student left)" if s.get("settle_s") else "")
              + f", {s['rss_mb_peak']:.0f} MB peak")
        line = s.get("timeline", [])
        if len(line) > 2:
            step = max(1, len(line) // 12)
            print("RSS MB over time: " + ", ".join(f"{t:g} s {m:.0f}" for t, _, m in line[::step]))
    if r["page_load"]["p50"] == r["page_load"]["p50"]:
        print(f"page load (HTML + static files, before the first run): p50 {r['page_load']['p50']:.2f} s, "
              f"max {r['page_load']['max']:.2f} s")
    if r["students_per_worker"]:
        print("students per worker: " + ", ".join(f"{w} {n}" for w, n in sorted(r["students_per_worker"].items())))
    if r.get("trainings"):
        print("trainings (place in line when asked, seconds from the click to the end): " + ", ".join(
            f"student {x['student']}: " + (f"error {x['error'][:60]}" if x["error"] else
                                           f"#{x['place'] or 0} {x['seconds']:.1f} s") for x in r["trainings"]))
    print(f"this tool's own CPU: {r['client_cpu_s']:.1f} s; images that failed to load: {r['media_errors']}")
    for e in r["errors"][:10]:
        print(f"ERROR student {e['student']} {e['step']} (pass {e['loop']}): {e['error']}")
    for e in r["exceptions"][:10]:
        print(f"EXCEPTION student {e['student']} {e['step']}: {e['exception']}")
    for c in r["failed_checks"][:10]:
        print(f"CHECK student {c['student']} {c['step']}: expected {c['expected']}, saw {c['seen']!r}")
    for m in r["mismatches"][:5]:
        print(f"DIFFERENT {m['step']} (pass {m['loop']}, {m['lang']}): "
              + "; ".join(f"students {v['students'][:8]} saw {headline(v['obs'])!r}" for v in m["variants"]))
    if r["cut_short"]:
        print(f"{r['cut_short']} student(s) cut short by the time bound")
    print("\nOK" if r["ok"] else "\nNOT OK")


# ---------------------------------------------------------------------------- a server of our own
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(log_path, "w")
    sys.path.insert(0, str(ROOT))
    from cnnviz.serve import streamlit_command, wait_for_health

    proc = subprocess.Popen(streamlit_command("app.py", port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if wait_for_health(port, proc, 120):
        return proc, f"http://127.0.0.1:{port}"
    stop_server(proc)
    raise SystemExit(f"streamlit did not start in 120 s (exit code {proc.poll()}); see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    from cnnviz.serve import stop_processes

    stop_processes([proc], 15)


# ---------------------------------------------------------------------------- the Chromium check
PHASES = ("open convolution", "scroll down", "next")


def _chromium_idle(page) -> None:
    page.wait_for_timeout(500)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=180_000)
    page.wait_for_timeout(1500)


def chromium_path(base: str, lang: str, chromium: str) -> list[dict]:
    """Open Convolution in a real Chromium, scroll down, press "next": per phase, the page its
    ForwardMsgs build and the rerun requests it sent."""
    from playwright.sync_api import sync_playwright

    sent, frames, marks = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale=LOCALES[lang])
            page = ctx.new_page()

            def on_ws(ws):
                ws.on("framereceived", lambda payload: frames.append(payload))   # (a bound builtin is refused)
                ws.on("framesent", lambda payload: sent.append(payload))

            page.on("websocket", on_ws)
            page.goto(f"{base}/{course.url('convolution')}")
            _chromium_idle(page)
            marks.append((len(frames), len(sent)))
            page.mouse.move(640, 400)
            page.mouse.wheel(0, 700)
            for _ in range(40):                 # the canvas loads in its frame, then sends its value
                if len(sent) > marks[-1][1]:
                    break
                page.wait_for_timeout(250)
            _chromium_idle(page)
            marks.append((len(frames), len(sent)))
            page.locator(".st-key-conv-next button").first.click()
            _chromium_idle(page)
            marks.append((len(frames), len(sent)))
        finally:
            browser.close()
    model, out, f0, s0 = Page(), [], 0, 0
    for name, (f1, s1) in zip(PHASES, marks):
        for raw in frames[f0:f1]:
            model.feed(ForwardMsg.FromString(raw if isinstance(raw, bytes) else raw.encode("latin-1")))
        reruns = [BackMsg.FromString(raw if isinstance(raw, bytes) else raw.encode("latin-1")) for raw in sent[s0:s1]]
        out.append(_phase(name, model, [(b.rerun_script.fragment_id != "") for b in reruns
                                        if b.WhichOneof("type") == "rerun_script"]))
        f0, s0 = f1, s1
    return out


def _phase(name: str, page: Page, reruns: list[bool]) -> dict:
    obs = page.observe()
    return {"phase": name, "reruns": ["fragment" if frag else "full" for frag in reruns],
            "elements": sorted(el.WhichOneof("type") for el in page.ordered()),
            "sums": obs["sums"], "metrics": obs["metrics"], "headings": obs["headings"], "alerts": obs["alerts"],
            "exceptions": list(page.exceptions)}


async def tool_path(base: str, lang: str, timeout: float) -> list[dict]:
    s = Student(0, base, lang, timeout, media=False)
    sent: list[bytes] = []
    await s.connect()
    real_send = s.ws.send

    async def send(data):
        sent.append(data)
        await real_send(data)

    s.ws.send = send
    out = []
    try:
        acts = (lambda: s.open(course.url("convolution")), s.scroll, lambda: s.click("conv.next"))
        for name, act in zip(PHASES, acts):
            n = len(sent)
            await act()
            out.append(_phase(name, s.page, [BackMsg.FromString(b).rerun_script.fragment_id != "" for b in sent[n:]]))
    finally:
        await s.close()
    return out


def chromium_check(base: str, lang: str, chromium: str, timeout: float) -> dict:
    """The same three phases with this tool and with Chromium: the same reruns, elements and numbers?"""
    tool = asyncio.run(tool_path(base, lang, timeout))
    real = chromium_path(base, lang, chromium)
    phases = []
    for t, r in zip(tool, real):
        same = {k: t[k] == r[k] for k in ("reruns", "elements", "sums", "metrics", "headings", "alerts")}
        phases.append({"phase": t["phase"], "same": same,
                       "tool": {k: t[k] for k in ("reruns", "sums", "exceptions")} | {"elements": len(t["elements"])},
                       "chromium": {k: r[k] for k in ("reruns", "sums", "exceptions")} | {"elements": len(r["elements"])},
                       "metrics": t["metrics"] if same["metrics"] else {"tool": t["metrics"], "chromium": r["metrics"]}})
    ok = len(phases) == len(PHASES) and all(all(p["same"].values()) and not p["tool"]["exceptions"]
                                            and not p["chromium"]["exceptions"] for p in phases)
    return {"lang": lang, "phases": phases, "ok": ok}


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__[__doc__.index("\n\n"):])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the running app, http://127.0.0.1:PORT (nothing else is accepted)")
    where.add_argument("--start", action="store_true", help="start `streamlit run app.py` on a free port, stop it after")
    ap.add_argument("--workers", type=int, default=0,
                    help="with --start: N Streamlit workers behind nginx (python -m cnnviz.serve) instead of one process")
    ap.add_argument("--sessions", type=int, default=1, help=f"students (1-{MAX_SESSIONS}, default 1)")
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                    help="seconds a student waits between actions, uniform (default 1 3)")
    ap.add_argument("--ramp", type=float, default=None,
                    help="students arrive over this many seconds (default: the longest think time)")
    ap.add_argument("--burst", action="store_true", help="no think time, no ramp: everyone at once")
    ap.add_argument("--lockstep", type=float, default=0.0, metavar="GAP",
                    help="everyone does step k at the same moment, k x GAP seconds after the start "
                         "(the teacher says 'now press next'); a student still busy starts when done")
    ap.add_argument("--interactions", type=int, default=None,
                    help="interactions per student (default: the path once); more than the path repeats it")
    ap.add_argument("--duration", type=float, default=300.0,
                    help=f"stop starting new interactions after this many seconds (default 300, max {MAX_DURATION:g})")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds one interaction may take (default 180)")
    ap.add_argument("--lang", choices=["en", "pt-BR", "mixed"], default="en",
                    help="the students' browser language (mixed: every other student in Portuguese)")
    ap.add_argument("--server-pid", type=int, action="append", default=[],
                    help="a server process to measure (CPU, RSS; its children count too); repeat for workers")
    ap.add_argument("--trainers", type=int, default=0,
                    help="the first N students train once in the Train lesson instead of following the path")
    ap.add_argument("--train-query", default=TRAIN_QUERY,
                    help=f"the Train lesson's link for --trainers (default {TRAIN_QUERY!r})")
    ap.add_argument("--no-warm", action="store_true",
                    help="with --workers: do not warm the workers before the proxy starts (cnnviz.serve --no-warm)")
    ap.add_argument("--warmup", action="store_true",
                    help="one student goes through the path first, not counted (a teacher who tried it before class)")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="seconds to wait after the last student leaves before the last RSS sample (leak runs)")
    ap.add_argument("--no-media", action="store_true", help="do not fetch the pictures as a browser would")
    ap.add_argument("--seed", type=int, default=0, help="seed of the think times (default 0)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' for stdout only)")
    ap.add_argument("--chromium-check", action="store_true",
                    help="open Convolution, scroll down, press next, with this tool and with a real Chromium, "
                         "and compare the reruns sent, the elements and the numbers (no load)")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        ap.error(f"--sessions must be 1-{MAX_SESSIONS}")
    if not 0 <= args.trainers <= args.sessions:
        ap.error("--trainers must be 0..--sessions")
    if not 0 < args.duration <= MAX_DURATION:
        ap.error(f"--duration must be in (0, {MAX_DURATION:g}]")
    if args.lockstep < 0 or (args.lockstep and args.burst):
        ap.error("--lockstep GAP > 0, and not with --burst")
    if args.think[0] < 0 or args.think[1] < args.think[0]:
        ap.error("--think MIN MAX with 0 <= MIN <= MAX")
    args.one_pass = args.interactions is None            # default: the path once
    args.interactions = args.interactions or 10_000
    if not 1 <= args.interactions <= 10_000:
        ap.error("--interactions must be 1-10000")
    args.ramp = args.think[1] if args.ramp is None else max(0.0, args.ramp)
    args.langs = ["en", "pt-BR"] if args.lang == "mixed" else [args.lang]
    if args.url:
        args.url = check_local(args.url)
    if args.workers and not args.start:
        ap.error("--workers needs --start (for a cluster already running, give --url and --server-pid per worker)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    proc = cluster = None
    pids = list(args.server_pid)
    try:
        if args.start and args.workers:
            sys.path.insert(0, str(ROOT))
            from cnnviz.serve import Cluster, free_port as proxy_port

            cluster = Cluster(workers=args.workers, host="127.0.0.1", port=proxy_port(), debug_header=True,
                              warm=not args.no_warm)
            t0 = time.monotonic()
            cluster.start()
            for w in cluster.warmed.values():
                print(w.summary(), file=sys.stderr, flush=True)
            print(f"cluster ready in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
            base = check_local(cluster.url)
            pids += cluster.worker_pids()
            print(f"started {args.workers} workers (pids {cluster.worker_pids()}) behind nginx at {base}; "
                  f"logs in {cluster.run_dir}", file=sys.stderr, flush=True)
        elif args.start:
            log = Path(os.environ.get("TMPDIR", "/tmp")) / f"classroom-server-{os.getpid()}.log"
            proc, base = start_server(log)
            pids.append(proc.pid)
            print(f"started streamlit (pid {proc.pid}) at {base}; log {log}", file=sys.stderr, flush=True)
        else:
            base = args.url
        if args.chromium_check:
            result = chromium_check(base, args.langs[0], args.chromium, args.timeout)
            text = json.dumps(result, indent=2, ensure_ascii=False)
        else:
            result = asyncio.run(run_class(args, base, pids))
            text = json.dumps(result, indent=2, ensure_ascii=False, default=str)
        if args.json == "-":
            print(text)
        else:
            if args.json:
                Path(args.json).write_text(text + "\n")
            if args.chromium_check:
                print(text)
            else:
                print_report(result)
        return 0 if result["ok"] else 1
    finally:
        if proc is not None:
            stop_server(proc)
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
