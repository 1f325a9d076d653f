"""The coefficient of determination R², computed without overflow: the one implementation
behind :func:`chainrule.training.metrics.r2_score` and the scikit-learn regressors' ``score``.

scikit-learn's ``r2_score`` with its defaults, for targets and predictions of shape
(n_samples, n_outputs) and optional sample weights::

    R²_j = 1 − Σ_i w_i (y_ij − ŷ_ij)² / Σ_i w_i (y_ij − ȳ_j)²      ȳ_j = Σ_i w_i y_ij / Σ_i w_i

averaged uniformly over the outputs ``j``; an output whose targets are all equal (over the
samples of positive weight: a zero denominator) scores 1.0 when it is predicted exactly and 0.0
otherwise. Which outputs are constant is read from the targets themselves, not from the
deviations ``y − ȳ``: the computed mean of equal values need not equal them (ten weights 0.1
sum to 0.9999999999999999), and deviations of ~1e-16 would give an R² of ~-1e31.

Computed as written, the squares overflow once values pass ~1e154: ``r2_score`` then warns and
returns ``nan``, ``-inf``, or even a wrong finite value (a finite numerator over an infinite
denominator gives 1.0). Here the ratio of the two sums is computed from scaled values instead:
with ``r = y − ŷ`` and ``d = y − ȳ`` and their largest magnitudes ``r_max`` and ``d_max``
(over the samples of positive weight) ::

    Σ w r² / Σ w d² = (r_max / d_max)² · Σ w (r / r_max)² / Σ w (d / d_max)²

where every scaled entry lies in [−1, 1]. ``y`` and ``ŷ`` are first divided by one power of
two, which is exact, when their largest magnitude lies outside [2**-384, 2**384]
(``chainrule.training._scaling.scaled``), so that ``r`` and ``d`` cannot overflow either. The
result is the same as ``r2_score``'s wherever that one is finite and correct (up to rounding);
where the true R² is below the float64 range (predictions ~1e154 times further from ``y`` than
``y`` varies), it is ``-inf``.
"""

from __future__ import annotations

import numpy as np

from .._validation import largest_magnitude
from ._scaling import scaled


def weighted_r2(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None,
                name: str = "y") -> float:
    """R² of ``y_pred`` against ``y_true`` (module notes); ``-inf`` below the float64 range.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Finite floats of the same shape (checked by the caller).
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative, not all zero (checked by the caller).
    name : str
        The targets' argument name, for the message about too few samples.

    Raises
    ------
    ValueError
        Fewer than two samples (R² is not defined), or weights spanning more than the float64
        range.
    """
    Y = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)  # (n_samples, n_outputs)
    P = np.asarray(y_pred, dtype=np.float64).reshape(Y.shape)
    if Y.shape[0] < 2:
        raise ValueError(f"R² needs at least 2 samples, got {name} with {Y.shape[0]}")
    w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight, np.float64)
    Y, P, _ = scaled(Y, P)  # exact power-of-two scaling: now |Y|, |P| <= 2**384
    kept = w > 0
    Y, P, w = Y[kept], P[kept], w[kept]
    constant = Y.min(axis=0) == Y.max(axis=0)  # (n_outputs,); the scaling kept equal values equal
    span = (float(w.min()), float(w.max()))  # for the message of _one_output
    # Only relative weights matter. The weighted sums of _one_output are at most Σ w, so w is
    # divided (by a power of two) only when Σ w could overflow: a weight far smaller than the
    # largest still counts instead of underflowing to 0.
    exponent = int(np.frexp(w.max())[1]) + int(np.ceil(np.log2(w.size)))  # Σ w < 2**exponent
    if exponent > 1023:
        w = np.ldexp(w, 1023 - exponent)
    with np.errstate(under="ignore"):
        R = Y - P  # |R| < 2**385
        D = Y - (w / w.sum()) @ Y  # weights of the mean in [0, 1]: |D| < 2**385
        scores = [_constant_output(R[:, j]) if constant[j]
                  else _one_output(R[:, j], D[:, j], w, span) for j in range(Y.shape[1])]
    return float(sum(s / len(scores) for s in scores))


def _constant_output(r: np.ndarray) -> float:
    """R² of an output whose targets are all equal, from its residuals ``r`` (n_samples,):
    scikit-learn's convention, 1.0 when predicted exactly and 0.0 otherwise."""
    return 1.0 if largest_magnitude(r) == 0.0 else 0.0


def _one_output(r: np.ndarray, d: np.ndarray, w: np.ndarray,
                span: tuple[float, float]) -> float:
    """``1 − Σ w r² / Σ w d²`` for one output's residuals ``r`` and deviations ``d`` (both
    (n_samples,)) of targets that are not all equal, with positive weights ``w`` (n_samples,);
    ``-inf`` when the ratio is beyond the float64 range. ``span``: the smallest and largest
    weight as given, for messages."""
    r_max, d_max = largest_magnitude(r), largest_magnitude(d)
    if r_max == 0.0:
        return 1.0
    spread = float(w @ (d / d_max) ** 2)  # in [w_k, Σ w], w_k the weight of a largest |d|
    if spread == 0.0:  # w_k underflowed when w was scaled down (only near overflow, above)
        raise ValueError(
            "sample_weight spans more than the float64 range (subnormal weights beside weights "
            f"near the largest float64: positive weights from {span[0]:.3g} to {span[1]:.3g}); "
            "rescale or drop the tiny weights"
        )
    sums = float(w @ (r / r_max) ** 2) / spread
    with np.errstate(over="ignore"):
        ratio = (np.float64(r_max) / np.float64(d_max)) ** 2 * sums
    return float(1.0 - ratio)
