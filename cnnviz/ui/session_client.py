"""A browser session over Streamlit's own protocol, for ``cnnviz.serve`` to warm a worker before
learners arrive: open pages, wait for their runs, report what they showed.

It imports Streamlit's protobuf messages, so it lives in ``cnnviz.ui``; the library never imports it:
``cnnviz.serve`` runs ``python -m cnnviz.ui.session_client PORT BUDGET PAGE...`` as a process of its
own and reads the JSON it prints (``warm_pages``'s result)."""

from __future__ import annotations

import time


def open_page(port: int, path: str, *, timeout: float, locale: str = "en-US") -> tuple[float, list[str], list[str]]:
    """Open one page of the app on 127.0.0.1:``port`` as a new browser session would (a websocket
    to ``/_stcore/stream``, one rerun request for the url path, ``?query`` included) and wait for
    its run to end: (seconds, the exceptions the page showed, the url paths of the app's pages)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    ending = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
              ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
    base = f"http://127.0.0.1:{port}"
    path, _, query = path.partition("?")
    t0 = time.monotonic()
    exceptions, pages = [], []
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", origin=base, subprotocols=["streamlit"],
                 open_timeout=timeout, max_size=None, proxy=None, compression=None) as ws:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = query
        rs.page_name = path
        ci = rs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, locale
        ci.url, ci.is_embedded, ci.color_scheme = f"{base}/{path}" + (f"?{query}" if query else ""), False, "light"
        ws.send(msg.SerializeToString())
        while True:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise TimeoutError(f"/{path} did not finish within {timeout:.0f} s")
            fm = ForwardMsg.FromString(ws.recv(timeout=left))
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                pages = [p.url_pathname for p in fm.navigation.app_pages]
            elif kind == "page_not_found":
                raise LookupError(f"no page /{path}")
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                    and fm.delta.new_element.WhichOneof("type") == "exception":
                exceptions.append(f"/{path}: {fm.delta.new_element.exception.type}: "
                                  f"{fm.delta.new_element.exception.message}"[:300])
            elif kind == "script_finished" and fm.script_finished in ending:
                if fm.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    exceptions.append(f"/{path}: compile error")
                return time.monotonic() - t0, exceptions, pages


def warm_pages(port: int, first: list[str], budget: float, every_page: bool = True) -> dict:
    """Open the home page, the url paths in ``first``, then (``every_page``) the app's other pages, one
    session each, until ``budget`` seconds are spent: {"pages": {path: seconds}, "problems": [...]}.
    Never raises: what went wrong is in "problems"."""
    pages: dict[str, float] = {}
    problems: list[str] = []
    t0 = time.monotonic()
    todo, known = ["", *first], None
    while todo:
        path = todo.pop(0)
        left = budget - (time.monotonic() - t0)
        if left <= 1:
            problems.append(f"time budget of {budget:.0f} s spent before /{path}")
            break
        try:
            secs, exceptions, listed = open_page(port, path, timeout=left)
            pages[path] = secs
            problems += exceptions
            if known is None and listed:
                known = listed
                if every_page:
                    todo += [p for p in listed if p not in todo and p not in pages and p != path]
        except Exception as err:  # noqa: BLE001 - a warm-up failure is reported, never fatal
            problems.append(f"/{path}: {type(err).__name__}: {err}"[:300])
    return {"pages": pages, "problems": problems}


if __name__ == "__main__":        # python -m cnnviz.ui.session_client PORT BUDGET [--only] PAGE...
    import json
    import sys

    args = sys.argv[1:]
    only = "--only" in args
    rest = [a for a in args[2:] if a != "--only"]
    print(json.dumps(warm_pages(int(args[0]), rest, float(args[1]), every_page=not only)))
