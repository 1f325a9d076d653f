"""scikit-learn's hyperparameters in chainrule's terms: network, optimizer, penalties, random_state.

The L2 penalty ``alpha``
------------------------
scikit-learn adds ``½ α ‖W‖² / Σ_b w_i`` to the loss of every minibatch ``b`` (and ``α W /
Σ_b w_i`` to its gradient), where ``Σ_b w_i`` is the batch's total sample weight: its number
of samples when there are no sample weights. A chainrule ``Dense(l2=λ)`` adds ``½ λ ‖W‖²`` to
every batch's (weighted) mean loss, with one ``λ`` for the whole fit, set before training
(:func:`set_penalties`)::

    λ = α / (B · w̄)      B = min(batch_size, n_train)   rows of a full batch
                         w̄ = mean sample weight of the n_train training samples (1 without)

(``n_train`` excludes the early-stopping validation set.) The data term of every batch is
scikit-learn's exactly; the penalty term equals scikit-learn's on every batch whose weights sum
to ``B · w̄``, and is ``Σ_b w_i / (B · w̄)`` times scikit-learn's on the others. So it is

- **exact** for every batch of full-batch training (one batch of all ``n_train`` samples,
  ``Σ w = n_train · w̄``), with or without sample weights, and for every full batch
  (``B`` rows) of minibatch training without sample weights;
- **not** scikit-learn's, with sample weights, on a minibatch whose mean weight differs from
  ``w̄`` (the penalty there is (the batch's mean weight / ``w̄``) times scikit-learn's), and,
  with or without weights, on the last, partial batch of an epoch (``b < B`` rows): there
  scikit-learn divides by that batch's total weight, ``b`` without weights, and ours by
  ``B · w̄``, a penalty ``b / B`` times scikit-learn's without weights.

Following every batch's own total weight would need a penalty set per batch, which the
Trainer (one ``l2`` per layer for a fit) does not do. ``l1`` (ours) is chainrule's penalty as it
is: ``l1 · ‖W‖₁`` added to every batch's mean loss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .._random import as_generator
from .._validation import check_choice, check_float_dtype, check_number
from ..layers.activations import ACTIVATIONS, Softmax, Step
from ..layers.dense import MAX_FEATURES, Dense
from ..layers.sequential import Sequential
from ..optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

#: ``solver`` values: scikit-learn's two stochastic solvers and chainrule's others.
SOLVERS = ("adam", "sgd", "adamw", "rmsprop", "adagrad")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
#: scikit-learn's ``batch_size="auto"`` is ``min(AUTO_BATCH, n_samples)``.
AUTO_BATCH = 200
#: ``learning_rate_init``'s default (scikit-learn's): with an optimizer that has a rate of its
#: own, only this value defers to it (see :func:`optimizer_for`).
DEFAULT_LEARNING_RATE = 0.001


def random_source(random_state: Any) -> Callable[[], np.random.Generator]:
    """``random_state`` checked (as the other hyperparameters, before the data), and a
    function making the fit's ``numpy.random.Generator`` from it, called once the data passed
    their checks: a fit that fails on its data (NaN, a single class) draws nothing from a
    ``RandomState`` or NumPy's global state, so the next fit is the one it would have been,
    as with scikit-learn's estimators (which draw when they initialise the weights).

    A ``RandomState``: one draw from it seeds the Generator (so successive fits differ, as
    scikit-learn's convention for a shared RandomState). ``None`` is NumPy's global
    RandomState, as scikit-learn's ``check_random_state(None)``: ``np.random.seed`` makes
    fits reproducible, and each fit consumes a draw (chainrule's own ``seed=None`` is fresh
    entropy instead). The rest is :func:`chainrule._random.as_generator`: an int is
    reproducible, a ``Generator`` is used as is.
    """
    if random_state is None:
        random_state = check_random_state(None)  # np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        state = random_state
        return lambda: np.random.default_rng(int(state.randint(np.iinfo(np.int32).max)))
    try:
        rng = as_generator(random_state, "random_state")
    except TypeError:  # as_generator's message does not list RandomState
        raise TypeError(
            "random_state must be None, a non-negative int, a numpy RandomState or Generator, "
            f"got {random_state!r} ({type(random_state).__name__})"
        ) from None
    return lambda: rng


def hidden_sizes(hidden_layer_sizes: Any) -> list[int]:
    """``hidden_layer_sizes`` (an int or a sequence of ints, possibly empty) as a list."""
    if isinstance(hidden_layer_sizes, (str, bytes)):
        raise TypeError(
            f"hidden_layer_sizes must be an int or a sequence of ints, got {hidden_layer_sizes!r}"
        )
    iterable = hasattr(hidden_layer_sizes, "__iter__")
    sizes = list(hidden_layer_sizes) if iterable else [hidden_layer_sizes]
    return [
        check_number(size, f"hidden_layer_sizes[{i}]", low=1, high=MAX_FEATURES, integer=True)
        for i, size in enumerate(sizes)
    ]


def hidden_activations(activation: Any, n_hidden: int) -> list[str]:
    """One activation name per hidden layer, from one name or a list of them.

    Valid names are chainrule's activations (scikit-learn's ``"identity"``, ``"logistic"``,
    ``"tanh"``, ``"relu"``, and ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"softplus"``,
    ``"sigmoid"``), except the output-only ``"softmax"`` and the non-differentiable ``"step"``.
    """
    names = [activation] * n_hidden if isinstance(activation, str) else activation
    if not isinstance(names, Sequence) or isinstance(names, str):
        raise TypeError(f"activation must be a name or a list of names, got {activation!r}")
    names = list(names)
    if len(names) != n_hidden:
        raise ValueError(
            f"activation lists {len(names)} activations, but hidden_layer_sizes has "
            f"{n_hidden} hidden layers; give one name, or one per hidden layer"
        )
    for index, name in enumerate(names):
        where = "activation" if isinstance(activation, str) else f"activation[{index}]"
        if not isinstance(name, str):
            raise TypeError(f"{where} must be an activation name, got {name!r}")
        layer_class = ACTIVATIONS.get(name)  # ValueError listing the valid names
        if layer_class in (Softmax, Step):
            raise ValueError(
                f"{where}={name!r} cannot be a hidden activation ({name} is for outputs or "
                "has no derivative)"
            )
    return names


def network_dtype(dtype: Any, X: np.ndarray) -> np.dtype:
    """``dtype``, or the dtype of ``X`` (float32 or float64) when ``dtype`` is None."""
    return X.dtype if dtype is None else check_float_dtype(dtype)


def set_penalties(net: Sequential, l1: float, alpha: float, rows: int, mean_weight: float) -> None:
    """Give every Dense layer ``l1`` and ``l2 = alpha / (rows · mean_weight)``, for the whole
    fit: scikit-learn's ``alpha`` on every batch whose weights sum to ``rows · mean_weight``,
    not on the others (module notes)."""
    l2 = alpha / (rows * mean_weight)
    for layer in net.layers:
        if isinstance(layer, Dense):
            layer.l1, layer.l2 = l1, l2


def check_solver(solver: Any) -> str:
    """``solver`` is one of :data:`SOLVERS` (``"lbfgs"`` gets its own explanation)."""
    if isinstance(solver, str) and solver == "lbfgs":
        raise ValueError(
            "solver='lbfgs' is not available: chainrule trains with minibatch optimizers; "
            f"use one of {', '.join(repr(s) for s in SOLVERS)}"
        )
    if not isinstance(solver, str):
        raise TypeError(f"solver must be a name, one of {SOLVERS}, got {solver!r}")
    return check_choice(solver, "solver", SOLVERS)


def optimizer_for(est: Any, settings: dict[str, Any]) -> Optimizer:
    """A new, unbound optimizer: a copy of ``est.optimizer`` when given, else from ``solver``.

    ``settings`` holds the estimator's checked hyperparameters (``BaseMLP._settings``).

    The rate is stated in one place. A name, or a dict without ``"lr"``, builds that optimizer
    with its own defaults and ``lr=learning_rate_init``. A dict with ``"lr"``, or an
    Optimizer, keeps its rate; ``learning_rate_init`` must then be left at its default
    (:data:`DEFAULT_LEARNING_RATE`) or equal that rate: another value is a ``ValueError``
    rather than a rate silently not used.
    ``solver`` maps scikit-learn's settings onto chainrule's optimizers::

        "adam"     Adam(lr=learning_rate_init, beta1=beta_1, beta2=beta_2, eps=epsilon)
        "sgd"      SGD(lr=learning_rate_init, momentum=momentum,
                       nesterov=nesterovs_momentum and momentum > 0)
        "adamw"    AdamW(lr, beta1, beta2, eps as "adam"; weight_decay 0.01)
        "rmsprop"  RMSprop(lr=learning_rate_init, eps=epsilon)
        "adagrad"  Adagrad(lr=learning_rate_init)

    scikit-learn's momentum update ``v ← μ v − lr g`` and chainrule's (PyTorch's)
    ``v ← μ v + g; p ← p − lr v`` give the same steps while the rate is constant, and the
    Nesterov forms agree likewise (see :class:`~chainrule.optim.SGD`). ``momentum`` is checked
    in scikit-learn's domain [0, 1] whatever the solver; chainrule's ``SGD`` also refuses
    ``momentum=1`` (a velocity that never decays).
    """
    spec, lr = est.optimizer, settings["learning_rate_init"]
    if spec is not None:
        return _given_optimizer(spec, lr)
    solver = settings["solver"]
    if solver == "sgd":
        momentum = settings["momentum"]
        nesterov = settings["nesterovs_momentum"] and momentum > 0
        return SGD(lr, momentum=momentum, nesterov=nesterov)
    if solver in ("adam", "adamw"):
        moments = {"beta1": settings["beta_1"], "beta2": settings["beta_2"],
                   "eps": settings["epsilon"]}
        return (Adam if solver == "adam" else AdamW)(lr, **moments)
    if solver == "rmsprop":
        return RMSprop(lr, eps=settings["epsilon"])
    return Adagrad(lr)


def _given_optimizer(spec: Any, learning_rate_init: float) -> Optimizer:
    """The optimizer of ``optimizer=spec``, with ``learning_rate_init`` as
    :func:`optimizer_for` states."""
    if isinstance(spec, Optimizer):
        config = spec.get_config()  # a copy: never bind the caller's object
    elif isinstance(spec, str):
        config = {"name": spec}
    elif isinstance(spec, dict):
        config = dict(spec)
    else:
        raise TypeError(
            "optimizer must be None, a chainrule Optimizer, a name or a dict, got "
            f"{type(spec).__name__}"
        )
    config.setdefault("lr", learning_rate_init)
    optimizer = Optimizer.from_config(config)  # checks the config's lr
    if learning_rate_init not in (optimizer.lr, DEFAULT_LEARNING_RATE):
        raise ValueError(
            f"learning_rate_init={learning_rate_init!r} conflicts with the rate of "
            f"optimizer={spec!r}, lr={optimizer.lr!r}: state the rate once, either as the "
            f"optimizer's lr (learning_rate_init left at its default {DEFAULT_LEARNING_RATE}) "
            "or as learning_rate_init (the optimizer given by name, or as a dict without 'lr')"
        )
    return optimizer
