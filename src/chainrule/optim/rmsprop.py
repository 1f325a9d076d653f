"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_number
from .base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("rmsprop")
class RMSprop(Optimizer):
    r"""RMSprop, with optional momentum and centering, in PyTorch's formulation.

    Tieleman & Hinton, "Lecture 6.5 - rmsprop: Divide the gradient by a running average of its
    recent magnitude", COURSERA: Neural Networks for Machine Learning, 2012; the centered
    variant from Graves, "Generating Sequences With Recurrent Neural Networks", 2013 (eq. 38-45).
    Matches ``torch.optim.RMSprop(lr, alpha=rho, eps, weight_decay, momentum, centered)``:
    **``rho`` is PyTorch's ``alpha``** (Keras also calls it ``rho``).

    At step ``t``, with gradient ``g`` and parameters ``p``::

        g  ← g + λ p                           (weights only; coupled L2 decay)
        v  ← ρ v + (1 − ρ) g²                  (mean square)
        if centered:
            ḡ  ← ḡ + (1 − ρ)(g − ḡ)            (mean gradient)
            s  ← sqrt(max(v − ḡ², 0)) + eps    (standard deviation rather than RMS)
        else:
            s  ← sqrt(v) + eps
        if μ > 0:
            b  ← μ b + g / s
            p  ← p − lr · b
        else:
            p  ← p − lr · g / s

    ``eps`` is added outside the square root, and ``v`` starts at 0 without bias correction,
    both as in PyTorch (TensorFlow adds ``eps`` inside the root). The clamp at 0 in the centered
    variant only guards against a rounding-level negative variance (where PyTorch gives NaN).

    Parameters
    ----------
    lr : float, default 0.01
        Learning rate, > 0.
    rho : float, default 0.99
        Decay rate of the running averages, in [0, 1) (PyTorch's ``alpha``).
    eps : float, default 1e-8
        Added to the denominator, > 0.
    momentum : float, default 0.0
        ``μ`` in [0, 1).
    centered : bool, default False
        Normalise by the estimated standard deviation of the gradient instead of its RMS.
    weight_decay : float, default 0.0
        ``λ`` >= 0, added to the weights' gradient (``parameters[:n_weights]``; biases excluded).
    clip_norm : float or None, default None
        Clip the gradient buffer (in place) to this global L2 norm before the update.

    Notes
    -----
    State arrays (see :meth:`state_dict`): ``square_avg`` (v), with centered ``grad_avg``
    (ḡ), with momentum ``momentum_buffer`` (b); each of shape (n_params,). PyTorch's names.
    """

    _nonnegative_state = ("square_avg",)

    def __init__(
        self,
        lr: float = 0.01,
        *,
        rho: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, clip_norm=clip_norm)
        self.rho = check_number(rho, "rho", low=0, high=1, high_open=True)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        self.momentum = check_number(momentum, "momentum", low=0, high=1, high_open=True)
        self.centered = check_bool(centered, "centered")
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)

    def _state_spec(self) -> dict[str, float]:
        spec = {"square_avg": 0.0}
        if self.centered:
            spec["grad_avg"] = 0.0
        if self.momentum > 0.0:
            spec["momentum_buffer"] = 0.0
        return spec

    def _update(self, t: int) -> None:
        g = self._l2_gradient(self.weight_decay)  # g + λp on the weights
        v = self._state["square_avg"]
        tmp, work = self._tmp, self._work  # work may hold g: written only as g's last use

        v *= self.rho  # v ← ρ v + (1 − ρ) g·g
        np.multiply(g, 1.0 - self.rho, out=tmp)
        tmp *= g
        v += tmp
        s = tmp
        if self.centered:
            g_avg = self._state["grad_avg"]
            np.subtract(g, g_avg, out=tmp)  # ḡ ← ḡ + (1 − ρ)(g − ḡ)
            tmp *= 1.0 - self.rho
            g_avg += tmp
            np.multiply(g_avg, g_avg, out=s)  # s ← sqrt(max(v − ḡ², 0))
            np.subtract(v, s, out=s)
            np.maximum(s, 0.0, out=s)
            np.sqrt(s, out=s)
        else:
            np.sqrt(v, out=s)  # s ← sqrt(v)
        s += self.eps

        if self.momentum > 0.0:
            b = self._state["momentum_buffer"]
            b *= self.momentum  # b ← μ b + g / s
            np.divide(g, s, out=work)
            b += work
            np.multiply(b, -self.lr, out=work)  # p ← p − lr b
        else:
            np.multiply(g, -self.lr, out=work)  # p ← p − lr g / s
            work /= s
        self._params += work
