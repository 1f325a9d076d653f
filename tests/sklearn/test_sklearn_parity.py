"""Parity with scikit-learn's own MLP: from identical weights, full-batch training follows
scikit-learn's trajectory (loss convention, ``alpha`` mapping, sample weights, SGD, Adam,
learning-rate policies and the stopping rule)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

from chainrule.sklearn import MLPClassifier, MLPRegressor

N_SAMPLES = 40


def _data(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.normal(size=(N_SAMPLES, 5))
    score = X @ rng.normal(size=(5, 3))
    if kind == "binary":
        return X, np.where(score[:, 0] > 0, "yes", "no")
    if kind == "multiclass":
        return X, np.argmax(score, axis=1) + 10
    if kind == "multilabel":
        return X, (score > 0).astype(int)
    if kind == "regression":
        return X, score[:, 0]
    return X, score  # multi-output regression


def _twins(kind: str, rng: np.random.Generator, **settings):
    """(ours, scikit-learn's, X, y): both fitted one epoch, then given the same weights, so
    that the next ``fit`` (``warm_start``) starts from identical parameters."""
    X, y = _data(kind, rng)
    params = {"hidden_layer_sizes": (7, 6), "activation": "tanh", "batch_size": N_SAMPLES,
              "shuffle": False, "random_state": 0, "warm_start": True, "max_iter": 1}
    params.update(settings)
    classes = (MLPRegressor, SkRegressor) if "regression" in kind else (MLPClassifier, SkClassifier)
    ours, theirs = classes[0](**params), classes[1](**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y)
        theirs.fit(X, y)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        mine[...] = other  # coefs_ and intercepts_ are views of the network's weights
    ours.best_loss_ = theirs.best_loss_ = np.inf  # forget the different first epochs
    return ours, theirs, X, y


def _fit_both(ours, theirs, X, y, sample_weight=None, **settings):
    ours.set_params(**settings)
    theirs.set_params(**settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y, sample_weight=sample_weight)
        theirs.fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "kind", ["binary", "multiclass", "multilabel", "regression", "multi-output regression"]
)
def test_one_sgd_step_matches_scikit_learn(kind, rng):
    ours, theirs, X, y = _twins(kind, rng, solver="sgd", momentum=0.0,
                                learning_rate_init=0.1, alpha=0.3)
    _fit_both(ours, theirs, X, y)
    # with several outputs, both report the squared error averaged over them (and alpha's
    # penalty) while the step follows the gradient of its sum
    assert ours.loss_curve_[-1] == pytest.approx(theirs.loss_curve_[-1], rel=1e-12)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, other, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_sample_weights_and_alpha_match_scikit_learn(kind, rng):
    ours, theirs, X, y = _twins(kind, rng, solver="sgd", momentum=0.0,
                                learning_rate_init=0.1, alpha=2.0)
    weights = rng.uniform(0.0, 3.0, size=N_SAMPLES)
    _fit_both(ours, theirs, X, y, sample_weight=weights, max_iter=5, tol=0.0)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-10)
    np.testing.assert_allclose(ours.coefs_[0], theirs.coefs_[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["multiclass", "multi-output regression"])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
def test_sgd_with_nesterov_momentum_and_stopping_rule_matches_scikit_learn(
    kind, learning_rate, rng
):
    # scikit-learn's defaults: momentum 0.9 with Nesterov; a loose tol makes the stopping rule
    # (and, for "adaptive", the division of the rate by 5) happen within max_iter. With several
    # outputs the rule compares the loss averaged over them with tol, as scikit-learn's.
    ours, theirs, X, y = _twins(kind, rng, solver="sgd", learning_rate_init=0.05)
    _fit_both(ours, theirs, X, y, max_iter=300, tol=1e-3, n_iter_no_change=3,
              learning_rate=learning_rate, power_t=0.25)
    assert ours.n_iter_ == theirs.n_iter_ < 300
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-7)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-7)


def test_adam_follows_scikit_learn(rng):
    ours, theirs, X, y = _twins("binary", rng, solver="adam", learning_rate_init=0.01)
    _fit_both(ours, theirs, X, y, max_iter=20, tol=0.0)
    # scikit-learn adds epsilon to the uncorrected sqrt(v), i.e. epsilon / sqrt(1 − β2^t) to
    # the corrected one (3e-7 at t = 1); ours adds epsilon to the corrected root, as the paper
    # and PyTorch: a difference of a few 1e-6 relative after 20 steps
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=5e-5)
    np.testing.assert_allclose(ours.coefs_[1], theirs.coefs_[1], rtol=5e-4, atol=1e-6)


def test_float32_training_stays_close_to_scikit_learn(rng):
    ours, theirs, X, y = _twins("multiclass", rng, solver="sgd", momentum=0.0,
                                learning_rate_init=0.1)
    X32 = X.astype(np.float32)
    assert ours.coefs_[0].dtype == np.float64  # fitted on float64
    fresh = MLPClassifier(**{**ours.get_params(), "warm_start": False})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fresh.fit(X32, y)
        theirs.set_params(warm_start=False).fit(X32, y)
    assert fresh.coefs_[0].dtype == np.float32 and theirs.coefs_[0].dtype == np.float32
    assert fresh.predict_proba(X32).dtype == np.float32


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_a_changed_activation_applies_on_the_next_warm_fit_as_in_scikit_learn(kind, rng):
    # scikit-learn's forward pass reads ``activation`` on every call: after set_params, the
    # next warm fit trains the same weights through the new activation
    ours, theirs, X, y = _twins(kind, rng, solver="sgd", momentum=0.0, learning_rate_init=0.1)
    _fit_both(ours, theirs, X, y, activation="logistic", max_iter=3, tol=0.0)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-10)
    for mine, other in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, other, rtol=1e-10, atol=1e-12)


def _rescaled_per_batch(weights: np.ndarray, batch_size: int) -> np.ndarray:
    """Weights under which scikit-learn's per-batch penalty ``½ α ‖W‖² / Σ_b w`` is ours,
    ``½ α ‖W‖² / (B · w̄)``: every (unshuffled) batch's weights scaled to sum to ``B · w̄``.
    A batch's weighted mean loss does not change when its weights are scaled together."""
    rescaled = weights.copy()
    for start in range(0, len(weights), batch_size):
        batch = rescaled[start:start + batch_size]  # a view: scaled in place
        batch *= batch_size * weights.mean() / batch.sum()
    return rescaled


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
@pytest.mark.parametrize(
    "batch_size, weighted",
    [(10, False), (15, False), (10, True), (15, True)],  # 15: batches of 15, 15 and 10 rows
)
def test_minibatch_alpha_is_divided_by_full_batch_rows_times_the_mean_weight(
    kind, batch_size, weighted, rng
):
    # What _translate documents: each batch's penalty is ½ α ‖W‖² / (B · w̄), scikit-learn's
    # exactly for full unweighted batches, and otherwise what scikit-learn gives with every
    # batch's weights rescaled to sum to B · w̄ (and not what it gives with the raw weights)
    ours, theirs, X, y = _twins(kind, rng, solver="sgd", momentum=0.0, learning_rate_init=0.1,
                                alpha=2.0, batch_size=batch_size)
    raw = copy.deepcopy(theirs)
    weights = rng.uniform(0.1, 3.0, size=N_SAMPLES) if weighted else np.ones(N_SAMPLES)
    rescaled = _rescaled_per_batch(weights, batch_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for model in (ours, theirs, raw):
            model.set_params(max_iter=5, tol=0.0)
        ours.fit(X, y, sample_weight=weights if weighted else None)
        theirs.fit(X, y, sample_weight=rescaled)
        raw.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-10)
    gap = 0.0
    for mine, exact, other in zip(ours.coefs_ + ours.intercepts_,
                                  theirs.coefs_ + theirs.intercepts_,
                                  raw.coefs_ + raw.intercepts_):
        np.testing.assert_allclose(mine, exact, rtol=1e-9, atol=1e-12)
        gap = max(gap, float(np.abs(mine - other).max()))
    if np.array_equal(rescaled, weights):  # full unweighted batches: scikit-learn's penalty
        assert gap < 1e-12
    else:  # weighted minibatches, or a partial last batch: a documented difference
        assert gap > 1e-6
