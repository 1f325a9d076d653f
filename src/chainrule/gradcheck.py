"""Finite-difference gradient checking: is every hand-written backward right?

For each parameter entry θ_j the analytic gradient from backpropagation is compared with the
central difference ::

    ∂J/∂θ_j ≈ (J(θ + ε e_j) − J(θ − ε e_j)) / (2ε)

whose error is O(ε²) (against O(ε) for a one-sided difference). Everything runs in float64 on a
copy of the network, so the caller's network is never touched. Dropout masks are drawn once
and then frozen, so the network is a fixed function of its weights while it is probed.

The verdict
-----------
Each parameter array (and ``X``) gets one verdict, recorded in
:attr:`GradientComparison.passed_on` as a :class:`PassRule`; the first rule that holds decides:

1. ``"relative error"``: its norm-wise relative error ``‖a − n‖₂ / max(‖a‖₂, ‖n‖₂)`` (a the
   analytic, n the numeric gradient, over the compared entries) is at most ``rtol`` (1e-6 by
   default). Unlike an elementwise ratio it does not blow up on entries that are zero or tiny
   in both, and a single wrong entry still shows. A correct backward gives about 1e-9 or less
   with ε = 1e-6; a wrong one gives something of order 1. The report prints "ok".
2. ``"atol"``: every compared entry has ``|a − n| <= atol``. ``atol`` is 0 by default, so this
   rule only applies when the caller chooses an absolute allowance. The report prints
   "ok (within atol)".
3. ``"finite-difference error"``: every compared entry has ``|a − n|`` within that entry's own
   estimate of the error of its finite difference (below). This is the case where the
   gradients are so small that the difference's own error is comparable to them (near a
   perfect fit, say), and a relative error says nothing: ``a`` agrees with ``n`` as well as
   ``n`` can be trusted. The report prints "ok (within the finite-difference error)" and its
   summary counts such arrays, because a wrong backward whose error is below that estimate
   would pass too; check again where the gradients are larger.

Otherwise the array fails (``passed_on`` is None). The norms are computed scaled
(:func:`frobenius_norm`), so the relative error stays finite and right for gradients with
entries beyond 1e154, whose squares overflow.

The finite-difference error estimate of one entry is ``C_r · rounding + C_t · truncation``:

- rounding: each J carries a rounding error of about u·|J| (u = 2.2e-16, float64's machine
  epsilon), which the difference divides by the step: ``u · max(|J(θ)|, |J(θ ± ε e_j)|) / ε``
  for the central difference (coefficients ±1/(2ε));
- truncation, by Richardson extrapolation: with D(h) the central difference of step h,
  D(h) = J′ + h² J‴ / 6 + O(h⁴), so D(2ε) − D(ε) = 3 · ε² J‴ / 6 is three times the error of
  D(ε): ``|D(ε) − D(2ε)| / 3``. This needs J(θ ± 2ε e_j), two more evaluations, which are
  made only for an array that fails rules 1 and 2 (a passing check costs what it did), entry
  by entry from the largest |a − n| down, stopping at the first entry outside its estimate.

``C_r = ROUNDING_SAFETY = 100``: u·|J| is the rounding of J's last operation only; a loss
summed over n terms carries up to about log2(n)·u·|J| with pairwise summation, and the
forward pass adds its own, so 100 covers batches of thousands of entries. It only matters when
rounding dominates, i.e. when |J|/ε is large against the gradients. ``C_t =
TRUNCATION_SAFETY = 10``: the Richardson estimate is right to leading order, but the O(h⁴)
terms can make it low where J‴ is small or changes sign along e_j; 10 covers that, and it also
covers the rounding noise that the difference D(ε) − D(2ε) itself carries. Both factors keep a
wrong backward failing unless its error is within about ten times what the finite difference
can resolve at this ε: a Tanh backward that is twice too large, at a near-perfect fit where
the gradients are about 1e-10, is off by 2e-10 where the estimate is about 1e-11, and fails.

For an entry measured one-sided at a kink (below), the same estimate is made for the
one-sided formula D₁(h) = ±(4 J(θ ± h e_j) − J(θ ± 2h e_j) − 3 J(θ)) / (2h): its
coefficients sum to 8/(2h), so the rounding part is
``4 u · max(|J(θ)|, |J(θ ± ε e_j)|, |J(θ ± 2ε e_j)|) / ε``; D₁(h) = J′ − h² J‴ / 3 + O(h³), so
again D₁(2ε) − D₁(ε) is, to leading order, three times the error of D₁(ε), and the truncation
part is ``|D₁(ε) − D₁(2ε)| / 3``, which needs J(θ ± 4ε e_j). The estimate is only
sound where J is smooth over the points it uses: when a perturbation to ±2ε (central) or to
±4ε (one-sided) moves an input of a kinked layer across 0, the entry has no estimate (NaN in
:attr:`GradientComparison.fd_error`) and rule 3 does not pass its array. A kink gradcheck does
not detect (see below) within 2ε of θ_j inflates the estimate; it can then let a wrong backward
pass on rule 3, which is one more reason the report singles such arrays out.

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
kink at 0 should set it too). Other kinks are not detected: MAE at a residual of exactly 0, an
L1 penalty on a weight within ε of 0. They show as failures, or, where such a kink also
inflates the estimate of rule 3, as "ok (within the finite-difference error)".
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from ._random import as_generator
from ._validation import as_array, check_n_samples, check_number, largest_magnitude
from .errors import ShapeError
from .layers.dropout import Dropout
from .layers.sequential import Sequential
from .objective import Objective

#: Largest relative difference between J from Objective.value_and_gradients and J from the
#: probe at the same weights (the same operations: anything above rounding is a bug).
REPLAY_TOLERANCE = 1e-12

NOT_COMPARABLE = "kink: not comparable"

#: Safety factors of the finite-difference error estimate, C_r and C_t (module docstring).
ROUNDING_SAFETY = 100.0
TRUNCATION_SAFETY = 10.0


class PassRule(StrEnum):
    """The rules that can pass an array, in the order they are tried (module docstring, "The
    verdict"): the values of :attr:`GradientComparison.passed_on`. Each member is the string
    it names (``PassRule.ATOL == "atol"``)."""

    RELATIVE_ERROR = "relative error"
    ATOL = "atol"
    FD_ERROR = "finite-difference error"


#: What the report prints for an array passed on each rule.
PASSED_ON = {
    PassRule.RELATIVE_ERROR: "ok",
    PassRule.ATOL: "ok (within atol)",
    PassRule.FD_ERROR: "ok (within the finite-difference error)",
}

_UNIT_ROUNDOFF = float(np.finfo(np.float64).eps)


def frobenius_norm(array: Any) -> float:
    """The Frobenius (2-)norm sqrt(Σ xᵢ²) over every entry, without overflow or underflow.

    ``np.linalg.norm`` squares the entries, so an entry above about 1.3e154 makes it inf even
    though the norm itself fits in float64 (and warns "overflow"); entries below about 1e-162
    square to 0. This computes it scaled, ``m · sqrt(Σ (xᵢ / m)²)`` with m = max |xᵢ|: every
    scaled entry is at most 1 in magnitude, so nothing overflows, and the result is right to
    rounding. No numpy warning is emitted.

    Parameters
    ----------
    array : array_like of real numbers, any shape (e.g. (n_samples, n_features))

    Returns
    -------
    float
        0.0 for an empty or all-zero array; inf when an entry is ±inf, or when the norm itself
        exceeds the float64 range (about 1.8e308); nan when an entry is nan.

    Raises
    ------
    TypeError
        ``array`` is not numeric (strings, objects, complex numbers, ragged lists).

    Examples
    --------
    >>> frobenius_norm([3.0, 4.0])
    5.0
    >>> frobenius_norm([3e300, 4e300])  # np.linalg.norm gives inf
    5e+300
    """
    values = as_array(array, "array")
    if values.dtype.kind not in "biuf":
        raise TypeError(
            f"array must hold real numbers, got an array of dtype {values.dtype}"
        )
    values = values.astype(np.float64, copy=False)
    if values.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        largest = largest_magnitude(values)  # nan when an entry is nan
        if not math.isfinite(largest) or largest == 0.0:
            return largest
        scaled = values / largest
        return largest * math.sqrt(float(np.dot(scaled.reshape(-1), scaled.reshape(-1))))


def _relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``‖a − n‖₂ / max(‖a‖₂, ‖n‖₂)`` for two float arrays of the same shape (n_entries,).

    Both are divided by their largest magnitude first, so nothing overflows (a and n may hold
    entries up to the float64 maximum, and a − n may exceed it). 0.0 when both are all zero
    (or empty); nan when an entry is not finite.
    """
    with np.errstate(all="ignore"):
        scale = max(largest_magnitude(analytic), largest_magnitude(numeric))
        if scale == 0.0:
            return 0.0
        if not math.isfinite(scale):
            return math.nan
        a, n = analytic / scale, numeric / scale  # every entry in [−1, 1]
        return frobenius_norm(a - n) / max(frobenius_norm(a), frobenius_norm(n))


def central_difference_error(
    J_0: float, J_plus: float, J_minus: float, J_plus2: float, J_minus2: float, eps: float
) -> tuple[float, float]:
    """Estimates of the two errors of the central difference D(ε) of one entry.

    Parameters
    ----------
    J_0, J_plus, J_minus, J_plus2, J_minus2 : float
        J at θ, θ + ε e_j, θ − ε e_j, θ + 2ε e_j and θ − 2ε e_j.
    eps : float
        The step ε.

    Returns
    -------
    rounding, truncation : float
        ``u · max(|J_0|, |J_plus|, |J_minus|) / ε`` (u = float64's machine epsilon) and the
        Richardson estimate ``|D(ε) − D(2ε)| / 3`` of ε² J‴ / 6, where D(h) = (J(θ + h e_j) −
        J(θ − h e_j)) / (2h). gradcheck allows ``ROUNDING_SAFETY · rounding +
        TRUNCATION_SAFETY · truncation`` (module docstring).
    """
    rounding = _UNIT_ROUNDOFF * max(abs(J_0), abs(J_plus), abs(J_minus)) / eps
    d_1 = (J_plus - J_minus) / (2.0 * eps)
    d_2 = (J_plus2 - J_minus2) / (4.0 * eps)
    return rounding, abs(d_1 - d_2) / 3.0


def one_sided_difference_error(
    J_0: float, J_1: float, J_2: float, J_4: float, eps: float
) -> tuple[float, float]:
    """Estimates of the two errors of the second-order one-sided difference of one entry.

    With s = ±1 the side, D₁(h) = s (4 J(θ + s h e_j) − J(θ + 2 s h e_j) − 3 J(θ)) / (2h) =
    J′ − h² J‴ / 3 + O(h³), so D₁(2ε) − D₁(ε) is three times the error of D₁(ε).

    Parameters
    ----------
    J_0, J_1, J_2, J_4 : float
        J at θ, θ + s ε e_j, θ + 2 s ε e_j and θ + 4 s ε e_j.
    eps : float
        The step ε (the side does not change the magnitudes returned).

    Returns
    -------
    rounding, truncation : float
        ``4 u · max(|J_0|, |J_1|, |J_2|) / ε`` (the coefficients 3, 4, 1 over 2ε sum to 4/ε)
        and ``|D₁(ε) − D₁(2ε)| / 3``.
    """
    rounding = 4.0 * _UNIT_ROUNDOFF * max(abs(J_0), abs(J_1), abs(J_2)) / eps
    d_1 = (4.0 * J_1 - J_2 - 3.0 * J_0) / (2.0 * eps)
    d_2 = (4.0 * J_2 - J_4 - 3.0 * J_0) / (4.0 * eps)
    return rounding, abs(d_1 - d_2) / 3.0


def _allowance(rounding: float, truncation: float) -> float:
    """The error an entry may show and still pass on the finite-difference error."""
    return ROUNDING_SAFETY * rounding + TRUNCATION_SAFETY * truncation


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
        one-sided difference instead (see the module docstring); counted from ``one_sided``.
    n_kinks : int
        Entries left out as "kink: not comparable": both sides cross a kink; counted from
        ``kink``.
    max_abs_error : float
        Largest |analytic − numeric| over the compared entries, at ``worst_index``.
    relative_error : float
        ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂) over the compared entries, with
        the norms computed scaled (:func:`frobenius_norm`); 0.0 when none was compared.
    worst_index : tuple of int
        Index in the array of the largest error; ``()`` when no entry was compared.
    passed : bool
        ``passed_on is not None``.
    passed_on : PassRule or None
        Which rule passed the array (module docstring, "The verdict"), the first that holds:
        ``"relative error"`` (``relative_error <= rtol``; also when no entry was compared, as
        when every entry was left out at a kink: none failed), ``"atol"`` (every compared
        entry within ``atol``), ``"finite-difference error"`` (every compared entry within its
        own finite-difference error estimate, ``fd_error``); None when the array failed.
    kink_layers : tuple of str
        Labels of the kinked layers (``"ReLU #3"``) whose inputs the perturbations moved across
        0, for the entries measured one-sided or left out.
    analytic, numeric : ndarray of shape (n_checked,)
        Every probed entry's analytic value and finite difference (central, or one-sided where
        ``one_sided``; for a left-out entry the central one), for a closer look.
    one_sided, kink : ndarray of bool, shape (n_checked,)
        Which entries were measured one-sided, and which were left out.
    fd_error : ndarray of shape (n_checked,)
        The finite-difference error estimate ``C_r · rounding + C_t · truncation`` of each
        entry, where it was computed: only for an array that failed on the relative error and
        on ``atol``, from the largest error down to the first entry outside its estimate. NaN
        elsewhere, and where the estimate is not sound (the wider steps cross a kink).
    """

    name: str
    shape: tuple[int, ...]
    n_checked: int
    max_abs_error: float
    relative_error: float
    worst_index: tuple[int, ...]
    passed_on: PassRule | None
    kink_layers: tuple[str, ...]
    analytic: np.ndarray = field(repr=False)
    numeric: np.ndarray = field(repr=False)
    one_sided: np.ndarray = field(repr=False)
    kink: np.ndarray = field(repr=False)
    fd_error: np.ndarray = field(repr=False)

    @property
    def n_one_sided(self) -> int:
        """Entries measured with a one-sided difference at a kink."""
        return int(np.count_nonzero(self.one_sided))

    @property
    def n_kinks(self) -> int:
        """Entries left out as "kink: not comparable"."""
        return int(np.count_nonzero(self.kink))

    @property
    def n_compared(self) -> int:
        """Entries actually compared: ``n_checked − n_kinks``."""
        return self.n_checked - self.n_kinks

    @property
    def passed(self) -> bool:
        """Whether a rule passed the array: ``passed_on is not None``."""
        return self.passed_on is not None

    @property
    def has_verdict(self) -> bool:
        """Whether ``passed_on`` says something: an entry was compared, or none was probed
        (an array whose every probed entry was left out at a kink has no verdict)."""
        return self.n_compared > 0 or not self.n_checked

    def verdict(self) -> str:
        """``"ok"``, ``"ok (within the finite-difference error)"``, ``"ok (within atol)"`` or
        ``"FAIL"`` (see ``passed_on``), then what happened at kinks: ``"ok, 3 one-sided"``,
        ``"FAIL, kink: not comparable (1 of 8)"``; ``"kink: not comparable (3 of 3)"`` alone
        when no entry was compared."""
        notes = [f"{self.n_one_sided} one-sided"] if self.n_one_sided else []
        if self.n_kinks:
            notes.append(f"{NOT_COMPARABLE} ({self.n_kinks} of {self.n_checked})")
        if self.has_verdict:
            notes.insert(0, PASSED_ON[self.passed_on] if self.passed_on else "FAIL")
        return ", ".join(notes)


@dataclass(frozen=True)
class GradcheckReport:
    """Result of :func:`gradcheck`: one :class:`GradientComparison` per parameter array.

    ``report.passed`` is the overall verdict; ``print(report)`` shows the table;
    ``report["0.W"]`` looks one comparison up by name. The summary line says how many arrays
    passed on each rule (module docstring, "The verdict"), and a pass that needed the
    finite-difference error or ``atol`` for some array is not reported as a plain pass.
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

    def arrays_passed_on(self, rule: str) -> tuple[str, ...]:
        """Names of the arrays with an entry compared that passed on ``rule``, a
        :class:`PassRule` or its string: ``"relative error"``, ``"atol"`` or
        ``"finite-difference error"``."""
        if rule not in PASSED_ON:
            raise ValueError(f"rule must be one of {[str(r) for r in PassRule]}, got {rule!r}")
        return tuple(c.name for c in self._counted() if c.passed_on == rule)

    def __getitem__(self, name: str) -> GradientComparison:
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(f"no gradient named {name!r}; have {[c.name for c in self.comparisons]}")

    def __iter__(self) -> Iterator[GradientComparison]:
        return iter(self.comparisons)

    def _counted(self) -> list[GradientComparison]:
        """The arrays the summary counts: those with an entry compared, or with none at all
        (an array whose every entry was left out at a kink has no verdict)."""
        return [c for c in self.comparisons if c.has_verdict]

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
        lines.append(self._summary())
        if self.arrays_passed_on(PassRule.FD_ERROR) or self.arrays_passed_on(PassRule.ATOL):
            lines.append(self._caveat_note())
        if self.n_one_sided or self.n_kinks:
            lines.append(self._kink_note())
        return "\n".join(lines)

    def _summary(self) -> str:
        """``gradcheck passed: 5/5 within relative error 1e-06 (...)``, with the arrays that
        passed on another rule counted apart (and in the verdict)."""
        total = len(self._counted())
        on_fd = self.arrays_passed_on(PassRule.FD_ERROR)
        on_atol = self.arrays_passed_on(PassRule.ATOL)
        on_relative = self.arrays_passed_on(PassRule.RELATIVE_ERROR)
        parts = [f"{len(on_relative)}/{total} within relative error {self.rtol:g}"]
        if on_fd:
            parts.append(f"{len(on_fd)}/{total} only within the finite-difference error")
        if on_atol:
            parts.append(f"{len(on_atol)}/{total} only within atol {self.atol:g}")
        if self.inconclusive:
            verdict = "inconclusive"
        elif not self.passed:
            verdict = "FAILED"
        elif on_fd or on_atol:
            verdict = f"passed ({len(on_fd) + len(on_atol)} of {total} not on the relative error)"
        else:
            verdict = "passed"
        settings = f"central differences, eps={self.eps:g}"
        if self.atol:
            settings += f", atol={self.atol:g}"
        summary = (
            f"gradcheck {verdict}: {', '.join(parts)} "
            f"({settings}, float64, loss={self.loss:.6g})"
        )
        if self.n_one_sided or self.n_kinks:
            summary += (
                f"; at kinks: {self.n_one_sided} one-sided, {self.n_kinks} not comparable"
            )
        return summary

    def _caveat_note(self) -> str:
        """Which arrays passed on the finite-difference error or atol, and what that means."""
        texts = []
        on_fd = self.arrays_passed_on(PassRule.FD_ERROR)
        on_atol = self.arrays_passed_on(PassRule.ATOL)
        fd_reason = (
            "every entry's |analytic − numeric| is within that entry's own finite-difference "
            "error estimate (rounding + truncation, see chainrule.gradcheck)"
        )
        for names, reason in (
            (on_fd, fd_reason),
            (on_atol, f"every entry is within atol={self.atol:g} of its finite difference"),
        ):
            if names:
                worst = max(self[name].relative_error for name in names)
                texts.append(
                    f"{', '.join(names)} passed only because {reason}; their relative error "
                    f"is up to {worst:.1e}, above rtol={self.rtol:g}."
                )
        texts.append(
            "The gradients are too small here for the check to tell a right backward from one "
            "whose error is that small; check again where they are larger (targets further "
            "from the network's outputs, another batch)."
        )
        return textwrap.fill("Caveat: " + " ".join(texts), width=100)

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
    atol: float = 0.0,
    max_checks: int | None = None,
    check_input: bool = False,
    seed: Any = 0,
) -> GradcheckReport:
    """Compare backpropagation's gradients with central finite differences.

    Each array passes on the first of these rules that holds (module docstring, "The
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
    relative = _relative_error(a, n)
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
                minus2, crossed_minus2 = shifted(j, -2.0 * eps) if not crossed else (math.nan, set())
                parts = None if crossed or crossed_minus2 else central_difference_error(
                    probe.value, first, second, plus2, minus2, eps
                )
            if parts is None:  # a kink within the wider steps: no sound estimate
                return False
            fd_error[k] = _allowance(*parts)
            if not errors[rank] <= fd_error[k]:
                return False
        return True

    if relative <= settings.rtol:
        passed_on: PassRule | None = PassRule.RELATIVE_ERROR
    elif largest <= settings.atol and settings.atol > 0:
        passed_on = PassRule.ATOL
    elif within_fd_error():
        passed_on = PassRule.FD_ERROR
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
    )
