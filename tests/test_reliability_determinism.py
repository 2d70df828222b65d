"""Reliability, bullet 4: determinism on the CPU.

- The same ``random_state`` gives bitwise-identical EPDJMs, embeddings and search traces in
  another process, and whatever ``n_jobs``: a child process computes them with ``n_jobs=2``
  (joblib's threading backend for the EPDJMs and ``simulate``, threads for a batched
  search), this process with ``n_jobs=1``, and the bytes are compared. Threads share
  torch's global generator: concurrent EPDJMs and embedder fits take turns on it instead of
  mixing their seeds (they did before ``cenas_sklearn._seeding``).
- Our calls leave the global generators alone: numpy's legacy ``np.random``, torch's and
  Python's ``random``, through fit, transform, search, ask/tell and ``simulate``.
- In one process: ``tests/test_epdjm.py::test_same_random_state_is_bitwise_reproducible``
  and ``test_n_jobs_does_not_change_the_features`` (in-process joblib workers, and
  independence from the order and chunking of X; loky's worker processes),
  ``tests/test_embedding.py::
  test_same_random_state_is_bitwise_reproducible`` and ``test_transform_does_not_depend_on_
  the_batch``, ``tests/test_search.py::test_determinism_per_seed``.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from cenas_sklearn.benchmarks import TabularBenchmark
from cenas_sklearn.embedding import ContrastiveEmbedder
from cenas_sklearn.features import EPDJMTransformer, SpectralFeatures
from cenas_sklearn.search import (
    BayesianArchitectureSearch,
    CandidateOptimizer,
    RandomArchitectureSearch,
    RegularizedEvolution,
    simulate,
)
from cenas_sklearn.spaces import NB201Space

from ._data import REPO_ROOT

# The toy table has holes: some evaluations fail, as they may in a real search.
pytestmark = pytest.mark.filterwarnings("ignore:.*evaluations failed:UserWarning")

SMALL_NB201 = NB201Space(C=4, N=1)
ARCHS = [0, 9930, 3731, 15624, 100, 7]


def _epdjm(n_jobs=None):
    return EPDJMTransformer(space=SMALL_NB201, n_inits=2, n_probe=8, probe_size=8,
                            n_components=4, n_jobs=n_jobs, random_state=0)


def _embedder():
    return ContrastiveEmbedder(hidden_layer_size=8, embedding_dim=4, projection_dim=4,
                               max_iter=3, batch_size=8, validation_fraction=0.25,
                               device="cpu", random_state=0)


def _toy_bench():
    acc = np.random.RandomState(1).uniform(10.0, 90.0, size=len(SMALL_NB201))
    acc[::7] = np.nan
    return TabularBenchmark(SMALL_NB201, {"toy": acc}, name="toy")


def compute_everything(n_jobs):
    """EPDJMs, embeddings and search traces, as arrays (run here and in a child process)."""
    rng = np.random.RandomState(0)
    out = {}
    with joblib.parallel_config(backend="threading"):
        epdjm = _epdjm(n_jobs).fit().compute(ARCHS)
        out["epdjm"], out["singular_values"] = epdjm.epdjm, epdjm.singular_values
        sets = rng.standard_normal((16, 3, 6, 4)).astype(np.float32)
        embedder = _embedder().fit(sets)
        out["embedding"] = embedder.transform_inits(sets)
        out["loss_curve"] = np.array(embedder.loss_curve_)

        X = rng.normal(size=(400, 3))
        values = -np.sum((X - 0.3) ** 2, axis=1)
        bo = BayesianArchitectureSearch(n_iter=14, n_initial_points=4, batch_size=3,
                                        n_jobs=n_jobs, random_state=0).fit(X, values)
        out["bo_index"], out["bo_value"] = bo.history_["index"], bo.history_["value"]
        opt = CandidateOptimizer(X, acq_func="gp_hedge", n_initial_points=3,
                                 acq_subset_size=50, random_state=0)
        out["hedge_index"] = np.array(opt.run(lambda i: values[i], n_iter=10).x_iters)
        curves = simulate(RegularizedEvolution(space=SMALL_NB201, population_size=5,
                                               sample_size=2),
                          _toy_bench(), n_queries=15, seeds=3, n_jobs=n_jobs)
        out["rea_queried"], out["rea_best"] = curves.queried, curves.best_so_far
    return out


_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from tests.test_reliability_determinism import compute_everything

    np.savez(sys.argv[1], **compute_everything(n_jobs=2))
""")


@pytest.mark.filterwarnings("ignore::cenas_sklearn.features.ZeroJacobianWarning")
def test_threads_do_not_mix_their_seeds():
    """Torch's generator is process-wide: threads computing EPDJMs or fitting embedders at
    once must not draw from each other's seeded generator."""
    archs = list(range(0, 15625, 1301))
    epdjm = _epdjm().fit()
    serial = epdjm.transform(archs)
    with joblib.parallel_config(backend="threading"):
        threaded = epdjm.set_params(n_jobs=4).transform(archs)
    assert np.array_equal(threaded, serial)

    sets = np.random.RandomState(0).standard_normal((16, 3, 6, 4)).astype(np.float32)
    fits = [_embedder().set_params(random_state=seed) for seed in range(3)]
    serial = [clone(est).fit(sets).transform(sets) for est in fits]
    threaded = joblib.Parallel(n_jobs=3, backend="threading")(
        joblib.delayed(lambda est: est.fit(sets).transform(sets))(est) for est in fits)
    for a, b in zip(serial, threaded, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.timeout(300)
def test_same_bits_in_another_process_and_with_n_jobs(tmp_path):
    path = tmp_path / "child.npz"
    child = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=280)
    assert child.returncode == 0, child.stderr[-3000:]
    here = compute_everything(n_jobs=1)
    with np.load(path, allow_pickle=False) as there:
        assert sorted(there.files) == sorted(here)
        for name, array in here.items():
            array = np.asarray(array)
            assert there[name].dtype == array.dtype and there[name].shape == array.shape, name
            assert there[name].tobytes() == array.tobytes(), f"{name} differs across processes"


# ---------------------------------------------------------------------- global generators
def _global_states():
    np_state = np.random.get_state()  # noqa: NPY002 (the legacy global generator is the point)
    return (np_state[0], np_state[1].tobytes(), *np_state[2:]), \
        torch.get_rng_state().numpy().tobytes(), random.getstate()


def _calls():
    rng = np.random.RandomState(0)
    sets = rng.standard_normal((12, 2, 6, 3)).astype(np.float32)
    X = rng.normal(size=(100, 3))
    values = X[:, 0] - X[:, 1] ** 2

    def epdjm():
        est = _epdjm().fit()
        est.transform([0, 9930])
        est.compute([3731])

    def embedder():
        est = _embedder().fit(sets)
        est.transform(sets)
        est.score(sets)

    def searches():
        BayesianArchitectureSearch(n_iter=8, n_initial_points=3, batch_size=2,
                                   random_state=0).fit(X, values)
        RandomArchitectureSearch(n_iter=5, random_state=0).fit(X, values)
        RegularizedEvolution(space=SMALL_NB201, population_size=3, sample_size=2, n_iter=8,
                             random_state=0).fit(np.arange(0, 15625, 9), lambda i: float(i % 13))

    def optimizer():
        opt = CandidateOptimizer(X, acq_func="gp_hedge", n_initial_points=2, random_state=0)
        opt.run(lambda i: values[i], n_iter=6)
        opt.tell(opt.ask(n_points=2, strategy="cl_mean"), [0.0, 1.0])

    def replay():
        simulate(RandomArchitectureSearch(), _toy_bench(), n_queries=5, seeds=2)

    return {"epdjm": epdjm, "embedder": embedder, "spectral":
            lambda: SpectralFeatures().fit_transform(sets), "searches": searches,
            "optimizer": optimizer, "simulate": replay}


@pytest.mark.parametrize("call", sorted(_calls()))
def test_global_random_generators_are_untouched(call):
    np.random.seed(123)  # noqa: NPY002
    torch.manual_seed(123)
    random.seed(123)
    before = _global_states()
    _calls()[call]()
    assert _global_states() == before
