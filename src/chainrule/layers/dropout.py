"""Inverted dropout. Derivation: ``docs/backprop.md#dropout``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._random import as_generator
from .._validation import check_bool, check_number
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
        network is a fixed, differentiable function; :func:`chainrule.gradcheck` uses it. The
        first frozen pass keeps the mask of the training pass just before it (or draws one);
        evaluation passes in between, copies and pickles keep the frozen mask. A batch of
        another shape gets a new mask, which is then the one kept. Setting False forgets it.

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
        self._freeze_mask = False
        # The frozen mask: not in the cache, which an evaluation pass clears.
        self._frozen_mask: np.ndarray | None = None

    @property
    def freeze_mask(self) -> bool:
        return self._freeze_mask

    @freeze_mask.setter
    def freeze_mask(self, value: bool) -> None:
        self._freeze_mask = check_bool(value, "freeze_mask")
        if not self._freeze_mask:
            self._frozen_mask = None

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        X = self._check_input(X)
        training = check_bool(training, "training")
        if not training or self.p == 0.0:
            self._remember(training, mask=None, shape=X.shape)  # backward checks dY's shape
            return X
        if not self._freeze_mask:
            mask = self._draw_mask(X)
        else:
            mask = self._frozen_mask
            if mask is None:  # the first frozen pass: the mask of the training pass before
                mask = self.cache.get("mask")
            if mask is None or mask.shape != X.shape:
                mask = self._draw_mask(X)
            self._frozen_mask = mask
        Y = self._new_array("Y", X.shape, X.dtype)
        np.multiply(X, mask, out=Y)
        self._remember(training, mask=mask)
        return Y

    def _draw_mask(self, X: np.ndarray) -> np.ndarray:
        if self.rng is None:
            self.rng = np.random.default_rng()
        keep = self.rng.random(X.shape, dtype=X.dtype) >= self.p
        return np.multiply(keep, 1.0 / (1.0 - self.p), dtype=X.dtype)  # M = [U ≥ p]/(1 − p)

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
