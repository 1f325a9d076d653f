"""``chainrule._random.spawn``: independent child Generators, also from a Generator whose bit
generator was seeded the legacy way (which NumPy cannot spawn from)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule._random import spawn, spawn_many


def _legacy(seed: int) -> np.random.Generator:
    """A Generator on the bit generator of ``RandomState(seed)`` (no SeedSequence)."""
    return np.random.Generator(np.random.RandomState(seed)._bit_generator)


def test_numpy_cannot_spawn_from_a_legacy_seeded_generator():
    with pytest.raises(TypeError, match="spawning"):
        _legacy(0).spawn(1)


def test_spawn_uses_numpys_spawning_where_it_can():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(spawn(a).random(4), b.spawn(1)[0].random(4))
    assert [g.random() for g in spawn_many(a, 3)] == [g.random() for g in b.spawn(3)]


def test_spawn_from_a_legacy_seeded_generator_is_deterministic_and_independent():
    children = spawn_many(_legacy(0), 3)
    again = spawn_many(_legacy(0), 3)
    draws = [child.random(8) for child in children]
    assert all(np.array_equal(d, child.random(8)) for d, child in zip(draws, again))
    assert len({d.tobytes() for d in draws}) == 3  # three different streams
    assert all(type(child.bit_generator) is np.random.MT19937 for child in children)
    parent = _legacy(0)
    first, second = spawn(parent), spawn(parent)  # the parent moves on: new children
    assert not np.array_equal(first.random(8), second.random(8))


def test_a_dropout_network_accepts_a_legacy_seeded_generator():
    net = cr.mlp([2, 4, 1], dropout=0.5, seed=_legacy(0))
    again = cr.mlp([2, 4, 1], dropout=0.5, seed=_legacy(0))
    assert np.array_equal(net.parameters, again.parameters)
    X = np.ones((6, 2), np.float32)
    assert np.array_equal(net.forward(X, training=True), again.forward(X, training=True))


def test_the_estimators_accept_a_legacy_seeded_generator():
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning

    from chainrule.sklearn import MLPClassifier

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier((4,), dropout=0.2, max_iter=2, random_state=_legacy(0)).fit(X, y)
        b = MLPClassifier((4,), dropout=0.2, max_iter=2, random_state=_legacy(0)).fit(X, y)
    assert np.array_equal(a._net.parameters, b._net.parameters)
