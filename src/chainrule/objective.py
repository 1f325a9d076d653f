"""The function training minimises, and one forward-backward pass over it.

For a network f with weights W, a loss ℓ and per-layer penalties::

    J(W) = ℓ(f(X; W), y) + Σ_layers (l1 ‖W‖₁ + ½ l2 ‖W‖²)

:class:`Objective` evaluates J and fills the network's gradient buffer with ∂J/∂W. It is the
one place where the fused output pairs are chosen: when the network ends in the activation a
loss fuses with (``Sigmoid`` + ``BinaryCrossEntropy``, ``Softmax`` + ``CrossEntropy``), the
forward pass stops before that activation and the loss works on the logits directly. The last
layer must be of that very class: a subclass (``class TemperedSoftmax(Softmax)``) may compute
something else, so the loss then reads its output as it would any other layer's. So must the
loss: a subclass of ``BinaryCrossEntropy`` or ``CrossEntropy`` fuses only when it sets
``fused_activation`` in its own class body, which says that its values and gradient also hold
for ``from_logits=True`` (a loss written on probabilities, as ``docs/custom_layers.md``
describes, gets the probabilities).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import check_bool
from .layers.sequential import Sequential
from .losses import get_loss


class Objective:
    """``J = loss(net(X), y) + penalties`` and its gradient with respect to every parameter.

    Parameters
    ----------
    net : Sequential
    loss : Loss, name or dict

    Attributes
    ----------
    fused : bool
        Whether the last layer (the output activation) is folded into the loss: it is of the
        exact class ``loss.fused_activation`` names (not a subclass), and the loss's own class
        sets that attribute (not only a base class).
    head_loss : Loss
        The loss actually evaluated: ``loss`` itself, or its logits form when fused.
    head_stop : int or None
        Forward passes run ``net.layers[:head_stop]`` (all layers when None) to feed the loss.
    last_output : ndarray or None
        What the last training pass fed the loss (logits when fused), (n_samples, n_outputs).
    last_penalty : float
        The penalty term of the last training pass's J (0.0 without penalties).

    Raises
    ------
    ValueError
        ``from_logits=True`` on a network that already ends in the matching activation: its
        outputs are probabilities, and the activation would be applied twice.
    """

    def __init__(self, net: Sequential, loss: Any) -> None:
        if not isinstance(net, Sequential):
            raise TypeError(f"net must be a Sequential, got {type(net).__name__}")
        self.net = net
        self.loss = get_loss(loss)
        last = net.layers[-1]
        activation = self.loss.fused_activation
        # A subclass of the activation still outputs probabilities (so logits are refused), but
        # may compute other ones (a temperature, a steeper slope): only the exact class fuses.
        # A loss fuses only when its own class sets fused_activation: a subclass that inherits
        # it may compute its values from probabilities alone (logits_loss() keeps its class).
        fused = type(last) is activation and "fused_activation" in vars(type(self.loss))
        if activation is not None and isinstance(last, activation) and self.loss.from_logits:
            raise ValueError(
                f"{self.loss!r} takes logits, but the network ends in {type(last).__name__}, "
                f"whose outputs are probabilities; remove the {type(last).__name__} layer or use "
                "from_logits=False" + (" (the pair is then fused automatically)" if fused else "")
            )
        self.fused = fused
        self.head_loss = self.loss.logits_loss() if self.fused else self.loss
        self.head_stop = len(net.layers) - 1 if self.fused else None
        self._head_width = -2 if self.fused else -1  # index into net.widths of the loss input
        self.last_output: np.ndarray | None = None
        self.last_penalty = 0.0

    def prepare_targets(self, y: Any) -> Any:
        """``y`` checked and converted once for the loss; pass row slices of the result to
        :meth:`value` and :meth:`value_and_gradients` with ``prepared=True``."""
        return self.head_loss.prepare_targets(y, self.net.widths[self._head_width], self.net.dtype)

    def value(
        self, X: np.ndarray, y: Any, sample_weight: Any = None, *, training: bool = False,
        prepared: bool = False,
    ) -> float:
        """J at the current weights (forward only). ``X`` must already be checked."""
        training, prepared = check_bool(training, "training"), check_bool(prepared, "prepared")
        output = self.net._forward(X, training, self.head_stop)
        return self._loss(output, y, sample_weight, prepared) + self.net.penalty()

    def value_and_gradients(
        self, X: np.ndarray, y: Any, sample_weight: Any = None, *, input_grad: bool = False,
        prepared: bool = False,
    ) -> float | tuple[float, np.ndarray]:
        """One training pass: J, with ∂J/∂W written into ``net.gradients``.

        With ``input_grad=True`` also returns ∂J/∂X (n_samples, in_features). ``X`` must
        already be checked (see :meth:`Sequential.check_input`); with ``prepared=True``, ``y``
        and ``sample_weight`` too (see :meth:`prepare_targets`), and the loss skips its checks.
        """
        input_grad = check_bool(input_grad, "input_grad")
        prepared = check_bool(prepared, "prepared")
        net = self.net
        output = self.last_output = net._forward(X, True, self.head_stop)
        value = self._loss(output, y, sample_weight, prepared)
        dX = net._backward(self.head_loss.backward(), self.head_stop, input_grad)
        self.last_penalty = float(net.penalty())
        value += self.last_penalty
        net.add_penalty_gradients()
        return (value, dX) if input_grad else value

    def _loss(self, output: np.ndarray, y: Any, sample_weight: Any, prepared: bool) -> float:
        if prepared:
            return self.head_loss.evaluate(output, y, sample_weight)
        return self.head_loss.forward(output, y, sample_weight)

    __call__ = value_and_gradients

    def __repr__(self) -> str:
        return f"Objective(net={self.net.brief()}, loss={self.loss!r}, fused={self.fused})"
