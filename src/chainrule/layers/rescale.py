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
        ``scale`` must be positive. In a float32 network both must also fit float32: the
        first forward pass refuses, with a ``ValueError`` naming the feature, a scale that
        float32 rounds to 0 (a feature of values around 1e-50) or an offset or scale beyond its
        range; such a feature needs a float64 network.

    Attributes
    ----------
    offset, scale : ndarray of shape (n_features,), read-only
        The statistics the layer computes with (float64). Assign new values to change them
        (``layer.offset = new_mean``: checked as in the constructor); writing into the arrays
        is refused, since the layer keeps them converted to its dtype.

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
        self._set_statistics(offset, scale)
        self.in_features = self._offset.shape[0]

    @property
    def offset(self) -> np.ndarray:
        return _read_only(self._offset)

    @offset.setter
    def offset(self, value: Any) -> None:
        self._set_statistics(self._same_width(value, "offset"), self._scale)

    @property
    def scale(self) -> np.ndarray:
        return _read_only(self._scale)

    @scale.setter
    def scale(self, value: Any) -> None:
        self._set_statistics(self._offset, self._same_width(value, "scale"))

    def _same_width(self, value: Any, name: str) -> np.ndarray:
        """New statistics keep the layer's width, which the network's sizes were checked with."""
        array = as_float_array(value, name, ndim=1)
        if array.shape != (self.in_features,):
            raise ShapeError(
                f"{self.label}: {name} must have shape ({self.in_features},), one value per "
                f"input feature, got {array.shape}"
            )
        return array

    def _set_statistics(self, offset: Any, scale: Any) -> None:
        """Check and keep the statistics, and forget their copies in other dtypes."""
        # Copies: the layer (and a model file saved from it) must not follow later in-place
        # changes to the caller's arrays (a buffer the caller reuses).
        offset = as_float_array(offset, "offset", ndim=1).copy()
        scale = as_float_array(scale, "scale", ndim=1).copy()
        if offset.shape != scale.shape:
            raise ShapeError(
                f"offset and scale must have the same shape, got {offset.shape} and {scale.shape}"
            )
        if not (scale > 0).all():
            raise ValueError(f"scale must be positive, got minimum {scale.min()}")
        self._offset, self._scale = offset, scale
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
        """offset and scale in ``dtype``, so a float32 network stays float32.

        Converted once per dtype: the statistics change only through the setters, which
        forget the conversions.
        """
        typed = self._typed.get(dtype)
        if typed is None:
            typed = self._typed[dtype] = self._converted(dtype)
        return typed

    def _converted(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """offset and scale in ``dtype``, refused when that dtype cannot hold them.

        Valid float64 statistics of a feature whose values float32 cannot represent (around
        1e-50, or 1e39) become a scale of 0, or infinity: the output would be inf or NaN, or
        all zeros, and the error would blame the inputs.
        """
        with np.errstate(over="ignore"):  # beyond the dtype's range: inf, refused below
            offset, scale = self._offset.astype(dtype), self._scale.astype(dtype)
        for name, original, converted in (("offset", self._offset, offset),
                                          ("scale", self._scale, scale)):
            bad = ~np.isfinite(converted) | ((converted == 0) & (name == "scale"))
            if bad.any():
                j = int(np.argmax(bad))
                problem = (f"is beyond the {dtype.name} range" if converted[j]
                           else f"is 0 in {dtype.name}")
                raise ValueError(
                    f"{self.label}: feature {j} has {name} {original[j]:.6g}, which {problem} "
                    f"(the dtype the layer computes in); {dtype.name} cannot represent this "
                    "feature's values: build the network with dtype='float64', or rescale the "
                    "feature"
                )
        return offset, scale

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


def _read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array``: a fresh view each time, since a copy or an unpickled layer
    holds writeable arrays (NumPy does not keep the flag)."""
    view = array.view()
    view.flags.writeable = False
    return view
