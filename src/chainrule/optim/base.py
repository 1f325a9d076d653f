"""The optimizer base class, gradient clipping by global norm, and the optimizer registry.

An optimizer updates a whole network at once. A network keeps all its parameters in one
contiguous 1-D buffer and all its gradients in another of the same layout, weights first and
biases last::

    parameters = [ W of layer 0 | W of layer 1 | ... | b of layer 0 | b of layer 1 | ... ]
                 <------------ n_weights ------------> <---- n_params - n_weights ---->

so an update rule is a handful of vectorised in-place operations on ``(n_params,)`` arrays, and
weight decay touches the prefix slice ``parameters[:n_weights]`` only (biases are not decayed).

Every state and scratch array is allocated once, in :meth:`Optimizer.bind`, in the parameters'
dtype; :meth:`Optimizer.step` allocates no array memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .._configurable import Configurable
from .._validation import FLOAT_DTYPES, check_number
from ..errors import NotBuiltError, ShapeError
from ..registry import Registry

OPTIMIZERS: Registry[type[Optimizer]] = Registry("optimizer")

#: Added to the norm in the clipping coefficient, as torch.nn.utils.clip_grad_norm_ does.
CLIP_EPS = 1e-6


# --------------------------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------------------------


def clip_grad_norm_(gradients: np.ndarray, max_norm: float) -> float:
    """Scale ``gradients`` in place so that their global L2 norm is at most ``max_norm``.

    With ``total = ||g||₂`` over every element::

        coef = max_norm / (total + 1e-6)
        if coef < 1:  g ← coef · g

    which is ``torch.nn.utils.clip_grad_norm_``'s formula (torch multiplies by
    ``min(coef, 1)``; multiplying by 1 changes nothing, so the two agree bit for bit on the
    decision). After clipping, ``||g||₂ ≈ max_norm``, slightly below it.

    Parameters
    ----------
    gradients : ndarray of float32 or float64, any shape (usually ``(n_params,)``)
        Modified in place.
    max_norm : float
        Largest allowed norm, > 0.

    Returns
    -------
    float
        The norm **before** clipping (useful for logging exploding gradients). A non-finite
        norm (a NaN or infinite gradient) is returned as is and the buffer is left untouched.
    """
    if not isinstance(gradients, np.ndarray):
        raise TypeError(f"gradients must be a numpy array, got {type(gradients).__name__}")
    if gradients.dtype not in FLOAT_DTYPES:
        raise TypeError(f"gradients must be float32 or float64, got dtype {gradients.dtype}")
    if not gradients.flags.writeable:
        raise ValueError("gradients must be writeable: clip_grad_norm_ scales them in place")
    max_norm = check_number(max_norm, "max_norm", low=0, low_open=True)
    if not gradients.flags.c_contiguous:
        # Clip a contiguous copy, then write it back (the hot path needs a flat view).
        flat = np.ascontiguousarray(gradients).reshape(-1)
        total = _clip_flat(flat, max_norm)
        gradients[...] = flat.reshape(gradients.shape)
        return total
    return _clip_flat(gradients.reshape(-1), max_norm)


def _clip_flat(g: np.ndarray, max_norm: float) -> float:
    """The hot path of :func:`clip_grad_norm_` for a contiguous 1-D ``g``; allocates nothing.

    ``np.dot(g, g)`` is one BLAS pass that returns a scalar. In float32 the sum of squares
    overflows once the norm passes ~1.8e19 while every element is still finite; the norm is then
    recomputed on ``g / max|g|`` (which cannot overflow) and the scaling folded back in:
    ``||g|| = a · ||g / a||`` with ``a = max|g|``.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is handled just below
        total = float(np.sqrt(np.dot(g, g)))
    scale_before = 1.0
    if not np.isfinite(total):
        largest = max(abs(float(g.max())), abs(float(g.min())))
        if not np.isfinite(largest):  # a NaN or inf element: nothing sensible to do
            return total
        g *= 1.0 / largest  # now max|g| == 1: the sum of squares is at most n_params
        scale_before = largest
        total = largest * float(np.sqrt(np.dot(g, g)))
    factor = scale_before * min(max_norm / (total + CLIP_EPS), 1.0)
    if factor != 1.0:
        g *= factor
    return total


# --------------------------------------------------------------------------------------------
# The optimizer base class
# --------------------------------------------------------------------------------------------


class Optimizer(Configurable):
    """Base class: binds to the flat buffers, clips, counts steps, saves and restores state.

    A subclass declares its state arrays in :meth:`_state_spec` (and in
    :attr:`_state_depends_on` the settings their stored values depend on) and writes its update
    rule in :meth:`_update`, using two preallocated scratch arrays (``self._work``,
    ``self._tmp``) and :meth:`_l2_gradient` for coupled weight decay. A subclass of your own
    (of this class or of ``Adam``, ...) trains and prints as it is, but ``get_config`` needs a
    name for it in :data:`OPTIMIZERS`, and so does a checkpoint, which records the optimizer's
    config: register it first, e.g. ``@OPTIMIZERS.register("my_adam")`` above its ``class``
    statement.

    Parameters
    ----------
    lr : float
        Learning rate, > 0.
    clip_norm : float or None
        If given (> 0), :meth:`step` first clips the gradients to this global L2 norm with
        :func:`clip_grad_norm_`, **scaling the gradient buffer in place**.

    Attributes
    ----------
    lr : float
        The learning rate used by the next :meth:`step`. Schedules and callbacks set it between
        steps; it may be set to 0 (a cosine schedule anneals to 0) but never below.
    base_lr : float
        The learning rate given to the constructor, unchanged by schedules; ``get_config``
        reports it, and a schedule computes ``lr = schedule(t, base_lr)`` from it.
    n_steps : int
        Updates done since :meth:`bind` (or restored by :meth:`load_state_dict`).
    n_weights : int
        Length of the decayed prefix of the buffers (set by :meth:`bind`).
    last_grad_norm : float or None
        The gradient norm before clipping at the last step (only when ``clip_norm`` is set).
    """

    _registry = OPTIMIZERS
    _registry_path = "chainrule.optim.OPTIMIZERS"

    #: Settings that the stored state arrays depend on (Adam stores its moments scaled by
    #: 1/(1 − β)): :meth:`state_dict` records them and :meth:`load_state_dict` refuses a state
    #: saved with other values.
    _state_depends_on: ClassVar[tuple[str, ...]] = ()

    #: State arrays that can never hold a negative value (running means or sums of squared
    #: gradients): :meth:`load_state_dict` refuses a state in which they do.
    _nonnegative_state: ClassVar[tuple[str, ...]] = ()

    def __init__(self, lr: float, *, clip_norm: float | None = None) -> None:
        self.base_lr = check_number(lr, "lr", low=0, low_open=True)
        self.lr = self.base_lr
        if clip_norm is not None:
            clip_norm = check_number(clip_norm, "clip_norm", low=0, low_open=True)
        self.clip_norm = clip_norm
        self.n_steps = 0
        self.n_weights = 0
        self.last_grad_norm: float | None = None
        self._params: np.ndarray | None = None
        self._state: dict[str, np.ndarray] = {}

    # -- learning rate ---------------------------------------------------------------------

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_number(value, "lr", low=0)

    def _settings(self, *, strict: bool = True) -> dict[str, Any]:
        settings = super()._settings(strict=strict)
        if "lr" in settings:  # the constructor's value, not the scheduled one
            settings["lr"] = self.base_lr
        return settings

    # -- binding -----------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        """Whether :meth:`bind` has attached the optimizer to buffers."""
        return self._params is not None

    def bind(self, parameters: np.ndarray, gradients: np.ndarray, n_weights: int) -> Optimizer:
        """Attach to the flat buffers and allocate all state and scratch arrays.

        Parameters
        ----------
        parameters : ndarray of shape (n_params,), float32 or float64
            Updated in place by :meth:`step`; 1-D, C-contiguous and writeable.
        gradients : ndarray of shape (n_params,), same dtype
            Read by :meth:`step` (and scaled in place when ``clip_norm`` is set).
        n_weights : int
            ``parameters[:n_weights]`` are weights and get weight decay; the rest (biases)
            do not. ``0 <= n_weights <= n_params``.

        Returns
        -------
        Optimizer
            ``self``, so that ``opt = Adam().bind(p, g, n)`` works.

        Binding again (to the same or other buffers) resets the state and ``n_steps``.
        """
        _check_buffer(parameters, "parameters")
        _check_buffer(gradients, "gradients")
        if gradients.shape != parameters.shape:
            raise ShapeError(
                f"gradients must have the shape of parameters, ({parameters.shape[0]},), "
                f"got {gradients.shape}"
            )
        if gradients.dtype != parameters.dtype:
            raise TypeError(
                f"gradients must have the dtype of parameters ({parameters.dtype}), "
                f"got {gradients.dtype}"
            )
        if parameters.size and np.may_share_memory(parameters, gradients):
            raise ValueError("parameters and gradients must be separate buffers, they overlap")
        if not parameters.flags.writeable:
            raise ValueError("parameters must be writeable: the optimizer updates them in place")
        if self.clip_norm is not None and not gradients.flags.writeable:
            raise ValueError("gradients must be writeable when clip_norm is set (clipped in place)")
        eps = getattr(self, "eps", None)  # the adaptive optimizers' guard of their denominator
        if eps is not None and parameters.dtype.type(eps) == 0:
            tiny = np.finfo(parameters.dtype).smallest_subnormal
            raise ValueError(
                f"eps={eps:g} is 0 in {parameters.dtype} arithmetic (the parameters' dtype), so "
                f"a zero gradient would give 0/0; use eps >= {tiny:g}"
            )
        n_params = parameters.shape[0]
        n_weights = check_number(n_weights, "n_weights", low=0, high=n_params, integer=True)

        self._params, self._grads, self.n_weights = parameters, gradients, n_weights
        # Two scratch buffers cover every update rule here; see each _update.
        self._work = np.empty_like(parameters)
        self._tmp = np.empty_like(parameters)
        self._make_views()
        self._state = {
            name: np.full_like(parameters, initial) for name, initial in self._state_spec().items()
        }
        self.n_steps = 0
        self.last_grad_norm = None
        return self

    def _make_views(self) -> None:
        """Views of the weight prefix and the bias suffix, made once per binding."""
        n = self.n_weights
        self._params_w = self._params[:n]
        self._grads_w, self._grads_b = self._grads[:n], self._grads[n:]
        self._work_w, self._work_b = self._work[:n], self._work[n:]

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After unpickling or ``copy.deepcopy``, which store views as independent arrays:
        rebuild the prefix/suffix views of the (shared) flat buffers."""
        self.__dict__.update(state)
        if self._params is not None:
            self._make_views()

    def bind_network(self, net: Any) -> Optimizer:
        """``bind(net.parameters, net.gradients, net.n_weights)`` for a ``Sequential``."""
        missing = [a for a in ("parameters", "gradients", "n_weights") if not hasattr(net, a)]
        if missing:
            raise TypeError(
                f"bind_network expects a network with parameters, gradients and n_weights "
                f"(a Sequential), got {type(net).__name__} without {', '.join(missing)}"
            )
        return self.bind(net.parameters, net.gradients, net.n_weights)

    def _require_bound(self, what: str) -> None:
        if self._params is None:
            raise NotBuiltError(
                f"{type(self).__name__}.{what}() needs buffers: call bind(parameters, "
                f"gradients, n_weights) or bind_network(net) first"
            )

    # -- the update ----------------------------------------------------------------------------

    def step(self) -> None:
        """One update of the parameters, in place, from the current gradients.

        Clips the gradient buffer first when ``clip_norm`` is set. Allocates no array memory.
        """
        self._require_bound("step")
        with np.errstate(all="ignore"):  # an update that overflows shows as inf weights, which
            self._step()  # the next loss reports (training stops there)

    def _step(self) -> None:
        """:meth:`step` without the bound check and the ``np.errstate``, for callers that hold
        a bound optimizer and already ignore floating-point warnings (``Trainer.fit``'s loop)."""
        if self.clip_norm is not None:
            self.last_grad_norm = _clip_flat(self._grads, self.clip_norm)
        self._update(self.n_steps + 1)
        self.n_steps += 1

    def _state_spec(self) -> dict[str, float]:
        """State array names mapped to their initial value; each is ``(n_params,)``."""
        return {}

    def state_settings(self) -> dict[str, float]:
        """The settings the state arrays depend on, by name (``{}`` for most optimizers;
        Adam's ``beta1`` and ``beta2``): part of :meth:`state_dict`."""
        return {name: getattr(self, name) for name in self._state_depends_on}

    def _update(self, t: int) -> None:  # pragma: no cover - abstract
        """Apply the update rule for step ``t`` (counted from 1)."""
        raise NotImplementedError

    def _l2_gradient(self, weight_decay: float) -> np.ndarray:
        """The gradient with L2 (coupled) weight decay on the weight prefix, shape (n_params,).

        ``g + weight_decay · p`` on ``[:n_weights]`` and ``g`` on the biases, written into
        ``self._work``; the gradient buffer itself (no copy) when ``weight_decay == 0``.
        Callers must not write into the result unless it is ``self._work``.
        """
        if weight_decay == 0.0:
            return self._grads
        np.multiply(self._params_w, weight_decay, out=self._work_w)
        self._work_w += self._grads_w
        np.copyto(self._work_b, self._grads_b)
        return self._work

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """``{"step": n_steps, "lr": lr}``, the settings the arrays depend on (Adam's
        ``beta1`` and ``beta2``), and a copy of every state array, by name.

        Arrays have shape ``(n_params,)`` and the parameters' dtype.
        """
        self._require_bound("state_dict")
        state: dict[str, Any] = {"step": self.n_steps, "lr": self.lr, **self.state_settings()}
        for name, array in self._state.items():
            state[name] = array.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output into the bound optimizer (arrays are copied).

        Everything is validated before anything changes: the keys must be exactly the ones
        this optimizer (with its settings) saves, the settings the arrays depend on the same as
        this optimizer's, each array ``(n_params,)`` of the parameters' dtype, without NaN,
        and the arrays of squared gradients without negative values. Raises ``ValueError``
        (``ShapeError`` for shapes) or ``TypeError`` otherwise.
        """
        self._require_bound("load_state_dict")
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict, got {type(state).__name__}")
        settings = self.state_settings()
        expected = {"step", "lr", *settings, *self._state}
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__} state must have keys {sorted(expected)}; "
                f"missing {missing}, unexpected {unexpected}"
            )
        n_steps = check_number(state["step"], "state['step']", low=0, integer=True)
        lr = check_number(state["lr"], "state['lr']", low=0)
        for name, value in settings.items():
            if check_number(state[name], f"state[{name!r}]") != value:
                raise ValueError(
                    f"state[{name!r}] = {state[name]!r}, but this {type(self).__name__} has "
                    f"{name} = {value!r}: the state's arrays depend on it ("
                    f"{', '.join(self._state_depends_on)}), so load it into a "
                    f"{type(self).__name__} with the same values"
                )
        arrays = {}
        for name, current in self._state.items():
            value = state[name]
            if not isinstance(value, np.ndarray):
                raise TypeError(
                    f"state[{name!r}] must be a numpy array, got {type(value).__name__}"
                )
            if value.shape != current.shape:
                raise ShapeError(
                    f"state[{name!r}] must have shape (n_params,) = {current.shape}, "
                    f"got {value.shape}"
                )
            if value.dtype != current.dtype:
                raise ValueError(
                    f"state[{name!r}] must have dtype {current.dtype} (the parameters'), "
                    f"got {value.dtype}"
                )
            if np.isnan(value).any():  # an infinite moment is an overflow the update can carry
                raise ValueError(f"state[{name!r}] holds {int(np.isnan(value).sum())} NaN value(s)")
            if name in self._nonnegative_state and (value < 0).any():
                raise ValueError(
                    f"state[{name!r}] must be >= 0 (a sum or mean of squared gradients), got "
                    f"minimum {value.min()!r}"
                )
            arrays[name] = value
        for name, value in arrays.items():
            np.copyto(self._state[name], value)
        self.n_steps, self.lr = n_steps, lr


def _check_buffer(array: Any, name: str) -> None:
    """A flat float buffer an optimizer can work on in place."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ShapeError(f"{name} must be 1-D of shape (n_params,), got shape {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(
            f"{name} must be C-contiguous (the network's flat buffer, not a strided view)"
        )
