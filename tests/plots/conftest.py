"""Fixtures of the plot tests: a PNG reader and small trained models."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets.generators import make_blobs, make_circles
from chainrule.layers.builders import mlp
from chainrule.training.trainer import Trainer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` in pixels from the IHDR chunk, after checking the PNG signature."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    length, kind = struct.unpack(">I4s", data[8:16])  # the first chunk is always IHDR
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def png_size() -> Callable[[Path], tuple[int, int]]:
    return read_png_size


@pytest.fixture(scope="package")
def binary_trainer() -> tuple[Trainer, np.ndarray, np.ndarray]:
    """A sigmoid network briefly trained on two circles: (trainer, X (120, 2), y (120,))."""
    X, y = make_circles(120, noise=0.1, seed=0)
    trainer = Trainer(mlp([2, 8, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                      batch_size=32, seed=0, verbose=0, metrics=["accuracy"])
    trainer.fit(X, y, epochs=3, validation_split=0.25)
    return trainer, X, y


@pytest.fixture(scope="package")
def string_trainer() -> tuple[Trainer, np.ndarray, np.ndarray]:
    """A softmax network trained on three blobs with string labels: (trainer, X, y)."""
    X, index = make_blobs(90, centers=3, seed=0)
    y = np.array(["cherry", "apple", "banana"])[index]
    trainer = Trainer(mlp([2, 8, 3], output="softmax", seed=0), "cross_entropy",
                      batch_size=32, seed=0, verbose=0)
    trainer.fit(X, y, epochs=3)
    return trainer, X, y
