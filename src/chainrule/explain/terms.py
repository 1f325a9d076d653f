"""What an explanation holds: chain-rule terms, grouped by layer, with their values.

A :class:`Term` is one factor or product of the chain rule (``dL/dW3 = A2ᵀ δ3``) with its
shape in named dimensions, the shape of the actual array, a summary of its values and, for
gradients that finite differences can confirm, the result of that check. An
:class:`Explanation` is the whole pass: a forward group, a loss group, then one group per
layer from the output back to the input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_choice
from ..gradcheck import PassRule, frobenius_norm
from .render import render_markdown, render_text

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True)
class FiniteDifferenceCheck:
    """The verdict of :func:`chainrule.gradcheck` for one gradient.

    Attributes
    ----------
    relative_error : float
        ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂) over the compared entries.
    max_abs_error : float
    n_checked : int
        Entries probed (all unless ``max_checks`` limited them).
    rtol : float
    n_one_sided, n_kinks : int
        Entries next to a kink at 0 compared with one-sided differences, and entries left out
        because a kink lies on both sides (see :mod:`chainrule.gradcheck`).
    passed_on : PassRule or None
        Why it passed (gradcheck's ``passed_on``, for the very array explained):
        ``relative_error <= rtol``; or every entry's difference lies within that entry's own
        finite-difference error estimate (gradients no larger than that error, so the
        relative error cannot decide); or every entry within ``atol``. None when it failed;
        ``passed`` says whether it passed.
    atol : float
        The absolute allowance gradcheck was given (0 by default).
    scale : float
        The gradients' order of magnitude: the largest |entry| of the analytic and numeric
        gradients over the compared entries (0.0 when none was compared).
    unresolved : bool
        The finite differences' error is as large as the gradient (gradcheck's
        ``unresolved``): neither passed nor failed.
    """

    relative_error: float
    max_abs_error: float
    n_checked: int
    rtol: float
    n_one_sided: int
    n_kinks: int
    passed_on: PassRule | None
    atol: float
    scale: float
    unresolved: bool = False

    @property
    def passed(self) -> bool:
        """Whether gradcheck passed the array explained (``passed_on`` is not None)."""
        return self.passed_on is not None

    @property
    def comparable(self) -> bool:
        """False when every probed entry was left out at a kink (nothing was compared)."""
        return not (self.n_checked and self.n_kinks == self.n_checked)

    @property
    def category(self) -> str:
        """``"relative error"``, ``"finite-difference error"``, ``"atol"`` (how it matched),
        ``"not comparable"`` (every entry at a kink), ``"unresolved"`` or ``"failed"``."""
        if not self.comparable:
            return "not comparable"
        if self.unresolved:
            return "unresolved"
        if not self.passed:
            return "failed"
        return self.passed_on

    def describe(self) -> str:
        """``"matches finite differences (relative error 2.1e-10)"``; or how else it matched
        (within the finite-difference error, within atol), that it does not, or that it could
        not be compared; with what happened at kinks."""
        category = self.category
        if category == "not comparable":
            return ("not comparable with finite differences: every entry has a kink at 0 on "
                    "both sides")
        notes = [f"{self.n_one_sided} one-sided at a kink"] if self.n_one_sided else []
        if self.n_kinks:
            notes.append(f"{self.n_kinks} left out at a kink")
        extra = "".join(f"; {note}" for note in notes)
        error = f"relative error {self.relative_error:.1e}"
        order = f"gradients of order {self.scale:.0e}"
        if category == PassRule.RELATIVE_ERROR:
            return f"matches finite differences ({error}{extra})"
        if category == PassRule.FD_ERROR:
            return f"matches within the finite-difference error ({error}, {order}{extra})"
        if category == PassRule.ATOL:
            return f"matches within atol = {self.atol:g} ({error}, {order}{extra})"
        if category == "unresolved":
            return ("unresolved: the finite differences' own error is as large as the gradients "
                    f"({error}, {order}{extra})")
        return f"DOES NOT MATCH finite differences ({error}{extra})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "relative_error": self.relative_error,
            "max_abs_error": self.max_abs_error,
            "n_checked": self.n_checked,
            "passed": self.passed,
            "passed_on": self.passed_on,
            "rtol": self.rtol,
            "atol": self.atol,
            "scale": self.scale,
            "n_one_sided": self.n_one_sided,
            "n_kinks": self.n_kinks,
            "unresolved": self.unresolved,
        }


@dataclass(frozen=True)
class Term:
    """One term of the chain rule.

    Attributes
    ----------
    name : str
        ``"dL/dW3"``, ``"δ3"``, ``"dA3/dZ3"``, ``"Z1"``, ``"L"``.
    formula : str
        The term in matrix form, in the names of :mod:`chainrule.explain.naming`.
    kind : str
        ``"forward"`` (a layer's output), ``"loss"`` (the scalar loss), ``"upstream"`` (∂L/∂
        an array), ``"local"`` (a layer's own derivative), ``"parameter"`` (∂L/∂ a
        parameter) or ``"reference"`` (the chained path a fused pair replaces; not used by
        training).
    dims : tuple of int or str
        The shape with named dimensions: ``("n_samples", 4)``, ``(3, 1)``, ``()``.
    shape : tuple of int
        The actual array's shape.
    norm, min, max : float
        ‖value‖₂ (Frobenius, computed scaled: finite for any finite array, see
        :func:`chainrule.gradcheck.measures.frobenius_norm`) and the extreme entries.
    source : ndarray or callable
        What :attr:`value` returns: the array (a private copy), or, for a term made by
        :meth:`summarised`, the function that computes it.
    layer : int or None
        Index of the layer in the Sequential (None for the loss).
    parameter : str or None
        The library's parameter name (``"4.W"``) for parameter gradients; ``"X"`` for ∂L/∂A0.
    check : FiniteDifferenceCheck or None
        The finite-difference verdict, for parameter gradients and ∂L/∂A0 when checked.
    note : str
        A remark (what a fused term replaces, an option's value).
    """

    name: str
    formula: str
    kind: str
    dims: tuple[int | str, ...]
    shape: tuple[int, ...]
    norm: float
    min: float
    max: float
    source: np.ndarray | Callable[[], np.ndarray] = field(repr=False, compare=False)
    layer: int | None = None
    parameter: str | None = None
    check: FiniteDifferenceCheck | None = None
    note: str = ""

    @classmethod
    def of(
        cls,
        name: str,
        formula: str,
        kind: str,
        value: Any,
        *,
        batch: bool,
        **extra: Any,
    ) -> Term:
        """A term whose dims and statistics are read off ``value``.

        ``batch=True`` marks the first axis as the sample axis (named ``n_samples``).
        """
        array = np.array(value, dtype=np.float64)  # a private copy
        if array.size:
            norm, low, high = frobenius_norm(array), float(array.min()), float(array.max())
        else:
            norm = low = high = 0.0
        shape = tuple(array.shape)
        return cls(name, formula, kind, _dims(shape, batch), shape, norm, low, high, array,
                   **extra)

    @classmethod
    def summarised(
        cls,
        name: str,
        formula: str,
        kind: str,
        shape: tuple[int, ...],
        summary: tuple[float, float, float],
        compute: Callable[[], np.ndarray],
        *,
        batch: bool,
        **extra: Any,
    ) -> Term:
        """A term of an array too large to keep (a softmax Jacobian, (n_samples, K, K)): its
        ``summary`` (norm, min, max) is given, and :attr:`value` calls ``compute``, which
        returns an array of ``shape``, each time it is read."""
        shape = tuple(int(size) for size in shape)
        norm, low, high = summary
        return cls(name, formula, kind, _dims(shape, batch), shape, norm, low, high, compute,
                   **extra)

    @property
    def value(self) -> np.ndarray:
        """The array itself: a private copy, or for a term made by :meth:`summarised` a new
        array computed on each access."""
        return self.source() if callable(self.source) else self.source

    @property
    def dims_text(self) -> str:
        """``"(n_samples, 4)"``, ``"(1,)"``, ``"()"``."""
        inner = ", ".join(str(d) for d in self.dims)
        return f"({inner},)" if len(self.dims) == 1 else f"({inner})"

    @property
    def equation(self) -> str:
        """``"dL/dW3 = A2ᵀ δ3"``."""
        return f"{self.name} = {self.formula}" if self.formula else self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data (the value array itself is left out)."""
        return {
            "name": self.name,
            "formula": self.formula,
            "kind": self.kind,
            "dims": list(self.dims),
            "shape": list(self.shape),
            "norm": self.norm,
            "min": self.min,
            "max": self.max,
            "layer": self.layer,
            "parameter": self.parameter,
            "check": None if self.check is None else self.check.to_dict(),
            "note": self.note,
        }


def _dims(shape: tuple[int, ...], batch: bool) -> tuple[int | str, ...]:
    """``shape`` with its first axis named ``n_samples`` when ``batch``."""
    return ("n_samples", *shape[1:]) if batch and shape else shape


@dataclass(frozen=True)
class TermGroup:
    """Consecutive terms under one heading: the forward pass, the loss, or one layer."""

    title: str
    terms: tuple[Term, ...]
    layer: int | None = None

    def to_dict(self) -> dict[str, Any]:
        terms = [term.to_dict() for term in self.terms]
        return {"title": self.title, "layer": self.layer, "terms": terms}


@dataclass(frozen=True)
class Explanation:
    """One forward and backward pass, written out term by term.

    ``print(explanation)`` renders it in :attr:`format`; :meth:`to_text`, :meth:`to_markdown`
    and :meth:`to_json` render it in a given one. ``explanation["dL/dW3"]`` looks a term up.

    Attributes
    ----------
    groups : tuple of TermGroup
        The forward pass, the loss, then each layer from the output back to the input.
    header : tuple of str
        Paragraphs describing the network, the loss, the batch and the notation (renderers
        wrap them); lines starting with spaces (the list of layers) are kept as they are.
    mapping : dict[str, str]
        Library parameter names → tutorial names (``{"0.W": "W1", ...}``).
    loss : float
        J, the value training minimises on this batch (penalties included).
    n_samples : int
    fused : bool
        Whether the output activation and the loss were fused (see :class:`chainrule.Objective`).
    checked : bool
        Whether gradients were confirmed by finite differences.
    format : {"text", "markdown", "json"}
        What ``str()`` renders.
    footer : tuple of str
        Closing paragraphs (the finite-difference summary).
    """

    groups: tuple[TermGroup, ...]
    header: tuple[str, ...]
    mapping: dict[str, str]
    loss: float
    n_samples: int
    fused: bool
    checked: bool
    format: str = "text"
    footer: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_choice(self.format, "format", FORMATS)

    # ----------------------------------------------------------------- lookup
    @property
    def terms(self) -> tuple[Term, ...]:
        """Every term, in the order printed."""
        return tuple(term for group in self.groups for term in group.terms)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __getitem__(self, name: str) -> Term:
        """The first term called ``name`` that training uses (a reference term otherwise)."""
        matches = [term for term in self.terms if term.name == name]
        if not matches:
            raise KeyError(f"no term named {name!r}; have {sorted({t.name for t in self.terms})}")
        used = [term for term in matches if term.kind != "reference"]
        return (used or matches)[0]

    @property
    def gradients(self) -> dict[str, Term]:
        """The parameter-gradient terms by the library's parameter name (``"0.W"``)."""
        return {t.parameter: t for t in self.terms if t.kind == "parameter" and t.parameter}

    @property
    def passed(self) -> bool:
        """Every checked gradient passed :func:`chainrule.gradcheck` (on its relative error,
        within the finite-difference error or within ``atol``: each term's line says which)
        and at least one could be compared; True when nothing was checked. As in gradcheck, a
        gradient whose every entry sits at a kink is not failed, but a check in which nothing
        could be compared is not a pass, nor is one with an unresolved gradient."""
        checks = [t.check for t in self.terms if t.check is not None]
        if not checks:
            return True
        return all(c.passed for c in checks) and any(c.comparable for c in checks)

    # ----------------------------------------------------------------- rendering
    def to_dict(self) -> dict[str, Any]:
        """JSON-able data: header, mapping, loss, groups of terms (without the arrays)."""
        return {
            "header": list(self.header),
            "mapping": dict(self.mapping),
            "loss": self.loss,
            "n_samples": self.n_samples,
            "fused": self.fused,
            "checked": self.checked,
            "passed": self.passed,
            "groups": [group.to_dict() for group in self.groups],
            "footer": list(self.footer),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """Aligned plain text, one line per term."""
        return render_text(self)

    def to_markdown(self) -> str:
        """A Markdown document with one table per layer."""
        return render_markdown(self)

    def render(self, format: str | None = None) -> str:
        """The explanation in ``format`` (default: :attr:`format`)."""
        format = check_choice(self.format if format is None else format, "format", FORMATS)
        return {"text": self.to_text, "markdown": self.to_markdown, "json": self.to_json}[format]()

    def __str__(self) -> str:
        return self.render()

    def _repr_markdown_(self) -> str:  # Jupyter
        return self.to_markdown()
