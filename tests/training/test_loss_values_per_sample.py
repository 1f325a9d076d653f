"""``Loss.values_per_sample``: what the mean of the last evaluation divided by, per sample."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.losses import LOSSES

RNG = np.random.default_rng(0)
P = RNG.uniform(0.05, 0.95, size=(6, 3))
CASES = [  # (loss, y_pred, y_true, values per sample)
    ("mse", P, RNG.normal(size=(6, 3)), 3),
    ("mae", P, RNG.normal(size=(6, 3)), 3),
    ("huber", P[:, :1], RNG.normal(size=(6, 1)), 1),
    ("binary_cross_entropy", P, RNG.integers(0, 2, size=(6, 3)), 3),  # three labels per sample
    ("cross_entropy", P / P.sum(axis=1, keepdims=True), RNG.integers(0, 3, size=6), 1),
]


@pytest.mark.parametrize(("name", "y_pred", "y_true", "expected"), CASES,
                         ids=[case[0] for case in CASES])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_mean_divides_by_the_samples_times_values_per_sample(name, y_pred, y_true, expected,
                                                                  weighted):
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=6) if weighted else None
    mean, total = LOSSES.get(name)(), LOSSES.get(name)(reduction="sum")
    assert mean.values_per_sample is None  # before any evaluation
    value = mean.forward(y_pred, y_true, sample_weight=w)
    assert mean.values_per_sample == expected
    count = (6 if w is None else w.sum()) * mean.values_per_sample
    np.testing.assert_allclose(value * count, total.forward(y_pred, y_true, sample_weight=w),
                               rtol=1e-12)
    mean.release()
    assert mean.values_per_sample is None
