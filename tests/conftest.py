"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest

from ._data import require_shared


@pytest.fixture(scope="session")
def shared_data():
    """The shared benchmark data folder (``$CENAS_SHARED_DATA``, else ``../shared/data``).

    Skips the test, saying where it looked, when the folder is absent.
    """
    return require_shared()
