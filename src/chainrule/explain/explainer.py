"""``explain``: one forward and backward pass, written out as the chain rule, term by term.

How the numbers are obtained (so that they are the library's, not a re-derivation):

1. the network is copied to float64 (``net.copy(np.float64)``; the caller's network is never
   touched) and :class:`chainrule.Objective` runs the training pass on the batch, exactly as
   :class:`~chainrule.Trainer` does (fused output pairs included);
2. the same pass is replayed layer by layer, calling the same ``layer.forward`` /
   ``layer.backward`` and ``loss.forward`` / ``loss.backward``, to keep the intermediate arrays
   the Objective does not return (every ∂L/∂A and δ). The replay must reproduce the
   Objective's gradients; it is checked, and a difference is an error. Dropout masks are
   frozen so both passes see the same mask;
3. a layer's *local* derivative (dA/dZ) is read from the layer itself: for an elementwise
   layer ``backward(1)`` returns f'(Z) (dX = 1 ⊙ f'(Z)); for softmax, ``backward`` of each
   unit vector gives one column of each row's Jacobian. That array, (n_samples, K, K), is
   built only when its term's ``value`` is read: the summary printed (norm, min, max) is
   computed from the probabilities in O(n_samples · K) (:func:`softmax_jacobian_summary`);
4. :func:`chainrule.gradcheck` confirms every parameter gradient (and ∂L/∂X) with central
   finite differences, on at most :data:`DEFAULT_MAX_CHECKS` entries of each array chosen at
   random unless ``max_checks`` says otherwise (``None``: every entry). Each term says on what it passed: "matches finite differences" only
   for a relative error within ``rtol``; gradients no larger than the finite difference's own
   error pass "within the finite-difference error" when every entry agrees within that error,
   and with an explicit ``atol`` "within atol" (see :mod:`chainrule.gradcheck`); the footer
   counts each kind.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice, largest_magnitude
from ..gradcheck import REPLAY_TOLERANCE, GradcheckReport, PassRule, frobenius_norm, gradcheck
from ..gradcheck.check import check_targets
from ..layers.base import Layer
from ..layers.dropout import Dropout
from ..layers.sequential import Sequential
from ..losses import Loss
from ..objective import Objective
from .naming import INPUT, LayerNames, gradient_name, mapping, name_layers
from .rules import layer_rule, loss_rule, mean_divisor, options_text
from .terms import FORMATS, Explanation, FiniteDifferenceCheck, Term, TermGroup


def notation(targets: str = "one-hot rows for class labels", extra: tuple[str, ...] = ()) -> str:
    """The notation paragraph of an explanation.

    Parameters
    ----------
    targets : str
        What T is, in parentheses after "the targets as the loss uses them".
    extra : tuple of str
        Symbols only some explanations use (the sample weights w, Huber's κ).
    """
    more = "".join(f"; {item}" for item in extra)
    return (
        "Notation: rows are samples; A0 = X; Zk = the output of the k-th layer with parameters "
        "(Dense: Zk = A(k−1) Wk + bk); Ak = the activation after it; δk = dL/dZk; T = the "
        f"targets as the loss uses them ({targets}); ⊙ elementwise product; ᵀ transpose; Σ the "
        f"sum over samples (rows), in L over every value of ℓ; [·] is 1 where true, else 0{more}."
    )


#: How the footer counts the gradients of each :attr:`FiniteDifferenceCheck.category`, in this
#: order, when not all of them matched on their relative error.
FOOTER_PARTS = (
    (PassRule.RELATIVE_ERROR, "match (largest relative error {worst}, tolerance {rtol:g})"),
    (
        PassRule.FD_ERROR,
        (
            "match only within the finite-difference error: every entry agrees within the "
            "finite difference's own error estimate, which is here as large as these gradients "
            "or larger, so their relative error (up to {worst}) cannot decide"
        ),
    ),
    (PassRule.ATOL, "match only within atol = {atol:g} (relative error up to {worst})"),
    ("not comparable", "not comparable: every entry has a kink at 0 on both sides"),
    (
        "unresolved",
        (
            "unresolved: the finite differences' own error is as large as these gradients "
            "(typically a loss so large that its rounding swamps them), so they neither match "
            "nor fail"
        ),
    ),
    ("failed", "DO NOT MATCH (largest relative error {worst}, tolerance {rtol:g})"),
)

#: How many entries of each array (each parameter, and X) :func:`explain` and the
#: ``chainrule explain`` and ``chainrule gradcheck`` commands (their ``--max-checks``) compare
#: with finite differences by default, chosen at random. Each entry costs two passes of the batch, so checking
#: every entry grows with the network: minutes for the 235,146 parameters of a 784-256-128-10
#: network on 2 samples, a fraction of a second for 50 per array.
DEFAULT_MAX_CHECKS = 50

#: The notation paragraph of an explanation without sample weights, label smoothing or Huber.
NOTATION = notation()
LAYERS_HEADING = (
    "Layers (index in the Sequential: input → output, parameters by their library names):"
)


def explain(
    net: Sequential,
    X: Any,
    y: Any,
    loss: Any,
    *,
    sample_weight: Any = None,
    format: str = "text",
    check: bool = True,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 0.0,
    max_checks: int | None = DEFAULT_MAX_CHECKS,
    seed: Any = 0,
) -> Explanation:
    """Run one training pass on a small batch and explain every term of the chain rule.

    Layer by layer from the loss back to the input, each factor is given with its name, its
    formula in matrix form, its shape with named dimensions and a summary of its values
    (norm, min, max), e.g. for the two-circles network 2-4-3-1::

        dL/dW3 = A2ᵀ δ3   (3, 1)   norm ...   matches finite differences (relative error 2e-10)

    Layers are numbered as in the tutorials: the input is ``A0 = X``, the k-th layer with
    parameters (a Dense) outputs ``Zk`` with parameters ``Wk``, ``bk``, the activation after
    it outputs ``Ak``, and ``δk = ∂L/∂Zk``. The header maps these names to the library's
    (``W1 = "0.W"``). A weight with an L1/L2 penalty has the term ``dJ/dWk`` instead of
    ``dL/dWk``: the gradient of ``J = L + penalties``, what training uses, with the
    penalty's gradient added (``A1ᵀ δ2 + l2 W2``). When the network ends in Sigmoid + binary
    cross-entropy or Softmax + cross-entropy, training uses the fused gradient
    ``δ = (P − T) / n`` (for cross-entropy ``(P ⊙ ΣₖT − T) / n``, which is ``(P − T) / n`` when
    every target row sums to 1: the explanation prints the form that holds for the targets
    given); the explanation shows that term, and the chained terms it replaces (∂L/∂A, ∂A/∂Z)
    as references. Only these exact classes are fused with the library's losses: a subclass of
    Sigmoid or Softmax is explained as any other output layer.

    Each checked gradient says how it compares with finite differences: "matches finite
    differences (relative error …)" when its relative error is within ``rtol``; "matches
    within the finite-difference error (relative error …, gradients of order …)" when the
    gradients are no larger than the finite difference's own error (tiny gradients, or a huge
    loss) and every entry agrees within that error, so the relative error cannot decide;
    "matches within atol" when every entry is within an ``atol`` you gave; "DOES NOT MATCH"
    otherwise; "not comparable" when every entry sits at a kink. The footer counts each kind.

    Parameters
    ----------
    net : Sequential
        Not modified: everything runs on a float64 copy.
    X : array of shape (n_samples, in_features)
        A small batch (each entry checked is perturbed twice by the finite-difference check).
    y : targets, in any form the loss accepts (see :mod:`chainrule.losses`)
    loss : Loss, name or dict
    sample_weight : array of shape (n_samples,), optional
    format : {"text", "markdown", "json"}
        What ``str(explanation)`` renders.
    check : bool, default True
        Confirm every parameter gradient and ∂L/∂X with :func:`chainrule.gradcheck`.
    max_checks : int or None, default DEFAULT_MAX_CHECKS (50)
        Compare at most this many entries of each array (each parameter, and X), chosen at
        random by ``seed``; the footer says how many of how many were probed. Each entry costs
        two passes of the batch. ``None`` compares every entry: minutes for a network of
        hundreds of thousands of parameters.
    eps, rtol, atol, seed
        Passed to :func:`chainrule.gradcheck` (same defaults: ``atol`` 0, no absolute
        allowance), with ``max_checks``.

    Returns
    -------
    Explanation

    Raises
    ------
    TypeError
        ``check`` is not a bool.
    ValueError
        The loss of this batch is not finite; or ``y`` is not what the loss takes for this
        network (the message names ``y`` and the network's number of outputs).
    NotDifferentiableError
        The network contains a ``Step`` layer, which backpropagation cannot go through.

    Examples
    --------
    >>> from chainrule.explain import explain, two_circles_example
    >>> explanation = explain(*two_circles_example(n_samples=8))
    >>> explanation["dL/dW3"].dims, explanation["dL/dW3"].formula
    ((3, 1), 'A2ᵀ δ3')
    >>> explanation.passed
    True
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a Sequential, got {type(net).__name__}")
    format = check_choice(format, "format", FORMATS)
    check = check_bool(check, "check")
    work = net.copy(np.float64)
    for layer in work.layers:
        if isinstance(layer, Dropout):
            layer.freeze_mask = True  # the replay must see the Objective's masks
    objective = Objective(work, loss)
    X64 = work.check_input(X).copy()
    check_targets(objective, X64.shape[0], y)  # an error names y, not the loss's y_true
    # Checked here, so that an error names X and sample_weight; the explanation shows the
    # weights as given (the loss scales its prepared copy).
    objective.head_loss.prepare_weights(sample_weight, X64.shape[0], samples_of="X")
    trace = _run(work, objective, X64, y, sample_weight)
    report = None
    if check:
        report = gradcheck(
            net, loss, X, y, sample_weight=sample_weight, eps=eps, rtol=rtol, atol=atol,
            max_checks=max_checks, check_input=True, seed=seed,
        )
    return _Builder(work, objective, trace, report, sample_weight).build(format)


# ------------------------------------------------------------------------------ the pass
@dataclass
class _Trace:
    """Every array of one pass, by layer index, all float64.

    ``width_i`` is the number of output features of layer ``i`` (its input has
    ``width_{i-1}``, or ``in_features`` for layer 0); ``n_outputs`` is the width of the loss's
    input (the logits, when the loss is fused with the output layer).
    """

    X: np.ndarray  # (n_samples, in_features)
    J: float  # L + penalties
    L: float  # the (head) loss
    outputs: dict[int, np.ndarray]  # output of layer i, (n_samples, width_i)
    # ∂(output)/∂(input) of layer i: (n_samples, width_i) for an elementwise layer, a
    # _Jacobian (summary of each row's (width_i, width_i) Jacobian) for a softmax; no entry
    # for other layers
    local: dict[int, np.ndarray | _Jacobian]
    # ∂L/∂(input of layer i), what backward returned: (n_samples, width_{i-1})
    downstream: dict[int, np.ndarray]
    grads: dict[str, np.ndarray]  # "0.W" → ∂J/∂W (penalties included), W's shape
    head_grad: np.ndarray  # what the (head) loss's backward returned, (n_samples, n_outputs)
    reference: dict[str, Any] | None  # the chained path a fused pair replaces
    # values the (head) loss gave per sample (1: one per sample, n_outputs: one per element),
    # what its mean divides by beside n_samples (see Loss.values_per_sample)
    values_per_sample: int
    # every row of the targets sums to 1 (class labels always; soft targets that do)
    targets_sum_to_one: bool


def _run(
    net: Sequential, objective: Objective, X: np.ndarray, y: Any, sample_weight: Any
) -> _Trace:
    """The Objective's pass, then its layer-by-layer replay, checked against each other."""
    with np.errstate(all="ignore"):
        J, dX = objective.value_and_gradients(X, y, sample_weight, input_grad=True)
        library = net.gradients.copy()
        trace = _replay(net, objective, X, y, sample_weight)
    if not np.isfinite(J):
        raise ValueError(
            f"the loss of this batch is {J}: nothing to explain; check the inputs (standardise "
            "them) and the weights (did training diverge?)"
        )
    pairs = (("gradients", net.gradients, library), ("dL/dX", trace.downstream[0], dX))
    for name, replayed, original in pairs:
        if not _same(replayed, original):
            raise RuntimeError(
                f"explain: the layer-by-layer replay gave different {name} than "
                "Objective.value_and_gradients; a layer's forward or backward is not "
                "deterministic"
            )
    return trace


def _replay(
    net: Sequential, objective: Objective, X: np.ndarray, y: Any, sample_weight: Any
) -> _Trace:
    """Objective.value_and_gradients, unrolled so that every intermediate array is kept."""
    layers = net.layers
    stop = len(layers) if objective.head_stop is None else objective.head_stop
    outputs: dict[int, np.ndarray] = {}
    A = X
    for index in range(stop):
        A = outputs[index] = layers[index].forward(A, training=True)
    L = objective.head_loss.forward(A, y, sample_weight)
    values_per_sample = objective.head_loss.values_per_sample  # as the loss itself counted
    targets_sum_to_one = _targets_sum_to_one(objective.head_loss, y, A.shape[1])
    head_grad = dY = objective.head_loss.backward()
    local, downstream = {}, {}
    for index in range(stop - 1, -1, -1):
        layer = layers[index]
        local_derivative = _local_derivative(layer, outputs[index])
        if local_derivative is not None:
            local[index] = local_derivative
        dY = downstream[index] = layer.backward(dY)
    if stop == 0:
        downstream[0] = dY
    net.add_penalty_gradients()
    grads = {name: grad.copy() for name, _, grad in net.named_parameters()}
    reference = _fused_reference(net, objective, A, y, sample_weight) if objective.fused else None
    return _Trace(
        X, L + net.penalty(), L, outputs, local, downstream, grads, head_grad, reference,
        values_per_sample, targets_sum_to_one,
    )


def _targets_sum_to_one(loss: Loss, y: Any, n_outputs: int) -> bool:
    """Whether every row of the targets, as ``loss`` reads them, sums to 1 (up to rounding).

    Only asked for losses whose formulas depend on it (:attr:`LossRule.general_value`):
    class labels always do; label smoothing keeps a row's sum at 1 when it was 1.
    """
    if not loss_rule(loss).general_value:
        return True
    T = np.asarray(loss.prepare_targets(y, n_outputs))
    if T.ndim < 2:  # class labels: one-hot rows
        return True
    rounding = 8 * n_outputs * np.finfo(np.float64).eps  # the sum's own rounding error
    return bool(np.all(np.abs(T.sum(axis=1) - 1.0) <= rounding))


@dataclass(frozen=True)
class _Jacobian:
    """Each row's softmax Jacobian, (n_samples, K, K), by its summary; the array on demand.

    ``summary`` is (norm, min, max) over every entry (:func:`softmax_jacobian_summary`);
    ``compute`` builds the array from the layer's backward (:func:`_jacobian_from_backward`).
    """

    shape: tuple[int, int, int]
    summary: tuple[float, float, float]
    compute: Callable[[], np.ndarray]


def _local_derivative(layer: Layer, Y: np.ndarray) -> np.ndarray | _Jacobian | None:
    """∂Y/∂X of a layer whose last forward returned ``Y`` (n_samples, n_features), as the
    layer's own backward computes it; None for affine and generic layers.

    Elementwise, Y = f(X): backward(1) = 1 ⊙ f'(X) = f'(X), of X's shape. Jacobian (softmax):
    its summary, computed from the probabilities Y, and the array on demand (see
    :class:`_Jacobian`).
    """
    kind = layer_rule(layer).kind
    if kind == "elementwise":
        return np.array(layer.backward(np.ones(Y.shape)))
    if kind == "jacobian":
        n_samples, width = Y.shape
        # the layer as this pass left it (its cache): a later pass cannot change the array
        snapshot = copy.deepcopy(layer)
        return _Jacobian(
            (n_samples, width, width), softmax_jacobian_summary(Y),
            functools.partial(_jacobian_of_snapshot, snapshot, Y.shape),  # picklable
        )
    return None


def _jacobian_of_snapshot(snapshot: Layer, shape: tuple[int, int]) -> np.ndarray:
    """:func:`_jacobian_from_backward` of a copy of ``snapshot`` (whose cache its backward
    overwrites), so that the array can be computed again."""
    return _jacobian_from_backward(copy.deepcopy(snapshot), shape)


def _jacobian_from_backward(layer: Layer, shape: tuple[int, int]) -> np.ndarray:
    """(n_samples, n_features, n_features), J[i, j, k] = ∂Y[i, j]/∂X[i, k]: the backward of
    the unit upstream gradient e_j (for every row) is row j of each sample's Jacobian.
    ``shape`` is Y's, (n_samples, n_features)."""
    n_samples, width = shape
    jacobian = np.empty((n_samples, width, width))
    for j in range(width):
        unit = np.zeros(shape)
        unit[:, j] = 1.0
        jacobian[:, j, :] = layer.backward(unit)
    return jacobian


def softmax_jacobian_summary(P: np.ndarray) -> tuple[float, float, float]:
    """(norm, min, max) over every entry of each row's softmax Jacobian, from the
    probabilities alone: O(n_samples · K) time and memory instead of O(n_samples · K²).

    For one row p = P[i] (K entries), J = diag(p) − p pᵀ, J_jk = p_j (δ_jk − p_k), and
    ``Softmax.backward`` of the unit vector e_j computes row j as p_k (δ_jk − p_j) (its
    Σ_k e_jk p_k is exactly p_j), i.e. the floating-point values

    * diagonal J_jj = p_j · (1 − p_j) ≥ 0, computed here the same way;
    * off-diagonal J_jk = −(p_j · p_k) ≤ 0 for j ≠ k. A rounded product is monotone in each
      factor, so the most negative one is −(product of the row's two largest p), the least
      negative −(product of its two smallest p): the very products backward rounds.

    So min and max over the rows are exactly those of the materialised array (up to the sign
    of a zero). The squared Frobenius norm of one row's Jacobian is ::

        ‖J‖_F² = Σ_j p_j² (1 − p_j)² + Σ_j p_j² Σ_{k≠j} p_k²
               = Σ_j p_j² − 2 Σ_j p_j³ + (Σ_j p_j²)²

    The expanded form cancels for a nearly one-hot row (1 − 2 + 1, where the answer is of the
    order of (1 − max p)²), so the first form is used, a sum of non-negative terms: with
    r_j = ‖p without p_j‖₂ (from running hypot sums from the left and from the right, no
    subtraction), ‖J‖_F² = Σ_j (p_j (1 − p_j))² + Σ_j (p_j r_j)². The norm over all rows is
    :func:`frobenius_norm` of the (n_samples, 2K) array [p ⊙ (1 − p), p ⊙ r]: scaled, so
    entries below 1e-154 count although their squares underflow. It agrees with the
    materialised array's to rounding (a few units in the K-th place).

    Parameters
    ----------
    P : array of shape (n_samples, K)
        The softmax's output, each row's probabilities.

    Returns
    -------
    tuple of float
        norm, min, max; all 0.0 when P is empty, as :meth:`Term.of` gives for an empty array.
    """
    n_samples, width = P.shape
    if P.size == 0:
        return 0.0, 0.0, 0.0
    diagonal = P * (1.0 - P)
    lows, highs = [diagonal.min()], [diagonal.max()]
    if width > 1:  # off-diagonal entries
        ordered = np.partition(P, sorted({1, width - 2}), axis=1)  # two smallest, two largest
        lows.append(np.min(-(ordered[:, -1] * ordered[:, -2])))
        highs.append(np.max(-(ordered[:, 0] * ordered[:, 1])))
    edge = np.zeros((n_samples, 1))
    before = np.hstack([edge, np.hypot.accumulate(P, axis=1)[:, :-1]])  # ‖p_0 … p_(j−1)‖
    after = np.hstack([np.hypot.accumulate(P[:, ::-1], axis=1)[:, -2::-1], edge])  # ‖p_(j+1) …‖
    others = np.hypot(before, after)
    norm = frobenius_norm(np.hstack([diagonal, P * others]))
    return norm, float(np.min(lows)), float(np.max(highs))


def _fused_reference(
    net: Sequential, objective: Objective, Z: np.ndarray, y: Any, sample_weight: Any
) -> dict[str, Any]:
    """The chained path of a fused pair: A = f(Z), ∂L/∂A, ∂A/∂Z and their product ∂L/∂Z.

    Computed with the same layer and loss classes, for the explanation only: training never
    takes this path (it underflows for confidently wrong predictions; see
    :mod:`chainrule.losses`).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        The logits, the input of the output layer f.

    Returns
    -------
    dict
        ``"A"`` = f(Z), ``"dA"`` = ∂L/∂A and ``"chained"`` = ∂L/∂Z, each (n_samples,
        n_outputs); ``"local"`` = ∂A/∂Z, (n_samples, n_outputs) for an elementwise f
        (sigmoid) or a :class:`_Jacobian` of (n_samples, n_outputs, n_outputs) for softmax,
        None for a layer of one's own that a loss of one's own fuses with (no rule reads its
        local derivative).
    """
    last = net.layers[-1]
    A = last.forward(Z, training=True)
    objective.loss.forward(A, y, sample_weight)
    dA = objective.loss.backward()
    local = _local_derivative(last, A)
    chained = last.backward(dA)
    return {"A": A, "dA": dA, "local": local, "chained": chained}


def _same(a: np.ndarray, b: np.ndarray, tolerance: float = REPLAY_TOLERANCE) -> bool:
    """‖a − b‖ ≤ tolerance · ‖b‖ (exactly equal when both are zero); norms computed scaled,
    so arrays with entries beyond 1e154 neither overflow nor warn."""
    if a.shape != b.shape:
        return False
    scale = max(frobenius_norm(b), np.finfo(np.float64).tiny)
    with np.errstate(over="ignore", invalid="ignore"):  # a − b of huge entries: inf, refused
        difference = frobenius_norm(a - b)
    return difference <= tolerance * scale


# ------------------------------------------------------------------------------ the terms
def _local_term(
    name: str, formula: str, kind: str, local: np.ndarray | _Jacobian, **extra: Any
) -> Term:
    """The term of a local derivative (see :func:`_local_derivative`): a softmax Jacobian by
    its summary, its array computed only when the term's ``value`` is read."""
    if isinstance(local, _Jacobian):
        return Term.summarised(name, formula, kind, local.shape, local.summary, local.compute,
                               batch=True, **extra)
    return Term.of(name, formula, kind, local, batch=True, **extra)


class _Builder:
    """Turns a :class:`_Trace` into the groups of terms of an :class:`Explanation`."""

    def __init__(
        self,
        net: Sequential,
        objective: Objective,
        trace: _Trace,
        report: GradcheckReport | None,
        sample_weight: Any,
    ) -> None:
        self.net, self.objective, self.trace, self.report = net, objective, trace, report
        self.names = name_layers(net)
        self.stop = len(net.layers) if objective.head_stop is None else objective.head_stop
        self.sample_weight = sample_weight
        # J = L + penalties differs from L: the loss group defines J, and the gradient of a
        # penalised weight is named dJ/dWk (the penalty's gradient is part of it)
        self.penalised = any(layer.l1 or layer.l2 for layer in net.layers)

    def build(self, format: str) -> Explanation:
        groups = [self._forward(), self._loss()]
        groups += [self._layer(index) for index in range(self.stop - 1, -1, -1)]
        return Explanation(
            groups=tuple(groups),
            header=tuple(self._header()),
            mapping=mapping(self.names),
            loss=float(self.trace.J),
            n_samples=int(self.trace.X.shape[0]),
            fused=self.objective.fused,
            checked=self.report is not None,
            format=format,
            footer=tuple(self._footer(groups)),
        )

    # -------------------------------------------------------------- header and footer
    def _header(self) -> list[str]:
        net, trace, objective = self.net, self.trace, self.objective
        sizes = [trace.X.shape[1]] + [
            width for layer, width in zip(net.layers, net.widths[1:]) if layer.parameter_specs()
        ]
        sizes_text = " → ".join(str(w) for w in sizes)
        n_samples = trace.X.shape[0]
        loss_text = f"Loss: {objective.loss!r}"
        if objective.fused:
            last = net.layers[-1]
            z = self.names[-1].input
            named = gradient_name(z)  # δk = dL/dZk, or dL/dA0 itself when the logits are X
            computed = named if named == f"dL/d{z}" else f"{named} = dL/d{z}"
            loss_text += (
                f", fused with the output {type(last).__name__} (#{len(net.layers) - 1}): "
                f"training computes {computed} directly from the logits {z}"
            )
        if self.penalised:
            loss_text += "; with L1/L2 penalties, J = L + penalties is what training minimises"
        network = (
            f"Backpropagation through a Sequential of {len(net.layers)} "
            f"layer{'' if len(net.layers) == 1 else 's'} (sizes "
            f"{sizes_text}) on a batch of n_samples = {n_samples}, computed in float64 on a "
            "copy of the network."
        )
        return [network, loss_text + ".", self._notation(), LAYERS_HEADING] + [
            f"  {entry.title}" for entry in self.names
        ]

    def _notation(self) -> str:
        """:func:`notation`, with what this explanation's loss adds (w, smoothed T, κ)."""
        head = self.objective.head_loss
        targets, extra = "one-hot rows for class labels", []
        smoothed = self._smoothed_targets(head)
        if smoothed:
            given = ("one-hot rows for class labels" if loss_rule(head).per == "sample"
                     else "values in [0, 1]")
            targets = (
                f"with label smoothing ε = {head.label_smoothing:g}: T = {smoothed}, where y = "
                f"the targets given, {given}"
            )
        if self.sample_weight is not None:
            extra.append(
                "w = sample_weight, one weight per sample: w ⊙ multiplies each row by its weight"
            )
        if "delta" in loss_rule(head).options:
            extra.append(f"κ = {head.delta:g}, the Huber loss's threshold (its delta), not a δk")
        return notation(targets, tuple(extra))

    def _footer(self, groups: list[TermGroup]) -> list[str]:
        """The finite-difference summary: "all match" only when every gradient matched on its
        relative error; otherwise how many matched how, could not be compared, or failed."""
        if self.report is None:
            return ["Gradients not checked against finite differences (check=False)."]
        report = self.report
        checked = [t for g in groups for t in g.terms if t.check is not None]
        checks = [t.check for t in checked]
        by_category: dict[str, list[FiniteDifferenceCheck]] = {}
        for check in checks:
            by_category.setdefault(check.category, []).append(check)
        gradients = "gradient" if len(checks) == 1 else "gradients"
        probed, entries = sum(c.n_checked for c in checks), sum(t.value.size for t in checked)
        sampled = f" ({probed} of their {entries} entries, at random)" if probed < entries else ""
        start = (
            f"Finite differences (central, eps = {report.eps:g}, float64): "
            f"{len(checks)} {gradients} checked{sampled}"
        )
        worst = {
            category: f"{max(c.relative_error for c in members):.1e}"
            for category, members in by_category.items()
        }
        if set(by_category) <= {PassRule.RELATIVE_ERROR}:
            largest = worst.get(PassRule.RELATIVE_ERROR, "0.0e+00")
            tolerance = f"(tolerance {report.rtol:g})"
            return [f"{start}, all match; largest relative error {largest} {tolerance}."]
        parts = [
            f"{len(by_category[category])} "
            + text.format(worst=worst[category], rtol=report.rtol, atol=report.atol)
            for category, text in FOOTER_PARTS
            if category in by_category
        ]
        return [f"{start}: {'; '.join(parts)}."]

    # -------------------------------------------------------------- groups
    def _forward(self) -> TermGroup:
        trace = self.trace
        terms = [Term.of(INPUT, "X", "forward", trace.X, batch=True)]
        for entry in self.names:
            index = entry.index
            if index < self.stop:
                value, note = trace.outputs[index], ""
            else:  # the fused output activation: computed only for the explanation
                value = trace.reference["A"]
                note = (
                    f"computed for this explanation only: training feeds {entry.input} to the "
                    "fused loss"
                )
            terms.append(
                Term.of(entry.output, self._forward_formula(entry), "forward", value, batch=True,
                        layer=index, note=note)
            )
        return TermGroup("Forward pass (training mode)", tuple(terms))

    def _forward_formula(self, entry: LayerNames) -> str:
        rule = layer_rule(entry.layer)
        plus_b = f" + {entry.params['b']}" if "b" in entry.params else ""
        text = rule.forward.format(
            x=entry.input, y=entry.output, W=entry.params.get("W", "W"), plus_b=plus_b,
            layer=type(entry.layer).__name__,
        )
        if rule.options:
            text += f" ({options_text(entry.layer, rule.options).removeprefix(', ')})"
        return text

    def _loss(self) -> TermGroup:
        objective, trace = self.objective, self.trace
        head = objective.head_loss
        output = self.names[self.stop - 1].output if self.stop else INPUT
        rule = loss_rule(head)
        scale, n_note = self._scale(head, trace.head_grad)
        options = options_text(head, rule.options)
        smoothed = self._smoothed_targets(head)
        if smoothed:  # T is not the targets given: say what it is, and which ε it used
            options += f", ε = {head.label_smoothing:g}"
        targets = f", T = {smoothed}" if smoothed else ""
        value, grad = rule.formulas(trace.targets_sum_to_one)
        value_formula = (
            f"{self._reduction(head)}, ℓ = {value.format(y=output)}{targets}{options}"
        )
        terms = [Term.of("L", value_formula, "loss", trace.L, batch=False, note=n_note)]
        if self.penalised:
            terms.append(
                Term.of("J", "L + Σₖ (l1 ‖Wk‖₁ + ½ l2 ‖Wk‖²)", "loss", trace.J, batch=False)
            )
        # a loss of your own: backward() is ∂L/∂Y already, reduction and weights included
        grad_formula = grad.format(y=output) + ("" if rule.reduced else scale) + options
        if not objective.fused:
            held = [] if not rule.reduced else [
                factor for factor, present in (
                    ("the reduction's 1/n", head.reduction == "mean"),
                    ("the weights w", self.sample_weight is not None),
                ) if present
            ]
            note = f"backward() already holds {' and '.join(held)}" if held else ""
            terms.append(
                Term.of(gradient_name(output), grad_formula, "upstream", trace.head_grad,
                        batch=True, layer=self.stop - 1 if self.stop else None, note=note)
            )
            return TermGroup(f"Loss: {type(objective.loss).__name__}", tuple(terms))
        terms += self._fused_terms(output, grad_formula, scale + options)
        title = (
            f"Loss: {type(objective.loss).__name__}, "
            f"fused with {type(self.net.layers[-1]).__name__}"
        )
        return TermGroup(title, tuple(terms))

    def _fused_terms(self, logits: str, fused_formula: str, suffix: str) -> list[Term]:
        """The chained terms (references) and the fused δ that training uses; ``suffix`` (the
        reduction's factor and the loss's options) ends the chained ∂L/∂A's formula."""
        reference, last = self.trace.reference, self.names[-1]
        probabilities = last.output
        chained_rule = loss_rule(self.objective.loss)
        index = len(self.net.layers) - 1
        chained_formula = chained_rule.grad.format(y=probabilities)
        if not chained_rule.reduced:
            chained_formula += suffix
        layer_entry = layer_rule(last.layer)
        local_formula = layer_entry.local.format(x=logits, y=probabilities)
        with np.errstate(invalid="ignore", over="ignore"):  # inf − inf where they overflow
            difference = largest_magnitude(reference["chained"] - self.trace.head_grad)
        not_used = "reference: the chained path, which training does not take"
        pair = f"{type(last.layer).__name__} + {type(self.objective.loss).__name__}"
        terms = [Term.of(f"dL/d{probabilities}", chained_formula, "reference", reference["dA"],
                         batch=True, layer=index, note=not_used)]
        if reference["local"] is None:
            # A pair of one's own (a loss declaring a layer of its own): no rule reads the local
            # derivative off the layer, and nothing vouches for the fused form's accuracy.
            chain = (f"dL/d{logits} = {type(last.layer).__name__}.backward(dL/d{probabilities})")
            note = (f"fused {pair}: training computes it from the logits instead of {chain} "
                    f"(here they differ by at most {difference:.1e})")
        else:
            terms.append(_local_term(f"d{probabilities}/d{logits}", local_formula, "reference",
                                     reference["local"], layer=index, note=not_used))
            if layer_entry.kind == "jacobian":  # softmax: one (K, K) Jacobian per row
                chain = (
                    f"row by row, dL/d{logits}ᵢ = dL/d{probabilities}ᵢ · (d{probabilities}/"
                    f"d{logits})ᵢ (a matrix product per row i)"
                )
            else:
                chain = f"dL/d{logits} = dL/d{probabilities} ⊙ d{probabilities}/d{logits}"
            note = (
                f"fused {pair}: training computes {chain} in this simplified form, exact even "
                f"where the chained product underflows (here they differ by at most "
                f"{difference:.1e})"
            )
        check, parameter = None, None
        if self.stop == 0:  # the logits are the input X: this term is dL/dX, checked as such
            check, parameter = self._check("X", self.trace.head_grad), "X"
        terms.append(Term.of(
            gradient_name(logits), fused_formula, "upstream", self.trace.head_grad, batch=True,
            layer=index, parameter=parameter, check=check, note=note,
        ))
        return terms

    def _reduction(self, loss: Loss) -> str:
        """How the values ℓ make L: ``mean(ℓ)``, ``Σ(ℓ)``, or their weighted forms."""
        weighted = self.sample_weight is not None
        if loss.reduction == "sum":
            return "Σ(w ⊙ ℓ)" if weighted else "Σ(ℓ)"
        return "Σ(w ⊙ ℓ) / n" if weighted else "mean(ℓ)"

    def _smoothed_targets(self, loss: Loss) -> str:
        """T in terms of the targets given (``"(1 − ε) y + ε/3"``), or "" without smoothing."""
        template = loss_rule(loss).smoothed_targets
        if not template or not getattr(loss, "label_smoothing", 0.0):
            return ""
        return template.format(K=self.trace.head_grad.shape[1])

    def _scale(self, loss: Loss, grad: np.ndarray) -> tuple[str, str]:
        """The reduction's and the weights' factor in the gradient (``" / n"``, ``" ⊙ w"``)
        and a note saying what n is, counted from the values the loss returned: one per
        sample (cross-entropy, or a loss of your own that says so) or one per element."""
        n_outputs = grad.shape[1] if grad.ndim == 2 else 1
        per_sample = self.trace.values_per_sample
        what = mean_divisor(loss.reduction, per_sample, n_outputs)
        if what is None:
            if self.sample_weight is None:
                return "", "reduction='sum': no division"
            return " ⊙ w", "reduction='sum': no division; each sample's values weighted by w"
        n_samples = grad.shape[0]
        if self.sample_weight is None:
            return " / n", f"n = {n_samples * per_sample} ({what}: the values averaged)"
        total = float(np.sum(np.asarray(self.sample_weight, dtype=np.float64)))
        factor = "" if per_sample == 1 else f" × {per_sample}"
        return " ⊙ w / n", f"weighted mean: n = Σw{factor} = {total * per_sample:g}"

    def _layer(self, index: int) -> TermGroup:
        entry, trace = self.names[index], self.trace
        rule = layer_rule(entry.layer)
        x, y = entry.input, entry.output
        dy = gradient_name(y)
        terms: list[Term] = []
        if rule.kind in ("elementwise", "jacobian"):
            formula = rule.local.format(x=x, y=y) + options_text(entry.layer, rule.options)
            terms.append(
                _local_term(f"d{y}/d{x}", formula, "local", trace.local[index], layer=index)
            )
        for key, name in entry.params.items():
            terms.append(self._parameter_term(entry, key, name, rule.param_grads.get(key), dy))
        input_formula = rule.input_grad.format(dy=dy, x=x, y=y, W=entry.params.get("W", "W"))
        note, check, parameter = "", None, None
        if index == 0:
            note = "dL/dX: training skips it (the input is data, not a parameter)"
            check, parameter = self._check("X", trace.downstream[0]), "X"
        terms.append(
            Term.of(gradient_name(x), input_formula, "upstream", trace.downstream[index],
                    batch=True, layer=index, parameter=parameter, check=check, note=note)
        )
        return TermGroup(entry.title, tuple(terms), layer=index)

    def _parameter_term(
        self, entry: LayerNames, key: str, name: str, template: str | None, dy: str
    ) -> Term:
        layer, library_name = entry.layer, entry.param_ids[key]
        if template is None:
            formula = f"written by {type(layer).__name__}.backward({dy})"
        else:
            formula = template.format(x=entry.input, dy=dy)
        is_weight = any(s.name == key and s.role == "weight" for s in layer.parameter_specs())
        penalties = [(p, v) for p, v in (("l1", layer.l1), ("l2", layer.l2)) if is_weight and v]
        for penalty, _ in penalties:
            formula += f" + l1 sign({name})" if penalty == "l1" else f" + l2 {name}"
        formula += "".join(f", {penalty} = {value:g}" for penalty, value in penalties)
        value = self.trace.grads[library_name]
        objective = "dJ" if penalties else "dL"  # J = L + penalties: its gradient adds theirs
        return Term.of(
            f"{objective}/d{name}", formula, "parameter", value, batch=False, layer=entry.index,
            parameter=library_name, check=self._check(library_name, value),
        )

    def _check(self, name: str, value: np.ndarray) -> FiniteDifferenceCheck | None:
        """gradcheck's verdict on ``name``, which must also have checked this very array."""
        if self.report is None:
            return None
        comparison = self.report[name]
        same = comparison.n_checked != value.size or _same(
            comparison.analytic, value.reshape(-1), 1e-10
        )
        compared = ~comparison.kink
        return FiniteDifferenceCheck(
            relative_error=comparison.relative_error,
            max_abs_error=comparison.max_abs_error,
            n_checked=comparison.n_checked,
            rtol=self.report.rtol,
            n_one_sided=comparison.n_one_sided,
            n_kinks=comparison.n_kinks,
            passed_on=comparison.passed_on if same else None,
            atol=self.report.atol,
            scale=max(largest_magnitude(comparison.analytic[compared]),
                      largest_magnitude(comparison.numeric[compared])),
            unresolved=comparison.unresolved and same,
        )
