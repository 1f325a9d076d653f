"""For random networks: the printed shapes are the arrays' shapes, and the numbers are the
gradients the library trains with."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.explain import explain, gradient_name
from chainrule.layers.activations import ACTIVATIONS
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.sequential import Sequential
from chainrule.losses import MSE, BinaryCrossEntropy, CrossEntropy, Huber
from chainrule.objective import Objective

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "identity"]

#: (output activation or None, loss factory, targets(rng, n_samples, n_outputs))
HEADS = [
    ("sigmoid", BinaryCrossEntropy, lambda rng, n, m: rng.integers(0, 2, (n, m))),
    ("softmax", lambda: CrossEntropy(label_smoothing=0.1), lambda rng, n, m: rng.integers(0, m, n)),
    ("softmax", CrossEntropy, lambda rng, n, m: rng.dirichlet(np.ones(m), n)),
    ("softmax", MSE, lambda rng, n, m: rng.random((n, m))),
    (None, MSE, lambda rng, n, m: rng.normal(size=(n, m))),
    (None, lambda: Huber(delta=0.3, reduction="sum"), lambda rng, n, m: rng.normal(size=(n, m))),
    (None, lambda: BinaryCrossEntropy(from_logits=True), lambda rng, n, m: rng.random((n, m))),
    (None, lambda: CrossEntropy(from_logits=True), lambda rng, n, m: rng.integers(0, m, n)),
]


def random_case(seed: int):
    """A random network (1-3 Dense layers, random activations, maybe dropout and penalties),
    a batch, targets and a loss. Parameters are all drawn at random (biases included), so no
    ReLU input sits exactly at its kink."""
    rng = np.random.default_rng(seed)
    head, make_loss, targets = HEADS[seed % len(HEADS)]
    widths = list(rng.integers(1, 5, size=rng.integers(2, 5)))
    n_outputs = 1 if head == "sigmoid" and seed % 2 else max(widths[-1], 2)
    widths[-1] = n_outputs if head != "softmax" else max(n_outputs, 2)
    layers = []
    for k in range(len(widths) - 1):
        layers.append(Dense(int(widths[k]), int(widths[k + 1]), bias=bool(rng.random() < 0.8),
                            l2=float(rng.choice([0.0, 0.1])), l1=float(rng.choice([0.0, 0.01]))))
        if k < len(widths) - 2:
            layers.append(ACTIVATIONS.get(str(rng.choice(HIDDEN)))())
            if rng.random() < 0.3:
                layers.append(Dropout(0.25))
    if head is not None:
        layers.append(ACTIVATIONS.get(head)())
    net = Sequential(layers, seed=seed)
    net.parameters[...] = rng.normal(size=net.parameters.shape)
    n_samples = int(rng.integers(1, 6))
    X = rng.normal(size=(n_samples, int(widths[0])))
    y = targets(rng, n_samples, int(widths[-1]))
    return net, X, y, make_loss()


SEEDS = range(24)


@pytest.mark.parametrize("seed", SEEDS)
def test_printed_shapes_are_the_arrays_shapes(seed):
    net, X, y, loss = random_case(seed)
    explanation = explain(net, X, y, loss, format="json")
    data = json.loads(str(explanation))
    terms = [term for group in data["groups"] for term in group["terms"]]
    n_samples = X.shape[0]
    for term in terms:  # the named shape is the actual shape, with n_samples the batch size
        assert [n_samples if d == "n_samples" else d for d in term["dims"]] == term["shape"], term

    # forward terms: the shapes of the outputs of the actual layers
    work = net.copy(np.float64)
    shapes = {"A0": X.shape}
    A = X
    forward = {term["name"]: term for term in terms if term["kind"] == "forward"}
    for index, layer in enumerate(work.layers):
        A = layer.forward(A, training=True)
        name = next(t["name"] for t in forward.values() if t["layer"] == index)
        assert tuple(forward[name]["shape"]) == A.shape
        shapes[name] = A.shape
    # every gradient ∂L/∂N has the shape of N; every parameter gradient the parameter's shape
    parameters = {name: param.shape for name, param, _ in net.named_parameters()}
    for term in terms:
        if term["kind"] == "parameter":
            assert tuple(term["shape"]) == parameters[term["parameter"]]
        elif term["name"].startswith(("dL/d", "δ")):
            matches = [n for n in shapes if gradient_name(n) == term["name"]]
            assert matches, term["name"]
            assert tuple(term["shape"]) == shapes[matches[0]]
    assert {t["parameter"] for t in terms if t["kind"] == "parameter"} == set(parameters)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_numbers_are_the_gradients_the_library_uses(seed):
    net, X, y, loss = random_case(seed)
    explanation = explain(net, X, y, loss)

    work = net.copy(np.float64)  # draws the same dropout masks as explain's copy
    objective = Objective(work, loss)
    value, dX = objective.value_and_gradients(work.check_input(X), y, input_grad=True)
    assert explanation.loss == pytest.approx(value, rel=1e-12)
    gradients = explanation.gradients
    assert set(gradients) == {name for name, _, _ in work.named_parameters()}
    for name, _, grad in work.named_parameters():
        term = gradients[name]
        np.testing.assert_allclose(term.value, grad, rtol=1e-12, atol=1e-300)
        assert term.norm == pytest.approx(np.linalg.norm(grad), rel=1e-12, abs=1e-300)
        assert term.min == grad.min() and term.max == grad.max()
    np.testing.assert_allclose(explanation["dL/dA0"].value, dX, rtol=1e-12, atol=1e-300)
    head = next(t for t in explanation.terms if t.kind == "upstream")  # the loss's gradient
    np.testing.assert_allclose(head.value, objective.head_loss.backward(), rtol=1e-12,
                               atol=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_gradient_reports_its_finite_difference_check(seed):
    net, X, y, loss = random_case(seed)
    explanation = explain(net, X, y, loss)
    checked = [t for t in explanation.terms if t.check is not None]
    assert {t.parameter for t in checked} == {name for name, _, _ in net.named_parameters()} | {"X"}
    for term in checked:
        assert term.check.passed, (term.equation, term.check)
        assert term.check.relative_error < 1e-6
        assert term.check.n_checked == term.value.size
    lines = explanation.to_text().splitlines()
    for term in checked:
        line = next(line for line in lines if line.strip().startswith(term.equation))
        error = term.check.relative_error
        assert f"matches finite differences (relative error {error:.1e})" in line


def test_local_derivatives_are_the_layers_own():
    """dA/dZ of an elementwise layer is f'(Z); the softmax Jacobian is diag(a) − aᵀa per row."""
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 4), ACTIVATIONS.get("tanh")(), Dense(4, 3),
                      ACTIVATIONS.get("softmax")()], dtype=np.float64, seed=0)
    X = rng.normal(size=(5, 3))
    explanation = explain(net, X, rng.random((5, 3)), "mse")
    A1 = explanation["A1"].value
    np.testing.assert_allclose(explanation["dA1/dZ1"].value, 1 - A1**2, rtol=1e-12)
    A2 = explanation["A2"].value
    jacobian = explanation["dA2/dZ2"].value
    assert jacobian.shape == (5, 3, 3) and explanation["dA2/dZ2"].dims == ("n_samples", 3, 3)
    for i in range(5):
        np.testing.assert_allclose(jacobian[i], np.diag(A2[i]) - np.outer(A2[i], A2[i]),
                                   atol=1e-15)
    np.testing.assert_allclose(
        explanation["δ2"].value,
        np.einsum("ij,ijk->ik", explanation["dL/dA2"].value, jacobian), atol=1e-15,
    )
