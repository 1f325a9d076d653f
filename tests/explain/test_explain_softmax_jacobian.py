"""The softmax Jacobian term: its summary read off the probabilities, never the (n, K, K) array."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from chainrule.explain import Term, explain
from chainrule.layers.activations import Softmax
from chainrule.layers.builders import mlp
from chainrule.layers.sequential import Sequential

#: Logit scales: near-uniform rows, ordinary ones, near one-hot rows (p ≈ 1 beside p ≈ 1e-40,
#: where Σp² − 2Σp³ + (Σp²)² cancels to nothing) and rows with probabilities below 1e-154,
#: whose squares underflow.
SCALES = (0.01, 1.0, 30.0, 400.0)


def _stats_text(term: Term) -> str:
    """The norm, min and max as the text and Markdown renderings print them."""
    return (f"{term.norm:9.2e} {term.min:10.3e} {term.max:10.3e} "
            f"{term.norm:.3e} {term.min:.3e} {term.max:.3e}")


def _assert_summary_is_the_materialised_one(term: Term) -> None:
    """``term.value`` builds the Jacobian from the layer's backward (one unit upstream
    gradient per column): the summary of that array, as :meth:`Term.of` takes it, is the
    term's, to rounding, and prints the same."""
    jacobian = term.value
    assert jacobian.shape == term.shape
    materialised = Term.of(term.name, term.formula, term.kind, jacobian, batch=True)
    assert term.dims == materialised.dims
    assert term.min == materialised.min and term.max == materialised.max  # exactly
    assert term.norm == pytest.approx(materialised.norm, rel=1e-13)
    assert _stats_text(term) == _stats_text(materialised)


@pytest.mark.parametrize("seed", range(24))
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_the_summary_is_that_of_the_layers_own_jacobian(seed, loss):
    """Softmax alone: the logits are X, so the probabilities span every regime. With MSE the
    Jacobian is the layer's local term; with cross-entropy, the fused pair's reference."""
    rng = np.random.default_rng(seed)
    n_samples, width = int(rng.integers(1, 7)), int(rng.integers(1, 51))
    X = rng.normal(size=(n_samples, width)) * SCALES[seed % len(SCALES)]
    y = rng.random((n_samples, width)) if loss == "mse" else rng.integers(0, width, n_samples)
    net = Sequential([Softmax()], dtype=np.float64)
    explanation = explain(net, X, y, loss, check=False)
    term = explanation["dA0'/dA0"]
    assert term.kind == ("local" if loss == "mse" else "reference")
    assert term.dims == ("n_samples", width, width)
    _assert_summary_is_the_materialised_one(term)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_the_summary_after_hidden_layers(loss):
    rng = np.random.default_rng(7)
    net = mlp([4, 6, 9], activation="tanh", output="softmax", seed=7, dtype=np.float64)
    X = rng.normal(size=(5, 4))
    y = rng.random((5, 9)) if loss == "mse" else rng.integers(0, 9, 5)
    explanation = explain(net, X, y, loss, check=False)
    _assert_summary_is_the_materialised_one(explanation["dA2/dZ2"])


def test_one_hot_rows_with_exact_zeros():
    """p = (1, 0, 0) exactly (the other exponentials underflow): every entry is zero."""
    net = Sequential([Softmax()], dtype=np.float64)
    X = np.array([[0.0, -1e4, -1e4], [1.0, 2.0, 3.0]])
    term = explain(net, X, np.ones((2, 3)) / 3, "mse", check=False)["dA0'/dA0"]
    _assert_summary_is_the_materialised_one(term)


def test_a_wide_softmax_never_builds_its_jacobian():
    """K = 2000 outputs and 16 samples: the (16, 2000, 2000) Jacobian would take 512 MB (and a
    copy). Its summary takes arrays of (16, 2000)."""
    rng = np.random.default_rng(0)
    n_samples, width = 16, 2000
    net = mlp([8, 16, width], activation="relu", output="softmax", seed=0)
    X, y = rng.normal(size=(n_samples, 8)), rng.integers(0, width, n_samples)
    tracemalloc.start()
    try:
        explanation = explain(net, X, y, "cross_entropy", check=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"explain allocated up to {peak / 2**20:.0f} MB"
    term = explanation["dA2/dZ2"]
    assert term.dims == ("n_samples", width, width) and term.shape == (n_samples, width, width)
    P = np.sort(explanation["A2"].value, axis=1)
    assert term.min == np.min(-(P[:, -1] * P[:, -2]))  # the two largest probabilities of a row
    assert term.max == np.max(P * (1 - P))  # the diagonal: P ⊙ (1 − P)
    assert 0 < term.norm < np.sqrt(n_samples)
    assert "(n_samples, 2000, 2000)" in explanation.to_text()


def test_jacobian_value_is_that_of_the_explained_pass_after_later_passes():
    """The array a term computes on demand comes from the pass it explains, even when the
    layer runs again before the value is read."""
    from chainrule.explain.explainer import _jacobian_from_backward, _local_derivative
    from chainrule.layers.activations import Softmax

    rng = np.random.default_rng(3)
    layer = Softmax()
    Y = layer.forward(rng.standard_normal((4, 5)), training=True)
    expected = _jacobian_from_backward(layer, Y.shape)
    term = _local_derivative(layer, Y)
    layer.forward(rng.standard_normal((4, 5)) * 7.0, training=True)  # another pass
    np.testing.assert_array_equal(term.compute(), expected)


def test_an_explanation_with_a_softmax_jacobian_pickles():
    """The on-demand array is a picklable function of a snapshot, not a closure."""
    import pickle

    from chainrule.explain.explainer import _local_derivative
    from chainrule.layers.activations import Softmax

    layer = Softmax()
    Y = layer.forward(np.random.default_rng(4).standard_normal((3, 4)), training=True)
    term = _local_derivative(layer, Y)
    again = pickle.loads(pickle.dumps(term))
    np.testing.assert_array_equal(again.compute(), term.compute())
