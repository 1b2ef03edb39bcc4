import pytest

from cnnviz import i18n
from cnnviz.base.errors import CnnvizError


def test_both_catalogs_have_the_same_keys():
    en, pt = i18n.catalog("en"), i18n.catalog("pt_BR")
    assert set(en) == set(pt), set(en) ^ set(pt)
    assert len(en) > 100


def test_both_catalogs_have_the_same_placeholders():
    en, pt = i18n.catalog("en"), i18n.catalog("pt_BR")
    diffs = {k: (i18n.placeholders(en[k]), i18n.placeholders(pt[k])) for k in en
             if i18n.placeholders(en[k]) != i18n.placeholders(pt[k])}
    assert not diffs


def test_catalog_files_pair_up():
    en_files = {p.name for p in (i18n._HERE / "en").glob("*.toml")}
    pt_files = {p.name for p in (i18n._HERE / "pt_BR").glob("*.toml")}
    assert en_files == pt_files


def test_every_message_formats_with_its_placeholders():
    for lang in i18n.LANGUAGES:
        for key, msg in i18n.catalog(lang).items():
            kw = {name: 1 for name in i18n.placeholders(msg)}
            # t() shows the raw message when formatting fails (no crash in class): that is the bug
            assert i18n.t(key, lang, **kw) != msg or ("{" not in msg and "}" not in msg), (lang, key)


def test_no_untranslated_copies():
    """A Portuguese message identical to a long English one was probably forgotten."""
    en, pt = i18n.catalog("en"), i18n.catalog("pt_BR")
    proper_names = (".name.", ".classes.")  # model names are the same in both languages
    same = [k for k in en if len(en[k]) > 25 and en[k] == pt[k] and not any(p in k for p in proper_names)]
    assert not same, same


@pytest.mark.parametrize("locale,lang", [("pt-BR", "pt_BR"), ("pt_PT", "pt_BR"), ("pt", "pt_BR"),
                                         ("en-US", "en"), ("de-DE", "en"), (None, "en"), ("", "en")])
def test_detect_language(locale, lang):
    assert i18n.detect_language(locale) == lang


def test_missing_key_falls_back_without_crashing():
    assert i18n.t("no.such.key", "pt_BR") == "no.such.key"
    assert i18n.t("conv.title", "xx") == i18n.t("conv.title", "en")


def test_errors_translate():
    err = CnnvizError("kernels.error.empty_cell", row=2, col=3)
    assert "Row 2, column 3" in str(err)
    assert "Linha 2, coluna 3" in err.message("pt_BR")
    assert isinstance(err, ValueError)


def test_numbers_follow_the_language():
    assert i18n.number(12288, "en") == "12,288"
    assert i18n.number(12288, "pt_BR") == "12.288"
    assert i18n.number(4294967296, "pt_BR") == "4.294.967.296"
    assert i18n.number(0.5, "pt_BR", 1) == "0,5"


@pytest.mark.parametrize("value, digits, en, pt", [
    (6600, None, "6600", "6600"), (9000, 0, "9000", "9000"), (9999, None, "9999", "9999"),
    (10000, None, "10,000", "10.000"), (-12288, None, "-12,288", "-12.288"), (1377.8, 1, "1377.8", "1377,8"),
    (1234.5, 1, "1234.5", "1234,5"), (123456.789, None, "123,456.789", "123.456,789"), (0.5, 2, "0.50", "0,50"),
    (-0.0001, 2, "0.00", "0,00"), (-0.0001, None, "0", "0")])
def test_one_number_style(value, digits, en, pt):
    """Every number a learner reads is written by i18n.number: digits grouped from five digits
    on (6600 and 9000 as the course writes them, 12,288), the language's decimal mark, no -0."""
    from cnnviz.exercises import fmt as exercise_fmt
    from cnnviz.figures import fmt as figure_fmt

    assert (i18n.number(value, "en", digits), i18n.number(value, "pt_BR", digits)) == (en, pt)
    if digits is None:
        assert (exercise_fmt(value, "en"), exercise_fmt(value, "pt_BR")) == (en, pt)
    # a catalog's "{n:,}" follows the same rule
    if float(value).is_integer():
        assert i18n.t("course.progress", "pt_BR", opened=1, total=10, right=int(value)).endswith(pt)
        assert i18n.t("course.progress", "en", opened=1, total=10, right=int(value)).endswith(en)
    assert figure_fmt(value, 3, "pt_BR") == i18n.number(value, "pt_BR", 3, trim=True)


def test_numbers_in_messages_follow_the_language():
    from cnnviz.i18n import number, t

    assert "25,3 MB" in t("images.error.too_big_file", "pt_BR", mb=25.3, max_mb=20.0)
    assert "25.3 MB" in t("images.error.too_big_file", "en", mb=25.3, max_mb=20.0)
    assert "12.000 milhões" in t("images.error.bomb", "pt_BR", mp=12000.4, max_mp=40.0)
    assert "12,000 million" in t("images.error.bomb", "en", mp=12000.4, max_mp=40.0)
    assert number(12345.5, "pt_BR", 1) == "12.345,5" and number(12345.5, "en", 1) == "12,345.5"
    # already formatted text and plain integers pass through untouched
    assert t("train.split", "pt_BR", train="1.234", val=5, test="2.000", classes=10).startswith("**1.234**")


# ---------------------------------------------------------------- numbers in the learner's format
def test_library_numbers_follow_the_current_language():
    from cnnviz.figures import fmt

    assert i18n.current() == "en"   # no learner: English
    assert fmt(1377.8, 1) == "1377.8" and fmt(0.11) == "0.11" and fmt(6600) == "6600"
    with i18n.language("pt_BR"):
        assert i18n.current() == "pt_BR"
        assert fmt(1377.8, 1) == "1377,8"
        assert fmt(-0.25) == "-0,25"
        assert fmt(6600) == "6600" and fmt(-2) == "-2"
        assert fmt(123456.7) == "123.456,7"
        assert i18n.number(0, i18n.current(), 2) == "0,00"
        assert i18n.number(1, i18n.current(), 4) == "1,0000"
        assert i18n.number(4294967296, i18n.current()) == "4.294.967.296"
        assert i18n.localize("-1,234.5") == "-1.234,5"
    assert i18n.current() == "en" and fmt(1377.8, 1) == "1377.8"
    assert fmt(0.5, 2, "pt_BR") == "0,5"   # an explicit language wins


def test_formula_numbers_write_the_comma_as_katex_wants():
    from cnnviz.figures import fmt_tex

    assert fmt_tex(1.0, 4, lang="en") == "1.0000"
    assert fmt_tex(1.0, 4, lang="pt_BR") == "1{,}0000"     # "1,0000" would render as "1, 0000"
    assert fmt_tex(-2.345, 2, lang="pt_BR") == "-2{,}35"
    assert fmt_tex(0.5, 3, fixed=False, lang="pt_BR") == "0{,}5"
    assert fmt_tex(6600, 2, fixed=False, lang="pt_BR") == "6600"
    assert fmt_tex(2.5e9, 1, lang="pt_BR") == r"2{,}5 \times 10^{9}"
    with i18n.language("pt_BR"):
        assert fmt_tex(0.25) == "0{,}25"


def test_matrices_write_decimal_commas_in_portuguese():
    import re

    import numpy as np

    from cnnviz.figures import matrix_html

    m = np.array([[0.5, -1.25], [30.0, 1377.8]])
    cells = lambda page: re.findall(r">([^<>]+)</td>", page)   # noqa: E731
    assert cells(matrix_html(m, digits=2)) == ["0.5", "-1.25", "30", "1377.8"]
    with i18n.language("pt_BR"):
        page = matrix_html(m, digits=2, hover="linha {row}, coluna {col}: {value}")
    assert cells(page) == ["0,5", "-1,25", "30", "1377,8"]
    assert 'title="linha 0, coluna 1: -1,25"' in page


def test_language_override_stays_in_its_own_thread():
    import threading

    from cnnviz.figures import fmt

    seen = []
    with i18n.language("pt_BR"):
        worker = threading.Thread(target=lambda: seen.append(fmt(0.5)))
        worker.start()
        worker.join()
        assert fmt(0.5) == "0,5"
    assert seen == ["0.5"]   # another learner's thread is not affected


def test_a_streamlit_session_formats_in_its_learners_language():
    """In a script run (and its fragments) the library reads the session's language: no lang argument."""
    from streamlit.testing.v1 import AppTest

    def script():
        import numpy as np
        import streamlit as st

        from cnnviz import figures, ui

        ui.lang()

        @st.fragment
        def part():
            st.button("again", key="again")
            st.markdown(figures.fmt(1377.8, 1) + " " + figures.fmt_tex(1.0, 4))
            st.html(figures.matrix_html(np.array([[0.5]])))
        part()

    at = AppTest.from_function(script)
    at.session_state["lang"] = "pt_BR"
    at.run()
    assert [m.value for m in at.markdown] == ["1377,8 1{,}0000"]
    at.button(key="again").click().run()
    assert [m.value for m in at.markdown] == ["1377,8 1{,}0000"]
    at.session_state["lang"] = "en"
    at.run()
    assert [m.value for m in at.markdown] == ["1377.8 1.0000"]
    assert i18n.current() == "en"   # outside the session: English again


def test_a_1d_kernel_is_written_back_in_the_learners_format_and_reads_the_same():
    import numpy as np

    from cnnviz.maths import signals

    kernel = np.array([0.2, -0.25, 1.0, 1 / 3])
    assert signals.kernel_text(kernel) == "0.2 -0.25 1 0.3333"
    with i18n.language("pt_BR"):
        text = signals.kernel_text(kernel)
    assert text == "0,2 -0,25 1 0,3333"
    np.testing.assert_allclose(signals.parse_kernel(text), kernel, rtol=1e-3)
    with i18n.language("pt_BR"):   # a lone "0,5" would read as two weights, 0 and 5
        assert signals.parse_kernel(signals.kernel_text(np.array([0.5]))).tolist() == [0.5]


# words that follow a count in the catalogs but are not plural nouns (verbs, articles, adjectives)
NOT_NOUNS = {"en": {"is", "has", "s", "starts", "sees", "gives", "takes", "slides", "shows", "goes", "does",
                    "contains", "becomes", "others", "class", "was", "fits", "keeps", "needs", "means", "less",
                    "this", "its", "plus", "minus", "turns", "moves", "reads", "as", "us", "ms", "vs", "fires",
                    "writes", "makes", "runs", "uses", "wins", "its", "sums", "answers", "holds", "works"},
             "pt_BR": {"s", "das", "dos", "nos", "deles", "outras", "outros", "primeiras", "primeiros", "mostradas",
                       "maiores", "menores", "juntas", "juntos", "certas", "certos", "as", "os", "mais", "menos",
                       "vs", "ms", "pelas", "pelos", "às", "aos", "novas", "novos", "erradas", "errados", "seguidas",
                       "seguidos", "iguais", "usadas", "usados"}}


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_every_counted_noun_has_its_singular(lang):
    """A count followed by a plural noun ("{n} neurons") must say "1 neuron" for one: every such
    noun in the catalogs is in i18n/plurals.toml (or known not to be a noun)."""
    import re

    table = i18n.plurals(lang)
    missing = set()
    for key, msg in i18n.catalog(lang).items():
        for word in re.findall(r"\{\w+(?:![rsa])?(?::[^{}]*)?\} (\w+)", msg):
            if word.endswith("s") and word not in table and word not in NOT_NOUNS[lang]:
                missing.add((key, word))
    assert not missing, sorted(missing)


@pytest.mark.parametrize("lang, key, kw, want, unwanted", [
    ("en", "why.same_width_help", {"n": 1}, "1 neuron,", "1 neurons"),
    ("pt_BR", "why.same_width_help", {"n": 1}, "1 neurônio,", "1 neurônios"),
    ("en", "why.same_width_help", {"n": 2}, "2 neurons", None),
    ("en", "why.inputs", {"h": 1, "w": 1, "c": 1, "n": 1}, "**1 number**", "1 numbers"),
    ("pt_BR", "why.inputs", {"h": 1, "w": 1, "c": 1, "n": "1"}, "**1 número**", "1 números"),
    ("en", "why.inputs", {"h": 1, "w": 1, "c": 1, "n": 1.5}, "1.5 numbers", None)])
def test_one_is_singular(lang, key, kw, want, unwanted):
    text = i18n.t(key, lang, **kw)
    assert want in text, text
    assert unwanted is None or unwanted not in text


def test_one_as_the_last_factor_of_a_product_stays_plural():
    """"28 × 1 pixels" is 28 pixels: only a bare count of one is singular."""
    assert i18n._singular("{h} × {w} pixels", "en", {"h": 28, "w": 1}) == "{h} × {w} pixels"
    assert i18n._singular("{w} pixels", "en", {"w": 1}) == "{w} pixel"


def _glossary_rows():
    """The rows of docs/GLOSSARY.md's table: (idea, {lang: [words never to use]})."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("idea", "---") or set(cells[0]) <= {"-"}:
            continue
        never = {"pt_BR": [w.strip() for w in cells[3].split(",") if w.strip()],
                 "en": [w.strip() for w in cells[4].split(",") if w.strip()]}
        rows.append((cells[0], never))
    return rows


def test_glossary_has_rows():
    rows = _glossary_rows()
    assert len(rows) >= 10 and any(never["pt_BR"] for _, never in rows)


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_catalogs_use_the_glossary_terms(lang):
    import re

    found = []
    for idea, never in _glossary_rows():
        for word in never[lang]:
            pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
            for key, msg in i18n.catalog(lang).items():
                plain = re.sub(r"`[^`]*`|\{[^{}]*\}", " ", msg)        # code and placeholders are not text
                if pattern.search(plain):
                    found.append((idea, word, key))
    assert not found, found


def test_portuguese_asks_de_quantos_with_precisar():
    """"precisar" takes "de": "De quantos pesos essa camada precisa?", never "Quantos pesos ... precisa"."""
    import re

    bad = [k for k, msg in i18n.catalog("pt_BR").items()
           if re.search(r"(?<![Dd]e )\bQuantos\b[^?.]*\bprecisa", msg)]
    assert not bad, bad


# ---------------------------------------------------------------- where a key lives
# Rule 1: a key's first segment names its file: `conv.title` is in conv.toml, `images.error.bomb` in
# images.toml, `nav.page.rf` in nav.toml. A lesson's file is named after its prefix (`course.LESSONS`'
# `catalog`); a library module's errors live in the file of its subject (`images.error.*`,
# `kernels.error.*`, `convolve.error.*` for cnnviz.maths.conv, whose `conv` is the Convolution lesson's).
import ast  # noqa: E402
import functools  # noqa: E402
import re  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

from cnnviz import course  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = (course.HOME, *course.LESSONS)
PAGE_FILES = {x.catalog for x in PAGES}        # a page's own strings: conv.toml, home.toml...
SHELL_FILES = {"app", "nav"}                   # the app's frame around the pages (app.py, the sidebar)


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_a_keys_first_segment_names_its_file(lang):
    misplaced = [f"{lang}/{path.name}: [{table}]" for path in sorted((i18n._HERE / lang).glob("*.toml"))
                 for table in tomllib.loads(path.read_text(encoding="utf-8")) if table != path.stem]
    assert not misplaced, "a key `x.y` lives in x.toml: " + ", ".join(misplaced)


def test_a_pages_file_holds_its_own_prefix_only():
    for page in PAGES:
        for lang in i18n.LANGUAGES:
            path = i18n._HERE / lang / page.catalog_file
            assert list(tomllib.loads(path.read_text(encoding="utf-8"))) == [page.catalog], path


# ---------------------------------------------------------------- who reads a lesson's strings
# Rule 2: a lesson's file holds that lesson's strings only. Each key of it is looked up (`t`, `ui.labels`,
# `ui.message`, an exercise's `Label` or `section=`) only by that lesson: its page lessons/<name>.py, a
# self-check question filed under it (`_kind(kind, "<name>")`), or a function of the library or of
# cnnviz.ui that only that page reaches (calls through `ui.name`, or through the module it imports).
# A string several pages show lives in the file of its subject (`figures.hover`, `models.random_weights`).
LOOKUPS = {"t", "labels", "message", "Label"}
KEY_KEYWORDS = {"section"}


def _head(node) -> str | None:
    """A string argument's text, or an f-string's text before its first placeholder."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return node.values[0].value
    return None


def _looked_up(tree) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        args = node.args[:1] if called in LOOKUPS else []
        args += [k.value for k in node.keywords if k.arg in KEY_KEYWORDS]
        found += [(head, node.lineno) for head in map(_head, args) if head]
    return found


def _lesson_of(key_head: str):
    """The lesson whose file holds the keys starting with `key_head` (None: not a lesson's file)."""
    first = key_head.split(".")[0]
    if "." not in key_head or not any(k.startswith(key_head) for k in i18n.catalog("en")):
        return None
    return next((x.name for x in course.LESSONS if x.catalog == first), None)


def _unit_nodes(tree):
    """A file's units: its top-level functions and classes by name, each other top-level statement
    by its line ("@12": a registration such as `_kind(...)(partial(f, ...))` reaches f alone)."""
    return {n.name if isinstance(n, (ast.FunctionDef, ast.ClassDef)) else f"@{n.lineno}": [n] for n in tree.body}


@functools.lru_cache(maxsize=None)
def _sources() -> dict[str, tuple[str, dict]]:
    """rel path -> (dotted module name, its units), for app.py, the pages and the library."""
    out = {}
    for path in [ROOT / "app.py", *sorted((ROOT / "lessons").glob("*.py")), *sorted((ROOT / "cnnviz").rglob("*.py"))]:
        rel = path.relative_to(ROOT).as_posix()
        out[rel] = (rel[:-3].removesuffix("/__init__").replace("/", "."),
                    _unit_nodes(ast.parse(path.read_text(encoding="utf-8"))))
    return out


def _aliases(rel: str, dotted: str, units: dict) -> dict[str, str]:
    """name -> the dotted thing it imports (`ui` -> cnnviz.ui, `t` -> cnnviz.ui.language.t)."""
    package = dotted if rel.endswith("__init__.py") else dotted.rpartition(".")[0]
    out = {}
    for parts in units.values():
        for node in (n for part in parts for n in ast.walk(part)):
            if isinstance(node, ast.Import):
                out.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                            for a in node.names})
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                module = ".".join(x for x in (base, node.module or "") if x)
                out.update({a.asname or a.name: f"{module}.{a.name}" for a in node.names})
    return out


@functools.lru_cache(maxsize=None)
def _readers() -> dict[tuple[str, str], frozenset]:
    """(file, unit) -> the pages that reach it (lesson names; "app" for app.py): the page's own code,
    a self-check generator's lesson (`@_kind(kind, "convolution")`), and whatever reads it."""
    sources = _sources()
    by_dotted = {dotted: rel for rel, (dotted, _) in sources.items()}
    alias = {rel: _aliases(rel, dotted, units) for rel, (dotted, units) in sources.items()}

    def unit_of(dotted: str, seen=()):
        """The (file, unit) a dotted name is defined in, through re-exports (`cnnviz.ui.t`)."""
        module, _, name = dotted.rpartition(".")
        rel = by_dotted.get(module)
        if rel is None or dotted in seen:
            return None
        if name in sources[rel][1]:
            return rel, name
        return unit_of(alias[rel][name], (*seen, dotted)) if name in alias[rel] else None

    readers = {(rel, u): set() for rel, (_, units) in sources.items() for u in units}
    reads = {key: set() for key in readers}
    for rel, (dotted, units) in sources.items():
        page = "app" if rel == "app.py" else Path(rel).stem if rel.startswith("lessons/") else None
        for unit, parts in units.items():
            here = readers[(rel, unit)]
            if page:
                here.add(page)
            for node in (n for part in parts for n in ast.walk(part)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_kind" and len(node.args) > 1 \
                        and isinstance(node.args[1], ast.Constant):
                    here.add(node.args[1].value)
                target = None
                if isinstance(node, ast.Name):
                    target = (rel, node.id) if node.id in units else \
                        unit_of(alias[rel][node.id]) if node.id in alias[rel] else None
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in alias[rel]:
                    target = unit_of(f"{alias[rel][node.value.id]}.{node.attr}")
                if target:
                    reads[(rel, unit)].add(target)
    todo = list(readers)
    while todo:
        source = todo.pop()
        for target in reads[source]:
            if not readers[source] <= readers[target]:
                readers[target] |= readers[source]
                todo.append(target)
    return {key: frozenset(value) for key, value in readers.items()}


def test_a_lessons_strings_are_read_by_that_lesson_only():
    readers = _readers()
    wrong = []
    for rel, (_, units) in _sources().items():
        for unit, parts in units.items():
            for head, line in (x for part in parts for x in _looked_up(part)):
                lesson = _lesson_of(head)
                others = readers[(rel, unit)] - {lesson}
                if lesson and others:
                    wrong.append(f"{rel}:{line} {head!r} (in {lesson}'s file) is shown by {sorted(others)}")
    assert not wrong, wrong


def test_the_lesson_readers_are_found():
    """The test above sees through `ui.name`, imported names and registrations (else it could pass on nothing)."""
    readers = _readers()
    assert readers[("cnnviz/ui/inside.py", "show_top_images")] == {"inside_a_cnn"}
    assert readers[("cnnviz/ui/inside.py", "digit_canvas")] == {"inside_a_cnn", "autoencoder"}
    assert readers[("cnnviz/ui/models.py", "model_picker")] == {"inside_a_cnn", "receptive_field", "explain",
                                                                        "fool_the_network"}
    assert readers[("cnnviz/exercises/basics.py", "_numbers_count")] == {"image_as_numbers"}
    assert readers[("cnnviz/exercises/layers_inside.py", "_pool_question")] == {"layers"}
    assert readers[("cnnviz/analysis/attribution.py", "Method")] == {"explain", "shortcuts",   # via cnnviz.train.shortcut
                                                                          "fool_the_network"}
    assert readers[("cnnviz/ui/language.py", "t")] >= {x.name for x in PAGES} | {"app"}


# ---------------------------------------------------------------- the library's own errors
# Rule 3: an error the library raises (a CnnvizError from cnnviz/ outside cnnviz.ui) reads its text from
# a library file, named after the error's subject (`images.error.*` in images.toml, `data.error.*`,
# `params.error.*`, `models.*`), never from a page's file or the app's: a notebook that calls
# cnnviz.maths.conv gets its messages without any lesson's strings.
def _error_raises():
    """(file, line, key pattern or None) for every CnnvizError (or subclass) built in library code:
    a call `KernelError("kernels.error.empty", ...)`, or a subclass's `super().__init__("jobs.cancelled")`."""
    library = [p for p in sorted((ROOT / "cnnviz").rglob("*.py")) if "ui" not in p.relative_to(ROOT / "cnnviz").parts[:1]]
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in library}
    classes, grew = {"CnnvizError"}, True
    while grew:                                    # subclasses of subclasses, wherever they are defined
        found = {n.name for tree in trees.values() for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
                 and any(getattr(b, "id", getattr(b, "attr", None)) in classes for b in n.bases)}
        grew = not found <= classes
        classes |= found

    def pattern(arg):
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return re.escape(arg.value)
        if isinstance(arg, ast.JoinedStr):         # f"convolve.error.bad_{name}": each key it can be
            return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+" for v in arg.values)
        return None

    for path, tree in trees.items():
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in classes \
                    and node.args:                 # jobs.Cancelled() brings its own key (below)
                yield rel, node.lineno, pattern(node.args[0])
            elif isinstance(node, ast.ClassDef) and node.name in classes - {"CnnvizError"}:
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "__init__" \
                            and isinstance(call.func.value, ast.Call) and call.args and pattern(call.args[0]):
                        yield rel, call.lineno, pattern(call.args[0])


def test_the_librarys_errors_live_in_the_librarys_files():
    keys = list(i18n.catalog("en"))
    wrong, seen = [], 0
    for rel, line, pattern in _error_raises():
        if pattern is None:
            wrong.append(f"{rel}:{line}: write the key where the error is raised")
            continue
        matching = [k for k in keys if re.fullmatch(pattern, k)]
        seen += 1
        if not matching:
            wrong.append(f"{rel}:{line}: {pattern} is in no catalog")
        wrong += [f"{rel}:{line}: {k} lives in {k.split('.')[0]}.toml, a page's file" for k in matching
                  if k.split(".")[0] in PAGE_FILES | SHELL_FILES]
    assert seen > 100, seen          # the raises were found (ConvError, DataError, ..., jobs.Cancelled)
    assert not wrong, wrong
