"""Layers: the forward/backward contract, the built-in layers and the Sequential network."""

from .activations import (
    ACTIVATIONS,
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from .base import LAYERS, Layer, ParameterSpec
from .builders import make_activation, mlp
from .dense import Dense
from .dropout import Dropout
from .rescale import Rescale
from .sequential import Sequential

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "LAYERS",
    "Dense",
    "Dropout",
    "Identity",
    "Layer",
    "LeakyReLU",
    "ParameterSpec",
    "ReLU",
    "Rescale",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Step",
    "Tanh",
    "make_activation",
    "mlp",
]
