"""The fully connected (affine) layer ``Y = X W + b``. Derivation: ``docs/backprop.md#dense``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _filled
from .._validation import check_bool, check_number
from ..init import get_initializer, init_config, zeros
from .base import LAYERS, Layer, ParameterSpec

#: Widest layer accepted (a sanity bound: the network's total size is checked on allocation).
MAX_FEATURES = 2**31 - 1


@LAYERS.register("Dense", "Linear")
class Dense(Layer):
    """Fully connected layer: ``Y = X @ W + b``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input row and each output row.
    bias : bool, default True
        Whether to add the bias ``b``.
    init : str, dict or callable, default "glorot_uniform"
        Initialiser of ``W`` (see :mod:`chainrule.init`; a callable ``init(shape, rng)`` must
        return an array of exactly ``shape``); biases start at zero. A dict is
        copied, with NumPy scalars made Python numbers (see :func:`chainrule.init.init_config`),
        so ``get_config()`` is JSON data and never the caller's dict.
    l1, l2 : float, default 0
        Penalties on ``W`` (see :meth:`Layer.penalty`).

    Shape
    -----
    - X: (n_samples, in_features)
    - W: (in_features, out_features), b: (out_features,)
    - Y: (n_samples, out_features)

    Notes
    -----
    With Z = Y, the loss L and upstream gradient dZ = ∂L/∂Z (n_samples, out_features), the chain
    rule applied to ``Z[i, j] = Σ_k X[i, k] W[k, j] + b[j]`` gives ::

        dW = Xᵀ dZ           (in_features, out_features)   ∂Z[i,j]/∂W[k,j] = X[i,k]
        db = Σ_i dZ[i, :]    (out_features,)                ∂Z[i,j]/∂b[j]   = 1
        dX = dZ Wᵀ           (n_samples, in_features)       ∂Z[i,j]/∂X[i,k] = W[k,j]

    The sums over samples are what make ``dW`` the gradient of the *batch* loss: every row
    contributes its outer product ``X[i]ᵀ dZ[i]``.

    Examples
    --------
    >>> layer = Dense(3, 2).build(seed=0)
    >>> layer.forward(np.ones((5, 3))).shape
    (5, 2)
    """

    supports_input_grad_skip = True
    infer_overwrites_input = False  # infer writes X @ W + b into a new array

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: Any = "glorot_uniform",
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features = check_number(in_features, "in_features", low=1, high=MAX_FEATURES,
                                        integer=True)
        self.out_features = check_number(out_features, "out_features", low=1, high=MAX_FEATURES,
                                         integer=True)
        self.bias = check_bool(bias, "bias")
        self._init = get_initializer(init, for_weights=True)
        self.init = init_config(init)  # a copy, JSON data (NumPy scalars made Python numbers)
        self.l1 = check_number(l1, "l1", low=0)
        self.l2 = check_number(l2, "l2", low=0)

    def parameter_specs(self) -> list[ParameterSpec]:
        specs = [ParameterSpec("W", (self.in_features, self.out_features), "weight", self._init)]
        if self.bias:
            specs.append(ParameterSpec("b", (self.out_features,), "bias", zeros))
        return specs

    def output_features(self, in_features: int) -> int:
        if in_features != self.in_features:
            raise ValueError(
                f"{self.label} expects {self.in_features} input features, "
                f"but the previous layer gives {in_features}"
            )
        return self.out_features

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """``Y = X @ W + b``: (n_samples, in_features) → (n_samples, out_features)."""
        W = self.params.get("W")
        if W is None:
            self._require_built()
        X = self._check_input(X, self.in_features)
        if X.dtype != W.dtype:
            X = X.astype(W.dtype)
        Y = self._new_array("Y", (X.shape[0], self.out_features), W.dtype)
        np.matmul(X, W, out=Y)
        if self.bias:
            Y += self.params["b"]
        self._remember(training, X=X)
        return Y

    def infer(self, X: np.ndarray) -> np.ndarray:
        """``X @ W + b``: X (n_samples, in_features) → a new (n_samples, out_features) array."""
        Y = np.matmul(X, self.params["W"])
        if self.bias:
            Y += self.params["b"]
        return Y

    def backward(self, dY: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        """Overwrite ``grads`` with dW = Xᵀ dY and db = Σ dY; return dX = dY Wᵀ.

        With ``input_grad=False`` (the first layer of a network) ``dX`` is not computed and
        ``None`` is returned.
        """
        X = self._recall("X")
        dY = self._check_upstream(dY, (X.shape[0], self.out_features))
        np.matmul(X.T, dY, out=self.grads["W"])  # dW = Xᵀ dY
        if self.bias:
            # db = Σ_i dY[i] = 1ᵀ dY, as a BLAS product (faster than np.add.reduce: see _filled)
            np.matmul(_filled.ones(dY.shape[:1], dY.dtype), dY, out=self.grads["b"])
        if not input_grad:
            return None
        dX = self._new_array("dX", X.shape, X.dtype)
        return np.matmul(dY, self.params["W"].T, out=dX)  # dX = dY Wᵀ

    def get_config(self) -> dict[str, Any]:
        init = self.init
        if callable(init) and not isinstance(init, str):
            raise TypeError(
                f"{self.label}: a custom initializer function cannot be saved in a config; "
                "give init as a name or a {'name': ..., ...} dict"
            )
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
            "init": init_config(init),  # a copy: the layer's own stays its own
            "l1": self.l1,
            "l2": self.l2,
        }

    def extra_repr(self) -> str:
        parts = [f"{self.in_features} → {self.out_features}"]
        if not self.bias:
            parts.append("bias=False")
        if not callable(self.init) or isinstance(self.init, str):
            parts.append(f"init={self.init!r}")
        if self.l1:
            parts.append(f"l1={self.l1:g}")
        if self.l2:
            parts.append(f"l2={self.l2:g}")
        return ", ".join(parts)
