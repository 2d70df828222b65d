"""Reliability, bullet 5: memory and scale.

- The Bayesian search runs over 32,768 candidates (the NATS size space) in bounded memory
  and time: 60 evaluations on 32-dimensional embeddings, with the peak of the arrays it
  allocates measured by tracemalloc (about 110 MB measured; nothing of size
  n_candidates**2, which would be 8.6 GB). ``benchmarks/bench_search_scale.py`` times a step
  at 150 observations with 256 dimensions.
- EPDJMs of a whole space stream to disk: an ``EPDJMStore`` computes chunk by chunk into
  memory-mapped files, so the memory it allocates is that of a chunk, not of the store.
  The process tree's resident memory over a real run is measured by
  ``benchmarks/bench_store_memory.py``.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from sklearn.utils import Bunch

from cenas_sklearn.features import EPDJMStore, EPDJMTransformer
from cenas_sklearn.search import BayesianArchitectureSearch
from cenas_sklearn.spaces import NB201Space

MB = 1e6


@pytest.mark.timeout(300)
def test_bayesian_search_over_32768_candidates_fits_in_memory_and_time():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(32768, 32)).astype(np.float32)
    values = 70 + 5 * np.tanh(X @ rng.normal(size=32) / 6)
    tracemalloc.start()
    try:
        start = time.perf_counter()
        search = BayesianArchitectureSearch(n_iter=60, n_initial_points=10, random_state=0)
        search.fit(X, values)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert search.n_iter_ == 60 and len(set(search.history_["index"])) == 60
    assert search.best_score_ > np.quantile(values, 0.999)  # and it searched well
    # Measured: ~110 MB (the posterior's temporaries over 32,768 x 60), ~12 s on a busy core.
    assert peak < 300 * MB, f"peak {peak / MB:.0f} MB"
    assert elapsed < 150, f"{elapsed:.0f} s"


@pytest.mark.timeout(120)
def test_store_streams_chunks_to_disk_in_bounded_memory(tmp_path, monkeypatch):
    """The store's memory is a chunk's, whatever the number of architectures.

    The EPDJMs themselves are replaced by constant arrays of the real shapes (the network
    computations are not what is measured): 256 architectures of 2 x 256 x 128 float32,
    64 MB in all, in chunks of 8 (2 MB).
    """
    space = NB201Space(C=4, N=1)
    epdjm = EPDJMTransformer(space=space, n_inits=2, n_probe=256, probe_size=8,
                             n_components=128, probe_images="gaussian", random_state=0)

    def compute(self, X):
        n = len(list(X))
        return Bunch(epdjm=np.full((n, 2, 256, 128), 0.5, np.float32),
                     singular_values=np.ones((n, 2, 192), np.float32),
                     n_parameters=np.full(n, 1000, np.int64),
                     zero_jacobian=np.zeros(n, bool))

    monkeypatch.setattr(EPDJMTransformer, "compute", compute)
    store = EPDJMStore.create(tmp_path / "store", epdjm, range(256), chunk_size=8)
    total = 256 * 2 * 256 * 128 * 4
    tracemalloc.start()
    try:
        store.compute()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert store.is_complete
    chunk = total // 32
    assert peak < 4 * chunk + 4 * MB, f"peak {peak / MB:.1f} MB for {chunk / MB:.0f} MB chunks"
    # Reading back is a memory map too, and it holds what was written.
    features = store.features()
    assert isinstance(features, np.memmap) and features.nbytes == total
    assert float(features[-1, -1]) == 0.5
    store.verify()
