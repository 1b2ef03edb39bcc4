"""The core of the self-check: the data model (``Question``, ``Verdict``), writing numbers and
rendering a question in the learner's language, ``check``, and the registry of kinds
(``generate``, ``KINDS``, ``CONTEXT``) that the generator modules fill."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import i18n
from ..course import url as course_url
from cnnviz.base.errors import CnnvizError
from ..i18n import t
from .parsing import ExerciseError, parse_matrix, parse_number, parse_vector


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
    lesson: str                   # the lesson's URL (course.url), e.g. "inside-a-cnn"
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


# ---------------------------------------------------------------- writing numbers, rendering, checking
def fmt(value, lang: str = i18n.DEFAULT, digits: int | None = None) -> str:
    """A number the learner's way (``i18n.number``): 4,294,967,296 / 4.294.967.296; 0.66 / 0,66.

    ``digits=None``: integers whole, other values with up to 3 decimals (no trailing zeros).
    """
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    return i18n.number(value, lang, digits)


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


# ---------------------------------------------------------------- the registry of kinds
# One table, filled by the generator modules (basics, layers_inside, training, explain) as they
# register their kinds with ``_kind``, in the order ``exercises/__init__.py`` imports them.
_GENERATORS: dict[str, Callable] = {}
LESSON_OF: dict[str, str] = {}           # kind -> the lesson's URL (course.url)
KINDS: dict[str, list[str]] = {}         # lesson -> its kinds


def _kind(name: str, lesson: str):
    """Registers a question kind of the lesson called ``lesson`` (its file's name); KINDS and
    Question.lesson hold its URL (``course.url``)."""
    url = course_url(lesson)

    def register(fn):
        _GENERATORS[name] = fn
        LESSON_OF[name] = url
        KINDS.setdefault(url, []).append(name)
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


# Kinds that are about the learner's own network: the lesson should pass these in.
CONTEXT: dict[str, tuple[str, ...]] = {
    "inside.predict_class": ("logits", "classes"),
    "inside.top_image": ("images", "activations", "channel", "layer"),
    "explain.pointing": ("heatmap", "target"),
    "explain.faithful": ("fractions", "curves", "names"),
    "explain.sanity": ("correlations", "names"),
}


def unique_best(values, digits: int, best=max) -> bool:
    """Is the best of ``values`` alone as displayed, written with ``digits`` decimals? A question that
    asks for a maximum (or a minimum: ``best=min``) must never show two winners ("6: 1.7; 7: 1.7")."""
    shown = [round(float(v), digits) for v in np.ravel(values)]
    return len(shown) > 0 and shown.count(best(shown)) == 1


def _pick(rng, values):
    return values[int(rng.integers(len(values)))]


def _letters(n: int) -> list[Choice]:
    return [Choice(Label("exercises.option", {"letter": chr(ord("A") + i)})) for i in range(n)]
