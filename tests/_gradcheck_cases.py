"""Networks for the gradient-check tests (gradcheck and explain): layers with a deliberately
wrong backward, and the near-perfect fit at which every gradient is tiny."""

from __future__ import annotations

import numpy as np

from chainrule.layers.activations import Tanh
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential


class TwiceTanh(Tanh):
    """A Tanh whose backward returns twice the true dX: wrong, for the checks to catch."""

    def backward(self, dY):
        return 2.0 * super().backward(dY)


class WrongBiasDense(Dense):
    """A Dense whose backward doubles ∂L/∂b: wrong, for the checks to catch."""

    def backward(self, dY, *, input_grad=True):
        dX = super().backward(dY, input_grad=input_grad)
        self.grads["b"] *= 2.0
        return dX


def network(layers, values):
    """A float64 Sequential of ``layers`` with the parameters ``values`` (name → array); the
    names must be exactly the network's."""
    net = Sequential(layers, dtype=np.float64, seed=0)
    params = {name: param for name, param, _ in net.named_parameters()}
    assert sorted(params) == sorted(values)
    for name, value in values.items():
        params[name][...] = value
    return net


def near_perfect_fit(tanh_class=Tanh):
    """Dense(3, 4) → ``tanh_class`` → Dense(4, 2), MSE, with targets 1e-9 from the outputs:
    every gradient is about 1e-10, while the central difference's own error (its truncation,
    ε² J‴ / 6) is about 1e-12. Returns ``(net, X (6, 3), y (6, 2))``."""
    net = Sequential([Dense(3, 4), tanh_class(), Dense(4, 2)], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = net.forward(X) + 1e-9 * np.random.default_rng(1).normal(size=(6, 2))
    return net, X, y
