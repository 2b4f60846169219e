"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


# -- benchmarks ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Directory of the offline OpenML CSVs (``$SYMEXP_DATA_DIR`` or ``../shared/data/openml``)."""
    path = Path(os.environ.get("SYMEXP_DATA_DIR") or Path(__file__).parents[1] / ".." / "shared" / "data" / "openml")
    path = path.resolve()
    if not path.is_dir():
        pytest.skip(f"offline OpenML data directory {path} not found")
    return path
