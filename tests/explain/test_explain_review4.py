"""Review 4 of explain: verdicts that say how a gradient matched, formulas that match the values
(cross-entropy with targets whose rows do not sum to 1, a loss of your own), norms of huge
arrays, the ``check`` and ``atol`` options, and the docs' statements about them."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from _gradcheck_cases import TwiceTanh, near_perfect_fit
from chainrule.explain import Term, explain
from chainrule.gradcheck import gradcheck
from chainrule.layers.activations import ReLU, Sigmoid, Softmax, Tanh, sigmoid
from chainrule.layers.base import Layer
from chainrule.layers.builders import mlp
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential
from chainrule.losses import BinaryCrossEntropy, CrossEntropy, Loss

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------- verdicts
def _line(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(f"{name} ="))


def test_a_wrong_backward_with_tiny_gradients_does_not_match():
    explanation = explain(*near_perfect_fit(TwiceTanh), "mse")
    check = explanation["dL/dW1"].check
    assert check.relative_error == pytest.approx(0.5, abs=0.01)
    assert not check.passed and check.passed_on is None
    text = explanation.to_text()
    assert "DOES NOT MATCH finite differences (relative error 5.0e-01)" in _line(text, "dL/dW1")
    assert "matches" not in _line(text, "dL/dW1")
    footer = explanation.footer[0]
    assert "all match" not in footer and "DO NOT MATCH" in footer
    assert not explanation.passed


def test_tiny_right_gradients_match_only_within_the_finite_difference_error():
    explanation = explain(*near_perfect_fit(Tanh), "mse")
    check = explanation["dL/dW1"].check
    assert check.passed and check.passed_on == "finite-difference error"
    assert check.relative_error > check.rtol  # why it is not a plain "matches"
    assert 1e-11 < check.scale < 1e-9
    line = _line(explanation.to_text(), "dL/dW1")
    assert "matches within the finite-difference error (relative error" in line
    assert f"gradients of order {check.scale:.0e})" in line
    assert "matches finite differences" not in line
    # the last layer's gradients are large enough for the relative error to decide
    assert "matches finite differences (relative error" in _line(explanation.to_text(), "dL/dW2")
    footer = explanation.footer[0]
    assert "all match" not in footer
    assert "2 match (largest relative error" in footer
    assert "3 match only within the finite-difference error" in footer
    assert explanation.passed
    assert explanation.to_dict()["groups"][-1]["terms"][1]["check"]["passed_on"] == (
        "finite-difference error")


def test_gradients_at_a_huge_loss_are_unresolved_not_matched():
    # Targets of order 1e9: the loss's rounding swamps the finite differences (see gradcheck).
    net = Sequential([Dense(3, 4), TwiceTanh(), Dense(4, 1)], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(4, 3))
    explanation = explain(net, X, np.array([0.0, 1.0, 0.0, 1.0]) * 1e9, "mse")
    check = explanation["dL/dW1"].check
    assert check.unresolved and check.category == "unresolved" and not check.passed
    assert "unresolved: the finite differences' own error is as large as the gradients" in (
        _line(explanation.to_text(), "dL/dW1"))
    assert "5 unresolved: the finite differences' own error" in explanation.footer[0]
    assert not explanation.passed
    assert explanation.to_dict()["groups"][-1]["terms"][1]["check"]["unresolved"] is True


def test_atol_is_passed_to_gradcheck_and_said():
    assert (inspect.signature(explain).parameters["atol"].default
            == inspect.signature(gradcheck).parameters["atol"].default)
    explanation = explain(*near_perfect_fit(Tanh), "mse", atol=1e-8)
    check = explanation["dL/dW1"].check
    assert check.passed_on == "atol" and check.atol == 1e-8
    assert "matches within atol = 1e-08 (relative error" in _line(explanation.to_text(), "dL/dW1")
    assert "match only within atol = 1e-08" in explanation.footer[0]
    with pytest.raises(ValueError, match="atol"):
        explain(*near_perfect_fit(Tanh), "mse", atol=-1.0)


def test_a_gradient_not_comparable_at_a_kink_is_not_counted_as_a_match():
    net = Sequential([Dense(1, 2), ReLU(), Dense(2, 1)], dtype=np.float64, seed=0)
    net.layers[0].params["W"][...] = [[1.0, -1.0]]
    net.layers[0].params["b"][...] = 0.0
    explanation = explain(net, np.array([[0.0]]), np.array([[1.0]]), "mse")
    assert explanation["dL/dA0"].check.category == "not comparable"
    footer = explanation.footer[0]
    assert "all match" not in footer
    assert "4 match (largest relative error" in footer
    assert "1 not comparable: every entry has a kink at 0 on both sides" in footer


def test_a_clean_check_still_says_all_match(rng):
    net = mlp([2, 3, 1], activation="tanh", dtype=np.float64, seed=0)
    explanation = explain(net, rng.normal(size=(5, 2)), rng.normal(size=5), "mse")
    assert "5 gradients checked, all match; largest relative error" in explanation.footer[0]
    assert all(t.check.passed_on == "relative error" for t in explanation if t.check)


@pytest.mark.parametrize("check", ["no", 0, 1, None])
def test_check_must_be_a_bool(check):
    net = mlp([2, 1], dtype=np.float64, seed=0)
    with pytest.raises(TypeError, match=r"check must be True or False, got"):
        explain(net, np.ones((2, 2)), np.ones(2), "mse", check=check)


# ------------------------------------------------------------------------- cross-entropy forms
def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _logsumexp(Z):
    top = Z.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(Z - top).sum(axis=1, keepdims=True)))[:, 0]


UNNORMALISED = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 0.0]])


@pytest.mark.parametrize("fused", [True, False])
def test_targets_whose_rows_do_not_sum_to_one_get_the_general_formulas(fused):
    """Softmax + CrossEntropy (fused) and CrossEntropy(from_logits=True) on logits."""
    net = mlp([2, 3], output="softmax" if fused else "identity", dtype=np.float64, seed=0)
    loss = "cross_entropy" if fused else CrossEntropy(from_logits=True)
    X = np.random.default_rng(0).normal(size=(2, 2))
    explanation = explain(net, X, UNNORMALISED, loss)
    assert explanation["δ1"].formula == "(softmax(Z1) ⊙ ΣₖT − T) / n"
    assert explanation["L"].formula == "mean(ℓ), ℓ = (ΣₖT) logsumexp(Z1) − Σₖ T Z1"
    Z = explanation["Z1"].value
    P, row_sums = _softmax(Z), UNNORMALISED.sum(axis=1, keepdims=True)
    # the printed formulas are the values
    np.testing.assert_allclose(explanation["δ1"].value, (P * row_sums - UNNORMALISED) / 2,
                               rtol=1e-12, atol=1e-15)
    values = row_sums[:, 0] * _logsumexp(Z) - (UNNORMALISED * Z).sum(axis=1)
    assert explanation["L"].value == pytest.approx(values.mean(), rel=1e-12)
    assert np.abs(explanation["δ1"].value - (P - UNNORMALISED) / 2).max() > 0.1


@pytest.mark.parametrize("targets", [
    np.array([0, 2]),  # labels
    np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]),  # distributions (sums round to 1 ± ulp)
])
def test_targets_that_sum_to_one_keep_the_familiar_formulas(targets):
    net = mlp([2, 3], output="softmax", dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(2, 2))
    explanation = explain(net, X, targets, CrossEntropy(label_smoothing=0.1))
    assert explanation["δ1"].formula == "(softmax(Z1) − T) / n, ε = 0.1"
    assert explanation["L"].formula.startswith("mean(ℓ), ℓ = logsumexp(Z1) − Σₖ T Z1")


def test_label_smoothing_of_unnormalised_targets_keeps_the_general_form():
    net = mlp([2, 3], output="softmax", dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(2, 2))
    explanation = explain(net, X, UNNORMALISED, CrossEntropy(label_smoothing=0.3))
    assert explanation["δ1"].formula == "(softmax(Z1) ⊙ ΣₖT − T) / n, ε = 0.3"
    T = UNNORMALISED * 0.7 + 0.1
    P = _softmax(explanation["Z1"].value)
    np.testing.assert_allclose(explanation["δ1"].value, (P * T.sum(1, keepdims=True) - T) / 2,
                               rtol=1e-12, atol=1e-15)


def test_the_softmax_chain_note_is_a_matrix_product_per_row():
    net = mlp([2, 3], output="softmax", dtype=np.float64, seed=0)
    explanation = explain(net, np.random.default_rng(0).normal(size=(2, 2)), [0, 1],
                          "cross_entropy")
    note = explanation["δ1"].note
    assert "row by row, dL/dZ1ᵢ = dL/dA1ᵢ · (dA1/dZ1)ᵢ (a matrix product per row i)" in note
    assert "⊙" not in note
    # ... which is what the reference terms give, row by row
    dA, jacobian = explanation["dL/dA1"].value, explanation["dA1/dZ1"].value
    np.testing.assert_allclose(np.einsum("ij,ijk->ik", dA, jacobian),
                               explanation["δ1"].value, atol=1e-15)
    sigmoid = explain(mlp([2, 1], output="sigmoid", dtype=np.float64, seed=0),
                      np.ones((2, 2)), [0, 1], "binary_cross_entropy")
    assert "dL/dZ1 = dL/dA1 ⊙ dA1/dZ1" in sigmoid["δ1"].note


def test_backprop_doc_states_the_condition_of_p_minus_t():
    text = (ROOT / "docs" / "backprop.md").read_text(encoding="utf-8")
    assert "= (P ⊙ rowsum(T) − T) / n = (P − T) / n\n" not in text
    assert "(P − T) / n      only when every row of T sums to 1" in text


# ------------------------------------------------------------------------- output layers of your own
class SteepSigmoid(Sigmoid):
    """σ(4x): a subclass of Sigmoid that computes something else."""

    def _apply(self, X, out):
        np.multiply(X, 4.0, out=out)
        return sigmoid(out, out=out)

    def backward(self, dY):
        return 4.0 * super().backward(dY)


class Logistic(Layer):
    """σ(X), a layer of one's own (not a Sigmoid). Shape: X, Y (n_samples, n_features)."""

    def forward(self, X, training=False):
        Y = sigmoid(np.array(X, dtype=np.float64))
        self._remember(training, Y=Y)
        return Y

    def backward(self, dY):
        Y = self._recall("Y")
        return dY * Y * (1.0 - Y)


class LogisticBCE(BinaryCrossEntropy):
    """Binary cross-entropy that declares its fused form with :class:`Logistic`."""

    fused_activation = Logistic


def _well_formed(explanation):
    """No term without a shape (but the scalars L and J), none with a NaN summary."""
    for term in explanation:
        assert term.dims or term.name in ("L", "J"), term.name
        assert np.isfinite([term.norm, term.min, term.max]).all(), term.name


def test_a_subclass_of_sigmoid_at_the_output_is_explained_unfused():
    net = Sequential([Dense(3, 1), SteepSigmoid()], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    explanation = explain(net, X, [0, 1, 1, 0, 1, 0], "binary_cross_entropy")
    assert not explanation.fused and explanation.passed
    assert not [term for term in explanation if term.kind == "reference"]
    assert all("fused" not in term.note for term in explanation)
    _well_formed(explanation)


def test_a_fused_layer_of_your_own_has_no_shapeless_local_derivative():
    # no rule gives its local derivative: the chained path is its backward, and no term is
    # made up from nothing (it used to be a shapeless NaN dA1/dZ1)
    net = Sequential([Dense(3, 2), Logistic()], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(4, 3))
    y = np.random.default_rng(1).integers(0, 2, size=(4, 2))
    explanation = explain(net, X, y, LogisticBCE())
    assert explanation.fused and explanation.passed
    _well_formed(explanation)
    assert "dA1/dZ1" not in [term.name for term in explanation]
    note = explanation["δ1"].note
    assert "dL/dZ1 = Logistic.backward(dL/dA1)" in note and "⊙" not in note
    assert "underflows" not in note  # the library cannot vouch for a pair it does not know
    np.testing.assert_allclose(explanation["δ1"].value, explanation["dL/dA1"].value
                               * explanation["A1"].value * (1 - explanation["A1"].value),
                               rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------- a loss of your own
class RowSquares(Loss):
    """One value per sample: ℓᵢ = Σⱼ (yᵢⱼ − tᵢⱼ)²."""

    def _values(self, Y, T):
        residual = self._kept["residual"] = Y - T
        return (residual * residual).sum(axis=1)

    def _gradient(self):
        return 2.0 * self._kept["residual"]


class ElementSquares(RowSquares):
    """One value per element: ℓᵢⱼ = (yᵢⱼ − tᵢⱼ)²."""

    def _values(self, Y, T):
        residual = self._kept["residual"] = Y - T
        return residual * residual


@pytest.mark.parametrize("loss, weights, note", [
    (RowSquares(), None, "n = 4 (n_samples: the values averaged)"),
    (RowSquares(), [1.0, 1.0, 2.0, 2.0], "weighted mean: n = Σw = 6"),
    (ElementSquares(), None, "n = 12 (n_samples × n_outputs: the values averaged)"),
    (ElementSquares(), [1.0, 1.0, 2.0, 2.0], "weighted mean: n = Σw × 3 = 18"),
])
def test_a_custom_loss_shows_backward_as_it_is_and_the_n_it_used(loss, weights, note):
    net = mlp([2, 3], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(4, 2))
    T = np.random.default_rng(1).normal(size=(4, 3))
    explanation = explain(net, X, T, loss, sample_weight=weights)
    assert explanation["L"].note == note
    assert explanation["δ1"].formula == "backward()"
    held = "the reduction's 1/n" + ("" if weights is None else " and the weights w")
    assert explanation["δ1"].note == f"backward() already holds {held}"
    # backward() is the value shown: the 1/n (and w) are in it, not to be applied again
    fresh = type(loss)()
    fresh.forward(net.forward(X), T, weights)
    np.testing.assert_allclose(explanation["δ1"].value, fresh.backward(), rtol=1e-12)
    w = np.ones(4) if weights is None else np.asarray(weights)
    per_sample = ((net.forward(X) - T) ** 2).sum(axis=1)
    divisor = w.sum() * (3 if isinstance(loss, ElementSquares) else 1)
    assert explanation["L"].value == pytest.approx(w @ per_sample / divisor, rel=1e-12)


def test_a_custom_loss_with_reduction_sum_divides_by_nothing():
    net = mlp([2, 3], dtype=np.float64, seed=0)
    X = np.random.default_rng(0).normal(size=(4, 2))
    explanation = explain(net, X, np.zeros((4, 3)), RowSquares(reduction="sum"))
    assert explanation["δ1"].formula == "backward()" and explanation["δ1"].note == ""
    assert explanation["L"].note == "reduction='sum': no division"
    weighted = explain(net, X, np.zeros((4, 3)), RowSquares(reduction="sum"),
                       sample_weight=[1.0, 2.0, 3.0, 4.0])
    assert weighted["δ1"].formula == "backward()"
    assert weighted["δ1"].note == "backward() already holds the weights w"


# ------------------------------------------------------------------------- huge values
def test_norms_of_huge_finite_arrays_are_finite_and_warn_nothing():
    # (RuntimeWarnings are errors in this suite)
    term = Term.of("A", "", "forward", np.full((2, 2), 1e300), batch=True)
    assert term.norm == pytest.approx(2e300, rel=1e-12)
    net = mlp([2, 3, 1], output="sigmoid", seed=0)
    X = np.random.default_rng(0).normal(size=(4, 2)) * 1e300
    explanation = explain(net, X, [0, 1, 1, 0], "binary_cross_entropy")
    assert explanation["A0"].norm == pytest.approx(1e300 * np.linalg.norm(X / 1e300), rel=1e-12)
    assert all(np.isfinite(term.norm) for term in explanation)


# ------------------------------------------------------------------------- docs and examples
def test_backprop_doc_says_when_the_kth_dense_layer_is_layer_2k_minus_2():
    text = " ".join((ROOT / "docs" / "backprop.md").read_text(encoding="utf-8").split())
    assert "In `mlp([...])` without dropout the k-th Dense layer is layer 2(k − 1)" not in text
    assert "leaves an `\"identity\"` activation out altogether" in text
    # the example the doc gives
    net = mlp([2, 3, 3, 1], activation=["relu", "identity"], output="sigmoid")
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense", "ReLU", "Dense", "Dense", "Sigmoid"]
    assert "`Dense, ReLU, Dense, Dense, Sigmoid`, so W3 is `\"3.W\"`" in text
    assert explain(net, np.ones((2, 2)), [0, 1], "bce", check=False).mapping["3.W"] == "W3"


def test_backprop_doc_says_what_lists_the_tutorial_names():
    """net.summary() does not list W1 = "0.W": the doc points at what does."""
    text = " ".join((ROOT / "docs" / "backprop.md").read_text(encoding="utf-8").split())
    assert "(and `net.summary()`) always lists the mapping" not in text
    net = mlp([2, 3, 1], output="sigmoid", seed=0)
    assert '"0.W"' not in net.summary()
    assert ("The header of `chainrule explain` always lists the mapping, and an explanation's "
            "`mapping` gives it as a dict (`{\"0.W\": \"W1\", \"0.b\": \"b1\", ...}`)") in text
    explanation = explain(net, np.ones((2, 2)), [0, 1], "bce", check=False)
    assert '(W1 = "0.W", b1 = "0.b")' in explanation.to_text()
    assert explanation.mapping == {"0.W": "W1", "0.b": "b1", "2.W": "W2", "2.b": "b2"}


def test_explanation_json_has_the_verdict_fields():
    explanation = explain(*near_perfect_fit(Tanh), "mse", format="json")
    check = json.loads(str(explanation))["groups"][-1]["terms"][0]["check"]
    assert set(check) >= {"passed_on", "atol", "scale", "relative_error", "passed"}


def test_softmax_alone_with_unnormalised_targets():
    """The logits are X itself: the fused term is dL/dA0, with the general formula."""
    X = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]])
    explanation = explain(Sequential([Softmax()], dtype=np.float64), X, UNNORMALISED,
                          "cross_entropy")
    term = explanation["dL/dA0"]
    assert term.formula == "(softmax(A0) ⊙ ΣₖT − T) / n"
    np.testing.assert_allclose(
        term.value, (_softmax(X) * UNNORMALISED.sum(1, keepdims=True) - UNNORMALISED) / 2,
        rtol=1e-12, atol=1e-15)
    assert term.check.passed


@pytest.mark.parametrize("y, weights, message", [
    (np.ones((4, 1)), None, r"^X and y must have the same number of samples, got 5 and 4$"),
    (np.ones((5, 1)), np.ones(4),
     r"^X and sample_weight must have the same number of samples, got 5 and 4"),
], ids=["y", "sample_weight"])
def test_rows_that_do_not_match_x_name_the_arguments_given(y, weights, message):
    net = mlp([3, 2, 1], output="sigmoid", seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match=message):
        explain(net, X, y, "binary_cross_entropy", sample_weight=weights)


@pytest.mark.parametrize("y, message", [
    (np.array([0.5, 1, 2, 1]), (r"^y must hold whole-number class labels, got np.float64\(0.5\); "
                                r"the network has 3 outputs$")),
    (np.array([0, 1, 3, 1]), (r"^y must hold class labels in \[0, 3\) \(n_classes=3\), got "
                              r"values in \[0, 3\]; the network has 3 outputs$")),
], ids=["not-whole", "out-of-range"])
def test_targets_the_loss_refuses_are_named_y_with_the_networks_outputs(y, message):
    # The loss's own messages name y_true (and y_pred): explain's caller gave y
    net = mlp([2, 3], output="softmax", seed=0)
    X = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(ValueError, match=message):
        explain(net, X, y, "cross_entropy")
