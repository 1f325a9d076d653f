"""``PassRule``: gradcheck's verdicts are enum members that are also their strings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.explain import explain
from chainrule.gradcheck import PASSED_ON, PassRule, gradcheck
from chainrule.layers import Dense, Sequential, Tanh
from chainrule.layers.builders import mlp


def _problem():
    """A small tanh network, inputs and regression targets: ``(net, X (5, 2), y (5,))``."""
    net = mlp([2, 3, 1], activation="tanh", dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    return net, X, np.random.default_rng(1).normal(size=5)


def test_the_rules_are_the_documented_strings_in_the_order_tried():
    assert [str(rule) for rule in PassRule] == ["relative error", "atol",
                                                "finite-difference error"]
    assert set(PASSED_ON) == set(PassRule)


def test_a_verdict_is_a_member_equal_to_its_string():
    net, X, y = _problem()
    report = gradcheck(net, "mse", X, y)
    for comparison in report:
        assert comparison.passed_on is PassRule.RELATIVE_ERROR
        assert comparison.passed_on == "relative error"
    names = tuple(c.name for c in report)
    assert report.arrays_passed_on(PassRule.RELATIVE_ERROR) == names
    assert report.arrays_passed_on("relative error") == names
    assert report.arrays_passed_on(PassRule.ATOL) == ()


def test_an_unknown_rule_is_refused_with_the_choices_as_strings():
    net, X, y = _problem()
    with pytest.raises(ValueError, match=r"rule must be one of \['relative error', 'atol', "
                                         r"'finite-difference error'\], got 'rtol'"):
        gradcheck(net, "mse", X, y).arrays_passed_on("rtol")


def test_an_explanation_writes_the_rule_as_a_plain_string_in_json():
    net, X, y = _problem()
    data = json.loads(explain(net, X, y, "mse").to_json())
    rules = [term["check"]["passed_on"] for group in data["groups"] for term in group["terms"]
             if term.get("check")]
    assert rules and set(rules) == {"relative error"}


def test_a_network_without_parameters_has_nothing_to_check_unless_the_input_is_checked():
    net = Sequential([Tanh()])
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match=r"^gradcheck has nothing to compare: the network has no "
                                         r"parameters; pass check_input=True"):
        gradcheck(net, "mse", X, y)
    report = gradcheck(net, "mse", X, y, check_input=True)
    assert report.passed and [c.name for c in report] == ["X"] and report.n_compared == 8


class _SlightlyWrongDense(Dense):
    """A Dense layer whose ∂L/∂W is off by ``factor`` (relative): a subtle backward bug."""

    factor = 1.0

    def backward(self, dY, *, input_grad=True):
        dX = super().backward(dY, input_grad=input_grad)
        self.grads["W"] *= self.factor
        return dX


@pytest.mark.parametrize("error, passes", [(5e-6, False), (2e-6, False), (1e-8, True)])
def test_a_backward_off_by_a_few_rtol_fails_and_one_well_within_passes(error, passes):
    """Rule 1 (relative error ≤ rtol = 1e-6) at its edge: float64 central differences on this
    smooth network are accurate to about 1e-9, so a backward wrong by 2e-6 or 5e-6 (relative)
    must fail, and one wrong by 1e-8 passes."""
    layer = _SlightlyWrongDense(3, 4)
    layer.factor = 1.0 + error
    net = Sequential([layer, Tanh(), Dense(4, 1)], dtype=np.float64, seed=0)
    rng = np.random.default_rng(0)
    report = gradcheck(net, "mse", rng.normal(size=(20, 3)), rng.normal(size=(20, 1)))
    wrong = next(c for c in report if c.name == "0.W")
    assert wrong.relative_error == pytest.approx(error, rel=0.05)
    assert wrong.passed is passes
    assert report.passed is passes


def test_the_report_reprs_in_one_line_and_displays_as_its_table():
    net, X, y = _problem()
    report = gradcheck(net, "mse", X, y)
    shown = repr(report)
    assert shown.startswith("<GradcheckReport of 4 arrays; gradcheck passed: 4/4 within relative "
                            "error 1e-06 (central differences, eps=1e-06, float64, loss=")
    assert "\n" not in shown and len(shown) < 200
    markdown = report._repr_markdown_()  # what Jupyter shows, as for an Explanation
    assert markdown == report.to_markdown()
    lines = markdown.splitlines()
    assert lines[0] == ("| parameter | shape | checked | max abs error | relative error | "
                        "worst index | verdict |")
    first = report.comparisons[0]
    assert lines[2] == (f"| `0.W` | (2, 3) | 6 | {first.max_abs_error:.2e} | "
                        f"{first.relative_error:.2e} | {first.worst_index} | ok |")
    assert lines[6] == "" and lines[7].startswith("gradcheck passed: 4/4 within relative error")
    assert str(report) == report.to_text() and str(report).startswith("parameter  shape")

    class Printer:  # IPython's pretty printer (the terminal's Out[]), as far as used
        def __init__(self):
            self.shown = []

        def text(self, text):
            self.shown.append(text)

    printer = Printer()
    report._repr_pretty_(printer, cycle=False)
    assert printer.shown == [str(report)]
