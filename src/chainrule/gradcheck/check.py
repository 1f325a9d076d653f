"""The check itself: perturb each entry, replay J, and compare with backward's gradient."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._random import as_generator
from .._validation import check_bool, check_number, check_target_rows
from ..layers.dropout import Dropout
from ..layers.sequential import Sequential
from ..objective import Objective
from .measures import (
    allowance,
    central_difference_error,
    frobenius_norm,
    one_sided_difference_error,
    relative_error,
)
from .report import GradcheckReport, GradientComparison, PassRule

#: Largest relative difference between J from Objective.value_and_gradients and J from the
#: probe at the same weights (the same operations: anything above rounding is a bug).
REPLAY_TOLERANCE = 1e-12


def gradcheck(
    net: Sequential,
    loss: Any,
    X: Any,
    y: Any,
    *,
    sample_weight: Any = None,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 0.0,
    max_checks: int | None = None,
    check_input: bool = False,
    seed: Any = 0,
) -> GradcheckReport:
    """Compare backpropagation's gradients with central finite differences.

    Each array passes on the first of these rules that holds (package docstring, "The
    verdict"), recorded in its ``passed_on``:

    1. its norm-wise relative error ‖a − n‖₂ / max(‖a‖₂, ‖n‖₂) is at most ``rtol``: printed
       "ok";
    2. every compared entry is within ``atol`` of its finite difference (only when ``atol`` is
       given; it is 0 by default): printed "ok (within atol)";
    3. every compared entry's |a − n| is within that entry's own estimate of the error of its
       finite difference, rounding plus truncation (Richardson, from J at ±2·eps), with safety
       factors: printed "ok (within the finite-difference error)". This passes correct
       gradients too small for a relative error to mean anything (a near-perfect fit), and a
       wrong backward only when its error is no larger than what the finite difference can
       resolve; J at ±2·eps is evaluated only for arrays that fail rules 1 and 2.

    The summary line counts the arrays that passed on rules 2 and 3, and says so in the
    verdict: such a pass is weaker than one on the relative error.

    Kinks: when perturbing an entry by ±eps moves an input of a ReLU, LeakyReLU or ELU across
    its kink at 0 (zero biases put inputs at exactly 0), the central difference averages two
    slopes and says nothing about backward. Such an entry is compared with a second-order
    one-sided difference on the side where no input crosses 0, so a wrong backward still
    fails; when inputs cross on both sides it is reported as "kink: not comparable" and left
    out, not failed. The summary counts both and names the layers; the package docstring gives
    the rule in full.

    Parameters
    ----------
    net : Sequential
        The network; a float64 copy is checked, ``net`` itself is not modified.
    loss : Loss, name or dict
        The loss (penalties of the layers are included, as in training).
    X : array of shape (n_samples, in_features)
    y : targets, as the loss accepts them
    sample_weight : array of shape (n_samples,), optional
    eps : float
        Step of the central difference.
    rtol : float
        Largest norm-wise relative error that passes (rule 1).
    atol : float
        An absolute allowance, 0 (none) by default: an array also passes when every compared
        entry is within ``atol`` of its finite difference (rule 2). Choose it for your
        problem's scale: a fixed atol passes any backward, however wrong, whose gradients are
        all below it. Without it, gradients too small for the relative error are judged
        against their finite-difference error (rule 3).
    max_checks : int, optional
        Check at most this many randomly chosen entries per parameter array (all by default).
    check_input : bool
        Also check ∂J/∂X (reported as ``"X"``).
    seed : int, Generator or None
        Chooses the entries when ``max_checks`` is set.

    Returns
    -------
    GradcheckReport
        ``passed`` is False when an array fails, and also when every probed entry was left
        out at a kink (``inconclusive``: nothing was compared). Each comparison's
        ``passed_on`` says which rule passed it.

    Raises
    ------
    ValueError
        The loss is not finite at these X and y; or there is nothing to compare (a network
        without parameters, and ``check_input`` False).
    TypeError, ValueError
        ``y`` is not what the loss takes for this network (class labels beyond its outputs,
        a shape unlike theirs): the message names ``y`` and the network's number of outputs.
    RuntimeError
        J evaluated twice at the same weights differs: a layer's forward is not
        deterministic in training mode.

    Examples
    --------
    >>> from chainrule import mlp
    >>> net = mlp([2, 3, 1], activation="tanh", output="sigmoid", seed=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 2)); y = np.array([0, 1, 1, 0, 1])
    >>> gradcheck(net, "binary_cross_entropy", X, y).passed
    True
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a Sequential, got {type(net).__name__}")
    eps = check_number(eps, "eps", low=0, low_open=True)
    rtol = check_number(rtol, "rtol", low=0, low_open=True)
    atol = check_number(atol, "atol", low=0)
    if max_checks is not None:
        max_checks = check_number(max_checks, "max_checks", low=1, integer=True)
    rng = as_generator(seed)
    check_input = check_bool(check_input, "check_input")
    if not check_input and not net.n_parameters:
        raise ValueError(
            "gradcheck has nothing to compare: the network has no parameters; pass "
            "check_input=True to check the gradient with respect to X"
        )

    work = net.copy(dtype=np.float64)
    for layer in work.layers:
        if isinstance(layer, Dropout):
            layer.freeze_mask = True  # the first pass draws the masks, later passes reuse them
    X = work.check_input(X).copy()  # a private copy: _compare perturbs it in place
    objective = Objective(work, loss)
    check_targets(objective, X.shape[0], y)
    weights = objective.head_loss.prepare_weights(sample_weight, X.shape[0], samples_of="X")
    settings = _Settings(eps, rtol, atol, max_checks, rng)
    with np.errstate(all="ignore"):  # an overflow shows as a non-finite loss, refused below
        value, dX = objective.value_and_gradients(X, y, weights, input_grad=True)
        if not np.isfinite(value):
            raise ValueError(
                f"gradcheck needs a finite loss, got {value} at these X and y: the values are "
                "too large for float64 arithmetic through this network (scale X down)"
            )
        probe = _Probe(objective, X, y, weights, value)
        comparisons = [
            _compare(name, param, grad.copy(), probe, settings)
            for name, param, grad in work.named_parameters()
        ]
        if check_input:
            comparisons.append(_compare("X", X, dX, probe, settings))
    return GradcheckReport(tuple(comparisons), float(value), eps, rtol, atol)


def check_targets(objective: Objective, n_samples: int, y: Any) -> None:
    """Refuse targets ``y`` (None for a loss that takes none) that are not one per sample of
    ``X`` (``n_samples`` rows) or not what ``objective``'s loss takes for its network
    (:meth:`Objective.prepare_targets`), in the words of a caller who gave ``y``.

    The loss's own messages speak of ``y_true``, compared with a ``y_pred`` (the network's
    outputs) that this caller never gave: they are reworded, and say how many outputs the
    network has. A network whose width only its input decides is left to the loss's check
    during the pass, which sees the outputs.
    """
    if y is None:
        return
    check_target_rows(n_samples, y)
    n_outputs = objective.net.out_features
    if n_outputs is None:
        return
    try:
        objective.prepare_targets(y)
    except (TypeError, ValueError) as error:
        message = re.sub(r"\by_pred\b", "the predictions", re.sub(r"\by_true\b", "y", str(error)))
        outputs = "1 output" if n_outputs == 1 else f"{n_outputs} outputs"
        raise type(error)(f"{message}; the network has {outputs}") from None


@dataclass(frozen=True)
class _Settings:
    eps: float
    rtol: float
    atol: float
    max_checks: int | None
    rng: np.random.Generator


class _Probe:
    """J at the current weights, and which kinked layers have an input on another side of 0.

    J is computed as :meth:`Objective.value` computes it in training mode (each layer's
    ``forward``, the head loss, the penalties), one layer at a time so that the input
    Z (n_samples, width) of every kinked layer can be seen. Its side is ``Z > 0``, the test
    backward applies (``[Z > 0]``); it is compared with the side at the unperturbed weights.
    """

    def __init__(
        self, objective: Objective, X: np.ndarray, y: Any, weights: Any, value: float
    ) -> None:
        self.objective, self.X, self.y, self.weights = objective, X, y, weights
        self.layers = objective.net.layers[: objective.head_stop]
        self.kinked = tuple(
            index for index, layer in enumerate(self.layers) if layer.kink
        )
        self.value, self.sides = self._run()
        if not abs(self.value - value) <= REPLAY_TOLERANCE * max(abs(value), 1.0):
            raise RuntimeError(
                f"gradcheck: J at the same weights was {value!r}, then {self.value!r}; a layer's "
                "forward is not deterministic in training mode (a random layer must freeze its "
                "randomness while it is checked, as Dropout does with freeze_mask)"
            )

    def __call__(self) -> tuple[float, set[str]]:
        """``(J, crossed)``: J at the current weights, and the labels of the kinked layers
        with an input on another side of 0 than at the unperturbed weights."""
        value, sides = self._run()
        crossed = {
            self.layers[index].label
            for index, now, before in zip(self.kinked, sides, self.sides)
            if not np.array_equal(now, before)
        }
        return value, crossed

    def _run(self) -> tuple[float, list[np.ndarray]]:
        """J, and ``Z > 0`` (n_samples, width) for the input Z of each kinked layer."""
        A, sides = self.X, []
        for index, layer in enumerate(self.layers):
            if index in self.kinked:
                sides.append(A > 0)
            A = layer.forward(A, training=True)
        value = self.objective.head_loss.forward(A, self.y, self.weights)
        return value + self.objective.net.penalty(), sides


def _compare(
    name: str, values: np.ndarray, analytic: np.ndarray, probe: _Probe, settings: _Settings
) -> GradientComparison:
    """Perturb entries of ``values`` in place (restoring each) and compare with ``analytic``."""
    eps = settings.eps
    flat = values.reshape(-1)  # a view: perturbing it perturbs the network

    def shifted(j: int, step: float) -> tuple[float, set[str]]:
        """J at θ + step e_j, and the kinked layers with an input on another side of 0."""
        original = flat[j]
        flat[j] = original + step
        try:
            return probe()
        finally:
            flat[j] = original

    indices = np.arange(flat.size)
    if settings.max_checks is not None and settings.max_checks < flat.size:
        indices = np.sort(settings.rng.choice(flat.size, size=settings.max_checks, replace=False))
    numeric = np.empty(indices.size)
    one_sided = np.zeros(indices.size, dtype=bool)
    kink = np.zeros(indices.size, dtype=bool)
    # The J values each difference used, for its error estimate: J(θ + ε e_j), J(θ − ε e_j)
    # for a central one; J(θ + s ε e_j), J(θ + 2 s ε e_j) and the side s for a one-sided one.
    points = np.empty((indices.size, 2))
    side = np.zeros(indices.size)
    layers: set[str] = set()
    for k, j in enumerate(indices):
        plus, crossed_plus = shifted(j, eps)
        minus, crossed_minus = shifted(j, -eps)
        numeric[k] = (plus - minus) / (2.0 * eps)
        points[k] = plus, minus
        if not (crossed_plus or crossed_minus):
            continue
        layers |= crossed_plus | crossed_minus
        kink[k] = True
        if crossed_plus and crossed_minus:
            continue
        sign, near = (1.0, plus) if not crossed_plus else (-1.0, minus)
        far, crossed_far = shifted(j, 2.0 * sign * eps)
        if not crossed_far:  # J is smooth on this side: f'(0) ≈ ±(4 J(±ε) − J(±2ε) − 3 J(0)) / 2ε
            numeric[k] = sign * (4.0 * near - far - 3.0 * probe.value) / (2.0 * eps)
            kink[k], one_sided[k] = False, True
            points[k], side[k] = (near, far), sign
    exact = analytic.reshape(-1)[indices]
    compared = ~kink
    a, n = exact[compared], numeric[compared]
    with np.errstate(all="ignore"):  # |a − n| may overflow to inf: it then fails
        errors = np.abs(a - n)
    largest = float(errors.max(initial=0.0))  # nan when an error is nan
    relative = relative_error(a, n)
    fd_error = np.full(indices.size, np.nan)

    def within_fd_error() -> bool:
        """Whether every compared entry is within its finite-difference error estimate,
        filling ``fd_error`` from the largest error down and stopping at the first outside."""
        if not np.all(np.isfinite(errors)):
            return False
        positions = np.flatnonzero(compared)
        for rank in np.argsort(-errors, kind="stable"):
            k = positions[rank]
            j, (first, second) = indices[k], points[k]
            if one_sided[k]:
                fourth, crossed = shifted(j, 4.0 * side[k] * eps)
                parts = None if crossed else one_sided_difference_error(
                    probe.value, first, second, fourth, eps
                )
            else:
                plus2, crossed = shifted(j, 2.0 * eps)
                if not crossed:
                    minus2, crossed = shifted(j, -2.0 * eps)
                parts = None if crossed else central_difference_error(
                    probe.value, first, second, plus2, minus2, eps
                )
            if parts is None:  # a kink within the wider steps: no sound estimate
                return False
            fd_error[k] = allowance(*parts)
            if not errors[rank] <= fd_error[k]:
                return False
        return True

    unresolved = False
    if relative <= settings.rtol:
        passed_on: PassRule | None = PassRule.RELATIVE_ERROR
    elif largest <= settings.atol and settings.atol > 0:
        passed_on = PassRule.ATOL
    elif within_fd_error():
        # Rule 3 says something only if these differences could catch a backward off by the
        # gradient's own size (twice it, or zero): some entry must have |a| above its estimate,
        # which ‖estimate‖ < ‖gradient‖ guarantees. Else they resolve nothing (a huge loss,
        # whose rounding u·|J|/ε swamps the gradients): neither passed nor failed.
        unresolved = frobenius_norm(fd_error[compared]) >= max(frobenius_norm(a),
                                                               frobenius_norm(n))
        passed_on = None if unresolved else PassRule.FD_ERROR
    else:
        passed_on = None
    worst: tuple[int, ...] = ()
    if errors.size:
        flat_worst = int(indices[compared][np.argmax(errors)])
        worst = tuple(int(i) for i in np.unravel_index(flat_worst, values.shape))
    return GradientComparison(
        name=name,
        shape=values.shape,
        n_checked=int(indices.size),
        max_abs_error=largest,
        relative_error=relative,
        worst_index=worst,
        passed_on=passed_on,
        kink_layers=tuple(sorted(layers)),
        analytic=exact,
        numeric=numeric,
        one_sided=one_sided,
        kink=kink,
        fd_error=fd_error,
        unresolved=unresolved,
    )
