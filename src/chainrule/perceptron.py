"""The Rosenblatt perceptron: threshold units trained by the mistake-driven rule.

F. Rosenblatt, "The perceptron: a probabilistic model for information storage and organization in
the brain", Psychological Review 65(6), 386–408, 1958.

The unit is the :class:`~chainrule.layers.activations.Step` layer applied to an affine score,
``ŷ = step(w·x + b)``. ``Step`` has no useful derivative, so the unit is not trained by
backpropagation but by Rosenblatt's rule, which changes the weights only when the unit is wrong.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._configurable import constructor_repr
from ._random import as_generator
from ._validation import (
    all_finite,
    as_array,
    as_float_array,
    check_bool,
    check_float_dtype,
    check_n_samples,
    check_number,
    check_verbose,
    largest_magnitude,
)
from .errors import NotBuiltError, ShapeError
from .layers.activations import Step

__all__ = ["Perceptron"]

#: The attributes ``fit`` sets.
_FITTED = ("classes_", "n_features_in_", "W", "b", "mistakes_", "converged_", "n_epochs_")


class Perceptron:
    """Rosenblatt's perceptron, one-vs-rest for more than two classes.

    Parameters
    ----------
    lr : float, default 1.0
        Learning rate, ``> 0``: the size of each correction.
    epochs : int, default 100
        Maximum number of passes over the training set, ``>= 1``. Training stops earlier, as soon
        as a whole epoch makes no mistake (the perceptron has converged).
    shuffle : bool, default True
        Visit the samples in a new random order every epoch (drawn from ``seed``); ``False``
        visits them in the order given.
    seed : int, numpy.random.Generator or None, default None
        Source of the shuffling. The same int gives bit-identical weights; ``None`` draws fresh
        entropy at every ``fit``.
    dtype : float32 or float64, default float64
        Dtype of the weights and of the inputs, converted once at the edge.
    verbose : bool or {0, 1}, default False
        True (or 1): after ``fit``, print one line saying whether training converged (and
        when), or how many mistakes the last epoch still made. Stored as the level, 0 or 1.
        Quiet mode prints and warns nothing; the outcome is always recorded in
        ``converged_``, ``n_epochs_`` and ``mistakes_``.

    Attributes
    ----------
    W : ndarray of shape (n_features, n_units)
        The weights, one column per threshold unit (samples are rows, as in ``Dense``:
        the scores are ``X @ W + b``). ``n_units`` is 1 for two classes, ``n_classes`` otherwise.
    b : ndarray of shape (n_units,)
        The biases (thresholds, negated).
    classes_ : ndarray of shape (n_classes,)
        The sorted distinct labels seen by ``fit`` (any integers, strings, ...).
    n_features_in_ : int
        Number of features of the training data.
    mistakes_ : list of int
        Number of mistakes (= updates) in each epoch, summed over the units.
    n_epochs_ : int
        Number of epochs run, ``len(mistakes_)``.
    converged_ : bool
        Whether the last epoch made no mistake, i.e. every training sample is classified
        correctly by every unit, as :meth:`predict` classifies it (see "Convergence and
        rounding" below): ``converged_`` implies ``predict(X) == y`` on the training set.

    Notes
    -----
    **The rule.** For a sample ``x`` (n_features,) with target ``t ∈ {0, 1}``, the unit predicts
    ``ŷ = step(w·x + b)``, with ``step(z) = 1`` where ``z ≥ 0``, else ``0`` (the ``Step`` layer's
    forward). Then ::

        w ← w + lr (t − ŷ) x
        b ← b + lr (t − ŷ)

    ``t − ŷ`` is 0 when the unit is right (nothing changes), +1 when it missed a positive (the
    score moves up by ``lr (‖x‖² + 1)``) and −1 when it fired on a negative (the score moves
    down). Samples are visited one at a time; ``W`` and ``b`` start at zero.

    **Convergence (Novikoff's theorem).** Write ``x̃ = (x, 1)`` and ``w̃ = (w, b)``, let
    ``R = maxᵢ ‖x̃ᵢ‖`` and ``s = 2t − 1 ∈ {−1, +1}``. If the data are linearly separable, i.e.
    some unit vector ``u`` has ``sᵢ u·x̃ᵢ ≥ γ > 0`` for every sample, then the rule makes at most
    ``(R / γ)²`` mistakes in total, whatever the order of the samples and the value of ``lr``.
    After ``k`` mistakes:

    - every mistake adds ``lr s x̃`` to ``w̃``, so ``u·w̃`` grows by ``lr s u·x̃ ≥ lr γ``:
      ``u·w̃ ≥ k lr γ``;
    - a mistake means ``s (w̃·x̃) ≤ 0`` (a missed positive has ``w̃·x̃ < 0``, a wrong firing
      ``w̃·x̃ ≥ 0``), so ``‖w̃ + lr s x̃‖² = ‖w̃‖² + 2 lr s w̃·x̃ + lr² ‖x̃‖² ≤ ‖w̃‖² + lr² R²``:
      ``‖w̃‖ ≤ √k lr R``;
    - Cauchy–Schwarz, ``u·w̃ ≤ ‖w̃‖``, gives ``k lr γ ≤ √k lr R``, hence ``k ≤ (R / γ)²``.

    So on separable data an epoch without mistakes must come, and ``fit`` stops there. On data
    that are not separable (XOR: Minsky and Papert, *Perceptrons*, 1969) the rule never settles
    and the weights after the last epoch are simply where the cycling stopped.

    (A. B. J. Novikoff, "On convergence proofs on perceptrons", Symposium on the Mathematical
    Theory of Automata, 12, 615–622, 1962.)

    **Convergence and rounding.** Training scores one row at a time (``x @ W + b``, a
    vector-matrix product) while :meth:`predict` scores the whole matrix (``X @ W + b``, a
    matrix product). BLAS sums the two in different orders, so a score within rounding of 0
    (``±1e-17``) can have one sign in training and the other in ``predict``. An epoch counts as
    mistake-free only when the batched scores agree: after an epoch without a per-row mistake,
    ``fit`` scores the whole training set as ``predict`` does and applies the rule to every
    sample those scores misclassify (in sample order), counting each correction as a mistake
    of that epoch and training on. So ``converged_`` always means that ``predict`` classifies
    every training sample correctly. A correction is an ordinary Rosenblatt update on a sample
    whose exact margin ``s (w̃·x̃)`` is at most a rounding error above 0 (instead of ``≤ 0``), so
    Novikoff's bound holds up to that rounding error.

    **Overflow.** The scores and weights must stay within the dtype's range. Training runs
    under ``np.errstate(over="raise", invalid="raise")``, and an overflow (``X`` or ``lr`` so
    large that ``x @ W + b`` or ``lr x`` exceeds ``finfo(dtype).max``) stops ``fit`` with a
    ``ValueError`` naming ``X``; :meth:`predict` and :meth:`decision_function` likewise refuse
    an ``X`` whose scores overflow, instead of returning ``inf``/``nan`` scores or labels
    chosen from them.

    **The learning rate.** Starting from zero, ``w̃`` is always ``lr`` times a sum of ``±x̃``,
    so in exact arithmetic ``lr`` only rescales the weights and predictions and mistakes are
    the same for every ``lr > 0``. In floating point that holds exactly for a power of two
    (0.5, 1, 8: scaling by one is exact); another rate rounds the sums differently, so a score
    that is exactly 0 with ``lr = 1`` (step gives 1) may come out a rounding error below 0
    (step gives 0) with ``lr = 0.1``, and training can then take another path.

    **Several classes.** With ``n_classes > 2`` there is one unit per class, unit ``k`` trained
    as a binary perceptron on "class ``k`` (t = 1) against the rest (t = 0)"; all units see the
    samples in the same order. A sample is assigned to the class of the largest raw score,
    ``argmax_k (X W + b)[:, k]`` (the first on ties), not to the unit that fires, since several
    units, or none, may fire. Two classes use a single unit whose ``t = 1`` is ``classes_[1]``.

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> clf = Perceptron(shuffle=False).fit(X, np.array([0, 0, 0, 1]))  # logical AND
    >>> clf.predict(X), clf.converged_, clf.W.shape
    (array([0, 0, 0, 1]), True, (2, 1))
    """

    def __init__(
        self,
        lr: float = 1.0,
        epochs: int = 100,
        *,
        shuffle: bool = True,
        seed: Any = None,
        dtype: Any = np.float64,
        verbose: bool | int = False,
    ) -> None:
        self.lr = check_number(lr, "lr", low=0, low_open=True)
        self.epochs = check_number(epochs, "epochs", low=1, integer=True)
        self.shuffle = check_bool(shuffle, "shuffle")
        as_generator(seed)  # validate now; the Generator used by fit is made there
        self.seed = seed
        self.dtype = check_float_dtype(dtype)
        self.verbose = check_verbose(verbose, high=1)
        self._step = Step()
        self._step.label = "Perceptron"

    # ----------------------------------------------------------------- training
    def fit(self, X: Any, y: Any) -> Perceptron:
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,); return self.

        Weights restart from zero at every call. ``y`` needs at least two distinct labels.
        """
        X = as_float_array(X, "X", dtype=self.dtype, ndim=2)
        self.classes_, index = _encode_labels(y, len(X))
        n_classes = len(self.classes_)
        n_units = 1 if n_classes == 2 else n_classes
        # T[i, k] = 1 when sample i belongs to unit k's positive class: (n_samples, n_units)
        T = (index[:, None] == np.arange(n_classes - n_units, n_classes)).astype(self.dtype)

        self.n_features_in_ = X.shape[1]
        self.W = np.zeros((X.shape[1], n_units), dtype=self.dtype)
        self.b = np.zeros(n_units, dtype=self.dtype)
        self.mistakes_: list[int] = []
        self.converged_ = False
        rng = as_generator(self.seed)
        try:
            with np.errstate(over="raise", invalid="raise"):
                for _ in range(self.epochs):
                    order = rng.permutation(len(X)) if self.shuffle else range(len(X))
                    mistakes = self._epoch(X, T, order)
                    if mistakes == 0:  # confirm with the scores predict computes (class notes)
                        mistakes = self._correct_batched(X, T)
                    self.mistakes_.append(mistakes)
                    if mistakes == 0:
                        self.converged_ = True
                        break
                else:  # the final weights must score their own training set
                    _scores(X, self.W, self.b, lr=self.lr)
        except (FloatingPointError, ValueError) as exc:
            for name in _FITTED:  # a failed fit leaves no half-trained model behind
                self.__dict__.pop(name, None)
            if isinstance(exc, ValueError):
                raise
            raise ValueError(_overflow_message(X, self.lr)) from None
        self.n_epochs_ = len(self.mistakes_)
        if self.verbose:
            print(self._outcome())
        return self

    def _epoch(self, X: np.ndarray, T: np.ndarray, order: Any) -> int:
        """One pass of Rosenblatt's rule over the samples in ``order``; returns the mistakes."""
        mistakes = 0
        for i in order:
            x = X[i]  # (n_features,)
            # a fresh (1, n_units) array of finite scores (fit runs under errstate(over="raise")):
            # the step applies in place, without the checks of a standalone layer's forward
            Y_hat = self._step.infer((x @ self.W + self.b)[None, :])  # (1, n_units)
            mistakes += self._update(x, T[i] - Y_hat[0])
        return mistakes

    def _correct_batched(self, X: np.ndarray, T: np.ndarray) -> int:
        """Score all of ``X`` as :meth:`predict` does and apply the rule to every sample those
        scores misclassify, in sample order; returns the number of corrections (0 when the
        batched scores classify every sample as the per-row pass did)."""
        # _scores returns a new array of finite scores: the step applies in place, unchecked
        Y_hat = self._step.infer(_scores(X, self.W, self.b, lr=self.lr))  # (n_samples, n_units)
        wrong = np.flatnonzero((Y_hat != T).any(axis=1))
        return sum(self._update(X[i], T[i] - Y_hat[i]) for i in wrong)

    def _update(self, x: np.ndarray, error: np.ndarray) -> int:
        """Rosenblatt's rule for one sample ``x`` (n_features,) with ``error = t − ŷ``
        (n_units,), each entry 0 (right), +1 or −1 (wrong); returns the number of mistakes."""
        delta = self.lr * error  # lr (t − ŷ): 0 where right, ±lr where wrong
        if not delta.any():
            return 0
        self.W += np.outer(x, delta)  # w_k ← w_k + lr (t_k − ŷ_k) x, every unit k
        self.b += delta  # b_k ← b_k + lr (t_k − ŷ_k)
        return int(np.count_nonzero(delta))

    def _outcome(self) -> str:
        """The line ``verbose`` prints after ``fit``."""
        n = self.n_epochs_
        if self.converged_:
            return f"Perceptron converged after {n} epochs (no mistakes in epoch {n})"
        return (
            f"Perceptron did not converge in {n} epochs: epoch {n} still made "
            f"{self.mistakes_[-1]} mistakes; the data may not be linearly separable "
            "(if they are, more epochs will get there)"
        )

    # ----------------------------------------------------------------- inference
    def decision_function(self, X: Any) -> np.ndarray:
        """Raw scores ``X @ W + b``.

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (``≥ 0`` means ``classes_[1]``), else
        (n_samples, n_classes), one column per class in the order of ``classes_``.
        """
        scores = _scores(self._check_X(X, "decision_function"), self.W, self.b)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """Labels (n_samples,), taken from ``classes_``.

        Two classes: ``step(X W + b)`` picks ``classes_[1]`` or ``classes_[0]``. More: the class of
        the largest raw score.
        """
        scores = _scores(self._check_X(X, "predict"), self.W, self.b)  # (n_samples, n_units)
        if scores.shape[1] == 1:
            index = self._step.infer(scores)[:, 0].astype(np.intp)  # in place on new scores
        else:
            index = scores.argmax(axis=1)
        return self.classes_[index]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of samples of ``X`` (n_samples, n_features) whose label is ``y``.

        A label that is not among ``classes_`` counts as a mistake; labels of another kind than
        ``classes_`` (strings against numbers) are a ``TypeError``, not an accuracy of 0.
        """
        predicted = self.predict(X)
        y = _as_label_array(y)
        check_n_samples(len(predicted), len(y))
        kinds = _LABEL_KINDS.get(y.dtype.kind), _LABEL_KINDS.get(self.classes_.dtype.kind)
        if None not in kinds and kinds[0] != kinds[1]:
            raise TypeError(
                f"y holds {kinds[0]} (dtype {y.dtype}), but this Perceptron was fitted on "
                f"{kinds[1]}: classes_ = {self.classes_.tolist()[:10]}"
            )
        return float(np.mean(predicted == y))

    def _check_X(self, X: Any, method: str) -> np.ndarray:
        """``X`` as a float array of the training width, or a clear error."""
        if not hasattr(self, "W"):
            raise NotBuiltError(
                f"this Perceptron is not fitted yet: call fit(X, y) before {method}"
            )
        X = as_float_array(X, "X", dtype=self.dtype, ndim=2)
        if X.shape[1] != self.n_features_in_:
            raise ShapeError(
                f"Perceptron was fitted on X with {self.n_features_in_} features, but {method} got "
                f"X with {X.shape[1]} features: expected shape (n_samples, "
                f"{self.n_features_in_}), got {X.shape}"
            )
        return X

    def __repr__(self) -> str:
        # The constructor call, every argument included (dtype='float64', verbose as its level).
        return constructor_repr(self)


# --------------------------------------------------------------------------- scores


def _scores(X: np.ndarray, W: np.ndarray, b: np.ndarray, lr: float | None = None) -> np.ndarray:
    """The scores ``X @ W + b`` (n_samples, n_units) of checked ``X`` (n_samples, n_features),
    or a ``ValueError`` naming ``X`` when they overflow the dtype.

    Shared by :meth:`Perceptron.predict`, ``fit``'s convergence check and the scikit-learn
    wrapper, so that all of them compute (and round) the scores the same way. ``X``, ``W``
    and ``b`` are finite, so a non-finite score can only come from an overflow. ``lr``: the
    learning rate, when called from ``fit`` (for the message).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scores = X @ W + b
    if not all_finite(scores):
        if not (all_finite(W) and all_finite(b)):
            raise ValueError("the perceptron's weights W and b are not finite; refit it")
        raise ValueError(_overflow_message(X, lr))
    return scores


def _overflow_message(X: np.ndarray, lr: float | None) -> str:
    """Why the scores (or, in ``fit``, with its learning rate ``lr``, the weights) overflowed,
    and what to do about it."""
    largest = largest_magnitude(X)
    limit = np.finfo(X.dtype).max
    if lr is not None:
        return (
            f"X is too large for training in {X.dtype} with learning rate {lr:g}: the "
            f"perceptron's weights or scores x @ W + b overflowed (beyond {limit:.3g}); X has "
            f"values up to {largest:.3g}. Scale X down (e.g. standardise it) or use a smaller "
            "learning rate (it rescales the weights: a power of two such as 2**-10 gives "
            "exactly the same predictions)"
        )
    return (
        f"X is too large for this perceptron: its scores X @ W + b overflow {X.dtype} (beyond "
        f"{limit:.3g}); X has values up to {largest:.3g}"
    )


# --------------------------------------------------------------------------- labels


#: Which labels compare with which: numbers (and booleans) with numbers, strings with strings
#: (an object array's labels may be either, so it is not checked).
_LABEL_KINDS = {**dict.fromkeys("biuf", "numeric labels"), **dict.fromkeys("US", "string labels")}


def _as_label_array(y: Any) -> np.ndarray:
    """``y`` as a 1-D array of labels (numbers, bools or strings), checked."""
    y = as_array(y, "y")
    if y.ndim != 1:
        raise ShapeError(f"y must be 1-D of shape (n_samples,), got shape {y.shape}")
    if y.dtype.kind not in "biufUSO":
        raise TypeError(f"y must hold real-number, string or bool labels, got dtype {y.dtype}")
    if y.dtype.kind == "f" and not all_finite(y):
        raise ValueError("y must not contain NaN or infinity")
    if y.dtype.kind == "O":  # an object array may hold float labels too: the same rule
        for index, label in enumerate(y.tolist()):
            if isinstance(label, (float, np.floating)) and not math.isfinite(label):
                raise ValueError(
                    f"y must not contain NaN or infinity, got {label!r} at index {index}"
                )
    return y


def _encode_labels(y: Any, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``(classes_, index)``: the sorted distinct labels and each sample's position among them.

    Shapes: ``classes_`` (n_classes,), ``index`` (n_samples,) with ``y == classes_[index]``.
    """
    y = _as_label_array(y)
    check_n_samples(n_samples, len(y))
    try:
        classes, index = np.unique(y, return_inverse=True)
    except TypeError:  # an object array mixing labels that cannot be ordered, e.g. 1 and "a"
        raise TypeError("y must hold labels of one kind (all numbers or all strings)") from None
    if len(classes) < 2:
        raise ValueError(
            f"y must contain at least 2 classes to train a perceptron, got {len(classes)}: "
            f"{classes.tolist()}"
        )
    return classes, index.reshape(-1)
