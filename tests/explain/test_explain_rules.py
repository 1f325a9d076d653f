"""The per-layer tables, the generic fallback, the naming scheme and the formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.errors import NotDifferentiableError
from chainrule.explain import (
    GENERIC_RULE,
    LAYER_RULES,
    Explanation,
    explain,
    name_layers,
    two_circles_example,
)
from chainrule.layers.activations import ReLU, Sigmoid, Step, Tanh
from chainrule.layers.base import LAYERS, Layer, ParameterSpec
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.sequential import Sequential
from chainrule.losses import BinaryCrossEntropy


def test_every_built_in_layer_has_a_rule():
    for name in LAYERS.names():  # every registered layer, activations included
        cls = LAYERS.get(name)
        if cls is not Step:  # no backward: nothing to explain
            assert cls in LAYER_RULES, name


class Scale(Layer):
    """Y = X ⊙ s, a user layer unknown to the tables."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width

    def parameter_specs(self):
        return [ParameterSpec("s", (self.width,), "weight",
                              lambda shape, rng: rng.normal(size=shape))]

    def forward(self, X, training=False):
        self._remember(training, X=X)
        return X * self.params["s"]

    def backward(self, dY):
        self.grads["s"][...] = (dY * self._recall("X")).sum(axis=0)
        return dY * self.params["s"]


def test_a_user_layer_gets_the_generic_entry_and_is_still_checked(rng):
    net = Sequential([Dense(2, 3), Scale(3), Tanh(), Dense(3, 1)], seed=0)
    net.parameters[...] = rng.normal(size=net.n_parameters)
    explanation = explain(net, rng.normal(size=(4, 2)), rng.normal(size=4), "mse")
    assert explanation.mapping["1.s"] == "s2"
    assert explanation["Z2"].formula == "Scale(Z1)"
    assert explanation["dL/ds2"].formula == "written by Scale.backward(δ2)"
    assert explanation["δ1"].formula == GENERIC_RULE.input_grad.format(dy="δ2")
    assert explanation["dL/ds2"].check.passed and explanation.passed


def test_names_follow_the_tutorials():
    net = Sequential([Sigmoid(), Dense(2, 3), ReLU(), Dropout(0.5), Dense(3, 3, bias=False),
                      Dense(3, 1)], seed=0)
    names = name_layers(net)
    assert [(n.input, n.output) for n in names] == [
        ("A0", "A0'"), ("A0'", "Z1"), ("Z1", "A1"), ("A1", "A1'"), ("A1'", "Z2"), ("Z2", "Z3"),
    ]
    assert names[4].params == {"W": "W2"} and names[5].param_ids == {"W": "5.W", "b": "5.b"}


def test_kinks_are_measured_one_sided_or_said_to_be_not_comparable():
    """Z exactly at ReLU's kink for both rows: a weight moves one row's Z up and the other's
    down (a kink on both sides: not comparable); the bias moves both up (one-sided)."""
    net = Sequential([Dense(2, 1), ReLU(), Dense(1, 1)], dtype=np.float64, seed=0)
    net.layers[0].params["W"][...] = [[1.0], [1.0]]
    net.layers[2].params["W"][...] = [[2.0]]
    X = np.array([[1.0, -1.0], [-1.0, 1.0]])  # Z1 = 0 exactly on both rows
    explanation = explain(net, X, np.array([3.0, 1.0]), "mse")
    weights, bias = explanation["dL/dW1"].check, explanation["dL/db1"].check
    assert (weights.n_kinks, weights.n_one_sided) == (2, 0)
    assert weights.describe() == ("not comparable with finite differences: every entry has a "
                                  "kink at 0 on both sides")
    assert (bias.n_kinks, bias.n_one_sided, bias.passed) == (0, 1, True)
    assert bias.describe().endswith("; 1 one-sided at a kink)")
    assert explanation.passed
    assert "not comparable with finite differences" in explanation.to_text()
    assert '"n_kinks": 2' in explanation.render("json")


def test_step_cannot_be_explained():
    net = Sequential([Dense(2, 2), Step(), Dense(2, 1)], seed=0)
    with pytest.raises(NotDifferentiableError, match="Perceptron"):
        explain(net, np.ones((3, 2)), np.ones(3), "mse")


def test_the_formats():
    explanation = explain(*two_circles_example(4), format="markdown")
    assert isinstance(explanation, Explanation)
    markdown = str(explanation)
    assert markdown == explanation.to_markdown() == explanation._repr_markdown_()
    assert "| term | formula | shape |" in markdown
    assert "| `dL/dW3` | `A2ᵀ δ3` | (3, 1) |" in markdown
    assert "### #4 Dense: A2 → Z3" in markdown
    assert "matches finite differences" in markdown
    assert explanation.render("text") == explanation.to_text()
    assert "dL/dW3 = A2ᵀ δ3" in explanation.render("text")
    data = json.loads(explanation.render("json"))
    term = next(t for g in data["groups"] for t in g["terms"] if t["name"] == "dL/dW3")
    assert term["dims"] == [3, 1] and term["check"]["passed"] is True
    with pytest.raises(ValueError, match="format"):
        explanation.render("pdf")


def test_a_pipe_in_a_formula_is_escaped_in_markdown():
    net = Sequential([Dense(2, 1)], seed=0)
    markdown = explain(net, np.ones((2, 2)), np.array([0.0, 1.0]),
                       BinaryCrossEntropy(from_logits=True), check=False).to_markdown()
    row = next(line for line in markdown.splitlines() if line.startswith("| `L`"))
    assert "\\|Z1\\|" in row
    assert row.count(" | ") == 6  # seven cells, the escaped pipes are not separators


def test_lookup_errors_name_the_terms():
    explanation = explain(*two_circles_example(4), check=False)
    assert list(explanation) == list(explanation.terms)  # iterating gives the terms in order
    assert [term.name for term in explanation][:2] == ["A0", "Z1"]
    with pytest.raises(KeyError, match="dL/dW3"):
        explanation["dL/dW9"]


class Jitter(Layer):
    """Adds fresh noise in training: a forward pass that is not deterministic."""

    def __init__(self) -> None:
        super().__init__()
        self.noise = np.random.default_rng(0)

    def forward(self, X, training=False):
        return X + self.noise.normal(size=X.shape) if training else X

    def backward(self, dY):
        return dY


def test_a_layer_that_is_not_deterministic_is_refused():
    net = Sequential([Dense(2, 3), Jitter(), Dense(3, 1)], seed=0)
    with pytest.raises(RuntimeError, match="replay gave different gradients than "
                                           "Objective.value_and_gradients; a layer's forward or "
                                           "backward is not deterministic"):
        explain(net, np.ones((4, 2)), np.arange(4.0), "mse", check=False)


def _bce_logits(Z, T):
    return (np.maximum(Z, 0) - Z * T + np.log1p(np.exp(-np.abs(Z)))).mean(axis=1)


def _squared(Z, T):
    return ((Z - T) ** 2).mean(axis=1)


@pytest.mark.parametrize(
    "n_outputs, loss, per_sample, note, formula",
    [
        (1, BinaryCrossEntropy(from_logits=True), _bce_logits, "weighted mean: n = Σw = 3.5",
         "(σ(Z1) − T) ⊙ w / n"),
        (2, "mse", _squared, "weighted mean: n = Σw × 2 = 7", "2 (Z1 − T) ⊙ w / n"),
    ],
)
def test_sample_weights_are_the_weighted_mean(n_outputs, loss, per_sample, note, formula):
    net = Sequential([Dense(2, n_outputs)], dtype=np.float64, seed=0)
    X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])
    T = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])[:, :n_outputs]
    w = np.array([1.0, 2.0, 0.5])
    explanation = explain(net, X, T if n_outputs > 1 else T[:, 0], loss, sample_weight=w)
    assert explanation["L"].note == note
    assert explanation["δ1"].formula == formula
    expected = np.sum(w * per_sample(net.forward(X), T)) / w.sum()
    assert explanation.loss == pytest.approx(expected, rel=1e-12)
    assert explanation.passed


def test_a_network_that_is_only_the_fused_output_layer():
    """Sigmoid + binary cross-entropy and nothing else: the fused gradient is dL/dX itself, and
    it carries gradcheck's verdict on X."""
    X, y = np.array([[0.5], [-1.0], [2.0]]), np.array([1.0, 0.0, 1.0])
    explanation = explain(Sequential([Sigmoid()], dtype=np.float64), X, y,
                          "binary_cross_entropy")
    assert [term.name for term in explanation] == [
        "A0", "A0'", "L", "dL/dA0'", "dA0'/dA0", "dL/dA0"]
    term = explanation["dL/dA0"]
    np.testing.assert_allclose(term.value, (1 / (1 + np.exp(-X)) - y[:, None]) / 3, rtol=1e-12)
    assert term.parameter == "X" and term.check is not None and term.check.passed
    text = explanation.to_text()
    assert "1 gradient checked, all match" in text
    assert "(sizes 1)" in text and "training computes dL/dA0 directly from the logits A0" in text


def test_name_layers_needs_a_sequential():
    with pytest.raises(TypeError, match="net must be a Sequential, got list"):
        name_layers([Dense(2, 1)])


def test_a_term_of_an_empty_array_has_zero_statistics():
    from chainrule.explain import Term

    term = Term.of("dL/dW", "A0ᵀ δ1", "parameter", np.zeros((0, 3)), batch=False)
    assert (term.dims, term.norm, term.min, term.max) == ((0, 3), 0.0, 0.0, 0.0)


def test_a_penalised_weight_gradient_is_named_dJ():
    """With penalties the weight's term is ∂J/∂W (J = L + penalties): its formula adds the
    penalty's gradient and its value is what training uses; biases and unpenalised weights
    stay dL/d."""
    net = Sequential([Dense(3, 6, l1=0.01, l2=0.1), ReLU(), Dropout(0.3, seed=0),
                      Dense(6, 1, l2=0.05), Dense(1, 1)], seed=4)
    rng = np.random.default_rng(0)
    explanation = explain(net, rng.normal(size=(5, 3)), rng.normal(size=5), "huber")
    text = explanation.to_text()
    assert "dJ/dW2 = A1'ᵀ δ2 + l2 W2, l2 = 0.05" in text
    assert "dJ/dW1 = A0ᵀ δ1 + l1 sign(W1) + l2 W1, l1 = 0.01, l2 = 0.1" in text
    assert "dL/dW2" not in text and "dL/dW1" not in text
    assert "dL/dW3 = Z2ᵀ δ3" in text and "dL/db2 = Σ δ2" in text  # no penalty: dL
    assert "J = L + Σₖ (l1 ‖Wk‖₁ + ½ l2 ‖Wk‖²)" in text  # J is defined where it is used
    assert explanation["dJ/dW2"].parameter == "3.W"
    assert "| `dJ/dW1` | `A0ᵀ δ1 + l1 sign(W1) + l2 W1, l1 = 0.01, l2 = 0.1` |" in (
        explanation.to_markdown())
