"""gradcheck's norms are computed scaled: huge gradients give a finite, right relative error.

``np.linalg.norm`` squares the entries, so one above about 1.3e154 made a norm inf and the
relative error inf / inf = nan ("FAIL ... nan"), with an overflow warning. ``frobenius_norm``
divides by the largest magnitude first.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.gradcheck import frobenius_norm, gradcheck, relative_error
from chainrule.layers.builders import mlp


@pytest.mark.parametrize("scale", [1.0, 1e300, 1e-300, 1e-320])
def test_frobenius_norm_matches_the_definition_at_any_scale(scale):
    values = np.random.default_rng(0).normal(size=(4, 3))
    expected = float(np.linalg.norm(values)) * scale
    assert frobenius_norm(values * scale) == pytest.approx(expected, rel=1e-6 if scale < 1e-300
                                                           else 1e-14)


def test_frobenius_norm_edge_cases():
    assert frobenius_norm([3e300, 4e300]) == pytest.approx(5e300, rel=1e-15)
    assert frobenius_norm([3, 4]) == 5.0  # integers are accepted
    assert frobenius_norm(np.zeros((0, 3))) == 0.0
    assert frobenius_norm(np.zeros((2, 3))) == 0.0
    assert math.copysign(1.0, frobenius_norm([-0.0, 0.0])) == 1.0  # +0.0, never -0.0
    assert math.copysign(1.0, frobenius_norm([[-0.0]])) == 1.0
    assert frobenius_norm([1.0, -np.inf]) == math.inf
    assert math.isnan(frobenius_norm([1.0, np.nan, np.inf]))
    assert frobenius_norm(np.full(4, 1e308)) == math.inf  # the norm itself is beyond float64
    assert frobenius_norm(np.float32(-2.5)) == 2.5


@pytest.mark.parametrize("bad", ["abc", [1 + 2j], [[1.0], [1.0, 2.0]]])
def test_frobenius_norm_refuses_what_is_not_real_numbers(bad):
    with pytest.raises(TypeError, match="^array must "):
        frobenius_norm(bad)


def test_relative_error_is_scale_free():
    a = np.array([1.0, -2.0, 3.0])
    n = a + np.array([1e-3, 0.0, -2e-3])
    expected = np.linalg.norm(a - n) / max(np.linalg.norm(a), np.linalg.norm(n))
    for scale in (1.0, 1e300, 1e-300):
        assert relative_error(a * scale, n * scale) == pytest.approx(expected, rel=1e-12)
    assert relative_error(np.array([1e308]), np.array([-1e308])) == pytest.approx(2.0)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_gradcheck_with_huge_gradients_reports_finite_relative_errors():
    """The review's case: X of order 1e300 into a sigmoid network with BCE. The loss (1.8e298)
    is finite, so gradcheck runs; W's gradients are of order 1e298."""
    net = mlp([2, 3, 1], output="sigmoid", seed=0)  # Dense → ReLU → Dense → Sigmoid
    X = np.random.default_rng(0).normal(size=(4, 2)) * 1e300
    report = gradcheck(net, "binary_cross_entropy", X, np.array([0, 1, 1, 0]), check_input=True)
    text = str(report)
    assert "nan" not in text
    for comparison in report:
        assert 0.0 <= comparison.relative_error <= 2.0
    big = report["0.W"]
    assert np.abs(big.analytic).max() > 1e154  # squares overflow
    assert big.relative_error < 1e-6 and big.passed_on == "relative error"
    assert report["2.W"].passed_on == "relative error"
