"""gradcheck's verdict when the gradients are tiny: the finite-difference error rule.

A fixed absolute tolerance (the old default ``atol=1e-8``) passed a backward that was twice too
large whenever every gradient was below 1e-8, as at a near-perfect fit, and printed "ok" beside
a relative error of 0.5. Now ``atol`` is 0 unless chosen, and an array that fails on the
relative error passes only when every entry is within its own finite-difference error estimate
(rounding + Richardson truncation), which the report says in words.
"""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

from _gradcheck_cases import TwiceTanh, WrongBiasDense, near_perfect_fit, network
from chainrule.gradcheck import (
    ROUNDING_SAFETY,
    TRUNCATION_SAFETY,
    central_difference_error,
    gradcheck,
    one_sided_difference_error,
)
from chainrule.gradcheck.check import _Probe
from chainrule.layers.activations import ReLU, Tanh
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential

U = np.finfo(np.float64).eps


def line(report, name):
    """The table row of array ``name``."""
    match = re.search(rf"^{re.escape(name)} .*$", str(report), flags=re.MULTILINE)
    assert match, str(report)
    return match.group(0)


def test_atol_defaults_to_zero():
    assert inspect.signature(gradcheck).parameters["atol"].default == 0.0


def test_a_wrong_tanh_backward_at_a_near_perfect_fit_fails():
    net, X, y = near_perfect_fit(TwiceTanh)
    report = gradcheck(net, "mse", X, y, check_input=True)
    assert not report.passed
    for name in ("0.W", "0.b", "X"):  # the arrays before the wrong Tanh
        comparison = report[name]
        assert comparison.relative_error == pytest.approx(0.5, abs=0.01)
        assert comparison.max_abs_error < 1e-8  # the old atol passed them all
        assert comparison.passed_on is None and not comparison.passed
        assert line(report, name).endswith("FAIL")
        # the worst entry is far outside its estimate, and only it needed one
        computed = np.isfinite(comparison.fd_error)
        assert computed.sum() == 1
        worst = np.abs(comparison.analytic - comparison.numeric)[computed][0]
        assert worst > 2.0 * comparison.fd_error[computed][0]
    for name in ("2.W", "2.b"):  # after it: right
        assert report[name].passed_on == "relative error"
        assert line(report, name).endswith(" ok")
    text = str(report)
    assert "gradcheck FAILED: 2/5 within relative error 1e-06 (" in text
    assert "Caveat" not in text


def test_the_correct_network_at_the_same_fit_passes_on_the_finite_difference_error():
    net, X, y = near_perfect_fit(Tanh)
    report = gradcheck(net, "mse", X, y, check_input=True)
    assert report.passed
    for name in ("0.W", "0.b", "X"):
        comparison = report[name]
        assert comparison.relative_error > 1e-6  # the relative error alone would fail them
        assert comparison.passed_on == "finite-difference error" and comparison.passed
        assert line(report, name).endswith(" ok (within the finite-difference error)")
        errors = np.abs(comparison.analytic - comparison.numeric)
        assert np.all(np.isfinite(comparison.fd_error))  # every entry needed its estimate
        assert np.all(errors <= comparison.fd_error)
    assert report["2.W"].passed_on == "relative error"
    assert report.arrays_passed_on("finite-difference error") == ("0.W", "0.b", "X")
    text = str(report)
    summary = next(s for s in text.splitlines() if s.startswith("gradcheck "))
    assert summary.startswith(
        "gradcheck passed (3 of 5 not on the relative error): 2/5 within relative error 1e-06, "
        "3/5 only within the finite-difference error ("
    ), summary
    assert "Caveat: 0.W, 0.b, X passed only because every entry's" in text


def test_an_explicit_atol_still_passes_and_says_so():
    net, X, y = near_perfect_fit(TwiceTanh)
    report = gradcheck(net, "mse", X, y, check_input=True, atol=1e-8)
    assert report.passed and report.atol == 1e-8
    for name in ("0.W", "0.b", "X"):
        assert report[name].passed_on == "atol"
        assert np.all(np.isnan(report[name].fd_error))  # atol decided: no extra evaluations
        assert line(report, name).endswith(" ok (within atol)")
    text = str(report)
    assert "gradcheck passed (3 of 5 not on the relative error): 2/5 within relative error " \
           "1e-06, 3/5 only within atol 1e-08 (central differences, eps=1e-06, atol=1e-08," in text
    assert "within atol=1e-08 of its finite difference" in text
    # an atol below the errors does not pass them
    assert not gradcheck(net, "mse", X, y, check_input=True, atol=1e-11).passed


def test_a_plain_pass_reads_as_before_and_costs_two_evaluations_per_entry(monkeypatch):
    calls = []
    original = _Probe.__call__
    monkeypatch.setattr(_Probe, "__call__", lambda self: calls.append(1) or original(self))
    net = Sequential([Dense(3, 4), Tanh(), Dense(4, 2)], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = np.random.default_rng(1).normal(size=(6, 2))
    report = gradcheck(net, "mse", X, y)
    assert report.passed and all(c.passed_on == "relative error" for c in report)
    assert len(calls) == 2 * net.parameters.size  # J(θ ± ε e_j) only
    assert all(np.all(np.isnan(c.fd_error)) for c in report)
    text = str(report)
    assert "gradcheck passed: 4/4 within relative error 1e-06 (central differences, eps=1e-06, " \
           "float64" in text
    assert "Caveat" not in text and "atol" not in text


def test_the_central_estimate_on_a_function_with_known_third_derivative():
    # J = sin θ: J′ = cos θ, J‴ = −cos θ. With ε = 1e-3 the truncation error ε² |J‴| / 6
    # (1.3e-7) dwarfs the rounding (u / ε = 2e-13).
    theta, eps = 0.7, 1e-3
    J = [math.sin(theta + k * eps) for k in (0, 1, -1, 2, -2)]
    rounding, truncation = central_difference_error(*J, eps)
    assert truncation == pytest.approx(eps**2 * math.cos(theta) / 6, rel=1e-4)
    assert rounding == pytest.approx(U * max(abs(v) for v in J[:3]) / eps)
    actual = abs((J[1] - J[2]) / (2 * eps) - math.cos(theta))
    assert actual == pytest.approx(truncation, rel=1e-4)  # the estimate is the error itself
    allowed = ROUNDING_SAFETY * rounding + TRUNCATION_SAFETY * truncation
    assert actual <= allowed < 11 * actual  # and the allowance is about 10 times it


def test_the_one_sided_estimate_on_a_function_with_known_third_derivative():
    # J = exp(θ) on the minus side: D₁(h) = J′ − h² J‴ / 3 + O(h³), J‴ = exp θ.
    theta, eps = 0.3, 1e-3
    J_0, J_1, J_2, J_4 = (math.exp(theta - k * eps) for k in (0, 1, 2, 4))
    rounding, truncation = one_sided_difference_error(J_0, J_1, J_2, J_4, eps)
    assert truncation == pytest.approx(eps**2 * math.exp(theta) / 3, rel=1e-2)
    assert rounding == pytest.approx(4 * U * max(J_0, J_1, J_2) / eps)
    one_sided = -(4 * J_1 - J_2 - 3 * J_0) / (2 * eps)
    assert abs(one_sided - math.exp(theta)) == pytest.approx(truncation, rel=1e-2)


def test_no_estimate_when_the_wider_steps_cross_a_kink():
    """Z of sample 0 is 1.5 ε: perturbing b by ±ε keeps it positive, −2ε crosses the ReLU
    kink, where the Richardson estimate would measure the jump, not the truncation."""
    net = network([WrongBiasDense(1, 1), ReLU(), Dense(1, 1)],
                  {"0.W": 1.0, "0.b": 0.0, "2.W": 2.0, "2.b": 0.5})
    X, y = np.array([[1.5e-6]]), np.array([[0.0]])
    report = gradcheck(net, "mse", X, y)
    bias = report["0.b"]
    assert bias.n_one_sided == 0 and bias.n_kinks == 0
    assert bias.passed_on is None and np.all(np.isnan(bias.fd_error))
    assert report["0.W"].passed_on == "relative error"


def test_a_wrong_gradient_measured_one_sided_at_a_near_perfect_fit_fails():
    """Dense → ReLU → Dense (zero bias, its ∂L/∂b doubled) → ReLU → Dense, targets 1e-9 from
    the outputs: the wrong bias sits at a ReLU kink, so it is measured one-sided, and its
    error of 1.4e-9 (below the old atol) is judged against the one-sided estimate."""
    net = network(
        [Dense(1, 1), ReLU(), WrongBiasDense(1, 1), ReLU(), Dense(1, 1)],
        {"0.W": 1.0, "0.b": 0.0, "2.W": 1.0, "2.b": 0.0, "4.W": 2.0, "4.b": 0.5},
    )
    X = np.array([[-1.0], [2.0]])  # sample 0 puts the input of ReLU #3 at exactly 0
    y = net.forward(X) + 1e-9 * np.array([[1.0], [-0.7]])
    report = gradcheck(net, "mse", X, y)
    bias = report["2.b"]
    assert bias.n_one_sided == 1 and bias.max_abs_error < 1e-8
    assert bias.passed_on is None and not report.passed
    assert np.isfinite(bias.fd_error[0]) and bias.max_abs_error > 1e3 * bias.fd_error[0]
    assert line(report, "2.b").endswith("FAIL, 1 one-sided")


def huge_loss(tanh_class, scale):
    """Dense(3, 4) → ``tanh_class`` → Dense(4, 1), MSE, with targets of order ``scale``: the
    loss is about scale², and its rounding u·|J|/ε grows with it."""
    net = Sequential([Dense(3, 4), tanh_class(), Dense(4, 1)], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(4, 3))
    return net, X, np.array([0.0, 1.0, 0.0, 1.0]) * scale


def test_a_wrong_backward_at_a_huge_loss_is_unresolved_not_passed():
    # At J ≈ 5e17 the rounding u·|J|/ε ≈ 1e14 per entry swamps gradients of order 1e9: every
    # entry is within its estimate, the wrong Tanh's included, which rule 3 used to pass.
    net, X, y = huge_loss(TwiceTanh, 1e9)
    report = gradcheck(net, "mse", X, y)
    assert not report.passed and report.inconclusive
    for comparison in report:
        assert comparison.unresolved and comparison.passed_on is None
        assert not comparison.passed and not comparison.failed
        assert line(report, comparison.name).endswith(
            " unresolved (the finite-difference error is as large as the gradient)")
    text = str(report)
    assert "gradcheck inconclusive: 0/4 within relative error 1e-06, 4/4 unresolved (" in text
    assert "Unresolved: 0.W, 0.b, 2.W, 2.b: every entry is within its finite-difference" in text
    assert "Caveat" not in text


def test_the_same_networks_at_an_ordinary_loss_are_told_apart():
    wrong, X, y = huge_loss(TwiceTanh, 1.0)
    right, _, _ = huge_loss(Tanh, 1.0)
    assert not gradcheck(wrong, "mse", X, y).passed and gradcheck(right, "mse", X, y).passed


def test_a_failure_beside_an_unresolved_array_is_a_failure():
    # At a loss of 1e12 the first layer's arrays are resolved and fail; whatever else is
    # unresolved, the report fails.
    net, X, y = huge_loss(TwiceTanh, 1e6)
    report = gradcheck(net, "mse", X, y)
    assert any(c.failed for c in report) and not report.inconclusive and not report.passed
