"""Exact power-of-two scaling of a metric's targets and predictions, so that differences and
squares of them cannot overflow (used by the regression metrics and R²)."""

from __future__ import annotations

import numpy as np

from .._power_of_two import power_of_two_scale
from .._validation import largest_magnitude


def scaled(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(true / s, pred / s, s)`` with ``s`` a power of two near the largest magnitude.

    Both arrays are float32 or float64 of the same dtype and not empty. ``s`` is the power of
    two just above the largest magnitude (:func:`chainrule._power_of_two.power_of_two_scale`),
    so the scaled values lie in ``(-1, 1)``; only from ``2**(maxexp - 1)`` on, where ``s`` stops
    at that power (``2**maxexp`` itself overflows), do they reach into ``(-2, 2)``. Differences
    and squares of them cannot overflow, and each metric multiplies the scale back in, so a
    result overflows only when the metric itself is beyond the float range. Dividing by a
    power of two is exact while the values stay normal, so when the largest magnitude is
    already moderate (``UNSCALED`` in :mod:`chainrule._power_of_two`) or 0 the arrays are
    returned as they are, with ``s = 1``: this costs two reductions per array and no
    temporaries.
    """
    scale = power_of_two_scale(max(largest_magnitude(true), largest_magnitude(pred)), true.dtype)
    if scale == 1.0:
        return true, pred, 1.0
    return true / scale, pred / scale, scale
