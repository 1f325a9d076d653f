"""``_filled.zeros`` / ``ones``: read-only constant operands, shared, capped in size."""

import numpy as np
import pytest

from chainrule import _filled


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Each test starts from empty caches (and leaves the module's own untouched)."""
    monkeypatch.setattr(_filled, "_buffers", {})
    monkeypatch.setattr(_filled, "_views", {})


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.dtype(np.float32)])
@pytest.mark.parametrize("make, value", [(_filled.zeros, 0.0), (_filled.ones, 1.0)])
def test_values_shape_dtype_and_layout(make, value, dtype):
    array = make((7, 5), dtype)
    assert array.shape == (7, 5) and array.dtype == dtype
    assert array.flags.c_contiguous
    assert np.array_equal(array, np.full((7, 5), value, dtype))
    assert not np.any(np.signbit(array))


def test_read_only_so_no_caller_can_corrupt_later_results():
    array = _filled.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        np.add(array, 1.0, out=array)


def test_a_repeated_request_returns_the_remembered_view():
    assert _filled.zeros((128, 256), np.float32) is _filled.zeros((128, 256), np.float32)


def test_a_larger_request_grows_the_buffer_and_earlier_views_stay_valid():
    small = _filled.ones((2,), np.float64)
    large = _filled.ones((5000,), np.float64)
    assert np.all(large == 1.0) and np.all(small == 1.0)
    assert _filled.ones((3,), np.float64).base is large.base  # new shapes share the new buffer


def test_values_and_dtypes_do_not_share_buffers():
    assert np.all(_filled.zeros((4,), np.float32) == 0.0)
    assert np.all(_filled.ones((4,), np.float32) == 1.0)
    assert _filled.ones((4,), np.float64).dtype == np.float64


def test_beyond_the_cap_a_broadcast_view_of_the_same_values(monkeypatch):
    monkeypatch.setattr(_filled, "MAX_CACHED_ELEMENTS", 10)
    array = _filled.zeros((4, 3), np.float32)
    assert array.strides == (0, 0) and not array.flags.writeable
    assert np.array_equal(array, np.zeros((4, 3), np.float32))
    assert _filled.zeros((2, 5), np.float32).flags.c_contiguous  # at the cap: a buffer view


def test_the_memory_of_views_is_bounded(monkeypatch):
    monkeypatch.setattr(_filled, "MAX_CACHED_VIEWS", 4)
    for rows in range(1, 20):
        assert np.array_equal(_filled.zeros((rows, 3), np.float64), np.zeros((rows, 3)))
        assert len(_filled._views) <= 4


@pytest.mark.parametrize("cap", [_filled.MAX_CACHED_ELEMENTS, 3])
def test_relu_and_dense_bias_gradient_in_place_and_beyond_the_cap(monkeypatch, cap):
    import chainrule as cr

    monkeypatch.setattr(_filled, "MAX_CACHED_ELEMENTS", cap)
    X = np.random.default_rng(0).standard_normal((6, 4))
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


def _held_nbytes():
    """The bytes of the distinct buffers the caches keep alive."""
    bases = {id(buffer): buffer for buffer in _filled._buffers.values()}
    bases.update({id(view.base): view.base for view in _filled._views.values()})
    return sum(base.nbytes for base in bases.values())


def test_growing_requests_keep_one_bounded_buffer_per_value_and_dtype():
    """A sequence of ever larger requests (a network called on growing batches) must not keep
    every outgrown buffer alive through the views remembered on it."""
    limit = _filled.MAX_CACHED_ELEMENTS * np.dtype(np.float32).itemsize
    for rows in range(2000, 4096, 8):
        array = _filled.zeros((rows, 512), np.float32)
        assert array.shape == (rows, 512) and not np.any(array)
        assert _held_nbytes() <= limit
    assert len({id(view.base) for view in _filled._views.values()}) == 1


def test_a_growing_sequence_of_sizes_reallocates_geometrically():
    buffers = []  # kept alive, so that no two are told apart by a reused id
    for size in range(1, 100_000, 7):
        array = _filled.ones((size,), np.float64)
        assert array.shape == (size,) and np.all(array == 1.0)
        if not any(array.base is buffer for buffer in buffers):
            buffers.append(array.base)
    assert [buffer.size for buffer in buffers] == [1024 << k for k in range(8)]
