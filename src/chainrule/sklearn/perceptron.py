"""``Perceptron``: Rosenblatt's perceptron (:class:`chainrule.Perceptron`) as a scikit-learn
classifier."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._validation import as_float_array, check_bool, check_float_dtype, check_number, check_verbose
from ..perceptron import Perceptron as RosenblattPerceptron
from ..perceptron import _scores
from ._base import FLOATS
from ._data import CheckedScore, sklearn_checks
from ._translate import network_dtype, random_source


class Perceptron(CheckedScore, ClassifierMixin, BaseEstimator):
    """Rosenblatt's perceptron with scikit-learn's API (one-vs-rest for several classes).

    Trains :class:`chainrule.Perceptron`: weights start at zero, samples are visited one at a
    time, and a unit's weights change only when it is wrong
    (``w ← w + eta0 (t − ŷ) x``, ``b ← b + eta0 (t − ŷ)``). Training stops after the first
    epoch without a mistake (guaranteed on linearly separable data, by Novikoff's theorem) or
    after ``max_iter`` epochs, with a ``ConvergenceWarning``.

    Unlike ``sklearn.linear_model.Perceptron`` (stochastic gradient descent on the perceptron
    criterion, with penalties and a tolerance-based stop) this is the original mistake-driven
    rule, so ``penalty``, ``alpha``, ``tol``, ``class_weight``, ``sample_weight`` and
    ``warm_start`` do not exist here.

    Parameters
    ----------
    eta0 : float, default 1.0
        Learning rate (> 0). Starting from zero weights it only rescales them: with a power
        of two, predictions do not depend on it (other values round differently; see
        :class:`chainrule.Perceptron`).
    max_iter : int, default 100
        Maximum number of epochs.
    shuffle : bool, default True
        Visit the samples in a new random order every epoch.
    random_state : int, RandomState, Generator or None, default None
        Source of the shuffling. None draws from NumPy's global RandomState, as
        scikit-learn does (``np.random.seed`` makes fits reproducible). A fit that refuses
        its data draws nothing from it.
    verbose : bool or int >= 0, default False
        Print whether training converged.
    dtype : {None, "float32", "float64"}, default None
        Dtype of the weights; None follows ``X`` (float32 stays float32, else float64).

    Every parameter is checked at the start of ``fit``. An ``X`` (or ``eta0``) so large that
    the scores ``X @ coef_.T + intercept_`` overflow the dtype is a ``ValueError`` naming
    ``X``, in ``fit`` as in ``predict`` and ``decision_function``.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.
    n_iter_ : int
        Epochs run.
    mistakes_ : list of int
        Mistakes (updates) in each epoch, summed over the units.
    converged_ : bool
        Whether the last epoch made no mistake.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> Perceptron(shuffle=False).fit(X, [0, 0, 0, 1]).predict(X)  # logical AND
    array([0, 0, 0, 1])
    """

    def __init__(
        self,
        *,
        eta0: float = 1.0,
        max_iter: int = 100,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool = False,
        dtype: Any = None,
    ) -> None:
        self.eta0 = eta0
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def fit(self, X: Any, y: Any) -> Perceptron:
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,); return self."""
        lr = check_number(self.eta0, "eta0", low=0, low_open=True)
        epochs = check_number(self.max_iter, "max_iter", low=1, integer=True)
        shuffle = check_bool(self.shuffle, "shuffle")
        verbose = check_verbose(self.verbose, high=None)
        if self.dtype is not None:
            check_float_dtype(self.dtype)
        draw_generator = random_source(self.random_state)  # drawn once the data are checked
        with sklearn_checks(X=X, y=y):
            X, y = validate_data(self, X, y, dtype=FLOATS)
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"Perceptron takes one label per sample, got {kind} y")
        classes = unique_labels(y)
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({classes.tolist()}); a perceptron needs samples of at "
                "least 2 classes"
            )
        rosenblatt = RosenblattPerceptron(
            lr, epochs, shuffle=shuffle, seed=draw_generator(), dtype=network_dtype(self.dtype, X),
            verbose=bool(verbose),
        ).fit(X, y)
        self.classes_ = rosenblatt.classes_
        self.coef_ = np.ascontiguousarray(rosenblatt.W.T)  # (n_units, n_features)
        self.intercept_ = rosenblatt.b.copy()
        self.n_iter_ = rosenblatt.n_epochs_
        self.mistakes_ = list(rosenblatt.mistakes_)
        self.converged_ = rosenblatt.converged_
        if not self.converged_:
            warnings.warn(
                f"Perceptron did not converge in max_iter={epochs} epochs: the last epoch "
                f"still made {self.mistakes_[-1]} mistakes (the data may not be linearly "
                "separable).",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X @ coef_.T + intercept_``: (n_samples,) for two classes (``≥ 0`` means
        ``classes_[1]``), else (n_samples, n_classes)."""
        check_is_fitted(self)
        with sklearn_checks(X=X):
            X = validate_data(self, X, dtype=FLOATS, reset=False)
        # X in the weights' dtype and W laid out as in training, so that the scores round as
        # in the convergence check of fit (a converged model classifies its training set)
        X = as_float_array(X, "X", dtype=self.coef_.dtype)
        W = np.ascontiguousarray(self.coef_.T)  # (n_features, n_units)
        scores = _scores(X, W, self.intercept_)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """Labels (n_samples,): the unit's step for two classes (``score ≥ 0`` gives
        ``classes_[1]``, Rosenblatt's threshold), else the class of the largest score."""
        scores = self.decision_function(X)
        index = (scores >= 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
