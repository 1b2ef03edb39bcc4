"""Write the golden file: what the course shows today, to prove that a change of structure changes none of it.

    python tools/make_golden.py            # (re)write tests/golden/*.json
    python tools/make_golden.py --check    # compare with them, print the entries that differ

``tests/test_golden.py`` rebuilds the same entries in memory (``build``) and compares them with the
files, naming every entry that differs. Rewrite the files only when a change of behaviour is meant,
and say so in the commit.

Three files, one entry a line (a diff reads entry by entry):

- ``exercises.json``: every self-check kind (``cnnviz.exercises.KINDS``, all lessons) x seeds 0-99 x
  "en" and "pt_BR": the expected answer as written for the learner and ``check``'s verdict on it, a
  digest of the figure arrays drawn with the question and its options, and the rendered prompt,
  options and explanation: in full for the first seeds (``FULL_TEXT_SEEDS``), as one digest after (the file stays under 2 MB).
- ``numbers.json``: the course's numbers: ``conv.output_size`` over a grid of settings, the curve
  detector's 6600 on the article's field and on the mouse picture, the weight counts (256^4 =
  4,294,967,296 ...), the bytes they take, the bundled networks' layer counts, the receptive fields
  of VGG-16 (with and without a 224 px input) and of a learner's stack.
- ``figures.json``: digests of ``figures.matrix_html`` of fixed matrices in both languages, of
  ``legend_html``, ``pooling_html`` and ``steps_card``.

A digest is the first 16 hex digits of the sha256 of the value as canonical JSON, floats rounded to
6 decimals (arrays included), so a change below a millionth is not a change of behaviour.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLDEN = ROOT / "tests" / "golden"
LANGS = ("en", "pt_BR")
SEEDS = range(100)
FULL_TEXT_SEEDS = range(10)


# ---------------------------------------------------------------- canonical values and digests
def canonical(value):
    """``value`` as plain JSON data: arrays as {shape, values}, floats rounded to 6 decimals."""
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "values": canonical(value.tolist())}
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = round(float(value), 6)
        return 0.0 if v == 0 else v        # -0.0 and 0.0 alike
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {"type": type(value).__name__, **canonical(vars(value))}
    return repr(value)


def digest(value) -> str:
    text = json.dumps(canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- the self-check
def exercise_entries() -> dict:
    from cnnviz import exercises as ex

    out = {}
    for lesson, kinds in ex.KINDS.items():
        for kind in kinds:
            for seed in SEEDS:
                q = ex.generate(kind, seed)
                figures = {"figure": q.figure, "choices": [c.figure for c in q.choices]}
                for lang in LANGS:
                    expected = ex.expected_text(q, lang)
                    verdict = ex.check(q, q.answer if q.answer_type == "choice" else expected, lang)
                    text = {"prompt": ex.render_prompt(q, lang),
                            "options": [ex.render_choice(q, i, lang) for i in range(len(q.choices))],
                            "explanation": verdict.explanation}
                    entry = {"lesson": lesson, "expected": expected,
                             "verdict": [verdict.correct, verdict.expected_text == expected, verdict.problem],
                             "figure": digest(figures)}
                    if seed in FULL_TEXT_SEEDS:
                        entry.update(text)
                    else:
                        entry["text#"] = digest(text)
                    out[f"{kind}/{seed}/{lang}"] = entry
    return out


# ---------------------------------------------------------------- the course's numbers
def number_entries() -> dict:
    from cnnviz.maths import conv, images, kernels, params

    out = {}
    sizes = {}
    for n in (1, 2, 3, 5, 7, 8, 28, 32, 64, 224, 227, 256):
        for k in (1, 2, 3, 5, 7, 11):
            for s in (1, 2, 3, 4):
                for p in (0, 1, 2, 3):
                    for d in (1, 2, 3):
                        try:
                            sizes[f"{n},{k},{s},{p},{d}"] = conv.output_size(n, k, s, p, d)
                        except Exception as err:  # noqa: BLE001 - the error is part of the behaviour
                            sizes[f"{n},{k},{s},{p},{d}"] = type(err).__name__
    out["conv.output_size"] = sizes

    curve = kernels.PRESETS["curve_detector"]
    article = conv.convolve2d(kernels.COURSE_RECEPTIVE_FIELD, curve)
    step = article.step(0, 0)
    out["conv.article_field"] = {"output": canonical(article.output), "products": digest(step.products),
                                 "positions": article.positions, "per_step": article.products_per_step}
    out["conv.no_curve_field"] = canonical(conv.convolve2d(kernels.COURSE_NO_CURVE_FIELD, curve).output)
    gray = images.to_array(images.load_sample("mouse"), "gray")
    top, left = images.SAMPLE_FOCUS
    mouse = conv.convolve2d(gray, curve)
    out["conv.mouse"] = {"at_focus": float(mouse.output[top, left]), "shape": list(mouse.shape),
                         "map": digest(mouse.output)}
    big = conv.convolve2d(np.zeros((3, 32, 32)), np.ones((3, 5, 5)))
    out["conv.article_32x32x3"] = [list(big.shape), big.positions, big.products_per_step]
    out["kernels.presets"] = {name: digest(kernels.PRESETS[name]) for name in kernels.PRESET_NAMES}
    out["kernels.sized"] = {f"{name}/{size}": digest(kernels.make(name, size))
                            for name in kernels.PRESET_NAMES if kernels.resizable(name) for size in kernels.SIZES}

    mlp = params.mlp_weights((256, 256), [256 * 256])
    out["params.course_mlp"] = mlp
    out["params.memory"] = {dtype: params.memory_bytes(mlp, dtype) for dtype in ("float32", "float16")}
    out["params.human_bytes"] = canonical(params.human_bytes(params.memory_bytes(mlp, "float32")))
    out["params.inputs"] = params.inputs((256, 256, 3))
    out["params.small"] = [params.mlp_weights(3, [4]), params.mlp_weights(3, [4], bias=True),
                           params.conv_weights(3, 16, 3), params.conv_weights(3, 16, (5, 3), bias=True)]
    out["params.cnn"] = {
        f"{shape}/{convs}": canonical(params.cnn_weights(shape, [(c, 3) for c in convs]))
        for shape in ((28, 28, 1), (32, 32, 3), (256, 256, 1)) for convs in ((16, 32), (16, 32, 64))}
    out["params.compare"] = canonical([params.compare(1000, 1004), params.compare(mlp, 1000)])
    from cnnviz import models

    out["params.layer_counts"] = {name: canonical(models.layer_counts(name)) for name in models.BUNDLED}
    out["receptive"] = _receptive()
    return out


def _receptive() -> dict:
    from cnnviz.analysis import inspect as insp
    from cnnviz.analysis import receptive
    from cnnviz.base.memory import torchvision

    vgg = torchvision().models.vgg16(weights=None)
    names = insp.layer_names(vgg)
    pretty = insp.display_names(vgg, names)

    def show(fields):
        return {pretty[n]: [f.size, canonical(f.jump), canonical(f.start), bool(f.whole)]
                for n, f in fields.items()}
    stack = receptive.stack([("a", 3, 1, 1, 1), ("b", 3, 2, 1, 1), ("c", 5, 1, 2, 2), ("d", 2, 2, 0, 1)])
    return {"vgg16": show(receptive.fields(vgg, names)), "vgg16@224": show(receptive.fields(vgg, names, 224)),
            "stack": [[name, f.size, canonical(f.jump), canonical(f.start)] for name, f in stack]}


# ---------------------------------------------------------------- figures
def figure_entries() -> dict:
    from cnnviz import i18n
    from cnnviz.maths import kernels, layers
    from cnnviz.figures import markup

    fixed = {
        "curve": kernels.PRESETS["curve_detector"],
        "field": kernels.COURSE_RECEPTIVE_FIELD,
        "signed": np.array([[-1.5, 0.25, 2.0], [1234.5, -0.004, 0.0], [3.14159, -2.71828, 1e-3]]),
        "ramp": np.arange(16, dtype=float).reshape(4, 4) / 3,
    }
    out = {}
    for lang in LANGS:
        with i18n.language(lang):
            for name, m in fixed.items():
                for scale in ("signed", "gray", "sequential", "auto"):
                    out[f"matrix_html/{name}/{scale}/{lang}"] = digest(markup.matrix_html(m, scale=scale))
                out[f"matrix_html/{name}/digits0/{lang}"] = digest(
                    markup.matrix_html(m, digits=0, title="T", row0=3, col0=4, cell=48))
                out[f"legend_html/{name}/{lang}"] = digest(markup.legend_html(m, label="L"))
                for gray in (True, "R", "heat"):
                    out[f"legend_html/{name}/{gray}/{lang}"] = digest(markup.legend_html(m, gray=gray, caption="C"))
            ramp = fixed["ramp"]
            for mode in ("max", "avg"):
                pooled = layers.pool2d(ramp, 2, 2, mode)
                html = markup.pooling_html(ramp, pooled, titles=("a", "b"))
                out[f"pooling_html/{mode}/{lang}"] = digest(html)     # its window id is stable (sha1)
            out[f"steps_card/{lang}"] = digest(markup.steps_card([("x", "1"), ("y", "2")], title="t"))
    return out


BUILDERS = {"exercises": exercise_entries, "numbers": number_entries, "figures": figure_entries}


def build() -> dict[str, dict]:
    """Every golden file's entries, computed now."""
    return {name: make() for name, make in BUILDERS.items()}


def dumps(entries: dict) -> str:
    """One entry a line, compact: the file stays small and a diff reads entry by entry."""
    lines = [json.dumps(k, ensure_ascii=False) + ":" + json.dumps(v, ensure_ascii=False, separators=(",", ":"))
             for k, v in entries.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def differences(name: str, now: dict, limit: int = 20) -> list[str]:
    """The entries of golden file ``name`` that differ from ``now`` (at most ``limit``), readable."""
    saved = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    now = json.loads(dumps(now))          # as stored: tuples as lists
    out = []
    for key in [*saved, *(k for k in now if k not in saved)]:
        if saved.get(key, "<missing>") != now.get(key, "<missing>"):
            out.append(f"{name}.json {key}:\n    golden: {saved.get(key, '<missing>')}\n    now:    "
                       f"{now.get(key, '<missing>')}")
            if len(out) >= limit:
                out.append("...")
                break
    return out


def main(argv: list[str]) -> int:
    entries = build()
    if "--check" in argv:
        diffs = [d for name, e in entries.items() for d in differences(name, e)]
        print("\n".join(diffs) or "golden files match")
        return 1 if diffs else 0
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, e in entries.items():
        path = GOLDEN / f"{name}.json"
        path.write_text(dumps(e), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(e)} entries, {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
