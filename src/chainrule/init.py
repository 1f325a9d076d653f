"""Weight initialisers.

An initialiser is a function ``init(shape, rng) -> ndarray`` (float64) that draws a starting value
for a parameter of ``shape``: an array of exactly that shape (nothing is broadcast) of numbers
finite in the network's dtype, as the network checks when it is built. For a weight matrix of
shape ``(fan_in, fan_out)`` the variance is chosen from the fan-in and fan-out. Values are drawn
in float64 and then stored in the network's dtype, so a float32 and a float64 network built
with the same seed start from the same numbers.

=================  =====================================================  ==========================
name               distribution                                           reference
=================  =====================================================  ==========================
glorot_uniform     U(-a, a), a = sqrt(6 / (fan_in + fan_out))             Glorot & Bengio (2010)
glorot_normal      N(0, σ²), σ = sqrt(2 / (fan_in + fan_out))             Glorot & Bengio (2010)
he_uniform         U(-a, a), a = sqrt(6 / fan_in)                         He et al. (2015)
he_normal          N(0, σ²), σ = sqrt(2 / fan_in)                         He et al. (2015)
small_normal       N(0, std²), std = 0.01 by default                      the tutorials' randn*0.01
zeros              0 (biases only)
=================  =====================================================  ==========================

The uniform and normal variants of a family have the same variance. They match PyTorch's
``xavier_uniform_``/``xavier_normal_`` and ``kaiming_uniform_``/``kaiming_normal_`` (with
``nonlinearity="relu"``, ``mode="fan_in"``) and Keras' ``GlorotUniform``/``HeUniform``; Keras'
normal variants truncate at two standard deviations, ours do not.

X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural
networks", AISTATS 2010. K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers",
ICCV 2015.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._validation import check_number
from .registry import Registry

Initializer = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]

#: Initialisers by name.
INITIALIZERS: Registry[Initializer] = Registry("initializer")


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (fan_in, fan_out); a vector has fan_in = fan_out."""
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], int(np.prod(shape[1:]))


@INITIALIZERS.register("glorot_uniform", "xavier_uniform")
def glorot_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)): variance 2 / (fan_in + fan_out)."""
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


@INITIALIZERS.register("glorot_normal", "xavier_normal")
def glorot_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """N(0, σ²) with σ = sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


@INITIALIZERS.register("he_uniform", "kaiming_uniform")
def he_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in): variance 2 / fan_in, for ReLU layers."""
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)


@INITIALIZERS.register("he_normal", "kaiming_normal")
def he_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """N(0, σ²) with σ = sqrt(2 / fan_in), for ReLU layers."""
    fan_in, _ = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


@INITIALIZERS.register("small_normal")
def small_normal(shape: tuple[int, ...], rng: np.random.Generator, std: float = 0.01) -> np.ndarray:
    """N(0, std²): the tutorials' ``np.random.randn(n_in, n_out) * 0.01`` (or ``* 0.1``).

    Fine for shallow networks; in deep ones the signal shrinks layer by layer (vanishing
    activations and gradients), which is why Glorot and He scale by the fan instead.
    """
    return rng.normal(0.0, std, size=shape)


@INITIALIZERS.register("zeros")
def zeros(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """All zeros: the standard bias initialisation. Refused for weights (see :func:`get_initializer`)."""
    return np.zeros(shape)


_SYMMETRY = (
    "weights initialised to zeros: every unit of a layer would compute the same output and "
    "receive the same gradient, so the units could never become different (the symmetry "
    "problem); use 'glorot_uniform' (sigmoid/tanh) or 'he_uniform' (ReLU) instead"
)


def get_initializer(spec: Any, *, for_weights: bool = True) -> Initializer:
    """Resolve an initialiser given as a name, a ``{"name": ..., **kwargs}`` dict (any
    mapping) or a callable.

    >>> init = get_initializer({"name": "small_normal", "std": 0.1})
    >>> init((2, 3), np.random.default_rng(0)).shape
    (2, 3)

    Raises
    ------
    ValueError
        An unknown or missing name (the message lists the valid ones), an option the
        initialiser does not take (the message lists those it takes), or ``zeros`` for
        weights (it cannot break the symmetry between units).
    """
    if callable(spec) and not isinstance(spec, str):
        if for_weights and spec is zeros:
            raise ValueError(_SYMMETRY)
        return spec
    if isinstance(spec, Mapping):
        kwargs = dict(spec)
        name = kwargs.pop("name", None)
        if name is None:
            raise ValueError(f"an initializer dict needs a 'name' key, got {kwargs!r}; valid "
                             f"names: {', '.join(INITIALIZERS.names())}")
    else:
        name, kwargs = spec, {}
    function = INITIALIZERS.get(name)
    if for_weights and function is zeros:
        raise ValueError(_SYMMETRY)
    if "std" in kwargs:
        kwargs["std"] = check_number(kwargs["std"], "std", low=0, low_open=True)
    if not kwargs:
        return function
    accepted = set(inspect.signature(function).parameters) - {"shape", "rng"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"initializer {name!r} accepts {sorted(accepted) or 'no options'}, got {unknown}"
        )
    return functools.partial(function, **kwargs)


def init_config(spec: Any) -> Any:
    """``spec`` as a layer keeps it for ``get_config()``: a ``{"name": ..., **kwargs}`` mapping
    is copied into a dict (the caller's is never shared) with NumPy scalars turned into Python numbers
    (``np.float32(0.1)`` → ``0.10000000149011612``, the same value), so that the config is JSON
    data; a NumPy str name becomes a str; anything else (a name, a function) is returned as is.

    >>> init_config({"name": "small_normal", "std": np.float64(0.5)})
    {'name': 'small_normal', 'std': 0.5}
    """
    if isinstance(spec, Mapping):
        return {key: _plain(value) for key, value in spec.items()}
    return _plain(spec)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the equal Python scalar; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value
