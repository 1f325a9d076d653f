"""scikit-learn's input checks, made to keep chainrule's error contract.

The estimators validate data with scikit-learn's own functions (``validate_data``,
``check_classification_targets``, ...), whose messages and conversions users of scikit-learn
know. Two of their behaviours break chainrule's contract (bad input raises ``ValueError`` or
``TypeError`` and no NumPy warning escapes), and :func:`sklearn_checks` repairs both:

- **NumPy warnings inside the checks.** The finiteness check sums the array first and looks
  closer only when the sum is not finite: ``inf + (-inf)`` warns "invalid value" and
  ``1e308 + 1e308`` warns "overflow" before the check itself decides (it then reports the
  infinity, or accepts the finite values). ``type_of_target`` casts float labels to int64 to
  see whether they are whole numbers, and a label beyond the int64 range (``1e300``) warns
  "invalid value in cast" before the labels are called continuous. In every case the check's
  own verdict is right, so the checks run under ``np.errstate(over="ignore",
  invalid="ignore")``.
- **Python ints beyond the float range.** ``np.asarray([[10**400]], dtype=float)`` raises
  ``OverflowError`` ("int too large to convert to float"), which is neither ``ValueError`` nor
  ``TypeError``; it becomes a ``ValueError`` naming the argument that holds the int.

:class:`CheckedScore` runs the classifiers' inherited ``score`` (``ClassifierMixin.score``)
under the same repairs.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np


@contextlib.contextmanager
def sklearn_checks(**arguments: Any) -> Iterator[None]:
    """Run scikit-learn's checks of ``arguments`` (name → the value given) quietly.

    >>> with sklearn_checks(X=X, y=y):  # doctest: +SKIP
    ...     X, y = validate_data(estimator, X, y)
    """
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            yield
    except OverflowError:
        culprit = _holding_huge_int(arguments)
        raise ValueError(
            f"{culprit} must hold numbers within the float64 range (|x| <= "
            f"{np.finfo(np.float64).max:.4g}), got a Python int too large to convert to float"
        ) from None


def _holding_huge_int(arguments: dict[str, Any]) -> str:
    """The name of the first argument that cannot be converted to float64 for an int's size
    (all the names, joined, when none can be singled out)."""
    for name, value in arguments.items():
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                np.asarray(value, dtype=np.float64)
        except OverflowError:
            return name
        except (TypeError, ValueError):  # another problem, which the checks report
            continue
    return " or ".join(arguments)


class CheckedScore:
    """Mixin for a classifier: scikit-learn's ``ClassifierMixin.score`` run through
    :func:`sklearn_checks`. List it before ``ClassifierMixin`` in the class's bases."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (n_samples,) (or, for multilabel, the
        fraction of samples whose every label is right), as scikit-learn's
        ``ClassifierMixin.score``; its checks of ``y`` run through :func:`sklearn_checks`."""
        with sklearn_checks(X=X, y=y, sample_weight=sample_weight):
            return super().score(X, y, sample_weight)  # type: ignore[misc]
