"""Behaviour is unchanged: the self-check (every kind x seeds 0-99 x both languages), the course's
numbers and the figures are what ``tools/make_golden.py`` wrote into ``tests/golden/`` before the
structure work of issue 18. A failure names every entry that differs (golden, then now).

A change meant to change what the course shows rewrites the files (``python tools/make_golden.py``)
and says so in its commit; ``python tools/make_golden.py --check`` prints the differences."""

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "make_golden.py"


def _tool():
    spec = importlib.util.spec_from_file_location("make_golden", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _tool()


@pytest.mark.parametrize("name", list(golden.BUILDERS))
def test_matches_the_golden_file(name):
    diffs = golden.differences(name, golden.BUILDERS[name]())
    assert not diffs, "behaviour changed:\n" + "\n".join(diffs)


def test_golden_files_stay_small():
    total = sum(p.stat().st_size for p in golden.GOLDEN.glob("*.json"))
    assert total < 2_000_000, total
