"""Feature scaling: z-scores (:class:`Standardizer`) and ranges (:class:`MinMaxScaler`).

Both learn one affine map per column in ``fit`` and apply it in ``transform``; the statistics
are exported by ``get_config()`` as plain lists so that a run folder can store them as JSON and
``from_config()`` can rebuild the fitted scaler.

Arrays are (n_samples, n_features). Statistics are computed in float64; ``transform`` returns
float32 for float32 input and float64 otherwise. Non-finite values are rejected, and so is data
whose scaled values would leave the range of the output dtype (a ``ValueError`` naming ``X``):
no method returns infinity for finite input.

Every method works through the rows in chunks of about ``_CHUNK_ELEMENTS`` entries, so that no
float64 copy of the whole input is made: ``fit`` needs memory for a chunk, ``transform`` for
its result (in the input's dtype) and a chunk.

Example
-------
>>> import numpy as np
>>> from chainrule.preprocessing import Standardizer
>>> X = np.array([[1.0, 5.0], [3.0, 5.0]])
>>> Standardizer().fit_transform(X)
array([[-1.,  0.],
       [ 1.,  0.]])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Self

import numpy as np

from ._configurable import constructor_repr
from ._power_of_two import power_of_two_floor
from ._validation import all_finite, as_float_array, check_number, float_dtype_of, format_shape
from .errors import NotBuiltError, ShapeError

__all__ = ["MinMaxScaler", "Standardizer"]

#: Rows are processed this many entries at a time (at least one row): float64 chunks of 512 KiB,
#: which stay in cache, instead of float64 temporaries the size of the input.
_CHUNK_ELEMENTS = 1 << 16


def _rows_per_chunk(X: np.ndarray) -> int:
    """How many rows of ``X`` (n_samples, n_features) make a chunk of ``_CHUNK_ELEMENTS``."""
    return max(1, _CHUNK_ELEMENTS // max(1, X.shape[1]))


class _ColumnScaler:
    """What both scalers share: input checks, the fit/transform protocol and the config format.

    Subclasses set ``_STATS`` (the names of their fitted per-column arrays) and implement
    ``_fit(X)`` (fill those arrays, in float64, from float32 or float64 data), and the maps
    ``_forward(Z)`` and ``_inverse(Z)``, which overwrite a float64 chunk of rows ``Z`` with
    its image (in place: no temporaries).
    """

    _STATS: tuple[str, ...] = ()

    n_features_: int | None = None

    # ------------------------------------------------------------------ public API

    def fit(self, X: Any) -> Self:
        """Learn the per-column statistics of ``X``, shape (n_samples, n_features); returns self."""
        # float32 data stays float32 (every float32 value is exactly a float64 one): _fit
        # converts it a chunk at a time rather than copying all of it to float64.
        X = as_float_array(X, "X", dtype=float_dtype_of(X), ndim=2)
        self._fit(X)
        self.n_features_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scale ``X`` of shape (n_samples, n_features); a new array of the same shape."""
        return self._apply(self._forward, X, "transform")

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: back to the original units, same shape."""
        return self._apply(self._inverse, X, "inverse_transform")

    def get_config(self) -> dict[str, Any]:
        """The settings and fitted statistics as JSON-able values (lists of floats).

        Statistics are ``None`` before ``fit``. ``from_config(get_config())`` is an exact copy:
        Python's float repr, which ``json`` uses, round-trips every float64.
        """
        config: dict[str, Any] = {"class": type(self).__name__, **self._settings()}
        for name in self._STATS:
            value = getattr(self, name + "_", None)
            config[name] = None if value is None else [float(v) for v in value]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        """Rebuild a scaler (fitted, if the config holds statistics) from :meth:`get_config`."""
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        if config.get("class", cls.__name__) != cls.__name__:
            raise ValueError(f"config is for {config['class']!r}, not {cls.__name__!r}")
        missing = [key for key in (*cls._settings_keys(), *cls._STATS) if key not in config]
        if missing:
            raise ValueError(f"{cls.__name__} config lacks {missing}; got keys {sorted(config)}")
        scaler = cls(**{key: config[key] for key in cls._settings_keys()})
        if all(config[name] is None for name in cls._STATS):
            return scaler  # an unfitted scaler's config
        stats = {
            name: as_float_array(config[name], f"config[{name!r}]", ndim=1) for name in cls._STATS
        }
        lengths = {name: len(array) for name, array in stats.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                f"{cls.__name__} config statistics must have equal lengths, got {lengths}"
            )
        for name, array in stats.items():
            setattr(scaler, name + "_", array)
        scaler._after_load()
        scaler.n_features_ = len(array)
        return scaler

    # ------------------------------------------------------------------ helpers

    def _apply(self, affine: Callable[[np.ndarray], None], X: Any, method: str) -> np.ndarray:
        """``affine(X)`` in float64, returned in ``X``'s dtype, refusing ``X`` whose result
        leaves that dtype's range.

        The map is applied in place to one chunk of rows at a time, converted to float64 in a
        buffer (for float32 ``X``; float64 rows are copied straight into the result) and cast
        into its rows of the result: the values of the map of the whole array (it is
        elementwise), without float64 temporaries the size of ``X``.

        The map is affine with finite, positive scales, so finite data stays finite unless it
        is far outside the fitted data: the overflow cannot be ruled out beforehand, so it is
        let happen and the result checked.
        """
        X = self._check_X(X)
        result = np.empty(X.shape, X.dtype)
        step = _rows_per_chunk(X)
        in_place = X.dtype == np.float64
        buffer = None if in_place else np.empty((min(step, X.shape[0]), X.shape[1]))
        with np.errstate(over="ignore"):  # X - mean, X * scale, the cast to float32
            for start in range(0, X.shape[0], step):
                rows = X[start : start + step]
                work = result[start : start + step] if in_place else buffer[: len(rows)]
                work[...] = rows
                affine(work)
                if not in_place:
                    result[start : start + step] = work
        if not all_finite(result):
            row, column = (int(i) for i in np.argwhere(~np.isfinite(result))[0])
            raise ValueError(
                f"X is too large for this fitted {type(self).__name__}: {method} takes "
                f"X[{row}, {column}] = {X[row, column].item()!r} beyond the {X.dtype} range "
                f"(|x| > {np.finfo(X.dtype).max:.3g})"
            )
        return result

    def _check_X(self, X: Any) -> np.ndarray:
        """``X`` as float32 (if given as float32) or float64, with the number of columns of fit."""
        if self.n_features_ is None:
            raise NotBuiltError(f"{type(self).__name__} is not fitted; call fit(X) first")
        X = as_float_array(X, "X", dtype=float_dtype_of(X), ndim=2)
        if X.shape[1] != self.n_features_:
            raise ShapeError(
                f"{type(self).__name__} was fitted on {self.n_features_} features and expects X "
                f"of shape {format_shape((None, self.n_features_))}, got {X.shape}"
            )
        return X

    def _settings(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _settings_keys(cls) -> tuple[str, ...]:
        return ()

    def _after_load(self) -> None:
        """Recompute derived arrays after statistics were set from a config."""

    def __repr__(self) -> str:
        return constructor_repr(self, self._settings())


def _column_sums(X: np.ndarray, c: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """Per column, in float64, ``Σ_i U[i]`` or (with ``centre``) ``Σ_i (U[i] - centre)²``, where
    ``U = X / c``: shape (n_features,).

    ``X`` is (n_samples, n_features), float32 or float64; ``c`` and ``centre`` are
    (n_features,). ``U`` is formed a chunk of rows at a time in a float64 buffer whose first row
    holds the running total, so each chunk's rows are added on to it in order, as in a sum of
    the whole of ``U`` over its rows.
    """
    step = _rows_per_chunk(X)
    buffer = np.empty((min(step, X.shape[0]) + 1, X.shape[1]))  # row 0: the running total
    total = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], step):
        rows = X[start : start + step]
        work = buffer[: len(rows) + 1]
        work[0] = total
        terms = work[1:]
        np.divide(rows, c, out=terms)
        if centre is not None:
            np.subtract(terms, centre, out=terms)
            np.multiply(terms, terms, out=terms)
        total = work.sum(axis=0)
    return total


def _indistinguishable_from_constant(var: np.ndarray, mean: np.ndarray, n: int) -> np.ndarray:
    """Per column, whether the computed variance can come from rounding alone: (n_features,) bool.

    ``var`` and ``mean`` are the computed column variances and means, each (n_features,), of
    ``n`` samples in float64. With ``eps = 2**-52`` (float64 machine epsilon) a column counts
    as constant when::

        var <= n·eps·var + (n·mean·eps)²

    the bound that scikit-learn's ``StandardScaler`` uses to treat near-constant features as
    constant (``_is_constant_feature`` in ``sklearn/preprocessing/_data.py``, as of version
    1.9): the rounding error bound of the two-pass variance algorithm from T. F. Chan,
    G. H. Golub and R. J. LeVeque, "Algorithms for computing the sample variance: analysis and
    recommendations", The American Statistician 37(3), 1983. The first term bounds the
    relative error of the sum of squares, the second the variance that an error of about
    ``n·eps`` (relative) in the computed mean produces on its own. The bound is scale
    invariant (both sides scale by ``c²`` when the data is scaled by ``c``), so a column is
    judged by its relative spread: roughly, one whose standard deviation is at most
    ``n·eps·|mean|`` is constant.
    """
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * mean * eps) ** 2


class Standardizer(_ColumnScaler):
    """Z-score every column: ``Z = (X - mean) / scale``.

    ``mean`` and ``scale`` are the column means and population standard deviations
    (``ddof=0``, as scikit-learn's ``StandardScaler``) of the data given to ``fit``. A constant
    column gets ``scale = 1``, so it maps to (near) zeros instead of dividing by zero or
    blowing rounding noise up to values of order 1. Constant means all values equal, or a
    variance no larger than what rounding alone can produce (see
    :func:`_indistinguishable_from_constant`): ``[[1.0], [1 + 2**-52], [1.0]]`` standardises to
    ``[0, 2.2e-16, 0]``, not ``[0, 2, 0]``. Inverse: ``X = Z * scale + mean``.

    The statistics are computed on every column divided by a power of two ``c`` close to its
    largest magnitude, ``mean = mean(X / c) * c`` and ``std = std(X / c) * c``: an exact
    rescaling (the same rounding as without it) that keeps the sum and the squares in range, so
    data up to the float64 limit (values of ±1e200, whose squares overflow) gets its finite
    statistics. The sums (of ``X / c``, then of the squared deviations from the mean, the
    two-pass algorithm) run in float64 over chunks of rows, each chunk's rows added on to the
    running total in order: for data in row-major order with several columns, NumPy's sum of
    the whole array adds them in that order too, so the statistics are the same bit for bit;
    otherwise (one column, column-major data, which NumPy sums pairwise) they differ from it
    only by float64 rounding.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    scale_ : ndarray of shape (n_features,)
    n_features_ : int
        Number of columns seen in ``fit``; ``None`` before.
    """

    _STATS = ("mean", "scale")

    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None

    def _fit(self, X: np.ndarray) -> None:
        # (n_features,) each, float64 (exact for float32 data)
        high, low = X.max(axis=0).astype(np.float64), X.min(axis=0).astype(np.float64)
        # Per column the power of two c with c <= max|X[:, j]| < 2 c (0.5 for an all-zero
        # column), (n_features,): U = X / c is exact and |U| < 2. It is formed a chunk at a time.
        c = power_of_two_floor(np.maximum(high, -low))
        n = X.shape[0]
        raw_mean_u = _column_sums(X, c) / n
        var_u = _column_sums(X, c, centre=raw_mean_u) / n  # two-pass: mean of (U - mean U)²
        high_u, low_u = high / c, low / c
        # Rounding can carry mean(U) out of [min U, max U], and std(U) above (max U − min U) / 2,
        # the largest a population standard deviation can be (Popoviciu, "Sur les équations
        # algébriques ayant toutes leurs racines réelles", Mathematica 9, 1935: variance ≤
        # (max − min)² / 4). Held to those bounds, both times c stay within [-max|X|, max|X|].
        mean_u = np.clip(raw_mean_u, low_u, high_u)
        std_u = np.minimum(np.sqrt(var_u), (high_u - low_u) / 2)
        mean, std = mean_u * c, std_u * c
        # The rounding-level test is done on U (|U| < 2), where (n·mean·eps)² cannot overflow;
        # it is invariant under the exact rescaling by c. std == 0 catches a tiny std * c that
        # underflowed (subnormal data).
        # (A column of equal values has std_u = 0, which the rounding test always calls constant.)
        constant = _indistinguishable_from_constant(std_u**2, mean_u, X.shape[0]) | (std == 0)
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)

    def _after_load(self) -> None:
        if (self.scale_ <= 0).any():
            raise ValueError(f"Standardizer scale must be positive, got {self.scale_.tolist()}")

    def _forward(self, Z: np.ndarray) -> None:
        np.subtract(Z, self.mean_, out=Z)  # Z = (Z - mean) / scale
        np.divide(Z, self.scale_, out=Z)

    def _inverse(self, Z: np.ndarray) -> None:
        np.multiply(Z, self.scale_, out=Z)  # Z = Z * scale + mean
        np.add(Z, self.mean_, out=Z)


class MinMaxScaler(_ColumnScaler):
    """Map every column's ``[min, max]`` (seen in ``fit``) linearly onto ``feature_range``.

    With ``(lo, hi) = feature_range`` and per column ``m = min``, ``M = max``::

        scale = (hi - lo) / (M - m)        (a constant column, M == m, gets scale = hi - lo)
        Y     = (X - m) * scale + lo
        X     = (Y - lo) / scale + m       (inverse)

    So a constant column maps to ``lo``. Data outside the fitted range maps outside
    ``feature_range`` (no clipping). ``scale`` must be a finite positive float64: ``fit``
    refuses a column whose range ``M - m`` overflows (beyond 1.8e308) or is so small that
    ``(hi - lo) / (M - m)`` does (a subnormal range such as 5e-324), with a ValueError naming
    ``X``.

    Parameters
    ----------
    feature_range : (float, float), default (0, 1)
        ``(lo, hi)`` with ``lo < hi`` and a finite width ``hi - lo`` (at most 1.8e308).

    Attributes
    ----------
    data_min_, data_max_, scale_ : ndarray of shape (n_features,)
    n_features_ : int
        Number of columns seen in ``fit``; ``None`` before.
    """

    _STATS = ("data_min", "data_max")

    data_min_: np.ndarray | None = None
    data_max_: np.ndarray | None = None
    scale_: np.ndarray | None = None

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        try:
            lo, hi = feature_range
        except (TypeError, ValueError):
            raise TypeError(
                f"feature_range must be a pair (lo, hi), got {feature_range!r}"
            ) from None
        lo = check_number(lo, "feature_range[0]")
        hi = check_number(hi, "feature_range[1]")
        if not lo < hi:
            raise ValueError(f"feature_range must satisfy lo < hi, got {feature_range!r}")
        if not math.isfinite(hi - lo):  # Python floats: the difference overflows to inf
            raise ValueError(
                f"feature_range must have a finite width hi - lo (at most "
                f"{np.finfo(np.float64).max:.6g}), got {feature_range!r}"
            )
        self.feature_range = (lo, hi)

    def _settings(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    @classmethod
    def _settings_keys(cls) -> tuple[str, ...]:
        return ("feature_range",)

    def _fit(self, X: np.ndarray) -> None:
        data_min = X.min(axis=0).astype(np.float64)  # exact for float32 data
        data_max = X.max(axis=0).astype(np.float64)
        self.scale_ = self._scale(data_min, data_max, "X")
        self.data_min_, self.data_max_ = data_min, data_max

    def _after_load(self) -> None:
        if (self.data_max_ < self.data_min_).any():
            raise ValueError("MinMaxScaler data_max must be >= data_min in every column")
        self.scale_ = self._scale(self.data_min_, self.data_max_, "config")

    def _scale(self, data_min: np.ndarray, data_max: np.ndarray, source: str) -> np.ndarray:
        """``(hi - lo) / (data_max - data_min)`` per column (``hi - lo`` for a constant one),
        refusing a column where it is not a finite positive float64 (``source`` names the
        argument the statistics came from)."""
        lo, hi = self.feature_range
        with np.errstate(over="ignore"):  # an overflow gives inf (or 0 = width / inf): checked
            data_range = data_max - data_min
            scale = (hi - lo) / np.where(data_range == 0, 1.0, data_range)
        bad = ~np.isfinite(scale) | (scale <= 0)
        if bad.any():
            j = int(np.argmax(bad))
            raise ValueError(
                f"MinMaxScaler cannot map {source} column {j}, which spans "
                f"[{float(data_min[j])!r}, {float(data_max[j])!r}], onto feature_range "
                f"{self.feature_range}: the scale (hi - lo) / (max - min) = {float(scale[j])!r} "
                "must be a finite positive float64; rescale the column"
            )
        return scale

    def _forward(self, Z: np.ndarray) -> None:
        np.subtract(Z, self.data_min_, out=Z)  # Z = (Z - min) * scale + lo
        np.multiply(Z, self.scale_, out=Z)
        np.add(Z, self.feature_range[0], out=Z)

    def _inverse(self, Z: np.ndarray) -> None:
        np.subtract(Z, self.feature_range[0], out=Z)  # Z = (Z - lo) / scale + min
        np.divide(Z, self.scale_, out=Z)
        np.add(Z, self.data_min_, out=Z)
