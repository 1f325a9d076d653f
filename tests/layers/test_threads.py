"""Inference from another thread while a network trains, and inference that never writes into
the caller's X. Threads are joined before each check, so the interleavings are exact."""

import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Layer, Rescale, Sequential


def in_thread(function, *args):
    """``function(*args)`` run in a new thread, joined; its result."""
    result = []
    worker = threading.Thread(target=lambda: result.append(function(*args)))
    worker.start()
    worker.join()
    return result[0]


def test_a_prediction_from_another_thread_between_forward_and_backward_changes_no_gradient(rng):
    net = cr.mlp([4, 8, 3], output="softmax", dtype=np.float64, seed=0)
    X, dY, Q = rng.normal(size=(5, 4)), rng.normal(size=(5, 3)), rng.normal(size=(7, 4))
    net.forward(X, training=True)
    net.backward(dY)
    expected = net.gradients.copy()
    prediction = net.forward(Q)

    net.forward(X, training=True)
    np.testing.assert_array_equal(in_thread(net.forward, Q), prediction)
    net.backward(dY)  # the other thread's inference left this thread's caches alone
    np.testing.assert_array_equal(net.gradients, expected)

    net.forward(X, training=True)
    net.forward(Q)  # in the training thread itself, inference still drops the caches
    with pytest.raises(cr.NotBuiltError, match="training=True"):
        net.backward(dY)


def test_a_prediction_from_another_thread_does_not_use_the_training_threads_buffers(rng):
    """A first layer that computes in place (Rescale) must not be handed the training step's
    reused arrays: it would overwrite what the step's backward reads (and a prediction racing
    the step would come from the training batch)."""
    net = Sequential([Rescale(np.zeros(3), np.full(3, 2.0)), cr.Dense(3, 4), cr.layers.Tanh(),
                      cr.Dense(4, 1)], dtype=np.float64, seed=0)
    X, dY, Q = rng.normal(size=(6, 3)), rng.normal(size=(6, 1)), rng.normal(size=(6, 3))
    prediction = net.forward(Q)  # Q has X's shape: the same reused arrays, were they shared
    with net.reusing_buffers():
        Y = net.forward(X, training=True)
        net.backward(dY)
        expected, output = net.gradients.copy(), Y.copy()

        assert np.shares_memory(net.forward(X, training=True), Y)  # this thread reuses arrays
        np.testing.assert_array_equal(in_thread(net.forward, Q), prediction)
        np.testing.assert_array_equal(Y, output)
        net.backward(dY)
    np.testing.assert_array_equal(net.gradients, expected)


def test_a_custom_layer_returning_a_view_of_x_never_lets_a_later_layer_write_into_it():
    class FirstColumns(Layer):
        """Y = X[:, :k], a view of X."""

        def __init__(self, in_features, k):
            super().__init__()
            self.in_features, self.k = in_features, k

        def output_features(self, in_features):
            return self.k

        def forward(self, X, training=False):
            X = self._check_input(X, self.in_features)
            self._remember(training, shape=X.shape)
            return X[:, : self.k]

    X = np.array([[-1.0, 2.0, 3.0], [4.0, -5.0, 6.0]])
    original = X.copy()
    ahead = Sequential([FirstColumns(3, 2), cr.layers.ReLU(), cr.Dense(2, 1)], dtype=np.float64,
                       seed=0)
    ahead.forward(X)
    np.testing.assert_array_equal(X, original)  # ReLU in place would have zeroed -1 and -5

    alone = Sequential([FirstColumns(3, 2)], dtype=np.float64)
    Y = alone.forward(X)
    np.testing.assert_array_equal(Y, X[:, :2])
    assert not np.shares_memory(Y, X)  # the output is the caller's own, not a window on X


def test_a_custom_layers_forward_in_another_thread_gets_a_new_array(rng):
    """A layer without its own infer runs forward(X, training=False); the array that forward
    asks for must not be the one the training thread is reusing."""

    class Doubling(Layer):
        """Y = 2 X, into a reusable array."""

        def forward(self, X, training=False):
            X = self._check_input(X)
            self._remember(training)
            return np.multiply(X, 2.0, out=self._new_array("Y", X.shape, X.dtype))

    net = Sequential([cr.Dense(3, 4), Doubling()], dtype=np.float64, seed=0)
    X, Q = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    prediction = net.forward(Q)
    with net.reusing_buffers():
        Y = net.forward(X, training=True)
        output = Y.copy()
        np.testing.assert_array_equal(in_thread(net.forward, Q), prediction)
        np.testing.assert_array_equal(Y, output)
