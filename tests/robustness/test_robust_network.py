"""Robustness of the network entry points: ``Sequential.forward/backward``, ``mlp``,
``Sequential.from_architecture`` and the constructors of the configurable layers.

Every call either returns a correct result or raises ``ValueError``/``TypeError`` naming the
argument (see ``conftest.py`` for the contract and the known-bug register).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule._random import as_generator
from chainrule.init import INITIALIZERS
from chainrule.layers.activations import ACTIVATIONS, ELU, LeakyReLU
from chainrule.layers.builders import mlp
from chainrule.layers.dense import MAX_FEATURES, Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.rescale import Rescale
from chainrule.layers.sequential import Sequential

ROBUST = settings.get_profile("chainrule-robustness")
FLOAT_DTYPES = [np.float32, np.float64]
IN, OUT = 3, 2


def softmax_net(dtype: type) -> Sequential:
    return mlp([IN, 4, OUT], activation="tanh", output="softmax", dtype=dtype, seed=0)


def width_3_inputs(robust):
    """X of any kind, often (n_samples, 3) so that the valid path is exercised too."""
    n_rows = st.integers(0, 4)
    return st.one_of(
        robust.hostile_inputs(),
        robust.hostile_arrays(shape=st.tuples(n_rows, st.just(IN))),
        robust.hostile_arrays(shape=st.tuples(n_rows, st.just(IN)), dtypes=robust.NUMERIC_DTYPES),
        robust.moderate_arrays(st.tuples(st.integers(1, 4), st.just(IN))),
        robust.moderate_arrays(st.tuples(st.integers(1, 4), st.just(IN)), dtype=np.float32),
    )


# ------------------------------------------------------------------------------ forward


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@settings(ROBUST, max_examples=120)
@given(data=st.data())
def test_forward_returns_softmax_rows_or_rejects_x(robust, data, dtype):
    net = softmax_net(dtype)
    X = data.draw(width_3_inputs(robust), label="X")
    outcome = robust.call(net.forward, X, names=("X",))
    array = robust.as_array(X)
    valid = robust.is_clean_real(X, ndim=(2,), dtype_max=np.finfo(dtype).max) and (
        array.shape[1] == IN
    )
    if outcome.ok:
        assert valid, f"forward accepted X that is not clean (n_samples, {IN}) data: {X!r}"
        Y = outcome.value
        assert Y.shape == (array.shape[0], OUT) and Y.dtype == dtype
        assert np.isfinite(Y).all() and (Y >= 0).all() and (Y <= 1).all()
        np.testing.assert_allclose(Y.sum(axis=1), 1.0, rtol=1e-5)
    else:
        assert not (valid and robust.max_abs(X) <= robust.MODERATE), (
            f"forward rejected valid, moderate X: {outcome.error!r}"
        )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@settings(ROBUST, max_examples=80)
@given(data=st.data())
def test_backward_returns_dx_or_rejects_dy(robust, data, dtype):
    net = softmax_net(dtype)
    n = data.draw(st.integers(1, 4), label="n_samples")
    net.forward(data.draw(robust.moderate_arrays((n, IN)), label="X"), training=True)
    if data.draw(st.booleans(), label="hostile"):
        dY = data.draw(st.one_of(robust.hostile_inputs(), robust.hostile_arrays(shape=(n, OUT))),
                       label="dY")
    else:
        dY = data.draw(robust.moderate_arrays((n, OUT)), label="dY")
    outcome = robust.call(net.backward, dY, names=("dY",))
    array = robust.as_array(dY)
    valid = robust.is_clean_real(dY, ndim=(2,), dtype_max=np.finfo(dtype).max) and (
        array.shape == (n, OUT)
    )
    if outcome.ok:
        assert valid, f"backward accepted dY that is not clean ({n}, {OUT}) data: {dY!r}"
        dX = outcome.value
        assert dX.shape == (n, IN) and dX.dtype == dtype
        if robust.max_abs(dY) <= robust.MODERATE:
            assert np.isfinite(dX).all()
            assert np.isfinite(net.gradients).all()
    else:
        assert not (valid and robust.max_abs(dY) <= robust.MODERATE), (
            f"backward rejected a valid, moderate dY: {outcome.error!r}"
        )


# ------------------------------------------------------------------------------ builders


def _valid_activation(value, n_hidden: int) -> bool:
    if isinstance(value, str):
        return value in ACTIVATIONS
    if isinstance(value, (list, tuple)):
        return len(value) == n_hidden and all(isinstance(v, str) and v in ACTIVATIONS
                                              for v in value)
    return False


def _valid_seed(value) -> bool:
    try:
        as_generator(value)
    except (TypeError, ValueError):
        return False
    return True


def _valid_sizes(robust, value) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) >= 2
        and all(robust.in_range(v, low=1, integer=True) for v in value)
    )


MLP_NAMES = {
    "sizes": ("sizes", "in_features", "out_features"),
    "activation": ("activation",),
    "output": ("output", "activation"),
    "dropout": ("dropout",),
    "l1": ("l1",),
    "l2": ("l2",),
    "bias": ("bias",),
    "init": ("init", "initializer", "zeros"),
    "dtype": ("dtype",),
    "seed": ("seed",),
}
MLP_VALID = {"sizes": [2, 3, 1], "activation": "relu", "output": "sigmoid", "dropout": 0.0,
             "l1": 0.0, "l2": 0.0, "bias": True, "init": None, "dtype": np.float32, "seed": 0}


def _mlp_valid(robust, which: str, value) -> bool:
    return {
        "sizes": lambda: _valid_sizes(robust, value),
        "activation": lambda: _valid_activation(value, 1),
        "output": lambda: isinstance(value, str) and value in ACTIVATIONS,
        "dropout": lambda: robust.in_range(value, 0, 1, high_open=True),
        "l1": lambda: robust.in_range(value, low=0),
        "l2": lambda: robust.in_range(value, low=0),
        "bias": lambda: isinstance(value, (bool, np.bool_)),
        "init": lambda: value is None or (isinstance(value, str) and value in INITIALIZERS
                                          and value != "zeros"),
        "dtype": lambda: robust.valid_float_dtype(value),
        "seed": lambda: _valid_seed(value),
    }[which]()


@settings(ROBUST, max_examples=200)
@given(data=st.data())
def test_mlp_builds_the_network_asked_for_or_names_the_bad_argument(robust, data):
    which = data.draw(st.sampled_from(sorted(MLP_NAMES)), label="argument")
    candidates = robust.hostile_scalars()
    if which == "sizes":
        candidates = st.one_of(
            candidates,
            st.lists(st.one_of(st.integers(-1, 4), robust.hostile_scalars()), max_size=4),
            st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple),
        )
    elif which in ("activation", "output"):
        candidates = st.one_of(candidates, st.sampled_from(["relu", "tanh", "nope", "", "ELU"]),
                               st.lists(st.sampled_from(["relu", "tanh", "x"]), max_size=2))
    elif which == "init":
        candidates = st.one_of(candidates, st.sampled_from(["he_normal", "zeros", "nope"]))
    elif which == "dtype":
        candidates = st.one_of(candidates, st.sampled_from(["float64", "f4", np.float16, int]))
    value = data.draw(candidates, label=which)
    kwargs = {**MLP_VALID, which: value}
    sizes = kwargs.pop("sizes")
    huge_size = which == "sizes" and isinstance(value, (list, tuple)) and any(
        robust.in_range(v, low=2**40, integer=True) for v in value)
    outcome = robust.call(
        mlp, sizes, **kwargs, names=MLP_NAMES[which],
    )
    valid = _mlp_valid(robust, which, value)
    if outcome.ok:
        robust.expect(valid, f"mlp accepted {which}={value!r}")
        net = outcome.value
        sizes = [int(s) for s in sizes]
        assert (net.in_features, net.out_features) == (sizes[0], sizes[-1])
        assert net.dtype in (np.float32, np.float64)
        Y = net.forward(np.zeros((2, sizes[0])))
        assert Y.shape == (2, sizes[-1]) and np.isfinite(Y).all()
    else:
        assert not valid or huge_size, (
            f"mlp rejected the valid {which}={value!r}: {outcome.error!r}")


ARCHITECTURE_KEYS = ("input_dim", "output_dim", "activation", "dropout", "bias", "l1", "l2",
                     "init")


@settings(ROBUST, max_examples=120)
@given(data=st.data())
def test_from_architecture_builds_or_names_the_entry(robust, data):
    entry = {"input_dim": 2, "output_dim": 3, "activation": "relu"}
    key = data.draw(st.sampled_from([*ARCHITECTURE_KEYS, "units", None]), label="key")
    value = data.draw(robust.hostile_scalars(), label="value")
    if key is None:  # the entry itself, or the whole architecture, is hostile
        architecture = data.draw(st.one_of(robust.hostile_scalars(), st.just([value])),
                                 label="architecture")
    else:
        architecture = [{**entry, key: value}]
    outcome = robust.call(
        Sequential.from_architecture, architecture, seed=0,
        names=("architecture", "architecture[0]"),
    )
    if outcome.ok:
        net = outcome.value
        assert isinstance(architecture, list) and len(architecture) == 1
        Y = net.forward(np.ones((2, net.in_features)))
        assert Y.shape == (2, net.out_features) and np.isfinite(Y).all()
        if key == "dropout":
            assert robust.in_range(value, 0, 1, high_open=True)
        if key in ("input_dim", "output_dim"):
            assert robust.in_range(value, low=1, integer=True)


# ------------------------------------------------------------------------------ layer settings

LAYER_SETTINGS = [
    # (constructor taking the value, argument name, the valid domain)
    (lambda v: Dense(v, 2), "in_features", {"low": 1, "high": MAX_FEATURES, "integer": True}),
    (lambda v: Dense(2, v), "out_features", {"low": 1, "high": MAX_FEATURES, "integer": True}),
    (lambda v: Dense(2, 2, l1=v), "l1", {"low": 0}),
    (lambda v: Dense(2, 2, l2=v), "l2", {"low": 0}),
    (lambda v: Dropout(v), "p", {"low": 0, "high": 1, "high_open": True}),
    (lambda v: LeakyReLU(v), "alpha", {"low": 0, "high": 1}),
    (lambda v: ELU(v), "alpha", {"low": 0, "low_open": True}),
]


@pytest.mark.parametrize(("build", "name", "domain"), LAYER_SETTINGS,
                         ids=["Dense.in", "Dense.out", "Dense.l1", "Dense.l2", "Dropout.p",
                              "LeakyReLU.alpha", "ELU.alpha"])
@settings(ROBUST, max_examples=60)
@given(value=st.one_of(st.floats(-2, 2), st.integers(-2, 4)))
def test_layer_settings_are_checked(robust, build, name, domain, value):
    _check_layer_setting(robust, build, name, domain, value)


@pytest.mark.parametrize(("build", "name", "domain"), LAYER_SETTINGS,
                         ids=["Dense.in", "Dense.out", "Dense.l1", "Dense.l2", "Dropout.p",
                              "LeakyReLU.alpha", "ELU.alpha"])
@settings(ROBUST, max_examples=60)
@given(data=st.data())
def test_layer_settings_reject_hostile_values(robust, build, name, domain, data):
    value = data.draw(robust.hostile_scalars(), label=name)
    _check_layer_setting(robust, build, name, domain, value)


def _check_layer_setting(robust, build, name, domain, value):
    outcome = robust.call(build, value, names=(name,))
    valid = robust.in_range(value, **domain)
    if outcome.ok:
        assert valid, f"{name}={value!r} was accepted"
        layer = outcome.value
        stored = getattr(layer, name)
        assert stored == (int(value) if domain.get("integer") else float(value))
        if name in ("in_features", "out_features") and stored <= 16:
            net = Sequential([layer], seed=0)  # the layer builds and computes
            assert net.forward(np.ones((1, layer.in_features))).shape == (1, layer.out_features)
    else:
        assert not valid, f"the valid {name}={value!r} was rejected: {outcome.error!r}"


@settings(ROBUST, max_examples=100)
@given(data=st.data())
def test_rescale_statistics_are_checked(robust, data):
    n = data.draw(st.integers(1, 3), label="n_features")
    good = data.draw(robust.moderate_arrays((n,), low=0.5, high=10), label="good")
    which = data.draw(st.sampled_from(["offset", "scale"]), label="argument")
    bad = data.draw(st.one_of(robust.hostile_inputs(), robust.hostile_arrays(shape=(n,)),
                              robust.moderate_arrays((n,), low=0.5, high=10)), label=which)
    offset, scale = (bad, good) if which == "offset" else (good, bad)
    outcome = robust.call(Rescale, offset, scale, names=(which, "offset and scale"))
    if outcome.ok:
        layer = outcome.value
        array = robust.as_array(bad)
        assert robust.is_clean_real(bad, ndim=(1,)) and array.shape == (n,)
        assert (layer.scale > 0).all()
        if robust.max_abs(bad) <= robust.MODERATE:
            X = np.ones((2, n))
            np.testing.assert_allclose(layer.forward(X), (X - layer.offset) / layer.scale)


# ------------------------------------------------------------- fixed bugs (regression tests)


def test_bug_b03_layer_size_beyond_int64(robust):
    robust.rejects(mlp, [2, 10**30, 1], names=("sizes", "out_features", "in_features"))


def test_bug_b03_parameter_count_overflows(robust):
    robust.rejects(mlp, [2, 2**62, 2**62], names=("sizes", "out_features", "in_features"))


def test_bug_b03_dense_in_features_2_62(robust):
    robust.rejects(lambda: Sequential([Dense(2**62, 2)]), names=("in_features",))


def test_bug_b01_dropout_huge_int(robust):
    robust.rejects(Dropout, 10**400, names=("p",))


@pytest.mark.parametrize(("sizes", "dropout"), [([2, 3, 1], ""), ([2, 3, 1], None), ([2, 1], "x")])
def test_bug_b26_mlp_dropout_unchecked(robust, sizes, dropout):
    robust.rejects(mlp, sizes, dropout=dropout, names=("dropout",), error=TypeError)


def test_bug_b11_mlp_sizes_none(robust):
    robust.rejects(mlp, None, names=("sizes",), error=TypeError)


def test_bug_b11_mlp_activation_none(robust):
    robust.rejects(mlp, [2, 3, 1], activation=None, names=("activation",), error=TypeError)


def test_bug_b11_sequential_none(robust):
    robust.rejects(Sequential, None, names=("layers",), error=TypeError)
