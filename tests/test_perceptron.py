"""The Rosenblatt perceptron: the rule by hand, convergence, one-vs-rest, labels, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from chainrule.datasets.generators import make_blobs, make_xor
from chainrule.errors import NotBuiltError, ShapeError
from chainrule.perceptron import Perceptron

# The tutorial's two overlapping clusters.
TUTORIAL_CENTERS = [(-3.5, -2.0), (2.5, 3.5)]
TUTORIAL_STD = 2.25
#: The logical AND: linearly separable, so training converges.
X_AND = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_AND = np.array([0, 0, 0, 1])


def reference_perceptron(X, y, classes, epochs):
    """Rosenblatt's rule written out sample by sample, unit by unit, in the order given."""
    units = [classes[1]] if len(classes) == 2 else list(classes)
    W = np.zeros((X.shape[1], len(units)))
    b = np.zeros(len(units))
    for _ in range(epochs):
        for x, label in zip(X, y):
            for k, positive in enumerate(units):
                t = 1.0 if label == positive else 0.0
                y_hat = 1.0 if float(np.dot(W[:, k], x) + b[k]) >= 0.0 else 0.0
                W[:, k] += (t - y_hat) * x
                b[k] += t - y_hat
    return W, b


# --------------------------------------------------------------------------- the rule by hand


def test_one_epoch_by_hand():
    X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    y = np.array([0, 1, 0])
    # w = (0, 0), b = 0.
    # x1: z = 0 → ŷ = 1 (step(0) = 1), t = 0: w = (0,0) − (1,2) = (−1,−2), b = −1
    # x2: z = −2 + 2 − 1 = −1 → ŷ = 0, t = 1: w = (−1,−2) + (2,−1) = (1,−3), b = 0
    # x3: z = −1 + 3 + 0 = 2 → ŷ = 1, t = 0: w = (1,−3) − (−1,−1) = (2,−2), b = −1
    clf = Perceptron(lr=1.0, epochs=1, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(clf.W, [[2.0], [-2.0]])
    np.testing.assert_array_equal(clf.b, [-1.0])
    assert clf.mistakes_ == [3] and clf.n_epochs_ == 1 and not clf.converged_
    # Epoch 2: z = (−3, 5, −1) → ŷ = (0, 1, 0) = t: no mistakes, training stops.
    clf = Perceptron(lr=1.0, epochs=50, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(clf.W, [[2.0], [-2.0]])
    np.testing.assert_array_equal(clf.b, [-1.0])
    assert clf.mistakes_ == [3, 0] and clf.n_epochs_ == 2 and clf.converged_
    np.testing.assert_array_equal(clf.decision_function(X), [-3.0, 5.0, -1.0])


def test_learning_rate_only_rescales_the_weights():
    X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    y = np.array([0, 1, 0])
    clf = Perceptron(lr=0.5, epochs=1, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(clf.W, [[1.0], [-1.0]])
    np.testing.assert_array_equal(clf.b, [-0.5])
    assert clf.mistakes_ == [3]


def test_only_a_power_of_two_learning_rate_rescales_the_weights_exactly():
    """With another rate the sums round differently: here a score of exactly 0 at lr = 1
    (step gives 1) is a rounding error below 0 at lr = 0.1 (step gives 0)."""
    X, y = np.array([[-3.0], [-1.0], [2.0]]), np.array([0, 1, 0])
    one = Perceptron(lr=1.0, epochs=3, shuffle=False).fit(X, y)
    for lr in (0.25, 8.0):
        scaled = Perceptron(lr=lr, epochs=3, shuffle=False).fit(X, y)
        assert scaled.mistakes_ == one.mistakes_
        np.testing.assert_array_equal(scaled.W, one.W * lr)
        np.testing.assert_array_equal(scaled.decision_function(X), one.decision_function(X) * lr)
    tenth = Perceptron(lr=0.1, epochs=3, shuffle=False).fit(X, y)
    assert one.predict(X).tolist() == [1, 1, 0] and tenth.predict(X).tolist() == [1, 0, 0]


@pytest.mark.filterwarnings("error")
def test_a_huge_learning_rate_rescales_the_weights_until_they_overflow():
    # B16: lr rescales the weights: 1e300 on small X fits, predicting as lr=1 does; where
    # lr * x overflows, fit refuses, naming X and the rate.
    huge = Perceptron(lr=1e300, seed=0).fit(X_AND, Y_AND)
    plain = Perceptron(seed=0).fit(X_AND, Y_AND)
    np.testing.assert_array_equal(huge.predict(X_AND), plain.predict(X_AND))
    np.testing.assert_allclose(huge.W, plain.W * 1e300)
    with pytest.raises(ValueError, match=r"^X is too large .*learning rate 1e\+300"):
        Perceptron(lr=1e300, seed=0).fit(X_AND * 1e10, Y_AND)


def test_one_epoch_by_hand_three_classes():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    y = np.array([0, 1, 2])
    # Three units, all at zero; t_k = [y == k].
    # x1, t = (1,0,0): z = (0,0,0) → ŷ = (1,1,1); units 1, 2 subtract x1:
    #     W = [[0,−1,−1],[0,0,0]], b = (0,−1,−1)
    # x2, t = (0,1,0): z = (0,−1,−1) → ŷ = (1,0,0); unit 0 subtracts x2, unit 1 adds it:
    #     W = [[0,−1,−1],[−1,1,0]], b = (−1,0,−1)
    # x3, t = (0,0,1): z = (1−1, 0+0, 1−1) = (0,0,0) → ŷ = (1,1,1); units 0, 1 subtract x3:
    #     W = [[1,0,−1],[0,2,0]], b = (−2,−1,−1)
    clf = Perceptron(epochs=1, shuffle=False).fit(X, y)
    np.testing.assert_array_equal(clf.W, [[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    np.testing.assert_array_equal(clf.b, [-2.0, -1.0, -1.0])
    assert clf.mistakes_ == [6]


@pytest.mark.parametrize("n_classes", [2, 4])
def test_matches_the_rule_written_out(rng, n_classes):
    X = rng.normal(size=(30, 3))
    y = rng.integers(0, n_classes, 30)
    y[:n_classes] = np.arange(n_classes)
    clf = Perceptron(epochs=3, shuffle=False).fit(X, y)
    W, b = reference_perceptron(X, y, np.arange(n_classes), epochs=3)
    np.testing.assert_allclose(clf.W, W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.b, b, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- convergence


def test_converges_on_separable_blobs():
    X, y = make_blobs(200, centers=[(-4.0, -4.0), (4.0, 4.0)], std=1.0, seed=3)
    clf = Perceptron(seed=0).fit(X, y)
    assert clf.converged_
    assert clf.mistakes_[0] > 0 and clf.mistakes_[-1] == 0
    assert all(m > 0 for m in clf.mistakes_[:-1])
    assert clf.n_epochs_ == len(clf.mistakes_) < clf.epochs
    assert clf.score(X, y) == 1.0
    np.testing.assert_array_equal(clf.predict(X), y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_novikoff_bound_on_total_mistakes(seed):
    # Separable by construction: u·(x, 1) with a margin of at least 0.1 after normalising u.
    rng = np.random.default_rng(seed)
    u = np.array([1.0, -2.0, 0.5])
    u /= np.linalg.norm(u)
    X = rng.uniform(-3, 3, size=(400, 2))
    X_tilde = np.column_stack([X, np.ones(len(X))])
    keep = np.abs(X_tilde @ u) >= 0.1
    X, X_tilde = X[keep], X_tilde[keep]
    y = (X_tilde @ u > 0).astype(int)
    gamma = float(np.min(np.abs(X_tilde @ u)))
    R = float(np.max(np.linalg.norm(X_tilde, axis=1)))

    clf = Perceptron(lr=0.3, epochs=10_000, seed=seed).fit(X, y)
    assert clf.converged_
    assert sum(clf.mistakes_) <= (R / gamma) ** 2
    assert clf.score(X, y) == 1.0


def test_tutorial_blobs_test_accuracy():
    X, y = make_blobs(100, centers=TUTORIAL_CENTERS, std=TUTORIAL_STD, seed=0)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:75], order[75:]
    clf = Perceptron(seed=0).fit(X[train], y[train])
    accuracy = clf.score(X[test], y[test])
    print(f"perceptron test accuracy on the tutorial's blobs: {accuracy:.2f} (tutorial: 0.84)")
    assert accuracy >= 0.75


def test_xor_does_not_converge():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    clf = Perceptron(epochs=25, seed=0).fit(X, y)
    assert not clf.converged_
    assert clf.n_epochs_ == 25 and len(clf.mistakes_) == 25
    assert all(m > 0 for m in clf.mistakes_)
    assert clf.score(X, y) < 1.0


def test_noisy_xor_does_not_converge():
    X, y = make_xor(80, noise=0.1, seed=0)
    clf = Perceptron(epochs=30, seed=0).fit(X, y)
    assert not clf.converged_ and clf.n_epochs_ == 30 and clf.mistakes_[-1] > 0


# --------------------------------------------------------------------------- one-vs-rest


def test_three_separable_blobs():
    centers = [(0.0, 6.0), (-6.0, -4.0), (6.0, -4.0)]
    X, y = make_blobs(150, centers=centers, std=1.0, seed=1)
    clf = Perceptron(seed=0).fit(X, y)
    assert clf.W.shape == (2, 3) and clf.b.shape == (3,)
    assert clf.converged_ and clf.mistakes_[-1] == 0
    assert clf.score(X, y) == 1.0
    scores = clf.decision_function(X)
    assert scores.shape == (150, 3)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[scores.argmax(axis=1)])


def test_binary_uses_one_unit_and_step_of_the_score():
    X, y = make_blobs(60, centers=TUTORIAL_CENTERS, std=TUTORIAL_STD, seed=4)
    clf = Perceptron(epochs=5, seed=0).fit(X, y)
    assert clf.W.shape == (2, 1) and clf.b.shape == (1,)
    scores = clf.decision_function(X)
    assert scores.shape == (60,)
    np.testing.assert_array_equal(clf.predict(X), np.where(scores >= 0, 1, 0))


# --------------------------------------------------------------------------- labels


def test_string_labels_round_trip():
    X, y = make_blobs(90, centers=[(0.0, 6.0), (-6.0, -4.0), (6.0, -4.0)], std=1.0, seed=2)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = Perceptron(seed=0).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    np.testing.assert_array_equal(clf.predict(X), names)
    assert clf.score(X, list(names)) == 1.0


def test_arbitrary_integer_labels_and_positive_class():
    X, y = make_blobs(60, centers=[(-4.0, 0.0), (4.0, 0.0)], std=0.5, seed=5)
    labels = np.where(y == 1, 7, -3)
    clf = Perceptron(seed=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, [-3, 7])
    np.testing.assert_array_equal(clf.predict(X), labels)
    # The unit's t = 1 is classes_[1]: a positive score means 7.
    np.testing.assert_array_equal(clf.decision_function(X) >= 0, labels == 7)


# --------------------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_weights():
    X, y = make_blobs(100, centers=TUTORIAL_CENTERS, std=TUTORIAL_STD, seed=0)
    a = Perceptron(epochs=20, seed=42).fit(X, y)
    b = Perceptron(epochs=20, seed=42).fit(X, y)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.b, b.b)
    assert a.mistakes_ == b.mistakes_
    refit = a.fit(X, y)  # a second fit restarts from zero with the same seed
    np.testing.assert_array_equal(refit.W, b.W)
    c = Perceptron(epochs=20, seed=43).fit(X, y)
    assert not np.array_equal(a.W, c.W)


def test_float32_and_inputs_untouched():
    X, y = make_blobs(50, centers=[(-4.0, -4.0), (4.0, 4.0)], std=1.0, seed=6)
    X_before = X.copy()
    clf = Perceptron(seed=0, dtype=np.float32).fit(X, y)
    assert clf.W.dtype == np.float32 and clf.b.dtype == np.float32
    assert clf.decision_function(X).dtype == np.float32
    np.testing.assert_array_equal(X, X_before)
    assert clf.score(X, y) == 1.0


# --------------------------------------------------------------------------- saying so


def test_verbose_reports_convergence(capsys):
    X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    Perceptron(shuffle=False, verbose=True).fit(X, [0, 1, 0])
    out = capsys.readouterr().out
    assert "converged after 2 epochs (no mistakes in epoch 2)" in out


def test_verbose_reports_non_convergence(capsys):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    clf = Perceptron(epochs=10, seed=0, verbose=True).fit(X, [0, 1, 1, 0])
    out = capsys.readouterr().out
    assert "did not converge in 10 epochs" in out
    assert f"{clf.mistakes_[-1]} mistakes" in out
    assert "may not be linearly separable" in out


def test_quiet_mode_says_nothing(capsys):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Perceptron(epochs=10, seed=0).fit(X, [0, 1, 1, 0])
    assert caught == []
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": "fast"}, TypeError, "lr"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 2.5}, TypeError, "epochs"),
        ({"epochs": True}, TypeError, "epochs"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"verbose": 2}, ValueError, r"verbose must be in \[0, 1\], got 2"),
        ({"verbose": "yes"}, TypeError, "verbose"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "x"}, TypeError, "seed"),
        ({"dtype": np.int64}, TypeError, "dtype"),
    ],
)
def test_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        Perceptron(**kwargs)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "X, y, error, match",
    [
        ([1.0, 2.0, 3.0], [0, 1, 0], ShapeError, "X must be 2-D"),
        ([[1.0], [np.nan]], [0, 1], ValueError, "X must be finite"),
        ([["a"], ["b"]], [0, 1], TypeError, "X must hold real numbers"),
        ([[1.0], [2.0]], [[0], [1]], ShapeError, r"y must be 1-D .*\(2, 1\)"),
        ([[1.0], [2.0]], [0, 1, 1], ShapeError, "same number of samples, got 2 and 3"),
        ([[1.0], [2.0]], [1, 1], ValueError, "at least 2 classes"),
        ([[1.0], [2.0]], [0.0, np.nan], ValueError, "y must not contain NaN"),
        ([[1.0], [2.0]], np.array([0, np.nan], dtype=object), ValueError, "NaN.*index 1"),
        # B16: scores that overflow in training are a ValueError naming X.
        ([[1e300], [-1e300]], [0, 1], ValueError, "X is too large .* overflow"),
        (X_AND * 1e300, Y_AND, ValueError, r"^X is too large .* overflow.*1e\+300"),
        ([[1.0], [2.0]], np.array([1, "a"], dtype=object), TypeError, "labels of one kind"),
        ([[1.0], [2.0]], np.array([1j, 2j]), TypeError,
         r"^y must hold real-number, string or bool labels, got dtype complex128$"),
        ([[1.0], [2.0]], np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), TypeError,
         r"got dtype datetime64\[D\]"),
    ],
)
def test_bad_training_data(X, y, error, match):
    clf = Perceptron(seed=0)
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "W") and not hasattr(clf, "classes_")  # B16: no model left behind


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("label", [np.nan, math.inf, -math.inf, np.float64("nan")])
def test_a_non_finite_label_in_an_object_array_is_refused(label):
    # B17: a NaN (or infinite) label is refused in an object array as in a float array, by fit
    # and by score, naming y and where it is.
    y = np.array([1, label, 0, 1], dtype=object)
    match = r"^y must not contain NaN or infinity, got .* at index 1"
    with pytest.raises(ValueError, match=match):
        Perceptron(seed=0).fit(X_AND, y)
    fitted = Perceptron(seed=0).fit(X_AND, Y_AND)
    with pytest.raises(ValueError, match=match):
        fitted.score(X_AND, y)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("method", ["predict", "decision_function", "score"])
def test_inference_with_scores_beyond_the_float_range_names_x(method):
    # B16: scores that overflow at inference are a ValueError naming X.
    clf = Perceptron(seed=0).fit(X_AND, Y_AND)
    args = (X_AND * 1e308, Y_AND) if method == "score" else (X_AND * 1e308,)
    with pytest.raises(ValueError, match="^X is too large .* overflow"):
        getattr(clf, method)(*args)
    # large but representable scores are fine
    scores = clf.decision_function(X_AND * 1e300)
    np.testing.assert_array_equal(scores, (X_AND * 1e300 @ clf.W + clf.b)[:, 0])


def test_predict_before_fit():
    with pytest.raises(NotBuiltError, match="not fitted"):
        Perceptron().predict(np.zeros((2, 2)))


def test_predict_with_another_width():
    X = np.array([[1.0, 2.0], [2.0, -1.0], [-1.0, -1.0]])
    clf = Perceptron(shuffle=False).fit(X, [0, 1, 0])
    with pytest.raises(ShapeError, match=r"2 features.*3 features.*\(n_samples, 2\).*\(4, 3\)"):
        clf.predict(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="decision_function"):
        clf.decision_function(np.zeros((4, 1)))
    with pytest.raises(ShapeError, match="same number of samples"):
        clf.score(X, [0, 1])


@pytest.mark.filterwarnings("error")
def test_final_weights_whose_scores_overflow_are_refused_like_an_overflow_in_training():
    # Epoch 1 scores with the zero weights (no overflow); its one update makes W = -1e200, and
    # the check of the final weights on their own training set, X @ W ~ -1e400, overflows.
    clf = Perceptron(epochs=1, shuffle=False)
    with pytest.raises(ValueError, match=r"^X is too large for training in float64 with "
                                         r"learning rate 1: .*values up to 1e\+200"):
        clf.fit([[1e200], [1e200]], [1, 0])
    assert not hasattr(clf, "W") and not hasattr(clf, "classes_")  # no model left behind


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_named_at_inference(bad):
    clf = Perceptron(seed=0).fit(X_AND, Y_AND)
    clf.b[0] = bad
    with pytest.raises(ValueError, match=r"^the perceptron's weights W and b are not finite; refit it$"):
        clf.predict(X_AND)


def test_repr_shows_every_setting_as_the_constructor_call():
    clf = Perceptron(lr=0.5, epochs=10, shuffle=False, seed=3, dtype=np.float32, verbose=True)
    assert repr(clf) == ("Perceptron(lr=0.5, epochs=10, shuffle=False, seed=3, dtype='float32', "
                         "verbose=1)")
    assert repr(Perceptron()) == (
        "Perceptron(lr=1.0, epochs=100, shuffle=True, seed=None, dtype='float64', verbose=0)")
    rebuilt = eval(repr(clf), {"Perceptron": Perceptron})
    assert repr(rebuilt) == repr(clf)
    assert (rebuilt.dtype, rebuilt.verbose) == (np.float32, 1)


def test_score_with_labels_of_another_kind_is_an_error_not_zero_accuracy():
    X, y = make_blobs(40, centers=2, std=0.5, seed=0)
    clf = Perceptron(epochs=20, seed=0).fit(X, y)
    with pytest.raises(TypeError, match=r"y holds string labels \(dtype <U\d+\), but this "
                                        r"Perceptron was fitted on numeric labels: "
                                        r"classes_ = \[0, 1\]"):
        clf.score(X, y.astype(str))
    named = Perceptron(epochs=20, seed=0).fit(X, np.array(["no", "yes"])[y])
    with pytest.raises(TypeError, match=r"y holds numeric labels \(dtype int64\), but .*"
                                        r"string labels: classes_ = \['no', 'yes'\]"):
        named.score(X, y)
    assert named.score(X, np.array(["no", "yes"])[y]) == clf.score(X, y)
    assert clf.score(X, np.where(y == 1, 7, 0)) == np.mean(clf.predict(X) == np.where(y, 7, 0))
    assert clf.score(X, y.astype(float)) == clf.score(X, y)  # numbers compare with numbers
