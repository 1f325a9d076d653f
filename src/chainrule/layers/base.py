"""The layer contract: ``forward(X, training=False) -> Y`` and ``backward(dY) -> dX``.

Every layer, built-in or written by a user, derives from :class:`Layer`::

    X  (n_samples, in_features)  ──forward──▶  Y  (n_samples, out_features)
    dX (n_samples, in_features)  ◀─backward──  dY (n_samples, out_features)

where ``dY`` is ∂L/∂Y, the gradient of the (scalar) loss with respect to the layer's output, and
``dX`` is ∂L/∂X. A layer with parameters also fills ``grads[k]`` with ∂L/∂``params[k]``.

Writing your own layer
----------------------
Subclass :class:`Layer`, implement :meth:`Layer.forward` and :meth:`Layer.backward`, and, when
the layer changes the number of features or has parameters, :meth:`Layer.output_features` and
:meth:`Layer.parameter_specs`. Store what backward needs with :meth:`Layer._remember` and read it
back with :meth:`Layer._recall`. ``docs/custom_layers.md`` walks through a complete example that is
then verified with :func:`chainrule.gradcheck`.

A layer used on its own reads a declared parameter before :meth:`Layer.build` has made it:
``params`` and ``grads`` are dicts that then raise the clear
:class:`~chainrule.errors.NotBuiltError` ("put it in a Sequential or call
layer.build(dtype, seed) first"), not a bare ``KeyError``. A layer whose penalties ``l1``/``l2``
should be saved takes them as constructor arguments and returns them from :meth:`get_config`,
as ``Dense`` does (``Sequential.get_config`` refuses a layer whose non-zero penalties its
config would lose).
"""

from __future__ import annotations

import copy
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from threading import get_ident
from typing import Any, ClassVar

import numpy as np

from .._validation import FLOAT_DTYPES, as_float_array, check_bool, float_dtype_of, format_shape
from ..errors import NotBuiltError, ShapeError
from ..registry import Registry

#: Every layer class, by name: how configs and model files name layer types. Built-in layers are
#: registered where they are defined; register your own with ``@LAYERS.register("MyLayer")`` so
#: that model files containing it can be loaded.
LAYERS: Registry[type[Layer]] = Registry("layer")


@dataclass(frozen=True)
class ParameterSpec:
    """What a layer needs allocated for one parameter.

    Attributes
    ----------
    name : str
        Key in ``layer.params`` and ``layer.grads`` (``"W"``, ``"b"``).
    shape : tuple of int
        The parameter's shape.
    role : {"weight", "bias"}
        Weights are penalised (L1/L2) and weight-decayed; biases are not. Weights are stored
        before biases in a network's flat buffer.
    init : callable
        ``init(shape, rng) -> float64 array`` that draws the starting value: an array of
        exactly ``shape``, finite in the network's dtype (checked when the layer is built).
    """

    name: str
    shape: tuple[int, ...]
    role: str
    init: Callable[[tuple[int, ...], np.random.Generator], np.ndarray]

    @property
    def size(self) -> int:
        return math.prod(self.shape)  # Python ints: no overflow for absurd shapes


class ParameterDict(dict):
    """``layer.params`` / ``layer.grads``: a dict in which a *declared* parameter that does not
    exist yet raises :class:`~chainrule.errors.NotBuiltError` naming the layer and the fix,
    instead of a bare ``KeyError``; any other missing key is a ``KeyError`` as usual.

    Looking up a present key costs what it costs in a dict (``__missing__`` runs only on a
    miss). The dict refers to its layer weakly: the layer refers to it, and a cycle would keep
    the layer's arrays (views of a whole network's buffer) alive until the cyclic garbage
    collector runs. A dict that outlives its layer (``Dense(3, 2).params``: the layer is freed
    at once, unbuilt) can no longer tell a declared parameter from another key: every missing
    key is a ``KeyError`` that says the layer is gone and how to keep it.
    """

    def __init__(self, layer: Layer, *args: Any) -> None:
        super().__init__(*args)
        self._layer = weakref.ref(layer)
        self._kind = type(layer).__name__  # for the message once the layer is gone

    def __missing__(self, key: str) -> Any:
        layer = self._layer()
        if layer is None:
            raise KeyError(
                f"{key!r}: not in this dict, whose layer (a {self._kind}) no longer exists: "
                f"nothing referred to it once the dict was taken (as in {self._kind}(...).params, "
                f"the dict referring to its layer weakly); keep the layer in a variable and "
                f"build it first (layer = {self._kind}(...); layer.build(dtype, seed); "
                f"layer.params), or put it in a Sequential"
            )
        if any(spec.name == key for spec in layer.parameter_specs()):
            layer._require_built()
        raise KeyError(key)

    def __getstate__(self) -> dict[str, Any]:
        """For pickling and ``copy.deepcopy``: the layer itself (a weak reference pickles not)."""
        return {"_layer": self._layer(), "_kind": self._kind}

    def __setstate__(self, state: dict[str, Any]) -> None:
        layer = state["_layer"]  # None: the dict had outlived its layer when it was copied
        self._layer = weakref.ref(layer) if layer is not None else lambda: None
        self._kind = state.get("_kind", type(layer).__name__ if layer is not None else "Layer")


def _leave_network(layer_ref: weakref.ref, network: weakref.ref) -> None:
    """A network was freed: a layer that outlives it (its parameters still views of the freed
    network's buffer, which they keep alive) is a layer on its own again."""
    layer = layer_ref()
    if layer is not None and layer._owner is network:
        layer._owner = None


class Layer:
    """Base class of all layers.

    Attributes
    ----------
    params : dict[str, ndarray]
        The layer's parameters (empty for activations). Inside a network each array is a view into
        the network's single flat parameter buffer.
    grads : dict[str, ndarray]
        ∂L/∂params[k], same keys and shapes as ``params``. **``backward`` overwrites them**: they
        hold the gradient of the last batch only, never an accumulation.
    l1, l2 : float
        Penalties on this layer's weights: ``l1 * Σ|W| + 0.5 * l2 * Σ W²`` is added to the loss
        and ``l1 * sign(W) + l2 * W`` to ``grads["W"]`` (see :meth:`penalty`).
    label : str
        How messages name the layer: ``"Dense"`` alone, ``"Dense #2"`` at index 2 of a network.
    cache : dict[str, ndarray]
        What the last ``forward(X, training=True)`` kept for ``backward``; empty after an
        inference pass, which keeps nothing.

    Notes
    -----
    ``copy.copy(layer)`` and ``layer.copy()`` give the same independent copy (parameter values
    in arrays of its own, in no network); ``copy.deepcopy`` and pickling do too, keeping also
    the cache.
    """

    #: Whether ``backward`` accepts ``input_grad=False`` to skip computing ``dX`` (used for the
    #: first layer of a network, whose input needs no gradient).
    supports_input_grad_skip: ClassVar[bool] = False

    #: Whether :meth:`infer` may write into its input (activations compute in place). A network
    #: hands the caller's own ``X`` (or a view of it) to ``infer`` only when this is False, and
    #: a copy otherwise, so the caller's array is never changed.
    infer_overwrites_input: ClassVar[bool] = True

    #: Whether the derivative jumps at an input of 0 (ReLU, LeakyReLU, ELU): a finite
    #: difference taken across 0 measures the average of the two slopes, not the one backward
    #: uses. :mod:`chainrule.gradcheck` then compares a one-sided difference or leaves the
    #: entry out, and ``explain`` shows those counts for each term.
    kink: ClassVar[bool] = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = ParameterDict(self)
        self.grads: dict[str, np.ndarray] = ParameterDict(self)
        self.l1 = 0.0
        self.l2 = 0.0
        self.label = type(self).__name__
        self.cache: dict[str, Any] = {}  # arrays (and small values such as shapes)
        self._workspace: dict[str, np.ndarray] = {}
        self._reusing_thread: int | None = None  # Sequential.reusing_buffers: whose calls reuse
        # A weak reference to the network the layer belongs to (call it for the network), None
        # for a layer on its own. Weak, so that a network nobody refers to is freed at once by
        # reference counting (its layers refer to it); it is reset to None when that network is
        # freed while the layer lives on, so ``_owner is None`` always says "on its own".
        self._owner: weakref.ref | None = None

    def _join(self, network: object) -> None:
        """Record ``network`` as the network this layer belongs to (see ``_owner``)."""
        self._owner = weakref.ref(network, partial(_leave_network, weakref.ref(self)))

    # ----------------------------------------------------------------- the contract
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Compute ``Y`` from ``X`` (n_samples, in_features); cache for backward if ``training``.

        ``training`` must be a bool: :meth:`_remember` refuses anything else."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(X, training)")

    def backward(self, dY: np.ndarray) -> np.ndarray:
        """Given ``dY`` = ∂L/∂Y, fill ``grads`` and return ``dX`` = ∂L/∂X."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dY)")

    def infer(self, X: np.ndarray) -> np.ndarray:
        """Inference on an ``X`` the network has checked: no checks, nothing kept.

        ``Sequential`` calls it when not training; the default is ``forward(X, training=False)``.
        With :attr:`infer_overwrites_input` True (the default) ``X`` is always an array the
        network owns and may be overwritten (activations compute in place). A layer declaring
        it False may be given the caller's own ``X`` (or a view of it): it must not write into
        ``X``; it may return ``X`` or a view of it, which the next layer is then given as it
        would be given the caller's ``X``."""
        return self.forward(X, training=False)

    def output_features(self, in_features: int) -> int:
        """Number of output features for ``in_features`` inputs (default: unchanged)."""
        return in_features

    def parameter_specs(self) -> list[ParameterSpec]:
        """The parameters to allocate (default: none)."""
        return []

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as JSON-able values; ``from_config`` rebuilds the layer."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Rebuild a layer (without its parameter values) from :meth:`get_config`'s output."""
        return cls(**config)

    def saved_config(self) -> dict[str, Any]:
        """:meth:`get_config`, refused when it would lose the layer's non-zero ``l1``/``l2``.

        Raises
        ------
        ValueError
            A penalty is set (e.g. ``layer.l2 = 1e-3``) that the config does not hold: a
            network rebuilt from it would train without it.
        """
        config = self.get_config()
        lost = [f"{key}={value:g}" for key in ("l1", "l2")
                if (value := getattr(self, key)) and config.get(key) != value]
        if lost:
            raise ValueError(
                f"{self.label}: {' and '.join(lost)} is set, but its get_config() does not "
                "return it, so a network rebuilt from the config would lose it; take l1 and l2 "
                "as constructor arguments and return them from get_config(), as Dense does "
                "(docs/custom_layers.md)"
            )
        return config

    # ----------------------------------------------------------------- parameters
    @property
    def built(self) -> bool:
        """Whether every declared parameter exists."""
        return all(spec.name in self.params for spec in self.parameter_specs())

    def build(self, dtype: Any = np.float64, seed: Any = None) -> Layer:
        """Allocate and initialise the parameters of a layer used on its own.

        A layer put into a :class:`~chainrule.Sequential` is built by the network instead.

        Raises
        ------
        ValueError
            The layer belongs to a network: new arrays would cut it off from the network's
            parameter and gradient buffers (its optimizer would no longer train it).
        """
        if self._owner is not None:
            raise ValueError(
                f"{self.label} belongs to a network, which built its parameters; build() would "
                "give it arrays of its own that the network's optimizer never updates. To "
                "start again from new weights, build a new network (e.g. with another seed), "
                "or write values into layer.params[name][...] in place"
            )
        from .._random import as_generator
        from .parameters import allocate_parameters

        allocate_parameters([self], dtype, as_generator(seed))
        return self

    def copy(self) -> Layer:
        """An independent copy: same settings and parameter values, no cache, in no network."""
        state = {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("cache", "_workspace", "_owner", "params", "grads")
        }
        clone = object.__new__(type(self))
        clone.__dict__.update(copy.deepcopy(state))
        clone.params = ParameterDict(clone, {k: v.copy() for k, v in self.params.items()})
        clone.grads = ParameterDict(clone, {k: v.copy() for k, v in self.grads.items()})
        clone.cache, clone._workspace, clone._owner = {}, {}, None
        clone._reusing_thread = None
        return clone

    def __copy__(self) -> Layer:
        """``copy.copy(layer)`` is :meth:`copy`, as ``copy.copy`` of an ndarray copies its data.

        A shallow copy would share the ``params``/``grads`` dicts: put into a network, it would
        make this layer's arrays views of that network's buffer, cutting them off from its own.
        """
        return self.copy()

    def __getstate__(self) -> dict[str, Any]:
        """For pickling and ``copy.deepcopy``: everything but the link to a network and the
        buffer reuse of :meth:`Sequential.reusing_buffers`.

        A layer pickled on its own then comes back standalone, with its parameter values in
        arrays of its own (as :meth:`copy`), free to join another network; a pickled network
        links its layers back to itself (``Sequential.__setstate__``). Keeping the network would
        pickle it inside the layer, and restore the network before its layer (and the link is a
        weak reference, which does not pickle).

        A copy taken inside a ``reusing_buffers`` block (a callback keeping the best model
        during training) is outside that block: it comes back with reuse off and no workspace,
        as :meth:`copy` gives, or every result of the copy would overwrite the previous one.
        """
        return {**self.__dict__, "_owner": None, "_workspace": {}, "_reusing_thread": None}

    @property
    def n_parameters(self) -> int:
        """Number of scalar parameters."""
        return sum(spec.size for spec in self.parameter_specs())

    def penalty(self) -> float:
        """``l1 * Σ|W| + 0.5 * l2 * Σ W²`` over the layer's weights (biases are never penalised)."""
        l1_term, l2_term = self.penalty_terms()
        return l1_term + l2_term

    def penalty_terms(self) -> tuple[float, float]:
        """The two terms of :meth:`penalty`, ``(l1 * Σ|W|, 0.5 * l2 * Σ W²)``, summed over the
        parameters of role ``"weight"``; a term whose coefficient is 0 is 0.0."""
        l1_term = l2_term = 0.0
        for W in self._penalised():
            if self.l1:
                l1_term += self.l1 * float(np.abs(W).sum())
            if self.l2:
                l2_term += 0.5 * self.l2 * float(np.vdot(W, W))
        return l1_term, l2_term

    def add_penalty_gradient(self) -> None:
        """Add ∂penalty/∂W = ``l1 * sign(W) + l2 * W`` to ``grads`` (after ``backward``)."""
        for spec in self.parameter_specs():
            if spec.role != "weight":
                continue
            W, dW = self.params[spec.name], self.grads[spec.name]
            if self.l1:
                dW += self.l1 * np.sign(W)
            if self.l2:
                dW += self.l2 * W

    def _penalised(self) -> list[np.ndarray]:
        if not (self.l1 or self.l2):
            return []
        return [self.params[s.name] for s in self.parameter_specs() if s.role == "weight"]

    # ----------------------------------------------------------------- helpers for subclasses
    def _remember(self, training: bool, **arrays: Any) -> None:
        """Keep ``arrays`` (or other values ``backward`` needs, such as a shape) when training;
        an inference pass keeps nothing.

        An inference pass of a layer on its own also drops what an earlier training pass kept,
        so that a later ``backward`` cannot pair it with other data. A layer in a network leaves
        that to the network (``Sequential._forward``), which drops the caches only for an
        inference pass in the thread that trains: a ``predict`` from another thread must not
        take away what the training step's ``backward`` is about to read.

        Also where a layer's ``forward`` checks its ``training`` flag: a ``TypeError`` unless
        it is a bool (``training="False"`` is truthy).
        """
        if check_bool(training, "training"):
            self.cache = arrays
        elif self.cache and self._owner is None:
            self.cache = {}

    def _recall(self, key: str) -> Any:
        """A value kept by the last training forward; a clear error if there was none."""
        try:
            return self.cache[key]
        except KeyError:
            raise NotBuiltError(
                f"{self.label}: backward() needs the values that forward(X, training=True) keeps; "
                "call forward with training=True first (an inference pass keeps nothing)"
            ) from None

    def _new_array(self, key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised array to write a result into.

        Inside ``Sequential.reusing_buffers()`` (the trainer's hot loop) the same array is handed
        out again on the next call with the same shape, so a training step allocates nothing.
        Elsewhere a new array is returned, so results never alias each other; that includes
        the calls of other threads during the block (an inference from a server thread while
        the model trains must not write into the training step's arrays).
        """
        if self._reusing_thread != get_ident():
            return np.empty(shape, dtype)
        buffer = self._workspace.get(key)
        if buffer is None or buffer.shape != shape or buffer.dtype != dtype:
            buffer = self._workspace[key] = np.empty(shape, dtype)
        return buffer

    def _check_input(self, X: np.ndarray, in_features: int | None = None) -> np.ndarray:
        """``X`` must be 2-D (n_samples, in_features); ``in_features=None`` accepts any width.

        Inside a network the network has checked its input already, so only the shape is
        checked here. A layer used on its own is its own edge: ``X`` must be finite numbers
        and is converted to float32/float64 (float64 unless it already is float32).
        """
        X = self._as_float(X, "X")
        if X.ndim != 2 or (in_features is not None and X.shape[1] != in_features):
            width = "in_features" if in_features is None else in_features
            raise ShapeError(
                f"{self.label} expects X of shape {format_shape((None, width))}, got {X.shape}"
            )
        return X

    def _as_float(self, value: Any, name: str) -> np.ndarray:
        """``value`` unchanged when the owning network has checked it (a float32/float64 array);
        otherwise converted to float32 (if it is float32) or float64, and for a layer used on its
        own also checked to be finite."""
        if self._owner is not None and getattr(value, "dtype", None) in FLOAT_DTYPES:
            return value
        return as_float_array(value, name, dtype=float_dtype_of(value), ndim=(0, 1, 2, 3),
                              finite=self._owner is None)

    def _check_upstream(self, dY: np.ndarray, expected: tuple[int, ...]) -> np.ndarray:
        """``dY`` must have the shape of the output of the last forward pass (and, for a layer
        used on its own, hold finite numbers; it is converted like ``X``)."""
        dY = self._as_float(dY, "dY")
        if dY.shape != expected:
            got = getattr(dY, "shape", type(dY).__name__)
            raise ShapeError(
                f"{self.label}.backward expects dY of shape {expected} "
                f"(the shape of its last output), got {got}"
            )
        return dY

    def _require_built(self) -> None:
        if not self.built:
            raise NotBuiltError(
                f"{self.label} has no parameters yet: put it in a Sequential or call "
                f"layer.build(dtype, seed) first"
            )

    # ----------------------------------------------------------------- presentation
    def extra_repr(self) -> str:
        """The part between the parentheses of ``repr``; subclasses describe their settings."""
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
