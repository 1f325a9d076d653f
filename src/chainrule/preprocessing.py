"""Feature scaling: z-scores (:class:`Standardizer`) and ranges (:class:`MinMaxScaler`).

Both learn one affine map per column in ``fit`` and apply it in ``transform``; the statistics
are exported by ``get_config()`` as plain lists so that a run folder can store them as JSON and
``from_config()`` can rebuild the fitted scaler.

Arrays are (n_samples, n_features). Statistics are computed in float64; ``transform`` returns
float32 for float32 input and float64 otherwise. Non-finite values are rejected.

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

from typing import Any, Self

import numpy as np

from ._validation import as_float_array, check_number, format_shape
from .errors import NotBuiltError, ShapeError

__all__ = ["MinMaxScaler", "Standardizer"]


class _ColumnScaler:
    """What both scalers share: input checks, the fit/transform protocol and the config format.

    Subclasses set ``_STATS`` (the names of their fitted per-column arrays) and implement
    ``_fit(X)`` (fill those arrays from float64 data), ``_forward(X)`` and ``_inverse(X)``.
    """

    _STATS: tuple[str, ...] = ()

    n_features_: int | None = None

    # ------------------------------------------------------------------ public API

    def fit(self, X: Any) -> Self:
        """Learn the per-column statistics of ``X``, shape (n_samples, n_features); returns self."""
        X = as_float_array(X, "X", dtype=np.float64, ndim=2)
        self._fit(X)
        self.n_features_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scale ``X`` of shape (n_samples, n_features); a new array of the same shape."""
        X = self._check_X(X)
        return self._forward(X).astype(X.dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: back to the original units, same shape."""
        X = self._check_X(X)
        return self._inverse(X).astype(X.dtype, copy=False)

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

    def _check_X(self, X: Any) -> np.ndarray:
        """``X`` as float32 (if given as float32) or float64, with the number of columns of fit."""
        if self.n_features_ is None:
            raise NotBuiltError(f"{type(self).__name__} is not fitted; call fit(X) first")
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X = as_float_array(X, "X", dtype=dtype, ndim=2)
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
        settings = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({settings})"


class Standardizer(_ColumnScaler):
    """Z-score every column: ``Z = (X - mean) / scale``.

    ``mean`` and ``scale`` are the column means and population standard deviations
    (``ddof=0``, as scikit-learn's ``StandardScaler``) of the data given to ``fit``. A constant
    column (all its values equal) gets ``scale = 1``, so it maps to zeros instead of dividing by
    zero. Inverse: ``X = Z * scale + mean``.

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
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        constant = np.ptp(X, axis=0) == 0  # exact test: rounding can make std tiny, not zero
        self.scale_ = np.where(constant | (std == 0), 1.0, std)

    def _after_load(self) -> None:
        if (self.scale_ <= 0).any():
            raise ValueError(f"Standardizer scale must be positive, got {self.scale_.tolist()}")

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) / self.scale_

    def _inverse(self, X: np.ndarray) -> np.ndarray:
        return X * self.scale_ + self.mean_


class MinMaxScaler(_ColumnScaler):
    """Map every column's ``[min, max]`` (seen in ``fit``) linearly onto ``feature_range``.

    With ``(lo, hi) = feature_range`` and per column ``m = min``, ``M = max``::

        scale = (hi - lo) / (M - m)        (a constant column, M == m, gets scale = hi - lo)
        Y     = (X - m) * scale + lo
        X     = (Y - lo) / scale + m       (inverse)

    So a constant column maps to ``lo``. Data outside the fitted range maps outside
    ``feature_range`` (no clipping).

    Parameters
    ----------
    feature_range : (float, float), default (0, 1)
        ``(lo, hi)`` with ``lo < hi``.

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
        self.feature_range = (lo, hi)

    def _settings(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    @classmethod
    def _settings_keys(cls) -> tuple[str, ...]:
        return ("feature_range",)

    def _fit(self, X: np.ndarray) -> None:
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self._after_load()

    def _after_load(self) -> None:
        if (self.data_max_ < self.data_min_).any():
            raise ValueError("MinMaxScaler data_max must be >= data_min in every column")
        lo, hi = self.feature_range
        data_range = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / np.where(data_range == 0, 1.0, data_range)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        return (X - self.data_min_) * self.scale_ + self.feature_range[0]

    def _inverse(self, X: np.ndarray) -> np.ndarray:
        return (X - self.feature_range[0]) / self.scale_ + self.data_min_
