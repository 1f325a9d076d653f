"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_number
from .base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    r"""Stochastic gradient descent, in PyTorch's formulation (``torch.optim.SGD``).

    At step ``t`` (from 1), with gradient ``g``, parameters ``p``, weight decay ``λ`` on the
    weight prefix only, momentum ``μ`` and dampening ``τ``::

        g ← g + λ p                      (weights only; L2 penalty λ/2 ||W||², coupled)
        if μ > 0:
            v ← g                        at t = 1 (no dampening on the first step)
            v ← μ v + (1 − τ) g          at t > 1
            d ← g + μ v                  if nesterov
            d ← v                        otherwise
        else:
            d ← g
        p ← p − lr · d

    This is the "velocity accumulates gradients" form of heavy-ball momentum (Polyak 1964): the
    learning rate multiplies the velocity, rather than ``v ← μ v − lr g; p ← p + v`` of
    Sutskever et al. (2013); the two agree while ``lr`` is constant. The Nesterov variant is
    the reformulation of Sutskever, Martens, Dahl & Hinton, "On the importance of initialization
    and momentum in deep learning", ICML 2013, as implemented by PyTorch: look ahead by adding
    ``μ v`` to the current gradient.

    Parameters
    ----------
    lr : float, default 0.01
        Learning rate, > 0.
    momentum : float, default 0.0
        ``μ`` in [0, 1).
    dampening : float, default 0.0
        ``τ`` in [0, 1]; scales the gradient added to the velocity after the first step.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0`` (as PyTorch).
    weight_decay : float, default 0.0
        ``λ`` >= 0, applied to ``parameters[:n_weights]`` (the weights), not the biases.
    clip_norm : float or None, default None
        Clip the gradient buffer (in place) to this global L2 norm before the update.

    Notes
    -----
    State array (see :meth:`state_dict`): ``momentum_buffer`` (v), shape (n_params,), only
    when ``momentum > 0``; PyTorch's name.

    Examples
    --------
    >>> import numpy as np
    >>> p, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])      # shape (n_params,) = (2,)
    >>> opt = SGD(lr=0.1).bind(p, g, n_weights=1)
    >>> opt.step()
    >>> p
    array([0.95, 2.1 ])
    """

    def __init__(
        self,
        lr: float = 0.01,
        *,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, clip_norm=clip_norm)
        self.momentum = check_number(momentum, "momentum", low=0, high=1, high_open=True)
        self.dampening = check_number(dampening, "dampening", low=0, high=1)
        self.nesterov = check_bool(nesterov, "nesterov")
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        if self.nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening == 0, "
                f"got momentum={self.momentum} and dampening={self.dampening}"
            )

    def _state_spec(self) -> dict[str, float]:
        return {"momentum_buffer": 0.0} if self.momentum > 0.0 else {}

    def _update(self, t: int) -> None:
        g = self._l2_gradient(self.weight_decay)  # (n_params,); g + λp on the weights
        tmp = self._tmp
        if self.momentum > 0.0:
            v = self._state["momentum_buffer"]
            if t == 1:
                np.copyto(v, g)  # v ← g
            else:
                v *= self.momentum  # v ← μ v + (1 − τ) g
                if self.dampening != 0.0:
                    np.multiply(g, 1.0 - self.dampening, out=tmp)
                    v += tmp
                else:
                    v += g
            if self.nesterov:
                np.multiply(v, self.momentum, out=tmp)  # d ← g + μ v
                tmp += g
                direction = tmp
            else:
                direction = v
        else:
            direction = g
        np.multiply(direction, -self.lr, out=tmp)  # p ← p − lr d
        self._params += tmp
