"""Robustness of every loss in ``LOSSES``: ``forward(y_pred, y_true, sample_weight)``,
``backward()`` and the constructors' settings.

A successful forward returns a float that is >= 0 (every built-in loss is non-negative) and
finite for finite, moderate inputs (NaN/inf predictions may give a NaN/inf loss: documented);
backward returns an array of ``y_pred``'s shape.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.losses import LOSSES, MSE, CrossEntropy, Huber

ROBUST = settings.get_profile("chainrule-robustness")
LOSS_NAMES = LOSSES.names()
#: The losses' constructor options and their valid domains.
OPTIONS = {
    "reduction": "choice",
    "delta": {"low": 0, "low_open": True},
    "label_smoothing": {"low": 0, "high": 1},
    "from_logits": "bool",
}


def _options(loss_name: str) -> list[str]:
    keys = set(LOSSES.get(loss_name)().get_config())
    return sorted(keys & set(OPTIONS))


def valid_arguments(robust, name, n, k, from_logits):
    """(y_pred, y_true, sample_weight) that the loss must accept, as strategies."""
    low, high = (-30.0, 30.0) if from_logits else (0.0, 1.0)
    y_pred = robust.moderate_arrays((n, k), low=low, high=high)
    if name == "cross_entropy":
        y_true = st.one_of(
            st.lists(st.integers(0, k - 1), min_size=n, max_size=n).map(np.array),
            robust.moderate_arrays((n, k), low=0.0, high=1.0),
        )
    else:
        y_true = st.one_of(robust.moderate_arrays((n, k), low=0.0, high=1.0),
                           st.lists(st.integers(0, 1), min_size=n, max_size=n).map(
                               lambda v: np.array(v).reshape(n, k) if k == 1 else np.ones((n, k))))
    weights = st.one_of(st.none(), robust.moderate_arrays((n,), low=0.5, high=10.0))
    return {"y_pred": y_pred, "y_true": y_true, "sample_weight": weights}


def hostile_argument(robust, n, k):
    """Anything at all, often shaped like a valid argument."""
    return st.one_of(
        robust.hostile_inputs(),
        robust.hostile_arrays(shape=st.sampled_from([(n, k), (n,), (n, 1)])),
    )


@pytest.mark.parametrize("name", LOSS_NAMES)
@settings(ROBUST, max_examples=80)
@given(data=st.data())
def test_loss_forward_backward(robust, name, data):
    n = data.draw(st.integers(1, 3), label="n_samples")
    k = data.draw(st.integers(1, 3), label="n_outputs")
    from_logits = name in ("binary_cross_entropy", "cross_entropy") and data.draw(
        st.booleans(), label="from_logits")
    loss = LOSSES.get(name)(**({"from_logits": True} if from_logits else {}))
    valid = valid_arguments(robust, name, n, k, from_logits)
    hostile = data.draw(st.sampled_from([None, *valid]), label="hostile argument")
    arguments = {
        key: data.draw(hostile_argument(robust, n, k) if key == hostile else strategy, label=key)
        for key, strategy in valid.items()
    }
    y_pred, y_true, sample_weight = arguments.values()
    # A bad y_pred shape may be reported as a mismatch with y_true, and the other way round.
    names = {None: (), "sample_weight": ("sample_weight",)}.get(hostile, ("y_pred", "y_true"))
    outcome = robust.call(loss.forward, **arguments, names=names)
    if hostile is None:
        assert outcome.ok, f"{name} rejected valid arguments: {outcome.error!r}"
    if not outcome.ok:
        return
    value = outcome.value
    assert isinstance(value, float)
    prediction = robust.as_array(y_pred)
    assert prediction.dtype.kind in "biuf" and prediction.ndim in (1, 2) and prediction.size
    assert robust.is_clean_real(y_true), f"{name} accepted y_true={y_true!r}"
    if sample_weight is not None:
        w = robust.as_array(sample_weight)
        assert robust.is_clean_real(w, ndim=(1,)) and (w >= 0).all() and w.max() > 0
    finite_input = robust.is_clean_real(y_pred)
    if finite_input:
        assert not value < 0, f"{name} returned a negative loss {value}"
        if robust.max_abs(y_pred) <= robust.MODERATE and robust.max_abs(y_true) <= robust.MODERATE:
            robust.expect(np.isfinite(value), f"{name} returned {value} for finite inputs")
    gradient = robust.call(loss.backward)
    assert gradient.ok, gradient.error
    assert gradient.value.shape == prediction.shape
    if finite_input and np.isfinite(value) and robust.max_abs(y_pred) <= robust.MODERATE:
        robust.expect(np.isfinite(gradient.value).all(), f"{name}: non-finite gradient")


@pytest.mark.parametrize("name", LOSS_NAMES)
@settings(ROBUST, max_examples=40)
@given(data=st.data())
def test_loss_settings_are_checked(robust, name, data):
    options = _options(name)
    option = data.draw(st.sampled_from(options), label="option")
    value = data.draw(st.one_of(robust.hostile_scalars(), st.sampled_from(["mean", "sum"]),
                                st.floats(0, 1)), label=option)
    outcome = robust.call(LOSSES.get(name), **{option: value}, names=(option,))
    domain = OPTIONS[option]
    if option == "reduction":
        valid, stored = isinstance(value, str) and value in ("mean", "sum"), value
    elif domain == "bool":
        valid, stored = isinstance(value, (bool, np.bool_)), bool(value)
    else:
        valid = robust.in_range(value, **domain)
        stored = float(value) if valid else None
    if outcome.ok:
        assert valid, f"{name}({option}={value!r}) was accepted"
        assert outcome.value.get_config()[option] == stored
    else:
        assert not valid, f"{name}({option}={value!r}) was rejected: {outcome.error!r}"


def test_backward_before_forward_is_a_clear_error(robust):
    from chainrule.errors import NotBuiltError

    for name in LOSS_NAMES:
        outcome = robust.run(LOSSES.get(name)().backward)
        assert isinstance(outcome.error, NotBuiltError) and "forward" in str(outcome.error)


# ------------------------------------------------------------- fixed bugs (regression tests)


@pytest.mark.parametrize("w", [[1e-320, 0.0], [1e308, 1e308]])
def test_bug_b04_extreme_sample_weights(robust, w):
    # the weights are normalised before they are summed: the loss of equal weights
    outcome = robust.call(MSE().forward, np.full((2, 1), 0.5), np.zeros((2, 1)), np.array(w),
                          names=("sample_weight",))
    assert outcome.value == pytest.approx(0.25)


def test_bug_b04_float32_sample_weight_sum_overflows(robust):
    outcome = robust.call(Huber().forward, np.full((2, 1), 0.5, np.float32), np.zeros((2, 1)),
                          np.array([3e38, 3e38]), names=("sample_weight",))
    assert outcome.value == pytest.approx(0.125)


def test_bug_b05_huge_float_labels(robust):
    robust.rejects(CrossEntropy().forward, np.full((2, 3), 1 / 3), np.array([1e300, 0.0]),
                   names=("y_true",))


def test_bug_b05_uint64_labels_wrap_around(robust):
    error = robust.rejects(CrossEntropy().forward, np.full((2, 3), 1 / 3),
                           np.array([2**64 - 1, 0], np.uint64), names=("y_true",))
    assert "-1" not in str(error)


def test_bug_b27_ragged_targets(robust):
    robust.rejects(CrossEntropy().forward, np.full((1, 2), 0.5), [[1.0, 2.0], [3.0]],
                   names=("y_true",), error=TypeError)


def test_bug_b31_negative_targets_message(robust):
    robust.rejects(CrossEntropy().forward, np.full((1, 2), 0.5), np.array([[-1.0, 1.0]]),
                   names=("y_true",))


@pytest.mark.parametrize("n_outputs, error, message", [
    ("3", TypeError, "n_outputs must be an integer, got '3'"),
    (None, TypeError, "n_outputs must be an integer, got None"),
    (2.5, TypeError, "n_outputs must be an integer, got 2.5"),
    (-1, ValueError, r"n_outputs must be in \[1, inf\), got -1"),
])
def test_prepare_targets_checks_n_outputs(n_outputs, error, message):
    with pytest.raises(error, match=f"^{message}"):
        MSE().prepare_targets(np.zeros(4), n_outputs)
