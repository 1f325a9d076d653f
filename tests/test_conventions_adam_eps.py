"""docs/conventions.md: scikit-learn's "ε-hat" Adam equals ours with ε divided by sqrt(1 − β2ᵗ).

The doc said "multiplied by". Our Adam is run with its ``eps`` set to ε̂ / sqrt(1 − β2ᵗ) before
step t and compared with scikit-learn's AdamOptimizer, on gradients small enough (1e-6) for ε
to matter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainrule.optim.adam import Adam

CONVENTIONS = Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
LR, BETA1, BETA2, EPS_HAT, STEPS = 1e-3, 0.9, 0.999, 1e-8, 5


def run_ours(p0, gradients, eps_at):
    p, g = p0.copy(), np.zeros_like(p0)
    optimizer = Adam(lr=LR, beta1=BETA1, beta2=BETA2, eps=eps_at(1)).bind(p, g, n_weights=p.size)
    for t, gradient in enumerate(gradients, start=1):
        optimizer.eps = eps_at(t)
        g[...] = gradient
        optimizer.step()
    return p


def test_the_eps_hat_form_is_ours_with_eps_divided_by_the_root():
    stochastic = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=7)
    gradients = [1e-6 * rng.normal(size=7) for _ in range(STEPS)]
    params = [p0.copy()]
    theirs = stochastic.AdamOptimizer(
        params, learning_rate_init=LR, beta_1=BETA1, beta_2=BETA2, epsilon=EPS_HAT
    )
    for gradient in gradients:
        theirs.update_params(params, [gradient.copy()])

    def divided(t):
        return EPS_HAT / np.sqrt(1 - BETA2**t)

    def multiplied(t):
        return EPS_HAT * np.sqrt(1 - BETA2**t)

    np.testing.assert_allclose(run_ours(p0, gradients, divided), params[0], rtol=1e-12)
    assert np.abs(run_ours(p0, gradients, multiplied) - params[0]).max() > 1e-4


def test_conventions_md_says_divided_by():
    text = " ".join(CONVENTIONS.read_text(encoding="utf-8").split())
    assert "The ε-hat form equals ours with ε divided by sqrt(1 − β2ᵗ)" in text
    assert "ε = ε̂ / sqrt(1 − β2ᵗ)" in text
    assert "multiplied by sqrt(1 − β2ᵗ)" not in text
