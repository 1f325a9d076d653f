"""``filled``: read-only constant operands, shared per value and dtype, capped in size."""

import numpy as np
import pytest

from chainrule import _filled
from chainrule._filled import filled


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [0.0, 1.0, -0.0])
def test_values_shape_dtype_and_layout(dtype, value):
    array = filled(value, (7, 5), dtype)
    assert array.shape == (7, 5) and array.dtype == dtype
    assert array.flags.c_contiguous
    assert np.array_equal(array, np.full((7, 5), value, dtype))
    assert np.array_equal(np.signbit(array), np.signbit(np.full((7, 5), value, dtype)))


def test_read_only_so_no_caller_can_corrupt_later_results():
    array = filled(0.0, (3, 4), np.float32)
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        np.add(array, 1.0, out=array)


def test_a_larger_request_grows_the_buffer_and_earlier_views_stay_valid():
    small = filled(1.0, (2,), np.float64)
    large = filled(1.0, (5000,), np.float64)
    assert np.all(large == 1.0) and np.all(small == 1.0)
    assert filled(1.0, (3,), np.float64).base is large.base  # later requests share the new buffer


def test_dtypes_and_values_do_not_share_buffers():
    assert filled(0.0, (4,), np.float32).dtype == np.float32
    assert filled(0.0, (4,), np.float64).dtype == np.float64
    assert np.all(filled(1.0, (4,), np.float32) == 1.0)
    assert np.all(filled(0.0, (4,), np.float32) == 0.0)


def test_beyond_the_cap_a_broadcast_view_of_the_same_values(monkeypatch):
    monkeypatch.setattr(_filled, "MAX_CACHED_ELEMENTS", 10)
    array = filled(0.0, (4, 3), np.float32)
    assert array.strides == (0, 0) and not array.flags.writeable
    assert np.array_equal(array, np.zeros((4, 3), np.float32))
    assert filled(0.0, (2, 5), np.float32).flags.c_contiguous  # at the cap: still cached


def test_relu_and_dense_bias_gradient_use_it_correctly_in_place_and_beyond_the_cap(monkeypatch):
    import chainrule as cr

    X = np.random.default_rng(0).standard_normal((6, 4))
    for cap in (_filled.MAX_CACHED_ELEMENTS, 3):
        monkeypatch.setattr(_filled, "MAX_CACHED_ELEMENTS", cap)
        relu, leaky = cr.layers.ReLU(), cr.layers.LeakyReLU(0.1)
        assert np.array_equal(relu.forward(X), np.where(X > 0, X, 0.0))
        assert np.array_equal(leaky.forward(X), np.where(X > 0, X, 0.1 * X))
        inplace = X.copy()
        assert relu.infer(inplace) is inplace and np.array_equal(inplace, np.maximum(X, 0))
        dense = cr.layers.Dense(4, 3).build(seed=0)
        dense.forward(X, training=True)
        dY = np.random.default_rng(1).standard_normal((6, 3))
        dense.backward(dY)
        np.testing.assert_allclose(dense.grads["b"], dY.sum(axis=0), rtol=1e-14, atol=1e-15)
