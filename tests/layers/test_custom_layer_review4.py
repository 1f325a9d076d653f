"""Review 4 of the layer base class: a custom layer used on its own before it is built gets the
same NotBuiltError as Dense; penalties of a custom layer are saved when it takes them as
constructor arguments (as Dense), and a config that would lose them is refused."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from chainrule.errors import NotBuiltError
from chainrule.io import load, save
from chainrule.layers.activations import Tanh
from chainrule.layers.base import LAYERS, Layer, ParameterSpec
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential

NOT_BUILT = r"has no parameters yet: put it in a Sequential or call layer.build\(dtype, seed\)"


def _normal_around_one(shape, rng):
    return rng.normal(1.0, 0.1, shape)


class Review4Scale(Layer):
    """Y = X ⊙ s with s a penalised weight; its forward does not check anything itself."""

    def __init__(self, n_features):
        super().__init__()
        self.n_features = n_features

    def parameter_specs(self):
        return [ParameterSpec("s", (self.n_features,), "weight", _normal_around_one)]

    def get_config(self):
        return {"n_features": self.n_features}

    def forward(self, X, training=False):
        self._remember(training, X=X)
        return X * self.params["s"]

    def backward(self, dY):
        self.grads["s"][...] = (dY * self._recall("X")).sum(axis=0)
        return dY * self.params["s"]


class Review4PenalisedScale(Review4Scale):
    """Takes its penalties in the constructor and returns them from get_config, as Dense."""

    def __init__(self, n_features, l1=0.0, l2=0.0):
        super().__init__(n_features)
        self.l1, self.l2 = l1, l2

    def get_config(self):
        return {"n_features": self.n_features, "l1": self.l1, "l2": self.l2}


@pytest.fixture
def registered(monkeypatch):
    """The classes above registered for this test only (the registry is global: other tests
    list every registered layer)."""
    monkeypatch.setattr(LAYERS, "_entries", dict(LAYERS._entries))
    monkeypatch.setattr(LAYERS, "_canonical", dict(LAYERS._canonical))
    for cls in (Review4Scale, Review4PenalisedScale):
        LAYERS.register(cls.__name__)(cls)


# ------------------------------------------------------------------------- not built
def test_a_custom_layer_used_unbuilt_gets_the_same_error_as_dense():
    with pytest.raises(NotBuiltError, match=NOT_BUILT) as dense_error:
        Dense(4, 2).forward(np.ones((2, 4)))
    with pytest.raises(NotBuiltError, match=NOT_BUILT) as custom_error:
        Review4Scale(4).forward(np.ones((2, 4)))
    assert str(custom_error.value) == str(dense_error.value).replace("Dense", "Review4Scale")
    layer = Review4Scale(4)  # kept: the dict refers to its layer weakly
    with pytest.raises(NotBuiltError, match="Review4Scale " + NOT_BUILT):
        layer.grads["s"]


def test_an_unknown_key_is_still_a_key_error_and_a_built_layer_works():
    layer = Review4Scale(3)
    with pytest.raises(KeyError, match="'nope'"):
        layer.params["nope"]
    layer.build(np.float64, seed=0)
    expected = np.tile(layer.params["s"], (2, 1))
    np.testing.assert_array_equal(layer.forward(np.ones((2, 3))), expected)
    assert "s" in layer.params and layer.params.get("t") is None


ORPHANED = (r"not in this dict, whose layer \(a Dense\) no longer exists: nothing referred to "
            r"it once the dict was taken")


def test_a_dict_that_outlived_its_layer_says_the_layer_is_gone():
    """``Dense(3, 2).params`` frees the layer at once (the dict refers to it weakly), before
    it was built: the missing key is a KeyError saying so, and how to keep the layer."""
    params = Dense(3, 2).params
    with pytest.raises(KeyError, match=f"'W': {ORPHANED}.*layer.build\\(dtype, seed\\)"):
        params["W"]
    for orphan in (copy.deepcopy(params), pickle.loads(pickle.dumps(Dense(3, 2).grads))):
        with pytest.raises(KeyError, match=ORPHANED):
            orphan["b"]
    assert params.get("W") is None and "W" not in params  # a dict still


def test_copies_and_pickles_keep_the_clear_error():
    layer = Review4Scale(3)
    for clone in (layer.copy(), copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        with pytest.raises(NotBuiltError, match=NOT_BUILT):
            clone.forward(np.ones((1, 3)))
    net = Sequential([Review4Scale(3)], dtype=np.float64, seed=0)
    for clone in (net.layers[0].copy(), pickle.loads(pickle.dumps(net)).layers[0]):
        np.testing.assert_array_equal(clone.params["s"], net.layers[0].params["s"])
        with pytest.raises(KeyError, match="'nope'"):
            clone.params["nope"]


# ------------------------------------------------------------------------- penalties
def _network(cls, **penalties):
    net = Sequential([Dense(3, 4), cls(4), Tanh(), Dense(4, 2)], dtype=np.float64, seed=0)
    for key, value in penalties.items():
        setattr(net.layers[1], key, value)
    return net


def test_penalties_a_custom_layer_takes_as_arguments_survive_save_and_load(tmp_path, registered):
    net = _network(Review4PenalisedScale, l1=0.01, l2=0.5)
    assert net.penalty() > 0
    path = tmp_path / "model.safetensors"
    save(net, path)
    layer = load(path).layers[1]
    assert type(layer) is Review4PenalisedScale and (layer.l1, layer.l2) == (0.01, 0.5)


def test_a_config_that_would_lose_penalties_is_refused_before_writing(tmp_path, registered):
    net = _network(Review4Scale, l2=1e-3)
    path = tmp_path / "model.safetensors"
    with pytest.raises(ValueError, match=r"Review4Scale #1: l2=0.001 is set, but its "
                                         r"get_config\(\) does not return it"):
        save(net, path)
    assert not path.exists()
    net.layers[1].l2 = 0.0  # nothing to lose: saved as before
    save(net, path)
    config = json.loads(json.dumps(Sequential.get_config(load(path))))
    assert config["layers"][1]["config"] == {"n_features": 4}
