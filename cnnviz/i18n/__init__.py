"""Message catalogs (English and Brazilian Portuguese) and ``t(key, lang, **kw)``.

Catalogs are TOML files in ``i18n/<lang>/``, one per key prefix: a key's first
segment names its file, so ``conv.title`` is ``title = "..."`` under ``[conv]`` in
``conv.toml`` and ``images.error.bomb`` is in ``images.toml``. A lesson's file holds
that lesson's strings only; the library's errors live in the files of their subject.
Both languages must have the same keys and the same ``{placeholders}``; tests check
all of it (``tests/test_i18n.py``).
This module never imports streamlit; ``cnnviz.ui`` remembers the learner's
language and passes it in, and registers ``current()`` (the language of the
script run under way) so that number formatting deep in the library
(``cnnviz.figures.fmt``, matrices, formulas) follows the learner without a
``lang`` argument threaded through every call.
"""

from __future__ import annotations

import math
import re
import string
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

LANGUAGES: dict[str, str] = {"en": "English", "pt_BR": "Português (Brasil)"}
DEFAULT = "en"
_HERE = Path(__file__).parent


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """All messages of one language, merged from its TOML files."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}; known: {sorted(LANGUAGES)}")
    merged: dict[str, str] = {}
    for path in sorted((_HERE / lang).glob("*.toml")):
        with path.open("rb") as f:
            for key, value in _flatten(tomllib.load(f)).items():
                if key in merged:
                    raise ValueError(f"duplicate message key {key!r} in {path}")
                merged[key] = value
    return merged


def placeholders(message: str) -> set[str]:
    """The ``{names}`` a message expects (used by the parity test)."""
    return {field for _, field, _, _ in string.Formatter().parse(message) if field}


@lru_cache(maxsize=None)
def plurals(lang: str) -> dict[str, str]:
    """{plural noun: singular} of ``lang`` (``i18n/plurals.toml``): what follows a count."""
    with (_HERE / "plurals.toml").open("rb") as f:
        return dict(tomllib.load(f).get(lang, {}))


# a placeholder and the word after it; not the last factor of a product ("3 × {w} pixels")
_COUNTED = re.compile(r"(?<!× )(?<!x )(\{(\w+)(?:![rsa])?(?::[^{}]*)?\}) (\w+)")


def _singular(message: str, lang: str, kw: dict) -> str:
    """``message`` with the noun after each placeholder whose value is 1 made singular:
    "{n} neurons" -> "1 neuron" (also "1 neurônio", "1 imagem")."""
    ones = {k for k, v in kw.items()          # a number, or a number already written ("1")
            if (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 1) or (isinstance(v, str) and v == "1")}
    if not ones or "{" not in message:
        return message
    table = plurals(lang)

    def one(m):
        noun = m.group(3)
        if m.group(2) in ones and noun in table:
            return f"{m.group(1)} {table[noun]}"
        return m.group(0)

    return _COUNTED.sub(one, message)


def t(key: str, lang: str = DEFAULT, /, **kw) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw``.

    A key missing from a catalog falls back to English, then to the key itself,
    so a gap shows up as text on screen instead of a crash in front of a class.
    A noun after a count of 1 is singular ("{n} neurons" with n=1: "1 neuron").
    """
    message = catalog(lang).get(key) if lang in LANGUAGES else None
    if message is None:
        message = catalog(DEFAULT).get(key, key)
    if kw:
        message = _singular(message, lang if lang in LANGUAGES else DEFAULT, kw)
    # numbers write themselves the learner's way: "{mb:.1f} MB" -> 2,5 MB; "{n:,}" -> 12.288, but 6600
    kw = {k: _Localized(v, lang) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
          for k, v in kw.items()}
    try:
        return message.format(**kw)  # always: "{{" in a catalog is a literal brace
    except (KeyError, IndexError, ValueError):
        return message


_SWAP = str.maketrans({",": ".", ".": ","})

# Digits are grouped in threes from five digits on: 6600, 9000, 12,288 (12.288), as ISO 80000-1 and
# Brazil's ABNT write them, and as the course writes its 6600. One rule for every number a learner
# reads: text, matrices, cards, charts (plotly's own rule is the same: ``figures.plots.localize``).
GROUP_FROM = 10_000


def _grouped(text: str, value: float) -> str:
    """``text`` (written with "," thousands separators) without them below ``GROUP_FROM``."""
    return text.replace(",", "") if abs(value) < GROUP_FROM else text


class _Localized:
    """A number in a catalog message that formats itself the learner's way (``number``'s rules:
    the decimal mark of the language, digits grouped from five digits on)."""

    __slots__ = ("value", "lang")

    def __init__(self, value, lang: str = DEFAULT):
        self.value = value
        self.lang = lang

    def __format__(self, spec: str) -> str:
        text = format(self.value, spec)
        if "," in spec:
            text = _grouped(text, self.value)
        return text.translate(_SWAP) if self.lang == "pt_BR" else text

    def __str__(self) -> str:
        return format(self)


def number(value: float, lang: str | None = None, digits: int | None = None, *, trim: bool = False) -> str:
    """The one way a number is written for a learner (every other formatter calls this one).

    ``lang``: "pt_BR" writes a decimal comma and groups with dots (12.288,5), English 12,288.5;
    None: the learner's language now (``current()``). Digits are grouped from five digits on
    (6600, 12,288). ``digits=None``: whole numbers whole, others with up to 3 decimals, no
    trailing zeros; ``digits=k``: exactly k decimals, or up to k with ``trim`` (0.5, not 0.50).
    """
    lang = lang or current()
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if digits is None:
        digits, trim = (0, False) if v == int(v) and abs(v) < 1e15 else (3, True)
    text = f"{v:,.{digits}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.lstrip("-").strip("0.,") == "":      # no "-0" or "-0.00"
        text = text.lstrip("-")
    text = _grouped(text, v)
    return text.translate(_SWAP) if lang == "pt_BR" else text


# ---------------------------------------------------------------- the current language
# An explicit ``with language("pt_BR"):`` wins (tests, scripts, worker threads that know
# their learner); otherwise the source registered by cnnviz.ui answers (the language of the
# Streamlit session whose script, or fragment, runs in this thread); otherwise English.
_override: ContextVar[str | None] = ContextVar("cnnviz_language", default=None)
_source: Callable[[], str | None] | None = None


def set_language_source(source: Callable[[], str | None] | None) -> None:
    """Register ``source() -> lang or None`` (``cnnviz.ui`` does: the session's language)."""
    global _source
    _source = source


def current() -> str:
    """The learner's language for the code running now (see ``language``)."""
    forced = _override.get()
    if forced is not None:
        return forced
    if _source is not None:
        try:
            found = _source()
        except Exception:  # noqa: BLE001 - formatting a number must never fail on this
            found = None
        if found in LANGUAGES:
            return found
    return DEFAULT


@contextmanager
def language(lang: str) -> Iterator[str]:
    """``with language("pt_BR"):`` numbers formatted inside come out the Brazilian way."""
    token = _override.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield lang
    finally:
        _override.reset(token)


def localize(text: str, lang: str | None = None) -> str:
    """Number text written the English way (``-1,234.5``) in ``lang``'s way (``-1.234,5``)."""
    return text.translate(_SWAP) if (lang or current()) == "pt_BR" else text


def detect_language(locale: str | None) -> str:
    """Map a browser locale such as ``"pt-BR"`` or ``"pt_PT"`` to one of ours."""
    if locale and locale.replace("-", "_").lower().startswith("pt"):
        return "pt_BR"
    return DEFAULT
