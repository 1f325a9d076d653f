"""save → load reproduces every registered layer type; configs of losses, optimizers, schedules.

The lists come from the registries, so a newly registered class is covered automatically (a
layer type with required constructor arguments needs an example in ``_io_cases.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from _io_cases import network_with

from chainrule.errors import ModelFormatError
from chainrule.io import load, network_from, read_tensors, save
from chainrule.layers import parameters
from chainrule.layers.base import LAYERS
from chainrule.layers.builders import mlp
from chainrule.layers.sequential import Sequential
from chainrule.losses import LOSSES, Loss, get_loss
from chainrule.optim.base import OPTIMIZERS, Optimizer
from chainrule.optim.schedules import SCHEDULES, Schedule

DTYPES = [np.float32, np.float64]


def _round_trip(net, tmp_path, **kwargs):
    path = tmp_path / "model.safetensors"
    save(net, path)
    return load(path, **kwargs)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("layer_type", LAYERS.names())
def test_every_layer_type_round_trips_bit_for_bit(tmp_path, rng, layer_type, dtype):
    net = network_with(layer_type, dtype=dtype, seed=1)
    loaded = _round_trip(net, tmp_path)
    assert loaded.get_config() == net.get_config()
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in net.layers]
    assert loaded.dtype == net.dtype
    # Same flat layout and values; every layer's parameters are views into the flat buffer.
    assert loaded.n_weights == net.n_weights
    assert np.array_equal(loaded.parameters, net.parameters)
    for name, param, grad in loaded.named_parameters():
        assert np.shares_memory(param, loaded.parameters), name
        assert np.shares_memory(grad, loaded.gradients), name
    X = rng.normal(size=(7, 3))
    assert np.array_equal(loaded.forward(X), net.forward(X))
    assert loaded.forward(X).dtype == dtype


def test_a_trained_network_predicts_identically_and_keeps_training(tmp_path, rng):
    from chainrule.optim.adam import Adam

    net = mlp([5, 16, 16, 3], activation="tanh", output="softmax", dtype=np.float64, seed=3)
    optimizer = Adam(lr=0.01).bind_network(net)
    X = rng.normal(size=(32, 5))
    for _ in range(5):
        net.forward(X, training=True)
        net.backward(rng.normal(size=(32, 3)))
        optimizer.step()
    loaded = _round_trip(net, tmp_path)
    assert np.array_equal(loaded.forward(X), net.forward(X))
    # The loaded buffers are what an optimizer updates.
    Adam(lr=0.01).bind_network(loaded)
    loaded.forward(X, training=True)
    loaded.backward(np.ones((32, 3)))
    assert np.abs(loaded.gradients).sum() > 0


def test_str_and_pathlike_paths_and_overwrite(tmp_path, rng):
    first = mlp([2, 3, 1], seed=0)
    second = mlp([2, 4, 4, 1], seed=1)
    path = tmp_path / "model.safetensors"
    save(first, str(path))
    assert load(str(path)).get_config() == first.get_config()
    save(second, path)  # replaces the first
    loaded = load(path)
    assert loaded.get_config() == second.get_config()
    X = rng.normal(size=(4, 2))
    assert np.array_equal(loaded.forward(X), second.forward(X))


def test_the_file_is_plain_safetensors(tmp_path):
    safe_open = pytest.importorskip("safetensors").safe_open

    net = mlp([3, 4, 2], seed=0)
    path = tmp_path / "model.safetensors"
    save(net, path)
    with safe_open(str(path), framework="numpy") as file:
        metadata = file.metadata()
        assert sorted(file.keys()) == ["0.W", "0.b", "2.W", "2.b"]
        for name, param, _ in net.named_parameters():
            value = file.get_tensor(name)
            assert value.dtype == np.float32 and np.array_equal(value, param)
    assert metadata["format"] == "chainrule"
    assert metadata["format_version"] == "1"
    assert json.loads(metadata["config"]) == net.get_config()
    tensors, read_metadata = read_tensors(path)
    assert read_metadata == metadata
    assert sorted(tensors) == ["0.W", "0.b", "2.W", "2.b"]


def test_dropout_masks_of_a_loaded_network_follow_its_seed(tmp_path):
    net = network_with("Dropout", seed=0)
    path = tmp_path / "model.safetensors"
    save(net, path)
    X = np.ones((6, 3))
    a, b = load(path, seed=5), load(path, seed=5)
    assert np.array_equal(a.forward(X, training=True), b.forward(X, training=True))


def test_dropout_masks_of_a_loaded_network_are_those_of_a_network_built_with_its_seed(tmp_path):
    net = network_with("Dropout", seed=0)
    path = tmp_path / "model.safetensors"
    save(net, path)
    X = np.ones((6, 3))
    built = Sequential.from_config(net.get_config(), seed=5)
    expected = built.forward(X, training=True) != 0
    np.testing.assert_array_equal(load(path, seed=5).forward(X, training=True) != 0, expected)


def test_loading_draws_no_initial_values(tmp_path, monkeypatch):
    net = mlp([3, 4, 2], output="softmax", seed=0)
    path = tmp_path / "model.safetensors"
    save(net, path)

    def refuse(*args):
        raise AssertionError("load drew initial values that the file's overwrite")

    monkeypatch.setattr(parameters, "initial_value", refuse)
    np.testing.assert_array_equal(load(path).parameters, net.parameters)


def _traced_peak(function):
    """``(result, peak bytes allocated while function() ran, bytes it left allocated)``."""
    tracemalloc.start()
    try:
        result = function()
        left, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, left


def test_loading_reads_the_values_straight_into_the_network(tmp_path):
    net = mlp([500, 500, 10], seed=0)  # about 1 MB of float32 parameters
    path = tmp_path / "model.safetensors"
    save(net, path)
    loaded, peak, left = _traced_peak(lambda: load(path))
    assert left >= loaded.parameters.nbytes + loaded.gradients.nbytes
    # Beyond the network's parameter and gradient buffers, only the header: neither the file's
    # bytes nor decoded copies of its tensors are held, and no initial values are drawn (in
    # float64) only to be overwritten.
    assert peak - left < 0.1 * net.parameters.nbytes
    assert np.array_equal(loaded.parameters, net.parameters)


def test_saving_writes_the_parameters_without_copying_them(tmp_path):
    net = mlp([500, 500, 10], seed=0)
    _, peak, _ = _traced_peak(lambda: save(net, tmp_path / "model.safetensors"))
    assert peak < 0.1 * net.parameters.nbytes  # neither per-tensor bytes nor the whole file


def test_saving_and_loading_do_not_import_safetensors(tmp_path):
    code = ("import sys, chainrule as cr; path = sys.argv[1]; "
            "cr.save(cr.mlp([2, 3, 1]), path); cr.load(path); "
            "print('safetensors' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "model.safetensors")],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# Configs of everything else a checkpoint stores
# ---------------------------------------------------------------------------------------------

LOSS_EXAMPLES = {
    "huber": {"delta": 0.5, "reduction": "sum"},
    "binary_cross_entropy": {"label_smoothing": 0.1},
    "cross_entropy": {"from_logits": True, "label_smoothing": 0.05, "reduction": "sum"},
    "mae": {"reduction": "sum"},
}


def _json_round_trip(config):
    return json.loads(json.dumps(config, allow_nan=False))


@pytest.mark.parametrize("name", LOSSES.names())
def test_every_loss_config_round_trips(rng, name):
    loss = LOSSES.get(name)(**LOSS_EXAMPLES.get(name, {}))
    config = loss.get_config()
    assert config["name"] == name  # the config alone names the loss, as an optimizer's does
    for clone in (type(loss).from_config(_json_round_trip(config)),
                  Loss.from_config(_json_round_trip(config))):
        assert type(clone) is type(loss)
        assert clone.get_config() == config
    assert type(get_loss(_json_round_trip(config))) is type(loss)
    assert LOSSES.get(LOSSES.name_of(loss)) is type(loss)
    # Same values and gradients: probabilities against one-hot rows suit every loss.
    y_pred = rng.dirichlet(np.ones(3), size=6)
    y_true = np.eye(3)[rng.integers(3, size=6)]
    assert clone.forward(y_pred, y_true) == loss.forward(y_pred, y_true)
    assert np.array_equal(clone.backward(), loss.backward())


OPTIMIZER_EXAMPLES = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "adam": {"lr": 0.02, "beta1": 0.8, "amsgrad": True, "clip_norm": 1.0},
    "adamw": {"lr": 0.01, "weight_decay": 0.05},
    "rmsprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
    "adagrad": {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
}


def _train(net, optimizer, rng, steps):
    for _ in range(steps):
        net.gradients[...] = rng.normal(size=net.gradients.shape)
        optimizer.step()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_resumes_bit_for_bit_from_a_file(tmp_path, name, dtype):
    """Weights + optimizer state in one file via write_tensors, as a checkpoint stores them."""
    from chainrule.io import write_tensors

    optimizer = OPTIMIZERS.get(name)(**OPTIMIZER_EXAMPLES.get(name, {}))
    config = optimizer.get_config()
    assert type(optimizer).from_config(_json_round_trip(config)).get_config() == config
    assert Optimizer.from_config(_json_round_trip(config)).get_config() == config

    net = mlp([4, 6, 3], dtype=dtype, seed=0)
    optimizer.bind_network(net)
    _train(net, optimizer, np.random.default_rng(1), steps=3)
    optimizer.lr = 0.5 * optimizer.lr  # as a schedule would have set it
    state = optimizer.state_dict()
    arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in state.items() if k not in arrays}
    path = tmp_path / "checkpoint.safetensors"
    write_tensors(
        path,
        {**{f"model.{n}": p for n, p, _ in net.named_parameters()},
         **{f"optimizer.{k}": v for k, v in arrays.items()}},
        {"model": json.dumps(net.get_config()), "optimizer": json.dumps(config),
         "optimizer_scalars": json.dumps(scalars)},
    )

    tensors, metadata = read_tensors(path)
    weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
    resumed = network_from(metadata["model"], weights, source=str(path))
    resumed_optimizer = Optimizer.from_config(json.loads(metadata["optimizer"]))
    resumed_optimizer.bind_network(resumed)
    resumed_optimizer.load_state_dict({
        **json.loads(metadata["optimizer_scalars"]),
        **{k.removeprefix("optimizer."): v for k, v in tensors.items()
           if k.startswith("optimizer.")},
    })
    restored = resumed_optimizer.state_dict()
    assert restored.keys() == state.keys()
    for key, value in state.items():
        assert np.array_equal(restored[key], value), key

    _train(net, optimizer, np.random.default_rng(2), steps=4)
    _train(resumed, resumed_optimizer, np.random.default_rng(2), steps=4)
    assert np.array_equal(resumed.parameters, net.parameters)


SCHEDULE_EXAMPLES = {
    "constant": {"unit": "step"},
    "step": {"step_size": 3, "gamma": 0.5},
    "exponential": {"gamma": 0.9, "unit": "step"},
    "cosine": {"t_max": 10, "min_lr": 0.001, "warmup": 2},
    "inverse_scaling": {"power_t": 0.25, "unit": "epoch"},
}


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_every_schedule_config_round_trips(name):
    schedule = SCHEDULES.get(name)(**SCHEDULE_EXAMPLES.get(name, {}))
    config = schedule.get_config()
    for clone in (type(schedule).from_config(_json_round_trip(config)),
                  Schedule.from_config(_json_round_trip(config))):
        assert type(clone) is type(schedule)
        assert clone.get_config() == config
        assert [clone(t, 0.1) for t in range(15)] == [schedule(t, 0.1) for t in range(15)]


def test_load_refuses_non_finite_weights_unless_asked(tmp_path):
    """load checks the values after telling a model file from a checkpoint: NaN weights are
    refused naming the tensor, read with check_finite=False, and check_finite is a bool."""
    net = mlp([2, 3, 1], seed=0)
    net.parameters[0] = np.nan  # the first value of 0.W
    path = tmp_path / "m.safetensors"
    save(net, path)
    with pytest.raises(ModelFormatError, match=r"tensor '0.W' holds 1 NaN or infinite value"):
        load(path)
    assert np.isnan(load(path, check_finite=False).parameters[0])
    with pytest.raises(TypeError, match="check_finite must be True or False, got 'yes'"):
        load(path, check_finite="yes")


def test_loss_from_config_errors():
    """The contract of Optimizer.from_config: the base class needs a name (it cannot build the
    abstract Loss), a subclass takes its own name, unknown keys are listed with the valid ones."""
    with pytest.raises(ValueError, match=r"^loss config needs a 'name'; valid names: \[.*'mse'"):
        Loss.from_config({})
    with pytest.raises(ValueError, match=r"^loss config needs a 'name'"):
        Loss.from_config({"reduction": "sum"})
    assert type(LOSSES.get("mse").from_config({"name": "mse"})) is LOSSES.get("mse")
    assert LOSSES.get("mse").from_config({}).reduction == "mean"  # a subclass needs no name
    with pytest.raises(ValueError, match="names 'mae' .*which is not a MSE"):
        LOSSES.get("mse").from_config({"name": "mae"})
    with pytest.raises(TypeError, match=(r"^Huber config has unknown key\(s\) \['dlta'\]; "
                                         r"valid keys: \['name', 'delta', 'reduction'\]$")):
        Loss.from_config({"name": "huber", "dlta": 2})
    with pytest.raises(TypeError, match="^loss config must be a dict, got str$"):
        Loss.from_config("mse")
