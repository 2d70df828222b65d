"""The documentation: every gallery example runs, and the Sphinx site builds without warnings."""

from __future__ import annotations

import importlib.util
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from ._data import shared_data_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO_ROOT / "examples").glob("plot_*.py"))
DOCS_MODULES = ("sphinx", "numpydoc", "sphinx_gallery")
# The data-home folders of the tables that fetch_nb201 and fetch_nats_size read.
BENCHMARK_TABLES = ("nb201-lighton", "natsss-lighton")


def _benchmark_data_home(path):
    """The data home for an example that fetches benchmark tables; None if it fetches none.

    The tests never download: ``$CENAS_DATA`` if it holds the tables, else the shared data
    folder (``$CENAS_SHARED_DATA`` or ``../shared/data``); the example is skipped otherwise.
    """
    source = path.read_text()
    if "fetch_nb201" not in source and "fetch_nats_size" not in source:
        return None
    candidates = [os.environ.get("CENAS_DATA"), shared_data_dir()]
    for home in filter(None, candidates):
        if all((Path(home) / table).is_dir() for table in BENCHMARK_TABLES):
            return Path(home)
    pytest.skip(
        f"{path.name} reads the benchmark tables, found neither in $CENAS_DATA nor in "
        f"{shared_data_dir()}; set CENAS_DATA (or CENAS_SHARED_DATA) to a folder holding "
        f"{' and '.join(f'{table}/' for table in BENCHMARK_TABLES)}"
    )


def test_examples_are_found():
    assert EXAMPLES, f"no examples/plot_*.py under {REPO_ROOT}"


# Deprecated APIs called by the examples' own code (module "__main__") are errors.
@pytest.mark.filterwarnings("error::DeprecationWarning:__main__")
@pytest.mark.filterwarnings("error::FutureWarning:__main__")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib", reason="the examples need the [plot] extra")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    data_home = _benchmark_data_home(path)
    if data_home is not None:
        monkeypatch.setenv("CENAS_DATA", str(data_home))
    monkeypatch.chdir(tmp_path)  # anything an example writes lands in a temporary folder
    monkeypatch.setattr(sys, "argv", [str(path)])
    plt.close("all")
    try:
        namespace = runpy.run_path(str(path), run_name="__main__")
        n_figures = len(plt.get_fignums())
    finally:
        plt.close("all")
    # run_path returns the script's globals only once it has run to its end.
    assert namespace["__name__"] == "__main__"
    assert n_figures >= 1, f"{path.name} is a plot_ example but drew no figure"


@pytest.mark.parametrize("package", ["spaces", "features", "embedding", "search", "benchmarks",
                                     "transfer"])
def test_api_reference_lists_every_public_name(package):
    """docs/api.rst lists each subpackage's ``__all__`` by hand: catch the drift."""
    import importlib
    import re

    module = importlib.import_module(f"cenas_sklearn.{package}")
    text = (REPO_ROOT / "docs" / "api.rst").read_text()
    section = text.split(f".. currentmodule:: cenas_sklearn.{package}\n", 1)[1]
    section = section.split(".. currentmodule::", 1)[0]
    listed = set(re.findall(r"^   (\w+)$", section, flags=re.MULTILINE))
    assert listed == set(module.__all__), (
        f"docs/api.rst, section cenas_sklearn.{package}: add "
        f"{sorted(set(module.__all__) - listed)}, remove {sorted(listed - set(module.__all__))}"
    )


@pytest.mark.timeout(300)
@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in DOCS_MODULES),
    reason="building the docs needs sphinx, numpydoc and sphinx-gallery "
    "(the optional [docs] extra: pip install -e '.[docs]')",
)
def test_docs_build_without_warnings(tmp_path):
    # -W turns every warning into an error; --keep-going reports all of them at once.
    # The examples are not executed (the test above runs them) unless
    # CENAS_DOCS_RUN_EXAMPLES=1 is set; intersphinx stays off: the build must work offline.
    env = {key: value for key, value in os.environ.items() if key != "CENAS_DOCS_INTERSPHINX"}
    env["MPLBACKEND"] = "Agg"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
               "docs", str(tmp_path / "html")]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=290, check=False)
    assert result.returncode == 0, (
        f"sphinx-build failed (exit code {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    assert (tmp_path / "html" / "index.html").is_file()
    for path in EXAMPLES:
        assert (tmp_path / "html" / "auto_examples" / path.with_suffix(".html").name).is_file()
