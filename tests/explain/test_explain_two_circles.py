"""``explain`` on the default two-circles network: every term of the issue, its shape, its check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.explain import explain, two_circles_example
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential

N_SAMPLES = 8

#: The issue's example, with the real shapes of the 2-4-3-1 network.
EXPECTED = {
    "dL/dA3": ("n_samples", 1),
    "dA3/dZ3": ("n_samples", 1),
    "δ3": ("n_samples", 1),
    "dL/dW3": (3, 1),
    "dL/db3": (1,),
    "dL/dA2": ("n_samples", 3),
    "dA2/dZ2": ("n_samples", 3),
    "δ2": ("n_samples", 3),
    "dL/dW2": (4, 3),
    "dL/db2": (3,),
    "dL/dA1": ("n_samples", 4),
    "δ1": ("n_samples", 4),
    "dL/dW1": (2, 4),
    "dL/db1": (4,),
    "dL/dA0": ("n_samples", 2),
}


@pytest.fixture(scope="module")
def explanation():
    return explain(*two_circles_example(N_SAMPLES))


def test_every_term_of_the_issue_is_there_with_its_shape(explanation):
    for name, dims in EXPECTED.items():
        term = explanation[name]
        assert term.dims == dims, name
        assert term.shape == tuple(N_SAMPLES if d == "n_samples" else d for d in dims), name


def test_formulas_are_the_tutorials(explanation):
    equations = {term.equation for term in explanation.terms}
    for equation in (
        "dL/dW3 = A2ᵀ δ3",
        "dL/db3 = Σ δ3",
        "dL/dA2 = δ3 W3ᵀ",
        "δ2 = dL/dA2 ⊙ dA2/dZ2",
        "dA2/dZ2 = [Z2 > 0]",
        "dL/dW1 = A0ᵀ δ1",
        "Z1 = A0 W1 + b1",
        "A3 = σ(Z3)",
    ):
        assert equation in equations, equation
    assert explanation["dA3/dZ3"].formula.startswith("σ(Z3)(1 − σ(Z3))")


def test_the_printed_text_has_each_term_with_its_shape(explanation):
    text = str(explanation)
    for name, dims in EXPECTED.items():
        dims_text = "(" + ", ".join(map(str, dims)) + (",)" if len(dims) == 1 else ")")
        lines = [line for line in text.splitlines() if line.strip().startswith(f"{name} =")]
        assert lines and dims_text in lines[0], (name, lines)


def test_every_gradient_line_matches_finite_differences(explanation):
    text = explanation.to_text()
    gradient_lines = [
        line for line in text.splitlines()
        if line.strip().startswith(("dL/dW", "dL/db", "dL/dA0"))
    ]
    assert len(gradient_lines) == 7  # 3 weights, 3 biases, the input
    for line in gradient_lines:
        assert "matches finite differences (relative error" in line, line
    checks = [term.check for term in explanation.terms if term.check is not None]
    assert len(checks) == 7 and all(c.passed and c.relative_error < 1e-6 for c in checks)
    assert explanation.passed
    assert "7 gradients checked, all match" in text


def test_the_fused_pair_is_named_and_the_chained_terms_are_references(explanation):
    assert explanation.fused
    delta = explanation["δ3"]
    assert delta.kind == "upstream" and "fused Sigmoid + BinaryCrossEntropy" in delta.note
    assert delta.formula == "(σ(Z3) − T) / n"
    assert explanation["dL/dA3"].kind == "reference"
    assert explanation["dA3/dZ3"].kind == "reference"
    # the chained product is the fused term, here where nothing underflows
    chained = explanation["dL/dA3"].value * explanation["dA3/dZ3"].value
    np.testing.assert_allclose(chained, delta.value, rtol=1e-12, atol=1e-17)


def test_the_mapping_to_library_names(explanation):
    assert explanation.mapping == {
        "0.W": "W1", "0.b": "b1", "2.W": "W2", "2.b": "b2", "4.W": "W3", "4.b": "b3",
    }
    assert explanation["dL/dW3"].parameter == "4.W"
    assert '#4 Dense: A2 → Z3 (W3 = "4.W", b3 = "4.b")' in explanation.to_text()


def test_the_loss_is_the_objective_value(explanation):
    net, X, y, loss = two_circles_example(N_SAMPLES)
    from chainrule.objective import Objective

    work = net.copy(np.float64)
    value = Objective(work, loss).value(work.check_input(X), y, training=True)
    assert explanation.loss == pytest.approx(value, rel=1e-12)
    assert explanation["L"].max == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("n_samples", [2, 5, 16, 33])
def test_every_batch_size_passes(n_samples):
    explanation = explain(*two_circles_example(n_samples))
    assert explanation.passed
    assert explanation["dL/dA2"].shape == (n_samples, 3)
    assert explanation.n_samples == n_samples


def test_the_callers_network_is_untouched():
    net, X, y, loss = two_circles_example(6)
    before = net.parameters.copy()
    explain(net, X, y, loss)
    assert net.dtype == np.float32
    np.testing.assert_array_equal(net.parameters, before)
    assert not np.any(net.gradients)
    assert all(not layer.cache for layer in net.layers)


def test_json_round_trip(explanation):
    data = json.loads(explanation.to_json())
    names = [term["name"] for group in data["groups"] for term in group["terms"]]
    assert set(EXPECTED) <= set(names)
    assert data["passed"] is True and data["fused"] is True
    assert data["mapping"]["4.W"] == "W3"


def test_without_check_nothing_is_claimed():
    explanation = explain(*two_circles_example(4), check=False)
    assert all(term.check is None for term in explanation.terms)
    assert "matches" not in explanation.to_text()
    assert "not checked" in explanation.to_text()


def test_bad_arguments():
    net, X, y, loss = two_circles_example(4)
    with pytest.raises(ValueError, match="format"):
        explain(net, X, y, loss, format="html")
    with pytest.raises(TypeError, match="Sequential"):
        explain([Dense(2, 1)], X, y, loss)


def test_a_non_finite_loss_is_refused():
    net = Sequential([Dense(1, 1)], dtype=np.float64, seed=0)
    net.layers[0].params["W"][...] = 1e308
    with pytest.raises(ValueError, match="loss of this batch"):
        explain(net, np.array([[10.0], [-10.0]]), np.array([1.0, 0.0]), "mse")
