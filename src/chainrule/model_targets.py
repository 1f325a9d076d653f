"""What a trained network's outputs mean: the optional ``targets`` record of a model file.

:func:`chainrule.io.save` stores it when given the Trainer (``save(net, path, trainer=...)``);
:func:`chainrule.io.load_with_targets` reads it back, so that predictions become the original
class labels and probabilities again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _safetensors as container
from .errors import ModelFormatError
from .layers.activations import Sigmoid, Softmax, sigmoid, softmax

if TYPE_CHECKING:  # pragma: no cover
    from .layers.sequential import Sequential
    from .training.targets import TargetEncoder

# --------------------------------------------------------------------------------------------

#: ``__metadata__`` key of a model file's :class:`ModelTargets` record.
TARGETS_KEY = "targets"

#: The tasks of :class:`~chainrule.training.targets.TargetEncoder` → whether they have classes.
_TASKS = {"multiclass": True, "binary": True, "multilabel": False, "regression": False}
#: The fields of a target encoder's record (a checkpoint's ``encoder``); a model file's
#: ``targets`` adds ``from_logits``.
_ENCODER_FIELDS = frozenset({"task", "y_ndim", "classes"})
_TARGET_FIELDS = _ENCODER_FIELDS | {"from_logits"}
#: Written only where the plain list of classes would not read back exactly (see
#: encode_classes); files of older versions lack it (see decode_classes).
_OPTIONAL_FIELDS = frozenset({"classes_dtype"})
#: The dtype kinds class labels may have: booleans, integers, floats, str.
_LABEL_KINDS = "biufU"
#: The most bytes str labels may take when their stored dtype pads them beyond the longest
#: label (the length is read from the file, so a damaged one could ask for a huge allocation).
_MAX_PADDED_BYTES = 2**24


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
    >>> targets.encoder().decode(P).tolist()    # p = 0.5 is the first class
    [-1, 1]
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
        check_storable_classes(encoder.classes, "a model file")
        return cls(encoder.task, encoder.classes, int(encoder.y_ndim), bool(trainer.loss.from_logits),
                   int(trainer.net.out_features))

    def to_json(self) -> str:
        """The record as stored in the file (``n_outputs`` is left out: the network has it)."""
        record = {"task": self.task, "y_ndim": self.y_ndim, **encode_classes(self.classes),
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
        task, y_ndim, classes = check_encoder_record(record, n_outputs, where, _TARGET_FIELDS)
        from_logits = record["from_logits"]
        if not isinstance(from_logits, bool) or (from_logits and task == "regression"):
            raise ModelFormatError(
                f"{where}: from_logits must be true or false (false for regression), got "
                f"{from_logits!r:.50}"
            )
        return cls(task, classes, y_ndim, from_logits, n_outputs)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """The network's outputs (n_samples, n_outputs) as the Trainer reads them: class
        probabilities (softmax rows or sigmoid columns of logits), or regression values."""
        if not self.from_logits:
            return outputs
        return softmax(outputs) if self.task == "multiclass" else sigmoid(outputs)

    def encoder(self, origin: str = "") -> TargetEncoder:
        """A fitted :class:`~chainrule.training.targets.TargetEncoder` of this task and these
        classes: ``decode(probabilities)`` gives labels, ``transform(y)`` encodes targets.
        ``origin`` names where the record came from (the model file) in the encoder's errors:
        labels outside the classes."""
        from .losses import MSE, BinaryCrossEntropy, CrossEntropy
        from .training.targets import TargetEncoder

        if self.task == "multiclass":
            loss = CrossEntropy(from_logits=self.from_logits)
        elif self.task == "regression":
            loss = MSE()
        else:
            loss = BinaryCrossEntropy(from_logits=self.from_logits)
        return TargetEncoder.restored(loss, self.n_outputs, self.task, self.y_ndim, self.classes,
                                      origin)

    def __repr__(self) -> str:
        classes = None if self.classes is None else self.classes.tolist()
        return (f"ModelTargets(task={self.task!r}, classes={classes!r:.200}, y_ndim={self.y_ndim}, "
                f"from_logits={self.from_logits}, n_outputs={self.n_outputs})")


def guess_targets(net: Sequential, y_ndim: int = 1) -> ModelTargets:
    """What the outputs of ``net`` mean when its model file records no targets (saved without
    ``trainer=``): the record the Trainer's default loss for its last layer would have left.

    ``Softmax`` gives ``"multiclass"`` with the output indices as classes, one ``Sigmoid``
    output ``"binary"`` with the classes ``[0, 1]``, several ``Sigmoid`` outputs
    ``"multilabel"`` (one yes/no label each); any other last layer ``"regression"``. The
    outputs are read as probabilities (``from_logits`` False): a network trained on logits
    ends without those layers, so its outputs read as regression values.

    ``y_ndim`` is that of the targets where the task allows either: multiclass labels (1) or
    rows of class probabilities (2); the other tasks have the one their targets need.

    Examples
    --------
    >>> from chainrule.layers.builders import mlp
    >>> guess_targets(mlp([4, 3], output="sigmoid")).task
    'multilabel'
    """
    n_outputs, last = int(net.out_features), net.layers[-1]
    if isinstance(last, Softmax):
        return ModelTargets("multiclass", np.arange(n_outputs), y_ndim, n_outputs=n_outputs)
    if isinstance(last, Sigmoid) and n_outputs == 1:
        return ModelTargets("binary", np.arange(2), n_outputs=1)
    if isinstance(last, Sigmoid):
        return ModelTargets("multilabel", None, 2, n_outputs=n_outputs)
    return ModelTargets("regression", None, 1 if n_outputs == 1 else 2, n_outputs=n_outputs)


def check_encoder_record(
    record: Any, n_outputs: int, where: str, fields: frozenset[str] = _ENCODER_FIELDS
) -> tuple[str, int, np.ndarray | None]:
    """``(task, y_ndim, classes)`` of a stored target encoder's record, validated for a network
    with ``n_outputs`` outputs: a training checkpoint's ``encoder``, or (with ``fields``
    :data:`_TARGET_FIELDS`) a model file's ``targets``, whose ``from_logits`` the caller checks.

    Raises
    ------
    ModelFormatError
        Not an object with exactly ``fields`` (and optionally ``classes_dtype``), an unknown
        task, a ``y_ndim`` the task cannot have, or classes that are not sorted, distinct,
        finite labels of one kind, as many as the task and the network need. The message
        begins with ``where`` (the file and the record).
    """
    if not isinstance(record, dict) or not fields <= set(record) <= fields | _OPTIONAL_FIELDS:
        got = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise ModelFormatError(
            f"{where} must be an object with exactly the keys {sorted(fields)} "
            f"(and optionally {sorted(_OPTIONAL_FIELDS)}), got {got}"
        )
    task, y_ndim = record["task"], record["y_ndim"]
    if not isinstance(task, str) or task not in _TASKS:
        raise ModelFormatError(
            f"{where}: task must be one of {sorted(_TASKS)}, got {task!r:.100}"
        )
    if y_ndim not in (1, 2) or isinstance(y_ndim, bool) or (
        task, y_ndim) in (("binary", 2), ("multilabel", 1)):
        raise ModelFormatError(f"{where}: y_ndim {y_ndim!r:.50} is invalid for task {task!r}")
    classes = _stored_classes(record["classes"], record.get("classes_dtype"), task,
                              n_outputs, where)
    return task, y_ndim, classes


def _stored_classes(
    classes: Any, dtype: Any, task: str, n_outputs: int, where: str
) -> np.ndarray | None:
    """The ``classes`` (and ``classes_dtype``) of a stored record as an array, checked against
    the task and network."""
    if not _TASKS[task]:
        if classes is not None or dtype is not None:
            shown = f"{classes!r:.100}" if classes is not None else f"classes_dtype {dtype!r:.50}"
            raise ModelFormatError(f"{where}: task {task!r} has no classes, got {shown}")
        return None
    kinds = {_label_kind(label) for label in classes} if isinstance(classes, list) else {None}
    if not classes or len(kinds) != 1 or None in kinds:
        raise ModelFormatError(
            f"{where}: classes must be a non-empty list of strings, of booleans or of numbers, "
            f"got {classes!r:.100}"
        )
    try:
        array = decode_classes(classes, dtype)
    except ValueError as exc:
        raise ModelFormatError(f"{where}: {exc}") from None
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


# --------------------------------------------------------------------------------------------
# Class labels (and other 1-D arrays) in JSON, with their dtype: shared with training
# checkpoints, which store the classes and the random generators' states the same way.
# --------------------------------------------------------------------------------------------


def check_storable_classes(classes: np.ndarray | None, destination: str) -> None:
    """A :class:`TypeError` unless ``classes`` can be stored in JSON (numbers, booleans, str).

    ``destination`` names where they were to go ("a model file", "the checkpoint <path>").
    """
    if classes is not None and _dtype_text(classes.dtype) is None:
        raise TypeError(
            f"cannot store the trainer's classes {classes.tolist()[:5]!r:.100} (dtype "
            f"{classes.dtype}) in {destination}: class labels must be numbers, booleans or "
            "str; train with str labels (e.g. y.astype(str))"
        )


def encode_classes(classes: np.ndarray | None) -> dict[str, Any]:
    """``{"classes": [...], "classes_dtype": "..."}`` (``{"classes": None}`` when there are
    none): the JSON fields of a model file's ``targets`` and a checkpoint's ``encoder``.

    ``classes_dtype`` is left out when the values alone read back (``numpy.asarray``) as the
    same array with the same dtype, e.g. int64 or float64 labels or strings of equal width, so
    such files stay readable by versions that did not know the key.
    """
    if classes is None:
        return {"classes": None}
    values, dtype = array_to_json(classes)
    plain = np.asarray(values)  # how a reader without classes_dtype reads them
    if plain.dtype == classes.dtype and np.array_equal(plain, classes):
        return {"classes": values}
    return {"classes": values, "classes_dtype": dtype}


def decode_classes(values: list[Any], dtype: str | None) -> np.ndarray:
    """The class labels stored by :func:`encode_classes`, with their dtype and exact values.

    A ``dtype`` of None (a file written before ``classes_dtype`` existed) reads ``values`` as
    ``numpy.asarray`` does, as those versions did.

    Raises
    ------
    ValueError
        Values that do not fit ``dtype``, an invalid ``dtype``, NaN or infinite values, or
        (without ``dtype``) values numpy can only store as objects.
    """
    if dtype is None:
        array = np.asarray(values)
        if array.dtype.kind not in _LABEL_KINDS:  # e.g. an integer beyond 64 bits
            raise ValueError(f"classes hold values numpy cannot store: {values!r:.100}")
        # A checkpoint's record may hold NaN and Infinity (json.loads reads them), and NaN
        # would pass the check that the classes are sorted.
        if _non_finite(array):
            raise ValueError(f"classes must be finite, got {values!r:.100}")
        return array
    return array_from_json(values, dtype, "classes")


def array_to_json(array: np.ndarray) -> tuple[list[Any], str]:
    """``(values, dtype)``: a 1-D boolean, integer, float or str array as JSON data.

    ``values`` is ``array.tolist()`` (Python ints are exact at any size, a float32's value is
    exactly a float64); ``dtype`` is the dtype's name (``"uint64"``, ``"float32"``,
    ``"bool"``) or, for str, ``"U<length>"``. :func:`array_from_json` turns them back into an
    equal array of the same dtype.

    Raises
    ------
    ValueError
        ``array`` is not 1-D or its dtype is none of those.
    """
    dtype = _dtype_text(array.dtype)
    if array.ndim != 1 or dtype is None:
        raise ValueError(
            f"only 1-D arrays of booleans, numbers or str are stored as JSON, got "
            f"{array.dtype} of shape {array.shape}"
        )
    return array.tolist(), dtype


def array_from_json(values: Any, dtype: Any, what: str = "array") -> np.ndarray:
    """The 1-D array :func:`array_to_json` described as ``(values, dtype)``.

    Integers and str must fit the dtype exactly; floats are rounded to it as any parse of a
    decimal number is (what :func:`array_to_json` writes is exact), and must stay finite.

    Raises
    ------
    ValueError
        ``dtype`` is not a name :func:`array_to_json` writes, or ``values`` is not a list of
        values of that kind that fit it; the message names ``what``.
    """
    if not (dtype in _NUMERIC_DTYPES or (isinstance(dtype, str) and _STR_DTYPE.fullmatch(dtype))):
        raise ValueError(
            f"{what}: dtype must be one of {', '.join(_NUMERIC_DTYPES)} or U<length>, got "
            f"{dtype!r:.50}"
        )
    if dtype.startswith("U") and int(dtype[1:]) > _MAX_STR_LENGTH:
        raise ValueError(
            f"{what}: dtype {dtype} is longer than NumPy allows (at most U{_MAX_STR_LENGTH})")
    parsed = np.dtype(dtype)
    expected = {"b": (bool,), "U": (str,), "f": (int, float)}.get(parsed.kind, (int,))
    if not isinstance(values, list) or not all(
        isinstance(v, expected) and (parsed.kind == "b" or not isinstance(v, bool))
        for v in values
    ):
        kind = {"b": "booleans", "U": "strings", "f": "numbers"}.get(parsed.kind, "integers")
        raise ValueError(f"{what}: dtype {dtype} needs a list of {kind}, got {values!r:.100}")
    if parsed.kind == "U":
        length, longest = parsed.itemsize // 4, max((len(v) for v in values), default=0)
        if longest > length:
            raise ValueError(f"{what}: a string of {longest} characters does not fit dtype {dtype}")
        if length > longest and parsed.itemsize * len(values) > _MAX_PADDED_BYTES:
            raise ValueError(
                f"{what}: {len(values)} strings of dtype {dtype} would take "
                f"{parsed.itemsize * len(values)} bytes, padded beyond their longest "
                f"({longest} characters); at most {_MAX_PADDED_BYTES} are accepted"
            )
    try:
        with np.errstate(over="raise"):
            array = np.array(values, dtype=parsed)
    except (OverflowError, FloatingPointError, ValueError):
        array = None
    if array is None or _non_finite(array):
        raise ValueError(f"{what}: values outside the range of {dtype}: {values!r:.100}")
    return array


def _non_finite(array: np.ndarray) -> bool:
    """Whether a label array is of floats and holds NaN or an infinity."""
    return array.dtype.kind == "f" and not np.all(np.isfinite(array))


#: The names :func:`array_to_json` gives non-str dtypes (byte order is not stored: arrays
#: are read back in the machine's order).
_NUMERIC_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                   "uint64", "float16", "float32", "float64")
_STR_DTYPE = re.compile(r"U[1-9][0-9]{0,8}")
#: The longest str dtype NumPy allows: its itemsize, 4 bytes a character, must fit a C int.
#: Checked here, not left to NumPy: 2.0 accepts longer ones, their itemsize wrapped negative
#: (U999999999 has itemsize -294967300), where later versions raise TypeError.
_MAX_STR_LENGTH = (2**31 - 1) // 4


def _dtype_text(dtype: np.dtype) -> str | None:
    """How :func:`array_to_json` names ``dtype`` (``"uint64"``, ``"bool"``, ``"U12"`` ...);
    None for a dtype it does not store."""
    if dtype.kind == "U" and dtype.itemsize:
        return f"U{dtype.itemsize // 4}"
    return dtype.name if dtype.name in _NUMERIC_DTYPES else None
