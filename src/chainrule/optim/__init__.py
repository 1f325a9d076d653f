"""Optimizers, gradient clipping and learning-rate schedules.

Every optimizer updates a network's flat parameter buffer in place from its flat gradient buffer
(see :mod:`chainrule.optim.base`); each class's docstring states its exact update rule and how it
maps to ``torch.optim``. Names resolve through :data:`OPTIMIZERS` and :data:`SCHEDULES`.

Example
-------
>>> import numpy as np
>>> from chainrule.optim import Adam
>>> parameters, gradients = np.zeros(4), np.ones(4)        # shape (n_params,)
>>> opt = Adam(lr=0.01).bind(parameters, gradients, n_weights=3)
>>> opt.step()
>>> parameters
array([-0.01, -0.01, -0.01, -0.01])
"""

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import OPTIMIZERS, Optimizer, clip_grad_norm_
from .rmsprop import RMSprop
from .schedules import (
    SCHEDULES,
    ConstantLR,
    CosineLR,
    ExponentialLR,
    InverseScalingLR,
    Schedule,
    StepLR,
)
from .sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "ConstantLR",
    "CosineLR",
    "ExponentialLR",
    "InverseScalingLR",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "StepLR",
    "clip_grad_norm_",
]
