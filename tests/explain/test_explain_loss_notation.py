"""What explain prints about the loss: the reduction with and without sample weights, label
smoothing in the cross-entropies and in T's notation, and Huber's threshold written κ (not δ,
which names dL/dZ). Every printed value is compared with an independent NumPy computation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.explain import explain
from chainrule.explain.explainer import NOTATION
from chainrule.layers.activations import Sigmoid, Softmax
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential
from chainrule.losses import MSE, BinaryCrossEntropy, CrossEntropy, Huber

X = np.array([[0.3, -0.5], [0.6, 0.1], [-0.9, 0.4]])
W_SAMPLES = np.array([1.0, 2.0, 3.0])


def _net(n_outputs, *tail):
    return Sequential([Dense(2, n_outputs), *tail], dtype=np.float64, seed=0)


def _logits(net):
    """Z1 = X W1 + b1, from the parameters (not from the network's forward)."""
    dense = net.layers[0]
    return X @ dense.params["W"] + dense.params["b"]


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _printed(explanation, name):
    """The line of term ``name`` in the text rendering."""
    lines = [line.strip() for line in explanation.to_text().splitlines()]
    return next(line for line in lines if line.startswith(f"{name} = "))


# ---------------------------------------------------------------- sum with sample weights
def test_huber_sum_with_weights_shows_w_and_names_the_threshold_kappa():
    """The reviewer's reproducer: L and δ1 carry the weights, so their formulas show them."""
    y = np.array([[0.4, -1.2], [0.9, 0.5], [-0.3, 0.8]])
    net = _net(2)
    explanation = explain(net, X, y, Huber(0.5, reduction="sum"), sample_weight=W_SAMPLES)
    loss, delta = explanation["L"], explanation["δ1"]
    assert loss.formula == ("Σ(w ⊙ ℓ), ℓ = ½ r² if |r| ≤ κ else κ(|r| − ½κ), r = Z1 − T, "
                            "κ = 0.5")
    assert loss.note == "reduction='sum': no division; each sample's values weighted by w"
    assert delta.formula == "clip(Z1 − T, −κ, κ) ⊙ w, κ = 0.5"
    notation = explanation.header[2]
    assert notation.endswith(
        "; w = sample_weight, one weight per sample: w ⊙ multiplies each row by its weight; "
        "κ = 0.5, the Huber loss's threshold (its delta), not a δk."
    )
    text = explanation.to_text()
    assert "−δ, δ" not in text and "δ = 0.5" not in text
    assert "δ1 = clip(Z1 − T, −κ, κ) ⊙ w, κ = 0.5" in _printed(explanation, "δ1")

    r = _logits(net) - y
    values = np.where(np.abs(r) <= 0.5, 0.5 * r**2, 0.5 * (np.abs(r) - 0.25))
    expected_L = np.sum(W_SAMPLES[:, None] * values)
    assert loss.value == pytest.approx(expected_L, rel=1e-12)
    assert f"value {expected_L:.6g}" in _printed(explanation, "L")
    expected_delta = np.clip(r, -0.5, 0.5) * W_SAMPLES[:, None]
    np.testing.assert_allclose(delta.value, expected_delta, rtol=1e-12)
    assert f"max {expected_delta.max():10.3e}" in _printed(explanation, "δ1")
    assert explanation.passed


def test_mse_sum_with_and_without_weights():
    y = np.array([0.5, -0.2, 1.0])
    net = _net(1)
    plain = explain(net, X, y, MSE(reduction="sum"))
    assert plain["L"].formula == "Σ(ℓ), ℓ = (Z1 − T)²"
    assert plain["δ1"].formula == "2 (Z1 − T)"
    assert plain["L"].note == "reduction='sum': no division"
    assert plain.header[2] == NOTATION and "w =" not in plain.header[2]
    weighted = explain(net, X, y, MSE(reduction="sum"), sample_weight=W_SAMPLES)
    assert weighted["L"].formula == "Σ(w ⊙ ℓ), ℓ = (Z1 − T)²"
    assert weighted["δ1"].formula == "2 (Z1 − T) ⊙ w"
    r = _logits(net)[:, 0] - y
    assert weighted["L"].value == pytest.approx(np.sum(W_SAMPLES * r**2), rel=1e-12)
    np.testing.assert_allclose(weighted["δ1"].value[:, 0], 2 * r * W_SAMPLES, rtol=1e-12)


def test_the_weighted_mean_is_written_as_such():
    y = np.array([0.5, -0.2, 1.0])
    net = _net(1)
    explanation = explain(net, X, y, "mse", sample_weight=W_SAMPLES)
    assert explanation["L"].formula == "Σ(w ⊙ ℓ) / n, ℓ = (Z1 − T)²"
    assert explanation["L"].note == "weighted mean: n = Σw = 6"
    assert explanation["δ1"].formula == "2 (Z1 − T) ⊙ w / n"
    r = _logits(net)[:, 0] - y
    assert explanation["L"].value == pytest.approx(np.sum(W_SAMPLES * r**2) / 6, rel=1e-12)
    np.testing.assert_allclose(explanation["δ1"].value[:, 0], 2 * r * W_SAMPLES / 6, rtol=1e-12)
    unweighted = explain(net, X, y, Huber())
    assert unweighted["L"].formula.startswith("mean(ℓ), ℓ = ½ r² if |r| ≤ κ")
    assert unweighted["δ1"].formula == "clip(Z1 − T, −κ, κ) / n, κ = 1"


# ---------------------------------------------------------------- label smoothing
def test_cross_entropy_with_label_smoothing_defines_the_smoothed_targets():
    """Softmax + cross-entropy (fused), class labels, ε = 0.1, weighted mean."""
    labels = np.array([0, 2, 1])
    net = _net(3, Softmax())
    loss = CrossEntropy(label_smoothing=0.1)
    explanation = explain(net, X, labels, loss, sample_weight=W_SAMPLES)
    assert explanation["L"].formula == (
        "Σ(w ⊙ ℓ) / n, ℓ = logsumexp(Z1) − Σₖ T Z1, T = (1 − ε) y + ε/3, ε = 0.1")
    assert explanation["δ1"].formula == "(softmax(Z1) − T) ⊙ w / n, ε = 0.1"
    assert explanation["dL/dA1"].formula == "−T / A1 ⊙ w / n, ε = 0.1"
    assert ("T = the targets as the loss uses them (with label smoothing ε = 0.1: "
            "T = (1 − ε) y + ε/3, where y = the targets given, one-hot rows for class labels)"
            in explanation.header[2])

    T = 0.9 * np.eye(3)[labels] + 0.1 / 3
    P = _softmax(_logits(net))
    per_sample = -(T * np.log(P)).sum(axis=1)
    assert explanation["L"].value == pytest.approx(W_SAMPLES @ per_sample / 6, rel=1e-12)
    weights = W_SAMPLES[:, None] / 6
    np.testing.assert_allclose(explanation["δ1"].value, (P - T) * weights, rtol=1e-10)
    np.testing.assert_allclose(explanation["dL/dA1"].value, -T / P * weights, rtol=1e-10)
    assert explanation.passed


def test_cross_entropy_from_logits_sum_with_target_rows():
    targets = np.array([[0.7, 0.1, 0.2, 0.0], [0.0, 0.0, 0.0, 1.0], [0.25, 0.25, 0.25, 0.25]])
    net = _net(4)
    loss = CrossEntropy(from_logits=True, label_smoothing=0.2, reduction="sum")
    explanation = explain(net, X, targets, loss, sample_weight=W_SAMPLES)
    assert explanation["L"].formula == (
        "Σ(w ⊙ ℓ), ℓ = logsumexp(Z1) − Σₖ T Z1, T = (1 − ε) y + ε/4, ε = 0.2")
    assert explanation["δ1"].formula == "(softmax(Z1) − T) ⊙ w, ε = 0.2"
    T = 0.8 * targets + 0.05
    Z = _logits(net)
    log_P = np.log(_softmax(Z))
    assert explanation["L"].value == pytest.approx(W_SAMPLES @ -(T * log_P).sum(axis=1),
                                                   rel=1e-12)
    np.testing.assert_allclose(explanation["δ1"].value,
                               (_softmax(Z) - T) * W_SAMPLES[:, None], rtol=1e-10)


def test_binary_cross_entropy_with_label_smoothing():
    """Sigmoid + binary cross-entropy (fused), ε = 0.2: T = 0.8 y + 0.1."""
    y = np.array([1.0, 0.0, 1.0])
    net = _net(1, Sigmoid())
    explanation = explain(net, X, y, BinaryCrossEntropy(label_smoothing=0.2))
    assert explanation["L"].formula == (
        "mean(ℓ), ℓ = max(Z1, 0) − Z1 T + log(1 + e^(−|Z1|)), T = (1 − ε) y + ε/2, ε = 0.2")
    assert explanation["δ1"].formula == "(σ(Z1) − T) / n, ε = 0.2"
    assert explanation["dL/dA1"].formula == "(A1 − T) / (A1 ⊙ (1 − A1)) / n, ε = 0.2"
    assert ("(with label smoothing ε = 0.2: T = (1 − ε) y + ε/2, where y = the targets given, "
            "values in [0, 1])" in explanation.header[2])
    T = 0.8 * y + 0.1
    p = 1 / (1 + np.exp(-_logits(net)[:, 0]))
    expected_L = np.mean(-(T * np.log(p) + (1 - T) * np.log1p(-p)))
    assert explanation["L"].value == pytest.approx(expected_L, rel=1e-12)
    np.testing.assert_allclose(explanation["δ1"].value[:, 0], (p - T) / 3, rtol=1e-10)


def test_binary_cross_entropy_from_logits_sum():
    y = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    net = _net(2)
    loss = BinaryCrossEntropy(from_logits=True, label_smoothing=0.1, reduction="sum")
    explanation = explain(net, X, y, loss)
    assert explanation["L"].formula.startswith("Σ(ℓ), ℓ = max(Z1, 0) − Z1 T")
    assert explanation["L"].formula.endswith(", T = (1 − ε) y + ε/2, ε = 0.1")
    assert explanation["δ1"].formula == "(σ(Z1) − T), ε = 0.1"
    T = 0.9 * y + 0.05
    np.testing.assert_allclose(explanation["δ1"].value,
                               1 / (1 + np.exp(-_logits(net))) - T, rtol=1e-10)


def test_without_smoothing_nothing_about_it_is_printed():
    explanation = explain(_net(3, Softmax()), X, np.array([0, 1, 2]), "cross_entropy")
    assert explanation["L"].formula == "mean(ℓ), ℓ = logsumexp(Z1) − Σₖ T Z1"
    assert explanation["δ1"].formula == "(softmax(Z1) − T) / n"
    assert explanation.header[2] == NOTATION
    assert "(one-hot rows for class labels)" in NOTATION and "ε" not in explanation.to_text()


@pytest.mark.parametrize("format", ["markdown", "json"])
def test_the_other_formats_carry_the_same_formulas_and_notation(format):
    loss = CrossEntropy(label_smoothing=0.1, reduction="sum")
    explanation = explain(_net(3, Softmax()), X, np.array([0, 2, 1]), loss,
                          sample_weight=W_SAMPLES, format=format)
    rendered = str(explanation)
    if format == "json":
        data = json.loads(rendered)
        rendered = json.dumps(data, ensure_ascii=False)
        assert data["header"][2] == explanation.header[2]
    assert "(softmax(Z1) − T) ⊙ w, ε = 0.1" in rendered
    assert "T = (1 − ε) y + ε/3" in rendered
    assert "w = sample_weight, one weight per sample" in rendered
