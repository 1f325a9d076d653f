"""What gradcheck found: one :class:`GradientComparison` per array, gathered in a
:class:`GradcheckReport` that prints the table and the verdict."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

NOT_COMPARABLE = "kink: not comparable"

#: The verdict printed for an array that the finite differences cannot resolve.
UNRESOLVED = "unresolved (the finite-difference error is as large as the gradient)"



class PassRule(StrEnum):
    """The rules that can pass an array, in the order they are tried (package docstring, "The
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
        one-sided difference instead (see the package docstring); counted from ``one_sided``.
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
        Which rule passed the array (package docstring, "The verdict"), the first that holds:
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
    unresolved : bool
        Every compared entry is within its estimate, but the estimates are as large as the
        gradient itself (``‖fd_error‖₂ >= max(‖analytic‖₂, ‖numeric‖₂)``): these differences
        could not tell this backward from one off by its own size (twice it, or zero), so rule
        3 does not pass the array; it is neither passed nor failed (``passed_on`` is None),
        and the report is "inconclusive". A loss so large that its rounding, divided by
        ``eps``, swamps the gradients does this.
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
    unresolved: bool = False

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
    def failed(self) -> bool:
        """Whether the array failed: compared, and neither passed nor ``unresolved``."""
        return self.has_verdict and not self.passed and not self.unresolved

    @property
    def has_verdict(self) -> bool:
        """Whether ``passed_on`` says something: an entry was compared, or none was probed
        (an array whose every probed entry was left out at a kink has no verdict)."""
        return self.n_compared > 0 or not self.n_checked

    def verdict(self) -> str:
        """``"ok"``, ``"ok (within the finite-difference error)"``, ``"ok (within atol)"``,
        ``"FAIL"`` (see ``passed_on``) or ``"unresolved"`` (see ``unresolved``), then what
        happened at kinks: ``"ok, 3 one-sided"``, ``"FAIL, kink: not comparable (1 of 8)"``;
        ``"kink: not comparable (3 of 3)"`` alone when no entry was compared."""
        notes = [f"{self.n_one_sided} one-sided"] if self.n_one_sided else []
        if self.n_kinks:
            notes.append(f"{NOT_COMPARABLE} ({self.n_kinks} of {self.n_checked})")
        if self.has_verdict:
            notes.insert(0, PASSED_ON[self.passed_on] if self.passed_on
                         else UNRESOLVED if self.unresolved else "FAIL")
        return ", ".join(notes)


@dataclass(frozen=True, repr=False)
class GradcheckReport:
    """Result of :func:`gradcheck`: one :class:`GradientComparison` per parameter array.

    ``report.passed`` is the overall verdict; ``print(report)`` shows the table
    (:meth:`to_text`), as does a notebook, in Markdown (:meth:`to_markdown`), when the report
    is a cell's value; its ``repr`` is the one-line summary. ``report["0.W"]`` looks one
    comparison up by name. The summary line says how many arrays passed on each rule (package
    docstring, "The verdict"), and a pass that needed the finite-difference error or ``atol``
    for some array is not reported as a plain pass.
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
        """No array failed, but the check cannot pass them all: every probed entry was left
        out at a kink (nothing was compared), or an array is ``unresolved``."""
        if any(c.failed for c in self.comparisons):
            return False
        return (self.n_kinks > 0 and self.n_compared == 0) or any(
            c.unresolved for c in self.comparisons)

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

    # ----------------------------------------------------------------- rendering
    _HEADER = ("parameter", "shape", "checked", "max abs error", "relative error",
               "worst index", "verdict")

    def _rows(self) -> list[tuple[str, ...]]:
        """One row of table cells per array, in :attr:`_HEADER`'s order."""
        return [
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

    def _notes(self) -> list[str]:
        """The summary line, then the notes that apply (caveat, unresolved, kinks)."""
        notes = [self._summary()]
        if self.arrays_passed_on(PassRule.FD_ERROR) or self.arrays_passed_on(PassRule.ATOL):
            notes.append(self._caveat_note())
        if self._unresolved():
            notes.append(self._unresolved_note())
        if self.n_one_sided or self.n_kinks:
            notes.append(self._kink_note())
        return notes

    def to_text(self) -> str:
        """The table, aligned, then the summary line and the notes."""
        rows = [(*self._HEADER[:-1], ""), *self._rows()]  # the verdicts need no title
        widths = [max(len(row[i]) for row in rows) for i in range(len(self._HEADER))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines + self._notes())

    def to_markdown(self) -> str:
        """The table in Markdown, then the summary line and the notes as paragraphs."""
        lines = ["| " + " | ".join(self._HEADER) + " |", "|---|---|---:|---:|---:|---|---|"]
        lines += [f"| `{name}` | " + " | ".join(cells) + " |" for name, *cells in self._rows()]
        return "\n".join(lines) + "\n\n" + "\n\n".join(self._notes()) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<GradcheckReport of {len(self.comparisons)} arrays; {self._summary()}>"

    def _repr_markdown_(self) -> str:  # Jupyter, as an Explanation
        return self.to_markdown()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's terminal: the table
        printer.text(self.to_text())

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
        if unresolved := self._unresolved():
            parts.append(f"{len(unresolved)}/{total} unresolved")
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
            "error estimate (rounding + truncation, see help(chainrule.gradcheck))"
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
            "The finite differences' own error is close to the gradients here, so the check "
            "cannot tell a right backward from one whose error is that small; check again where "
            "it is smaller against them: where the gradients are larger (targets further from "
            "the network's outputs, another batch), or, when the loss is large, with a smaller "
            "one (its rounding, divided by eps, is most of that error)."
        )
        return textwrap.fill("Caveat: " + " ".join(texts), width=100)

    def _unresolved(self) -> tuple[str, ...]:
        """Names of the arrays the finite differences could not resolve."""
        return tuple(c.name for c in self.comparisons if c.unresolved)

    def _unresolved_note(self) -> str:
        """Which arrays are unresolved, and why, wrapped to 100 columns."""
        names = self._unresolved()
        rounding = np.finfo(np.float64).eps * abs(self.loss) / self.eps
        text = (
            f"Unresolved: {', '.join(names)}: every entry is within its finite-difference error "
            "estimate, but the estimates are as large as the gradient itself, so these "
            "differences could not tell this backward from one off by its own size (twice it, "
            f"or zero); neither passed nor failed. At loss J = {self.loss:.3g} the rounding "
            f"alone is about u·|J|/eps = {rounding:.2g} per entry: check with a smaller loss "
            "(targets and inputs of order 1), or where the gradients are larger."
        )
        return textwrap.fill(text, width=100)

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

