"""One normalization of a network's input (issue 18): ``(x - mean) / std`` per channel is written
once, in ``cnnviz.data.datasets.normalize``; the dataset's statistics are stated once, in
``datasets.DATASETS``. Training data, a learner's picture, the Train lesson's runs, the top images
and the confidence reference all call it, and give what torchvision's ``Normalize`` gives."""

import ast
import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cnnviz.data import datasets  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "cnnviz").rglob("*.py"), *(ROOT / "lessons").rglob("*.py"), ROOT / "app.py",
                  *(ROOT / "benchmarks").rglob("*.py"), *(ROOT / "tools").rglob("*.py")])
HOME = "cnnviz/data/datasets.py:normalize"
# (x - m) / s written elsewhere on purpose: not a network's input normalized with stated statistics
OTHERS = {
    "cnnviz/maths/layers.py:batch_norm": "batch normalization, the layer a lesson teaches (its batch's statistics)",
    "cnnviz/train/signal_cnn.py:prepare": "a 1D signal scaled by its own mean and spread",
    "cnnviz/train/descent.py:_problem": "two numbers measured on each picture (ink, width) standardized to z-scores",
    "benchmarks/full_mnist.py:bare_loop": "the bare PyTorch loop the lesson's code path is timed against, written apart on purpose",
    "cnnviz/analysis/featviz.py:_gram_similarity": "torch's F.normalize: unit length for a cosine similarity (lucid's diversity), no mean or std",
}
WORDS = ("mean", "std")


def _words(node, tainted) -> bool:
    """Whether ``node`` reads a mean or a std: a name or attribute saying so, or a local name
    assigned from one (``m = torch.tensor(mean).view(3, 1, 1)``)."""
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else None
        if name is not None and (name in tainted or any(w in name.lower() for w in WORDS)):
            return True
    return False


def normalizations(source: str) -> list[tuple[str, int, str]]:
    """Every normalization written in ``source``: (function, line, code) of each ``(x - mean) / std``,
    ``x.sub(mean).div(std)`` (in place too) and torchvision ``Normalize`` / ``functional.normalize``."""
    found = []

    def visit(node, where, tainted):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                name = getattr(child, "name", "<lambda>")
                visit(child, f"{where}.{name}" if where else name, set(tainted))
                continue
            if isinstance(child, ast.Assign) and _words(child.value, tainted):
                tainted |= {t.id for target in child.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
            hit = False
            if isinstance(child, ast.BinOp) and isinstance(child.op, ast.Div) and \
                    isinstance(child.left, ast.BinOp) and isinstance(child.left.op, ast.Sub):
                hit = _words(child.left.right, tainted) or _words(child.right, tainted)
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                attr, inner = child.func.attr, child.func.value
                hit = attr in ("div", "div_") and isinstance(inner, ast.Call) and \
                    isinstance(inner.func, ast.Attribute) and inner.func.attr in ("sub", "sub_") and \
                    (_words(inner, tainted) or _words(child, tainted))
                hit = hit or (attr == "normalize" and _words(child.func.value, {"functional", "F", "TF"}))
            if isinstance(child, (ast.Name, ast.Attribute)) and \
                    (child.id if isinstance(child, ast.Name) else child.attr) == "Normalize":
                hit = True
            if hit:
                found.append((where or "<module>", child.lineno, ast.unparse(child)[:80]))
            visit(child, where, tainted)

    visit(ast.parse(source), "", set())
    return found


def test_the_check_finds_the_normalizations_there_were():
    """The five forms the code had before it had one normalize, and torchvision's."""
    before = '''
def a(x, mean, std):
    return (x - mean) / std
def b(x, loaded):
    return (x - torch.tensor(loaded.mean).view(1, -1, 1, 1)) / torch.tensor(loaded.std).view(1, -1, 1, 1)
def c(x, mean, std):
    m = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    s_ = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    return ((x - m) / s_).unsqueeze(0)
def d(g, mean, std):
    return ((torch.from_numpy(g) - mean) / std).view(1, 1, *g.shape)
def e(x, info):
    return x.sub(info.mean).div_(info.std)
def f(x):
    return transforms.Normalize((0.1307,), (0.3081,))(x)
def g(x):
    return TF.normalize(x, [0.5], [0.5])
def h(hi, lo, g):
    return (g - lo) / (hi - lo), (span - 1) / 2
'''
    assert [where for where, _, _ in normalizations(before)] == list("abcdefg")


def test_normalization_is_written_only_in_datasets_normalize():
    found = []
    for path in SOURCES:
        rel = path.relative_to(ROOT).as_posix()
        for where, line, code in normalizations(path.read_text(encoding="utf-8")):
            if f"{rel}:{where}" not in (HOME, *OTHERS):
                found.append(f"{rel}:{line} ({where}): {code}")
    assert not found, "call cnnviz.data.datasets.normalize instead: " + "; ".join(found)
    homes = [f"{p.relative_to(ROOT).as_posix()}:{w}" for p in SOURCES
             for w, _, _ in normalizations(p.read_text(encoding="utf-8"))]
    assert homes.count(HOME) == 1                  # the home itself still normalizes, once


def _torchvision_normalize(x, name):
    from cnnviz.base.memory import torchvision

    info = datasets.DATASETS[name]
    return torchvision().transforms.Normalize(info.mean, info.std)(x)


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_normalize_is_torchvisions_normalize_with_the_datasets_statistics(name):
    info = datasets.DATASETS[name]
    x = torch.rand(5, info.in_channels, info.size, info.size, generator=torch.Generator().manual_seed(0))
    ours = datasets.normalize(x, info.mean, info.std)
    assert torch.equal(ours, _torchvision_normalize(x, name))
    assert torch.equal(datasets.normalize(x[0], info.mean, info.std), ours[0])      # one picture (C, H, W)
    assert torch.equal(x, torch.rand(5, info.in_channels, info.size, info.size,      # x itself unchanged
                                     generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("name", ["mnist", "fashion", "cifar10-subset"])
def test_every_path_to_a_network_gives_torchvisions_normalize(name):
    """The training tensors, the Train lesson's runs, a bundled network's test pictures (top images,
    confidence) and a learner's picture in the dataset's format, through the preprocessing."""
    from cnnviz import models
    from cnnviz.train import experiment

    x, _ = datasets.first_test_images(name, 20)
    expected = _torchvision_normalize(x, name)
    assert torch.equal(datasets.tensor_dataset(name, train=False, limit=20).tensors[0], expected)
    assert torch.equal(experiment.prepare(experiment.Experiment(name, 10), x), expected)
    bundled = next(n for n, spec in models.BUNDLED.items() if spec.dataset == name)
    loaded = models.load(bundled)
    pictures = datasets.first_test_pictures(name, 20)
    one_by_one = torch.cat([loaded.preprocess(img) for img in pictures])
    torch.testing.assert_close(one_by_one, expected, atol=1e-6, rtol=0)


def test_a_grey_pictures_preprocessing_normalizes_with_the_given_statistics():
    from PIL import Image

    from cnnviz.models import preprocess

    g = np.zeros((28, 28), np.uint8)
    g[6:22, 12:16] = 255                                  # a 1 in MNIST's format: passes through as is
    x, _ = preprocess.digits_preprocess(Image.fromarray(g).convert("RGB"), mean=0.5, std=0.25)
    expected = (torch.from_numpy(g.astype(np.float32) / 255) - 0.5) / 0.25
    assert x.shape == (1, 1, 28, 28) and torch.equal(x[0, 0], expected)
