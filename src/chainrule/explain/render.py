"""Text and Markdown renderings of an :class:`~chainrule.explain.terms.Explanation`.

(JSON is :meth:`Explanation.to_json`: the terms' own ``to_dict``.)
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .terms import Explanation, Term

#: Equations longer than this overflow their column instead of widening it for every line.
MAX_EQUATION_WIDTH = 44

#: Width at which the text rendering wraps header and footer paragraphs.
PARAGRAPH_WIDTH = 100


def _stats(term: Term) -> str:
    if term.kind == "loss":
        return f"value {term.max:.6g}"
    return f"norm {term.norm:9.2e}  min {term.min:10.3e}  max {term.max:10.3e}"


def _remark(term: Term) -> str:
    return "" if term.check is None else term.check.describe()


def render_text(explanation: Explanation) -> str:
    """Aligned plain text: one line per term, grouped under each layer's heading."""
    terms = explanation.terms
    eq_width = min(max((len(t.equation) for t in terms), default=0), MAX_EQUATION_WIDTH)
    dims_width = max((len(t.dims_text) for t in terms), default=0)
    lines = _paragraphs(explanation.header)
    for group in explanation.groups:
        lines += ["", group.title]
        for term in group.terms:
            cells = [term.equation.ljust(eq_width), term.dims_text.ljust(dims_width), _stats(term)]
            remark = _remark(term)
            if remark:
                cells.append(remark)
            lines.append("  " + "  ".join(cells).rstrip())
            if term.note:
                lines.append("      ↳ " + term.note)
    if explanation.footer:
        lines += ["", *_paragraphs(explanation.footer)]
    return "\n".join(lines)


def _paragraphs(texts: tuple[str, ...]) -> list[str]:
    """Wrap each paragraph; indented lines (the layer list) are kept as they are."""
    lines: list[str] = []
    for text in texts:
        lines += [text] if text.startswith(" ") else textwrap.wrap(text, PARAGRAPH_WIDTH)
    return lines


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(explanation: Explanation) -> str:
    """A Markdown document: the header as a list, one table per group."""
    lines = ["## Backpropagation, explained", ""]
    for line in explanation.header:
        indented = line.startswith(" ")
        lines.append(f"{'  ' if indented else ''}- {line.strip()}")
    header = "| term | formula | shape | norm | min | max | check / note |"
    rule = "|---|---|---|---:|---:|---:|---|"
    for group in explanation.groups:
        lines += ["", f"### {_cell(group.title)}", "", header, rule]
        for t in group.terms:
            remark = "; ".join(part for part in (_remark(t), t.note) if part)
            formula = f"`{_cell(t.formula)}`" if t.formula else ""
            lines.append(
                f"| `{_cell(t.name)}` | {formula} | {t.dims_text} | {t.norm:.3e} | "
                f"{t.min:.3e} | {t.max:.3e} | {_cell(remark)} |"
            )
    if explanation.footer:
        lines += [""] + [_cell(line) for line in explanation.footer]
    return "\n".join(lines) + "\n"
