"""The benchmark data: MNIST when the shared data folder has it, random data of its shape if not.

The timings do not depend on the pixel values (dense float32 matrix products), so random data
of the same shape and dtype gives the same times; results.md records which one was used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _config import MNIST_WIDTHS, SEED, SMALL_ROWS, SMALL_WIDTHS

#: The team's data folder, beside the checkout (see DESIGN.md §8).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Dataset:
    """Training inputs and labels.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float32, C-contiguous
    y : ndarray of shape (n_samples,), int64 class labels
    source : str
        Where it came from, for results.md.
    """

    X: np.ndarray
    y: np.ndarray
    source: str

    def head(self, n_rows: int) -> Dataset:
        """The first ``n_rows`` samples (a view)."""
        return Dataset(self.X[:n_rows], self.y[:n_rows], self.source)


def data_dir() -> Path:
    """``$CHAINRULE_DATA`` when set, else the shared data folder."""
    return Path(os.environ.get("CHAINRULE_DATA") or SHARED_DATA)


def mnist_like(n_rows: int) -> Dataset:
    """``n_rows`` MNIST training images (float32 in [0, 1]) and labels, or random stand-ins.

    Parameters
    ----------
    n_rows : int
        At most 60000 with the real data; any number with the random stand-in.
    """
    from chainrule.datasets import load_mnist

    folder = data_dir()
    try:
        (X, y), _ = load_mnist(folder, download=False)
    except (OSError, ValueError) as error:  # missing or damaged files: fall back to random data
        rng = np.random.default_rng(SEED)
        X = rng.random((n_rows, MNIST_WIDTHS[0]), dtype=np.float32)
        y = rng.integers(0, MNIST_WIDTHS[-1], n_rows)
        reason = type(error).__name__
        return Dataset(X, y, f"random uniform [0, 1) of MNIST's shape (MNIST not loaded: {reason})")
    if n_rows > X.shape[0]:
        raise ValueError(f"n_rows must be at most {X.shape[0]} with MNIST, got {n_rows}")
    X = np.ascontiguousarray(X[:n_rows], dtype=np.float32)
    y = np.ascontiguousarray(y[:n_rows], dtype=np.int64)
    return Dataset(X, y, f"MNIST training images from {folder / 'mnist'} (pixels / 255)")


def small_problem() -> Dataset:
    """Workload 2's data: 1000 points of N(0, 1)², label 1 in the quadrants where x0·x1 > 0."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((SMALL_ROWS, SMALL_WIDTHS[0]), dtype=np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return Dataset(X, y, "1000 x 2 standard normal, label x0*x1 > 0 (XOR quadrants)")
