"""Self-check questions made from the lessons' own maths: predict, check, explain (issue 13).

Every question is *generated*: ``generate(kind, seed)`` draws fresh numbers, asks the
module that owns the maths for the answer (``cnnviz.maths.conv.output_size``,
``cnnviz.maths.params.mlp_weights``, ``cnnviz.maths.layers.pool2d``, ``cnnviz.analysis.receptive.stack``...),
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
- explain.pointing: ``heatmap`` and four ``points`` (x, y) labelled A–D (the right one on the map's
  brightest 3 %, the others dark and well away); explain.faithful: ``fractions``, two ``curves``;
  explain.sanity: ``correlations``

Every question can be answered from what it shows and says (``tests/test_exercise_solvers.py``
solves each kind from the rendered prompt, the drawn figure and the options alone): a prompt states
whatever its answer depends on (padding, biases, stride, dilation, pooling), and a question that asks
for the best of several never shows two of them equal as the learner reads them (``core.unique_best``:
made-up values are drawn again; a lesson's tied values give way to a made-up question).

The package: ``core`` (the data model, rendering, ``check`` and the registry of kinds),
``parsing`` (reading answers), ``reveal`` (``click_score``, ``pointing_score``), and the
generators by lesson, each registering its kinds with ``core._kind``: ``basics`` (image as
numbers, convolution, 1D convolution, why convolution), ``layers_inside`` (layers, inside a CNN,
receptive field), ``datasets``, ``training`` (train, autoencoder), ``explain``. A new kind: one generator in
its lesson's module, its strings in both catalogs.
"""

from .core import (CONTEXT, KINDS, LESSON_OF, Choice, Label, Paren, Question, ScoreList, Terms, Verdict, check,
                   expected_text, fmt, generate, render_choice, render_explanation, render_prompt)
from .parsing import MAX_TEXT, ExerciseError, parse_matrix, parse_number, parse_vector
from .reveal import (POINTING_TOLERANCE, POINTING_TOP, ClickScore, click_score, explain_click, explain_pointing,
                     pointing_score)

# The generators, in the order of the lessons (the order of ``KINDS``): importing one registers its kinds.

from . import basics, layers_inside, datasets, descent, backprop, training, explain, shortcut, fool  # noqa: F401, I001  (this order, not sorted)
from .basics import COLOURS, COURSE_SIDE, WHICH_KERNELS, WHICH_KERNELS_1D
from .layers_inside import DIGITS, StackList

__all__ = [
    "COLOURS", "CONTEXT", "COURSE_SIDE", "DIGITS", "KINDS", "LESSON_OF", "MAX_TEXT", "POINTING_TOLERANCE",
    "POINTING_TOP", "WHICH_KERNELS", "WHICH_KERNELS_1D", "Choice", "ClickScore", "ExerciseError", "Label",
    "Paren", "Question", "ScoreList", "StackList", "Terms", "Verdict", "check", "click_score", "expected_text",
    "explain_click", "explain_pointing", "fmt", "generate", "parse_matrix", "parse_number", "parse_vector",
    "pointing_score", "render_choice", "render_explanation", "render_prompt",
]
