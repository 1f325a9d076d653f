"""Backpropagation, explained: every chain-rule term of one pass, its shape and its value.

>>> from chainrule.explain import explain, two_circles_example
>>> print(explain(*two_circles_example(8)))            # doctest: +SKIP

:func:`explain` runs one forward and backward pass of a network on a small batch (on a float64
copy, with the same :class:`~chainrule.Objective` training uses) and lists, layer by layer from
the loss back to the input, each factor of the chain rule with its formula, its shape with
named dimensions and its values, then confirms every gradient with finite differences. The
layer-type and loss tables are in :mod:`chainrule.explain.rules`, the naming scheme in
:mod:`chainrule.explain.naming`; derivations in ``docs/backprop.md``.
"""

from .example import Example, two_circles_example
from .explainer import DEFAULT_MAX_CHECKS, explain
from .naming import LayerNames, gradient_name, name_layers
from .rules import GENERIC_RULE, LAYER_RULES, LOSS_RULES, LayerRule, LossRule
from .terms import Explanation, FiniteDifferenceCheck, Term, TermGroup

__all__ = [
    "DEFAULT_MAX_CHECKS",
    "GENERIC_RULE",
    "LAYER_RULES",
    "LOSS_RULES",
    "Example",
    "Explanation",
    "FiniteDifferenceCheck",
    "LayerNames",
    "LayerRule",
    "LossRule",
    "Term",
    "TermGroup",
    "explain",
    "gradient_name",
    "name_layers",
    "two_circles_example",
]
