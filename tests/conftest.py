"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
import socket
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


@pytest.fixture
def shared_dataset(shared_data: Path):
    """``shared_dataset(name)`` is :func:`shared_data`, skipping unless every file of the
    dataset ``name`` is there (a .gz also counts decompressed): a data folder may hold some
    datasets only, or a layout of one (a folder made by ``chainrule datasets download``)."""
    from chainrule.datasets.catalog import get_dataset

    def present(name: str) -> Path:
        for remote in get_dataset(name).files:
            path = shared_data / remote.path
            if not (path.is_file() or (path.suffix == ".gz" and path.with_suffix("").is_file())):
                pytest.skip(f"{path} is absent")
        return shared_data

    return present


@pytest.fixture
def refused_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens: what an offline machine sees."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def spy_on_split(monkeypatch: pytest.MonkeyPatch):
    """``seen = spy_on_split(module)`` wraps ``module.train_test_split`` (or the function
    ``name``): ``seen`` then holds the keyword arguments of its last call (``stratify``,
    ``test_size`` ...)."""

    def install(module, name: str = "train_test_split") -> dict:
        seen: dict = {}
        original = getattr(module, name)

        def spy(*arrays, **kwargs):
            seen.clear()
            seen.update(kwargs)
            return original(*arrays, **kwargs)

        monkeypatch.setattr(module, name, spy)
        return seen

    return install
