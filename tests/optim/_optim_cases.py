"""Optimizer settings exercised by several test files, and a torch translation of them."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.base import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

# (id, class, keyword arguments): every variant of every update rule.
CASES: list[tuple[str, type[Optimizer], dict[str, Any]]] = [
    ("sgd", SGD, {"lr": 0.1}),
    ("sgd-momentum", SGD, {"lr": 0.05, "momentum": 0.9}),
    ("sgd-dampening", SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("sgd-nesterov", SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd-decay", SGD, {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01}),
    ("sgd-plain-decay", SGD, {"lr": 0.1, "weight_decay": 0.03}),
    (
        "sgd-nesterov-decay",
        SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02},
    ),
    ("adam", Adam, {"lr": 0.01}),
    ("adam-betas", Adam, {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
    ("adam-amsgrad", Adam, {"lr": 0.01, "amsgrad": True}),
    ("adam-decay", Adam, {"lr": 0.01, "weight_decay": 0.05}),
    ("adam-amsgrad-decay", Adam, {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True}),
    ("adamw", AdamW, {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw-amsgrad", AdamW, {"lr": 0.01, "amsgrad": True}),
    ("rmsprop", RMSprop, {"lr": 0.01}),
    ("rmsprop-rho", RMSprop, {"lr": 0.01, "rho": 0.9, "eps": 1e-6}),
    ("rmsprop-momentum", RMSprop, {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop-centered", RMSprop, {"lr": 0.01, "centered": True}),
    ("rmsprop-centered-momentum", RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("rmsprop-decay", RMSprop, {"lr": 0.01, "weight_decay": 0.05}),
    ("adagrad", Adagrad, {"lr": 0.1}),
    ("adagrad-lr-decay", Adagrad, {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad-decay", Adagrad, {"lr": 0.1, "weight_decay": 0.02}),
    ("adagrad-accumulator", Adagrad, {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-8}),
]
CASE_IDS = [case[0] for case in CASES]
CASE_PARAMS = [case[1:] for case in CASES]


def torch_optimizer(cls: type[Optimizer], kwargs: dict[str, Any], params: Any) -> Any:
    """The ``torch.optim`` optimizer with the same settings (``beta1, beta2 -> betas``,
    ``rho -> alpha``); ``params`` as torch takes it (tensors or parameter groups)."""
    import torch

    kwargs = dict(kwargs)
    kwargs.pop("clip_norm", None)
    if "beta1" in kwargs or "beta2" in kwargs:
        kwargs["betas"] = (kwargs.pop("beta1", 0.9), kwargs.pop("beta2", 0.999))
    if "rho" in kwargs:
        kwargs["alpha"] = kwargs.pop("rho")
    return getattr(torch.optim, cls.__name__)(params, **kwargs)


def gradient_sequence(rng: np.random.Generator, n_steps: int, n_params: int) -> np.ndarray:
    """Random gradients of shape (n_steps, n_params) whose scale changes from step to step."""
    scales = np.exp(rng.normal(0.0, 1.0, size=(n_steps, 1)))
    return rng.standard_normal((n_steps, n_params)) * scales


def paired(cls: type[Optimizer], kwargs: dict[str, Any], p0: np.ndarray) -> tuple:
    """The two optimizers of a parity check, from the same start ``p0`` (n_params,).

    Returns ``(p, g, ours, tp, theirs)``: ``ours`` is bound to ``p`` (a copy of ``p0``) and the
    gradient buffer ``g`` (write each step's gradient into it), with weight decay on every
    entry (``n_weights = n_params``, as torch's single parameter group); ``theirs`` is the
    ``torch.optim`` optimizer of the Parameter ``tp`` holding ``p0``.
    """
    import torch

    p, g = p0.copy(), np.empty_like(p0)
    ours = cls(**kwargs).bind(p, g, n_weights=p0.size)
    tp = torch.nn.Parameter(torch.tensor(p0))
    return p, g, ours, tp, torch_optimizer(cls, kwargs, [tp])
