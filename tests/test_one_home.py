"""One home per fact (issue 18): the palette, the lesson URLs and the names the docs cite are
written in one place each, and everything else reads them from there."""

import pathlib
import re
import tomllib

from cnnviz.figures import scale

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "lessons").rglob("*.py"), ROOT / "app.py"])
PALETTE = {"ACCENT": scale.ACCENT, "SECOND": scale.SECOND, "CHOSEN": scale.CHOSEN, "MUTED": scale.MUTED}


def _rel(path):
    return path.relative_to(ROOT).as_posix()


def test_the_palette_is_written_only_in_figures_scale():
    assert len(set(v.lower() for v in PALETTE.values())) == len(PALETTE)
    found = []
    for path in SOURCES:
        if _rel(path) == "cnnviz/figures/scale.py":
            continue
        text = path.read_text(encoding="utf-8").lower()
        found += [f"{_rel(path)}: {name} {colour}" for name, colour in PALETTE.items() if colour.lower() in text]
    assert not found, "read these from cnnviz.figures.scale: " + "; ".join(found)


def test_the_theme_colour_is_the_accent():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["theme"]
    assert theme["primaryColor"].lower() == scale.ACCENT.lower()
