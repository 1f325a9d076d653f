"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A Generator seeded from the test's name: reproducible, but different for every test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (or ``$CHAINRULE_DATA``); skips when absent."""
    root = Path(os.environ.get("CHAINRULE_DATA") or SHARED_DATA)
    if not root.is_dir():
        pytest.skip(f"real datasets not available at {root}")
    return root
