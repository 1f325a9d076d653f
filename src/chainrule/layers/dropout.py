"""Inverted dropout. Derivation: ``docs/backprop.md#dropout``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._random import as_generator
from .._validation import check_number
from .base import LAYERS, Layer


@LAYERS.register("Dropout")
class Dropout(Layer):
    """Inverted dropout: zero each input with probability ``p`` while training.

    In training ``Y = X ⊙ M`` with ``M[i, j] = [U[i, j] ≥ p] / (1 − p)``, ``U ~ Uniform[0, 1)``:
    the surviving units are scaled up by 1/(1 − p) so that E[Y] = X, and evaluation is then the
    identity (no rescaling at test time). Backward applies the same mask: ``dX = dY ⊙ M``.

    Srivastava et al., "Dropout: a simple way to prevent neural networks from overfitting",
    JMLR 15 (2014).

    Parameters
    ----------
    p : float in [0, 1)
        Probability of dropping a unit.
    seed : int, Generator or None
        Source of the masks. Inside a :class:`~chainrule.Sequential` built with a seed, the
        network gives the layer its own Generator derived from that seed.

    Attributes
    ----------
    freeze_mask : bool
        When True, a training forward reuses the last mask instead of drawing a new one, so the
        network is a fixed, differentiable function; :func:`chainrule.gradcheck` uses it.

    Shape
    -----
    X and Y: (n_samples, n_features).

    Examples
    --------
    >>> layer = Dropout(0.5, seed=0)
    >>> layer.forward(np.ones((2, 4)), training=True)
    array([[2., 0., 0., 0.],
           [2., 2., 2., 2.]])
    """

    infer_overwrites_input = False  # infer returns X itself, unwritten

    def __init__(self, p: float = 0.5, *, seed: Any = None) -> None:
        super().__init__()
        self.p = check_number(p, "p", low=0, high=1, high_open=True)
        self.rng = None if seed is None else as_generator(seed)
        self.freeze_mask = False

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        X = self._check_input(X)
        if not training or self.p == 0.0:
            self._remember(training, mask=None, shape=X.shape)  # backward checks dY's shape
            return X
        mask = self.cache.get("mask") if self.freeze_mask else None
        if mask is None or mask.shape != X.shape:
            if self.rng is None:
                self.rng = np.random.default_rng()
            keep = self.rng.random(X.shape, dtype=X.dtype) >= self.p
            mask = np.multiply(keep, 1.0 / (1.0 - self.p), dtype=X.dtype)  # M = [U ≥ p]/(1 − p)
        Y = self._new_array("Y", X.shape, X.dtype)
        np.multiply(X, mask, out=Y)
        self._remember(training, mask=mask)
        return Y

    def infer(self, X: np.ndarray) -> np.ndarray:
        return X  # evaluation: the identity

    def backward(self, dY: np.ndarray) -> np.ndarray:
        mask = self._recall("mask")
        if mask is None:  # p == 0: the identity
            return self._check_upstream(dY, self._recall("shape"))
        dY = self._check_upstream(dY, mask.shape)
        return np.multiply(dY, mask, out=self._new_array("dX", mask.shape, mask.dtype))

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}
