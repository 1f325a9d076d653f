"""Robustness of ``Trainer``: the constructor, ``fit``, ``evaluate``, ``predict`` and
``predict_proba``.

Every example trains a tiny network for one epoch on a handful of samples, with one argument
replaced by something hostile (or none, when the call must succeed). A successful fit records the
epoch with a finite loss and predicts labels among the classes of ``y``; a successful
``predict_proba`` returns probability rows.
"""

from __future__ import annotations

import numbers

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainrule.errors import ShapeError, TrainingDivergedError
from chainrule.layers.builders import mlp
from chainrule.losses import LOSSES
from chainrule.optim.base import OPTIMIZERS
from chainrule.training.callbacks import EarlyStopping
from chainrule.training.metrics import METRICS
from chainrule.training.trainer import Trainer

ROBUST = settings.get_profile("chainrule-robustness")
N_FEATURES = 3

#: task -> (network factory, loss)
TASKS = {
    "multiclass": (lambda: mlp([N_FEATURES, 4, 3], output="softmax", seed=0), "cross_entropy"),
    "binary": (lambda: mlp([N_FEATURES, 4, 1], output="sigmoid", seed=0), "binary_cross_entropy"),
    "regression": (lambda: mlp([N_FEATURES, 4, 1], seed=0), "mse"),
}


def trainer(task: str, **kwargs) -> Trainer:
    net, loss = TASKS[task]
    return Trainer(net(), loss, "adam", verbose=0, seed=0, batch_size=4, **kwargs)


def labels_for(task: str, n: int):
    """Targets for ``task``: labels with every class present, or regression values."""
    if task == "regression":
        return st.lists(st.floats(-10, 10), min_size=n, max_size=n).map(np.array)
    n_classes = 3 if task == "multiclass" else 2
    kinds = st.sampled_from(["int", "str", "bool"] if n_classes == 2 else ["int", "str"])

    def build(kind_and_order):
        kind, order = kind_and_order
        y = np.array([i % n_classes for i in order])
        return {"int": y, "str": np.array(["cat", "dog", "eel"])[y], "bool": y.astype(bool)}[kind]

    return st.tuples(kinds, st.permutations(range(n))).map(build)


# ------------------------------------------------------------------------------ constructor

CONSTRUCTOR = {
    # argument -> (names the message may use, is the value valid?)
    "loss": (("loss",), lambda v: isinstance(v, str) and v in LOSSES),
    "optimizer": (("optimizer",), lambda v: isinstance(v, str) and v in OPTIMIZERS),
    "batch_size": (("batch_size",), "integer>=1"),
    "seed": (("seed",), "seed"),
    # None means none; one metric name is accepted as [name]
    "metrics": (("metrics", "metric"),
                lambda v: v is None or (isinstance(v, (list, tuple)) and not v)
                or (isinstance(v, str) and v in METRICS)),
    "callbacks": (("callbacks", "callbacks[0]"),
                  lambda v: v is None or (isinstance(v, (list, tuple)) and not v)),
    "verbose": (("verbose",), "verbose"),
    "schedule": (("schedule",), lambda v: v is None),
    "shuffle": (("shuffle",), lambda v: isinstance(v, (bool, np.bool_))),
}


@settings(ROBUST, max_examples=150)
@given(data=st.data())
def test_trainer_constructor_names_the_bad_argument(robust, data):
    which = data.draw(st.sampled_from(sorted(CONSTRUCTOR)), label="argument")
    value = data.draw(st.one_of(robust.hostile_scalars(),
                                st.sampled_from(["mse", "adam", "nope", "accuracy", [], ()])),
                      label=which)
    kwargs = {"loss": "mse", which: value}
    loss = kwargs.pop("loss")
    names, domain = CONSTRUCTOR[which]
    outcome = robust.call(
        Trainer, mlp([N_FEATURES, 2, 1], seed=0), loss, **kwargs, names=names,
    )
    if domain == "integer>=1":
        valid = robust.in_range(value, low=1, integer=True)
    elif domain == "verbose":
        # a level: False/True are 0 and 1; other integers (not floats) in [0, 2]
        valid = isinstance(value, (bool, np.bool_)) or (
            isinstance(value, numbers.Integral) and robust.in_range(value, 0, 2, integer=True))
    elif domain == "seed":
        valid = value is None or (robust.in_range(value, low=0, integer=True)
                                  and not isinstance(value, float)
                                  and not (hasattr(value, "dtype") and value.dtype.kind == "f"))
    else:
        valid = domain(value)
    if outcome.ok:
        robust.expect(valid, f"Trainer accepted {which}={value!r}")
    else:
        # "accuracy" is a metric name, not a sequence of names: accepted as ["accuracy"]
        assert not valid, f"Trainer rejected {which}={value!r}: {outcome.error!r}"


# ------------------------------------------------------------------------------ fit

FIT_NAMES = {
    "X": ("X",),
    "y": ("y", "y_true"),  # the loss's checks call it y_true: clear enough
    "epochs": ("epochs",),
    "sample_weight": ("sample_weight",),
    "validation_split": ("validation_split",),
    "validation_data": ("validation_data", "X_val", "y_val", "validation sample_weight"),
}


@pytest.mark.parametrize("task", sorted(TASKS))
@settings(ROBUST, max_examples=60)
@given(data=st.data())
def test_fit_trains_one_epoch_or_names_the_bad_argument(robust, task, data):
    n = data.draw(st.integers(6, 8), label="n_samples")
    X = data.draw(robust.moderate_arrays((n, N_FEATURES), low=-3, high=3), label="X")
    y = data.draw(labels_for(task, n), label="y")
    kwargs = {"epochs": 1}
    which = data.draw(st.sampled_from([None, *sorted(FIT_NAMES)]), label="hostile argument")
    if which is not None:
        value = data.draw(st.one_of(robust.hostile_inputs(),
                                    robust.hostile_arrays(shape=st.sampled_from(
                                        [(n,), (n, N_FEATURES), (n, 1)]))), label=which)
        if which == "epochs":
            assume(not robust.in_range(value, low=4, integer=True))  # valid, but too long
        if which == "X":
            X = value
        elif which == "y":
            y = value
        else:
            kwargs[which] = value
    fitted = trainer(task)
    outcome = robust.call(fitted.fit, X, y, **kwargs, names=FIT_NAMES.get(which, ()))
    if which is None:
        assert outcome.ok, f"fit rejected valid data: {outcome.error!r}"
    if not outcome.ok:
        robust.expect(fitted.encoder is None, "a failed fit left the encoder fitted")
        return
    history = outcome.value
    assert len(history["loss"]) == int(kwargs["epochs"])
    assert np.isfinite(history["loss"]).all()
    assert robust.is_clean_real(X, ndim=(2,)) and robust.as_array(X).shape[1] == N_FEATURES
    robust.expect(len(robust.as_array(y)) == len(robust.as_array(X)), "n_samples mismatch")
    predictions = fitted.predict(np.asarray(X, dtype=np.float64))
    assert predictions.shape[0] == len(robust.as_array(X))
    if task != "regression":
        labels = robust.as_array(y)
        allowed = set(np.unique(labels).tolist())
        if labels.dtype.kind in "biuf":  # integer labels in [0, n_classes) stand for themselves
            allowed |= set(range(max(fitted.net.out_features, 2)))  # one sigmoid: two classes
        robust.expect(set(np.unique(predictions).tolist()) <= allowed,
                      f"predicted labels {np.unique(predictions)} not among y's classes")


# ------------------------------------------------------------------------------ after fit


@pytest.fixture(scope="module")
def fitted_trainers():
    """One trainer per task, fitted on the same small data."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, N_FEATURES))
    targets = {"multiclass": np.arange(9) % 3, "binary": np.array(["no", "yes"] * 4 + ["no"]),
               "regression": rng.normal(size=9)}
    fitted = {}
    for task in TASKS:
        fitted[task] = trainer(task)
        fitted[task].fit(X, targets[task], epochs=2)
    return fitted, targets


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@settings(ROBUST, max_examples=60)
@given(data=st.data())
def test_predictions_or_a_clear_error(robust, fitted_trainers, task, method, data):
    fitted = fitted_trainers[0][task]
    X = data.draw(st.one_of(
        robust.hostile_inputs(),
        robust.hostile_arrays(shape=st.tuples(st.integers(0, 3), st.just(N_FEATURES))),
        robust.moderate_arrays(st.tuples(st.integers(1, 4), st.just(N_FEATURES))),
    ), label="X")
    if method == "predict_proba" and task == "regression":
        outcome = robust.call(fitted.predict_proba, X, names=("predict_proba",))
        assert isinstance(outcome.error, TypeError)
        return
    outcome = robust.call(getattr(fitted, method), X, names=("X",))
    array = robust.as_array(X)
    valid = robust.is_clean_real(X, ndim=(2,)) and array.shape[1] == N_FEATURES
    if not outcome.ok:
        assert not (valid and robust.max_abs(X) <= robust.MODERATE), (
            f"{method} rejected valid X: {outcome.error!r}"
        )
        return
    assert valid, f"{method} accepted X={X!r}"
    result = outcome.value
    assert len(result) == array.shape[0]
    if method == "predict_proba":
        assert ((result >= 0) & (result <= 1)).all()
        if task == "multiclass":
            np.testing.assert_allclose(result.sum(axis=1), 1.0, rtol=1e-5)
    elif task != "regression":
        classes = np.unique(fitted_trainers[1][task])
        assert set(np.unique(result)) <= set(classes)
    elif robust.max_abs(X) <= robust.MODERATE:
        assert np.isfinite(result).all()


@pytest.mark.parametrize("task", sorted(TASKS))
@settings(ROBUST, max_examples=50)
@given(data=st.data())
def test_evaluate_or_a_clear_error(robust, fitted_trainers, task, data):
    fitted, targets = fitted_trainers[0][task], fitted_trainers[1][task]
    n = 3
    X = np.linspace(-1, 1, n * N_FEATURES).reshape(n, N_FEATURES)
    y = targets[:n]
    which = data.draw(st.sampled_from([None, "X", "y", "sample_weight"]),
                      label="hostile argument")
    arguments = {"X": X, "y": y, "sample_weight": None}
    value = None
    if which is not None:
        value = arguments[which] = data.draw(st.one_of(
            robust.hostile_inputs(), robust.hostile_arrays(shape=st.sampled_from([(n,), (n, 1)]))),
            label=which)
    names = ("y", "y_true") if which == "y" else (which,) if which else ()
    outcome = robust.call(fitted.evaluate, **arguments, names=names)
    if which is None:
        assert outcome.ok, f"evaluate rejected valid data: {outcome.error!r}"
    if outcome.ok:
        loss = outcome.value["loss"]
        assert loss >= 0, f"evaluate gave loss {loss}"  # NaN fails too
        if robust.max_abs(value) <= robust.MODERATE:  # 1e38 targets overflow float32: inf
            robust.expect(np.isfinite(loss), f"evaluate gave loss {loss}")


@pytest.mark.parametrize("task", ["multiclass", "binary"])
def test_labels_outside_the_known_classes_are_named(robust, fitted_trainers, task):
    fitted, targets = fitted_trainers[0][task], fitted_trainers[1][task]
    unknown = np.array([7, 0, 0]) if task == "multiclass" else np.array(["maybe", "no", "no"])
    X = np.zeros((3, N_FEATURES))
    error = robust.rejects(fitted.evaluate, X, unknown, names=("y",))
    assert str(unknown[0]) in str(error)
    assert set(np.unique(fitted.predict(X))) <= set(np.unique(targets))


def test_predict_before_fit_says_to_fit_first(robust):
    """Not input validation: a RuntimeError (documented), with a message that says what to do."""
    outcome = robust.run(trainer("binary").predict, np.zeros((1, N_FEATURES)))
    assert isinstance(outcome.error, RuntimeError) and "fit" in str(outcome.error)


def test_callbacks_that_are_not_callbacks_are_named(robust):
    robust.rejects(Trainer, mlp([2, 1], seed=0), "mse", callbacks=[EarlyStopping(), 5],
                   names=("callbacks[1]",), error=TypeError)


# ------------------------------------------------------------- fixed bugs (regression tests)

X8 = np.random.default_rng(0).normal(size=(8, 2))
Y8 = np.array([0, 1] * 4)


def _softmax_trainer() -> Trainer:
    return Trainer(mlp([2, 3, 2], output="softmax", seed=0), "cross_entropy", "sgd", verbose=0,
                   seed=0)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "evaluate"])
def test_bug_b10_predict_overflow(robust, method):
    # inputs near the float32 limit: finite outputs without an overflow warning
    fitted = _softmax_trainer()
    fitted.fit(X8, Y8, epochs=1)
    args = (np.full((2, 2), 3e38),) + ((np.array([0, 1]),) if method == "evaluate" else ())
    value = robust.call(getattr(fitted, method), *args, names=("X",)).value
    if method == "predict":
        assert set(value.tolist()) <= {0, 1}
    elif method == "predict_proba":
        assert np.isfinite(value).all() and np.allclose(value.sum(axis=1), 1.0)
    else:
        assert np.isfinite(value["loss"])


def test_bug_b04_trainer_huge_sample_weights(robust):
    outcome = robust.call(_softmax_trainer().fit, X8, Y8, epochs=1,
                          sample_weight=np.full(8, 1e38), names=("sample_weight",))
    assert np.isfinite(outcome.value["loss"]).all()


def test_bug_b04_trainer_tiny_sample_weights(robust):
    outcome = robust.call(_softmax_trainer().fit, X8, Y8, epochs=1,
                          sample_weight=np.full(8, 1e-45), names=("sample_weight",))
    assert np.isfinite(outcome.value["loss"]).all()


def test_bug_b11_trainer_metrics_none(robust):
    # None means no metrics
    outcome = robust.call(Trainer, mlp([2, 1], seed=0), "mse", metrics=None, names=("metrics",))
    assert outcome.value.metrics == {}


def test_bug_b11_trainer_callbacks_none(robust):
    # None means no callbacks
    outcome = robust.call(Trainer, mlp([2, 1], seed=0), "mse", callbacks=None,
                          names=("callbacks",))
    assert outcome.value.callbacks == []


def test_bug_b23_none_labels_are_refused(robust):
    fitted = _softmax_trainer()
    robust.rejects(fitted.fit, X8, np.array([None, 1] * 4, dtype=object), epochs=1,
                   names=("y",), error=TypeError)


def test_bug_b23_object_numbers_for_regression(robust):
    # an object array of numbers is read as numbers (not as strings "<U...")
    fitted = Trainer(mlp([2, 3, 1], seed=0), "mse", "sgd", verbose=0, seed=0)
    outcome = robust.call(fitted.fit, X8, np.array([1, 2.5] * 4, dtype=object), epochs=1,
                          names=("y",))
    assert outcome.ok, outcome.error  # (a regression would name the string dtype "<U...")


def test_bug_b27_trainer_ragged_y(robust):
    fitted = Trainer(mlp([2, 1], seed=0), "mse", "sgd", verbose=0, seed=0)
    robust.rejects(fitted.fit, X8[:2], [[1.0, 2.0], [3.0]], epochs=1, names=("y",),
                   error=TypeError)


def test_bug_b24_loss_infinite_before_any_step(robust):
    # refused as bad data (naming y and X), not blamed on the learning rate
    fitted = Trainer(mlp([2, 1], seed=0), "mse", "sgd", verbose=0, seed=0)
    error = robust.rejects(fitted.fit, X8, np.full(8, 3e38), epochs=1, names=("y",))
    assert not isinstance(error, TrainingDivergedError), error


def test_bug_b28_failed_fit_leaves_encoder(robust):
    fitted = _softmax_trainer()
    robust.rejects(fitted.fit, X8, Y8[:5], epochs=1, names=("X", "y"), error=ShapeError)
    second = robust.call(fitted.fit, X8, np.array(["a", "b"] * 4), epochs=1, names=("y",))
    assert second.ok, second.error


def test_bug_b29_trainer_shuffle_not_checked(robust):
    robust.rejects(Trainer, mlp([2, 1], seed=0), "mse", shuffle="no", names=("shuffle",),
                   error=TypeError)


@pytest.mark.parametrize("fraction", [0.99, 0.01])
def test_bug_b30_validation_split_message_names_test_size(robust, fraction):
    robust.rejects(_softmax_trainer().fit, X8, Y8, epochs=1, validation_split=fraction,
                   names=("validation_split",))
