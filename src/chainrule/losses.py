"""Loss functions, their gradients, and the fused output-activation pairs.

A loss maps the network's output ``y_pred`` (n_samples, n_outputs) and the targets to a scalar
``L``; ``backward()`` returns ``dY`` = ∂L/∂y_pred with ``y_pred``'s shape, which starts
backpropagation. Derivations: ``docs/backprop.md#losses``.

Reductions (PyTorch's defaults)
-------------------------------
Each loss first computes one value per *element* (MSE, MAE, Huber, binary cross-entropy: an array
of shape (n_samples, n_outputs)) or per *sample* (cross-entropy: (n_samples,)). With
``reduction="mean"`` ``L`` is the mean of those values, so MSE is the mean over all elements and
cross-entropy the mean over samples; with ``reduction="sum"`` it is their sum. With per-sample
weights ``w``, the mean is ``Σ_i w_i Σ_j ℓ_ij / (Σ_i w_i · n_values_per_sample)``.

Fused pairs
-----------
``Sigmoid`` + :class:`BinaryCrossEntropy` and ``Softmax`` + :class:`CrossEntropy` have a simple
gradient with respect to the *logits* Z (the activation's input)::

    ∂L/∂Z = (P − T) / n        P = σ(Z) or softmax(Z), n = number of values averaged

Chaining the two backward passes gives the same result in exact arithmetic, but not in floating
point for confidently wrong predictions: σ(50) rounds to exactly 1, so the chained BCE gradient
for a target of 0 is 0 instead of 1 (and its loss is clamped at 100 instead of 50); σ(−50) ≈ 2e-22
hits the 1e-12 clamp of P(1 − P); a softmax probability of e^(−1000) underflows to 0. The fused
form stays exact in all of these cases. :class:`~chainrule.objective.Objective` uses
the fused form whenever a network ends in the matching activation; ``from_logits=True`` lets a
network end without the activation at all.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ._configurable import Configurable
from ._power_of_two import power_of_two_floor
from ._validation import (
    all_finite,
    as_array,
    as_class_labels,
    as_float_array,
    check_bool,
    check_choice,
    check_n_samples,
    check_number,
    float_dtype_of,
    largest_magnitude,
)
from .errors import NotBuiltError, ShapeError
from .layers.activations import Sigmoid, Softmax, sigmoid
from .registry import Registry, _normalise

#: Losses by name.
LOSSES: Registry[type[Loss]] = Registry("loss")

# "log_loss" reads two ways: the "log_loss" metric and scikit-learn's log_loss are the
# categorical cross-entropy, scikit-learn's MLP calls both of its losses "log_loss", and the
# name was once an alias of binary cross-entropy here. So it names no loss, and says which to
# use. (Config files that used the old alias still load: see ``is_old_log_loss``.)
LOSSES.refuse(
    "log_loss",
    "it could mean either cross-entropy: use 'cross_entropy' for one class per sample (a "
    "softmax output, class labels or one-hot rows) or 'binary_cross_entropy' for one "
    "probability per output (sigmoid outputs, 0/1 targets)",
)


def is_old_log_loss(name: Any) -> bool:
    """Whether ``name`` is ``"log_loss"`` (in any spelling a registry accepts), which named
    :class:`BinaryCrossEntropy` in earlier versions and is refused now (a config file's
    ``loss.name`` may still hold it)."""
    return isinstance(name, str) and _normalise(name) == _normalise("log_loss")

_LOG_FLOOR = -100.0  # log values are clamped here, as PyTorch's BCELoss does


class Loss(Configurable):
    """Base class of losses: ``forward(y_pred, y_true, sample_weight=None) -> float`` and
    ``backward() -> dL/dy_pred``.

    Writing your own loss
    ---------------------
    Subclass and implement ``_values(Y, T)`` (the unreduced values, storing in the dict
    ``self._kept`` whatever the gradient needs) and ``_gradient()`` (∂(Σ values)/∂Y, shape of Y); the base
    class checks shapes, applies the reduction and sample weights, and remembers what
    ``backward`` needs. Override ``_target`` to accept targets other than an array shaped like
    ``y_pred``. ``docs/custom_layers.md`` has a complete example. Store each constructor
    argument under its own name (``self.delta = delta``): ``get_config``, ``repr`` and
    :meth:`logits_loss` read them back from the signature. ``get_config`` (and so a config
    naming the loss) needs the class registered under a name of its own, e.g.
    ``@LOSSES.register("log_cosh")`` above its ``class`` statement. Each loss here spells out
    its own ``__init__``, even one that only passes its arguments on: Python names the
    ``__init__`` that received a misspelt keyword (``CrossEntropy.__init__() got an unexpected
    keyword argument 'label_smooth'``), which should be the class called, not a base.

    ``get_config()`` is ``{"name": <registered name>, **constructor arguments}``;
    ``Loss.from_config(config)`` picks the class by that name (``Loss.from_config({"name":
    "huber", "delta": 2.0})``), and a subclass's ``from_config`` builds that class. A config
    without a name, with a name of another kind of loss, or with a key that is no constructor
    argument is refused, listing the valid names or keys.

    Parameters
    ----------
    reduction : {"mean", "sum"}
        How values are combined into ``L`` (see the module docstring).
    """

    _registry = LOSSES
    _registry_path = "chainrule.losses.LOSSES"

    #: The output activation this loss fuses with (see the module docstring), if any. A
    #: subclass fuses only when it sets this in its own class body (its ``_values`` and
    #: ``_gradient`` then also handle ``from_logits=True``); inheriting it is not enough.
    fused_activation: ClassVar[type | None] = None

    def __init__(self, *, reduction: str = "mean") -> None:
        self.reduction = check_choice(reduction, "reduction", ("mean", "sum"))
        # The last evaluation's (Y.shape, sample weights, scale 1/count or 1, values per sample)
        self._state: tuple[tuple[int, ...], np.ndarray | None, float, int] | None = None
        #: What the last ``_values`` kept for ``_gradient`` (subclasses fill it).
        self._kept: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ public API
    def forward(self, y_pred: Any, y_true: Any, sample_weight: Any = None) -> float:
        """The loss value.

        Parameters
        ----------
        y_pred : array of shape (n_samples, n_outputs) or (n_samples,)
            The network's output. NaN or infinite predictions that the loss reads give a NaN
            or infinite loss (how training notices that it diverged) rather than an error;
            :class:`CrossEntropy` with class labels reads only each target class's entry.
        y_true : array
            Targets; see each loss for the accepted forms.
        sample_weight : array of shape (n_samples,), optional
            Non-negative weight of each sample.
        """
        Y = as_float_array(y_pred, "y_pred", dtype=float_dtype_of(y_pred), ndim=(1, 2), finite=False)
        shape = Y.shape
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        self._check_predictions(Y)
        T = self._target(y_true, Y)
        w = self.prepare_weights(sample_weight, Y.shape[0], Y.dtype)
        with np.errstate(all="ignore"):  # non-finite predictions give a non-finite loss
            value = self.evaluate(Y, T, w)
        self._state = (shape, *self._state[1:])
        return value

    def prepare_targets(self, y_true: Any, n_outputs: int, dtype: Any = np.float64) -> Any:
        """``y_true`` checked and converted once, in the form :meth:`evaluate` takes.

        For a training loop that evaluates the loss on many batches of the same targets: check
        them all here, then pass row slices of the result to :meth:`evaluate`.
        """
        n_outputs = check_number(n_outputs, "n_outputs", low=1, integer=True)
        n_samples = len(y_true) if hasattr(y_true, "__len__") else 0
        like = np.broadcast_to(np.zeros((), dtype=dtype), (n_samples, n_outputs))
        return self._target(y_true, like)

    def evaluate(self, Y: np.ndarray, T: Any, sample_weight: np.ndarray | None = None) -> float:
        """:meth:`forward` without any checks: the training loop's fast path.

        ``Y`` must be a float array (n_samples, n_outputs), ``T`` rows of
        :meth:`prepare_targets`' result, ``sample_weight`` None or a checked (n_samples,) array
        of the same dtype. :meth:`backward` works after it as after :meth:`forward`.
        """
        return self.reduce(self._values(Y, T).reshape(Y.shape[0], -1), Y.shape, sample_weight)

    def reduce(self, per_sample: np.ndarray, shape: tuple[int, ...],
               sample_weight: np.ndarray | None = None) -> float:
        """The loss from the unreduced values of every sample, ``per_sample`` (n_samples,
        values per sample), of predictions of ``shape``; what :meth:`evaluate` returns for
        them. A caller that computes the values in chunks of rows (``_values`` acts row by
        row) and reduces them all here gets the same number as one :meth:`evaluate`.

        Finite values whose sum passes their dtype's range (1000 squared errors of 9e36 in
        float32) are summed again without overflow (:func:`_rescaled_total`): the loss is
        infinite only when it lies beyond the range itself."""
        with np.errstate(over="ignore"):  # a total past the range is summed again below
            if sample_weight is None:
                total, count = per_sample.sum(), per_sample.size
            else:
                total = sample_weight @ per_sample.sum(axis=1)
                count = sample_weight.sum() * per_sample.shape[1]
        scale = 1.0 / count if self.reduction == "mean" else 1.0
        self._state = (shape, sample_weight, scale, per_sample.shape[1])
        if not math.isfinite(total) and all_finite(per_sample):  # (math: a scalar, per step)
            return _rescaled_total(per_sample, sample_weight, scale)
        return float(total * scale)

    __call__ = forward

    def backward(self) -> np.ndarray:
        """∂L/∂y_pred for the last :meth:`forward`, with ``y_pred``'s shape."""
        if self._state is None:
            raise NotBuiltError(f"{type(self).__name__}.backward() called before forward()")
        shape, w, scale, _ = self._state
        G = self._gradient()  # (every _gradient is free of overflow for finite inputs)
        G *= scale
        if w is not None:
            with np.errstate(invalid="ignore"):  # a zero weight times an infinite gradient
                G *= w[:, None]
        return G.reshape(shape)

    @property
    def values_per_sample(self) -> int | None:
        """How many values ℓ each sample gave in the last evaluation (None before any).

        One for a loss of one value per sample (cross-entropy of labels), n_outputs for an
        elementwise loss (MSE): the mean divides by n_samples times this (or by Σw times this,
        with sample weights).
        """
        return None if self._state is None else self._state[3]

    def release(self) -> None:
        """Drop the arrays kept for :meth:`backward` (after training, to free memory)."""
        self._state, self._kept = None, {}

    # ------------------------------------------------------------------ for subclasses
    def _values(self, Y: np.ndarray, T: Any) -> np.ndarray:
        """Unreduced values, (n_samples, n_outputs) or (n_samples,)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _values(Y, T)")

    def _gradient(self) -> np.ndarray:
        """∂(Σ values)/∂Y for the last ``_values`` call, a new array of Y's shape."""
        raise NotImplementedError(f"{type(self).__name__} must implement _gradient()")

    def _check_predictions(self, Y: np.ndarray) -> None:
        """Refuse predictions this loss cannot take (default: anything goes)."""

    def _target(self, y_true: Any, Y: np.ndarray) -> np.ndarray:
        """Check ``y_true`` against ``Y`` (n_samples, n_outputs); default: same shape as Y.

        Only ``Y``'s shape and dtype may be used: :meth:`prepare_targets` passes a stand-in."""
        T = as_float_array(y_true, "y_true", dtype=Y.dtype, ndim=(1, 2))
        if T.ndim == 1 and Y.shape[1] == 1:
            T = T.reshape(-1, 1)
        if T.shape != Y.shape:
            raise ShapeError(
                f"{type(self).__name__} expects y_true of shape {Y.shape} like y_pred "
                f"(n_samples, n_outputs), got {T.shape}"
            )
        return T

    # ------------------------------------------------------------------ fused pairs
    @property
    def from_logits(self) -> bool:
        return getattr(self, "_from_logits", False)

    def logits_loss(self) -> Loss:
        """The same loss taking logits (the fused form), for a network ending in
        :attr:`fused_activation`.

        Built from the constructor arguments, not from ``get_config``, so that a subclass
        registered under no name of its own (scikit-learn's losses) has a fused form too."""
        if self.fused_activation is None:
            raise TypeError(f"{type(self).__name__} has no fused form")
        return type(self)(**{**self._settings(), "from_logits": True})

    def prepare_weights(
        self, sample_weight: Any, n_samples: int, dtype: Any = np.float64, *,
        name: str = "sample_weight", samples_of: str = "y_pred",
    ) -> np.ndarray | None:
        """Per-sample weights checked once, in the form :meth:`evaluate` takes (or None):
        :func:`check_sample_weight` with this loss's reduction."""
        return check_sample_weight(sample_weight, n_samples, dtype, reduction=self.reduction,
                                   name=name, samples_of=samples_of)


def _rescaled_total(per_sample: np.ndarray, sample_weight: np.ndarray | None,
                    scale: float) -> float:
    """``scale · Σ_i w_i Σ_j ℓ_ij`` (what :meth:`Loss.reduce` returns) for finite values
    ``per_sample`` (n_samples, values per sample) whose sum overflowed their dtype.

    The values are divided by the power of two ``c`` with ``c <= max |ℓ| < 2 c``
    (:func:`chainrule._power_of_two.power_of_two_floor`: exact while they stay normal, and the
    few that underflow are too small to change the total), so they lie in (-2, 2) and their
    sum in float64 cannot overflow; ``scale`` (1/count for the mean) is multiplied in before
    ``c``, so that a mean within the range stays finite. The result is a number of the
    values' dtype, infinite only when the loss itself lies beyond its range (a sum)."""
    c = float(power_of_two_floor(largest_magnitude(per_sample)))
    rows = (per_sample.astype(np.float64) / c).sum(axis=1)
    total = rows.sum() if sample_weight is None else sample_weight.astype(np.float64) @ rows
    with np.errstate(over="ignore"):  # only a loss beyond the range
        return float(per_sample.dtype.type(total * scale * c))


def check_sample_weight(
    sample_weight: Any, n_samples: int, dtype: Any = np.float64, *, reduction: str = "mean",
    name: str = "sample_weight", samples_of: str = "y_pred",
) -> np.ndarray | None:
    """Per-sample weights (n_samples,) checked once, in the form :meth:`Loss.evaluate` takes
    for a loss of ``reduction`` (or None); ``name`` and ``samples_of`` name the weights and
    what they weigh in errors.

    Weights must be finite, non-negative, not all zero, shape (n_samples,). With
    ``reduction="mean"`` the loss does not change when every weight is multiplied by the
    same factor, so they are divided by the largest one: weights such as 1e308 or 1e-320
    then cannot overflow or underflow the weighted mean. With ``reduction="sum"`` they are
    used as given (scaling them would change the objective).

    Every positive weight must stay positive in ``dtype`` after that: a sample whose weight
    rounds to 0 would silently drop out of the loss (and a batch of such samples would
    weigh nothing), so that is a ``ValueError``. The limit is the smallest positive
    ``dtype`` number, about 1.4e-45 in float32 and 4.9e-324 in float64 (for the mean, as
    a fraction of the largest weight). Weights below ``np.finfo(dtype).tiny`` (1.2e-38,
    2.2e-308) but above that limit are subnormal: kept, with fewer significant digits.

    Raises
    ------
    ValueError
        Negative, non-finite or all-zero weights, beyond the range of ``dtype``, or positive
        weights that ``dtype`` cannot tell from 0.
    """
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, name, dtype=np.float64, ndim=1)
    check_n_samples(n_samples, w.shape[0], samples_of, name)
    largest = w.max()
    if w.min() < 0 or not largest > 0:
        raise ValueError(
            f"{name} must be non-negative and not all zero, got values in "
            f"[{w.min():g}, {largest:g}]"
        )
    scaled = w / largest if reduction == "mean" else w
    prepared = as_float_array(scaled, name, dtype=dtype, ndim=1)
    lost = np.flatnonzero((prepared == 0) & (w > 0))
    if lost.size:
        raise ValueError(_lost_weights_message(w, lost, prepared.dtype, name, reduction))
    return prepared


def _lost_weights_message(
    w: np.ndarray, lost: np.ndarray, dtype: np.dtype, name: str, reduction: str
) -> str:
    """Why positive weights (at indices ``lost``) rounded to 0 in ``dtype``, and what to do."""
    smallest = float(np.finfo(dtype).smallest_subnormal)
    wider = "" if dtype == np.float64 else ", or use a float64 network (dtype=np.float64)"
    first = int(lost[0])
    what = (
        f"{name} has {lost.size} positive value(s) that round to 0 in {dtype.name}, the "
        f"first at index {first}: {w[first]:g}; those samples would silently drop out of "
    )
    if reduction == "sum":
        return what + (
            f"the loss. The smallest positive {dtype.name} is {smallest:.2g} (full "
            f"precision from {np.finfo(dtype).tiny:.2g}), and with reduction='sum' the "
            "weights are used as given: multiply them all by one constant (this scales "
            f"the loss and its gradients){wider}"
        )
    largest = float(w.max())
    return what + (
        f"the weighted mean, which divides every weight by the largest ({largest:g}): in "
        f"{dtype.name} a weight survives only from about {smallest:.2g} × {largest:g} "
        f"= {smallest * largest:.2g}. Narrow the range of the weights (raise the smallest, "
        f"or set them to 0 to drop those samples on purpose){wider}"
    )


@LOSSES.register("mse", "mean_squared_error", "squared_error")
class MSE(Loss):
    """Mean squared error: ℓ = (y − t)², mean over all elements.

    ∂ℓ/∂y = 2(y − t). Matches ``torch.nn.MSELoss``. (Some tutorials use ½(y − t)² so that the 2
    cancels; that halves the loss and its gradient, which a learning rate absorbs.)

    Shape: y_pred and y_true (n_samples, n_outputs); y_true may be (n_samples,) for one output.

    >>> loss = MSE()
    >>> loss(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))  # ((1 − 0)² + (3 − 1)²) / 2
    2.5
    >>> loss.backward()  # ∂L/∂y = 2(y − t) / n, shape (n_samples, n_outputs) = (2, 1)
    array([[1.],
           [2.]])

    Derivation: ``docs/backprop.md#mse``.
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)  # an __init__ of its own: see Loss

    def _values(self, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
        residual = self._kept["residual"] = Y - T
        return np.square(residual)

    def _gradient(self) -> np.ndarray:
        return 2.0 * self._kept["residual"]  # ∂(y − t)²/∂y = 2(y − t)


@LOSSES.register("mae", "mean_absolute_error", "absolute_error")
class MAE(Loss):
    """Mean absolute error: ℓ = |y − t|; ∂ℓ/∂y = sign(y − t) (0 where y = t, as PyTorch's
    ``L1Loss``).

    Shape: y_pred and y_true (n_samples, n_outputs); y_true may be (n_samples,) for one output.

    >>> loss = MAE()
    >>> loss(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))  # (|1 − 0| + |3 − 1|) / 2
    1.5
    >>> loss.backward()  # sign(y − t) / n, shape (2, 1)
    array([[0.5],
           [0.5]])

    Derivation: ``docs/backprop.md#mae``.
    """

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)  # an __init__ of its own: see Loss

    def _values(self, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
        residual = self._kept["residual"] = Y - T
        return np.abs(residual)

    def _gradient(self) -> np.ndarray:
        return np.sign(self._kept["residual"])


@LOSSES.register("huber")
class Huber(Loss):
    """Huber loss: quadratic near zero, linear beyond ``delta``; robust to outliers.

    With r = y − t::

        ℓ = ½ r²                 if |r| ≤ δ        ∂ℓ/∂y = r
        ℓ = δ (|r| − ½ δ)        otherwise         ∂ℓ/∂y = δ sign(r)

    i.e. ∂ℓ/∂y = clip(r, −δ, δ). Matches ``torch.nn.HuberLoss(delta=δ)``.
    Huber, "Robust estimation of a location parameter", Ann. Math. Statist. 35 (1964).

    Shape: y_pred and y_true (n_samples, n_outputs); y_true may be (n_samples,) for one output.

    >>> loss = Huber(delta=1.0)
    >>> loss(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))  # (½·1² + 1·(2 − ½)) / 2
    1.0
    >>> loss.backward()  # clip(r, −δ, δ) / n, shape (2, 1)
    array([[0.5],
           [0.5]])

    Derivation: ``docs/backprop.md#huber``.
    """

    def __init__(self, delta: float = 1.0, *, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.delta = check_number(delta, "delta", low=0, low_open=True)

    def _values(self, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
        r = self._kept["residual"] = Y - T
        a = np.abs(r)
        return np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))

    def _gradient(self) -> np.ndarray:
        return np.clip(self._kept["residual"], -self.delta, self.delta)


class _SmoothedTargets(Loss):
    """What the two cross-entropies share: the options ``from_logits`` and
    ``label_smoothing``, and the check that predictions are probabilities unless they are
    logits."""

    fused_activation: ClassVar[type]  # Sigmoid or Softmax: each cross-entropy sets it

    def __init__(
        self, *, from_logits: bool = False, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> None:
        super().__init__(reduction=reduction)
        self._from_logits = check_bool(from_logits, "from_logits")  # get_config reads the property
        self.label_smoothing = check_number(label_smoothing, "label_smoothing", low=0, high=1)

    def _check_predictions(self, Y: np.ndarray) -> None:
        """Probabilities in [0, 1] (the fused activation's output) unless ``from_logits``."""
        if not self.from_logits and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                f"{type(self).__name__} expects y_pred to be probabilities in [0, 1] (a "
                f"{self.fused_activation.__name__} output), got values in "
                f"[{Y.min():.3g}, {Y.max():.3g}]; for raw scores (logits) use from_logits=True"
            )


@LOSSES.register("binary_cross_entropy", "bce")
class BinaryCrossEntropy(_SmoothedTargets):
    """Binary cross-entropy, mean over all elements (one or more independent yes/no outputs).

    With p = y_pred (a probability) and target t ∈ [0, 1]::

        ℓ = −[t log p + (1 − t) log(1 − p)]           ∂ℓ/∂p = (p − t) / (p(1 − p))

    Logs are clamped at −100 and p(1 − p) at 1e-12, as ``torch.nn.BCELoss``.

    With ``from_logits=True`` y_pred is the logit z, p = σ(z), and (stable for any z)::

        ℓ = max(z, 0) − z t + log(1 + e^(−|z|))       ∂ℓ/∂z = σ(z) − t

    as ``torch.nn.BCEWithLogitsLoss``. ``label_smoothing`` ε replaces t with t(1 − ε) + ε/2
    (the tutorials' 0.05/0.95 targets are ε = 0.1).

    Shape: y_pred and y_true (n_samples, n_outputs); y_true may be (n_samples,) for one output.

    >>> loss = BinaryCrossEntropy()
    >>> round(loss(np.array([[0.8], [0.4]]), np.array([1, 0])), 4)  # (−ln 0.8 − ln 0.6) / 2
    0.367
    >>> np.round(loss.backward(), 4)  # (y − t) / (y (1 − y)) / n, shape (2, 1)
    array([[-0.625 ],
           [ 0.8333]])

    Derivation: ``docs/backprop.md#binary-cross-entropy``.
    """

    fused_activation = Sigmoid

    def __init__(
        self, *, from_logits: bool = False, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> None:  # an __init__ of its own: see Loss
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing,
                         reduction=reduction)

    def _target(self, y_true: Any, Y: np.ndarray) -> np.ndarray:
        T = super()._target(y_true, Y)
        if T.min() < 0 or T.max() > 1:
            raise ValueError(
                f"BinaryCrossEntropy expects y_true in [0, 1], got values in [{T.min()}, {T.max()}]"
            )
        return T

    def _values(self, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
        if self.label_smoothing:
            T = T * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        self._kept = {"Y": Y, "T": T}
        if self.from_logits:
            # max(z,0) − z t + log1p(e^(−|z|)): no overflow for any z
            return np.maximum(Y, 0.0) - Y * T + np.log1p(np.exp(-np.abs(Y)))
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(Y), _LOG_FLOOR)
            log_q = np.maximum(np.log1p(-Y), _LOG_FLOOR)
        return -(T * log_p + (1.0 - T) * log_q)

    def _gradient(self) -> np.ndarray:
        Y, T = self._kept["Y"], self._kept["T"]
        if self.from_logits:
            P = sigmoid(Y)
            P -= T  # ∂ℓ/∂z = σ(z) − t
            return P
        return (Y - T) / np.maximum(Y * (1.0 - Y), 1e-12)  # ∂ℓ/∂p = (p − t)/(p(1 − p))


@LOSSES.register("cross_entropy", "ce", "categorical_cross_entropy")
class CrossEntropy(_SmoothedTargets):
    """Categorical cross-entropy, mean over samples.

    With probabilities P (n_samples, n_classes) and targets T (rows of class probabilities,
    one-hot for hard labels)::

        ℓ_i = −Σ_k T_ik log P_ik          ∂ℓ_i/∂P_ik = −T_ik / P_ik

    Logs are clamped at −100, as ``torch.nn.BCELoss`` does (a probability that underflowed to 0
    contributes 100 T_ik to ℓ_i, 100 for a hard label, not infinity), and P is floored at ``np.finfo(dtype).tiny``
    in −T/P (higher only where T/tiny would overflow), so a zero probability's slope is huge but
    finite.

    With ``from_logits=True`` y_pred is the logits Z, log P = Z − logsumexp(Z) (computed after
    subtracting the row maximum, exact for any Z), and::

        ∂ℓ_i/∂Z_ik = P_ik Σ_k' T_ik' − T_ik     (= P − T for rows of T that sum to one)

    as ``torch.nn.CrossEntropyLoss``. ``label_smoothing`` ε replaces T with
    (1 − ε) T + ε / n_classes, as PyTorch does (Szegedy et al., "Rethinking the Inception
    architecture", CVPR 2016).

    Shape: y_pred (n_samples, n_classes); y_true integer labels (n_samples,) with values in
    [0, n_classes), or targets (n_samples, n_classes).

    >>> loss = CrossEntropy()
    >>> P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # softmax outputs, (2, 3)
    >>> round(loss(P, np.array([0, 2])), 4)  # (−ln 0.7 − ln 0.8) / 2
    0.2899
    >>> np.round(loss.backward(), 4)  # −T/P / n, shape (n_samples, n_classes) = (2, 3)
    array([[-0.7143,  0.    ,  0.    ],
           [ 0.    ,  0.    , -0.625 ]])

    Derivation: ``docs/backprop.md#cross-entropy``.
    """

    fused_activation = Softmax

    def __init__(
        self, *, from_logits: bool = False, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> None:  # an __init__ of its own: see Loss
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing,
                         reduction=reduction)

    def _target(self, y_true: Any, Y: np.ndarray) -> np.ndarray:
        n_samples, n_classes = Y.shape
        labels = as_array(y_true, "y_true")
        if labels.ndim == 1:
            labels = as_class_labels(labels, "y_true", n_classes)
            check_n_samples(n_samples, labels.shape[0], "y_pred", "y_true")
            return labels
        T = as_float_array(y_true, "y_true", dtype=Y.dtype, ndim=2)
        if T.shape != Y.shape:
            raise ShapeError(
                f"CrossEntropy expects y_true of shape {Y.shape} (n_samples, n_classes) or "
                f"integer labels of shape ({n_samples},), got {T.shape}"
            )
        if T.min() < 0:
            raise ValueError(f"CrossEntropy expects y_true targets >= 0, got minimum {T.min()}")
        return T

    def _values(self, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
        """With integer labels t and smoothing ε the smoothed target row is (1 − ε)·onehot(t)
        + ε/K, so ℓ_i = −(1 − ε) log P[i, t_i] − (ε/K) Σ_k log P[i, k]: no dense T needed."""
        epsilon, n_classes = self.label_smoothing, Y.shape[1]
        if epsilon and T.ndim == 2:
            T = T * (1.0 - epsilon) + epsilon / n_classes
        self._kept = {"T": T}
        if self.from_logits:
            shifted = Y - Y.max(axis=1, keepdims=True)
            log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            self._kept["P"] = np.exp(log_P)
        else:
            self._kept["P"] = Y
            with np.errstate(divide="ignore"):
                log_P = np.maximum(np.log(Y), _LOG_FLOOR)
        if T.ndim == 2:
            return -(T * log_P).sum(axis=1)
        values = -log_P[np.arange(Y.shape[0]), T]  # integer labels: ℓ_i = −log P[i, t_i]
        if epsilon:
            values *= 1.0 - epsilon
            values -= (epsilon / n_classes) * log_P.sum(axis=1)
        return values

    def _gradient(self) -> np.ndarray:
        P, T = self._kept["P"], self._kept["T"]
        epsilon, n_classes = self.label_smoothing, P.shape[1]
        if T.ndim == 2:
            if self.from_logits:
                return P * T.sum(axis=1, keepdims=True) - T
            # P floored so that T/P ≤ max/2 (no overflow, rounding included) for any targets
            # T ≥ 0, normalised or not: a zero probability gets a huge finite slope
            limits = np.finfo(P.dtype)
            return -T / np.maximum(P, max(limits.tiny, 2 * (T.max() / limits.max)))
        rows = np.arange(P.shape[0])
        if self.from_logits:  # P − ((1 − ε) onehot(t) + ε/K)
            G = P - epsilon / n_classes if epsilon else P.copy()
            G[rows, T] -= 1.0 - epsilon
            return G
        # −T/P with T = (1 − ε) onehot(t) + ε/K
        safe = np.maximum(P, np.finfo(P.dtype).tiny)
        G = -(epsilon / n_classes) / safe if epsilon else np.zeros_like(P)
        G[rows, T] -= (1.0 - epsilon) / safe[rows, T]
        return G


def get_loss(spec: Any, **kwargs: Any) -> Loss:
    """A loss from a name (with ``kwargs``), a ``{"name": ..., **options}`` mapping (``kwargs``
    added to its options) or an instance (returned as it is).

    A name or a mapping goes through :meth:`Loss.from_config`, so they are refused as an
    optimizer's are: a mapping without a name lists the valid names, an unknown option the
    valid ones.

    Raises
    ------
    TypeError
        ``spec`` is none of those, an option is unknown, or ``kwargs`` come with an instance
        (they would be ignored: set them when building it).
    ValueError
        An unknown or missing name, or a bad option value.
    """
    return Loss.resolve(spec, "loss", **kwargs)
