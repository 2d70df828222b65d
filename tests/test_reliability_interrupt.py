"""Reliability, bullet 2: interrupted long runs lose nothing, and writes are atomic.

- A search that checkpoints its history (``checkpoint=``), killed with SIGKILL in the middle
  of a run and rerun with the same checkpoint, ends with the history of an uninterrupted run,
  evaluating only what the checkpoint lacks.
- JSON files (checkpoints, search curves) are replaced atomically: a write that fails half-way
  leaves the previous file whole and no temporary file.
- Elsewhere: ``cenas epdjm`` killed with SIGKILL and rerun equals an uninterrupted run
  (``tests/test_cli.py::test_sigkill_mid_run_then_resume_equals_uninterrupted``); an EPDJM
  store killed between a chunk's rows and its manifest entry recomputes that chunk
  (``tests/test_store.py::test_killed_process_then_resume``); an exception mid-search resumes
  in-process (``tests/test_search.py::test_checkpoint_resume_replays_the_same_search``).
  Truncated and corrupted checkpoints are refused in ``tests/test_reliability.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from cenas_sklearn.search import (
    BayesianArchitectureSearch,
    RegularizedEvolution,
    SearchCurves,
    _base,
)
from cenas_sklearn.spaces import NB201Space

from ._data import REPO_ROOT
from ._processes import sigkill_when

N_ITER = 14


def search_problem(name, checkpoint=None):
    """A small search, its candidates and its objective's values (shared with the child)."""
    rng = np.random.RandomState(0)
    if name == "bayes":
        X = rng.normal(size=(300, 3))
        values = 90.0 - np.sum((X - 0.3) ** 2, axis=1)
        search = BayesianArchitectureSearch(n_iter=N_ITER, n_initial_points=4,
                                            checkpoint=checkpoint, random_state=0)
    else:
        X = np.arange(0, 15625, 7)
        values = rng.uniform(10.0, 90.0, size=len(X))
        values[::5] = np.nan  # some failed evaluations, which are checkpointed too
        search = RegularizedEvolution(space=NB201Space(), population_size=5, sample_size=2,
                                      n_iter=N_ITER, checkpoint=checkpoint, random_state=0)
    return search, X, values


def _objective(values, calls=None, delay=0.0):
    def objective(i):
        if calls is not None:
            calls.append(int(i))
        time.sleep(delay)
        if np.isnan(values[i]):
            raise RuntimeError(f"candidate {i} did not train")
        return values[i]
    return objective


_CHILD = textwrap.dedent("""
    import sys
    from tests.test_reliability_interrupt import _objective, search_problem

    search, X, values = search_problem(sys.argv[1], checkpoint=sys.argv[2])
    search.fit(X, _objective(values, delay=0.25))
""")


def _assert_same_history(a, b):
    np.testing.assert_array_equal(a.history_["index"], b.history_["index"])
    np.testing.assert_array_equal(a.history_["value"], b.history_["value"])  # NaN == NaN
    assert a.history_["error"] == b.history_["error"]


@pytest.mark.timeout(240)
@pytest.mark.filterwarnings("ignore:.*evaluations failed:UserWarning")
@pytest.mark.parametrize("name", ["bayes", "evolution"])
def test_sigkill_mid_search_then_resume_equals_uninterrupted(name, tmp_path):
    reference, X, values = search_problem(name)
    reference.fit(X, _objective(values))

    path = tmp_path / "search.json"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, name, str(path)], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def six_evaluations():
        return path.exists() and len(json.loads(path.read_text())["history"]["index"]) >= 6

    sigkill_when(child, six_evaluations, timeout=180, waiting_for="6 checkpointed evaluations")

    done = json.loads(path.read_text())["history"]["index"]
    assert 6 <= len(done) < N_ITER
    expected = reference.history_["index"].tolist()
    assert done == expected[:len(done)]  # the child's run was the same search
    calls = []
    resumed, X, values = search_problem(name, checkpoint=path)
    resumed.fit(X, _objective(values, calls))
    _assert_same_history(resumed, reference)
    assert resumed.best_index_ == reference.best_index_
    assert resumed.best_score_ == reference.best_score_
    np.testing.assert_array_equal(resumed.result_.func_vals, reference.result_.func_vals)
    assert calls == expected[len(done):]  # nothing evaluated twice
    saved = json.loads(path.read_text())
    assert saved["history"]["index"] == expected
    # A kill in the middle of a write can leave a hidden temporary file, never a partial
    # checkpoint.
    assert all(p == path or p.name.startswith(".search.json.") for p in tmp_path.iterdir())


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_json_write_keeps_the_previous_file(tmp_path, monkeypatch, error):
    path = tmp_path / "search.json"
    _base.write_json_atomic(path, {"a": 1})
    real_dump = json.dump

    def dump_half_then_fail(obj, fh, **kwargs):
        real_dump({"half": "written"}, fh, **kwargs)
        raise error

    monkeypatch.setattr(json, "dump", dump_half_then_fail)
    with pytest.raises(type(error)):
        _base.write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_search_curves_are_written_atomically(tmp_path, monkeypatch):
    curves = SearchCurves(method="m", benchmark="b", dataset=None, seeds=(0,),
                          best_so_far=np.array([[1.0, 2.0]]), queried=np.array([[3, 4]]),
                          optimum=2.0, optimum_index=4)
    path = tmp_path / "curves.json"
    curves.to_json(path)
    before = path.read_bytes()
    def failing_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        curves.to_json(path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
