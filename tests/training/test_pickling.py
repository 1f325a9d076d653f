"""Pickling and deep-copying keep the flat-buffer views (scikit-learn pickles estimators)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_blobs


def test_an_unpickled_trainer_trains_exactly_like_the_original():
    X, y = make_blobs(200, centers=3, seed=0)
    net = cr.mlp([2, 8, 3], output="softmax", seed=0)
    trainer = cr.Trainer(net, "cross_entropy", cr.Adam(lr=0.01), batch_size=32, seed=0, verbose=0)
    trainer.fit(X, y, epochs=2)
    clone = pickle.loads(pickle.dumps(trainer))
    for name, param, grad in clone.net.named_parameters():
        assert np.shares_memory(param, clone.net.parameters), name
        assert np.shares_memory(grad, clone.net.gradients), name
    assert clone.optimizer._params is clone.net.parameters
    trainer.fit(X, y, epochs=2)
    clone.fit(X, y, epochs=2)
    assert clone.net.parameters.tobytes() == trainer.net.parameters.tobytes()
    np.testing.assert_array_equal(clone.predict_proba(X), trainer.predict_proba(X))


def test_a_deep_copied_network_keeps_its_views():
    net = cr.mlp([3, 4, 2], seed=0)
    clone = copy.deepcopy(net)
    clone.parameters[:] = 0.0
    assert np.all(clone.layers[0].params["W"] == 0)
    assert np.any(net.layers[0].params["W"] != 0)


def test_a_memory_mapped_trainer_trains_exactly_like_the_original(tmp_path):
    """joblib (scikit-learn's parallel backend) memory-maps large arrays read-only: the network
    copies its buffers, and the trainer rebinds its optimizer to the copies, keeping its state."""
    joblib = pytest.importorskip("joblib")
    X, y = make_blobs(200, centers=3, seed=0)
    net = cr.mlp([2, 8, 3], output="softmax", seed=0)
    trainer = cr.Trainer(net, "cross_entropy", cr.Adam(lr=0.01), batch_size=32, seed=0, verbose=0)
    trainer.fit(X, y, epochs=2)
    joblib.dump(trainer, tmp_path / "trainer.joblib")
    clone = joblib.load(tmp_path / "trainer.joblib", mmap_mode="r")
    assert clone.net.parameters.flags.writeable
    assert clone.optimizer._params is clone.net.parameters
    assert clone.optimizer.n_steps == trainer.optimizer.n_steps
    trainer.fit(X, y, epochs=2)
    clone.fit(X, y, epochs=2)
    assert clone.net.parameters.tobytes() == trainer.net.parameters.tobytes()


@pytest.mark.parametrize("duplicate", [lambda layer: pickle.loads(pickle.dumps(layer)),
                                       copy.deepcopy], ids=["pickle", "deepcopy"])
def test_a_layer_of_a_network_copies_on_its_own(duplicate):
    net = cr.mlp([3, 4, 2], seed=0)
    layer = net.layers[0]
    clone = duplicate(layer)
    assert clone._owner is None and layer._owner() is net
    for key, value in layer.params.items():
        assert np.array_equal(clone.params[key], value)
        assert not np.shares_memory(clone.params[key], net.parameters)
    other = cr.Sequential([clone], dtype=np.float32)  # free to join another network
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(other.forward(X), layer.forward(X))
    other.parameters[:] = 0.0  # arrays of its own: the first network is untouched
    assert np.any(layer.params["W"] != 0)


@pytest.mark.parametrize("duplicate", [lambda net: pickle.loads(pickle.dumps(net)),
                                       copy.deepcopy], ids=["pickle", "deepcopy"])
def test_the_layers_of_a_copied_network_belong_to_the_copy(duplicate):
    net = cr.mlp([3, 4, 2], seed=0)
    clone = duplicate(net)
    assert all(layer._owner() is clone for layer in clone.layers)
    assert all(layer._owner() is net for layer in net.layers)
    with pytest.raises(ValueError, match="already belongs to another network"):
        cr.Sequential([clone.layers[0]])
