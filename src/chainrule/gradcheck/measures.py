"""The measures gradcheck compares with: scaled norms, the relative error, and the error
estimates of a finite difference (the package docstring derives them)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_array, largest_magnitude

#: Safety factors of the finite-difference error estimate, C_r and C_t (package docstring).
ROUNDING_SAFETY = 100.0
TRUNCATION_SAFETY = 10.0

_UNIT_ROUNDOFF = float(np.finfo(np.float64).eps)


def frobenius_norm(array: Any) -> float:
    """The Frobenius (2-)norm sqrt(Σ xᵢ²) over every entry, without overflow or underflow.

    ``np.linalg.norm`` squares the entries, so an entry above about 1.3e154 makes it inf even
    though the norm itself fits in float64 (and warns "overflow"); entries below about 1e-162
    square to 0. This computes it scaled, ``m · sqrt(Σ (xᵢ / m)²)`` with m = max |xᵢ|: every
    scaled entry is at most 1 in magnitude, so nothing overflows, and the result is right to
    rounding. No numpy warning is emitted.

    Parameters
    ----------
    array : array_like of real numbers, any shape (e.g. (n_samples, n_features))

    Returns
    -------
    float
        0.0 for an empty or all-zero array; inf when an entry is ±inf, or when the norm itself
        exceeds the float64 range (about 1.8e308); nan when an entry is nan.

    Raises
    ------
    TypeError
        ``array`` is not numeric (strings, objects, complex numbers, ragged lists).

    Examples
    --------
    >>> frobenius_norm([3.0, 4.0])
    5.0
    >>> frobenius_norm([3e300, 4e300])  # np.linalg.norm gives inf
    5e+300
    """
    values = as_array(array, "array")
    if values.dtype.kind not in "biuf":
        raise TypeError(
            f"array must hold real numbers, got an array of dtype {values.dtype}"
        )
    values = values.astype(np.float64, copy=False)
    if values.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        largest = largest_magnitude(values)  # nan when an entry is nan
        if not math.isfinite(largest) or largest == 0.0:
            return largest
        scaled = values / largest
        return largest * math.sqrt(float(np.dot(scaled.reshape(-1), scaled.reshape(-1))))


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``‖a − n‖₂ / max(‖a‖₂, ‖n‖₂)`` for two float arrays of the same shape (n_entries,).

    Both are divided by their largest magnitude first, so nothing overflows (a and n may hold
    entries up to the float64 maximum, and a − n may exceed it). 0.0 when both are all zero
    (or empty); nan when an entry is not finite.
    """
    with np.errstate(all="ignore"):
        scale = max(largest_magnitude(analytic), largest_magnitude(numeric))
        if scale == 0.0:
            return 0.0
        if not math.isfinite(scale):
            return math.nan
        a, n = analytic / scale, numeric / scale  # every entry in [−1, 1]
        return frobenius_norm(a - n) / max(frobenius_norm(a), frobenius_norm(n))


def central_difference_error(
    J_0: float, J_plus: float, J_minus: float, J_plus2: float, J_minus2: float, eps: float
) -> tuple[float, float]:
    """Estimates of the two errors of the central difference D(ε) of one entry.

    Parameters
    ----------
    J_0, J_plus, J_minus, J_plus2, J_minus2 : float
        J at θ, θ + ε e_j, θ − ε e_j, θ + 2ε e_j and θ − 2ε e_j.
    eps : float
        The step ε.

    Returns
    -------
    rounding, truncation : float
        ``u · max(|J_0|, |J_plus|, |J_minus|) / ε`` (u = float64's machine epsilon) and the
        Richardson estimate ``|D(ε) − D(2ε)| / 3`` of ε² J‴ / 6, where D(h) = (J(θ + h e_j) −
        J(θ − h e_j)) / (2h). gradcheck allows ``ROUNDING_SAFETY · rounding +
        TRUNCATION_SAFETY · truncation`` (package docstring).
    """
    rounding = _UNIT_ROUNDOFF * max(abs(J_0), abs(J_plus), abs(J_minus)) / eps
    d_1 = (J_plus - J_minus) / (2.0 * eps)
    d_2 = (J_plus2 - J_minus2) / (4.0 * eps)
    return rounding, abs(d_1 - d_2) / 3.0


def one_sided_difference_error(
    J_0: float, J_1: float, J_2: float, J_4: float, eps: float
) -> tuple[float, float]:
    """Estimates of the two errors of the second-order one-sided difference of one entry.

    With s = ±1 the side, D₁(h) = s (4 J(θ + s h e_j) − J(θ + 2 s h e_j) − 3 J(θ)) / (2h) =
    J′ − h² J‴ / 3 + O(h³), so D₁(2ε) − D₁(ε) is three times the error of D₁(ε).

    Parameters
    ----------
    J_0, J_1, J_2, J_4 : float
        J at θ, θ + s ε e_j, θ + 2 s ε e_j and θ + 4 s ε e_j.
    eps : float
        The step ε (the side does not change the magnitudes returned).

    Returns
    -------
    rounding, truncation : float
        ``4 u · max(|J_0|, |J_1|, |J_2|) / ε`` (the coefficients 3, 4, 1 over 2ε sum to 4/ε)
        and ``|D₁(ε) − D₁(2ε)| / 3``.
    """
    rounding = 4.0 * _UNIT_ROUNDOFF * max(abs(J_0), abs(J_1), abs(J_2)) / eps
    d_1 = (4.0 * J_1 - J_2 - 3.0 * J_0) / (2.0 * eps)
    d_2 = (4.0 * J_2 - J_4 - 3.0 * J_0) / (4.0 * eps)
    return rounding, abs(d_1 - d_2) / 3.0


def allowance(rounding: float, truncation: float) -> float:
    """The error an entry may show and still pass on the finite-difference error."""
    return ROUNDING_SAFETY * rounding + TRUNCATION_SAFETY * truncation

