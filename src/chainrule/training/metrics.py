"""Metrics: scalar scores of a network's output against the targets, ``f(y_true, y_pred) -> float``.

Every metric takes the network's output as ``y_pred`` (class scores/probabilities or regression
values), so a ``Trainer`` can evaluate any of them on the same array. Inputs are checked at the
edge: wrong number of dimensions, mismatched numbers of samples, NaN/inf and empty arrays raise
a ``ValueError``/``TypeError`` (``ShapeError`` for shapes) that names the argument.

Classification inputs (``accuracy``, ``confusion_matrix``; ``log_loss`` has its own rules) are
turned into integer class labels ``0 .. n_classes-1`` as follows.

``y_true``
    - ``(n_samples,)``: class labels (integers, or floats with integer values);
    - ``(n_samples, 1)``: binary labels, 0 or 1;
    - ``(n_samples, n_classes)`` with ``n_classes >= 2``: one-hot rows; the class is the column
      of the largest entry.

``y_pred``
    - integer (or bool) dtype, ``(n_samples,)`` or ``(n_samples, 1)``: predicted labels;
    - float dtype, ``(n_samples,)`` or ``(n_samples, 1)``: the probability of class 1 (a sigmoid
      output, in ``[0, 1]``); ``p > 0.5`` predicts class 1 (the rule of ``predict``:
      :func:`~chainrule.training.targets.class_one`). Logits are refused (apply the
      sigmoid first), and so are float arrays of labels (pass them as integers);
    - ``(n_samples, n_classes)`` with ``n_classes >= 2``: scores, probabilities or logits; the
      prediction is the ``argmax`` of each row (the first column on ties).

``METRICS`` is the registry of the scalar metrics by name (``"accuracy"``, ``"mse"``, ``"mae"``,
``"r2"``, ``"log_loss"``), and ``higher_is_better(name)`` tells early stopping and checkpoints
which way is better.

Example
-------
>>> import numpy as np
>>> accuracy(np.array([0, 2, 1]), np.array([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import (
    as_array,
    as_class_labels,
    as_float_array,
    check_n_samples,
    check_number,
    float_dtype_of,
)
from ..errors import ShapeError
from ..registry import Registry
from ._r2 import weighted_r2
from ._scaling import scaled
from .targets import class_one

METRICS: Registry[Callable[..., float]] = Registry("metric")


# --------------------------------------------------------------------------------------------
# Classification inputs -> integer labels
# --------------------------------------------------------------------------------------------


def _check_probabilities(values: np.ndarray, name: str, hint: str) -> None:
    """All of ``values`` lie in ``[0, 1]``."""
    low, high = values.min(), values.max()
    if low < 0 or high > 1:
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values in [{low:g}, {high:g}]; {hint}"
        )


def _check_label_shape(array: np.ndarray, name: str) -> None:
    """``array`` is of shape (n_samples,) or (n_samples, k) with ``k >= 1``."""
    if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] == 0):
        raise ShapeError(f"{name} must be of shape (n_samples,), (n_samples, 1) or "
                         f"(n_samples, n_classes), got shape {array.shape}")


def _refuse_multilabel(target: np.ndarray, name: str) -> None:
    """A ``ValueError`` if the 2-D float ``target`` (n_samples, n_classes) is a 0/1 label-indicator
    matrix with a row of more or fewer than one 1: multilabel targets, not one class per row."""
    if not np.all((target == 0) | (target == 1)):
        return  # soft targets (class probabilities), read as the class of the largest entry
    counts = np.add.reduce(target, axis=1)
    if np.all(counts == 1):
        return
    row = int(np.flatnonzero(counts != 1)[0])
    raise ValueError(
        f"{name} of shape {target.shape} holds 0/1 rows, but row {row} has {int(counts[row])} "
        "ones: these are multilabel targets, not one class per sample; use "
        "multilabel_accuracy or multilabel_log_loss"
    )


def _true_labels(y_true: Any) -> tuple[np.ndarray, int]:
    """``(labels (n_samples,) int64, n_classes implied by the shape or 0)``."""
    array = as_array(y_true, "y_true")
    _check_label_shape(array, "y_true")
    if array.ndim == 2 and array.shape[1] >= 2:  # one-hot rows
        rows = as_float_array(array, "y_true")
        _refuse_multilabel(rows, "y_true")
        return rows.argmax(axis=1), array.shape[1]
    if array.ndim == 2:  # (n_samples, 1): binary
        return as_class_labels(array[:, 0], "y_true", 2), 2
    return as_class_labels(array, "y_true"), 0


def _pred_labels(y_pred: Any) -> tuple[np.ndarray, int]:
    """``(labels (n_samples,) int64, n_classes implied by the shape/kind or 0)``."""
    raw = as_array(y_pred, "y_pred")
    if raw.ndim == 2 and raw.shape[1] >= 2:  # scores of n_classes classes
        # float32 scores as they are: widening is exact and keeps their order, so the argmax
        # is the same without a float64 copy of the whole array (integers do widen: beyond
        # 2**53 rounding could make ties)
        scores = as_float_array(raw, "y_pred", dtype=float_dtype_of(raw))
        return scores.argmax(axis=1), raw.shape[1]
    _check_label_shape(raw, "y_pred")
    if raw.dtype.kind in "biu":  # predicted labels; (n_samples, 1) ones are binary
        implied = 2 if raw.ndim == 2 else 0
        return as_class_labels(raw.reshape(-1), "y_pred", implied or None), implied
    flat = as_float_array(raw, "y_pred", ndim=(1, 2)).reshape(-1)
    _check_probabilities(
        flat,
        "y_pred",
        "a float y_pred of shape (n_samples,) or (n_samples, 1) is read as the probability of "
        "class 1 (apply a sigmoid to logits; pass predicted labels as integers)",
    )
    return class_one(flat).astype(np.int64), 2


def _label_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Both label arrays ``(n_samples,)`` and the number of classes the shapes imply (or 0)."""
    true, true_classes = _true_labels(y_true)
    pred, pred_classes = _pred_labels(y_pred)
    check_n_samples(len(true), len(pred), "y_true", "y_pred")
    if true_classes and pred_classes and true_classes != pred_classes:
        raise ShapeError(
            f"y_true describes {true_classes} classes but y_pred {pred_classes} "
            f"(shapes {np.shape(y_true)} and {np.shape(y_pred)})"
        )
    n_classes = max(true_classes, pred_classes)
    for labels, name, other in ((true, "y_true", "y_pred"), (pred, "y_pred", "y_true")):
        if n_classes and labels.max() >= n_classes:
            raise ValueError(
                f"{name} has the label {labels.max()} but {other} describes only "
                f"{n_classes} classes (shapes {np.shape(y_true)} and {np.shape(y_pred)})"
            )
    return true, pred, n_classes


#: Largest confusion matrix: 4096 × 4096 counts (128 MiB).
MAX_MATRIX_CLASSES = 4096


# --------------------------------------------------------------------------------------------
# Classification metrics
# --------------------------------------------------------------------------------------------


@METRICS.register("accuracy")
def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted class is the true class.

    ``accuracy = (1 / n_samples) Σᵢ [ŷᵢ = yᵢ]``, with labels read as in the module notes.

    Parameters
    ----------
    y_true : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Integer labels, binary labels, or one-hot rows.
    y_pred : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Integer predicted labels, probabilities of class 1 (float, class 1 above 0.5), or
        per-class scores (argmax).

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> accuracy([1, 0, 1, 1], [0.9, 0.2, 0.4, 0.6])
    0.75
    """
    return _mean(_accuracy_terms(y_true, y_pred))


def _accuracy_terms(y_true: Any, y_pred: Any) -> np.ndarray:
    """Whether each sample's predicted class is right, (n_samples,) bool."""
    true, pred, _ = _label_pair(y_true, y_pred)
    return true == pred


def _mean(terms: np.ndarray) -> float:
    return float(np.mean(terms))


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    ``C[i, j] = #{samples with true class i predicted as class j}``: rows are true classes,
    columns predicted ones, so ``trace(C) / C.sum()`` is the accuracy. Labels are read as for
    ``accuracy`` (see the module notes).

    Parameters
    ----------
    y_true : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
    y_pred : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
    n_classes : int, optional
        Size of the matrix. By default the number of classes the shapes imply (2 for the binary
        forms, the number of columns for one-hot/score arrays), or the largest label + 1 if that
        is larger. Labels must be below ``n_classes``, which is at most ``MAX_MATRIX_CLASSES``
        (4096): a larger matrix is refused with a ``ValueError`` naming what set its size.

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    true, pred, implied = _label_pair(y_true, y_pred)
    needed = max(implied, int(true.max()) + 1, int(pred.max()) + 1)
    if n_classes is None:
        n_classes = needed
        if n_classes > MAX_MATRIX_CLASSES:
            raise ValueError(_over_the_limit(y_true, y_pred, true, pred, implied))
    else:
        n_classes = check_number(n_classes, "n_classes", low=1, high=MAX_MATRIX_CLASSES,
                                 integer=True)
        if n_classes < needed:
            raise ValueError(
                f"n_classes must be at least {needed} for these labels/shapes, got {n_classes}"
            )
    # Pair (i, j) -> the flat index i * n_classes + j, counted in one pass.
    counts = np.bincount(true * n_classes + pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def _over_the_limit(y_true: Any, y_pred: Any, true: np.ndarray, pred: np.ndarray,
                    implied: int) -> str:
    """Why the default confusion matrix would have more than ``MAX_MATRIX_CLASSES`` classes,
    naming what set the count: the columns of one-hot/score arrays (``implied``, which every
    label is below) or, without such columns, the largest label of ``true`` or ``pred``."""
    if implied:  # (a binary form implies 2 classes: only columns can imply this many)
        wide = [name for name, y in (("y_true", y_true), ("y_pred", y_pred))
                if np.ndim(y) == 2 and np.shape(y)[1] == implied]
        verb = "have" if len(wide) > 1 else "has"
        source = f"{' and '.join(wide)} {verb} {implied} columns, one per class"
        n_classes, advice = implied, ""
    else:
        name, labels = max((("y_true", true), ("y_pred", pred)), key=lambda pair: pair[1].max())
        source = f"{name} holds the label {labels.max()}"
        n_classes, advice = int(labels.max()) + 1, "; relabel the classes 0..k-1"
    return (f"{source}: a confusion matrix of {n_classes} classes is over the limit of "
            f"{MAX_MATRIX_CLASSES}{advice}")


@METRICS.register("log_loss")
def log_loss(y_true: Any, y_prob: Any, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the true classes (cross-entropy), natural logarithm.

    Probabilities are clipped to ``[eps, 1 - eps]`` first, so a confidently wrong prediction
    costs at most ``-log(eps)`` (34.5 for the default) instead of infinity. They are used as
    given: rows of a multi-class ``y_prob`` are not renormalised.

    - Binary, ``y_prob`` of shape ``(n_samples,)`` or ``(n_samples, 1)``, the probability ``p``
      of class 1, and ``y`` in {0, 1} of shape ``(n_samples,)`` or ``(n_samples, 1)``::

          L = -(1/n_samples) Σᵢ [ yᵢ log pᵢ + (1 - yᵢ) log(1 - pᵢ) ]

    - Multi-class, ``y_prob`` of shape ``(n_samples, n_classes)`` and targets ``T`` of the same
      shape (one-hot, or soft targets in [0, 1]) or integer labels ``(n_samples,)``, which stand
      for one-hot rows::

          L = -(1/n_samples) Σᵢ Σⱼ Tᵢⱼ log Pᵢⱼ   (= -(1/n_samples) Σᵢ log P[i, yᵢ] for labels)

    Parameters
    ----------
    y_true : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
    y_prob : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Probabilities in ``[0, 1]`` (a sigmoid or softmax output, not logits).
    eps : float, default 1e-15
        Clipping bound, in ``[2.22e-16, 0.5)`` (below float64's machine epsilon ``1 − eps``
        rounds to 1).

    Returns
    -------
    float
        ``>= 0`` for one-hot targets.

    Examples
    --------
    >>> round(log_loss([0, 1], [[0.9, 0.1], [0.2, 0.8]]), 6)
    0.164252
    """
    return _log_loss_total(_log_loss_terms(y_true, y_prob, eps))


def _log_loss_total(terms: np.ndarray) -> float:
    """``log_loss`` from its terms: the mean of the samples' log-likelihoods (n_samples,), or
    the sum of ``T log P`` (n_samples, n_classes) over the samples."""
    if terms.ndim == 1:
        return float(-np.mean(terms))
    return float(-np.sum(terms) / len(terms))


def _log_loss_terms(y_true: Any, y_prob: Any, eps: float = 1e-15) -> np.ndarray:
    """What :func:`log_loss` sums, row by row: each sample's log-likelihood (n_samples,), or
    ``T log P`` (n_samples, n_classes) for targets of one column per class."""
    # Below the float64 epsilon, 1 - eps rounds to 1 and log(1 - p) can be log 0.
    eps = check_number(eps, "eps", low=float(np.finfo(np.float64).eps), high=0.5, high_open=True)
    # float32 probabilities stay float32 until the entries used are picked: widening each one
    # is exact, so the result is that of the float64 array, without a copy of it
    prob = as_float_array(y_prob, "y_prob", dtype=float_dtype_of(y_prob), ndim=(1, 2))
    target = as_float_array(y_true, "y_true", ndim=(1, 2))
    check_n_samples(len(target), len(prob), "y_true", "y_prob")
    _check_probabilities(prob, "y_prob", "apply a sigmoid or softmax to logits")
    if prob.ndim == 2 and prob.shape[1] > 1 and target.ndim == 1:  # integer labels:
        y = as_class_labels(target, "y_true", prob.shape[1])  # pick P[i, y_i], then clip it
        picked = prob[np.arange(len(y)), y].astype(np.float64)
        return np.log(np.clip(picked, eps, 1.0 - eps))
    p = np.clip(prob.astype(np.float64, copy=False), eps, 1.0 - eps)
    if prob.ndim == 1 or prob.shape[1] == 1:  # binary
        if target.ndim == 2 and target.shape[1] != 1:
            raise ShapeError(
                f"y_prob of shape {prob.shape} holds binary probabilities, so y_true must be of "
                f"shape (n_samples,) or (n_samples, 1), got {target.shape}"
            )
        y = as_class_labels(target.reshape(-1), "y_true", 2)
        p = p.reshape(-1)
        return np.where(y == 1, np.log(p), np.log1p(-p))
    n_classes = prob.shape[1]
    if target.shape[1] != n_classes:
        raise ShapeError(
            f"y_true must be of shape (n_samples,) or (n_samples, {n_classes}) to match y_prob, "
            f"got {target.shape}"
        )
    _check_probabilities(target, "y_true", "targets are one-hot rows (or soft targets)")
    _refuse_multilabel(target, "y_true")
    return target * np.log(p)


# --------------------------------------------------------------------------------------------
# Multilabel metrics: n_labels independent yes/no answers per sample
# --------------------------------------------------------------------------------------------


def _multilabel_pair(y_true: Any, y_prob: Any) -> tuple[np.ndarray, np.ndarray]:
    """Targets in [0, 1] and probabilities in [0, 1], both float64 (n_samples, n_labels)."""
    target = as_float_array(y_true, "y_true", ndim=2)
    prob = as_float_array(y_prob, "y_prob", ndim=2)
    check_n_samples(len(target), len(prob), "y_true", "y_prob")
    if target.shape != prob.shape:
        raise ShapeError(
            f"y_true and y_prob must both be of shape (n_samples, n_labels), got {target.shape} "
            f"and {prob.shape}"
        )
    _check_probabilities(target, "y_true", "multilabel targets are 0/1 (or soft) labels")
    _check_probabilities(prob, "y_prob", "apply a sigmoid to logits")
    return target, prob


def multilabel_accuracy(y_true: Any, y_prob: Any) -> float:
    """Fraction of samples whose labels are all right (exact match, scikit-learn's
    ``accuracy_score`` on label-indicator matrices).

    ``accuracy = (1 / n_samples) Σᵢ Πⱼ [(pᵢⱼ > 0.5) = (tᵢⱼ >= 0.5)]``: a probability of
    exactly 0.5 predicts 0, as ``predict`` decides (:func:`~chainrule.training.targets.class_one`)

    Parameters
    ----------
    y_true : array_like, shape (n_samples, n_labels)
        0/1 labels (soft labels count as 1 from 0.5 up).
    y_prob : array_like, shape (n_samples, n_labels)
        Per-label probabilities (sigmoid outputs), or 0/1 predictions.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> multilabel_accuracy([[1, 0, 1], [0, 1, 1]], [[0.9, 0.2, 0.7], [0.1, 0.4, 0.8]])
    0.5
    """
    target, prob = _multilabel_pair(y_true, y_prob)
    return float(np.mean(np.all(class_one(prob) == (target >= 0.5), axis=1)))


def multilabel_log_loss(y_true: Any, y_prob: Any, eps: float = 1e-15) -> float:
    """Negative log-likelihood per sample of its labels, each an independent Bernoulli.

    ``L = -(1/n_samples) Σᵢ Σⱼ [ tᵢⱼ log pᵢⱼ + (1 - tᵢⱼ) log(1 - pᵢⱼ) ]``, summed over the
    labels (the loss scikit-learn's ``MLPClassifier`` reports for multilabel targets; the mean
    binary cross-entropy over all entries is ``L / n_labels``). Probabilities are clipped to
    ``[eps, 1 - eps]`` as in :func:`log_loss`, which this equals for one label.

    Parameters
    ----------
    y_true : array_like, shape (n_samples, n_labels)
        0/1 labels, or soft labels in [0, 1].
    y_prob : array_like, shape (n_samples, n_labels)
        Per-label probabilities (sigmoid outputs).
    eps : float, default 1e-15
        Clipping bound, in ``[2.22e-16, 0.5)`` (below float64's machine epsilon ``1 − eps``
        rounds to 1).

    Examples
    --------
    >>> round(multilabel_log_loss([[1, 0], [0, 1]], [[0.9, 0.2], [0.3, 0.6]]), 6)
    0.598002
    """
    eps = check_number(eps, "eps", low=float(np.finfo(np.float64).eps), high=0.5, high_open=True)
    target, prob = _multilabel_pair(y_true, y_prob)
    p = np.clip(prob, eps, 1.0 - eps)
    return float(-np.sum(target * np.log(p) + (1.0 - target) * np.log1p(-p)) / len(target))


#: Metrics that can be computed chunk by chunk of samples: ``metric: (terms, total)``, where
#: ``terms(y_true, y_pred)`` gives an array of one row per sample and ``total`` the metric
#: from the rows of all samples, concatenated (the same number as the metric on them all).
ROW_TERMS: dict[Callable[..., float], tuple[Callable[..., np.ndarray], Callable[..., float]]] = {
    accuracy: (_accuracy_terms, _mean),
    log_loss: (_log_loss_terms, _log_loss_total),
}

#: What the Trainer computes for a registered metric when the task is multilabel.
_MULTILABEL_VERSIONS = {accuracy: multilabel_accuracy, log_loss: multilabel_log_loss}


def for_task(metric: Callable[..., float], task: str) -> Callable[..., float]:
    """The version of ``metric`` for a Trainer's task: for ``"multilabel"``, ``accuracy`` and
    ``log_loss`` (which read 2-D targets as one class per row) become
    :func:`multilabel_accuracy` and :func:`multilabel_log_loss`; anything else is unchanged."""
    return _MULTILABEL_VERSIONS.get(metric, metric) if task == "multilabel" else metric


def metric_task(metric: Callable[..., float]) -> str | None:
    """The task a metric of :data:`METRICS` is for:
    ``"classification"`` for ``accuracy`` and ``log_loss`` (they read class labels and
    probabilities), ``"regression"`` for the others (``mse``, ``mae``, ``r2``); None for any
    other function (it could be either)."""
    if metric in (accuracy, log_loss):
        return "classification"
    if any(metric is METRICS.get(name) for name in METRICS.names()):
        return "regression"
    return None


# --------------------------------------------------------------------------------------------
# Regression metrics
# --------------------------------------------------------------------------------------------


def _regression_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 ``(n_samples, n_outputs)``; ``(n_samples,)`` counts as one output.

    A ``(n_samples,)`` array and a ``(n_samples, 1)`` array are compared sample by sample, never
    broadcast into ``(n_samples, n_samples)``.
    """
    true = as_float_array(y_true, "y_true", ndim=(1, 2))
    pred = as_float_array(y_pred, "y_pred", ndim=(1, 2))
    check_n_samples(len(true), len(pred), "y_true", "y_pred")
    true = true.reshape(len(true), -1)
    pred = pred.reshape(len(pred), -1)
    if true.shape != pred.shape:
        raise ShapeError(
            f"y_true and y_pred must have the same number of outputs, got shapes "
            f"{np.shape(y_true)} and {np.shape(y_pred)}"
        )
    return true, pred


@METRICS.register("mse", "mean_squared_error")
def mean_squared_error(y_true: Any, y_pred: Any) -> float:
    """Mean squared error over all samples and outputs.

    ``MSE = (1 / (n_samples · n_outputs)) Σᵢⱼ (yᵢⱼ - ŷᵢⱼ)²``, equal to the average over outputs
    of each output's MSE (scikit-learn's ``'uniform_average'``).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples,) or (n_samples, n_outputs)
        ``(n_samples,)`` and ``(n_samples, 1)`` are interchangeable.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0, 3.0], [[1.0], [2.0], [5.0]])
    1.3333333333333333
    """
    true, pred, scale = scaled(*_regression_pair(y_true, y_pred))
    with np.errstate(over="ignore"):  # only when the MSE itself exceeds the float range
        return float(np.mean((true - pred) ** 2) * scale * scale)


@METRICS.register("mae", "mean_absolute_error")
def mean_absolute_error(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error over all samples and outputs.

    ``MAE = (1 / (n_samples · n_outputs)) Σᵢⱼ |yᵢⱼ - ŷᵢⱼ|``, equal to the average over outputs of
    each output's MAE (scikit-learn's ``'uniform_average'``).

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples,) or (n_samples, n_outputs)
        ``(n_samples,)`` and ``(n_samples, 1)`` are interchangeable.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.5, 2.0, 2.0])
    0.5
    """
    true, pred, scale = scaled(*_regression_pair(y_true, y_pred))
    with np.errstate(over="ignore"):  # only when the MAE itself exceeds the float range
        return float(np.mean(np.abs(true - pred)) * scale)


@METRICS.register("r2", "r2_score")
def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination, averaged over outputs.

    For each output ``j``::

        R²ⱼ = 1 - Σᵢ (yᵢⱼ - ŷᵢⱼ)² / Σᵢ (yᵢⱼ - ȳⱼ)²,    ȳⱼ = mean of column j of y_true

    and the result is the plain mean of ``R²ⱼ`` over outputs (scikit-learn's
    ``'uniform_average'``). 1 is a perfect fit, 0 is as good as predicting the mean, and it can
    be arbitrarily negative.

    A constant output (``Σᵢ (yᵢⱼ - ȳⱼ)² = 0``) has no variance to explain: its ``R²ⱼ`` is 1.0 if
    the predictions are exact and 0.0 otherwise (as scikit-learn's ``force_finite=True``).
    Computed in float64 from exactly rescaled values, so that no square overflows
    (:mod:`chainrule.training._r2`): values ~1e200 score as the same values ~1 do, and only an
    R² below the float64 range (predictions ~1e154 times further from ``y_true`` than it
    varies) is ``-inf``.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n_samples,) or (n_samples, n_outputs)
        ``(n_samples,)`` and ``(n_samples, 1)`` are interchangeable; ``n_samples >= 2``.

    Returns
    -------
    float

    Examples
    --------
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    true, pred = _regression_pair(y_true, y_pred)
    return weighted_r2(true, pred, None, name="y_true")


_HIGHER_IS_BETTER = frozenset({accuracy, r2_score})


def higher_is_better(name: str | Callable[..., float]) -> bool:
    """Whether a larger value of the metric is better (``"max"`` mode) or a smaller one.

    ``accuracy`` and ``r2`` → ``True``; ``mse``, ``mae`` and ``log_loss`` → ``False``.

    Parameters
    ----------
    name : str or callable
        A name (or alias) in ``METRICS``, or one of the registered metric functions.

    Raises
    ------
    ValueError
        An unknown name; the message lists the valid ones.

    Examples
    --------
    >>> higher_is_better("accuracy"), higher_is_better("mean_squared_error")
    (True, False)
    """
    if isinstance(name, str):
        return METRICS.get(name) in _HIGHER_IS_BETTER
    if not any(METRICS.get(known) is name for known in METRICS.names()):
        raise ValueError(
            f"{name!r} is not a registered metric; valid names: {', '.join(METRICS.names())}"
        )
    return name in _HIGHER_IS_BETTER
