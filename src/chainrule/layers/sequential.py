"""``Sequential``: layers applied in order, gradients propagated back in reverse."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from threading import get_ident
from typing import Any, TextIO

import numpy as np

from .._random import as_generator, spawn
from .._validation import all_finite, as_float_array, check_bool, check_float_dtype, format_shape
from ..errors import ShapeError
from .base import LAYERS, Layer
from .parameters import ParameterSlot, ParameterStore, allocate_parameters, link_views


class Sequential:
    """A network: layers applied in order, with all parameters in one flat buffer.

    Parameters
    ----------
    layers : sequence of Layer
        Applied in order by :meth:`forward`, in reverse by :meth:`backward`. Consecutive sizes
        must agree (checked here). A layer belongs to at most one network.
    dtype : float32 or float64, default float32
        Dtype of the parameters, and of every input (converted once, on the way in).
        float32 is faster; float64 is for gradient checks and teaching.
    seed : int, Generator or None
        Source of the initial weights and of the dropout masks. The same seed gives
        bit-identical networks.

    Attributes
    ----------
    parameters : ndarray of shape (n_parameters,)
        Every parameter, weights first then biases; each layer's ``params[k]`` is a view into it.
    gradients : ndarray of shape (n_parameters,)
        The gradients, in the same layout; ``backward`` fills them.
    n_weights : int
        ``parameters[:n_weights]`` are the weights (what weight decay and penalties act on).

    Shape
    -----
    - X: (n_samples, in_features) → Y: (n_samples, out_features)

    Notes
    -----
    ``copy.copy(net)`` and ``net.copy()`` give the same independent network (layers and
    parameter values of its own); ``copy.deepcopy`` and pickling do too, keeping also what
    the last training pass cached.

    Examples
    --------
    >>> from chainrule import Dense, ReLU, Sigmoid
    >>> net = Sequential([Dense(2, 4), ReLU(), Dense(4, 1), Sigmoid()], seed=0)
    >>> net.forward(np.zeros((3, 2))).shape
    (3, 1)
    >>> [name for name, _, _ in net.named_parameters()]
    ['0.W', '0.b', '2.W', '2.b']
    """

    def __init__(self, layers: Sequence[Layer], *, dtype: Any = np.float32, seed: Any = None):
        if isinstance(layers, Layer):
            layers = [layers]
        if not isinstance(layers, (list, tuple)):
            raise TypeError(f"layers must be a list of Layer objects, got {type(layers).__name__}")
        layers = list(layers)
        if not layers:
            raise ValueError("layers must contain at least one layer, got an empty sequence")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"layers[{index}] must be a chainrule Layer, got {type(layer).__name__}"
                )
            if layer._owner is not None:
                raise ValueError(
                    f"layers[{index}] ({layer!r}) already belongs to another network; "
                    "pass layer.copy() instead"
                )
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError("the same layer object appears twice in layers; use layer.copy()")
        self.dtype = check_float_dtype(dtype)
        for index, layer in enumerate(layers):
            layer.label = f"{type(layer).__name__} #{index}"
        self.widths = _infer_widths(layers)
        rng = as_generator(seed)
        store = allocate_parameters(layers, self.dtype, rng)
        self.layers = layers
        self.parameters = store.parameters
        self.gradients = store.gradients
        self.n_weights = store.n_weights
        self._slots: tuple[ParameterSlot, ...] = store.slots
        self._cache_thread: int | None = None  # the thread whose training forward left caches
        # The earliest layer a backward pass that needs no dX must reach.
        self._first_with_parameters = next(
            (i for i, layer in enumerate(layers) if layer.params), len(layers)
        )
        for layer in layers:
            layer._join(self)
            if hasattr(layer, "rng") and layer.rng is None:
                layer.rng = spawn(rng)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_architecture(
        cls, architecture: Sequence[dict[str, Any]], *, dtype: Any = np.float32, seed: Any = None
    ) -> Sequential:
        """Build from the tutorials' list of dicts, one per Dense layer.

        Each dict has ``input_dim``, ``output_dim`` and ``activation`` (a name, or a dict with
        ``name`` and options; default ``"identity"``), and optionally ``dropout`` (probability
        after the activation), ``bias``, ``l1``, ``l2`` and ``init``.

        >>> net = Sequential.from_architecture([
        ...     {"input_dim": 2, "output_dim": 4, "activation": "relu"},
        ...     {"input_dim": 4, "output_dim": 1, "activation": "sigmoid"},
        ... ], seed=0)
        >>> net.out_features
        1
        """
        from .builders import architecture_layers

        return cls(architecture_layers(architecture), dtype=dtype, seed=seed)

    def copy(self, dtype: Any = None) -> Sequential:
        """An independent network with the same layers and parameter values (in ``dtype``)."""
        copies = [layer.copy() for layer in self.layers]
        return Sequential(copies, dtype=self.dtype if dtype is None else dtype)

    def __copy__(self) -> Sequential:
        """``copy.copy(net)`` is :meth:`copy`, as ``copy.copy`` of an ndarray copies its data.

        A shallow copy would share the layers, which belong to one network each: they would
        become the copy's, and be left in no network once the copy is freed.
        """
        return self.copy()

    # ------------------------------------------------------------------ sizes
    @property
    def in_features(self) -> int | None:
        """Width of the input rows, or None when no layer fixes it."""
        return self.widths[0]

    @property
    def out_features(self) -> int | None:
        """Width of the output rows, or None when no layer fixes it."""
        return self.widths[-1]

    @property
    def n_parameters(self) -> int:
        return int(self.parameters.size)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    # ------------------------------------------------------------------ passes
    def forward(self, X: Any, training: bool = False) -> np.ndarray:
        """Apply every layer: X (n_samples, in_features) → Y (n_samples, out_features).

        ``X`` is checked (2-D, finite, numeric) and converted to the network's dtype.
        ``training=True`` turns dropout on and makes every layer keep what ``backward`` needs.

        Raises
        ------
        TypeError
            ``training`` is not a bool (a string such as ``"False"`` would be truthy).
        ValueError
            The output is not finite although ``X`` is: an overflow (inputs far too large for
            the dtype) or non-finite weights (a diverged training run).
        """
        training = check_bool(training, "training")
        X = self.check_input(X)
        with np.errstate(all="ignore"):
            Y = self._forward(X, training)
        self.check_output(Y)
        # training, a layer's forward may hand on X or a view of it (Identity; one of your own);
        # inference always returns an array of the network's own (_forward)
        return Y.copy() if training and np.may_share_memory(Y, X) else Y

    def check_output(self, Y: np.ndarray) -> None:
        """A ``ValueError`` saying why, if an output computed from finite inputs is not finite."""
        if not all_finite(Y):
            cause = (
                "the weights are not finite (did training diverge?)"
                if not all_finite(self.parameters)
                else f"an intermediate value overflowed {self.dtype.name}; scale the inputs X "
                "down (e.g. standardise them)"
            )
            raise ValueError(f"the network's output is not finite: {cause}")

    __call__ = forward

    def check_input(self, X: Any, name: str = "X") -> np.ndarray:
        """``X`` as a finite 2-D array of the network's dtype with ``in_features`` columns."""
        X = as_float_array(X, name, dtype=self.dtype, ndim=2)
        if self.in_features is not None and X.shape[1] != self.in_features:
            hint = " (for one sample use X.reshape(1, -1))" if X.shape[0] == self.in_features else ""
            raise ShapeError(
                f"the network expects {name} of shape {format_shape((None, self.in_features))}, "
                f"got {X.shape}{hint}"
            )
        return X

    def _forward(self, X: np.ndarray, training: bool, stop: int | None = None) -> np.ndarray:
        """Forward through ``layers[:stop]`` without checking ``X`` (already checked).

        Not training, layers run their ``infer``: nothing is kept, and once a layer has produced
        an array of the network's own, later layers may overwrite it in place. Until then (the
        caller's ``X``, or a view of it that a layer returned), a layer whose ``infer`` writes
        into its input is given a copy. The result is always an array of the network's own
        (a copy when no layer made one: dropout or identities alone), so a caller may make it
        probabilities in place.

        An inference pass in the thread whose training pass left caches in the layers drops
        them, so that a later ``backward`` cannot pair them with this pass's data. One from
        another thread changes nothing the training thread uses (no cache, no reused buffer):
        predicting while another thread trains is safe, and sees the weights of some step.
        """
        layers = self.layers if stop is None else self.layers[:stop]
        if training:
            self._cache_thread = get_ident()
            for layer in layers:
                X = layer.forward(X, True)
            if stop is not None:  # the layers outside this pass (a fused loss's activation):
                for layer in self.layers[stop:]:  # no older pass's cache for a later backward
                    if layer.cache:
                        layer.cache = {}
            return X
        if self._cache_thread is not None and self._cache_thread == get_ident():
            for layer in self.layers:
                layer.cache = {}
            self._cache_thread = None
        given, owned = X, False
        for layer in layers:
            if not owned and layer.infer_overwrites_input:
                X, owned = X.copy(), True
            X = layer.infer(X)
            owned = owned or not np.may_share_memory(X, given)
        return X if owned else X.copy()

    def backward(self, dY: Any, *, input_grad: bool = True) -> np.ndarray | None:
        """Propagate ``dY`` = ∂L/∂Y (n_samples, out_features) back through every layer.

        Overwrites every layer's ``grads`` (and so :attr:`gradients`) and returns ∂L/∂X
        (n_samples, in_features); with ``input_grad=False`` the first layers skip what only
        ``dX`` needs, and ``None`` is returned.
        """
        dY = as_float_array(dY, "dY", dtype=self.dtype, ndim=2)
        with np.errstate(all="ignore"):  # an overflow gives inf, as IEEE arithmetic says
            return self._backward(dY, input_grad=input_grad)

    def _backward(
        self, dY: np.ndarray, start: int | None = None, input_grad: bool = True
    ) -> np.ndarray | None:
        """Backward through ``layers[:start]`` in reverse."""
        layers = self.layers if start is None else self.layers[:start]
        first = 0 if input_grad else min(self._first_with_parameters, len(layers))
        for index in range(len(layers) - 1, first - 1, -1):
            layer = layers[index]
            if index == first and not input_grad and layer.supports_input_grad_skip:
                layer.backward(dY, input_grad=False)
                return None
            dY = layer.backward(dY)
        return dY if input_grad else None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After unpickling or ``copy.deepcopy``: make the layers' arrays views again.

        Both store a view as an independent array, which would leave the layers holding copies
        that an optimizer stepping :attr:`parameters` never moves. The layers come back without
        their link to a network (``Layer.__getstate__``): they belong to this one again.
        """
        self.__dict__.update(state)
        if self.__dict__.get("_cache_thread") is not None:  # the loading thread's caches now
            self._cache_thread = get_ident()
        for layer in self.layers:
            layer._join(self)
        for name in ("parameters", "gradients"):
            if not getattr(self, name).flags.writeable:  # e.g. memory-mapped by joblib
                setattr(self, name, getattr(self, name).copy())
        link_views(self.layers, ParameterStore(self.parameters, self.gradients, self.n_weights,
                                               self._slots))

    @contextlib.contextmanager
    def reusing_buffers(self) -> Iterator[Sequential]:
        """Within this block, layers write results into arrays reused from the previous call.

        A training step then allocates nothing. The price: an array returned by ``forward`` or
        ``backward`` inside the block is overwritten by the next call; copy what you keep. Only
        the calls of the thread that entered the block reuse arrays.
        """
        previous = [layer._reusing_thread for layer in self.layers]
        thread = get_ident()  # calls from other threads meanwhile get new arrays as usual
        for layer in self.layers:
            layer._reusing_thread = thread
        try:
            yield self
        finally:
            for layer, state in zip(self.layers, previous):
                layer._reusing_thread = state
                if state is None:
                    layer._workspace.clear()

    # ------------------------------------------------------------------ parameters
    def named_parameters(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, param, grad)`` for every parameter, in layer order: ``"0.W"``, ``"0.b"``, ..."""
        for slot in self._slots:
            layer = self.layers[slot.layer_index]
            yield f"{slot.layer_index}.{slot.name}", layer.params[slot.name], layer.grads[slot.name]

    def penalty(self) -> float:
        """Σ over layers of their L1/L2 weight penalties (added to the training loss)."""
        return sum(layer.penalty() for layer in self.layers if layer.l1 or layer.l2)

    def add_penalty_gradients(self) -> None:
        """Add every layer's penalty gradient to its ``grads`` (after :meth:`backward`)."""
        for layer in self.layers:
            if layer.l1 or layer.l2:
                layer.add_penalty_gradient()

    def explain(self, X: Any, y: Any, loss: Any, **options: Any):
        """Every chain-rule term of one training pass on ``(X, y)``, with shapes and values,
        confirmed by finite differences: see :func:`chainrule.explain.explain`.

        >>> print(net.explain(X[:4], y[:4], "binary_cross_entropy"))   # doctest: +SKIP
        """
        from ..explain import explain

        return explain(self, X, y, loss, **options)

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """The architecture as JSON-able data: layer types and constructor arguments."""
        return {
            "dtype": self.dtype.name,
            "layers": [
                {"type": LAYERS.name_of(layer), "config": layer.saved_config()}
                for layer in self.layers
            ],
        }

    @classmethod
    def from_config(
        cls, config: dict[str, Any], *, dtype: Any = None, seed: Any = None
    ) -> Sequential:
        """A new network (freshly initialised) with the architecture of :meth:`get_config`."""
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise TypeError(f"config must be a dict with a 'layers' list, got {config!r:.200}")
        layers = []
        for index, entry in enumerate(config["layers"]):
            if not isinstance(entry, dict) or "type" not in entry:
                raise ValueError(f"config['layers'][{index}] must be a dict with a 'type' key")
            layer_class = LAYERS.get(entry["type"])
            try:
                layers.append(layer_class.from_config(dict(entry.get("config", {}))))
            except TypeError as exc:
                raise ValueError(f"config['layers'][{index}] ({entry['type']}): {exc}") from None
        return cls(layers, dtype=config.get("dtype", "float32") if dtype is None else dtype, seed=seed)

    # ------------------------------------------------------------------ presentation
    def summary(self) -> str:
        """A table of the layers: index, layer, output shape, parameter count, and totals."""
        rows = [("#", "layer", "output shape", "parameters")]
        for index, (layer, width) in enumerate(zip(self.layers, self.widths[1:])):
            shape = format_shape((None, "?" if width is None else width))
            rows.append((str(index), repr(layer), shape, f"{layer.n_parameters:,}"))
        widths = [max(len(row[col]) for row in rows) for col in range(4)]
        lines = [
            "  ".join(cell.rjust(w) if col in (0, 3) else cell.ljust(w)
                      for col, (cell, w) in enumerate(zip(row, widths))).rstrip()
            for row in rows
        ]
        rule = "-" * len(max(lines, key=len))
        n_bias = self.n_parameters - self.n_weights
        size = _format_bytes(self.parameters.nbytes)
        lines[1:1] = [rule]
        lines += [
            rule,
            f"input shape: {format_shape((None, '?' if self.in_features is None else self.in_features))}",
            (f"parameters: {self.n_parameters:,} (weights {self.n_weights:,}, "
             f"biases {n_bias:,}), {size} as {self.dtype.name}"),
        ]
        return "\n".join(lines)

    def info(self, file: TextIO | None = None) -> None:
        """Print every layer's parameters and what its last training forward pass kept.

        The tutorials print the weights before and after training to show what learning
        changed; this is that printout, for the whole network. ``file``: a text stream with
        a ``write`` method (default ``sys.stdout``), as ``print``'s.
        """
        out = file if file is not None else sys.stdout
        if not callable(getattr(out, "write", None)):
            raise TypeError(f"file must be a text stream with a write method (sys.stdout, an "
                            f"open file, io.StringIO), got {type(file).__name__}")
        with np.printoptions(precision=4, suppress=True, threshold=60, edgeitems=3):
            for layer in self.layers:
                print(f"{layer.label}: {layer!r}", file=out)
                for name, value in layer.params.items():
                    print(f"  {name} {value.shape}:\n{_indent(value)}", file=out)
                if not layer.cache:
                    print("  (no cached values: run forward(X, training=True) to see them)", file=out)
                for name, value in layer.cache.items():
                    if isinstance(value, np.ndarray):  # not None, nor a shape tuple
                        print(f"  cached {name} {value.shape}:\n{_indent(value)}", file=out)

    def brief(self) -> str:
        """The network in one line, for the reprs of what holds it (a Trainer, an Objective):
        ``<Sequential 2 → 8 → 1: 4 layers, 33 parameters, float32>``, the widths being the
        input's and those of the layers with parameters (``?`` where unknown)."""
        sizes = [self.widths[0]] + [width for layer, width in zip(self.layers, self.widths[1:])
                                    if layer.parameter_specs()]
        widths = " → ".join("?" if width is None else str(width) for width in sizes)
        layers = f"{len(self.layers)} layer{'' if len(self.layers) == 1 else 's'}"
        return f"<Sequential {widths}: {layers}, {self.n_parameters:,} parameters, {self.dtype}>"

    def __repr__(self) -> str:
        body = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(dtype={self.dtype.name}, n_parameters={self.n_parameters:,})[\n{body}\n]"


def _infer_widths(layers: Sequence[Layer]) -> list[int | None]:
    """[input width, width after layer 0, after layer 1, ...]; None where no layer fixes it.

    The input width is the ``in_features`` of the first layer that declares one, if every
    layer before it keeps the width (does not override ``output_features``): a layer that
    changes the width without declaring its input leaves the input width unknown (None), and
    the widths are known again from the next layer that declares its ``in_features``.
    """
    width = None
    for layer in layers:
        width = getattr(layer, "in_features", None)
        if width is not None or type(layer).output_features is not Layer.output_features:
            break
    widths = [width]
    for layer in layers:
        if width is None:  # unknown so far: from here on if this layer declares its input
            width = getattr(layer, "in_features", None)
        if width is not None:
            try:
                width = layer.output_features(width)
            except ValueError as exc:
                raise ShapeError(f"layer sizes do not agree: {exc}") from None
        widths.append(width)
    return widths


def _format_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _indent(array: np.ndarray) -> str:
    return "\n".join("    " + line for line in np.array2string(array).splitlines())
