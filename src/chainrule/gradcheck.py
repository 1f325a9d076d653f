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
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class GradientComparison:
    """The comparison for one parameter array (or for the input ``X``).

    Attributes
    ----------
    name : str
        ``"0.W"``, ``"2.b"``, ... as in ``Sequential.named_parameters``; ``"X"`` for the input.
    shape : tuple of int
    n_checked : int
        Entries compared (all of them unless ``max_checks`` limited it).
    max_abs_error : float
        Largest |analytic − numeric| over the checked entries, at ``worst_index``.
    relative_error : float
        ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂) over the checked entries.
    analytic, numeric : ndarray of shape (n_checked,)
        The compared values, for a closer look.
    """

    name: str
    shape: tuple[int, ...]
    n_checked: int
    max_abs_error: float
    relative_error: float
    worst_index: tuple[int, ...]
    passed: bool
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)


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
    def passed(self) -> bool:
        return all(c.passed for c in self.comparisons)

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
        header = ("parameter", "shape", "checked", "max abs error", "relative error", "worst index", "")
        rows = [header] + [
            (
                c.name,
                str(c.shape),
                str(c.n_checked),
                f"{c.max_abs_error:.2e}",
                f"{c.relative_error:.2e}",
                str(c.worst_index),
                "ok" if c.passed else "FAIL",
            )
            for c in self.comparisons
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        n_ok = sum(c.passed for c in self.comparisons)
        verdict = "passed" if self.passed else "FAILED"
        lines.insert(1, "-" * len(lines[0]))
        lines.append(
            f"gradcheck {verdict}: {n_ok}/{len(self.comparisons)} within relative error "
            f"{self.rtol:g} or absolute error {self.atol:g} (central differences, "
            f"eps={self.eps:g}, float64, loss={self.loss:.6g})"
        )
        return "\n".join(lines)


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
    tolerance = (rtol, atol)
    with np.errstate(all="ignore"):  # an overflow shows as a non-finite loss, refused below
        value, dX = objective.value_and_gradients(X, y, weights, input_grad=True)
        if not np.isfinite(value):
            raise ValueError(
                f"gradcheck needs a finite loss, got {value} at these X and y: the values are "
                "too large for float64 arithmetic through this network (scale X down)"
            )

        def J() -> float:
            return objective.value(X, y, weights, training=True)

        comparisons = [
            _compare(name, param, grad.copy(), J, eps, tolerance, max_checks, rng)
            for name, param, grad in work.named_parameters()
        ]
        if check_input:
            comparisons.append(_compare("X", X, dX, J, eps, tolerance, max_checks, rng))
    return GradcheckReport(tuple(comparisons), float(value), eps, rtol, atol)


def _compare(
    name: str,
    values: np.ndarray,
    analytic: np.ndarray,
    J: Any,
    eps: float,
    tolerance: tuple[float, float],
    max_checks: int | None,
    rng: np.random.Generator,
) -> GradientComparison:
    """Perturb entries of ``values`` in place (restoring each) and compare with ``analytic``."""
    flat = values.reshape(-1)  # a view: perturbing it perturbs the network
    indices = np.arange(flat.size)
    if max_checks is not None and max_checks < flat.size:
        indices = np.sort(rng.choice(flat.size, size=max_checks, replace=False))
    numeric = np.empty(indices.size)
    for k, j in enumerate(indices):
        original = flat[j]
        flat[j] = original + eps
        plus = J()
        flat[j] = original - eps
        minus = J()
        flat[j] = original
        numeric[k] = (plus - minus) / (2.0 * eps)
    exact = analytic.reshape(-1)[indices]
    errors = np.abs(exact - numeric)
    scale = max(np.linalg.norm(exact), np.linalg.norm(numeric))
    relative = float(np.linalg.norm(exact - numeric) / scale) if scale > 0 else 0.0
    worst = int(indices[np.argmax(errors)]) if errors.size else 0
    return GradientComparison(
        name=name,
        shape=values.shape,
        n_checked=int(indices.size),
        max_abs_error=float(errors.max(initial=0.0)),
        relative_error=relative,
        worst_index=tuple(int(i) for i in np.unravel_index(worst, values.shape)),
        passed=bool(relative <= tolerance[0] or errors.max(initial=0.0) <= tolerance[1]),
        analytic=exact,
        numeric=numeric,
    )
