"""Sequential: flat storage, builders, reproducibility, presentation."""

from __future__ import annotations

import copy
import gc
import io
import pickle
import re

import numpy as np
import pytest

import chainrule as cr


def test_parameters_are_views_into_one_buffer_weights_first():
    net = cr.mlp([3, 5, 4, 2], seed=0)
    assert net.parameters.ndim == 1 and net.parameters.flags.c_contiguous
    assert net.n_parameters == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2
    assert net.n_weights == 3 * 5 + 5 * 4 + 4 * 2
    for name, param, grad in net.named_parameters():
        assert np.shares_memory(param, net.parameters), name
        assert np.shares_memory(grad, net.gradients), name
    W0 = net.layers[0].params["W"]
    assert np.shares_memory(W0, net.parameters[: 3 * 5])
    biases = net.parameters[net.n_weights :]
    assert np.all(biases == 0)  # biases start at zero, and they are the suffix
    net.parameters[0] = 42.0
    assert W0[0, 0] == 42.0


def test_named_parameters_order_and_names():
    net = cr.Sequential([cr.Dense(2, 3), cr.ReLU(), cr.Dense(3, 1, bias=False), cr.Sigmoid()], seed=0)
    names = [name for name, _, _ in net.named_parameters()]
    assert names == ["0.W", "0.b", "2.W"]


def test_backward_overwrites_the_gradient_buffer(rng):
    net = cr.mlp([3, 4, 2], dtype=np.float64, seed=0)
    X = rng.normal(size=(5, 3))
    net.forward(X, training=True)
    dY = rng.normal(size=(5, 2))
    net.backward(dY)
    first = net.gradients.copy()
    net.forward(X, training=True)
    net.backward(dY)
    np.testing.assert_array_equal(net.gradients, first)  # overwritten, not accumulated


def test_same_seed_gives_bit_identical_networks():
    a = cr.mlp([4, 8, 3], seed=123)
    b = cr.mlp([4, 8, 3], seed=123)
    c = cr.mlp([4, 8, 3], seed=124)
    assert a.parameters.tobytes() == b.parameters.tobytes()
    assert not np.array_equal(a.parameters, c.parameters)


def test_float32_and_float64_draw_the_same_initial_values():
    a = cr.mlp([4, 8, 3], seed=5, dtype=np.float32)
    b = cr.mlp([4, 8, 3], seed=5, dtype=np.float64)
    assert a.parameters.dtype == np.float32 and b.parameters.dtype == np.float64
    np.testing.assert_array_equal(a.parameters, b.parameters.astype(np.float32))


def test_inputs_are_converted_once_to_the_network_dtype(rng):
    net = cr.mlp([3, 2], seed=0)
    Y = net.forward(rng.normal(size=(4, 3)))  # float64 in
    assert Y.dtype == np.float32
    assert net.forward(np.ones((2, 3), dtype=int)).dtype == np.float32


def test_input_grad_false_skips_dx_but_keeps_parameter_gradients(rng):
    net = cr.mlp([3, 4, 2], dtype=np.float64, seed=0)
    X, dY = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    net.forward(X, training=True)
    dX = net.backward(dY)
    expected = net.gradients.copy()
    net.gradients[:] = 0
    assert net.backward(dY, input_grad=False) is None
    np.testing.assert_array_equal(net.gradients, expected)
    assert dX.shape == (5, 3)


def test_reusing_buffers_gives_the_same_numbers(rng):
    net = cr.mlp([3, 6, 2], activation="tanh", dtype=np.float64, seed=0)
    X, dY = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    expected_Y = net.forward(X, training=True).copy()
    net.backward(dY)
    expected_grads = net.gradients.copy()
    with net.reusing_buffers():
        for _ in range(3):
            Y = net.forward(X, training=True)
            net.backward(dY)
            np.testing.assert_array_equal(Y, expected_Y)
            np.testing.assert_array_equal(net.gradients, expected_grads)
        second = net.forward(X + 1.0, training=True)
        assert np.shares_memory(Y, second)  # reused inside the block
    first = net.forward(X)
    assert not np.shares_memory(first, net.forward(X))  # fresh arrays outside it


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda net: pickle.loads(pickle.dumps(net))],
                         ids=["deepcopy", "pickle"])
def test_a_network_copied_while_reusing_buffers_is_an_ordinary_network(duplicate, rng):
    """A copy taken inside the trainer's loop (a callback keeping the best model) neither
    carries the workspace nor stays in buffer-reuse mode, in which its results would alias."""
    net = cr.mlp([3, 6, 2], output="softmax", dtype=np.float64, seed=0)
    X, dY = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    with net.reusing_buffers():
        net.forward(X, training=True)
        net.backward(dY)
        clone = duplicate(net)
    assert all(layer._reusing_thread is None and not layer._workspace for layer in clone.layers)
    first = clone.forward(X, training=True)
    kept = first.copy()
    second = clone.forward(X + 1.0, training=True)
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    dX = clone.backward(dY)
    assert not np.shares_memory(dX, clone.backward(dY))
    with clone.reusing_buffers():  # and the copy can reuse its buffers as usual
        assert np.shares_memory(clone.forward(X, training=True), clone.forward(X, training=True))
    assert not np.shares_memory(clone.forward(X), clone.forward(X))


def test_inference_keeps_no_cache(rng):
    net = cr.mlp([3, 4, 2], seed=0)
    net.forward(rng.normal(size=(2, 3)), training=True)
    assert net.layers[0].cache
    net.forward(rng.normal(size=(2, 3)))
    assert all(not layer.cache for layer in net.layers)
    with pytest.raises(cr.NotBuiltError, match="training=True"):
        net.backward(np.ones((2, 2)))


@pytest.mark.parametrize("first", [
    [],                                    # Dense first: its infer writes into a new array
    [cr.layers.ReLU()],                    # in-place activation on the caller's X
    [cr.layers.Identity(), cr.layers.Tanh()],  # identity hands X on unchanged to an in-place one
    [cr.layers.Dropout(0.5), cr.layers.Sigmoid()],
])
def test_inference_never_writes_into_the_callers_X(first, rng):
    net = cr.Sequential([*first, cr.layers.Dense(3, 4), cr.layers.ReLU(), cr.layers.Dense(4, 2)],
                        seed=0)
    X = rng.normal(size=(5, 3)).astype(net.dtype)  # the network's dtype: no converted copy
    kept = X.copy()
    Y = net.forward(X)
    np.testing.assert_array_equal(X, kept)
    assert not np.shares_memory(Y, X)


@pytest.mark.parametrize("layers, training", [
    (lambda: [cr.layers.Dropout(0.5)], False),  # (training, it draws a mask: a new array)
    (lambda: [cr.layers.Identity()], False),
    (lambda: [cr.layers.Identity()], True),
    (lambda: [cr.layers.Dropout(0.0), cr.layers.Identity()], False),
    (lambda: [cr.layers.Dropout(0.0), cr.layers.Identity()], True),
], ids=["dropout", "identity", "identity-training", "both", "both-training"])
def test_a_network_that_changes_nothing_returns_a_new_array(layers, training, rng):
    """Its output is not the caller's X: writing into it must not change X."""
    net = cr.Sequential(layers(), seed=0)
    X = rng.normal(size=(4, 3)).astype(net.dtype)  # the network's dtype: no converted copy
    Y = net.forward(X, training=training)
    np.testing.assert_array_equal(Y, X)
    assert not np.shares_memory(Y, X)


def test_from_architecture_builds_the_tutorial_network():
    architecture = [
        {"input_dim": 2, "output_dim": 4, "activation": "relu"},
        {"input_dim": 4, "output_dim": 3, "activation": "relu", "dropout": 0.2, "l2": 0.01},
        {"input_dim": 3, "output_dim": 1, "activation": "sigmoid", "init": "small_normal"},
    ]
    net = cr.Sequential.from_architecture(architecture, seed=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "ReLU", "Dense", "ReLU", "Dropout", "Dense", "Sigmoid"]
    assert net.layers[2].l2 == 0.01 and net.layers[4].p == 0.2
    assert abs(net.layers[5].params["W"]).max() < 0.1  # small_normal: std 0.01


def test_mlp_per_layer_activations_and_default_inits():
    net = cr.mlp([2, 8, 8, 3], activation=["tanh", "relu"], output="softmax", seed=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "Tanh", "Dense", "ReLU", "Dense", "Softmax"]
    assert [net.layers[i].init for i in (0, 2, 4)] == ["glorot_uniform", "he_uniform", "glorot_uniform"]


def test_copy_is_independent_and_converts_dtype(rng):
    net = cr.mlp([3, 4, 1], output="sigmoid", seed=0)
    clone = net.copy(dtype=np.float64)
    assert clone.dtype == np.float64
    np.testing.assert_array_equal(clone.parameters, net.parameters.astype(np.float64))
    clone.parameters[:] = 0
    assert np.any(net.parameters != 0)
    X = rng.normal(size=(3, 3))
    assert net.forward(X).dtype == np.float32


def test_copy_copy_of_a_network_is_an_independent_copy_leaving_the_original_its_layers(rng):
    """As ndarray's: ``copy.copy(net)`` is ``net.copy()``. Sharing the layers would take them
    away from ``net`` (each layer belongs to one network) once the copy is freed."""
    net = cr.mlp([2, 4, 1], seed=0)
    X = rng.normal(size=(3, 2))
    expected = net.forward(X)
    clone = copy.copy(net)
    assert type(clone) is cr.Sequential and clone.dtype == net.dtype
    assert not any(a is b for a, b in zip(clone.layers, net.layers))
    assert not np.shares_memory(clone.parameters, net.parameters)
    np.testing.assert_array_equal(clone.forward(X), expected)
    assert all(layer._owner() is net for layer in net.layers)
    assert all(layer._owner() is clone for layer in clone.layers)
    del clone
    gc.collect()
    assert all(layer._owner() is net for layer in net.layers)  # still net's layers
    with pytest.raises(ValueError, match="already belongs to another network"):
        cr.Sequential([net.layers[0]])
    with pytest.raises(ValueError, match="belongs to a network"):
        net.layers[0].build(seed=3)
    assert np.shares_memory(net.layers[0].params["W"], net.parameters)


def test_copy_copy_of_a_layer_is_an_independent_copy(rng):
    """``copy.copy(layer)`` is ``layer.copy()``: a layer of a network copied and put into
    another network leaves the first network's layer on that network's buffer."""
    net = cr.mlp([2, 4, 1], seed=0)
    first = net.layers[0]
    X = rng.normal(size=(3, 2))
    expected = net.forward(X)
    clone = copy.copy(first)
    assert clone._owner is None and clone.params is not first.params
    assert not np.shares_memory(clone.params["W"], first.params["W"])
    np.testing.assert_array_equal(clone.params["W"], first.params["W"])
    other = cr.Sequential([clone, cr.ReLU(), cr.Dense(4, 1)], seed=1)
    assert np.shares_memory(first.params["W"], net.parameters)
    assert not np.shares_memory(first.params["W"], other.parameters)
    np.testing.assert_array_equal(net.forward(X), expected)  # net predicts as before
    alone = cr.Dense(2, 3).build(seed=0)
    W = alone.params["W"].copy()
    copy.copy(alone).params["W"][...] = 0  # a standalone layer's copy too has arrays of its own
    np.testing.assert_array_equal(alone.params["W"], W)


def test_config_round_trip_rebuilds_the_architecture():
    net = cr.mlp([3, 5, 2], activation="leaky_relu", output="softmax", dropout=0.1, l1=0.01, seed=0)
    rebuilt = cr.Sequential.from_config(net.get_config(), seed=0)
    assert rebuilt.get_config() == net.get_config()
    assert repr(rebuilt) == repr(net)


def test_summary_lists_layers_shapes_and_totals():
    net = cr.mlp([2, 16, 16, 1], output="sigmoid", seed=0)
    text = net.summary()
    assert "(n_samples, 16)" in text and "(n_samples, 1)" in text
    assert "Sigmoid()" in text
    assert f"parameters: {net.n_parameters:,}" in text
    assert "weights 304" in text and "biases 33" in text  # 2·16 + 16·16 + 16·1


def test_repr_and_info_show_weights_and_cached_values(rng):
    net = cr.mlp([2, 3, 1], activation="tanh", output="sigmoid", seed=0)
    assert "Dense(2 → 3" in repr(net) and "float32" in repr(net)
    buffer = io.StringIO()
    net.info(file=buffer)
    assert "no cached values" in buffer.getvalue()
    net.forward(rng.normal(size=(4, 2)), training=True)
    buffer = io.StringIO()
    net.info(file=buffer)
    text = buffer.getvalue()
    assert "W (2, 3)" in text and "b (3,)" in text and "cached Y (4, 1)" in text


def test_info_refuses_a_file_that_is_not_a_stream():
    net = cr.mlp([2, 3, 1], seed=0)
    with pytest.raises(TypeError, match=r"^file must be a text stream with a write method .*got str"):
        net.info(file="x")


def test_dropout_is_inverted_and_identity_in_evaluation():
    layer = cr.Dropout(0.25, seed=0)
    X = np.ones((2000, 50))
    np.testing.assert_array_equal(layer.forward(X), X)
    Y = layer.forward(X, training=True)
    kept = Y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(Y[kept], 1 / 0.75)
    dX = layer.backward(np.full_like(X, 2.0))
    np.testing.assert_array_equal(dX != 0, kept)


def test_dropout_masks_come_from_the_network_seed(rng):
    X = rng.normal(size=(6, 4))
    outputs = [
        cr.mlp([4, 8, 2], dropout=0.5, seed=seed).forward(X, training=True) for seed in (1, 1, 2)
    ]
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2])


def test_a_frozen_dropout_mask_outlives_evaluation_passes_and_copies(rng):
    net = cr.Sequential([cr.Dense(3, 6), cr.Dropout(0.5), cr.Dense(6, 1)], seed=0,
                        dtype=np.float64)
    X = rng.normal(size=(4, 3))
    first = net.forward(X, training=True)
    net[1].freeze_mask = True  # from here on, the last mask is kept
    np.testing.assert_array_equal(net.forward(X, training=True), first)
    net.forward(X)  # an evaluation pass keeps nothing in the caches
    np.testing.assert_array_equal(net.forward(X, training=True), first)
    for clone in (net.copy(), copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        np.testing.assert_array_equal(clone.forward(X, training=True), first)
    smaller = net.forward(X[:2], training=True)  # another batch size: a new mask, kept in turn
    net.forward(X[:2])
    np.testing.assert_array_equal(net.forward(X[:2], training=True), smaller)
    net[1].freeze_mask = False
    assert not np.array_equal(net.forward(X, training=True), net.forward(X, training=True))
    with pytest.raises(TypeError, match=r"freeze_mask must be True or False, got 'no' \(str\)"):
        net[1].freeze_mask = "no"


def test_sigmoid_has_no_overflow_for_huge_inputs():
    # pytest turns RuntimeWarnings (overflow) into errors, so this also checks there are none.
    for dtype in (np.float32, np.float64):
        Y = cr.Sigmoid().forward(np.array([[-1e4, -750.0, 0.0, 750.0, 1e4]], dtype=dtype))
        np.testing.assert_array_equal(Y, np.array([[0.0, 0.0, 0.5, 1.0, 1.0]], dtype=dtype))
    # just past the largest argument exp takes in each dtype (88.7 in float32, 709.8 in float64)
    for dtype, x in ((np.float32, [-89.0, -95.0, 95.0]), (np.float64, [-709.9, -720.0, 720.0])):
        Y = cr.Sigmoid().forward(np.array([x], dtype=dtype))
        assert Y.dtype == dtype and np.isfinite(Y).all() and Y[0, 2] == 1.0
        assert 0.0 <= Y[0, 1] <= Y[0, 0] < 1e-38
    # and full relative precision in the left tail: σ(−30) = e^−30/(1 + e^−30)
    assert cr.Sigmoid().forward(np.array([[-30.0]]))[0, 0] == pytest.approx(
        np.exp(-30) / (1 + np.exp(-30)), rel=1e-15)


def test_softmax_rows_sum_to_one_and_large_inputs_are_stable():
    X = np.array([[1000.0, 1001.0, 999.0], [-1000.0, 0.0, 1000.0], [0.0, 0.0, 0.0]])
    Y = cr.Softmax().forward(X)
    np.testing.assert_allclose(Y.sum(axis=1), 1.0)
    np.testing.assert_allclose(Y[2], 1 / 3)
    assert np.all(np.isfinite(Y))


def test_step_is_rosenblatts_threshold():
    Y = cr.Step().forward(np.array([[-0.5, 0.0, 2.0]]))
    np.testing.assert_array_equal(Y, [[0.0, 1.0, 1.0]])


def test_standalone_layer_build_and_reuse_in_a_network(rng):
    layer = cr.Dense(3, 2).build(seed=0)
    W = layer.params["W"].copy()
    net = cr.Sequential([layer, cr.Tanh()], dtype=np.float64)
    np.testing.assert_array_equal(net.layers[0].params["W"], W)  # values kept
    assert np.shares_memory(layer.params["W"], net.parameters)


@pytest.mark.parametrize("scaler_name, options", [
    ("Standardizer", {}), ("MinMaxScaler", {}),
    ("MinMaxScaler", {"feature_range": (-1.0, 1.0)}),  # lo ≠ 0 moves the offset
    ("MinMaxScaler", {"feature_range": (2.0, 5.0)}),
])
def test_rescale_layer_reproduces_a_fitted_scaler(scaler_name, options, rng):
    from chainrule import preprocessing

    X = rng.normal(loc=3.0, scale=[1.0, 10.0, 0.1], size=(50, 3))
    scaler = getattr(preprocessing, scaler_name)(**options).fit(X)
    layer = cr.Rescale.from_scaler(scaler)
    np.testing.assert_allclose(layer.forward(X), scaler.transform(X), rtol=1e-12, atol=1e-12)
    net = cr.Sequential([layer, cr.Dense(3, 1)], seed=0)  # float32 network stays float32
    assert net.forward(X).dtype == np.float32
    with pytest.raises(ValueError, match="scale must be positive"):
        cr.Rescale([0.0], [0.0])


def test_rescale_computes_with_its_current_statistics(rng):
    """New statistics take effect at once (the float32 copies of the old ones are not kept),
    and the arrays the layer hands out are read-only: an in-place edit would bypass that."""
    net = cr.Sequential([cr.Rescale([0.0, 0.0], [1.0, 1.0]), cr.Dense(2, 1)], seed=0)
    X, dY = rng.normal(size=(3, 2)), rng.normal(size=(3, 1))
    net.forward(X)  # the float32 statistics are made here
    net[0].offset = [10.0, 10.0]
    net[0].scale = np.array([4.0, 4.0])
    fresh = cr.Sequential([cr.Rescale([10.0, 10.0], [4.0, 4.0]), net[1].copy()])
    for other in (fresh, net.copy(), cr.Sequential.from_config(net.get_config())):
        other.parameters[:] = net.parameters
        np.testing.assert_array_equal(net.forward(X), other.forward(X))
        net.forward(X, training=True), other.forward(X, training=True)
        np.testing.assert_array_equal(net.backward(dY), other.backward(dY))
    for name in ("offset", "scale"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(net[0], name)[...] = 2.0
        with pytest.raises(ValueError, match="read-only"):
            getattr(copy.deepcopy(net)[0], name)[0] = 2.0
    with pytest.raises(ValueError, match=r"scale must be positive, got minimum 0\.0"):
        net[0].scale = [1.0, 0.0]
    with pytest.raises(cr.ShapeError, match=re.escape(
            "Rescale #0: offset must have shape (2,), one value per input feature, got (3,)")):
        net[0].offset = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(net[0].scale, [4.0, 4.0])  # unchanged by the refused values


def test_a_single_layer_is_a_network_of_one_and_the_network_is_a_sequence():
    dense = cr.Dense(2, 3)
    net = cr.Sequential(dense, seed=0)
    assert net.layers == [dense] and dense.label == "Dense #0"
    assert net.forward(np.ones((4, 2))).shape == (4, 3)
    net = cr.mlp([2, 4, 1], output="sigmoid", seed=0)
    assert len(net) == 4
    assert net[0] is net.layers[0] and net[-1] is net.layers[3]
    assert [type(layer).__name__ for layer in net] == ["Dense", "ReLU", "Dense", "Sigmoid"]


def test_repr_shows_the_non_default_settings():
    assert repr(cr.Dense(2, 3, bias=False, l1=0.25, l2=0.5)) == (
        "Dense(2 → 3, bias=False, init='glorot_uniform', l1=0.25, l2=0.5)")
    assert repr(cr.Dense(2, 3, l2=1e-4)).endswith("l2=0.0001)")
    assert repr(cr.Rescale([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])) == "Rescale(3 features)"


def test_softmax_function_returns_a_new_array_or_writes_into_out(rng):
    from chainrule.layers.activations import softmax

    X = rng.normal(size=(4, 3))
    kept = X.copy()
    P = softmax(X)
    assert not np.shares_memory(P, X)
    np.testing.assert_array_equal(X, kept)
    np.testing.assert_allclose(P, np.exp(X) / np.exp(X).sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_array_equal(P, cr.Softmax().forward(X))
    assert softmax(X, out=X) is X  # in place when asked
    np.testing.assert_array_equal(X, P)


def test_a_standalone_dense_converts_its_input_to_the_weights_dtype(rng):
    layer = cr.Dense(2, 3).build(dtype=np.float32, seed=0)
    X = rng.normal(size=(4, 2))  # float64
    Y = layer.forward(X)
    assert Y.dtype == np.float32
    W, b = layer.params["W"], layer.params["b"]
    np.testing.assert_array_equal(Y, X.astype(np.float32) @ W + b)


def test_a_standalone_dropout_without_a_seed_makes_its_own_generator():
    layer = cr.Dropout(0.5)
    assert layer.rng is None
    Y = layer.forward(np.ones((50, 40)), training=True)
    assert isinstance(layer.rng, np.random.Generator)
    assert set(np.unique(Y)) == {0.0, 2.0}  # inverted dropout: kept values scaled by 1/(1-p)
    assert 0.3 < (Y == 0).mean() < 0.7


def test_a_read_only_memory_mapped_network_gets_writeable_buffers(tmp_path, rng):
    joblib = pytest.importorskip("joblib")
    net = cr.mlp([3, 4, 2], seed=0)
    path = tmp_path / "net.joblib"
    joblib.dump(net, path)
    loaded = joblib.load(path, mmap_mode="r")  # what joblib's parallel workers receive
    assert loaded.parameters.flags.writeable and loaded.gradients.flags.writeable
    np.testing.assert_array_equal(loaded.parameters, net.parameters)
    for _, param, grad in loaded.named_parameters():
        assert np.shares_memory(param, loaded.parameters)
        assert np.shares_memory(grad, loaded.gradients)
    X = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    loaded.parameters[0] += 1.0  # an optimizer step moves the layers' weights ...
    assert loaded.layers[0].params["W"][0, 0] == net.layers[0].params["W"][0, 0] + 1.0
    reread = joblib.load(path)  # ... and never the file
    np.testing.assert_array_equal(reread.parameters, net.parameters)


def test_explain_method_is_the_explain_function(rng):
    from chainrule.explain import explain

    net = cr.mlp([2, 3, 1], output="sigmoid", seed=0)
    X, y = rng.normal(size=(3, 2)), np.array([0, 1, 1])
    report = net.explain(X, y, "binary_cross_entropy", max_checks=2)
    assert report.passed
    assert report.to_dict() == explain(net, X, y, "binary_cross_entropy", max_checks=2).to_dict()


def test_normal_and_vector_initialisers_follow_their_formulas():
    for name in ("glorot_normal", "xavier_normal"):  # the second is an alias
        W = cr.Dense(30, 20, init=name).build(seed=0).params["W"]
        np.testing.assert_array_equal(
            W, np.random.default_rng(0).normal(0.0, np.sqrt(2.0 / (30 + 20)), size=(30, 20)))
    # A vector (a 1-D weight) has fan_in = fan_out = its length.
    v = cr.init.glorot_uniform((10,), np.random.default_rng(1))
    limit = np.sqrt(6.0 / (10 + 10))
    np.testing.assert_array_equal(v, np.random.default_rng(1).uniform(-limit, limit, size=10))
    v = cr.init.he_normal((8,), np.random.default_rng(2))
    np.testing.assert_array_equal(v, np.random.default_rng(2).normal(0.0, np.sqrt(2 / 8), size=8))


def test_he_initialisers_use_the_fan_in_of_a_non_square_weight():
    # Dense(784, 256): fan_in = 784 (rows), not fan_out = 256; the default of every ReLU layer.
    W = cr.Dense(784, 256, init="he_uniform").build(seed=0).params["W"]
    limit = np.sqrt(6.0 / 784)
    np.testing.assert_array_equal(
        W, np.random.default_rng(0).uniform(-limit, limit, size=(784, 256)))
    W = cr.Dense(30, 20, init="he_normal").build(seed=1).params["W"]
    np.testing.assert_array_equal(
        W, np.random.default_rng(1).normal(0.0, np.sqrt(2.0 / 30), size=(30, 20)))
    assert cr.mlp([784, 256, 10], activation="relu", seed=0).layers[0].init == "he_uniform"


def test_an_activation_layer_instance_in_an_architecture():
    net = cr.Sequential.from_architecture(
        [{"input_dim": 2, "output_dim": 3, "activation": cr.LeakyReLU(alpha=0.2)},
         {"input_dim": 3, "output_dim": 1}], seed=0)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "LeakyReLU", "Dense"]
    assert net.layers[1].alpha == 0.2
    net = cr.mlp([2, 4, 1], activation=cr.ELU(alpha=0.5), seed=0)  # one hidden layer
    assert isinstance(net.layers[1], cr.ELU) and net.layers[1].alpha == 0.5
    assert net.layers[0].init == "he_uniform"  # an ELU instance is ReLU-like, too


def test_mlp_copies_an_activation_instance_for_every_hidden_layer():
    template = cr.LeakyReLU(alpha=0.2)
    net = cr.mlp([2, 4, 4, 1], activation=template, seed=0)
    hidden = [net.layers[1], net.layers[3]]
    assert all(isinstance(layer, cr.LeakyReLU) and layer.alpha == 0.2 for layer in hidden)
    assert hidden[0] is not hidden[1] and template not in hidden
    again = cr.mlp([2, 3, 1], activation=template, output=cr.Sigmoid(), seed=0)  # reusable
    assert again.layers[1].alpha == 0.2


def test_a_first_layer_that_changes_the_width_without_declaring_its_input_leaves_it_unknown():
    """Its input width cannot be the next Dense's (3 columns in, 2 out): the network checks no
    width for X, and knows the widths again from the Dense on."""

    class FirstColumns(cr.layers.Layer):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def output_features(self, in_features):
            return self.k

        def forward(self, X, training=False):
            X = self._check_input(X)
            self._remember(training)
            return X[:, : self.k].copy()

    net = cr.Sequential([FirstColumns(2), cr.layers.ReLU(), cr.Dense(2, 1)], dtype=np.float64,
                        seed=0)
    assert net.widths == [None, None, None, 1] and net.in_features is None
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(net.forward(X), X[:, :2] @ net[2].params["W"] + net[2].params["b"])
    # a width-keeping layer before the first Dense still lets the Dense fix the input width
    assert cr.Sequential([cr.layers.ReLU(), cr.Dense(3, 2)]).widths == [3, 3, 2]


def _trained_network():
    net = cr.mlp([3, 8, 2], activation="relu", output="softmax", seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    net.forward(X, training=True)
    net.backward(np.ones((5, 2), np.float32))
    return net


def _buffer(net):
    return net.parameters


@pytest.mark.parametrize("make, part", [
    (_trained_network, _buffer),
    (lambda: pickle.loads(pickle.dumps(_trained_network())), _buffer),
    (lambda: copy.deepcopy(_trained_network()), _buffer),
    (lambda: cr.layers.Dense(3, 2).build(seed=0), lambda layer: layer.params["W"]),
], ids=["trained", "unpickled", "deepcopied", "standalone-layer"])
def test_a_dropped_network_or_layer_is_freed_by_reference_counting(make, part):
    """No cycle (network ↔ layer, layer ↔ its params dict) keeps the arrays of a network
    nobody refers to alive until the cyclic garbage collector runs."""
    from _refcount import freed_by_refcount

    assert freed_by_refcount(make, part)


def test_a_layer_outliving_its_network_is_on_its_own_again():
    layer = cr.mlp([3, 4, 2], seed=0).layers[0]  # the network is gone at once
    assert layer._owner is None
    X = np.random.default_rng(0).normal(size=(2, 3))
    np.testing.assert_allclose(layer.forward(X), X @ layer.params["W"] + layer.params["b"],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="must be finite"):
        layer.forward(np.full((2, 3), np.nan))  # it checks its input as a layer on its own does
    other = cr.Sequential([layer])  # free to join another network
    assert layer._owner() is other
