"""What a trained network's outputs mean: the optional ``targets`` record of a model file.

:func:`chainrule.io.save` stores it when given the Trainer (``save(net, path, trainer=...)``);
:func:`chainrule.io.load_with_targets` reads it back, so that predictions become the original
class labels and probabilities again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _safetensors as container
from .errors import ModelFormatError
from .layers.activations import sigmoid, softmax

if TYPE_CHECKING:  # pragma: no cover
    from .layers.sequential import Sequential
    from .training.targets import TargetEncoder

# --------------------------------------------------------------------------------------------

#: ``__metadata__`` key of a model file's :class:`ModelTargets` record.
TARGETS_KEY = "targets"

#: The tasks of :class:`~chainrule.training.targets.TargetEncoder` → whether they have classes.
_TASKS = {"multiclass": True, "binary": True, "multilabel": False, "regression": False}
_TARGET_FIELDS = frozenset({"task", "y_ndim", "classes", "from_logits"})


@dataclass(frozen=True, eq=False)
class ModelTargets:
    """What a trained network's outputs mean; ``save(net, path, trainer=trainer)`` stores it.

    It holds what the Trainer's target encoder learnt from the training targets (the record
    a training checkpoint keeps as ``encoder``), plus the one fact of the loss that prediction
    needs: whether the network's outputs are logits. In the file it is the JSON object
    ``{"task": "multiclass", "y_ndim": 1, "classes": ["high", "low", "mid"],
    "from_logits": false}`` under the metadata key ``targets``.

    Attributes
    ----------
    task : {"multiclass", "binary", "multilabel", "regression"}
        As :class:`~chainrule.training.targets.TargetEncoder` decided it.
    classes : ndarray of shape (n_classes,), or None
        The class labels in the order of the outputs: output ``k`` (the ``argmax``) is
        ``classes[k]``; for ``"binary"``, ``[negative, positive]`` (the one output is the
        probability of ``classes[1]``). Sorted and distinct; strings, booleans or numbers.
        None for multilabel and regression.
    y_ndim : {1, 2}
        Whether the training targets were 1-D (labels, values) or 2-D rows.
    from_logits : bool
        The loss took raw scores. Probabilities are then ``softmax`` of the outputs
        (multiclass) or their ``sigmoid`` (binary, multilabel); otherwise the outputs are the
        probabilities (or, for regression, the predicted values).
    n_outputs : int
        Width of the network's output (known from the network, not stored).

    Examples
    --------
    >>> targets = ModelTargets("binary", np.array([-1, 1]), n_outputs=1, from_logits=True)
    >>> P = targets.probabilities(np.array([[0.0], [3.0]]))    # sigmoid of the logits
    >>> targets.encoder().decode(P).tolist()
    [1, 1]
    """

    task: str
    classes: np.ndarray | None
    y_ndim: int = 1
    from_logits: bool = False
    n_outputs: int = 1

    @property
    def is_classifier(self) -> bool:
        """Whether the outputs are probabilities of classes (anything but regression)."""
        return self.task != "regression"

    @classmethod
    def from_trainer(cls, trainer: Any, net: Sequential | None = None) -> ModelTargets:
        """The record of a fitted :class:`~chainrule.training.Trainer` (of ``net``, if given).

        Raises
        ------
        TypeError
            ``trainer`` is not a Trainer, or its classes are bytes (only numbers, booleans and
            str are stored).
        ValueError
            ``trainer`` has not been fitted, or trained a network other than ``net``.
        """
        from .training.trainer import Trainer  # lazily: training imports this module

        if not isinstance(trainer, Trainer):
            raise TypeError(f"trainer must be a chainrule Trainer, got {type(trainer).__name__}")
        if net is not None and trainer.net is not net:
            raise ValueError(
                "trainer must be the Trainer of net, but trainer.net is another network"
            )
        encoder = trainer.encoder
        if encoder is None:
            raise ValueError(
                "trainer has not been fitted, so it knows no task or classes yet: call "
                "trainer.fit(X, y) before saving with trainer="
            )
        classes = None if encoder.classes is None else np.asarray(encoder.classes)
        if classes is not None and classes.dtype.kind not in "biufU":
            raise TypeError(
                f"cannot store the trainer's classes {classes.tolist()[:5]!r:.100} (dtype "
                f"{classes.dtype}) in a model file: class labels must be numbers, booleans or "
                "str; train with str labels (e.g. y.astype(str))"
            )
        return cls(encoder.task, classes, int(encoder.y_ndim), bool(trainer.loss.from_logits),
                   int(trainer.net.out_features))

    def to_json(self) -> str:
        """The record as stored in the file (``n_outputs`` is left out: the network has it)."""
        classes = None if self.classes is None else self.classes.tolist()
        record = {"task": self.task, "y_ndim": self.y_ndim, "classes": classes,
                  "from_logits": self.from_logits}
        return json.dumps(record, allow_nan=False)

    @classmethod
    def from_json(cls, text: str, n_outputs: int, source: str = "<memory>") -> ModelTargets:
        """Parse and validate a stored record, for a network with ``n_outputs`` outputs.

        Raises
        ------
        ModelFormatError
            Invalid JSON, missing or unknown fields, or values that do not fit the task or the
            network (naming ``source``).
        """
        where = f"{source}: the metadata '{TARGETS_KEY}'"
        try:
            record = container.loads_json(text)
        except (ValueError, RecursionError) as exc:
            raise ModelFormatError(f"{where} is not valid JSON ({exc})") from None
        if not isinstance(record, dict) or set(record) != _TARGET_FIELDS:
            got = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise ModelFormatError(
                f"{where} must be an object with exactly the keys {sorted(_TARGET_FIELDS)}, "
                f"got {got}"
            )
        task, y_ndim, from_logits = record["task"], record["y_ndim"], record["from_logits"]
        if task not in _TASKS:
            raise ModelFormatError(
                f"{where}: task must be one of {sorted(_TASKS)}, got {task!r:.100}"
            )
        if y_ndim not in (1, 2) or isinstance(y_ndim, bool) or (
            task, y_ndim) in (("binary", 2), ("multilabel", 1)):
            raise ModelFormatError(f"{where}: y_ndim {y_ndim!r:.50} is invalid for task {task!r}")
        if not isinstance(from_logits, bool) or (from_logits and task == "regression"):
            raise ModelFormatError(
                f"{where}: from_logits must be true or false (false for regression), got "
                f"{from_logits!r:.50}"
            )
        classes = _stored_classes(record["classes"], task, n_outputs, where)
        return cls(task, classes, y_ndim, from_logits, n_outputs)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """The network's outputs (n_samples, n_outputs) as the Trainer reads them: class
        probabilities (softmax rows or sigmoid columns of logits), or regression values."""
        if not self.from_logits:
            return outputs
        return softmax(outputs) if self.task == "multiclass" else sigmoid(outputs)

    def encoder(self) -> TargetEncoder:
        """A fitted :class:`~chainrule.training.targets.TargetEncoder` of this task and these
        classes: ``decode(probabilities)`` gives labels, ``transform(y)`` encodes targets."""
        from .losses import MSE, BinaryCrossEntropy, CrossEntropy
        from .training.targets import TargetEncoder

        if self.task == "multiclass":
            loss = CrossEntropy(from_logits=self.from_logits)
        elif self.task == "regression":
            loss = MSE()
        else:
            loss = BinaryCrossEntropy(from_logits=self.from_logits)
        return TargetEncoder.restored(loss, self.n_outputs, self.task, self.y_ndim, self.classes)

    def __repr__(self) -> str:
        classes = None if self.classes is None else self.classes.tolist()
        return (f"ModelTargets(task={self.task!r}, classes={classes!r:.200}, y_ndim={self.y_ndim}, "
                f"from_logits={self.from_logits}, n_outputs={self.n_outputs})")


def _stored_classes(classes: Any, task: str, n_outputs: int, where: str) -> np.ndarray | None:
    """The ``classes`` of a stored record as an array, checked against the task and network."""
    if not _TASKS[task]:
        if classes is not None:
            raise ModelFormatError(f"{where}: task {task!r} has no classes, got {classes!r:.100}")
        return None
    kinds = {_label_kind(label) for label in classes} if isinstance(classes, list) else {None}
    if not classes or len(kinds) != 1 or None in kinds:
        raise ModelFormatError(
            f"{where}: classes must be a non-empty list of strings, of booleans or of numbers, "
            f"got {classes!r:.100}"
        )
    array = np.asarray(classes)
    if array.dtype.kind not in "biufU":  # e.g. an integer beyond 64 bits
        raise ModelFormatError(f"{where}: classes hold values numpy cannot store: {classes!r:.100}")
    if np.any(array[1:] <= array[:-1]):
        raise ModelFormatError(f"{where}: classes must be sorted and distinct, got {classes!r:.100}")
    expected = 2 if task == "binary" else n_outputs
    if len(array) != expected or (task == "binary" and n_outputs != 1):
        raise ModelFormatError(
            f"{where}: a {task} network with {n_outputs} output(s) needs "
            f"{'1 output and 2' if task == 'binary' else n_outputs} classes, got {len(array)}"
        )
    return array


def _label_kind(label: Any) -> str | None:
    """``"str"``, ``"bool"`` or ``"number"`` for a JSON class label; None for anything else."""
    if isinstance(label, bool):
        return "bool"
    if isinstance(label, str):
        return "str"
    return "number" if isinstance(label, (int, float)) else None
