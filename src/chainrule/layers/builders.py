"""Builders: a network from a list of sizes (``mlp``) or from the tutorials' list of dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_number
from .activations import ACTIVATIONS, ELU, GELU, Identity, LeakyReLU, ReLU
from .base import Layer
from .dense import Dense
from .dropout import Dropout

#: An activation as the builders take it: a name, a ``{"name": ..., **options}`` dict or an
#: activation layer (a template: each use gets its own copy).
ActivationSpec = str | dict[str, Any] | Layer

ARCHITECTURE_KEYS = ("input_dim", "output_dim", "activation", "dropout", "bias", "l1", "l2", "init")
_RELU_FAMILY = (ReLU, LeakyReLU, ELU, GELU)


def make_activation(spec: Any) -> Layer:
    """An activation layer from a name (``"relu"``), a dict (``{"name": "elu", "alpha": 0.5}``)
    or a ready instance.

    Raises
    ------
    TypeError
        ``spec`` is a layer that is not an activation (a ``Dense``, a ``Dropout``): an
        instance of no class registered in :data:`ACTIVATIONS` (register your own activation
        there to pass it).
    """
    if isinstance(spec, Layer):
        activations = tuple({ACTIVATIONS.get(name) for name in ACTIVATIONS})
        if not isinstance(spec, activations):
            raise TypeError(
                "an activation must be a name, a {'name': ...} dict or an activation layer "
                "(an instance of a class registered in chainrule.layers.ACTIVATIONS: "
                f"{', '.join(ACTIVATIONS.names())}), got {spec!r}"
            )
        return spec
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
        if name is None:
            raise ValueError(f"an activation dict needs a 'name' key, got {spec!r}")
        return ACTIVATIONS.get(name)(**options)
    return ACTIVATIONS.get(spec)()


def architecture_layers(architecture: Sequence[dict[str, Any]]) -> list[Layer]:
    """The layers described by a list of dicts (see :meth:`Sequential.from_architecture`).

    Each entry gives a ``Dense(input_dim, output_dim)``, then its activation (none for
    ``"identity"``), then ``Dropout(dropout)`` when ``dropout > 0``.
    """
    if isinstance(architecture, (str, bytes, dict)) or not isinstance(architecture, Sequence):
        raise TypeError(
            f"architecture must be a list of dicts, got {type(architecture).__name__}"
        )
    if not architecture:
        raise ValueError("architecture must describe at least one layer, got an empty list")
    layers: list[Layer] = []
    for index, entry in enumerate(architecture):
        where = f"architecture[{index}]"
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a dict, got {type(entry).__name__}")
        unknown = sorted(set(entry) - set(ARCHITECTURE_KEYS))
        if unknown:
            raise ValueError(f"{where} has unknown key(s) {unknown}; allowed: {list(ARCHITECTURE_KEYS)}")
        missing = [key for key in ("input_dim", "output_dim") if key not in entry]
        if missing:
            raise ValueError(f"{where} is missing {missing}")
        try:
            activation = make_activation(entry.get("activation", "identity"))
            dense = Dense(
                entry["input_dim"],
                entry["output_dim"],
                bias=entry.get("bias", True),
                init=entry.get("init", "glorot_uniform"),
                l1=entry.get("l1", 0.0),
                l2=entry.get("l2", 0.0),
            )
            dropout = check_number(entry.get("dropout", 0.0), "dropout", low=0, high=1, high_open=True)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{where}: {exc}") from None
        layers.append(dense)
        if not isinstance(activation, Identity):
            layers.append(activation)
        if dropout > 0:
            layers.append(Dropout(dropout))
    return layers


def mlp_architecture(
    sizes: Sequence[int],
    activation: ActivationSpec | Sequence[ActivationSpec] = "relu",
    output: ActivationSpec = "identity",
    *,
    dropout: float = 0.0,
    l1: float = 0.0,
    l2: float = 0.0,
    init: Any = None,
    bias: bool = True,
) -> list[dict[str, Any]]:
    """The list of dicts (see :func:`architecture_layers`) that :func:`mlp` builds.

    Parameters
    ----------
    sizes, activation, output
        As in :func:`mlp`.
    dropout : float
        Dropout probability after each hidden activation (none after the output).
    l1, l2 : float
        Weight penalties of every Dense layer.
    init : initializer spec or None
        None picks ``"he_uniform"`` for a layer followed by a ReLU-like activation (ReLU,
        LeakyReLU, ELU, GELU) and ``"glorot_uniform"`` otherwise.
    bias : bool
        Whether the Dense layers have biases.

    Examples
    --------
    >>> mlp_architecture([2, 4, 1], output="sigmoid")[1]["activation"]
    'sigmoid'
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise TypeError(f"sizes must be a list of at least two layer widths (input first), "
                        f"got {sizes!r}")
    dropout = check_number(dropout, "dropout", low=0, high=1, high_open=True)
    n_hidden = len(sizes) - 2
    if isinstance(activation, (str, dict, Layer)):
        hidden = [activation] * n_hidden
    elif isinstance(activation, (list, tuple)):
        hidden = list(activation)
    else:
        raise TypeError(f"activation must be a name, a dict, an activation layer or a list of "
                        f"them (one per hidden layer), got {activation!r}")
    if len(hidden) != n_hidden:
        raise ValueError(
            f"activation lists {len(hidden)} activations for {n_hidden} hidden layers"
        )
    # An activation instance is a template: a layer belongs to one network, so each gets a copy.
    activations = [act.copy() if isinstance(act, Layer) else act for act in [*hidden, output]]
    architecture = []
    for index, (n_in, n_out, act) in enumerate(zip(sizes[:-1], sizes[1:], activations)):
        relu_like = isinstance(make_activation(act), _RELU_FAMILY)  # (and act is checked)
        layer_init = init
        if layer_init is None:
            layer_init = "he_uniform" if relu_like else "glorot_uniform"
        entry = {"input_dim": n_in, "output_dim": n_out, "activation": act, "bias": bias,
                 "init": layer_init, "l1": l1, "l2": l2}
        if dropout and index < n_hidden:
            entry["dropout"] = dropout
        architecture.append(entry)
    return architecture


def mlp(
    sizes: Sequence[int],
    activation: ActivationSpec | Sequence[ActivationSpec] = "relu",
    output: ActivationSpec = "identity",
    *,
    dtype: Any = np.float32,
    seed: Any = None,
    **options: Any,
):
    """A multilayer perceptron ``sizes[0] → sizes[1] → ... → sizes[-1]``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[2, 16, 16, 1]`` has two hidden layers of 16.
    activation : str, dict, Layer, or a sequence of them
        Hidden activation, one for all or one per hidden layer: a name (``"relu"``), a dict
        (``{"name": "leaky_relu", "alpha": 0.2}``) or an activation layer, which serves as a
        template (each hidden layer gets its own copy).
    output : str, dict or Layer
        Output activation: ``"identity"`` (regression, or logits), ``"sigmoid"`` (binary),
        ``"softmax"`` (multi-class).
    dtype, seed
        As in :class:`Sequential`.
    **options
        Passed to :func:`mlp_architecture`: ``dropout`` (probability after each hidden
        activation), ``l1``/``l2`` (weight penalties of every Dense layer), ``init`` (None picks
        ``"he_uniform"`` for layers followed by a ReLU-like activation, ``"glorot_uniform"``
        otherwise) and ``bias``.

    Returns
    -------
    Sequential

    Examples
    --------
    >>> net = mlp([2, 16, 16, 1], activation="relu", output="sigmoid", seed=0)
    >>> net.forward(np.zeros((5, 2))).shape
    (5, 1)
    """
    from .sequential import Sequential

    architecture = mlp_architecture(sizes, activation, output, **options)
    return Sequential.from_architecture(architecture, dtype=dtype, seed=seed)
