"""Robustness of a layer used on its own: ``layer.forward(X)`` and ``layer.backward(dY)``.

A layer outside a network is public API (the docs build one with ``Dense(3, 2).build()``), so
its forward and backward must meet the same contract as the network's: a correct result, or a
``ValueError``/``TypeError`` naming the argument. NaN in a float input may pass through (IEEE
arithmetic); anything else that is not real numbers may not.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import ShapeError
from chainrule.layers.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from chainrule.layers.base import LAYERS
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.rescale import Rescale

ROBUST = settings.get_profile("chainrule-robustness")
WIDTH = 3


def _rows_sum_to_one(X, Y):
    return np.allclose(Y.sum(axis=1), 1.0, rtol=1e-3)


#: case name -> (factory, output width for (n, 3) inputs, a property of every finite output for
#: finite input). Every layer class registered in ``chainrule.layers.base.LAYERS`` needs a case
#: (``test_every_registered_layer_has_a_case``).
CASES = {
    "Dense": (lambda: Dense(WIDTH, 2).build(seed=0), 2, None),
    "Sigmoid": (Sigmoid, WIDTH, lambda X, Y: ((Y >= 0) & (Y <= 1)).all()),
    "Tanh": (Tanh, WIDTH, lambda X, Y: ((Y >= -1) & (Y <= 1)).all()),
    "ReLU": (ReLU, WIDTH, lambda X, Y: (Y >= 0).all() and np.array_equal(Y, np.maximum(X, 0))),
    "LeakyReLU": (lambda: LeakyReLU(0.1), WIDTH, lambda X, Y: np.allclose(
        Y, np.where(X > 0, X, 0.1 * X))),
    "ELU": (ELU, WIDTH, lambda X, Y: (Y >= -1).all()),
    "GELU": (GELU, WIDTH, lambda X, Y: (Y >= -0.2).all()),
    "Softplus": (Softplus, WIDTH, lambda X, Y: (Y >= 0).all()),
    "Identity": (Identity, WIDTH, lambda X, Y: np.array_equal(X, Y)),
    "Softmax": (Softmax, WIDTH, _rows_sum_to_one),
    "Step": (Step, WIDTH, lambda X, Y: np.isin(Y, (0, 1)).all()),
    "Dropout": (lambda: Dropout(0.5, seed=0), WIDTH,
                lambda X, Y: ((Y == 0) | np.isclose(Y, 2 * X, rtol=1e-3)).all()),
    "Dropout(p=0)": (lambda: Dropout(0.0), WIDTH, lambda X, Y: np.array_equal(X, Y)),
    "Rescale": (lambda: Rescale([0.0, 1.0, -1.0], [1.0, 2.0, 4.0]), WIDTH, None),
}
FIXED_WIDTH = {"Dense", "Rescale"}
FLOATS = (np.float32, np.float64)


def test_every_registered_layer_has_a_case():
    """A layer type registered later gets no robustness test unless it is added to CASES."""
    covered = {type(factory()) for factory, _, _ in CASES.values()}
    missing = [name for name in LAYERS if LAYERS.get(name) not in covered]
    assert not missing, f"registered layers without a case in CASES: {missing}"


def inputs(robust):
    n_rows = st.integers(0, 4)
    return st.one_of(
        robust.hostile_inputs(),
        robust.hostile_arrays(shape=st.tuples(n_rows, st.just(WIDTH))),
        robust.moderate_arrays(st.tuples(st.integers(1, 4), st.just(WIDTH))),
    )


@pytest.mark.parametrize("name", sorted(CASES))
@settings(ROBUST, max_examples=40)
@given(data=st.data())
def test_layer_forward_returns_its_output_or_rejects_x(robust, name, data):
    factory, width, holds = CASES[name]
    layer = factory()
    X = data.draw(inputs(robust), label="X")
    array = robust.as_array(X)
    outcome = robust.call(layer.forward, X, training=True, names=("X",))
    numeric_2d = array is not None and array.dtype.kind in "biuf" and array.ndim == 2
    right_width = numeric_2d and (name not in FIXED_WIDTH or array.shape[1] == WIDTH)
    if outcome.ok:
        robust.expect(right_width, f"{name}.forward accepted {X!r}")
        Y = outcome.value
        out_width = width if name in FIXED_WIDTH else array.shape[1]
        assert Y.shape == (array.shape[0], out_width) and Y.dtype.kind == "f"
        if robust.is_clean_real(X) and robust.max_abs(X) <= robust.MODERATE:
            assert np.isfinite(Y).all()
            if holds is not None and Y.size:
                assert holds(array.astype(Y.dtype), Y), f"{name}: wrong output {Y!r} for {X!r}"
    else:
        moderate = robust.is_clean_real(X) and robust.max_abs(X) <= robust.MODERATE
        assert not (right_width and moderate), (
            f"{name}.forward rejected valid X {X!r}: {outcome.error!r}"
        )


@pytest.mark.parametrize("name", sorted(set(CASES) - {"Step"}))
@settings(ROBUST, max_examples=40)
@given(data=st.data())
def test_layer_backward_returns_dx_or_rejects_dy(robust, name, data):
    factory, width, _ = CASES[name]
    layer = factory()
    n = data.draw(st.integers(1, 3), label="n_samples")
    X = data.draw(robust.moderate_arrays((n, WIDTH)), label="X")
    layer.forward(X, training=True)
    if data.draw(st.booleans(), label="hostile"):
        dY = data.draw(st.one_of(robust.hostile_inputs(), robust.hostile_arrays(shape=(n, width))),
                       label="dY")
    else:
        dY = data.draw(robust.moderate_arrays((n, width)), label="dY")
    array = robust.as_array(dY)
    # array-likes (nested lists) are converted, as X is
    valid = array is not None and robust.is_clean_real(dY) and array.shape == (n, width)
    outcome = robust.call(layer.backward, dY, names=("dY",))
    if outcome.ok:
        robust.expect(valid, f"{name}.backward accepted dY={dY!r}")
        dX = outcome.value
        assert dX.shape == (n, WIDTH)
        if robust.max_abs(dY) <= robust.MODERATE:
            assert np.isfinite(dX).all()
            for grad in layer.grads.values():
                assert np.isfinite(grad).all()
    else:
        assert not (valid and robust.max_abs(dY) <= robust.MODERATE), (
            f"{name}.backward rejected a valid dY: {outcome.error!r}"
        )


def test_step_backward_explains_itself(robust):
    layer = Step()
    layer.forward(np.zeros((1, 2)), training=True)
    robust.rejects(layer.backward, np.ones((1, 2)), names=("Perceptron",), error=TypeError)


# ------------------------------------------------------------- fixed bugs (regression tests)


def test_bug_b21_dense_forward_object_array_gives_nan(robust):
    layer = Dense(2, 3).build(seed=0)
    robust.rejects(layer.forward, np.array([[None, 1]]), names=("X",), error=TypeError)


def test_bug_b21_dense_forward_complex(robust):
    robust.rejects(Dense(2, 3).build(seed=0).forward, np.ones((1, 2), complex), names=("X",),
                   error=TypeError)


def test_bug_b21_dropout_forward_float16(robust):
    outcome = robust.call(Dropout(0.5, seed=0).forward, np.ones((1, 3), np.float16),
                          training=True, names=("X",))
    assert outcome.ok
    assert np.isin(outcome.value, (0.0, 2.0)).all()  # kept inputs scaled by 1 / (1 - p)


def test_bug_b22_rescale_backward_integer_dy(robust):
    layer = Rescale([0.0], [2.0])
    layer.forward(np.ones((1, 1)), training=True)
    outcome = robust.call(layer.backward, np.array([[True]]), names=("dY",))
    assert outcome.ok
    np.testing.assert_array_equal(outcome.value, [[0.5]])  # dX = dY / scale


def test_bug_b21_activation_forward_string(robust):
    robust.rejects(Tanh().forward, "abc", names=("X",), error=TypeError)


def test_bug_b21_softmax_forward_inf(robust):
    robust.rejects(Softmax().forward, np.array([[np.inf, 0.0]]), names=("X",))


def test_bug_b21_leaky_relu_slope_is_bounded(robust):
    # A slope above 1 is refused (it could only overflow): the negative side stays leaky.
    robust.rejects(LeakyReLU, 1e300, names=("alpha",))
    outcome = robust.call(LeakyReLU(0.5).forward, np.array([[-1e308, 0.0]]), names=("X",))
    np.testing.assert_array_equal(outcome.value, [[-5e307, 0.0]])


def test_bug_b21_rescale_forward_overflow(robust):
    # (X - offset) / scale beyond the float range is -inf on purpose, without a warning
    outcome = robust.call(Rescale([1e308], [1e-308]).forward, np.array([[-1e308]]),
                          names=("X",))
    np.testing.assert_array_equal(outcome.value, [[-np.inf]])


def test_bug_b22_gelu_backward_overflow(robust):
    layer = GELU()
    layer.forward(np.array([[1e200, -1e200]]), training=True)
    outcome = robust.call(layer.backward, np.ones((1, 2)), names=("dY",))
    np.testing.assert_array_equal(outcome.value, [[1.0, 0.0]])  # GELU'(±huge) = 1, 0


def test_bug_b22_dropout_p0_backward_shape_unchecked(robust):
    layer = Dropout(0.0)
    layer.forward(np.ones((2, 3)), training=True)
    robust.rejects(layer.backward, np.ones((5, 7)), names=("dY",), error=ShapeError)


def test_bug_b22_identity_backward_object_dy(robust):
    layer = Identity()
    layer.forward(np.ones((1, 2)), training=True)
    robust.rejects(layer.backward, np.array([["a", None]], dtype=object), names=("dY",),
                   error=TypeError)


def test_bug_b22_dense_backward_refuses_a_complex_dy(robust):
    layer = Dense(2, 3).build(seed=0)
    layer.forward(np.ones((1, 2)), training=True)
    robust.rejects(layer.backward, np.ones((1, 3), dtype=complex), names=("dY",),
                   error=TypeError)
