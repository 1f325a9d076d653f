"""The losses in scikit-learn's convention: values against the formulas, gradients against
central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

import chainrule as cr
from chainrule.sklearn._losses import (
    AbsoluteError,
    HalfSquaredError,
    HuberError,
    LogLoss,
)


def _per_sample(kind, Y, T):
    """ℓ_i summed over outputs, straight from the definitions, (n_samples,)."""
    if kind is HalfSquaredError:
        return 0.5 * ((Y - T) ** 2).sum(axis=1)
    if kind is AbsoluteError:
        return np.abs(Y - T).sum(axis=1)
    if kind is HuberError:
        r = np.abs(Y - T)
        return np.where(r <= 1.0, 0.5 * r**2, r - 0.5).sum(axis=1)
    P = 1.0 / (1.0 + np.exp(-Y))  # logits in, as the fused output layer feeds it
    return -(T * np.log(P) + (1 - T) * np.log(1 - P)).sum(axis=1)


def _make(kind):
    return kind(from_logits=True) if kind is LogLoss else kind()


@pytest.mark.parametrize("kind", [HalfSquaredError, AbsoluteError, HuberError, LogLoss])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_value_is_the_weighted_mean_of_per_sample_sums(kind, n_outputs, weighted, rng):
    Y = rng.normal(size=(7, n_outputs)) * 2
    T = (rng.random((7, n_outputs)) > 0.5).astype(float) if kind is LogLoss else rng.normal(
        size=(7, n_outputs))
    w = rng.uniform(0.5, 2.0, size=7) if weighted else np.ones(7)
    loss = _make(kind)
    value = loss.forward(Y, T, w if weighted else None)
    assert value == pytest.approx(np.average(_per_sample(kind, Y, T), weights=w), rel=1e-12)


@pytest.mark.parametrize("kind", [HalfSquaredError, AbsoluteError, HuberError, LogLoss])
def test_gradient_matches_finite_differences(kind, rng):
    Y = rng.normal(size=(5, 3)) * 2
    T = (rng.random((5, 3)) > 0.5).astype(float) if kind is LogLoss else rng.normal(size=(5, 3))
    w = rng.uniform(0.5, 2.0, size=5)
    loss = _make(kind)
    loss.forward(Y, T, w)
    analytic = loss.backward()
    numeric = np.zeros_like(Y)
    h = 1e-6
    for index in np.ndindex(Y.shape):
        up, down = Y.copy(), Y.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (_make(kind).forward(up, T, w) - _make(kind).forward(down, T, w)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_log_loss_survives_the_fused_form_round_trip():
    fused = LogLoss().logits_loss()
    assert isinstance(fused, LogLoss) and fused.from_logits
    # it declares the fused form itself (a BinaryCrossEntropy subclass does not inherit it)
    objective = cr.Objective(cr.mlp([2, 3, 1], output="sigmoid", seed=0), LogLoss())
    assert objective.fused and isinstance(objective.head_loss, LogLoss)
