"""The example of docs/custom_layers.md (a PReLU layer and a log-cosh loss), run in the suite.

The first part repeats the example's code and checks it; the last test executes the code blocks
of the page itself, in order, so that the page cannot drift from working code.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from chainrule.explain import explain
from chainrule.gradcheck import gradcheck
from chainrule.layers import Dense, Layer, ParameterSpec, Sequential
from chainrule.losses import Loss

DOC = Path(__file__).resolve().parents[2] / "docs" / "custom_layers.md"


# ----------------------------------------------------------------------------- the example
def quarter(shape, rng):
    """The initial slopes: 0.25 everywhere, as in the paper."""
    return np.full(shape, 0.25)


class PReLU(Layer):
    """Leaky ReLU with one learnt slope per feature: Y = max(X, 0) + a ⊙ min(X, 0).

    Shape: X and Y (n_samples, n_features); a (n_features,).
    """

    def __init__(self, n_features):
        super().__init__()
        self.n_features = n_features

    def parameter_specs(self):
        # role "bias": the slopes are not penalised or decayed (a decayed slope drifts to 0)
        return [ParameterSpec("a", (self.n_features,), "bias", quarter)]

    def get_config(self):
        return {"n_features": self.n_features}

    def forward(self, X, training=False):
        X = self._check_input(X, self.n_features)
        negative = np.minimum(X, 0.0)
        self._remember(training, X=X, negative=negative)
        return np.maximum(X, 0.0) + self.params["a"] * negative

    def backward(self, dY):
        X, negative = self._recall("X"), self._recall("negative")
        dY = self._check_upstream(dY, X.shape)
        self.grads["a"][...] = (dY * negative).sum(axis=0)  # da = Σᵢ dY ⊙ min(X, 0)
        slope = np.where(X > 0, 1.0, self.params["a"])  # [X > 0] + a [X ≤ 0]
        return dY * slope  # dX = dY ⊙ slope


class LogCosh(Loss):
    """ℓ = log(cosh(ŷ − t)), mean over all elements; ∂ℓ/∂ŷ = tanh(ŷ − t)."""

    def _values(self, Y, T):
        residual = self._kept["residual"] = Y - T
        r = np.abs(residual)
        return r + np.log1p(np.exp(-2.0 * r)) - np.log(2.0)

    def _gradient(self):
        return np.tanh(self._kept["residual"])


class BrokenPReLU(PReLU):
    def backward(self, dY):
        dX = super().backward(dY)
        self.grads["a"][...] = (dY * self._recall("negative"))[0]  # only the first sample
        return dX


# ----------------------------------------------------------------------------- the checks
@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 3)), rng.normal(size=(6, 2))


def network(layer_class=PReLU):
    return Sequential([Dense(3, 4), layer_class(4), Dense(4, 2)], dtype=np.float64, seed=0)


def test_the_example_passes_gradcheck(data):
    X, y = data
    report = gradcheck(network(), LogCosh(), X, y, check_input=True)
    assert report.passed, str(report)
    assert [c.name for c in report] == ["0.W", "0.b", "1.a", "2.W", "2.b", "X"]
    assert report["1.a"].relative_error < 1e-6


def test_the_broken_backward_is_caught(data):
    X, y = data
    report = gradcheck(network(BrokenPReLU), LogCosh(), X, y)
    assert not report.passed and not report["1.a"].passed and report["0.W"].passed


def test_log_cosh_values_and_stability():
    loss = LogCosh()
    r = np.array([[0.0, 0.5, -3.0, 800.0]])
    expected = np.log(np.cosh(r[:, :3]))
    assert loss.forward(r, np.zeros_like(r)) == pytest.approx(
        (expected.sum() + 800.0 - np.log(2.0)) / 4
    )
    np.testing.assert_allclose(loss.backward(), np.tanh(r) / 4)


def test_the_slopes_are_not_decayed():
    net = network()
    assert net.n_weights == 3 * 4 + 4 * 2  # the slopes sit with the biases


def test_explain_shows_the_custom_layer(data):
    X, y = data
    explanation = explain(network(), X, y, LogCosh())
    assert explanation["dL/da2"].shape == (4,)
    assert explanation["dL/da2"].formula == "written by PReLU.backward(δ2)"
    assert explanation.passed


def test_the_page_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 5
    namespace: dict = {"__name__": "custom_layers_doc"}
    # the page is part of this repository: running its examples is the point of the test
    exec(compile("\n".join(blocks), str(DOC), "exec"), namespace)  # noqa: S102
    assert namespace["report"].passed and namespace["explanation"].passed
    assert "1.a" in capsys.readouterr().out
