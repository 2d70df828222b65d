"""Fixtures shared by the test modules."""

from __future__ import annotations

import os

import pytest

from ._data import require_shared


@pytest.fixture(scope="session")
def shared_data():
    """The shared benchmark data folder (``$CENAS_SHARED_DATA``, else ``../shared/data``).

    Skips the test, saying where it looked, when the folder is absent.
    """
    return require_shared()


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    """Run torch with one intra-op thread during the tests (and in their subprocesses).

    The last bits of a Jacobian depend on the thread count, so the bitwise comparisons with
    joblib / dask workers (one thread each) and with subprocesses need the same count; and
    on a busy 2-core machine two spinning threads can be 100x slower than one.
    """
    import torch

    threads, env = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    yield
    torch.set_num_threads(threads)
    if env is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = env
