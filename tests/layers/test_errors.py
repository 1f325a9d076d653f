"""Bad input gets a clear error that names who complained, what was expected and what came."""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr


def test_wrong_shaped_input_to_layer_k_names_layer_k_and_both_shapes():
    net = cr.Sequential(
        [cr.Dense(10, 64), cr.ReLU(), cr.Dense(64, 30), cr.ReLU(), cr.Dense(30, 1)], seed=0
    )
    with pytest.raises(cr.ShapeError) as info:
        net.layers[2].forward(np.ones((32, 30)))
    assert str(info.value) == "Dense #2 expects X of shape (n_samples, 64), got (32, 30)"
    with pytest.raises(cr.ShapeError, match=re.escape("Dense #4 expects X of shape (n_samples, 30)")):
        net.layers[4].forward(np.ones((8, 64)))


def test_wrong_upstream_gradient_names_the_layer(rng):
    net = cr.mlp([3, 4, 2], seed=0)
    net.forward(rng.normal(size=(5, 3)), training=True)
    with pytest.raises(cr.ShapeError, match=re.escape("Dense #2.backward expects dY of shape (5, 2)")):
        net.backward(np.ones((5, 3)))


def test_network_input_width_is_checked_with_a_hint_for_one_sample():
    net = cr.mlp([3, 4, 1], seed=0)
    with pytest.raises(cr.ShapeError, match=re.escape("expects X of shape (n_samples, 3), got (2, 4)")):
        net.forward(np.ones((2, 4)))
    with pytest.raises(cr.ShapeError, match="must be 2-D, got 1-D"):
        net.forward(np.ones(3))
    with pytest.raises(cr.ShapeError, match=re.escape("X.reshape(1, -1)")):
        net.forward(np.ones((3, 1)))


def test_inconsistent_layer_sizes_are_refused_at_construction():
    with pytest.raises(cr.ShapeError, match=re.escape("Dense #2 expects 8 input features, but the previous layer gives 4")):
        cr.Sequential([cr.Dense(2, 4), cr.ReLU(), cr.Dense(8, 1)])
    with pytest.raises(ValueError, match=r"architecture\[1\]"):
        cr.Sequential.from_architecture([
            {"input_dim": 2, "output_dim": 4, "activation": "relu"},
            {"input_dim": 4, "output_dim": 0, "activation": "relu"},
        ])


@pytest.mark.parametrize(
    "X, error, pattern",
    [
        (np.array([[1.0, np.nan, 0.0]]), ValueError, r"X must be finite, got 1 NaN/inf value\(s\), the first at index \(0, 1\)"),
        (np.array([[1.0, np.inf, 0.0]]), ValueError, "must be finite"),
        (np.array([["a", "b", "c"]]), TypeError, "real numbers"),
        (np.empty((0, 3)), ValueError, "must not be empty"),
        ("abc", TypeError, "array of numbers"),
        ([[1, 2], [3]], TypeError, "array of numbers"),
        (np.array([[1e300, 0, 0]]), ValueError, "beyond the float32 range"),
    ],
)
def test_bad_network_inputs(X, error, pattern):
    net = cr.mlp([3, 2], seed=0)
    with pytest.raises(error, match=pattern):
        net.forward(X)


def test_backward_before_forward():
    layer = cr.Dense(2, 3).build(seed=0)
    with pytest.raises(cr.NotBuiltError, match="forward"):
        layer.backward(np.ones((1, 3)))
    with pytest.raises(cr.NotBuiltError, match="before forward"):
        cr.MSE().backward()


def test_unbuilt_layer_says_how_to_build_it():
    with pytest.raises(cr.NotBuiltError, match="build"):
        cr.Dense(2, 3).forward(np.ones((1, 2)))


def test_step_backward_points_to_the_perceptron():
    layer = cr.Step()
    layer.forward(np.ones((1, 2)), training=True)
    with pytest.raises(cr.NotDifferentiableError, match="Perceptron"):
        layer.backward(np.ones((1, 2)))
    assert issubclass(cr.NotDifferentiableError, TypeError)


def test_zero_weights_are_refused_with_the_symmetry_explanation():
    with pytest.raises(ValueError, match="symmetry"):
        cr.Dense(2, 3, init="zeros")


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'rectifier'; valid names: .*relu.*sigmoid"):
        cr.mlp([2, 3, 1], activation="rectifier")
    with pytest.raises(ValueError, match=r"unknown initializer 'orthogonal'; valid names: .*glorot_uniform"):
        cr.Dense(2, 3, init="orthogonal")
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; valid names: .*cross_entropy"):
        cr.Objective(cr.mlp([2, 1], seed=0), "hinge")


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
        cr.Dropout(1.0)
    with pytest.raises(ValueError, match=r"out_features must be in \[1, 2147483647\], got 0"):
        cr.Dense(3, 0)
    with pytest.raises(TypeError, match="in_features must be an integer, got 2.5"):
        cr.Dense(2.5, 3)
    with pytest.raises(TypeError, match="must be a real number, got 'big'"):
        cr.LeakyReLU(alpha="big")
    with pytest.raises(ValueError, match=r"l2 must be in \[0, inf\), got -1.0"):
        cr.Dense(2, 3, l2=-1)
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
        cr.mlp([2, 1], dtype=np.int32)
    with pytest.raises(ValueError, match="unknown key"):
        cr.Sequential.from_architecture([{"input_dim": 2, "output_dim": 1, "activaton": "relu"}])
    with pytest.raises(ValueError, match="at least one layer"):
        cr.Sequential([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be a chainrule Layer, got str"):
        cr.Sequential([cr.Dense(2, 2), "relu"])


def test_a_layer_belongs_to_one_network():
    layer = cr.Dense(2, 2)
    cr.Sequential([layer])
    with pytest.raises(ValueError, match="already belongs"):
        cr.Sequential([layer])
    cr.Sequential([layer.copy()])  # the suggested fix works


def test_loss_target_errors():
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 2\) \(n_classes=2\), got values in \[0, 2\]"):
        cr.CrossEntropy().forward(P, np.array([0, 2]))
    with pytest.raises(ValueError, match="from_logits=True"):
        cr.CrossEntropy().forward(np.array([[3.0, -1.0]]), np.array([0]))
    with pytest.raises(cr.ShapeError, match=r"same number of samples, got 2 and 3"):
        cr.CrossEntropy().forward(P, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"y_true in \[0, 1\]"):
        cr.BinaryCrossEntropy().forward(np.array([[0.5]]), np.array([2.0]))
    with pytest.raises(cr.ShapeError, match=r"MSE expects y_true of shape \(2, 2\)"):
        cr.MSE().forward(P, np.ones((2, 3)))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        cr.MSE().forward(P, P, sample_weight=np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum'; got 'avg'"):
        cr.MSE(reduction="avg")
