"""Builders: a network from a list of sizes (``mlp``) or from the tutorials' list of dicts."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_bool, check_number
from ..init import get_initializer
from ..registry import constructor_arguments
from .activations import ACTIVATIONS, ELU, GELU, Identity, LeakyReLU, ReLU
from .base import Layer
from .dense import MAX_FEATURES, Dense
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
    ValueError
        An unknown name, a dict without ``"name"``, or a dict option the activation does not
        take (the message lists those it takes).
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
        cls = ACTIVATIONS.get(name)
        accepted = constructor_arguments(cls)
        unknown = sorted(set(options) - set(accepted))
        if unknown:  # (the constructor's own TypeError would name neither the key nor the options)
            raise ValueError(
                f"activation {name!r} accepts {accepted or 'no options'}, got {unknown}"
            )
        return cls(**options)
    return ACTIVATIONS.get(spec)()


def _resolved(name: str, resolve: Callable[..., Any], spec: Any, **kwargs: Any) -> Any:
    """``resolve(spec, **kwargs)``, its error prefixed by ``name`` (the argument or key that
    gave ``spec``: a registry's message names the thing it looked up, not who asked)."""
    try:
        return resolve(spec, **kwargs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from None


def _width(value: Any, name: str) -> int:
    """A layer width (``64.0`` reads as 64), its error naming ``name``, the builder's key
    (``sizes[1]``, ``architecture[0].output_dim``) rather than the Dense argument it fills."""
    try:
        return check_number(value, name, low=1, high=MAX_FEATURES, integer=True)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} must be a positive integer (at most {MAX_FEATURES}), got "
                        f"{value!r} ({type(value).__name__})") from None


def _check_dense_options(prefix: str, *, bias: Any, l1: Any, l2: Any) -> None:
    """Check the Dense options a builder was given, each error naming ``{prefix}{key}`` as
    the builder's caller wrote it (``Dense`` would name them as its own arguments; an
    initializer, checked by the callers with :func:`_resolved`, not at all)."""
    check_bool(bias, f"{prefix}bias")
    check_number(l1, f"{prefix}l1", low=0)
    check_number(l2, f"{prefix}l2", low=0)


def architecture_layers(
    architecture: Sequence[dict[str, Any]], name: str = "architecture"
) -> list[Layer]:
    """The layers described by a list of dicts (see :meth:`Sequential.from_architecture`).

    Each entry gives a ``Dense(input_dim, output_dim)``, then its activation (none for
    ``"identity"``), then ``Dropout(dropout)`` when ``dropout > 0``. Building the layers
    allocates no parameters (that is :meth:`Layer.build`'s work), so this also serves as the
    check of an architecture (a config file's ``model.layers``).

    Raises
    ------
    TypeError, ValueError
        A bad entry or value; the message names it as ``{name}[i]`` or ``{name}[i].key``
        (``architecture[0].l2 must be in [0, inf), got -1.0``).
    """
    if isinstance(architecture, (str, bytes, dict)) or not isinstance(architecture, Sequence):
        raise TypeError(
            f"{name} must be a list of dicts, got {type(architecture).__name__}"
        )
    if not architecture:
        raise ValueError(f"{name} must describe at least one layer, got an empty list")
    layers: list[Layer] = []
    for index, entry in enumerate(architecture):
        layers.extend(_entry_layers(entry, f"{name}[{index}]"))
    return layers


def _entry_layers(entry: Any, where: str) -> list[Layer]:
    """The Dense layer, activation and Dropout of one architecture entry named ``where``."""
    if not isinstance(entry, dict):
        raise TypeError(f"{where} must be a dict, got {type(entry).__name__}")
    unknown = sorted(set(entry) - set(ARCHITECTURE_KEYS))
    if unknown:
        raise ValueError(f"{where} has unknown key(s) {unknown}; allowed: {list(ARCHITECTURE_KEYS)}")
    missing = [key for key in ("input_dim", "output_dim") if key not in entry]
    if missing:
        raise ValueError(f"{where} is missing {missing}")
    in_features = _width(entry["input_dim"], f"{where}.input_dim")
    out_features = _width(entry["output_dim"], f"{where}.output_dim")
    options = {"bias": entry.get("bias", True), "init": entry.get("init", "glorot_uniform"),
               "l1": entry.get("l1", 0.0), "l2": entry.get("l2", 0.0)}
    _check_dense_options(f"{where}.", bias=options["bias"], l1=options["l1"], l2=options["l2"])
    _resolved(f"{where}.init", get_initializer, options["init"], for_weights=True)
    activation = _resolved(f"{where}.activation", make_activation,
                           entry.get("activation", "identity"))
    dropout = check_number(entry.get("dropout", 0.0), f"{where}.dropout", low=0, high=1,
                           high_open=True)
    layers: list[Layer] = [Dense(in_features, out_features, **options)]
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

    Raises
    ------
    TypeError, ValueError
        A bad argument, named as passed: ``sizes[1]``, ``activation``, ``activation[0]``
        (in a list), ``output``, ``dropout``, ``l1``, ``l2``, ``init``, ``bias``.

    Examples
    --------
    >>> mlp_architecture([2, 4, 1], output="sigmoid")[1]["activation"]
    'sigmoid'
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise TypeError(f"sizes must be a list of at least two layer widths (input first), "
                        f"got {sizes!r}")
    sizes = [_width(size, f"sizes[{index}]") for index, size in enumerate(sizes)]
    dropout = check_number(dropout, "dropout", low=0, high=1, high_open=True)
    _check_dense_options("", bias=bias, l1=l1, l2=l2)
    if init is not None:  # (None: a name chosen per layer below)
        _resolved("init", get_initializer, init, for_weights=True)
    n_hidden = len(sizes) - 2
    if isinstance(activation, (str, dict, Layer)):
        hidden = [activation] * n_hidden
        names = ["activation"] * n_hidden
    elif isinstance(activation, (list, tuple)):
        hidden = list(activation)
        names = [f"activation[{index}]" for index in range(len(hidden))]
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
    layers = zip(sizes[:-1], sizes[1:], activations, [*names, "output"])
    for index, (n_in, n_out, act, name) in enumerate(layers):
        relu_like = isinstance(_resolved(name, make_activation, act), _RELU_FAMILY)  # (checked)
        layer_init = init
        if layer_init is None:
            layer_init = "he_uniform" if relu_like else "glorot_uniform"
        entry = {"input_dim": n_in, "output_dim": n_out, "activation": act, "bias": bias,
                 "init": layer_init, "l1": l1, "l2": l2}
        if dropout and index < n_hidden:
            entry["dropout"] = dropout
        architecture.append(entry)
    return architecture


#: The options :func:`mlp` passes on to :func:`mlp_architecture` (its keyword-only arguments).
MLP_OPTIONS = tuple(name for name, parameter in inspect.signature(mlp_architecture).parameters.items()
                    if parameter.kind is parameter.KEYWORD_ONLY)


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

    Raises
    ------
    TypeError
        An option not listed above (the message lists those ``mlp`` takes).
    TypeError, ValueError
        A bad value, named as passed (see :func:`mlp_architecture`).

    Examples
    --------
    >>> net = mlp([2, 16, 16, 1], activation="relu", output="sigmoid", seed=0)
    >>> net.forward(np.zeros((5, 2))).shape
    (5, 1)
    """
    from .sequential import Sequential

    unknown = [key for key in options if key not in MLP_OPTIONS]
    if unknown:  # (mlp_architecture's own TypeError would name it, not mlp)
        allowed = ", ".join(["activation", "output", "dtype", "seed", *MLP_OPTIONS])
        raise TypeError(f"mlp() got an unexpected option {unknown[0]!r}; allowed: {allowed}")
    architecture = mlp_architecture(sizes, activation, output, **options)
    return Sequential.from_architecture(architecture, dtype=dtype, seed=seed)
