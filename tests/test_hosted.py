"""The hosted demo's folder (hosted/): its requirements are the app's, with CPU-only torch, and
everything Community Cloud reads for that entrypoint is where Community Cloud looks for it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTED = ROOT / "hosted"

# in requirements.txt for the test suite only: the hosted demo runs the app, not its tests
TEST_ONLY = {"pytest", "hypothesis", "playwright", "pytest-playwright"}


def requirements(path: Path) -> tuple[dict[str, str], list[str]]:
    """({normalized name: version specifier}, [option lines]) of a requirements file."""
    packages, options = {}, []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            options.append(line)
            continue
        name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", line).groups()
        packages[re.sub(r"[-_.]+", "-", name).lower()] = spec.replace(" ", "")
    return packages, options


def test_hosted_requirements_are_the_app_s_without_the_test_only_ones():
    app, _ = requirements(ROOT / "requirements.txt")
    hosted, _ = requirements(HOSTED / "requirements.txt")
    assert TEST_ONLY <= set(app), "a test-only package left requirements.txt: update TEST_ONLY"
    assert set(hosted) == set(app) - TEST_ONLY
    assert {n: hosted[n] for n in hosted} == {n: app[n] for n in hosted}      # the same versions


def test_hosted_requirements_ask_for_cpu_only_torch():
    _, options = requirements(HOSTED / "requirements.txt")
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]


def test_community_cloud_finds_the_hosted_entrypoint_s_files():
    # Community Cloud runs `streamlit run hosted/streamlit_app.py` from the repository's root: it reads
    # the dependency file beside the entrypoint first (one only: another kind would be taken before
    # requirements.txt), the configuration only at the root, packages.txt only at the root
    assert (HOSTED / "streamlit_app.py").is_file() and (HOSTED / "requirements.txt").is_file()
    others = {"uv.lock", "Pipfile", "environment.yml", "pyproject.toml"}
    assert not others & {p.name for p in HOSTED.iterdir()}
    assert not (HOSTED / ".streamlit").exists()        # it would be ignored: the one used is the root's
    assert (ROOT / ".streamlit" / "config.toml").is_file()
    assert not (ROOT / "packages.txt").exists()        # nothing to apt-get (docs/DEPLOY.md)
    assert not others & {p.name for p in ROOT.iterdir()}   # the root's requirements.txt is the only one there
