"""Self-check questions made from the lessons' own maths: predict, check, explain (issue 13).

Every question is *generated*: ``generate(kind, seed)`` draws fresh numbers, asks the
module that owns the maths for the answer (``cnnviz.conv.output_size``,
``cnnviz.params.mlp_weights``, ``cnnviz.layers.pool2d``, ``cnnviz.receptive.stack``...),
and returns a ``Question`` a widget can draw. ``check(question, typed, lang)`` reads what
the learner typed (``1,5`` and ``1.5`` alike, ``4.294.967.296`` or ``4,294,967,296``) and
returns a ``Verdict``: right or wrong, the correct answer in the learner's format, and a
one-paragraph *why* that points back to the part of the lesson that shows it.

Two predict-then-reveal scores go with them: ``click_score`` (Convolution: where will the
curve detector fire?) and ``pointing_score`` (Where does it look?: the pointing game).

No streamlit and no torch at import time. The receptive-field and autoencoder questions
import their modules (which import torch) only when one of them is generated.

For the widget: ``render_prompt``; for a "choice", ``render_choice(q, i)`` per option (and
``q.choices[i].figure`` when it has an array: a kernel); then ``check(q, typed_or_index)``.
A ``Verdict`` with ``problem`` set means "could not read it": show the problem, do not count
a wrong answer. ``q.figure`` holds what to draw with the prompt:

- conv.sum_at: ``window``, ``kernel`` (3 x 3 each, draw side by side)
- conv.which_kernel: ``image``, ``map`` (the activation map), choices carry the kernels
- conv1d.value_at: ``signal``, ``kernel``, ``position``; conv1d.which_kernel: ``signal``, ``output``
- layers.relu: ``x``; layers.maxpool / avgpool: ``matrix`` (4 x 4), ``window``, ``stride``
- inside.predict_class (no network): ``logits``, ``classes``; inside.top_image: ``images``,
  ``activations`` (reveal after checking), and ``kernel`` when the channel is a known filter
- train.overfit: ``runs`` = two dicts of ``train``/``val`` accuracy (%) per epoch;
  train.best_epoch: ``train``, ``val``
- explain.pointing: ``heatmap`` and four ``points`` (x, y) labelled A–D;
  explain.faithful: ``fractions``, two ``curves``; explain.sanity: ``correlations``
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from . import i18n
from . import params as cparams
from .conv import ConvError, Convolution, convolve2d, output_size
from .errors import CnnvizError
from .i18n import t


class ExerciseError(CnnvizError):
    """An answer we cannot read (letters, a wrong number of values...); the message says why."""


# ---------------------------------------------------------------- the data model
@dataclass(frozen=True)
class Label:
    """A text to translate when drawn: a catalog key and its parameters."""
    key: str
    params: dict = field(default_factory=dict)


@dataclass
class Choice:
    """One option of a multiple-choice question: a label to show and/or a small array to draw."""
    label: Label | None = None
    figure: Any = None


@dataclass
class Question:
    kind: str                     # e.g. "conv.output_size"
    lesson: str                   # the lesson's url, e.g. "convolution"
    prompt_key: str               # catalog key of the question text
    params: dict                  # its placeholders (numbers are formatted in the learner's way)
    answer_type: str              # "number", "choice", "matrix" or "vector"
    choices: list[Choice]         # for "choice" (else empty)
    answer: Any                   # number, choice index, or array
    tolerance: float              # absolute tolerance for numbers, vectors and matrices
    explain_key: str              # catalog key of the one-paragraph why
    explain_params: dict
    section_key: str              # catalog key of the lesson part that shows it
    figure: dict | None = None    # data the widget draws with the prompt (matrices, curves, maps)
    section_params: dict = field(default_factory=dict)

    @property
    def digits(self) -> int:
        """Decimals the answer is written with: 0 for exact answers, 2 for a tolerance of 0.01."""
        if self.tolerance <= 0:
            return 0
        return max(0, -math.floor(math.log10(self.tolerance * 2 + 1e-12)))

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape a matrix or vector answer must have."""
        return np.shape(self.answer) if self.answer_type in ("matrix", "vector") else None


@dataclass
class Verdict:
    correct: bool
    expected_text: str            # the correct answer, written the learner's way
    explanation: str              # why, naming the correct value, pointing to the lesson part
    problem: str | None = None    # set when the answer could not be read (not a wrong answer)
    given: Any = None             # what was read from the answer


# ---------------------------------------------------------------- reading numbers
_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\uff0d": "-"})
MAX_TEXT = 80


def _thousands_mark(lang: str | None) -> str | None:
    return {"en": ",", "pt_BR": "."}.get(lang or "")


def parse_number(text, lang: str | None = None) -> float:
    """What a learner typed -> a float, or an ``ExerciseError`` saying why not (never another error).

    Accepts ``1,5`` and ``1.5``, ``-0,25``, ``1e3``, ``4.294.967.296``, ``4,294,967,296``,
    ``4 294 967 296``, ``1.234,5`` and ``1,234.5``. A lone mark followed by exactly three
    digits (``1,234``) is a thousands separator in the language that uses it that way
    (``,`` in English, ``.`` in Portuguese) and a decimal mark otherwise; with no language
    it is a decimal mark.
    """
    if isinstance(text, bool):
        raise ExerciseError("exercises.error.not_a_number", value=str(text))
    if isinstance(text, (int, float, np.integer, np.floating)):
        value = float(text)
        if not math.isfinite(value):
            raise ExerciseError("exercises.error.not_finite", value=str(text))
        return value
    if text is None:
        raise ExerciseError("exercises.error.empty")
    s = str(text).translate(_MINUS).strip()
    if not s:
        raise ExerciseError("exercises.error.empty")
    if len(s) > MAX_TEXT:
        raise ExerciseError("exercises.error.too_long", max=MAX_TEXT)
    shown = s[:20]
    if any(ch in s for ch in _SPACES):
        # Spaces only as thousands separators: "4 294 967 296" (never "1 5")
        sp = "[" + _SPACES + "]"
        if not re.fullmatch(r"[+-]?\d{1,3}(" + sp + r"\d{3})+([.,]\d+)?([eE][+-]?\d+)?", s):
            raise ExerciseError("exercises.error.not_a_number", value=shown)
        s = re.sub(sp, "", s)
    m = re.fullmatch(r"([+-]?)([\d.,]+)(?:[eE]([+-]?\d{1,3}))?", s)
    if not m or not re.search(r"\d", m.group(2)):
        raise ExerciseError("exercises.error.not_a_number", value=shown)
    sign, body, exp = m.group(1), m.group(2), m.group(3)
    dots, commas = body.count("."), body.count(",")

    def grouped(part: str, mark: str) -> str:
        if not re.fullmatch(r"\d{1,3}(" + re.escape(mark) + r"\d{3})*", part):
            raise ExerciseError("exercises.error.grouping", value=shown)
        return part.replace(mark, "")

    if dots and commas:
        dec = "." if body.rfind(".") > body.rfind(",") else ","
        sep = "," if dec == "." else "."
        if body.count(dec) != 1:
            raise ExerciseError("exercises.error.grouping", value=shown)
        whole, frac = body.split(dec)
        if not frac.isdigit():
            raise ExerciseError("exercises.error.not_a_number", value=shown)
        number = grouped(whole, sep) + "." + frac
    elif dots + commas > 1:
        mark = "." if dots else ","
        number = grouped(body, mark)
    elif dots + commas == 1:
        mark = "." if dots else ","
        whole, frac = body.split(mark)
        if not (whole.isdigit() or frac.isdigit()):
            raise ExerciseError("exercises.error.not_a_number", value=shown)
        thousands = (len(frac) == 3 and whole.isdigit() and len(whole) <= 3 and whole[0] != "0"
                     and _thousands_mark(lang) == mark)
        number = whole + frac if thousands else (whole or "0") + "." + (frac or "0")
    else:
        number = body
    try:
        value = float(sign + number + (f"e{exp}" if exp else ""))
    except ValueError:
        raise ExerciseError("exercises.error.not_a_number", value=shown) from None
    if not math.isfinite(value) or abs(value) > 1e15:
        raise ExerciseError("exercises.error.not_finite", value=shown)
    return value


def _split_values(text: str, length: int | None) -> list[str]:
    """One row of values: separated by ';', by spaces, or by commas when they can't be decimals."""
    s = text.strip().strip("[]()").strip()
    if ";" in s:
        parts = s.split(";")
    elif re.search(r",\s", s):               # "0.66, 0.24, 0.1"
        parts = s.split(",")
    elif re.search(r"\s", s):                # "0,66 0,24 0,1"
        parts = s.split()
    elif "," in s and ("." in s or (length is not None and length > 1 and s.count(",") == length - 1)):
        parts = s.split(",")                 # "0.5,0.25" or "1,2,3" when 3 values are expected
    else:
        parts = [s]
    return [p.strip() for p in parts if p.strip()]


def parse_vector(text, length: int | None = None, lang: str | None = None) -> np.ndarray:
    """Values on one line ("0,66; 0,24; 0,10", "0.66, 0.24, 0.1", "1 0 3") or one per line."""
    if isinstance(text, (list, tuple, np.ndarray)):
        values = [parse_number(v, lang) for v in np.asarray(text, dtype=object).ravel()]
    else:
        if text is None or not str(text).strip():
            raise ExerciseError("exercises.error.empty")
        s = str(text)
        if len(s) > 40 * MAX_TEXT:
            raise ExerciseError("exercises.error.too_long", max=40 * MAX_TEXT)
        lines = [ln for ln in s.splitlines() if ln.strip()]
        parts = (lines if len(lines) > 1 else _split_values(lines[0], length))
        values = [parse_number(p, lang) for p in parts]
    if length is not None and len(values) != length:
        raise ExerciseError("exercises.error.length", want=length, got=len(values))
    return np.array(values, dtype=np.float64)


def parse_matrix(text, shape: tuple[int, int] | None = None, lang: str | None = None) -> np.ndarray:
    """A small matrix: rows on lines or separated by ';' ("1 2; 3 4"), values by spaces
    (or commas when the decimals are points: "0.5, 1\\n2, 3")."""
    if isinstance(text, (list, tuple, np.ndarray)):
        rows = [parse_vector(r, None, lang) if isinstance(r, (list, tuple, np.ndarray)) else
                np.array([parse_number(r, lang)]) for r in (text if len(np.shape(text)) > 1 else [text])]
    else:
        if text is None or not str(text).strip():
            raise ExerciseError("exercises.error.empty")
        s = str(text)
        if len(s) > 40 * MAX_TEXT:
            raise ExerciseError("exercises.error.too_long", max=40 * MAX_TEXT)
        lines = [ln for ln in re.split(r"[;\n]", s) if ln.strip()]
        width = shape[1] if shape else None
        rows = [parse_vector(_split_values(ln, width) or ln, None, lang) for ln in lines]
    if not rows:
        raise ExerciseError("exercises.error.empty")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise ExerciseError("exercises.error.ragged", row=bad + 1, got=len(rows[bad]), want=len(rows[0]))
    out = np.vstack(rows)
    if shape is not None and out.shape != tuple(shape):
        raise ExerciseError("exercises.error.shape", want_rows=shape[0], want_cols=shape[1],
                            got_rows=out.shape[0], got_cols=out.shape[1])
    return out


# ---------------------------------------------------------------- writing numbers
def fmt(value, lang: str = i18n.DEFAULT, digits: int | None = None) -> str:
    """A number the learner's way: 4,294,967,296 / 4.294.967.296; 0.66 / 0,66.

    ``digits=None``: integers whole, other values with up to 3 decimals (no trailing zeros).
    """
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if digits is None:
        if v == int(v) and abs(v) < 1e15:
            return i18n.number(int(v), lang, 0)
        text = f"{v:,.3f}".rstrip("0").rstrip(".")
        return i18n.localize("0" if text in ("-0", "") else text, lang)
    v = round(v, digits) + 0.0               # no "-0.00"
    return i18n.number(v, lang, digits)


def _fmt_param(value, lang: str) -> str:
    if isinstance(value, Label):
        return t(value.key, lang, **{k: _fmt_param(v, lang) for k, v in value.params.items()})
    if hasattr(value, "text") and callable(value.text):      # ScoreList, StackList
        return value.text(lang)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value, dtype=object)
        if arr.ndim >= 2:
            return " / ".join(_fmt_param(list(r), lang) for r in arr)
        return "; ".join(_fmt_param(v, lang) for v in value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return fmt(value, lang)
    return str(value)


def _render(key: str, params: dict, lang: str) -> str:
    return t(key, lang, **{k: _fmt_param(v, lang) for k, v in params.items()})


def render_prompt(question: Question, lang: str = i18n.DEFAULT) -> str:
    """The question, in ``lang``, numbers in its format."""
    return _render(question.prompt_key, question.params, lang)


def render_choice(question: Question, index: int, lang: str = i18n.DEFAULT) -> str:
    """The text of option ``index`` (its letter when it has no label: A, B, C...)."""
    choice = question.choices[index]
    letter = chr(ord("A") + index)
    if choice.label is None:
        return letter
    return _fmt_param(choice.label, lang)


def expected_text(question: Question, lang: str = i18n.DEFAULT) -> str:
    """The correct answer, written the way the learner would type it."""
    a, d = question.answer, question.digits
    if question.answer_type == "choice":
        return render_choice(question, int(a), lang)
    if question.answer_type == "number":     # 192, not 192.0; 17.2; 0.66
        return fmt(a, lang, d if d and not float(a).is_integer() else None)
    if question.answer_type == "vector":
        return "; ".join(fmt(v, lang, d if d else None) for v in np.ravel(a))
    return "; ".join(" ".join(fmt(v, lang, d if d else None) for v in row) for row in np.asarray(a))


def render_explanation(question: Question, lang: str = i18n.DEFAULT) -> str:
    """Why, naming the correct value, then where the lesson shows it."""
    kw = dict(question.explain_params)
    kw["answer"] = expected_text(question, lang)
    why = _render(question.explain_key, kw, lang)
    section = _render(question.section_key, question.section_params, lang)
    return why + " " + t("exercises.see", lang, section=section)


def check(question: Question, answer, lang: str = i18n.DEFAULT) -> Verdict:
    """Is ``answer`` (what the learner typed or picked) right? Never raises on any input:
    an answer that cannot be read gives ``correct=False`` and a ``problem`` to show."""
    exp_text, why = expected_text(question, lang), render_explanation(question, lang)
    try:
        kind = question.answer_type
        if kind == "choice":
            given = int(parse_number(answer, lang))
            if not 0 <= given < len(question.choices) or given != parse_number(answer, lang):
                raise ExerciseError("exercises.error.choice", n=len(question.choices))
            correct = given == int(question.answer)
        elif kind == "number":
            given = parse_number(answer, lang)
            correct = abs(given - float(question.answer)) <= question.tolerance + 1e-9 + 1e-12 * abs(float(question.answer))
        elif kind == "vector":
            given = parse_vector(answer, len(np.ravel(question.answer)), lang)
            correct = bool(np.all(np.abs(given - np.ravel(question.answer)) <= question.tolerance + 1e-9))
        elif kind == "matrix":
            given = parse_matrix(answer, np.shape(question.answer), lang)
            correct = bool(np.all(np.abs(given - np.asarray(question.answer)) <= question.tolerance + 1e-9))
        else:
            raise ValueError(f"unknown answer type {kind!r}")
    except CnnvizError as err:
        return Verdict(False, exp_text, why, problem=err.message(lang))
    return Verdict(bool(correct), exp_text, why, given=given)


# ---------------------------------------------------------------- predict, then reveal
@dataclass
class ClickScore:
    score: int                    # 0..100: 100 on the strongest position, 0 far away
    close: bool                   # within the kernel's size of it
    distance: float               # in image pixels
    best: tuple[int, int]         # the nearest strongest position, (row, col) in image pixels
    value: float                  # the strongest value of the map


def click_score(activation_map, click_rc, map_to_image: Convolution | Callable, *,
                kernel_size: int | None = None) -> ClickScore:
    """Score a guess of where a kernel fires most: the distance (image pixels) from the click
    ``click_rc`` = (row, col) to the nearest position of the map's maximum.

    ``map_to_image``: the ``Convolution`` that made the map (each map position is the centre
    of its receptive field, ``Convolution.receptive_box``), or a function (row, col) ->
    (image row, image col); then give ``kernel_size``. The score falls linearly from 100 on
    the spot to 0 at four kernel sizes away; "close" means within one kernel size.
    """
    amap = np.asarray(activation_map, dtype=np.float64)
    if isinstance(map_to_image, Convolution):
        conv = map_to_image

        def to_image(r, c):
            top, left, h, w = conv.receptive_box(int(r), int(c))
            return top + (h - 1) / 2, left + (w - 1) / 2
        span = conv.receptive_box(0, 0)[2]
        kernel_size = kernel_size or span
    else:
        to_image = map_to_image
        if kernel_size is None:
            raise TypeError("kernel_size is needed when map_to_image is a function")
    finite = np.where(np.isfinite(amap), amap, -np.inf)
    best_value = float(finite.max())
    peaks = np.argwhere(finite == best_value)
    centres = np.array([to_image(r, c) for r, c in peaks], dtype=np.float64)
    click = np.asarray(click_rc, dtype=np.float64)
    dist = np.hypot(*(centres - click).T)
    i = int(dist.argmin())
    d = float(dist[i])
    far = 4.0 * kernel_size
    score = int(round(100 * max(0.0, 1 - d / far)))
    return ClickScore(score, d <= kernel_size, d, (int(round(centres[i][0])), int(round(centres[i][1]))), best_value)


def explain_click(result: ClickScore, lang: str = i18n.DEFAULT) -> str:
    """What a click scored, in ``lang``: the distance, the strongest value and where it is."""
    text = t("exercises.click.result", lang, distance=fmt(round(result.distance, 1), lang),
             value=fmt(result.value, lang), row=str(result.best[0]), col=str(result.best[1]),
             score=str(result.score))
    return text + " " + t("exercises.click.close" if result.close else "exercises.click.far", lang)


POINTING_TOP = 0.15               # a hit: the click lands in the map's brightest 15 %
POINTING_TOLERANCE = 15 / 224     # Zhang et al. (2016): 15 pixels of tolerance on 224-pixel images


def pointing_score(heatmap, click_xy, *, radius: float | None = None) -> tuple[bool, float]:
    """The pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop",
    ECCV 2016), turned round for a learner: they click where they think the network looks.

    ``click_xy`` = (x, y) in heatmap pixels. The best value within ``radius`` pixels of the
    click (default: Zhang et al.'s 15 px at 224 px, scaled to the map) counts. Returns
    (hit, score): hit when that value is in the map's top 15 %; score = the percentage of
    the map's pixels it beats or equals (100 on the peak). A flat map has no place to find,
    and a click off the map points at nothing: both give (False, 0.0).
    """
    hm = np.asarray(heatmap, dtype=np.float64)
    if hm.ndim != 2 or hm.size == 0 or not np.isfinite(hm).all():
        return False, 0.0
    if float(hm.max() - hm.min()) <= 1e-12 * max(1.0, abs(float(hm.max()))):
        return False, 0.0
    h, w = hm.shape
    x, y = float(click_xy[0]), float(click_xy[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        return False, 0.0
    if not (-0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5):
        return False, 0.0                  # a click beside the picture points at nothing
    r = POINTING_TOLERANCE * max(h, w) if radius is None else float(radius)
    rows, cols = np.mgrid[0:h, 0:w]
    disc = np.hypot(rows - y, cols - x) <= max(r, 0.5)
    value = float(hm[disc].max())
    threshold = float(np.quantile(hm, 1 - POINTING_TOP))
    score = 100.0 * float((hm <= value).mean())
    return bool(value >= threshold), round(score, 1)


def explain_pointing(hit: bool, score: float, lang: str = i18n.DEFAULT) -> str:
    """The pointing game's verdict on a click, in ``lang``."""
    return t("exercises.pointing.hit" if hit else "exercises.pointing.miss", lang, score=fmt(score, lang))


# ---------------------------------------------------------------- the generators
_GENERATORS: dict[str, Callable] = {}
LESSON_OF: dict[str, str] = {}


def _kind(name: str, lesson: str):
    def register(fn):
        _GENERATORS[name] = fn
        LESSON_OF[name] = lesson
        return fn
    return register


def _q(kind: str, params: dict, answer_type: str, answer, *, choices=(), tolerance: float = 0.0,
       explain: dict | None = None, section: str, figure: dict | None = None,
       section_params: dict | None = None) -> Question:
    base = f"exercises.{kind}"
    return Question(kind, LESSON_OF[kind], f"{base}.prompt", params, answer_type, list(choices), answer,
                    tolerance, f"{base}.explain", explain or {}, section, figure, section_params or {})


def generate(kind: str, rng_or_seed=None, **context) -> Question:
    """A fresh question of ``kind`` (see ``KINDS``); the same seed gives the same question.

    ``context``: values a lesson passes in for questions about its own network, e.g.
    ``generate("inside.predict_class", rng, logits=..., classes=[...])``.
    """
    if kind not in _GENERATORS:
        raise KeyError(f"unknown exercise kind {kind!r}; known: {sorted(_GENERATORS)}")
    rng = rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else np.random.default_rng(rng_or_seed)
    return _GENERATORS[kind](rng, **context)


def _pick(rng, values):
    return values[int(rng.integers(len(values)))]


def _letters(n: int) -> list[Choice]:
    return [Choice(Label("exercises.option", {"letter": chr(ord("A") + i)})) for i in range(n)]


# --- image as numbers -----------------------------------------------------------------
@_kind("numbers.count", "image-as-numbers")
def _numbers_count(rng):
    h, w = int(_pick(rng, [28, 32, 48, 64, 100, 128, 200, 224, 256])), int(_pick(rng, [28, 32, 64, 96, 128, 224, 256, 320]))
    c = int(_pick(rng, [1, 3]))
    n = cparams.inputs((h, w, c))
    colour = Label("exercises.grey_picture" if c == 1 else "exercises.colour_picture")
    return _q("numbers.count", {"h": h, "w": w, "picture": colour}, "number", n,
              explain={"h": h, "w": w, "c": c, "per_pixel": Label(f"exercises.per_pixel_{c}")},
              section="numbers.shape")


@lru_cache(maxsize=4096)
def _grey_of(r: int, g: int, b: int) -> int:
    from PIL import Image

    from .images import to_array
    return int(to_array(Image.fromarray(np.array([[[r, g, b]]], dtype=np.uint8)), "gray")[0, 0])


@_kind("numbers.gray", "image-as-numbers")
def _numbers_gray(rng):
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    grey = _grey_of(r, g, b)      # Pillow's convert("L"), as the lesson computes it
    return _q("numbers.gray", {"r": r, "g": g, "b": b}, "number", grey, tolerance=1.0,
              explain={"r": r, "g": g, "b": b}, section="numbers.channel_gray")


COLOURS = ("black", "white", "red", "green", "blue", "yellow")
_COLOUR_HIGH = {"black": "", "white": "rgb", "red": "r", "green": "g", "blue": "b", "yellow": "rg"}


@_kind("numbers.colour", "image-as-numbers")
def _numbers_colour(rng):
    name = _pick(rng, COLOURS)
    rgb = [int(rng.integers(200, 256)) if ch in _COLOUR_HIGH[name] else int(rng.integers(0, 56)) for ch in "rgb"]
    others = [c for c in COLOURS if c != name]
    options = [name] + list(rng.choice(others, 3, replace=False))
    rng.shuffle(options)
    choices = [Choice(Label(f"exercises.colour.{c}")) for c in options]
    r, g, b = rgb
    return _q("numbers.colour", {"r": r, "g": g, "b": b}, "choice", options.index(name), choices=choices,
              explain={"r": r, "g": g, "b": b, "why": Label(f"exercises.colour_why.{name}")},
              section="numbers.channel_all")


# --- convolution ------------------------------------------------------------------------
def _valid_conv_settings(rng, sizes, kernels_, strides, paddings, dilations):
    while True:
        n, k = int(_pick(rng, sizes)), int(_pick(rng, kernels_))
        s, p, d = int(_pick(rng, strides)), int(_pick(rng, paddings)), int(_pick(rng, dilations))
        try:
            return n, k, s, p, d, output_size(n, k, s, p, d)
        except ConvError:
            continue


@_kind("conv.output_size", "convolution")
def _conv_output_size(rng):
    n, k, s, p, d, out = _valid_conv_settings(rng, list(range(5, 65)), [1, 3, 3, 5, 5, 7],
                                              [1, 1, 2, 3], [0, 0, 1, 2, 3], [1, 1, 1, 2])
    return _q("conv.output_size", {"n": n, "k": k, "s": s, "p": p, "d": d}, "number", out,
              explain={"n": n, "k": k, "s": s, "p": p, "d": d, "inside": n + 2 * p - d * (k - 1) - 1},
              section="conv.sizes_header")


@_kind("conv.sum_at", "convolution")
def _conv_sum_at(rng):
    window = rng.integers(0, 10, (3, 3)).astype(np.float64)
    kernel = rng.integers(-2, 3, (3, 3)).astype(np.float64)
    if not kernel.any():
        kernel[1, 1] = 1
    step = convolve2d(window, kernel, engine="numpy").step(0, 0)
    terms = Terms([(float(a), float(b)) for a, b in zip(step.field[0].ravel(), kernel.ravel()) if b != 0])
    return _q("conv.sum_at", {}, "number", step.total,
              explain={"terms": terms}, section="conv.step_header",
              figure={"window": window, "kernel": kernel})


WHICH_KERNELS = ("sobel_x", "sobel_y", "laplacian", "box_blur")


@lru_cache(maxsize=8)
def _grey_sample(key: str) -> np.ndarray:
    from .images import fit, load_sample, to_array
    return to_array(fit(load_sample(key), 96), "gray").astype(np.float64)


def _sample_crop(rng, size: int = 40, keys=("mouse", "shapes", "letters", "checkerboard", "digit", "landscape")):
    """A crop of a bundled sample with edges in both directions (so every kernel shows something)."""
    from .kernels import make
    for _ in range(50):
        key = _pick(rng, list(keys))
        img = _grey_sample(key)
        h, w = img.shape
        if h < size or w < size:
            continue
        top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        crop = img[top:top + size, left:left + size]
        gx = convolve2d(crop, make("sobel_x"), engine="numpy").output
        gy = convolve2d(crop, make("sobel_y"), engine="numpy").output
        if np.abs(gx).mean() > 8 and np.abs(gy).mean() > 8:
            return key, crop
    return key, crop


@_kind("conv.which_kernel", "convolution")
def _conv_which_kernel(rng):
    from .kernels import make
    _, crop = _sample_crop(rng)
    names = list(WHICH_KERNELS)
    rng.shuffle(names)
    answer = int(rng.integers(len(names)))
    # no padding: zero borders would draw an edge around every map and blur the clue
    amap = convolve2d(crop, make(names[answer]), engine="numpy").output.astype(np.float64)
    choices = [Choice(Label(f"kernel.presets.{n}"), make(n)) for n in names]
    return _q("conv.which_kernel", {}, "choice", answer, choices=choices,
              explain={"why": Label(f"exercises.kernel_why.{names[answer]}")}, section="conv.kernel_header",
              figure={"image": crop, "map": amap, "kernel_names": names})


@_kind("conv.products", "convolution")
def _conv_products(rng):
    if rng.random() < 0.2:
        n, c, k = 32, 3, 5                 # the course: 784 positions of 75 multiplications
    else:
        n, c, k = int(_pick(rng, [8, 10, 12, 16, 20, 28, 32])), int(_pick(rng, [1, 3])), int(_pick(rng, [3, 5]))
    result = convolve2d(np.zeros((c, n, n)), np.zeros((c, k, k)), engine="numpy")
    total = result.positions * result.products_per_step
    out = result.shape[0]
    return _q("conv.products", {"n": n, "c": c, "k": k}, "number", total,
              explain={"n": n, "k": k, "c": c, "out": out, "positions": result.positions,
                       "per": result.products_per_step},
              section="conv.sizes_header")


# --- convolution 1D -----------------------------------------------------------------------
@_kind("conv1d.output_length", "conv1d")
def _conv1d_output_length(rng):
    n, k, s, p, d, out = _valid_conv_settings(rng, list(range(10, 201)), [3, 5, 7, 9], [1, 1, 2, 4],
                                              [0, 0, 1, 2, 3], [1, 1, 2])
    return _q("conv1d.output_length", {"n": n, "k": k, "s": s, "p": p, "d": d}, "number", out,
              explain={"n": n, "k": k, "s": s, "p": p, "d": d, "inside": n + 2 * p - d * (k - 1) - 1},
              section="conv1d.sizes_header")


@_kind("conv1d.value_at", "conv1d")
def _conv1d_value_at(rng):
    from .signals import PRESETS, convolve
    signal = rng.integers(-3, 8, 8).astype(np.float64)
    name = _pick(rng, ["difference", "second_derivative", "peak", "random"])
    kernel = rng.integers(-2, 3, 3).astype(np.float64) if name == "random" else PRESETS[name].copy()
    if not kernel.any():
        kernel[1] = 1.0
    result = convolve(signal, kernel)
    i = int(rng.integers(len(result.output)))
    window = result.windows[i]
    terms = Terms([(float(a), float(b)) for a, b in zip(window, kernel) if b != 0])
    return _q("conv1d.value_at", {"i": i, "signal": signal, "kernel": kernel}, "number", float(result.output[i]),
              explain={"i": i, "window": window, "terms": terms}, section="conv1d.step_header",
              figure={"signal": signal, "kernel": kernel, "position": i})


WHICH_KERNELS_1D = ("identity", "moving_average", "difference", "second_derivative")


@_kind("conv1d.which_kernel", "conv1d")
def _conv1d_which_kernel(rng):
    from .signals import PRESETS, convolve, make
    kind = _pick(rng, ["square", "sawtooth"])
    # a little noise: the moving average visibly calms it, the identity keeps it
    signal = make(kind, n=int(_pick(rng, [60, 80, 100])), freq=float(_pick(rng, [2.0, 3.0, 4.0])),
                  noise=0.06, seed=int(rng.integers(1_000_000)))
    names = list(WHICH_KERNELS_1D)
    rng.shuffle(names)
    answer = int(rng.integers(len(names)))
    out = convolve(signal, PRESETS[names[answer]]).output
    choices = [Choice(Label(f"signals.kernel.{n}"), PRESETS[n].copy()) for n in names]
    return _q("conv1d.which_kernel", {}, "choice", answer, choices=choices,
              explain={"why": Label(f"exercises.kernel1d_why.{names[answer]}")}, section="conv1d.kernel_header",
              figure={"signal": signal, "output": out, "kernel_names": names})


# --- why convolution: weights -----------------------------------------------------------
COURSE_SIDE = 256                 # the course: a 256 x 256 grey image, a hidden layer as wide


@_kind("why.mlp_weights", "why-convolution")
def _why_mlp_weights(rng, course: bool | None = None):
    course = bool(rng.random() < 0.25) if course is None else course
    if course:
        n, c, hidden = COURSE_SIDE, 1, COURSE_SIDE * COURSE_SIDE     # -> 4,294,967,296
    else:
        n, c = int(_pick(rng, [16, 28, 32, 64, 100, 128, 224])), int(_pick(rng, [1, 3]))
        hidden = int(_pick(rng, [10, 64, 100, 128, 256, 500, 1000]))
    weights = cparams.mlp_weights((n, n, c), [hidden])
    picture = Label("exercises.grey_picture" if c == 1 else "exercises.colour_picture")
    return _q("why.mlp_weights", {"n": n, "picture": picture, "hidden": hidden}, "number", weights,
              explain={"n": n, "c": c, "inputs": cparams.inputs((n, n, c)), "hidden": hidden},
              section="why.mlp_header")


@_kind("why.conv_weights", "why-convolution")
def _why_conv_weights(rng):
    k, cin = int(_pick(rng, [1, 3, 3, 5, 7])), int(_pick(rng, [1, 3, 16, 32, 64]))
    cout, side = int(_pick(rng, [8, 16, 32, 64, 128])), int(_pick(rng, [28, 64, 224, 1024]))
    weights = cparams.conv_weights(cin, cout, k)
    return _q("why.conv_weights", {"k": k, "cin": cin, "cout": cout, "side": side}, "number", weights,
              explain={"k": k, "cin": cin, "cout": cout, "side": side}, section="why.cnn_header")


@_kind("why.memory", "why-convolution")
def _why_memory(rng):
    dtype = _pick(rng, ["float32", "float16"])
    if rng.random() < 0.3:
        weights = cparams.mlp_weights((COURSE_SIDE, COURSE_SIDE), [COURSE_SIDE * COURSE_SIDE])
    else:
        weights = int(_pick(rng, [3, 5, 12, 25, 60, 125, 250, 600])) * 10 ** int(_pick(rng, [5, 6, 7, 8]))
    size = cparams.memory_bytes(weights, dtype)
    value, unit = cparams.human_bytes(size)
    return _q("why.memory", {"weights": weights, "dtype": dtype, "unit": unit}, "number", value, tolerance=0.05,
              explain={"weights": weights, "dtype": dtype, "bytes": cparams.BYTES[dtype], "total": size,
                       "unit": unit},
              section="why.fits_header")


@_kind("why.which_more", "why-convolution")
def _why_which_more(rng):
    while True:
        n, c = int(_pick(rng, [28, 32, 64, 128, 224])), int(_pick(rng, [1, 3]))
        hidden = int(_pick(rng, [64, 128, 512, 1024]))
        convs = [int(v) for v in _pick(rng, [[8, 16], [16, 32, 64], [64, 128, 256, 512], [32, 64]])]
        k = int(_pick(rng, [3, 5]))
        mlp = cparams.mlp_weights((n, n, c), [hidden], outputs=10)
        cnn = sum(r.weights for r in cparams.cnn_weights((n, n, c), [(f, k) for f in convs], outputs=10))
        cmp = cparams.compare(mlp, cnn)
        if cmp.more != "equal":
            break
    choices = [Choice(Label("why.mlp_header")), Choice(Label("why.cnn_header"))]
    return _q("why.which_more", {"n": n, "picture": Label("exercises.grey_picture" if c == 1 else "exercises.colour_picture"),
                                 "hidden": hidden, "convs": convs, "k": k},
              "choice", 0 if cmp.more == "mlp" else 1, choices=choices,
              explain={"mlp": mlp, "cnn": cnn, "factor": fmt(round(cmp.factor, cmp.digits)),
                       "more": Label("why.mlp_header" if cmp.more == "mlp" else "why.cnn_header")},
              section="why.ratio_label")


# --- ReLU, pooling, softmax ---------------------------------------------------------------
@_kind("layers.relu", "layers")
def _layers_relu(rng):
    from .layers import relu
    x = rng.integers(-6, 7, 6).astype(np.float64)
    if (x >= 0).all():
        x[int(rng.integers(6))] = -float(rng.integers(1, 6))
    out = relu(x)
    return _q("layers.relu", {"x": x}, "vector", out, explain={"negatives": x[x < 0]},
              section="layers.tab_relu", figure={"x": x})


def _pool_question(kind: str, rng, mode: str):
    from .layers import pool2d
    x = rng.integers(0, 10, (4, 4)).astype(np.float64)
    out = pool2d(x, 2, 2, mode).output
    return _q(kind, {}, "matrix", out, tolerance=0.0 if mode == "max" else 0.01,
              explain={}, section="layers.tab_pool", figure={"matrix": x, "window": 2, "stride": 2})


@_kind("layers.maxpool", "layers")
def _layers_maxpool(rng):
    return _pool_question("layers.maxpool", rng, "max")


@_kind("layers.avgpool", "layers")
def _layers_avgpool(rng):
    return _pool_question("layers.avgpool", rng, "avg")


@_kind("layers.softmax", "layers")
def _layers_softmax(rng):
    from .layers import softmax
    z = np.round(rng.uniform(-1.0, 3.0, 3), 1)
    sm = softmax(z)
    exps = sm.exps * math.exp(float(z.max()))      # e^z, the numbers of the formula
    return _q("layers.softmax", {"z": z}, "vector", sm.probs, tolerance=0.01,
              explain={"z": z, "exps": np.round(exps, 2), "total": round(float(exps.sum()), 2)},
              section="layers.tab_softmax")


# --- inside a CNN -----------------------------------------------------------------------
@_kind("inside.shape", "inside-a-cnn")
def _inside_shape(rng):
    while True:
        h = int(_pick(rng, [28, 32, 64, 96]))
        cin = 1 if h == 28 else 3
        k, s, p = int(_pick(rng, [3, 5])), int(_pick(rng, [1, 1, 2])), int(_pick(rng, [0, 1, 2]))
        cout = int(_pick(rng, [8, 16, 32, 64]))
        pool = bool(rng.random() < 0.5)
        try:
            after = output_size(h, k, s, p)
            final = output_size(after, 2, 2) if pool else after
            break
        except ConvError:
            continue
    answer = np.array([final, final, cout], dtype=np.float64)
    return _q("inside.shape", {"h": h, "cin": cin, "cout": cout, "k": k, "s": s, "p": p,
                               "pool": Label("exercises.then_pool" if pool else "exercises.no_pool")},
              "vector", answer,
              explain={"h": h, "k": k, "s": s, "p": p, "after": after, "cout": cout,
                       "pooled": Label("exercises.pooled", {"after": after, "final": final}) if pool else ""},
              section="inside.arch_header")


DIGITS = tuple(str(i) for i in range(10))


@_kind("inside.predict_class", "inside-a-cnn")
def _inside_predict_class(rng, logits=None, classes=None):
    """With the network's ``logits`` and ``classes`` (the lesson's), the learner guesses from
    the picture before the softmax is shown; without them, from a made-up set of scores."""
    from .layers import softmax
    given = logits is not None
    classes = list(classes) if classes is not None else list(DIGITS)
    z = np.asarray(logits, dtype=np.float64).ravel() if given else np.round(rng.normal(0, 2, len(classes)), 1)
    if len(z) != len(classes):
        raise ValueError(f"{len(z)} logits for {len(classes)} classes")
    probs = softmax(z).probs
    best = int(probs.argmax())
    if len(classes) <= 10:
        options = list(range(len(classes)))
    else:
        top = [int(i) for i in np.argsort(-z, kind="stable")[:4]]
        options = list(rng.permutation(top))
    choices = [Choice(Label("exercises.class_name", {"name": str(classes[i])})) for i in options]
    kind_params = {} if given else {"scores": _scores_label(classes, z)}
    return Question("inside.predict_class", LESSON_OF["inside.predict_class"],
                    "exercises.inside.predict_class." + ("prompt_network" if given else "prompt"),
                    kind_params, "choice", choices, options.index(best), 0.0,
                    "exercises.inside.predict_class.explain",
                    {"p": round(100 * float(probs[best]), 1), "z": round(float(z[best]), 2)},
                    "inside.out_header", {"logits": z, "classes": classes} if not given else None)


def _scores_label(classes, z) -> Label:
    return Label("exercises.scores", {"pairs": ScoreList(list(classes), [float(v) for v in z])})


@dataclass(frozen=True)
class Terms:
    """Products written out, "4×(−1) + 5×2", numbers in the learner's format."""
    pairs: list

    def text(self, lang: str) -> str:
        return " + ".join(f"{fmt(a, lang)}×{_paren(b, lang)}" for a, b in self.pairs)


def _paren(v: float, lang: str) -> str:
    return f"({fmt(v, lang)})" if v < 0 else fmt(v, lang)


@dataclass(frozen=True)
class Paren:
    """A number in parentheses when negative: "1.4 × (−1.4)"."""
    value: float

    def text(self, lang: str) -> str:
        return _paren(self.value, lang)


@dataclass(frozen=True)
class ScoreList:
    """class: score pairs, written "3: 2.5; 7: -0.4" (decimal commas in Portuguese)."""
    names: list
    values: list

    def text(self, lang: str) -> str:
        return "; ".join(f"{n}: {fmt(v, lang)}" for n, v in zip(self.names, self.values))


@_kind("inside.top_image", "inside-a-cnn")
def _inside_top_image(rng, images=None, activations=None, channel=None, layer=None):
    """Which of these images makes a channel fire most? With the lesson's ``images`` and the
    channel's ``activations`` on them (e.g. each map's maximum); without them, four crops of
    the bundled samples and a channel that is a known filter (its strongest ReLU answer)."""
    from .kernels import make
    from .layers import relu
    if activations is None:
        name = _pick(rng, ["sobel_x", "sobel_y", "curve_detector"])
        kernel = make(name)
        for _ in range(20):      # one picture must fire most: saturated crops often tie for first
            crops = [_sample_crop(rng, 32)[1] for _ in range(4)]
            activations = [float(relu(convolve2d(c, kernel, engine="numpy").output).max()) for c in crops]
            if activations.count(max(activations)) == 1:
                break
        else:                    # still tied: keep the first of them, blank the others (a blank never fires)
            top = max(activations)
            for i in [i for i, a in enumerate(activations) if a == top][1:]:
                crops[i] = np.zeros_like(crops[i])
                activations[i] = 0.0
        images, channel_label = crops, Label(f"kernel.presets.{name}")
        fig = {"images": crops, "kernel": kernel}
    else:
        channel_label = Label("exercises.channel_of", {"c": str(channel), "layer": str(layer)})
        fig = {"images": list(images) if images is not None else None}
    acts = np.asarray(activations, dtype=np.float64)
    best = int(acts.argmax())
    return _q("inside.top_image", {"channel": channel_label}, "choice", best, choices=_letters(len(acts)),
              explain={"value": round(float(acts[best]), 2), "letter": chr(ord("A") + best),
                       "values": np.round(acts, 1)},
              section="inside.hier_header", figure={**fig, "activations": acts})


# --- receptive field -------------------------------------------------------------------
_RF_LAYERS = {                      # name: (kernel, stride, padding, dilation)
    "conv3": (3, 1, 1, 1), "conv5": (5, 1, 2, 1), "conv3s2": (3, 2, 1, 1),
    "pool2": (2, 2, 0, 1), "conv3d2": (3, 1, 2, 2),
}


def _rf_stack(rng, n_min=2, n_max=4) -> list[str]:
    return [str(_pick(rng, list(_RF_LAYERS))) for _ in range(int(rng.integers(n_min, n_max + 1)))]


def _rf_fields(names: list[str]):
    from .receptive import stack
    return stack([(n, *_RF_LAYERS[n]) for n in names])


def _stack_label(names: list[str]) -> Label:
    return Label("exercises.stack", {"layers": StackList(names)})


@dataclass(frozen=True)
class StackList:
    names: list

    def text(self, lang: str) -> str:
        return " → ".join(t(f"exercises.rf_layer.{n}", lang) for n in self.names)


def _trail(rows, attr: str) -> str:
    return " → ".join(["1"] + [str(getattr(f, attr)) for _, f in rows])


@_kind("rf.size", "receptive-field")
def _rf_size(rng):
    names = _rf_stack(rng)
    rows = _rf_fields(names)
    return _q("rf.size", {"stack": _stack_label(names)}, "number", rows[-1][1].size,
              explain={"trail": _trail(rows, "size")}, section="rf.stack_header")


@_kind("rf.jump", "receptive-field")
def _rf_jump(rng):
    names = _rf_stack(rng)
    rows = _rf_fields(names)
    return _q("rf.jump", {"stack": _stack_label(names)}, "number", rows[-1][1].jump,
              explain={"trail": _trail(rows, "jump")}, section="rf.stack_header")


@_kind("rf.compare", "receptive-field")
def _rf_compare(rng):
    while True:
        a, b = _rf_stack(rng, 1, 3), _rf_stack(rng, 1, 4)
        sa, sb = _rf_fields(a)[-1][1].size, _rf_fields(b)[-1][1].size
        if sa != sb:
            break
    choices = [Choice(Label("exercises.stack_a")), Choice(Label("exercises.stack_b"))]
    return _q("rf.compare", {"a": _stack_label(a), "b": _stack_label(b)}, "choice", 0 if sa > sb else 1,
              choices=choices, explain={"sa": sa, "sb": sb}, section="rf.stack_header")


# --- train -----------------------------------------------------------------------------
def _curves(rng, epochs: int, overfit: bool, peak: int | None = None):
    """Training and validation accuracy (%) per epoch; an overfitting run: training keeps
    rising towards 100 % while validation falls after epoch ``peak``."""
    e = np.arange(1, epochs + 1)
    top = rng.uniform(80, 92)
    train = 100 - (100 - rng.uniform(30, 50)) * np.exp(-e / rng.uniform(2.5, 4.0))
    val = top - (top - rng.uniform(25, 45)) * np.exp(-e / rng.uniform(2.0, 3.5))
    if overfit:
        peak = peak or int(rng.integers(4, epochs // 2 + 1))
        val = np.where(e > peak, val[peak - 1] - rng.uniform(1.2, 2.5) * (e - peak), val)
        train = np.minimum(100.0, train + np.where(e > peak, 1.5 * (e - peak), 0))
    else:
        train = np.minimum(train, val + rng.uniform(3, 8))
    noise = rng.normal(0, 0.4, (2, epochs))
    return np.round(np.clip(train + noise[0], 0, 100), 1), np.round(np.clip(val + noise[1], 0, 100), 1)


@_kind("train.overfit", "train")
def _train_overfit(rng):
    epochs = int(rng.integers(12, 21))
    bad = int(rng.integers(2))
    runs = [_curves(rng, epochs, overfit=(i == bad)) for i in range(2)]
    tr, va = runs[bad]
    peak = int(np.argmax(va)) + 1
    return _q("train.overfit", {}, "choice", bad, choices=[Choice(Label("exercises.run", {"letter": "A"})),
                                                            Choice(Label("exercises.run", {"letter": "B"}))],
              explain={"run": chr(ord("A") + bad), "epoch": peak, "train": float(tr[-1]),
                       "peak": float(va[peak - 1]), "last": float(va[-1])},
              section="train.run_header",
              figure={"runs": [{"train": r[0], "val": r[1]} for r in runs], "epochs": epochs})


@_kind("train.best_epoch", "train")
def _train_best_epoch(rng):
    epochs = int(rng.integers(10, 21))
    train, val = _curves(rng, epochs, overfit=True)
    # cnnviz.train.fit keeps the first epoch with the best validation accuracy (a strict ">")
    best = int(np.argmax(val)) + 1
    return _q("train.best_epoch", {"epochs": epochs}, "number", best,
              explain={"best": float(val[best - 1]), "last": float(val[-1]), "epochs": epochs},
              section="train.run_header", figure={"train": train, "val": val})


@_kind("train.trainable", "train")
def _train_trainable(rng):
    side = int(_pick(rng, [28, 32, 64]))
    c = 1 if side == 28 else 3
    c1, c2, k = int(_pick(rng, [8, 16, 32])), int(_pick(rng, [16, 32, 64])), 3
    classes = int(_pick(rng, [2, 3, 5, 10]))
    rows = cparams.cnn_weights((side, side, c), [(c1, k), (c2, k)], outputs=classes)
    frozen = sum(r.weights for r in rows if r.name.startswith("conv"))
    trainable = sum(r.weights for r in rows if r.name.startswith("fc"))
    last = [r for r in rows if r.name.startswith("pool")][-1].shape
    return _q("train.trainable", {"side": side, "c": c, "c1": c1, "c2": c2, "classes": classes}, "number",
              trainable, explain={"frozen": frozen, "h": last[0], "w": last[1], "c2": last[2], "classes": classes},
              section="train.strategy_header")


# --- autoencoder -----------------------------------------------------------------------
@_kind("ae.ratio", "autoencoder")
def _ae_ratio(rng):
    side, c = _pick(rng, [(28, 1), (32, 3), (64, 3)])
    latent = int(_pick(rng, [2, 4, 8, 16, 32, 64]))
    n = cparams.inputs((side, side, c))
    ratio = n / latent
    return _q("ae.ratio", {"side": side, "c": c, "latent": latent}, "number", ratio, tolerance=0.05,
              explain={"n": n, "latent": latent}, section="ae.encode_header")


@_kind("ae.reparam", "autoencoder")
def _ae_reparam(rng):
    mu = round(float(rng.uniform(-2, 2)), 1)
    sigma = round(float(rng.uniform(0.1, 1.5)), 1)
    eps = round(float(rng.uniform(-2, 2)), 1)
    # The reparameterization of cnnviz.autoencoder.DigitVAE.forward: z = mean + exp(log_var / 2) * eps
    z = round(mu + sigma * eps, 2)
    return _q("ae.reparam", {"mu": mu, "sigma": sigma, "eps": eps}, "number", z, tolerance=0.01,
              explain={"mu": mu, "sigma": sigma, "eps": Paren(eps)}, section="ae.vae_header")


def _kl(mean: float, sigma: float) -> float:
    """The KL term of ``cnnviz.autoencoder.loss_terms`` for one latent number."""
    import torch

    from .autoencoder import loss_terms
    x = torch.full((1, 1), 0.5)
    _, kl = loss_terms(x, x, torch.tensor([[mean]]), torch.tensor([[2 * math.log(sigma)]]))
    return float(kl)


@_kind("ae.kl", "autoencoder")
def _ae_kl(rng):
    while True:
        pairs = [(0.0, 1.0)] + [(round(float(rng.uniform(-2.5, 2.5)), 1), round(float(rng.uniform(0.2, 2.5)), 1))
                                for _ in range(3)]
        kls = [_kl(m, s) for m, s in pairs]
        order = sorted(kls)
        if order[1] - order[0] > 0.1:
            break
    perm = [int(i) for i in rng.permutation(4)]
    pairs, kls = [pairs[i] for i in perm], [kls[i] for i in perm]
    best = int(np.argmin(kls))
    choices = [Choice(Label("exercises.mu_sigma", {"mu": m, "sigma": s})) for m, s in pairs]
    return _q("ae.kl", {}, "choice", best, choices=choices,
              explain={"kls": np.round(kls, 2)}, section="ae.vae_header")


# --- explain -----------------------------------------------------------------------------
def _blob_map(rng, size: int = 28) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size]
    hm = np.zeros((size, size))
    for _ in range(int(rng.integers(1, 3))):
        r, c = rng.uniform(4, size - 4, 2)
        width = rng.uniform(2.5, 5)
        hm += rng.uniform(0.5, 1.0) * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * width ** 2))
    return hm / hm.max()


@_kind("explain.pointing", "explain")
def _explain_pointing(rng, heatmap=None, target=None):
    """Which of four points would the pointing game count as a hit? ``heatmap``: the lesson's
    Grad-CAM (else, or when it is flat, a made-up map: draw ``figure["heatmap"]``, always the
    map asked about); ``target``: the class it explains (for the section title)."""
    hm = None if heatmap is None else np.asarray(heatmap, dtype=np.float64)
    if hm is None or hm.ndim != 2 or min(hm.shape) < 4 or not np.isfinite(hm).all() or np.ptp(hm) <= 0:
        hm = _blob_map(rng)        # no map, or a flat one (nothing to point at): a made-up map, drawn as such
    h, w = hm.shape
    radius = 0.0                   # the four points are judged exactly where they are
    top = float(np.quantile(hm, 1 - POINTING_TOP))

    def judged(p):                 # == pointing_score(hm, p, radius=0) for a pixel of the map, without
        value = float(hm[p[1], p[0]])    # its quantile each time (up to 800 calls: 0.2 s on a class change)
        return value >= top, round(100.0 * float((hm <= value).mean()), 1)
    for _ in range(200):
        pts = [(int(rng.integers(1, max(2, w - 1))), int(rng.integers(1, max(2, h - 1)))) for _ in range(4)]
        res = [judged(p) for p in pts]
        hits = [i for i, (hit, _) in enumerate(res) if hit]
        if len(hits) == 1 and all(res[i][1] < 60 for i in range(4) if i != hits[0]):
            break
    else:   # a map with one small bright place: put one point on its peak, three far below
        r, c = np.unravel_index(int(hm.argmax()), hm.shape)
        low = np.argwhere(hm < min(np.quantile(hm, 0.5), np.quantile(hm, 1 - POINTING_TOP)))
        if len(low) < 3:           # almost all of the map is its peak: nothing to tell apart
            return _explain_pointing(rng, None, target)
        picks = low[rng.choice(len(low), 3, replace=False)]
        pts = [(int(c), int(r))] + [(int(p[1]), int(p[0])) for p in picks]
        order = [int(i) for i in rng.permutation(4)]
        pts = [pts[i] for i in order]
        res = [pointing_score(hm, p, radius=radius) for p in pts]
        hits = [i for i, (hit, _) in enumerate(res) if hit][:1]
    best = hits[0]
    section = ("explain.gradcam_header", {"c": str(target)}) if target is not None else ("explain.compare_header", {})
    return _q("explain.pointing", {}, "choice", best, choices=_letters(4),
              explain={"letter": chr(ord("A") + best), "score": res[best][1],
                       "others": ScoreList([chr(ord("A") + i) for i in range(4) if i != best],
                                           [res[i][1] for i in range(4) if i != best])},
              section=section[0], section_params=section[1],
              figure={"heatmap": hm, "points": pts})


def _deletion_auc(fractions, probs) -> float:
    """The area under a deletion curve, as ``cnnviz.attribution.deletion_insertion`` computes it."""
    return float(np.trapezoid(np.asarray(probs, dtype=np.float64), np.asarray(fractions, dtype=np.float64)))


@_kind("explain.faithful", "explain")
def _explain_faithful(rng, fractions=None, curves=None, names=None):
    """Which map is more faithful: its deletion curve falls faster (lower area). ``curves``:
    two deletion curves (probabilities at ``fractions``) of the lesson's methods ``names``."""
    if curves is None:
        fractions = np.linspace(0, 1, 25)
        p0 = rng.uniform(0.8, 0.99)
        rates = sorted([rng.uniform(6, 14), rng.uniform(1.0, 2.5)], reverse=rng.random() < 0.5)
        curves = [np.round(p0 * np.exp(-r * fractions) + 0.02 * rng.random(25), 3) for r in rates]
        names = None
    aucs = [_deletion_auc(fractions, c) for c in curves]
    best = int(np.argmin(aucs))
    labels = ([Choice(Label("exercises.map", {"letter": chr(ord("A") + i)})) for i in range(len(curves))]
              if names is None else [Choice(Label("exercises.class_name", {"name": str(n)})) for n in names])
    return _q("explain.faithful", {}, "choice", best, choices=labels,
              explain={"aucs": np.round(aucs, 2)}, section="explain.compare_header",
              figure={"fractions": np.asarray(fractions), "curves": [np.asarray(c) for c in curves]})


@_kind("explain.sanity", "explain")
def _explain_sanity(rng, correlations=None, names=None):
    """Which method passes the sanity check (Adebayo et al., 2018): its map's rank correlation
    with the original falls as layers are randomized. ``correlations``: one list per method."""
    if correlations is None:
        steps = int(rng.integers(3, 6))
        fall = np.concatenate([[1.0], np.round(np.sort(rng.uniform(0.0, 0.6, steps - 1))[::-1] * np.linspace(1, 0.3, steps - 1), 2)])
        stay = np.concatenate([[1.0], np.round(np.sort(rng.uniform(0.7, 0.97, steps - 1))[::-1], 2)])
        good = int(rng.integers(2))
        correlations = [fall, stay] if good == 0 else [stay, fall]
    corr = [np.asarray(c, dtype=np.float64) for c in correlations]
    best = int(np.argmin([c[-1] for c in corr]))
    labels = ([Choice(Label("exercises.method", {"letter": chr(ord("A") + i)})) for i in range(len(corr))]
              if names is None else [Choice(Label("exercises.class_name", {"name": str(n)})) for n in names])
    return _q("explain.sanity", {}, "choice", best, choices=labels,
              explain={"last": [round(float(c[-1]), 2) for c in corr]}, section="explain.sanity_header",
              figure={"correlations": corr})


# ---------------------------------------------------------------- the registry
KINDS: dict[str, list[str]] = {}
for _name, _lesson in LESSON_OF.items():
    KINDS.setdefault(_lesson, []).append(_name)

# Kinds that are about the learner's own network: the lesson should pass these in.
CONTEXT: dict[str, tuple[str, ...]] = {
    "inside.predict_class": ("logits", "classes"),
    "inside.top_image": ("images", "activations", "channel", "layer"),
    "explain.pointing": ("heatmap", "target"),
    "explain.faithful": ("fractions", "curves", "names"),
    "explain.sanity": ("correlations", "names"),
}
