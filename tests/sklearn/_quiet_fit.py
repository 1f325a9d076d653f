"""``fit_quietly``: an estimator's fit without scikit-learn's ConvergenceWarning (a few epochs
are enough for these tests)."""

from __future__ import annotations

import warnings
from typing import Any


def fit_quietly(model: Any, *args: Any, **kwargs: Any) -> Any:
    """``model.fit(*args, **kwargs)`` with ConvergenceWarning ignored; returns the model."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)
