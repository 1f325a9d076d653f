"""Finite-difference gradient checking: is every hand-written backward right?

For each parameter entry θ_j the analytic gradient from backpropagation is compared with the
central difference ::

    ∂J/∂θ_j ≈ (J(θ + ε e_j) − J(θ − ε e_j)) / (2ε)

whose error is O(ε²) (against O(ε) for a one-sided difference). Everything runs in float64 on a
copy of the network, so the caller's network is never touched. Dropout masks are drawn once
and then frozen, so the network is a fixed function of its weights while it is probed.

The verdict for each parameter array is its norm-wise relative error
``‖a − n‖₂ / max(‖a‖₂, ‖n‖₂)`` (a the analytic, n the numeric gradient): unlike an elementwise
ratio it does not blow up on entries that are zero or tiny in both, and a single wrong entry
still shows. A correct backward gives about 1e-9 or less with ε = 1e-6; a wrong one gives
something of order 1.

Kinks
-----
ReLU, LeakyReLU and ELU have a kink at 0, where the slope jumps. Backward uses the slope of the
side the input Z is on, ``[Z > 0]`` (for ReLU at exactly 0 that is 0, as in PyTorch). When Z
lies within the step of 0 — zero-initialised biases put it at *exactly* 0 for every sample
whose previous layer is all off — J(θ + ε e_j) and J(θ − ε e_j) fall on the two sides of the
kink, and the central difference averages the two slopes: it then differs from a correct
backward by up to half the jump. gradcheck therefore watches, for every perturbed entry, the
input of every kinked layer (``Z > 0`` at θ ± ε e_j, against ``Z > 0`` at θ):

- no input changes side: the central difference is compared, as above;
- inputs change side on one side only (the usual case: θ_j pushes every Z at the kink the same
  way): on the other side J is the smooth function backward differentiates, so that entry is
  compared with the second-order one-sided difference on that side, e.g. for the minus side ::

      ∂J/∂θ_j ≈ (3 J(θ) − 4 J(θ − ε e_j) + J(θ − 2ε e_j)) / (2ε)      (error O(ε²))

  provided that Z does not change side at θ − 2ε e_j either. A wrong backward still fails there;
- inputs change side on both sides (θ_j pushes some Z at the kink up and others down): no
  finite difference of J measures the slope backward uses, so the entry is reported as
  "kink: not comparable" and left out of its array's comparison, not failed.

The report counts both kinds in its summary and names the layers; a check where every probed
entry was left out is "inconclusive", not passed. The layers with a kink are those whose
class sets ``kink = True`` (:attr:`chainrule.layers.base.Layer.kink`; a custom layer with a
kink at 0 should set it too). Other kinks are not detected and show as failures: MAE at a
residual of exactly 0, an L1 penalty on a weight within ε of 0.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._random import as_generator
from ._validation import as_array, check_n_samples, check_number
from .errors import ShapeError
from .layers.dropout import Dropout
from .layers.sequential import Sequential
from .objective import Objective

#: Largest relative difference between J from Objective.value_and_gradients and J from the
#: probe at the same weights (the same operations: anything above rounding is a bug).
REPLAY_TOLERANCE = 1e-12

NOT_COMPARABLE = "kink: not comparable"


@dataclass(frozen=True)
class GradientComparison:
    """The comparison for one parameter array (or for the input ``X``).

    Attributes
    ----------
    name : str
        ``"0.W"``, ``"2.b"``, ... as in ``Sequential.named_parameters``; ``"X"`` for the input.
    shape : tuple of int
    n_checked : int
        Entries probed with finite differences (all of them unless ``max_checks`` limited it).
    n_one_sided : int
        Of these, entries whose central difference crosses a kink and that were compared with a
        one-sided difference instead (see the module docstring).
    n_kinks : int
        Entries left out as "kink: not comparable": both sides cross a kink.
    max_abs_error : float
        Largest |analytic − numeric| over the compared entries, at ``worst_index``.
    relative_error : float
        ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂) over the compared entries (0.0
        when none was compared).
    worst_index : tuple of int
        Index in the array of the largest error; ``()`` when no entry was compared.
    passed : bool
        ``relative_error <= rtol`` or ``max_abs_error <= atol`` (True when every entry was
        left out at a kink: none failed).
    kink_layers : tuple of str
        Labels of the kinked layers (``"ReLU #3"``) whose inputs the perturbations moved across
        0, for the entries measured one-sided or left out.
    analytic, numeric : ndarray of shape (n_checked,)
        Every probed entry's analytic value and finite difference (central, or one-sided where
        ``one_sided``; for a left-out entry the central one), for a closer look.
    one_sided, kink : ndarray of bool, shape (n_checked,)
        Which entries were measured one-sided, and which were left out.
    """

    name: str
    shape: tuple[int, ...]
    n_checked: int
    n_one_sided: int
    n_kinks: int
    max_abs_error: float
    relative_error: float
    worst_index: tuple[int, ...]
    passed: bool
    kink_layers: tuple[str, ...]
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)
    one_sided: np.ndarray = field(repr=False)
    kink: np.ndarray = field(repr=False)

    @property
    def n_compared(self) -> int:
        """Entries actually compared: ``n_checked − n_kinks``."""
        return self.n_checked - self.n_kinks

    def verdict(self) -> str:
        """``"ok"`` or ``"FAIL"``, then what happened at kinks: ``"ok, 3 one-sided"``,
        ``"FAIL, kink: not comparable (1 of 8)"``; ``"kink: not comparable (3 of 3)"`` alone
        when no entry was compared."""
        notes = [f"{self.n_one_sided} one-sided"] if self.n_one_sided else []
        if self.n_kinks:
            notes.append(f"{NOT_COMPARABLE} ({self.n_kinks} of {self.n_checked})")
        if self.n_compared or not self.n_checked:
            notes.insert(0, "ok" if self.passed else "FAIL")
        return ", ".join(notes)


@dataclass(frozen=True)
class GradcheckReport:
    """Result of :func:`gradcheck`: one :class:`GradientComparison` per parameter array.

    ``report.passed`` is the overall verdict; ``print(report)`` shows the table;
    ``report["0.W"]`` looks one comparison up by name.
    """

    comparisons: tuple[GradientComparison, ...]
    loss: float
    eps: float
    rtol: float
    atol: float = 0.0

    @property
    def n_one_sided(self) -> int:
        """Entries at a kink compared with one-sided differences, over every array."""
        return sum(c.n_one_sided for c in self.comparisons)

    @property
    def n_kinks(self) -> int:
        """Entries left out as "kink: not comparable", over every array."""
        return sum(c.n_kinks for c in self.comparisons)

    @property
    def n_compared(self) -> int:
        """Entries compared with their finite differences, over every array."""
        return sum(c.n_compared for c in self.comparisons)

    @property
    def inconclusive(self) -> bool:
        """Every probed entry was left out at a kink: nothing was compared."""
        return self.n_kinks > 0 and self.n_compared == 0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.comparisons) and not self.inconclusive

    @property
    def max_relative_error(self) -> float:
        return max((c.relative_error for c in self.comparisons), default=0.0)

    def __getitem__(self, name: str) -> GradientComparison:
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(f"no gradient named {name!r}; have {[c.name for c in self.comparisons]}")

    def __iter__(self) -> Iterator[GradientComparison]:
        return iter(self.comparisons)

    def __str__(self) -> str:
        header = (
            "parameter", "shape", "checked", "max abs error", "relative error", "worst index", ""
        )
        rows = [header] + [
            (
                c.name,
                str(c.shape),
                str(c.n_checked),
                f"{c.max_abs_error:.2e}" if c.n_compared else "-",
                f"{c.relative_error:.2e}" if c.n_compared else "-",
                str(c.worst_index) if c.n_compared else "-",
                c.verdict(),
            )
            for c in self.comparisons
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        compared = [c for c in self.comparisons if c.n_compared or not c.n_checked]
        n_ok = sum(c.passed for c in compared)
        verdict = "inconclusive" if self.inconclusive else "passed" if self.passed else "FAILED"
        summary = (
            f"gradcheck {verdict}: {n_ok}/{len(compared)} within relative error "
            f"{self.rtol:g} or absolute error {self.atol:g} (central differences, "
            f"eps={self.eps:g}, float64, loss={self.loss:.6g})"
        )
        if self.n_one_sided or self.n_kinks:
            summary += (
                f"; at kinks: {self.n_one_sided} one-sided, {self.n_kinks} not comparable"
            )
        lines.append(summary)
        if self.n_one_sided or self.n_kinks:
            lines.append(self._kink_note())
        return "\n".join(lines)

    def _kink_note(self) -> str:
        """What happened at kinks, with the counts, wrapped to 100 columns."""
        layers = sorted({label for c in self.comparisons for label in c.kink_layers})
        text = (
            f"Kinks: perturbing {self._count('n_one_sided', 'n_kinks')} by ±eps moves an input "
            f"of {', '.join(layers)} across its kink at 0, where the slope jumps; a central "
            "difference across it averages the two slopes, while backward uses the slope of the "
            "side the input is on (0 for ReLU at exactly 0, as PyTorch). Zero biases make inputs "
            "of exactly 0 likely."
        )
        if self.n_one_sided:
            text += (
                f" {self._count('n_one_sided')} were compared with second-order one-sided "
                "differences on the side without a kink."
            )
        if self.n_kinks:
            text += (
                f" {NOT_COMPARABLE}: {self._count('n_kinks')} cross a kink on both sides, so "
                "no finite difference measures backward's slope; they are left out, not failed."
            )
        return textwrap.fill(text, width=100)

    def _count(self, *attributes: str) -> str:
        """``"3 entries (2.b: 3)"``: the sum of the given counts, and where they are."""
        counts = [(c.name, sum(getattr(c, a) for a in attributes)) for c in self.comparisons]
        total = sum(n for _, n in counts)
        where = ", ".join(f"{name}: {n}" for name, n in counts if n)
        return f"{total} {'entry' if total == 1 else 'entries'} ({where})"


def gradcheck(
    net: Sequential,
    loss: Any,
    X: Any,
    y: Any,
    *,
    sample_weight: Any = None,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_checks: int | None = None,
    check_input: bool = False,
    seed: Any = 0,
) -> GradcheckReport:
    """Compare backpropagation's gradients with central finite differences.

    Each array passes when its norm-wise relative error is at most ``rtol`` or every compared
    entry is within ``atol`` of its finite difference.

    Kinks: when perturbing an entry by ±eps moves an input of a ReLU, LeakyReLU or ELU across
    its kink at 0 (zero biases put inputs at exactly 0), the central difference averages two
    slopes and says nothing about backward. Such an entry is compared with a second-order
    one-sided difference on the side where no input crosses 0, so a wrong backward still
    fails; when inputs cross on both sides it is reported as "kink: not comparable" and left
    out, not failed. The summary counts both and names the layers; the module docstring gives
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
        Largest norm-wise relative error that passes.
    atol : float
        An array also passes when every entry is within ``atol`` of its finite difference:
        gradients this small are below the noise of the central difference (about
        ``|J| · 1e-16 / eps``), where a relative error means nothing.
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
        out at a kink (``inconclusive``: nothing was compared).

    Raises
    ------
    ValueError
        The loss is not finite at these X and y.
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

    work = net.copy(dtype=np.float64)
    for layer in work.layers:
        if isinstance(layer, Dropout):
            layer.freeze_mask = True  # the first pass draws the masks, later passes reuse them
    X = work.check_input(X).copy()  # a private copy: _compare perturbs it in place
    if y is not None:  # (a custom loss may need no targets)
        shape = as_array(y, "y").shape
        if not shape:
            raise ShapeError(f"y must hold one target per sample of X, got a scalar {y!r}")
        check_n_samples(X.shape[0], shape[0], "X", "y")
    objective = Objective(work, loss)
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
    layers: set[str] = set()
    for k, j in enumerate(indices):
        plus, crossed_plus = shifted(j, eps)
        minus, crossed_minus = shifted(j, -eps)
        numeric[k] = (plus - minus) / (2.0 * eps)
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
    exact = analytic.reshape(-1)[indices]
    compared = ~kink
    a, n = exact[compared], numeric[compared]
    errors = np.abs(a - n)
    scale = max(np.linalg.norm(a), np.linalg.norm(n))
    relative = float(np.linalg.norm(a - n) / scale) if scale > 0 else 0.0
    worst: tuple[int, ...] = ()
    if errors.size:
        flat_worst = int(indices[compared][np.argmax(errors)])
        worst = tuple(int(i) for i in np.unravel_index(flat_worst, values.shape))
    return GradientComparison(
        name=name,
        shape=values.shape,
        n_checked=int(indices.size),
        n_one_sided=int(one_sided.sum()),
        n_kinks=int(kink.sum()),
        max_abs_error=float(errors.max(initial=0.0)),
        relative_error=relative,
        worst_index=worst,
        passed=bool(relative <= settings.rtol or errors.max(initial=0.0) <= settings.atol),
        kink_layers=tuple(sorted(layers)),
        analytic=exact,
        numeric=numeric,
        one_sided=one_sided,
        kink=kink,
    )
