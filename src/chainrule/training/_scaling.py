"""Exact power-of-two scaling of a metric's targets and predictions, so that differences and
squares of them cannot overflow (used by the regression metrics and R²)."""

from __future__ import annotations

import numpy as np

from .._validation import FLOAT_DTYPES, largest_magnitude

#: Per dtype, ``(limit, top)``: ``scaled`` leaves values whose largest magnitude lies in
#: ``[1 / limit, limit]`` as they are, with ``limit = 2**(3 maxexp / 8)`` (2**384 for float64,
#: 2**48 for float32). Their differences stay below ``2 limit`` and the squares below
#: ``4 limit²``, so a sum of ``n`` squares overflows only past ``n = 2**(maxexp / 4 - 2)``;
#: the largest square, at least ``limit⁻²``, stays far above the subnormals. ``top``
#: (``maxexp - 1``) is the largest scale exponent: ``2**maxexp`` itself is beyond the dtype.
UNSCALED = {
    dtype: (2.0 ** (np.finfo(dtype).maxexp * 3 // 8), np.finfo(dtype).maxexp - 1)
    for dtype in FLOAT_DTYPES
}


def scaled(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(true / s, pred / s, s)`` with ``s`` a power of two near the largest magnitude.

    Both arrays are float32 or float64 of the same dtype and not empty. ``s`` is the power of
    two just above the largest magnitude (``2**(maxexp - 1)`` at most, as ``2**maxexp`` itself
    overflows), so the scaled values lie in ``(-2, 2)``; differences and squares of them cannot
    overflow, and each metric multiplies the scale back in, so a result overflows only when the
    metric itself is beyond the float range. Dividing by a power of two is exact while the
    values stay normal, so when the largest magnitude is already moderate (``UNSCALED``) or 0
    the arrays are returned as they are, with ``s = 1``: this costs two reductions per array
    and no temporaries.
    """
    scale = power_of_two_scale(max(largest_magnitude(true), largest_magnitude(pred)), true.dtype)
    if scale == 1.0:
        return true, pred, 1.0
    return true / scale, pred / scale, scale


def power_of_two_scale(largest: float, dtype: np.dtype) -> float:
    """The ``s`` of :func:`scaled` for values of ``dtype`` whose largest magnitude is
    ``largest`` (finite): 1.0 when it is 0 or moderate (``UNSCALED``), else the power of two
    just above it (``2**(maxexp - 1)`` at most)."""
    limit, top = UNSCALED[np.dtype(dtype)]
    if largest == 0.0 or 1.0 / limit <= largest <= limit:
        return 1.0
    return 2.0 ** min(int(np.frexp(largest)[1]), top)  # dividing by it is exact
