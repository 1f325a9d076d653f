"""Flat parameter storage: every parameter of a network in one contiguous buffer.

A network of layers with parameters ``W0, b0, W1, b1, ...`` is laid out as ::

    parameters = [ W0.ravel() | W1.ravel() | ... | b0 | b1 | ... ]      (n_parameters,)
    gradients  = [ dW0        | dW1        | ... | db0 | db1 | ... ]    same layout
                 \\__________ n_weights ________/

and each ``layer.params[k]`` / ``layer.grads[k]`` is a reshaped *view* into these buffers. So:

- an optimizer updates the whole network with a few vectorised in-place operations on two 1-D
  arrays, and weight decay (weights only) touches one prefix slice ``[:n_weights]``;
- saving a model is writing one array;
- a layer's ``backward`` writes its gradients straight into the shared gradient buffer.

Anything that replaces ``layer.params[k]`` with a new array (instead of writing into it) breaks
the link; always assign in place: ``layer.params["W"][...] = value``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_float_dtype
from ..errors import ShapeError
from .base import Layer, ParameterSpec

#: Most parameters a network may have: 2**36 float32 values are 256 GiB.
MAX_PARAMETERS = 2**36


@dataclass(frozen=True)
class ParameterSlot:
    """Where one parameter lives in the flat buffers: ``buffer[offset:offset + size]``."""

    layer_index: int
    name: str
    shape: tuple[int, ...]
    role: str
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class ParameterStore:
    """The two flat buffers of a network and the map from names to their slices.

    Attributes
    ----------
    parameters, gradients : ndarray of shape (n_parameters,)
    n_weights : int
        ``parameters[:n_weights]`` are all the weights, ``parameters[n_weights:]`` the biases.
    slots : tuple of ParameterSlot
        In layer order (not storage order), so names come out as ``0.W, 0.b, 2.W, 2.b``.
    """

    parameters: np.ndarray
    gradients: np.ndarray
    n_weights: int
    slots: tuple[ParameterSlot, ...]


def allocate_parameters(
    layers: Sequence[Layer], dtype: object, rng: np.random.Generator
) -> ParameterStore:
    """Give ``layers`` their parameters as views into two new flat buffers.

    A layer that already holds a value for a parameter (built on its own earlier, or loaded)
    keeps it, converted to ``dtype``; otherwise the value is drawn with the parameter's
    initialiser from ``rng``, layer by layer in order (see :func:`initial_value`). Gradients
    start at zero.
    """
    dtype = check_float_dtype(dtype)
    specs = [(i, spec) for i, layer in enumerate(layers) for spec in layer.parameter_specs()]
    for i, spec in specs:
        if spec.role not in ("weight", "bias"):
            raise ValueError(
                f"{layers[i].label}: parameter {spec.name!r} has role {spec.role!r}; "
                "expected 'weight' or 'bias'"
            )
    # Storage order: weights first, biases last; stable within each group.
    storage = sorted(specs, key=lambda item: item[1].role != "weight")
    offsets, position = {}, 0
    for i, spec in storage:
        offsets[(i, spec.name)] = position
        position += spec.size
    if position > MAX_PARAMETERS:
        raise ValueError(f"{_too_large(layers, specs, position, dtype)}: more than the "
                         f"{MAX_PARAMETERS:,} allowed")
    try:
        parameters = np.empty(position, dtype=dtype)
        gradients = np.zeros(position, dtype=dtype)
    except MemoryError:
        raise ValueError(f"{_too_large(layers, specs, position, dtype)}: more memory than this "
                         "machine has") from None
    n_weights = sum(spec.size for _, spec in specs if spec.role == "weight")

    slots = []
    for i, spec in specs:  # layer order, so initial values do not depend on storage order
        layer, offset = layers[i], offsets[(i, spec.name)]
        value = parameters[offset : offset + spec.size].reshape(spec.shape)
        existing = layer.params.get(spec.name)
        if existing is not None:
            if existing.shape != spec.shape:
                raise ValueError(
                    f"{layer.label}: existing parameter {spec.name!r} has shape "
                    f"{existing.shape}, expected {spec.shape}"
                )
            value[...] = existing
        else:
            value[...] = initial_value(layer, spec, rng, dtype)
        slots.append(ParameterSlot(i, spec.name, spec.shape, spec.role, offset))

    # Rebind only after every value is in place, so a failure leaves the layers untouched.
    store = ParameterStore(parameters, gradients, n_weights, tuple(slots))
    link_views(layers, store)
    return store


def initial_value(
    layer: Layer, spec: ParameterSpec, rng: np.random.Generator, dtype: np.dtype
) -> np.ndarray:
    """``spec.init(spec.shape, rng)`` in ``dtype``, checked: real numbers of exactly the
    parameter's shape, finite in ``dtype``.

    A custom initializer's value is not broadcast: one number (or one row) repeated into every
    unit's weights would make the units identical, the symmetry problem for which ``"zeros"``
    is refused.

    Raises
    ------
    ShapeError, TypeError, ValueError
        The value has another shape, is not numbers, or is NaN, infinite or beyond the range
        of ``dtype``; the message names the layer, the parameter and the initializer. An
        error raised by the initializer itself gets a note naming them.
    """
    function = getattr(spec.init, "func", spec.init)  # a functools.partial: its function
    init_name = getattr(function, "__name__", type(function).__name__)
    try:
        drawn = spec.init(spec.shape, rng)
    except Exception as exc:
        exc.add_note(f"in initializer {init_name} of {layer.label}'s parameter {spec.name!r}, "
                     f"called as init({spec.shape}, rng)")
        raise
    name = (f"{layer.label}: the value that initializer {init_name} returned for parameter "
            f"{spec.name!r} of shape {spec.shape}")
    array = as_float_array(drawn, name, dtype=dtype, ndim=len(spec.shape), allow_empty=True)
    if array.shape != spec.shape:
        raise ShapeError(f"{name} must have shape {spec.shape}, got {array.shape}")
    return array


def link_views(layers: Sequence[Layer], store: ParameterStore) -> None:
    """Point every layer's ``params[k]``/``grads[k]`` at its slice of the flat buffers.

    Also what restores the link after unpickling or deep-copying, which store a view as an
    independent array.
    """
    for slot in store.slots:
        layer = layers[slot.layer_index]
        stop = slot.offset + slot.size
        layer.params[slot.name] = store.parameters[slot.offset : stop].reshape(slot.shape)
        layer.grads[slot.name] = store.gradients[slot.offset : stop].reshape(slot.shape)


def _too_large(layers: Sequence[Layer], specs: list, total: int, dtype: np.dtype) -> str:
    """Describe a network too large to allocate, naming its largest layer and its sizes."""
    index, spec = max(specs, key=lambda item: item[1].size)
    layer = layers[index]
    sizes = ", ".join(f"{k}={getattr(layer, k)}" for k in ("in_features", "out_features")
                      if hasattr(layer, k))
    gib = total * dtype.itemsize / 2**30
    return (f"the network would have {total:,} parameters ({gib:.3g} GiB of values, as much "
            f"of gradients), the largest layer {layer.label} ({sizes}) {spec.size:,}")
