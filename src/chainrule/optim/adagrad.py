"""Adagrad: per-parameter learning rates from the sum of all past squared gradients."""

from __future__ import annotations

import numpy as np

from .._validation import check_number
from .base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("adagrad")
class Adagrad(Optimizer):
    r"""Adagrad, in PyTorch's formulation (``torch.optim.Adagrad``).

    Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
    Optimization", JMLR 12, 2011 (the diagonal variant). At step ``t`` (from 1), with gradient
    ``g`` and parameters ``p``::

        g   ← g + λ p                            (weights only; coupled L2 decay)
        lr_t = lr / (1 + (t − 1) · lr_decay)
        G   ← G + g²                             (G starts at initial_accumulator_value)
        p   ← p − lr_t · g / (sqrt(G) + eps)

    Parameters with large past gradients take small steps; the steps only ever shrink, which
    suits sparse features and convex problems more than long deep-network training.

    Parameters
    ----------
    lr : float, default 0.01
        Learning rate, > 0.
    lr_decay : float, default 0.0
        >= 0; the learning rate decays as ``1 / (1 + (t − 1) lr_decay)``.
    eps : float, default 1e-10
        Added to the denominator, > 0.
    initial_accumulator_value : float, default 0.0
        Starting value of ``G``, >= 0.
    weight_decay : float, default 0.0
        ``λ`` >= 0, added to the weights' gradient (``parameters[:n_weights]``; biases excluded).
    clip_norm : float or None, default None
        Clip the gradient buffer (in place) to this global L2 norm before the update.

    Notes
    -----
    State array (see :meth:`state_dict`): ``sum`` (G), shape (n_params,); PyTorch's name.
    """

    _nonnegative_state = ("sum",)

    def __init__(
        self,
        lr: float = 0.01,
        *,
        lr_decay: float = 0.0,
        eps: float = 1e-10,
        initial_accumulator_value: float = 0.0,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, clip_norm=clip_norm)
        self.lr_decay = check_number(lr_decay, "lr_decay", low=0)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        self.initial_accumulator_value = check_number(
            initial_accumulator_value, "initial_accumulator_value", low=0
        )
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)

    def _state_spec(self) -> dict[str, float]:
        return {"sum": self.initial_accumulator_value}

    def _update(self, t: int) -> None:
        g = self._l2_gradient(self.weight_decay)  # g + λp on the weights
        G = self._state["sum"]
        tmp, work = self._tmp, self._work  # work may hold g: written only as g's last use
        lr_t = self.lr / (1.0 + (t - 1) * self.lr_decay)

        np.multiply(g, g, out=tmp)  # G ← G + g·g
        G += tmp
        np.sqrt(G, out=tmp)  # tmp ← sqrt(G) + eps
        tmp += self.eps
        np.multiply(g, -lr_t, out=work)  # p ← p − lr_t g / tmp
        work /= tmp
        self._params += work
