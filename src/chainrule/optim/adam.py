"""Adam (L2 weight decay) and AdamW (decoupled weight decay)."""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_number
from .base import OPTIMIZERS, Optimizer


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    r"""Adam: adaptive moment estimation, with optional AMSGrad and L2 weight decay.

    Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; AMSGrad from Reddi,
    Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018. Matches
    ``torch.optim.Adam(lr, betas=(beta1, beta2), eps, weight_decay, amsgrad)``.

    At step ``t`` (from 1), with gradient ``g`` and parameters ``p``::

        g  ← g + λ p                         (weights only; coupled L2 decay, as torch.optim.Adam)
        m  ← β1 m + (1 − β1) g               (first moment; computed as m + (1 − β1)(g − m))
        v  ← β2 v + (1 − β2) g²              (second moment)
        v̂  ← max(v̂, v) if amsgrad else v
        step_size = lr / (1 − β1^t)                           (bias correction of m, folded)
        denom     = sqrt(v̂) / sqrt(1 − β2^t) + eps            (bias correction of v, folded)
        p  ← p − step_size · m / denom

    which is the paper's ``p ← p − lr · m̂ / (sqrt(v̂) + eps)`` with ``m̂ = m/(1 − β1^t)``,
    ``v̂ = v/(1 − β2^t)``, the corrections folded into two scalars as PyTorch does (so ``eps``
    is added to the corrected root, as in the paper's Algorithm 1). With ``λ > 0`` the decay
    passes through the adaptive scaling; prefer :class:`AdamW` for regularisation.

    Parameters
    ----------
    lr : float, default 1e-3
        Learning rate, > 0.
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates of the moment estimates, in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, > 0.
    weight_decay : float, default 0.0
        ``λ`` >= 0, added to the weights' gradient (``parameters[:n_weights]``; biases excluded).
    amsgrad : bool, default False
        Divide by the running maximum of ``v`` (AMSGrad).
    clip_norm : float or None, default None
        Clip the gradient buffer (in place) to this global L2 norm before the update.

    Notes
    -----
    State arrays (see :meth:`state_dict`), each of shape (n_params,), stored scaled to save
    passes over the buffers (see ``_update``): ``scaled_exp_avg`` = m / (1 − β1),
    ``scaled_exp_avg_sq`` = v / (1 − β2) and, with amsgrad, ``scaled_max_exp_avg_sq`` =
    v̂ / (1 − β2), where m, v, v̂ are PyTorch's ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``.
    The price of the scaling is range: in float32 the stored second moment overflows once
    ``|g|`` passes about ``1.8e19 · sqrt(1 − β2)`` (5.8e17 at β2 = 0.999), where PyTorch's
    overflows at 1.8e19; a parameter whose moment became inf then stops moving. Gradients that
    large mean training has already failed; ``clip_norm`` keeps them in range. Because of the
    scaling, :meth:`state_dict` also records ``beta1`` and ``beta2``, and
    :meth:`load_state_dict` refuses a state saved with other values.

    Examples
    --------
    >>> import numpy as np
    >>> p, g = np.zeros(3), np.array([1.0, -2.0, 0.0])          # shape (n_params,) = (3,)
    >>> opt = Adam(lr=0.1).bind(p, g, n_weights=3)
    >>> opt.step()                                             # first step moves ±lr
    >>> np.round(p, 6)
    array([-0.1,  0.1,  0. ])
    """

    #: Decoupled (AdamW) rather than L2 (Adam) weight decay.
    _decoupled = False

    #: The stored moments are scaled by 1/(1 − β1) and 1/(1 − β2) (see ``_update``).
    _state_depends_on = ("beta1", "beta2")

    _nonnegative_state = ("scaled_exp_avg_sq", "scaled_max_exp_avg_sq")

    def __init__(
        self,
        lr: float = 1e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(lr, clip_norm=clip_norm)
        self.beta1 = check_number(beta1, "beta1", low=0, high=1, high_open=True)
        self.beta2 = check_number(beta2, "beta2", low=0, high=1, high_open=True)
        self.eps = check_number(eps, "eps", low=0, low_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        self.amsgrad = check_bool(amsgrad, "amsgrad")

    def _state_spec(self) -> dict[str, float]:
        spec = {"scaled_exp_avg": 0.0, "scaled_exp_avg_sq": 0.0}
        if self.amsgrad:
            spec["scaled_max_exp_avg_sq"] = 0.0
        return spec

    def _update(self, t: int) -> None:
        """The update above in ten passes over the buffers.

        The moments are stored scaled, m' = m/(1 − β1) and v' = v/(1 − β2), which turns both
        moving averages into ``x' ← β x' + g`` (no multiply by 1 − β each step); the factors
        return as two scalars::

            p ← p − (lr (1 − β1) / (1 − β1^t)) · m' / (sqrt(v') c + eps),  c = sqrt((1 − β2)/(1 − β2^t))
              = p − k · m' / (sqrt(v') + eps / c),                         k = lr (1 − β1) / ((1 − β1^t) c)

        Multiply ``state_dict``'s arrays by (1 − β1) and (1 − β2) to compare them with PyTorch's.
        """
        if self._decoupled:
            if self.weight_decay != 0.0:  # p ← (1 − lr λ) p on the weights
                self._params_w *= 1.0 - self.lr * self.weight_decay
            g = self._grads
        else:
            g = self._l2_gradient(self.weight_decay)  # g + λp on the weights
        m, v = self._state["scaled_exp_avg"], self._state["scaled_exp_avg_sq"]
        tmp, denom = self._tmp, self._work  # (g may be _work: it is read before denom is written)

        m *= self.beta1  # m' ← β1 m' + g
        m += g
        v *= self.beta2  # v' ← β2 v' + g²
        np.multiply(g, g, out=tmp)
        v += tmp
        if self.amsgrad:
            v_max = self._state["scaled_max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            v = v_max

        c = ((1.0 - self.beta2) / (1.0 - self.beta2**t)) ** 0.5
        k = self.lr * (1.0 - self.beta1) / ((1.0 - self.beta1**t) * c)
        np.sqrt(v, out=denom)  # denom ← sqrt(v') + eps / c
        denom += self.eps / c
        np.divide(m, denom, out=tmp)  # p ← p − k m' / denom
        tmp *= -k
        self._params += tmp


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    r"""Adam with decoupled weight decay.

    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019. Matches
    ``torch.optim.AdamW(lr, betas=(beta1, beta2), eps, weight_decay, amsgrad)``, including
    PyTorch's choice of scaling the decay by ``lr`` (the paper's schedule multiplier ``η_t``
    times ``λ``)::

        p ← (1 − lr · λ) p                   (weights only, before the Adam step)
        then the :class:`Adam` update with the raw gradient (no λ p added to g).

    Unlike L2 decay in :class:`Adam`, the decay is not divided by ``sqrt(v̂)``: every weight
    shrinks by the same factor whatever its gradient history.

    Parameters
    ----------
    lr, beta1, beta2, eps, amsgrad, clip_norm
        As :class:`Adam`.
    weight_decay : float, default 0.01
        ``λ`` >= 0 (PyTorch's AdamW default), applied to ``parameters[:n_weights]`` only.

    Notes
    -----
    State arrays as :class:`Adam`.
    """

    _decoupled = True

    def __init__(
        self,
        lr: float = 1e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(
            lr,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            clip_norm=clip_norm,
        )
