"""Activation layers: elementwise nonlinearities (and the row-wise softmax).

Each class writes its derivative right under its forward, with the formula beside the code. With
``Y = f(X)`` elementwise, the chain rule gives ``dX = dY ⊙ f'(X)`` (⊙: elementwise product);
where ``f'`` is cheaper to get from the output than from the input it is computed from ``Y``
(sigmoid: ``Y(1 − Y)``, tanh: ``1 − Y²``) and only ``Y`` is cached. Derivations:
``docs/backprop.md#activations``.

Shape
-----
Every activation maps (n_samples, n_features) to the same shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _filled
from .._special import ndtr
from .._validation import check_number
from ..errors import NotDifferentiableError
from ..registry import Registry
from .base import LAYERS, Layer

#: Activation layers by name, for ``mlp(activation="relu")`` and architecture dicts.
ACTIVATIONS: Registry[type[Layer]] = Registry("activation")


def _register(name: str, *aliases: str):
    """Register an activation class both as a layer type and as an activation name."""

    def decorator(cls: type[Layer]) -> type[Layer]:
        LAYERS.register(cls.__name__)(cls)
        return ACTIVATIONS.register(name, *aliases)(cls)

    return decorator


def softmax(X: np.ndarray, out: np.ndarray | None = None, *, quiet: bool = True) -> np.ndarray:
    """Row-wise softmax of X (n_samples, n_classes), into ``out`` (a new array if None).

    ``softmax(X)ᵢⱼ = e^(Xᵢⱼ − mᵢ) / Σₖ e^(Xᵢₖ − mᵢ)`` with ``mᵢ = maxₖ Xᵢₖ``: subtracting the row
    maximum changes nothing mathematically and keeps every exponent ≤ 0, so ``exp`` cannot
    overflow. ``out`` may be ``X`` itself.

    No overflow warning for any finite input, as :func:`sigmoid`: in a row spanning more than
    the dtype's range (``[1e308, −1e308, 0]``) ``Xᵢⱼ − mᵢ`` overflows to −inf, and
    e^(−inf) = 0 is the correct limit (the result is ``[1, 0, 0]``). ``quiet=False`` skips the
    ``np.errstate`` that silences it, for callers already inside one (a network's inference).
    """
    if out is None:
        out = np.empty_like(X)
    if quiet:
        with np.errstate(over="ignore"):
            return softmax(X, out, quiet=False)
    np.subtract(X, np.maximum.reduce(X, axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= np.add.reduce(out, axis=1, keepdims=True)
    return out


def sigmoid(X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(X) = 1 / (1 + e^(−X)) elementwise, into ``out`` (a new array if None).

    No overflow warning for any input: e^(−x) overflows to inf for x < −709 (float64), and
    1 / (1 + inf) = 0 is the correct limit; the relative precision is full on both tails.
    """
    if out is None:
        out = np.empty_like(X)
    np.negative(X, out=out)
    if out.size and out.max() > _EXP_SAFE[out.dtype.char]:  # e^(−x) would overflow somewhere
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
    else:
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


#: Largest argument of exp that does not overflow, by dtype (float32 'f', float64 'd').
_EXP_SAFE = {"f": 88.0, "d": 709.0, "e": 11.0, "g": 11356.0}


class _Elementwise(Layer):
    """Shared plumbing of the activations.

    A subclass writes its function once, in ``_apply(X, out)``, which must work when ``out``
    is ``X`` itself: ``forward`` applies it into a new array and keeps the output ``Y`` for
    ``backward``; ``infer`` applies it in place on an array the network owns.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """``Y = f(X)`` (n_samples, n_features), a new array; kept for backward if ``training``."""
        X, Y = self._start(X)
        self._apply(X, Y)
        self._remember(training, Y=Y)
        return Y

    def infer(self, X: np.ndarray) -> np.ndarray:
        return self._apply(X, X)

    def _start(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_input(X)
        return X, self._new_array("Y", X.shape, X.dtype)

    def _upstream(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The cached array ``key`` and a fresh array for ``dX`` of the same shape."""
        cached = self._recall(key)
        return cached, self._new_array("dX", cached.shape, cached.dtype)


@_register("sigmoid", "logistic")
class Sigmoid(_Elementwise):
    """σ(x) = 1 / (1 + e^(−x)), output in (0, 1); derivative σ(x)(1 − σ(x)) = Y(1 − Y).

    Computed without overflow warnings for any input (see :func:`sigmoid`). Paired with
    :class:`~chainrule.losses.BinaryCrossEntropy`, training uses the fused, exact gradient
    with respect to the logits instead of this layer's backward (exact class only).

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> Sigmoid().forward(np.array([[0.0, 1e4, -1e4]]))
    array([[0.5, 1. , 0. ]])

    Derivation: ``docs/backprop.md#sigmoid``.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return sigmoid(X, out=out)

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ Y(1 − Y)``, (n_samples, n_features)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.subtract(1.0, Y, out=dX)
        dX *= Y  # σ'(X) = σ(X)(1 − σ(X)) = Y(1 − Y)
        dX *= dY
        return dX


@_register("tanh")
class Tanh(_Elementwise):
    """tanh(x), output in (−1, 1); derivative 1 − tanh²(x) = 1 − Y².

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> Tanh().forward(np.array([[-1.0, 0.0, 2.0]])).round(4)
    array([[-0.7616,  0.    ,  0.964 ]])

    Derivation: ``docs/backprop.md#tanh``.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.tanh(X, out=out)

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ (1 − Y²)``, (n_samples, n_features)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.multiply(Y, Y, out=dX)
        np.subtract(1.0, dX, out=dX)  # tanh'(X) = 1 − Y²
        dX *= dY
        return dX


@_register("relu")
class ReLU(_Elementwise):
    """max(0, x); derivative 1 where x > 0, else 0 (0 at x = 0, as PyTorch).

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> ReLU().forward(np.array([[-1.0, 0.0, 2.0]]))
    array([[0., 0., 2.]])

    Derivation: ``docs/backprop.md#relu``.
    """

    kink = True

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.maximum(X, _filled.zeros(X.shape, X.dtype), out=out)  # faster than 0.0

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ [Y > 0]``, (n_samples, n_features)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.multiply(dY, Y > 0, out=dX)  # relu'(X) = [X > 0] = [Y > 0]
        return dX


@_register("leaky_relu")
class LeakyReLU(_Elementwise):
    """x for x > 0, else α·x; derivative 1 for x > 0, else α (α at x = 0, as PyTorch).

    Parameters
    ----------
    alpha : float in [0, 1], default 0.01
        Slope for negative inputs (PyTorch's ``negative_slope``).

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> LeakyReLU(0.1).forward(np.array([[-1.0, 0.0, 2.0]]))
    array([[-0.1,  0. ,  2. ]])

    Derivation: ``docs/backprop.md#leakyrelu``.
    """

    kink = True

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = check_number(alpha, "alpha", low=0, high=1)

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        zero = _filled.zeros(X.shape, X.dtype)  # an array: faster than 0.0 (see _filled)
        negative = np.minimum(X, zero)  # f(X) = max(X, 0) + α min(X, 0)
        np.maximum(X, zero, out=out)
        negative *= self.alpha
        out += negative
        return out

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ ([Y > 0] + α [Y ≤ 0])``, (n_samples, n_features)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.multiply(dY, self.alpha, out=dX)  # f'(X) = α where X ≤ 0
        np.copyto(dX, dY, where=Y > 0)  # f'(X) = 1 where X > 0 (⇔ Y > 0, as α ≥ 0)
        return dX

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@_register("elu")
class ELU(_Elementwise):
    """x for x > 0, else α(eˣ − 1); derivative 1 for x > 0, else α·eˣ = Y + α.

    Computing the slope from the output (no ``exp`` in backward, no cached input) keeps its
    absolute error within about one ulp of α (the rounding of Y), but its relative error grows
    like e^(−x) for x ≪ 0, as Y nears −α: 44 % at x = −17 in float32, and the slope is 0 once
    Y rounds to −α (x below about −17.3 in float32, −36.7 in float64).

    Clevert, Unterthiner and Hochreiter, "Fast and accurate deep network learning by exponential
    linear units (ELUs)", ICLR 2016.

    Parameters
    ----------
    alpha : float, default 1.0
        Saturation value −α for large negative inputs; must be positive.

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> ELU().forward(np.array([[-1.0, 0.0, 2.0]])).round(4)
    array([[-0.6321,  0.    ,  2.    ]])

    Derivation: ``docs/backprop.md#elu``.
    """

    kink = True

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_number(alpha, "alpha", low=0, low_open=True)

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        positive = np.maximum(X, 0.0)  # f(X) = max(X, 0) + α(e^min(X, 0) − 1)
        np.minimum(X, 0.0, out=out)
        np.expm1(out, out=out)
        out *= self.alpha
        out += positive
        return out

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ ([Y > 0] + (Y + α) [Y ≤ 0])``, (n_samples, n_features)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.add(Y, self.alpha, out=dX)  # f'(X) = α e^X = Y + α where X ≤ 0
        np.copyto(dX, 1.0, where=Y > 0)  # f'(X) = 1 where X > 0 (Y > 0 ⇔ X > 0)
        dX *= dY
        return dX

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


@_register("gelu")
class GELU(_Elementwise):
    """Exact GELU: x·Φ(x), with Φ the standard normal CDF, Φ(x) = ½(1 + erf(x/√2)).

    Derivative: Φ(x) + x·φ(x), with φ(x) = e^(−x²/2)/√(2π) the normal density. This is
    PyTorch's ``GELU(approximate="none")``, not the tanh approximation.

    Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415, 2016.

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> GELU().forward(np.array([[-1.0, 0.0, 2.0]])).round(4)
    array([[-0.1587,  0.    ,  1.9545]])

    Derivation: ``docs/backprop.md#gelu``.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.multiply(X, ndtr(X), out=out)  # X Φ(X)

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """``Y = X Φ(X)`` (n_samples, n_features); keeps X and Φ(X) for backward if ``training``."""
        X, Y = self._start(X)
        cdf = ndtr(X)  # Φ(X), kept: backward needs it and it is the costly part
        np.multiply(X, cdf, out=Y)
        self._remember(training, X=X, cdf=cdf)
        return Y

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ (Φ(X) + X φ(X))``, (n_samples, n_features)."""
        X, dX = self._upstream("X")
        cdf = self._recall("cdf")
        dY = self._check_upstream(dY, X.shape)
        np.clip(X, -40.0, 40.0, out=dX)  # φ(±40) is 0 in float64 already; no overflow in X²
        np.multiply(dX, dX, out=dX)
        dX *= -0.5
        np.exp(dX, out=dX)
        dX *= X
        dX *= 1.0 / math.sqrt(2.0 * math.pi)  # X φ(X), φ(X) = e^(−X²/2) / √(2π)
        dX += cdf  # f'(X) = Φ(X) + X φ(X)
        dX *= dY
        return dX


@_register("softplus")
class Softplus(_Elementwise):
    """log(1 + eˣ), a smooth ReLU; derivative σ(x) = 1 − e^(−Y).

    Computed as ``logaddexp(0, x)``, exact for every x. PyTorch's ``Softplus`` returns x itself
    when x > 20 (its ``threshold``), a relative difference below 1e-9.

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> Softplus().forward(np.array([[-1.0, 0.0, 2.0]])).round(4)
    array([[0.3133, 0.6931, 2.1269]])

    Derivation: ``docs/backprop.md#softplus``.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, X, out=out)

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY ⊙ (1 − e^(−Y))``, (n_samples, n_features)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.negative(Y, out=dX)
        np.expm1(dX, out=dX)
        np.negative(dX, out=dX)  # σ(X) = 1 − e^(−Y), via expm1 to stay exact for small Y
        dX *= dY
        return dX


@_register("identity", "linear", "none")
class Identity(_Elementwise):
    """f(x) = x; derivative 1. The output of a regression network.

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> Identity().forward(np.array([[-1.0, 0.0, 2.0]]))
    array([[-1.,  0.,  2.]])

    Derivation: ``docs/backprop.md#identity``.
    """

    infer_overwrites_input = False  # infer returns X itself, unwritten

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """``Y = X`` itself, (n_samples, n_features): no copy."""
        X = self._check_input(X)
        self._remember(training, Y=X)
        return X

    def infer(self, X: np.ndarray) -> np.ndarray:
        return X

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = dY`` itself (checked), (n_samples, n_features)."""
        Y = self._recall("Y")
        return self._check_upstream(dY, Y.shape)


@_register("softmax")
class Softmax(_Elementwise):
    """Row-wise softmax: Y[i, j] = e^(X[i, j]) / Σ_k e^(X[i, k]); each row sums to one.

    Computed after subtracting each row's maximum, which leaves the result unchanged and
    keeps ``exp`` from overflowing; ``forward`` warns of nothing for any finite input (see
    :func:`softmax`). ``infer``, which :class:`~chainrule.layers.sequential.Sequential` runs
    inside its own ``np.errstate``, skips that per-call guard.

    Backward: the Jacobian of one row is ∂Y_j/∂X_k = Y_j(δ_jk − Y_k), so ::

        dX[i, k] = Σ_j dY[i, j] Y[i, j](δ_jk − Y[i, k]) = Y[i, k] (dY[i, k] − Σ_j dY[i, j] Y[i, j])

    Paired with :class:`~chainrule.losses.CrossEntropy`, training uses the fused gradient
    ``(P − T) / n_samples`` with respect to the logits instead (exact class only).

    Shape
    -----
    X and Y: (n_samples, n_classes).

    Examples
    --------
    >>> Softmax().forward(np.array([[1e308, -1e308, 0.0]]))
    array([[1., 0., 0.]])

    Derivation: ``docs/backprop.md#softmax``.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return softmax(X, out)

    def infer(self, X: np.ndarray) -> np.ndarray:
        return softmax(X, X, quiet=False)  # Sequential's inference already ignores FP warnings

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """``dX = Y ⊙ (dY − rowsum(dY ⊙ Y))``, (n_samples, n_classes)."""
        Y, dX = self._upstream("Y")
        dY = self._check_upstream(dY, Y.shape)
        np.multiply(dY, Y, out=dX)
        row_dot = np.add.reduce(dX, axis=1, keepdims=True)  # Σ_j dY_ij Y_ij, (n_samples, 1)
        np.subtract(dY, row_dot, out=dX)
        dX *= Y  # Y ⊙ (dY − row_dot)
        return dX


@_register("step", "heaviside")
class Step(_Elementwise):
    """Rosenblatt's threshold unit: 1 where x ≥ 0, else 0.

    Its derivative is zero everywhere except at 0, where it does not exist, so gradient
    descent cannot train through it: :meth:`backward` raises. Train threshold units with the
    perceptron's mistake-driven rule instead (:class:`chainrule.Perceptron`).

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> Step().forward(np.array([[-1.0, 0.0, 2.0]]))
    array([[0., 1., 1.]])

    Derivation: ``docs/backprop.md#step``.
    """

    def _apply(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.greater_equal(X, 0.0, out=out, casting="unsafe")

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """``Y = [X ≥ 0]`` (n_samples, n_features), in X's dtype."""
        X, Y = self._start(X)
        self._remember(training)  # nothing to keep: there is no backward
        return self._apply(X, Y)

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """Raises :class:`~chainrule.errors.NotDifferentiableError`: no dX (n_samples,
        n_features) to give."""
        raise NotDifferentiableError(
            f"{self.label} has no useful derivative (it is 0 almost everywhere), so it cannot "
            "be trained by backpropagation; use chainrule.Perceptron, which trains step units "
            "with Rosenblatt's rule, or a smooth activation such as 'sigmoid'"
        )
