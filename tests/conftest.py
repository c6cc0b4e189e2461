"""Shared test fixtures: where the real test files live."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real recordings and images of ../shared/data (see its NOTICE.md)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"
