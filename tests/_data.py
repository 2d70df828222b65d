"""Where the tests find the shared benchmark data (never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$CENAS_SHARED_DATA`` if set, else ``../shared/data`` beside the repository."""
    env = os.environ.get("CENAS_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def require_shared(*parts: str) -> Path:
    """The path of a shared data file or folder, or skip the test saying what is missing."""
    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"shared benchmark data not found at {path}; set CENAS_SHARED_DATA to the folder "
            "holding nb201-lighton/, natsss-lighton/ and nats-bench-sample/"
        )
    return path
