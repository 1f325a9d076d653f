"""Data shared by the scikit-learn estimator tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def iris():
    """Iris, X (150, 4) standardised per column and y (150,) in {0, 1, 2}."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y
