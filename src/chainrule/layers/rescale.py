"""``Rescale``: fixed per-feature preprocessing carried inside the network."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float_array
from ..errors import ShapeError
from .base import LAYERS, Layer


@LAYERS.register("Rescale")
class Rescale(Layer):
    """Y = (X − offset) / scale, column by column; nothing in it is trained.

    Put first in a network, it makes the network take raw features: the statistics of a
    standardisation (offset = mean, scale = standard deviation) or of a min-max scaling travel
    with the model file, so predictions on new raw data need no separate preprocessing step.
    ``offset`` and ``scale`` are part of the layer's config, not trainable parameters.

    Backward: ∂Y_ij/∂X_ij = 1/scale_j, so ``dX = dY / scale``. Derivation:
    ``docs/backprop.md#rescale``.

    Parameters
    ----------
    offset, scale : array_like of shape (n_features,)
        ``scale`` must be positive.

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> layer = Rescale(offset=[1.0, 10.0], scale=[2.0, 5.0])
    >>> layer.forward(np.array([[3.0, 0.0]]))
    array([[ 1., -2.]])
    """

    def __init__(self, offset: Any, scale: Any) -> None:
        super().__init__()
        # Copies: the layer (and a model file saved from it) must not follow later in-place
        # changes to the caller's arrays (a buffer the caller reuses).
        self.offset = as_float_array(offset, "offset", ndim=1).copy()
        self.scale = as_float_array(scale, "scale", ndim=1).copy()
        if self.offset.shape != self.scale.shape:
            raise ShapeError(
                f"offset and scale must have the same shape, got {self.offset.shape} and "
                f"{self.scale.shape}"
            )
        if not (self.scale > 0).all():
            raise ValueError(f"scale must be positive, got minimum {self.scale.min()}")
        self.in_features = self.offset.shape[0]
        self._typed: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def from_scaler(cls, scaler: Any) -> Rescale:
        """The layer doing what a fitted ``Standardizer`` or ``MinMaxScaler`` does.

        A min-max scaling ``(X − m)·s + lo`` is the same map as ``(X − (m − lo/s)) / (1/s)``.
        """
        from ..preprocessing import MinMaxScaler, Standardizer

        if isinstance(scaler, Standardizer) and scaler.mean_ is not None:
            return cls(scaler.mean_, scaler.scale_)
        if isinstance(scaler, MinMaxScaler) and scaler.data_min_ is not None:
            lo = scaler.feature_range[0]
            with np.errstate(over="ignore", divide="ignore"):  # the constructor refuses inf
                return cls(scaler.data_min_ - lo / scaler.scale_, 1.0 / scaler.scale_)
        raise TypeError(f"expected a fitted Standardizer or MinMaxScaler, got {scaler!r}")

    def output_features(self, in_features: int) -> int:
        if in_features != self.in_features:
            raise ValueError(
                f"{self.label} expects {self.in_features} input features, "
                f"but the previous layer gives {in_features}"
            )
        return in_features

    def _statistics(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """offset and scale in ``dtype``, so a float32 network stays float32."""
        if dtype not in self._typed:
            self._typed[dtype] = (self.offset.astype(dtype), self.scale.astype(dtype))
        return self._typed[dtype]

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        X = self._check_input(X, self.in_features)
        offset, scale = self._statistics(X.dtype)
        Y = self._new_array("Y", X.shape, X.dtype)
        with np.errstate(over="ignore"):  # extreme statistics: inf, reported by the network
            np.subtract(X, offset, out=Y)
            Y /= scale
        self._remember(training, Y=Y)
        return Y

    def infer(self, X: np.ndarray) -> np.ndarray:
        offset, scale = self._statistics(X.dtype)
        X -= offset
        X /= scale
        return X

    def backward(self, dY: np.ndarray) -> np.ndarray:
        Y = self._recall("Y")
        dY = self._check_upstream(dY, Y.shape)
        _, scale = self._statistics(Y.dtype)
        dX = self._new_array("dX", dY.shape, dY.dtype)
        return np.divide(dY, scale, out=dX)  # dX = dY / scale

    def get_config(self) -> dict[str, Any]:
        return {"offset": self.offset.tolist(), "scale": self.scale.tolist()}

    def extra_repr(self) -> str:
        return f"{self.in_features} features"
