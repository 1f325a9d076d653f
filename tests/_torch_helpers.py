"""PyTorch as the oracle: mirror a chainrule network in torch (float64) and run autograd on it.

Only imported by tests that have already called ``pytest.importorskip("torch")``.

Conventions bridged here:

- ``Dense`` stores ``W`` as (in_features, out_features) and computes ``X @ W + b``;
  ``torch.nn.Linear`` stores ``weight`` as (out_features, in_features) and computes
  ``X @ weight.T + bias``. So ``weight = W.T`` going in and ``dW = weight.grad.T`` coming out.
- Penalties (``Dense(l1=..., l2=...)``): ``l1 * Σ|W| + 0.5 * l2 * Σ W²`` on weights only, written
  here as a torch expression so that autograd adds ``l1 * sign(W) + l2 * W`` (torch's ``abs``
  has gradient 0 at 0, like ``np.sign``).
- ``Dropout``: torch cannot be given a mask, so the mirror multiplies by the mask our layer drew
  (``layer.cache["mask"]`` after a training forward), which is exactly inverted dropout.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from chainrule.layers.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.sequential import Sequential

RTOL = 1e-10
ATOL = 1e-12

_PLAIN = {
    Sigmoid: torch.nn.Sigmoid,
    Tanh: torch.nn.Tanh,
    ReLU: torch.nn.ReLU,
    GELU: lambda: torch.nn.GELU(approximate="none"),
    # torch returns x itself above `threshold` (default 20); ours is exact everywhere.
    Softplus: lambda: torch.nn.Softplus(beta=1.0, threshold=float("inf")),
    Identity: torch.nn.Identity,
    Softmax: lambda: torch.nn.Softmax(dim=1),
}


def torch_module(layer) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The torch equivalent of one chainrule layer (None for Dropout, handled by the caller)."""
    if isinstance(layer, Dense):
        linear = torch.nn.Linear(
            layer.in_features, layer.out_features, bias=layer.bias, dtype=torch.float64
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(layer.params["W"].T, np.float64)))
            if layer.bias:
                linear.bias.copy_(torch.from_numpy(np.array(layer.params["b"], np.float64)))
        return linear
    if isinstance(layer, LeakyReLU):
        return torch.nn.LeakyReLU(negative_slope=layer.alpha)
    if isinstance(layer, ELU):
        return torch.nn.ELU(alpha=layer.alpha)
    if isinstance(layer, Dropout):
        return None
    return _PLAIN[type(layer)]()


def dropout_masks(net: Sequential) -> dict[int, np.ndarray]:
    """``{layer index: mask}`` of every Dropout layer after a training forward of ``net``."""
    return {
        index: layer.cache["mask"].copy()
        for index, layer in enumerate(net.layers)
        if isinstance(layer, Dropout) and layer.cache.get("mask") is not None
    }


class TorchMirror:
    """A fresh torch copy of ``net``'s layers and current parameter values."""

    def __init__(self, net: Sequential) -> None:
        self.net = net
        self.modules = [torch_module(layer) for layer in net.layers]

    def forward(
        self, X: torch.Tensor, stop: int | None = None, masks: dict[int, np.ndarray] | None = None
    ) -> torch.Tensor:
        """Layers ``[:stop]``; Dropout multiplies by ``masks[index]`` (identity when absent)."""
        masks = masks or {}
        for index, module in enumerate(self.modules[:stop]):
            if module is None:
                if index in masks:
                    X = X * torch.from_numpy(masks[index])
            else:
                X = module(X)
        return X

    def penalty(self) -> torch.Tensor:
        """Σ over Dense layers of ``l1 Σ|W| + 0.5 l2 Σ W²`` (weights only)."""
        total = torch.zeros((), dtype=torch.float64)
        for layer, module in zip(self.net.layers, self.modules):
            if isinstance(layer, Dense):
                total = total + layer.l1 * module.weight.abs().sum()
                total = total + 0.5 * layer.l2 * (module.weight**2).sum()
        return total

    def gradients(self) -> dict[str, np.ndarray]:
        """Parameter gradients named and laid out as ``net.named_parameters()`` (W transposed)."""
        grads = {}
        for index, module in enumerate(self.modules):
            if isinstance(module, torch.nn.Linear):
                grads[f"{index}.W"] = module.weight.grad.numpy().T.copy()
                if module.bias is not None:
                    grads[f"{index}.b"] = module.bias.grad.numpy().copy()
        return grads


def torch_eval_forward(net: Sequential, X: np.ndarray) -> np.ndarray:
    """The torch output of ``net`` in evaluation mode (dropout off)."""
    with torch.no_grad():
        return TorchMirror(net).forward(torch.from_numpy(X)).numpy()


def torch_objective(
    net: Sequential,
    X: np.ndarray,
    loss_of_output: Callable[[torch.Tensor], torch.Tensor],
    *,
    stop: int | None = None,
    masks: dict[int, np.ndarray] | None = None,
) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
    """J = loss_of_output(layers[:stop](X)) + penalties, and (J, dJ/dX, {name: dJ/dparam})."""
    mirror = TorchMirror(net)
    Xt = torch.from_numpy(X.copy()).requires_grad_(True)
    J = loss_of_output(mirror.forward(Xt, stop, masks)) + mirror.penalty()
    J.backward()
    return float(J.detach()), Xt.grad.numpy().copy(), mirror.gradients()


def assert_close(ours, ref, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Same shape, and elementwise ``|ours − ref| ≤ atol + rtol |ref|``."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape}, torch gives {ref.shape}"
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, err_msg=what)


def assert_matches_torch(
    net: Sequential,
    value: float,
    dX: np.ndarray,
    reference: tuple[float, np.ndarray, dict[str, np.ndarray]],
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Our J, dJ/dX and every parameter gradient (by name) against ``torch_objective``'s."""
    for what, ours, ref in torch_pairs(net, value, dX, reference):
        assert_close(ours, ref, what, rtol, atol)


def torch_pairs(
    net: Sequential,
    value: float,
    dX: np.ndarray,
    reference: tuple[float, np.ndarray, dict[str, np.ndarray]],
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(what, ours, torch's)`` for J (0-d arrays), dJ/dX (n_samples, in_features) and every
    parameter gradient, matched by name (the names must be the same on both sides)."""
    ref_value, ref_dX, ref_grads = reference
    ours = {name: grad for name, _, grad in net.named_parameters()}
    assert sorted(ours) == sorted(ref_grads)
    return [("loss J", np.asarray(value), np.asarray(ref_value)), ("dJ/dX", dX, ref_dX),
            *((f"gradient {name}", grad, ref_grads[name]) for name, grad in ours.items())]
