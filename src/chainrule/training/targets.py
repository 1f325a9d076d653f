"""Targets: what kind of problem ``y`` describes, how it is encoded for the loss, and back.

=============  =====================================  ==========================  ================
task           loss and y                             encoded for the loss        prediction
=============  =====================================  ==========================  ================
multiclass     CrossEntropy, labels (n_samples,)      class indices (n_samples,)  argmax → label
               CrossEntropy, targets (n, n_classes)   unchanged                   argmax
binary         BinaryCrossEntropy, labels (n,),       0/1 column (n_samples, 1)   p > 0.5 → label
               network with one output
multilabel     BinaryCrossEntropy, (n, n_outputs)     unchanged, values in [0,1]  p > 0.5 → 0/1
regression     any other loss                         floats (n, n_outputs)       the output
=============  =====================================  ==========================  ================

Class labels can be any sortable values (ints, strings, booleans). Integer labels that already
lie in ``[0, n_outputs)`` map to themselves, and booleans of a two-class problem to ``[False,
True]``, so a batch or split that lacks a class still encodes the others correctly; any other
labels are sorted and numbered (``classes_``). An object array (pandas' usual dtype) holds
strings, booleans or numbers; its integers are kept exactly (int64, else uint64, else float64
when it holds them all exactly, else refused), as a float64 copy would merge labels past 2**53.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import all_finite, as_array, as_float_array
from ..errors import ShapeError
from ..losses import BinaryCrossEntropy, CrossEntropy, Loss

#: What each column of 2-D targets is, per task (in the width error).
_WIDTH_UNITS = {"multiclass": "class probabilities", "multilabel": "binary targets",
                "regression": "regression targets"}


class TargetEncoder:
    """Learns the task and classes from the training targets; encodes and decodes.

    Parameters
    ----------
    loss : Loss
        Decides classification (cross-entropies) versus regression.
    n_outputs : int
        Width of the network's output.

    Attributes
    ----------
    task : {"multiclass", "binary", "multilabel", "regression"}
    classes : ndarray or None
        The class labels, in the order of the network's outputs (None for regression and
        multilabel).
    origin : str
        Where the task and classes came from when they were restored rather than learnt
        (``"the checkpoint <path>"``), named when labels do not fit the classes; "" otherwise.
    """

    origin = ""  # (a class attribute: encoders pickled before it existed read it too)

    def __init__(self, loss: Loss, n_outputs: int) -> None:
        self.loss = loss
        self.n_outputs = n_outputs
        self.task = ""
        self.classes: np.ndarray | None = None
        self.y_ndim = 1

    @classmethod
    def restored(
        cls, loss: Loss, n_outputs: int, task: str, y_ndim: int, classes: Any, origin: str = ""
    ) -> TargetEncoder:
        """An encoder in the state :meth:`fit` would have left (from a checkpoint or a model
        file): ``task``, ``y_ndim`` (1 or 2) and ``classes`` (n_classes,) or None, as
        validated by :func:`chainrule.model_targets.check_encoder_record`; ``origin`` names
        where they come from (see the attribute).

        Raises
        ------
        ValueError
            ``task`` is not one ``loss`` trains (a checkpoint written with another loss).
        """
        tasks = loss_tasks(loss)
        if task not in tasks:
            raise ValueError(
                f"the task {task!r:.50} is not one a {type(loss).__name__} loss trains "
                f"({' or '.join(map(repr, tasks))})"
            )
        encoder = cls(loss, n_outputs)
        encoder.task, encoder.y_ndim = str(task), int(y_ndim)
        encoder.classes = None if classes is None else np.array(classes)
        encoder.origin = origin
        return encoder

    def fit(self, y: Any) -> TargetEncoder:
        """Decide the task and classes from the training targets ``y`` (one of
        :func:`loss_tasks`)."""
        y = _as_target_array(y)
        self.y_ndim = y.ndim
        if isinstance(self.loss, CrossEntropy):
            self.task = "multiclass"
            if y.ndim == 2:
                self._check_width(y, _WIDTH_UNITS[self.task])
                self.classes = np.arange(self.n_outputs)
            else:
                self.classes = _classes(y, self.n_outputs)
        elif isinstance(self.loss, BinaryCrossEntropy):
            if y.ndim == 2:
                self.task = "multilabel"
                self._check_width(y, _WIDTH_UNITS[self.task])
            else:
                self.task = "binary"
                if self.n_outputs != 1:
                    raise ShapeError(
                        f"binary labels y of shape {y.shape} need a network with 1 output, "
                        f"this one has {self.n_outputs}; for several yes/no outputs pass y of "
                        f"shape (n_samples, {self.n_outputs})"
                    )
                self.classes = _classes(y, 2, binary=True)
        else:
            self.task = "regression"
            if y.ndim == 2:
                self._check_width(y, _WIDTH_UNITS[self.task])
            elif self.n_outputs != 1:
                raise ShapeError(
                    f"y of shape {y.shape} has one target per sample, but the network has "
                    f"{self.n_outputs} outputs; pass y of shape (n_samples, {self.n_outputs})"
                )
        return self

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    def transform(self, y: Any, dtype: Any = np.float64, name: str = "y") -> np.ndarray:
        """``y`` in the form the loss takes (see the module table). The targets of a
        one-output regression may be (n_samples,) or (n_samples, 1), whichever form
        :meth:`fit` had (as in :mod:`chainrule.training.metrics`); other tasks need the
        training targets' number of dimensions."""
        y = _as_target_array(y, name)
        one_output_regression = self.task == "regression" and self.n_outputs == 1
        if y.ndim != self.y_ndim and not one_output_regression:
            raise ShapeError(
                f"{name} must be {self.y_ndim}-D like the training targets, got shape {y.shape}"
            )
        if self.task in ("multilabel", "regression") or (self.task == "multiclass" and y.ndim == 2):
            y = as_float_array(y, name, dtype=dtype, ndim=(1, 2))
            if y.ndim == 2:
                self._check_width(y, _WIDTH_UNITS[self.task], name)
            return y.reshape(-1, 1) if y.ndim == 1 else y
        indices = _encode(y, self.classes, name, self.origin)
        if self.task == "binary":
            return indices.astype(dtype).reshape(-1, 1)
        return indices

    def decode(self, probabilities: np.ndarray) -> np.ndarray:
        """Predictions from the network's probabilities (or values, for regression)."""
        if self.task == "multiclass":
            return self.classes[np.argmax(probabilities, axis=1)]
        if self.task == "binary":
            return self.classes[class_one(probabilities[:, 0]).astype(np.int64)]
        if self.task == "multilabel":
            return class_one(probabilities).astype(np.int64)
        return probabilities.ravel() if self.y_ndim == 1 else probabilities

    def strata(self, y: Any) -> np.ndarray | None:
        """Class index of every sample (n_samples,), to stratify splits; None when there are no
        single classes (regression, multilabel)."""
        y = _as_target_array(y)
        if self.task == "multiclass":
            return np.argmax(y, axis=1) if y.ndim == 2 else _encode(y, self.classes, "y",
                                                                   self.origin)
        if self.task == "binary":
            return _encode(y, self.classes, "y", self.origin)
        return None

    def _check_width(self, y: np.ndarray, what: str, name: str = "y") -> None:
        if y.shape[1] != self.n_outputs:
            raise ShapeError(
                f"{name} of shape {y.shape} has {y.shape[1]} {what} per sample, but the network "
                f"has {self.n_outputs} outputs"
            )


def class_one(p: np.ndarray, p_other: np.ndarray | None = None) -> np.ndarray:
    """Where a yes/no decision (a binary class, a multilabel label) is class 1: where its
    probability ``p`` is above that of class 0, ``p_other`` (an array of ``p``'s shape), ties
    going to class 0: the argmax of the two with ties to the first, as scikit-learn's. The
    one rule of the Trainer's and the estimators' predictions.

    Without ``p_other`` (one sigmoid output) class 0's is ``1 − p``, and the rule is
    ``p > 0.5`` exactly (for ``p ≥ 0.5``, ``1 − p`` is exact; below, it rounds to at least
    0.5), scikit-learn's threshold: a ``p`` that rounds to 0.5 is class 0, whatever the sign
    of the logit it came from. ``MLPClassifier`` gives ``p_other``, its ``predict_proba``'s
    first column (computed from the logit as accurately as ``p``, not as ``1 − p``), so that
    its classes are the argmax of the probabilities it reports.
    """
    return p > (0.5 if p_other is None else p_other)


def loss_tasks(loss: Loss) -> tuple[str, ...]:
    """The tasks :meth:`TargetEncoder.fit` may decide for ``loss`` (see the module table)."""
    if isinstance(loss, CrossEntropy):
        return ("multiclass",)
    if isinstance(loss, BinaryCrossEntropy):
        return ("binary", "multilabel")
    return ("regression",)


def _as_target_array(y: Any, name: str = "y") -> np.ndarray:
    y = as_array(y, name)
    if y.ndim not in (1, 2):
        raise ShapeError(f"{name} must be 1-D or 2-D, got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} must not be empty")
    if y.dtype.kind == "O":
        y = _from_objects(y, name)
    if y.dtype.kind == "f" and not all_finite(y):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    if y.dtype.kind not in "biufUS":
        raise TypeError(f"{name} must hold numbers or strings, got dtype {y.dtype}")
    return y


def _from_objects(y: np.ndarray, name: str) -> np.ndarray:
    """An object array (pandas' usual dtype) as strings or as numbers, never a mix."""
    items = y.ravel().tolist()
    if all(isinstance(item, str) for item in items):
        return y.astype(str)
    if all(isinstance(item, bool) for item in items):  # (tolist makes NumPy bools Python's)
        return y.astype(bool)
    if all(_is_number(item) and isinstance(item, numbers.Integral) for item in items):
        return _from_integers(y, [int(item) for item in items], name)
    if all(_is_number(item) for item in items):
        return _as_float64(y, items, name)
    others = [item for item in items
              if not (isinstance(item, (str, bool)) or _is_number(item))]
    found = repr(others[0]) if others else "a mix of them"
    raise TypeError(f"{name} must hold only numbers, only strings or only booleans, got {found}")


def _from_integers(y: np.ndarray, values: list[int], name: str) -> np.ndarray:
    """The integers ``values`` (``y``'s items, in order) kept exactly, in ``y``'s shape: int64
    when every one fits, else uint64 when every one fits it (as ``numpy.asarray`` stores a
    list of such ints, so a list and an object array give the same classes); beyond 64 bits,
    float64 when it holds every one exactly (``10**20``), as
    :func:`chainrule.tables.read_table` reads whole-number targets, else refused: float64
    holds integers exactly only up to 2**53, and rounding would merge distinct class labels
    (``10**20 + 1`` would become ``10**20``)."""
    low, high = min(values), max(values)
    for dtype in (np.int64, np.uint64):
        limits = np.iinfo(dtype)
        if limits.min <= low and high <= limits.max:
            return np.array(values, dtype=dtype).reshape(y.shape)
    floats = _as_float64(y, values, name)
    rounded = next((i for i, (value, as_float) in enumerate(zip(values, floats.ravel().tolist()))
                    if int(as_float) != value), None)
    if rounded is None:
        return floats
    raise ValueError(
        f"{name} holds the integer {values[rounded]}, beyond int64 and uint64 (-2**63 to "
        f"2**64 - 1), and float64 would round it to {floats.flat[rounded]:.0f}: integers are "
        "kept exactly or refused; to use such numbers as class labels, make them strings "
        "(e.g. y.astype(str))"
    )


def _as_float64(y: np.ndarray, items: list[Any], name: str) -> np.ndarray:
    """``y`` as float64; ``items`` are its numbers (for the message)."""
    try:
        return y.astype(np.float64)
    except OverflowError:  # a Python int beyond the float64 range (about 1.8e308)
        digits = len(str(abs(int(max(items, key=abs)))))
        raise ValueError(f"{name} holds a number too large for float64 (beyond ±1.8e308): "
                         f"an integer of {digits} digits") from None


def _is_number(item: Any) -> bool:
    return isinstance(item, numbers.Real) and not isinstance(item, bool)


def _classes(y: np.ndarray, n_classes: int, binary: bool = False) -> np.ndarray:
    """The class labels, in output order: identity for ints already in [0, n_classes), and
    ``[False, True]`` for booleans with two classes (so predictions come back as booleans).

    ``binary``: the network has one sigmoid output for the two classes (else one output per
    class); it only changes the error message."""
    found = np.unique(y)
    if y.dtype.kind == "b" and n_classes == 2:
        return np.array([False, True])
    integral = y.dtype.kind in "biuf" and np.all(found == np.round(found))
    if integral and found.min() >= 0 and found.max() < n_classes:
        return np.arange(n_classes, dtype=np.int64)
    if len(found) != n_classes:
        network = (
            "a network with 1 sigmoid output takes exactly 2 classes" if binary
            else f"the network has {n_classes} outputs (one per class)"
        )
        soft = binary and y.dtype.kind == "f" and found.min() >= 0 and found.max() <= 1
        hint = "; for soft targets (probabilities in [0, 1]) pass y of shape (n_samples, 1)"
        raise ValueError(
            f"y has {len(found)} distinct classes {found[:10].tolist()}, but {network}"
            f"{hint if soft else ''}"
        )
    return found


def _encode(y: np.ndarray, classes: np.ndarray, name: str, origin: str = "") -> np.ndarray:
    """Class indices of the labels ``y``; an error names ``origin``, where ``classes`` came
    from, when they were restored (labels of another problem than the checkpoint's)."""
    if y.ndim != 1:
        raise ShapeError(f"{name} must be 1-D class labels, got shape {y.shape}")
    try:
        indices = np.searchsorted(classes, y)
    except TypeError:
        raise TypeError(f"{name} labels of dtype {y.dtype} cannot be compared with the classes "
                        f"{_known(classes, origin)}") from None
    indices = np.minimum(indices, len(classes) - 1)
    unknown = classes[indices] != y
    if np.any(unknown):
        raise ValueError(
            f"{name} has labels outside the known classes {_known(classes, origin)}: "
            f"{np.unique(y[unknown])[:10].tolist()}"
        )
    return indices.astype(np.int64)


def _known(classes: np.ndarray, origin: str) -> str:
    """The first classes, and where they came from when restored, for an error message."""
    return f"{classes.tolist()[:10]}{f' (from {origin})' if origin else ''}"
