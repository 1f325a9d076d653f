"""The training losses in scikit-learn's MLP convention: summed over outputs, half squares.

scikit-learn's MLP minimises, for a batch of samples ``i`` with weights ``w_i`` and outputs
``j`` (its ``_backprop``: the output delta is ``activation − y`` and every gradient is divided
by the batch's total weight)::

    J = Σ_i w_i Σ_j ℓ(ŷ_ij, y_ij) / Σ_i w_i  +  ½ α ‖W‖² / Σ_i w_i

with ``ℓ`` the binary log-loss for sigmoid outputs, ``½ (ŷ − y)²`` for squared error, and the
whole softmax row's cross-entropy for multi-class problems. chainrule's losses average over
*every element* (``Σ_i w_i Σ_j ℓ_ij / (Σ_i w_i · n_outputs)``, PyTorch's convention) and its
squared error has no ½. The classes below multiply value and gradient by
``factor · n_outputs`` to get scikit-learn's data term; :class:`~chainrule.losses.CrossEntropy`
already sums over classes and is used as it is. ``absolute_error`` and ``huber`` follow the
same per-sample-sum convention so that a regressor's losses are comparable with each other.
scikit-learn *reports* the squared error averaged over the outputs (``squared_loss`` ends in
``.mean()``) while its gradient is the sum's: the regressor records the reported value
(:class:`._stopping.EpochBookkeeping`, with ``data_scale = 1 / n_outputs``), and trains on
these sums.
The penalty term is the Dense layers' own L2, one coefficient for a whole fit, which equals
scikit-learn's on a batch whose weights sum to the fit's ``B · w̄`` (see
:mod:`._translate`, where the cases that differ are listed).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..layers.activations import Sigmoid
from ..losses import MAE, MSE, BinaryCrossEntropy, Huber, Loss


class SumOverOutputs:
    """Mixin for a chainrule :class:`Loss`: ``ℓ_i = factor · Σ_j ℓ_ij``, mean over samples.

    It scales the loss's unreduced values (and their gradient) by ``c = factor · n_outputs``,
    so the parent's mean over all elements, ``Σ_i w_i Σ_j c ℓ_ij / (Σ_i w_i · n_outputs)``,
    becomes ``factor · Σ_i w_i Σ_j ℓ_ij / Σ_i w_i``. ``_values`` and ``_gradient`` are the
    extension points of :class:`~chainrule.losses.Loss`, used by every evaluation path.
    """

    factor: ClassVar[float] = 1.0

    def _values(self, Y: np.ndarray, T: Any) -> np.ndarray:
        self._scale = self.factor * Y.shape[1]  # Y: (n_samples, n_outputs)
        return super()._values(Y, T) * self._scale

    def _gradient(self) -> np.ndarray:
        gradient = super()._gradient()  # a new array: scaling it in place is safe
        gradient *= self._scale
        return gradient


class LogLoss(SumOverOutputs, BinaryCrossEntropy):
    """Binary log-loss summed over the outputs (scikit-learn's ``binary_log_loss``).

    Shape: y_pred and y_true (n_samples, n_outputs); one output for a binary problem, one per
    label for multilabel classification.
    """

    # Its values and gradient are BinaryCrossEntropy's times a constant, for logits as for
    # probabilities: it fuses with a Sigmoid output (a subclass fuses only when it says so).
    fused_activation = Sigmoid


class HalfSquaredError(SumOverOutputs, MSE):
    """``½ Σ_j (ŷ_j − y_j)²`` per sample, mean over samples: scikit-learn's ``squared_error``.

    Gradient ``ŷ − y`` (per sample, before the mean). Shape: (n_samples, n_outputs).
    """

    factor = 0.5


class AbsoluteError(SumOverOutputs, MAE):
    """``Σ_j |ŷ_j − y_j|`` per sample, mean over samples. Shape: (n_samples, n_outputs)."""


class HuberError(SumOverOutputs, Huber):
    """Huber loss (``delta``) summed over outputs, mean over samples; see
    :class:`~chainrule.losses.Huber`. Shape: (n_samples, n_outputs)."""


#: The regressor's ``loss`` names.
REGRESSION_LOSSES: dict[str, type[Loss]] = {
    "squared_error": HalfSquaredError,
    "absolute_error": AbsoluteError,
    "huber": HuberError,
}
