"""The early-stopping validation split: stratified as scikit-learn's (binary problems only),
and an error that says which split failed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier

from chainrule.sklearn import MLPClassifier

SETTINGS = {"hidden_layer_sizes": (4,), "early_stopping": True, "max_iter": 3,
            "random_state": 0}


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.fixture
def X(rng):
    return rng.normal(size=(30, 3))


@pytest.mark.parametrize(
    "kind, stratified",
    [("binary", True), ("multiclass", False), ("multilabel", False)],
)
def test_only_binary_problems_get_a_stratified_split(kind, stratified, X, spy_on_split):
    from chainrule.sklearn import _base

    seen = spy_on_split(_base)
    labels = {
        "binary": np.where(X[:, 0] > 0, "yes", "no"),
        "multiclass": np.argmax(X, axis=1),
        "multilabel": (X > 0).astype(int),
    }[kind]
    _fit(MLPClassifier(**SETTINGS), X, labels)
    if stratified:  # by the labels themselves, as scikit-learn's binarized single column
        np.testing.assert_array_equal(seen["stratify"], labels)
    else:
        assert seen["stratify"] is None
    assert seen["test_size"] == 0.1


def test_a_multiclass_class_of_one_sample_fits_as_with_scikit_learn(X):
    y = np.r_[np.zeros(20, int), np.ones(9, int), [2]]
    theirs = _fit(SkClassifier(**SETTINGS), X, y)
    ours = _fit(MLPClassifier(**SETTINGS), X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert len(ours.validation_scores_) == 3
    assert ours.predict_proba(X).shape == (30, 3)


def test_a_binary_class_of_one_sample_names_the_early_stopping_split(X):
    y = np.r_[np.full(29, "common"), ["rare"]]
    with pytest.raises(ValueError) as caught:
        _fit(MLPClassifier(**SETTINGS), X, y)
    message = str(caught.value)
    assert message.startswith(
        "early_stopping=True cannot hold out validation_fraction=0.1 of the 30 training "
        "samples stratified by class"
    )
    assert "['rare']" in message  # scikit-learn's reason, naming the label (not its index)
    assert message.endswith("or early_stopping=False.")
    _fit(MLPClassifier(**{**SETTINGS, "early_stopping": False}), X, y)  # the way out
