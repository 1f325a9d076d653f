"""Review 3 (numerics): sample weights that round to 0 in the network's dtype, and softmax's
overflow warning on extreme finite logits."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.layers.activations import Softmax, softmax
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential
from chainrule.losses import MSE, CrossEntropy, Huber
from chainrule.training.trainer import Trainer

SMALLEST_FLOAT32 = float(np.finfo(np.float32).smallest_subnormal)  # 1.4e-45


def _regression(n_samples=20):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n_samples, 2)), rng.normal(size=n_samples)


def _trainer(loss, dtype=np.float32):
    net = Sequential([Dense(2, 3), Dense(3, 1)], dtype=dtype, seed=0)
    return Trainer(net, loss, "sgd", verbose=0, seed=0, batch_size=100, shuffle=False)


# ---------------------------------------------------------------- 1. weights rounding to 0
def test_sum_weights_that_round_to_zero_in_float32_are_refused_by_fit():
    """The reviewer's reproducer: it used to end in a bare ZeroDivisionError."""
    X, y = _regression()
    trainer = _trainer(MSE(reduction="sum"))
    with pytest.raises(ValueError) as info:
        trainer.fit(X, y, epochs=1, sample_weight=np.full(20, 1e-50))
    message = str(info.value)
    assert message.startswith("sample_weight has 20 positive value(s) that round to 0 in float32, "
                              "the first at index 0: 1e-50")
    assert "The smallest positive float32 is 1.4e-45 (full precision from 1.2e-38)" in message
    assert "reduction='sum' the weights are used as given: multiply them all by one constant" in message
    assert "or use a float64 network (dtype=np.float64)" in message


def test_one_lost_weight_among_others_is_named_by_its_index():
    with pytest.raises(ValueError, match=r"has 1 positive value\(s\) that round to 0 in float32, "
                                         r"the first at index 2: 3e-46"):
        Huber(reduction="sum").prepare_weights(np.array([1.0, 0.0, 3e-46, 2.0]), 4, np.float32)


def test_loss_forward_refuses_them_too_instead_of_returning_zero():
    Y = np.ones((3, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="round to 0 in float32"):
        MSE(reduction="sum").forward(Y, np.zeros(3), sample_weight=np.full(3, 1e-50))


def test_subnormal_weights_are_kept_and_weigh_the_sum_exactly():
    """Above the smallest subnormal a weight survives (with fewer digits): the sample still
    counts, and the sum is Σ w ℓ with the weights as float32 holds them."""
    w = np.array([1e-44, 2e-44, 0.0])
    prepared = MSE(reduction="sum").prepare_weights(w, 3, np.float32)
    assert prepared.dtype == np.float32
    assert np.all(prepared[:2] > 0) and prepared[2] == 0
    np.testing.assert_allclose(prepared[:2], w[:2], rtol=0.1)  # subnormal: about 1 digit


def test_sum_weights_of_float64_are_not_limited_by_float32():
    """The same tiny weights in a float64 network train, and the epoch's loss is Σ w ℓ at the
    initial weights (one batch, no shuffling: the loss is taken before the step)."""
    X, y = _regression()
    w = np.full(20, 1e-50)
    trainer = _trainer(MSE(reduction="sum"), np.float64)
    expected = float(np.sum(w * (trainer.net.forward(X)[:, 0] - y) ** 2))
    history = trainer.fit(X, y, epochs=1, sample_weight=w)
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "dtype, weights, survives_from",
    [
        (np.float32, [1.0, 1e-50], "1.4e-45 × 1 = 1.4e-45"),
        (np.float64, [1e300, 1e-30], "4.9e-324 × 1e+300 = 4.9e-24"),
    ],
    ids=["float32", "float64"],
)
def test_mean_weights_spanning_more_than_the_dtype_are_refused(dtype, weights, survives_from):
    """The mean divides by the largest weight; a weight that then rounds to 0 would drop out."""
    name = np.dtype(dtype).name
    with pytest.raises(ValueError) as info:
        CrossEntropy().prepare_weights(np.array(weights), 2, dtype)
    message = str(info.value)
    assert message.startswith(f"sample_weight has 1 positive value(s) that round to 0 in {name}, "
                              "the first at index 1")
    assert f"which divides every weight by the largest ({weights[0]:g})" in message
    assert f"in {name} a weight survives only from about {survives_from}" in message
    assert "Narrow the range of the weights" in message
    assert ("use a float64 network" in message) == (dtype == np.float32)


def test_mean_weights_within_the_range_are_rescaled_as_before():
    prepared = MSE().prepare_weights(np.array([1e-30, 4e-30, 1e-70]), 3, np.float32)
    np.testing.assert_allclose(prepared[:2], [0.25, 1.0], rtol=1e-7)
    assert prepared[2] > 0  # 2.5e-41: subnormal in float32, but kept


def test_validation_split_reports_the_rounding_not_a_zero_training_part():
    """Before, positive weights that float32 rounded to 0 read as "sample_weight is zero on
    every sample of the training part"; every positive weight now stays positive, so that
    message means the user's own zeros."""
    X, y = _regression()
    trainer = _trainer(MSE(reduction="sum"))
    with pytest.raises(ValueError) as info:
        trainer.fit(X, y, epochs=1, sample_weight=np.full(20, 1e-50), validation_split=0.25)
    assert "round to 0 in float32" in str(info.value)
    assert "zero on every sample" not in str(info.value)


def test_a_validation_weight_that_rounds_to_zero_is_named_as_such():
    X, y = _regression()
    trainer = _trainer(MSE(reduction="sum"))
    w_val = np.array([1.0, 1e-50, 1.0])
    with pytest.raises(ValueError, match=r"^validation sample_weight has 1 positive value\(s\) "
                                         r"that round to 0 in float32, the first at index 1"):
        trainer.fit(X, y, epochs=1, validation_data=(X[:3], y[:3], w_val))


# ---------------------------------------------------------------- 3. softmax's overflow
# (pytest turns RuntimeWarnings into errors: a call that warned fails here)
@pytest.mark.parametrize("dtype, big", [(np.float64, 1e308), (np.float32, 3e38)])
def test_softmax_forward_is_silent_on_rows_beyond_the_dtype_range(dtype, big):
    X = np.array([[big, -big, 0.0], [0.0, 1.0, 2.0]], dtype=dtype)
    layer = Softmax()
    Y = layer.forward(X, training=True)
    assert Y.dtype == dtype
    np.testing.assert_array_equal(Y[0], [1.0, 0.0, 0.0])
    row = np.exp([-2.0, -1.0, 0.0])
    np.testing.assert_allclose(Y[1], row / row.sum(), rtol=1e-6)
    dX = layer.backward(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype))
    assert np.all(np.isfinite(dX)) and np.all(dX[0] == 0)  # Y = one-hot: no slope
    np.testing.assert_array_equal(softmax(X)[0], [1.0, 0.0, 0.0])


def test_softmax_quiet_false_leaves_the_floating_point_state_to_the_caller():
    """Inference runs inside Sequential's np.errstate; the layer's infer adds none of its own."""
    X = np.array([[1e308, -1e308, 0.0]])
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError, match="overflow"):
            softmax(X, quiet=False)
        with pytest.raises(FloatingPointError, match="overflow"):
            Softmax().infer(X.copy())
        np.testing.assert_array_equal(softmax(X), [[1.0, 0.0, 0.0]])  # quiet by default


@pytest.mark.parametrize("head", ["fused", "logits"])
def test_predict_proba_of_extreme_logits_is_silent(head):
    """Trainer.predict_proba applies the output softmax outside the network's errstate."""
    X, y = np.array([[1.0], [-1.0], [0.5]]), np.array([0, 1, 2])
    layers = [Dense(1, 3)] + ([Softmax()] if head == "fused" else [])
    loss = "cross_entropy" if head == "fused" else CrossEntropy(from_logits=True)
    trainer = Trainer(Sequential(layers, dtype=np.float64, seed=0), loss, "sgd", verbose=0, seed=0)
    trainer.fit(X, y, epochs=1)
    dense = trainer.net.layers[0]
    dense.params["W"][...] = [[1e308, -1e308, 0.0]]
    dense.params["b"][...] = 0.0
    np.testing.assert_array_equal(trainer.predict_proba(np.array([[1.0]])), [[1.0, 0.0, 0.0]])
    assert trainer.predict(np.array([[1.0]])).tolist() == [0]
