"""``MLPClassifier``: scikit-learn's multi-layer perceptron classifier, trained by chainrule."""

from __future__ import annotations

import reprlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from .._validation import as_array
from ..layers.inference import gather
from ..losses import CrossEntropy, Loss
from ..training.targets import class_one
from ._base import BaseMLP
from ._data import CheckedScore
from ._losses import LogLoss

#: Logits this far apart (absolute), or a sigmoid's logit this far from 0, give probabilities
#: that cannot round to a tie: see ``MLPClassifier._decided_logits``.
CLOSE_LOGITS = 2.0**-10


class MLPClassifier(CheckedScore, ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier with scikit-learn's API, trained by chainrule.

    A drop-in for ``sklearn.neural_network.MLPClassifier`` (stochastic solvers) that adds
    per-layer activations, more activations, dropout, L1, any chainrule optimizer,
    callbacks and the validation loss curve. Multi-class problems use a softmax output with
    cross-entropy, binary and multilabel problems sigmoid outputs with the log-loss, all fused
    and computed from the logits.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default (100,)
        Units of each hidden layer; ``()`` gives a linear (logistic regression) model.
    activation : str or list of str, default "relu"
        Hidden activation, one name for every layer or one per hidden layer: scikit-learn's
        ``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"``, and chainrule's
        ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"softplus"``.
    solver : {"adam", "sgd", "adamw", "rmsprop", "adagrad"}, default "adam"
        The optimizer, built from the settings below (ignored when ``optimizer`` is given).
        scikit-learn's ``"lbfgs"`` is not available.
    alpha : float, default 1e-4
        L2 penalty ``½ α ‖W‖² / (B · w̄)`` added to every batch's loss, ``B`` the rows of a
        full batch, ``w̄`` the mean training sample weight (1 without ``sample_weight``).
        scikit-learn divides by each batch's total sample weight instead; the two agree on
        every batch of full-batch training and on every full batch without sample weights,
        not on weighted minibatches nor on an epoch's last, partial batch (see
        :mod:`chainrule.sklearn._translate`).
    batch_size : int or "auto", default "auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``. Larger sizes are clipped.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        Rate policy, as scikit-learn's: applied to ``solver="sgd"`` (ignored by the other
        solvers, as scikit-learn's ``"adam"`` ignores it) and to any ``optimizer`` given.
    learning_rate_init : float, default 1e-3
        The optimizer's learning rate ``lr``: that of ``solver``, and of an ``optimizer``
        given by name or as a dict without ``"lr"``. An ``optimizer`` with a rate of its own
        (an Optimizer, a dict with ``"lr"``) keeps it; ``learning_rate_init`` must then be
        left at its default or equal that rate (another value is a ``ValueError``).
    power_t : float, default 0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default 200
        Maximum number of epochs; a ``ConvergenceWarning`` is issued when it is reached.
    shuffle : bool, default True
    random_state : int, RandomState, Generator or None, default None
        Seeds the weights, the dropout masks, the shuffling and the validation split. None
        draws from NumPy's global RandomState, as scikit-learn does (``np.random.seed``
        makes fits reproducible; each fit moves the global state on); a RandomState is
        drawn from once per fit, after the data passed their checks (a fit that refuses its
        data draws nothing). A Generator seeded the legacy way, which cannot spawn, gives
        its streams from draws of its own (:func:`chainrule._random.spawn_many`).
    tol : float, default 1e-4
    n_iter_no_change : int, default 10
        Training stops once the training loss (or, with ``early_stopping``, the validation
        accuracy) has failed to improve by ``tol`` for more than ``n_iter_no_change``
        consecutive epochs.
    max_fun : int >= 1, default 15000
        scikit-learn's limit on loss evaluations of ``solver="lbfgs"``, which is not
        available here (see ``solver``): accepted and checked, so that scikit-learn's
        parameters carry over, and otherwise unused, as scikit-learn's stochastic solvers
        ignore it.
    verbose : bool, default False
        Print one line per epoch on stdout (and, as scikit-learn, the validation scores and
        why training stopped); a line that cannot be printed (stdout closed, its reader
        gone) is skipped, and training goes on.
    warm_start : bool, default False
        ``fit`` continues from the previous weights. A fit that continues from them (this,
        or ``partial_fit``) applies an ``activation``, ``dropout`` or ``dtype`` changed
        since (``set_params``) to the same weights, as scikit-learn applies a changed
        ``activation`` (predictions made before that fit still use the fitted network); a
        changed ``hidden_layer_sizes`` cannot keep the weights and raises ``ValueError``.
    momentum : float, default 0.9
    nesterovs_momentum : bool, default True
        SGD's momentum settings.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified by class for a
        binary problem, at random otherwise, as scikit-learn), stop on its accuracy and keep
        the best epoch's weights.
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
        Adam's settings.
    dropout : float in [0, 1), default 0
        Dropout probability after every hidden activation (ours).
    l1 : float, default 0
        L1 penalty ``l1 · ‖W‖₁`` added to each batch's mean loss (ours).
    optimizer : chainrule Optimizer, name, dict or None, default None
        Used instead of ``solver`` (a copy is trained; the object is not modified) (ours).
        A name or a dict (``get_config``'s form) gets the optimizer's own defaults for what
        it does not give, and ``lr=learning_rate_init`` when it gives no ``"lr"``;
        ``momentum``, ``beta_1`` and the other settings of ``solver`` do not apply to it,
        ``learning_rate`` does.
    dtype : {None, "float32", "float64"}, default None
        The network's dtype; None follows ``X`` (float32 stays float32, anything else is
        float64) (ours).
    callbacks : list of chainrule Callback or None
        Run during training (ours). Each ``fit`` trains copies, kept in ``callbacks_``;
        ``partial_fit`` keeps training them (with their state) until ``callbacks`` is set to
        another list, whose copies then replace them. Each ``partial_fit`` continues their
        run (``Trainer.fit``'s ``continue_callbacks``): ``EarlyStopping`` and
        ``ReduceLROnPlateau`` count patience over the calls' epochs as ``fit`` does over its
        own. A call whose epoch runs out ``EarlyStopping``'s patience is a stop (the history's
        ``stopped_early``; ``restore_best`` puts the best weights back then, and only then);
        the next call trains on, as scikit-learn's own stopping rule lets ``partial_fit`` do.
        They see the training's logs:
        ``"loss"`` (the objective minimised: for a regressor's named losses with several
        outputs, n_outputs times ``loss_curve_``'s data term), ``"lr"``, ``"seconds"``, and
        ``"val_loss"`` only with ``early_stopping=True``; no metrics (monitoring another
        quantity is a :class:`~chainrule.errors.MonitorNotLoggedError`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has string column names.
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (units in layer i, units in layer i + 1).
    intercepts_ : list of ndarray
    loss_ : float
        The last epoch's training loss.
    loss_curve_ : list of float
        Training loss (penalties included) of every epoch, over all ``fit`` calls with
        ``warm_start`` and all ``partial_fit`` calls.
    best_loss_ : float or None
        Smallest training loss (None with early stopping).
    validation_scores_ : list of float or None
        Validation accuracy of every epoch (early stopping only).
    validation_loss_curve_ : list of float or None
        Validation loss of every epoch, the quantity ``loss_curve_`` reports on the training
        data (early stopping only).
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs run by the last ``fit``.
    t_ : int
        Training samples seen, over all calls.
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : {"softmax", "logistic"}
    network_ : chainrule.Sequential
        The trained network.
    callbacks_ : list of Callback

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((16, 16), activation=["relu", "tanh"], dropout=0.1,
    ...                     learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> len(clf.loss_curve_) == clf.n_iter_
    True
    """

    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state
        (with an ``activation``, ``dropout`` or ``dtype`` changed since applied to them, and
        a changed ``hidden_layer_sizes`` refused, as for ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or a 0/1 matrix (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), optional
        classes : array-like of shape (n_classes,)
            Every class of the whole data; required on the first call (a batch need not
            contain them all), except for multilabel targets, whose classes are the columns.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ------------------------------------------------------------------ targets
    def _encode_targets(
        self, y: np.ndarray, weights: np.ndarray | None, first_pass: bool, incremental: bool,
        classes: Any,
    ) -> np.ndarray:
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            raise ValueError(
                "y of shape (n_samples, n_outputs) must be a 0/1 indicator matrix "
                "(multilabel classification); several multi-class outputs are not supported"
            )
        multilabel = kind == "multilabel-indicator"
        if first_pass:
            self._set_classes(y, multilabel, incremental, classes)
        else:
            if classes is not None and not multilabel:  # as scikit-learn's partial_fit
                given = _given_classes(classes)
                if not np.array_equal(given, self.classes_):
                    raise ValueError(f"classes={given!r} is not the same as on the first call "
                                     f"to partial_fit, which gave {self.classes_!r}")
            self._check_classes(y, multilabel, incremental)
        if multilabel:
            return y
        if weights is not None and not incremental:
            weighted = np.unique(y[weights > 0])
            if len(weighted) < 2:
                raise ValueError(
                    f"only one class ({weighted.tolist()}) has samples with a positive "
                    "sample_weight; a classifier needs at least 2 classes"
                )
        return np.searchsorted(self.classes_, y)

    def _set_classes(
        self, y: np.ndarray, multilabel: bool, incremental: bool, classes: Any
    ) -> None:
        if multilabel:
            self.classes_ = np.arange(y.shape[1])
            self._label_dtype = y.dtype
            self.n_outputs_, self.out_activation_ = y.shape[1], "logistic"
            return
        if incremental and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        self.classes_ = unique_labels(y) if classes is None else _given_classes(classes)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_.tolist()}); a classifier needs "
                "samples of at least 2 classes"
            )
        self._label_dtype = None
        self._check_classes(y, multilabel=False, incremental=True)
        binary = len(self.classes_) == 2
        self.n_outputs_ = 1 if binary else len(self.classes_)
        self.out_activation_ = "logistic" if binary else "softmax"

    def _check_classes(self, y: np.ndarray, multilabel: bool, incremental: bool) -> None:
        """``y`` agrees with the classes of the first fit (the same set for ``warm_start``,
        a subset for ``partial_fit``)."""
        if multilabel != (self._label_dtype is not None):
            was = "multilabel" if self._label_dtype is not None else "single-label"
            raise ValueError(
                f"y must be {was} like the targets of the first fit, got y of shape {y.shape} "
                f"({type_of_target(y)})"
            )
        if multilabel:
            if y.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {y.shape[1]} labels per sample, the first fit had {self.n_outputs_}"
                )
            return
        found = unique_labels(y)
        unknown = np.setdiff1d(found, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y has classes {unknown.tolist()} that are not in classes_ "
                f"{self.classes_.tolist()}"
            )
        if not incremental and len(found) != len(self.classes_):
            raise ValueError(
                "warm_start can only be used where y has the same classes as in the previous "
                f"call to fit: previously {self.classes_.tolist()}, y has {found.tolist()}"
            )

    def _training_loss(self) -> Loss:
        return CrossEntropy() if self.out_activation_ == "softmax" else LogLoss()

    def _strata(self, y: np.ndarray) -> np.ndarray | None:
        """The class labels of encoded ``y`` for a binary problem, else None: scikit-learn
        stratifies the early-stopping split only when its label-binarized ``y`` has one
        column (``n_outputs_ == 1``), i.e. not for multi-class nor multilabel targets. (The
        labels, not their indices, so that an error about a rare class names it.)"""
        return self.classes_[y] if self.n_outputs_ == 1 else None

    def _score_outputs(
        self, outputs: np.ndarray, y: np.ndarray, weights: np.ndarray | None
    ) -> float:
        predicted = self._decided_logits(outputs)
        return float(accuracy_score(y, predicted, sample_weight=weights))

    # ------------------------------------------------------------------ prediction
    # Every method goes through the logits chunk by chunk (:meth:`_output_chunks`), so that
    # it holds its result and one chunk's logits and probabilities, never the (n_samples,
    # n_classes) logits of the whole X (a thousand classes of 100,000 rows: 800 MB).
    def _log_probabilities_of(self, Z: np.ndarray) -> np.ndarray:
        """Log-probabilities (n_samples, n_classes), or (n_samples, n_labels) for multilabel,
        from the logits ``Z`` (n_samples, n_outputs), so never ``log 0`` (a softmax's are
        computed in ``Z``, which is overwritten)::

            softmax   log p_k = z_k − max z − log Σ_k' exp(z_k' − max z)
            sigmoid   log σ(z) = −log(1 + e^(−z)) = −logaddexp(0, −z)
                      log(1 − σ(z)) = −logaddexp(0, z)
        """
        if self.out_activation_ == "softmax":
            with np.errstate(over="ignore"):  # z_k − max z below -1.8e308: log p_k = -inf, p_k = 0
                Z -= Z.max(axis=1, keepdims=True)
            Z -= np.log(np.exp(Z).sum(axis=1, keepdims=True))
            return Z
        if self._label_dtype is not None:  # multilabel: P(label j) per column
            return -np.logaddexp(0.0, -Z)
        return np.hstack([-np.logaddexp(0.0, Z), -np.logaddexp(0.0, -Z)])  # binary: 1 − p, p

    def _probabilities_of(self, Z: np.ndarray) -> np.ndarray:
        """``predict_proba``'s rows for the logits ``Z`` (overwritten): the exponential of
        :meth:`_log_probabilities_of`, taken in place."""
        log_p = self._log_probabilities_of(Z)
        return np.exp(log_p, out=log_p)

    def _probability_chunks(
        self, X: np.ndarray, *, log: bool = False
    ) -> Iterator[tuple[slice, np.ndarray]]:
        """``(rows, probabilities of X[rows])``, or their logarithms, for validated ``X``,
        chunk by chunk."""
        for rows, Z in self._output_chunks(X, logits=True):
            yield rows, self._log_probabilities_of(Z) if log else self._probabilities_of(Z)

    def _decided(self, P: np.ndarray) -> np.ndarray:
        """Class indices (n_samples,), or the 0/1 matrix for multilabel, from ``predict_proba``'s
        rows ``P``: the class of the largest probability, the first of tied ones (as
        ``np.argmax``); for sigmoid outputs :func:`~chainrule.training.targets.class_one`,
        the Trainer's rule: class 1 where its probability is above class 0's, a label where
        its probability is above 0.5 (scikit-learn's threshold). So ``predict`` is the argmax
        of ``predict_proba``: a logit that rounds to probabilities [0.5, 0.5] is the first
        class, whatever its sign."""
        if self.out_activation_ == "softmax":
            return np.argmax(P, axis=1)
        if self._label_dtype is not None:
            return class_one(P).astype(self._label_dtype)
        return class_one(P[:, 1], P[:, 0]).astype(np.intp)

    def _decided_logits(self, Z: np.ndarray) -> np.ndarray:
        """:meth:`_decided` of the probabilities of the logits ``Z`` (n_samples, n_outputs),
        exactly, from ``Z`` itself: class indices (n_samples,), or the 0/1 matrix (n_samples,
        n_labels) for multilabel. The probabilities are computed only for the rows where
        rounding could make them tie (a copy of those rows).

        Each probability is a non-decreasing function of its logit (softmax: p_k =
        fl(exp(fl(fl(z_k − max z) − lse))), every step rounded monotonically; sigmoid: the
        same for σ(z) and decreasing for 1 − σ(z)), so the largest logit has the largest
        probability, and an earlier class can tie with it only when rounding makes their
        probabilities equal. Logits more than :data:`CLOSE_LOGITS` = 2⁻¹⁰ apart cannot: their
        arguments of ``exp`` differ by at least that less the rounding of ``lse`` (below 2⁻²⁰,
        as lse ≤ log n_classes < 16), and ``exp`` then gives values about 2⁻¹⁰ apart relative
        to each other, thousands of units in the last place of float32. So a row is decided
        by the argmax of its logits (sigmoid: by z > 0) unless another logit is within
        ``CLOSE_LOGITS`` of its largest (sigmoid: a logit within it of 0), and those few rows
        are decided from their probabilities, as :meth:`predict_proba` computes them.
        """
        if self.out_activation_ == "softmax":
            decided = np.argmax(Z, axis=1)
            rows = np.arange(Z.shape[0])
            near_top = Z >= (Z[rows, decided] - CLOSE_LOGITS)[:, None]
            near_top[rows, decided] = False  # another logit near the largest
            close = near_top.any(axis=1)
        else:
            close = np.any(np.abs(Z) < CLOSE_LOGITS, axis=1)
            positive = Z > 0
            decided = (positive.astype(self._label_dtype) if self._label_dtype is not None
                       else positive[:, 0].astype(np.intp))
        if close.any():
            decided[close] = self._decided(self._probabilities_of(Z[close]))
        return decided

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (n_samples,), or a 0/1 matrix (n_samples, n_labels) for multilabel:
        the classes of the largest probabilities of :meth:`predict_proba` (the first of
        tied ones), a label where its probability is above 0.5."""
        X = self._validated(X)
        chunks = self._output_chunks(X, logits=True)
        encoded = gather(((rows, self._decided_logits(Z)) for rows, Z in chunks), X.shape[0])
        return encoded if self._label_dtype is not None else self.classes_[encoded]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``, computed from the logits, so never ``log 0`` (see
        :meth:`_log_probabilities_of`)."""
        X = self._validated(X)
        return gather(self._probability_chunks(X, log=True), X.shape[0])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities: (n_samples, n_classes) with rows summing to 1 (two columns for a
        binary problem, as scikit-learn), or (n_samples, n_labels) for multilabel. The
        exponential of :meth:`predict_log_proba`, each column computed from the logits (the
        first of a binary problem's too, not as one minus the second)."""
        X = self._validated(X)
        return gather(self._probability_chunks(X), X.shape[0])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _given_classes(classes: Any) -> np.ndarray:
    """``partial_fit``'s ``classes``, unique and sorted by scikit-learn's ``unique_labels``;
    its error (labels that do not compare, such as ``None`` beside numbers, or a 2-D array)
    named after ``classes``."""
    array = as_array(classes, "classes")
    try:
        return unique_labels(array)
    except (TypeError, ValueError) as error:
        raise type(error)(
            "classes must be class labels of one kind that sort (numbers, or strings), got "
            f"{reprlib.repr(classes)}: {error}"
        ) from None
