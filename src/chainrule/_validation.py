"""Input checks shared by every public entry point.

Each check either returns the cleaned value or raises a ``ValueError``/``TypeError`` (or the
``ShapeError`` subclass) whose message names the argument, what was expected and what was
received. Hot paths call these once, at the edge, never per batch.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .errors import ShapeError

FLOAT_DTYPES = (_FLOAT32, _FLOAT64) = (np.dtype(np.float32), np.dtype(np.float64))


def format_shape(dims: Sequence[int | str | None]) -> str:
    """``(None -> "n_samples")``: ``format_shape(("n_samples", 64)) == "(n_samples, 64)"``."""
    names = ["n_samples" if d is None else str(d) for d in dims]
    return "(" + ", ".join(names) + (",)" if len(names) == 1 else ")")


#: Every accepted spelling of the two float dtypes (names and scalar types), looked up by
#: :func:`check_float_dtype`.
_FLOAT_SPELLINGS: dict[Any, np.dtype] = {
    "float32": _FLOAT32, "f4": _FLOAT32, "single": _FLOAT32, np.float32: _FLOAT32,
    "float64": _FLOAT64, "f8": _FLOAT64, "double": _FLOAT64, "float": _FLOAT64,
    np.float64: _FLOAT64, float: _FLOAT64,
}


def check_float_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """``float32`` or ``float64`` as a ``np.dtype``; anything else is a ``TypeError``.

    Accepts the dtypes themselves, their scalar types and the names ``"float32"``/``"f4"``/
    ``"single"`` and ``"float64"``/``"f8"``/``"double"``/``"float"``.
    """
    if dtype is _FLOAT32 or dtype is _FLOAT64:  # the common case: a network's own dtype
        return dtype
    if isinstance(dtype, str) or type(dtype) is type:  # hashable (a plain class): one lookup
        resolved = _FLOAT_SPELLINGS.get(dtype)
        if resolved is not None:
            return resolved
        if isinstance(dtype, str):
            raise TypeError(f"{name} must be 'float32' or 'float64', got {dtype!r}")
    elif isinstance(dtype, np.dtype):
        if dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must be float32 or float64, got {dtype}")
        return dtype
    shown = dtype.__name__ if isinstance(dtype, type) else repr(dtype)
    raise TypeError(f"{name} must be float32 or float64, got {shown}")


def float_dtype_of(value: Any) -> np.dtype:
    """The dtype to compute ``value`` in: float32 if it is a float32 array, else float64."""
    return _FLOAT32 if getattr(value, "dtype", None) == np.float32 else _FLOAT64


def as_float_array(
    value: Any,
    name: str,
    *,
    dtype: Any = np.float64,
    ndim: int | tuple[int, ...] = 2,
    finite: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a floating array of ``dtype`` after checking it is usable data.

    Parameters
    ----------
    value : array_like
        Numbers; booleans and integers are accepted and converted.
    name : str
        The argument's name, for messages (``"X"``, ``"y_true"``).
    dtype : float32 or float64
        Target dtype. No copy is made when ``value`` already is such an array.
    ndim : int or tuple of int
        Allowed numbers of dimensions.
    finite : bool
        Reject NaN and infinity.
    allow_empty : bool
        Accept arrays with no elements.

    Raises
    ------
    TypeError
        Strings, objects, complex numbers or anything not array-like.
    ValueError
        Wrong number of dimensions (``ShapeError``), empty, NaN or infinity.
    """
    dtype = check_float_dtype(dtype)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if type(value) is np.ndarray and value.dtype == dtype and value.ndim in allowed and value.size:
        if finite:  # the common case, kept cheap: already the right kind of array
            check_finite(value, name)
        return value
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, objects numpy rejects
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype {array.dtype}"
        )
    if array.ndim not in allowed:
        expected = " or ".join(f"{d}-D" for d in allowed)
        raise ShapeError(f"{name} must be {expected}, got {array.ndim}-D array of shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    with np.errstate(over="ignore"):  # float64 beyond the float32 range becomes inf: see below
        converted = array.astype(dtype, copy=False)
    if finite:
        check_finite(converted, name, original=array)
    return converted


#: Arrays up to this many entries are checked with ``np.isfinite``: its boolean temporary
#: (at most 1 MiB) stays in cache, and it is about twice as fast as the sum below and needs no
#: ``np.errstate`` (which alone costs about 1 µs, most of the check of one sample). Timed on
#: float32 and float64 arrays of 10 to 8 M entries; the sum wins from about 2 M (float64) and
#: 4 M (float32), where the temporary no longer fits in the caches.
ISFINITE_MAX_SIZE = 1 << 20


def all_finite(array: np.ndarray) -> bool:
    """Whether every entry is finite, without a temporary array of a large input's size.

    Up to :data:`ISFINITE_MAX_SIZE` entries (and for complex arrays, whose minimum and maximum
    order by the real part), ``np.isfinite`` decides. Beyond, a NaN or an infinity makes the
    sum NaN or infinite, so a finite sum proves every entry finite: the common case costs one
    reduction. A sum that is not finite may also come from finite entries whose total
    overflows; the minimum and the maximum then decide (NaN propagates through both, and ±inf
    is one of them), warning about nothing.
    """
    if array.dtype.kind not in "fc" or array.size == 0:
        return True
    if array.size <= ISFINITE_MAX_SIZE or array.dtype.kind == "c":
        return bool(np.logical_and.reduce(np.isfinite(array), axis=None))
    with np.errstate(over="ignore", invalid="ignore"):  # inf − inf in the sum is NaN: fine
        if math.isfinite(np.add.reduce(array, axis=None)):
            return True
    return math.isfinite(np.minimum.reduce(array, axis=None)) and math.isfinite(
        np.maximum.reduce(array, axis=None)
    )


def largest_magnitude(array: np.ndarray) -> float:
    """``max |array|`` of a float array of any shape (0.0 when it is empty, and never −0.0),
    without a temporary array of its size: the larger of ``max(array)`` and ``−min(array)``
    (NaN when an entry is NaN)."""
    if array.size == 0:
        return 0.0
    return abs(max(float(np.maximum.reduce(array, axis=None)),
                   -float(np.minimum.reduce(array, axis=None))))


def check_finite(array: np.ndarray, name: str, original: np.ndarray | None = None) -> None:
    """Raise a ``ValueError`` naming the first non-finite entry of ``array``.

    ``original``, when ``array`` was converted from it, tells an overflow of the conversion
    (a finite value beyond the new dtype's range) from a NaN or infinity in the data.
    """
    if all_finite(array):
        return
    bad = np.argwhere(~np.isfinite(array))
    first = tuple(int(i) for i in bad[0])
    if original is not None and original is not array and np.isfinite(original[first]):
        limit = np.finfo(array.dtype).max
        raise ValueError(
            f"{name} has values beyond the {array.dtype} range (|x| > {limit:.3g}), "
            f"the first at index {first}: {original[first]}"
        )
    raise ValueError(
        f"{name} must be finite, got {len(bad)} NaN/inf value(s), "
        f"the first at index {first}: {array[first]}"
    )


#: Most classes a label array may imply (a guard against labels such as 10**12 making a
#: one-hot matrix or a confusion matrix of absurd size).
MAX_CLASSES = 2**20


def as_array(value: Any, name: str) -> np.ndarray:
    """``np.asarray(value)``, with ragged nested lists reported as a ``TypeError`` naming
    ``name`` instead of NumPy's "inhomogeneous shape" message."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array, got {type(value).__name__}")
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a rectangular array: {exc}") from None


def as_class_labels(
    values: Any, name: str, n_classes: int | None = None, *, allow_empty: bool = False
) -> np.ndarray:
    """Integer class labels ``0 .. n_classes-1`` as an int64 array of shape (n_samples,).

    Booleans, integers of any width and floats holding whole numbers are accepted; the range
    is checked in the input's own dtype, before any conversion could wrap around or overflow.
    Without ``n_classes`` the labels may go up to :data:`MAX_CLASSES` - 1. An int64 input is
    returned without a copy (the array itself or a view of it): callers only read the result.

    Raises
    ------
    TypeError
        Strings, objects, complex numbers.
    ValueError
        Wrong number of dimensions (``ShapeError``), non-integral or non-finite floats, labels
        outside the range.
    """
    array = as_array(values, name)
    if array.ndim != 1:
        hint = "; for one-hot rows use labels.argmax(axis=1)" if array.ndim == 2 else ""
        raise ShapeError(f"{name} must be class labels of shape (n_samples,), got shape {array.shape}{hint}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold integer class labels, got dtype {array.dtype}")
    if array.size == 0:
        if not allow_empty:
            raise ValueError(f"{name} must not be empty, got shape {array.shape}")
        return array.astype(np.int64, copy=False)
    if array.dtype.kind == "f" and not (all_finite(array)
                                        and np.array_equal(array, np.round(array))):
        bad = array[~(np.isfinite(array) & (array == np.round(array)))][0]
        raise ValueError(f"{name} must hold whole-number class labels, got {bad!r}")
    low, high = array.min().item(), array.max().item()  # Python numbers: exact comparisons
    limit = MAX_CLASSES if n_classes is None else n_classes
    if low < 0 or high >= limit:
        expected = (f"[0, {n_classes}) (n_classes={n_classes})" if n_classes is not None
                    else f"[0, {MAX_CLASSES}) (at most {MAX_CLASSES} classes)")
        raise ValueError(f"{name} must hold class labels in {expected}, got values in "
                         f"[{low}, {high}]")
    return array.astype(np.int64, copy=False)


def check_n_samples(n_x: int, n_y: int, x_name: str = "X", y_name: str = "y") -> None:
    """Two arrays describe the same samples: their first dimensions agree."""
    if n_x != n_y:
        raise ShapeError(
            f"{x_name} and {y_name} must have the same number of samples, got {n_x} and {n_y}"
        )


def check_target_rows(n_samples: int, y: Any) -> None:
    """``y`` holds one target (or row of targets) per sample of ``X``, which has
    ``n_samples`` rows: a ``ShapeError`` naming ``X`` and ``y`` otherwise."""
    shape = as_array(y, "y").shape
    if not shape:
        raise ShapeError(f"y must hold one target per sample of X, got a scalar {y!r}")
    check_n_samples(n_samples, shape[0], "X", "y")


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> Any:
    """A real (or integer) scalar inside an interval; returns it as ``float`` (or ``int``).

    ``check_number(lr, "lr", low=0, low_open=True)`` accepts ``lr`` in ``(0, inf)``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
    try:
        if integer:
            if not isinstance(value, numbers.Integral) and not float(value).is_integer():
                raise TypeError(f"{name} must be an integer, got {value!r}")
            value = int(value)
        else:
            value = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0
    except OverflowError:  # a Python int (or Fraction) beyond the float range
        raise ValueError(f"{name} must be finite, got a number too large for a float") from None
    if not integer and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    if too_low or too_high:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else (str(low) if isinstance(low, int) else f"{low:g}")
        hi = "inf" if high is None else (str(high) if isinstance(high, int) else f"{high:g}")
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """``value`` is a ``bool`` (or ``numpy.bool_``); a ``TypeError`` naming ``name`` otherwise.

    Strings and numbers are refused rather than read by truthiness (``bool("no")`` is True).
    """
    if value is True or value is False:  # (the common case first: hot paths call this)
        return value
    if not isinstance(value, np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_verbose(value: Any, high: int | None, name: str = "verbose") -> int:
    """A verbosity level in ``[0, high]`` (``high`` None: no upper bound) as an ``int``.

    ``False`` and ``True`` (and ``numpy.bool_``) are levels 0 and 1, the ints they equal, so
    ``verbose=True`` and ``verbose=1`` mean the same wherever ``verbose`` is taken. Other
    integers (NumPy's too) are levels; anything else (a float, a string, None) is a
    ``TypeError`` and a level outside the range a ``ValueError``, naming ``name``.
    """
    if value is True or value is False or isinstance(value, np.bool_):
        return int(value)
    if not isinstance(value, numbers.Integral):
        levels = "a non-negative integer" if high is None else f"an integer in [0, {high}]"
        raise TypeError(
            f"{name} must be True, False or {levels}, got {value!r} ({type(value).__name__})"
        )
    return check_number(value, name, low=0, high=high, integer=True)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value`` is one of the names ``choices``; returns that choice, a plain ``str`` (also
    for a ``numpy.str_`` equal to it).

    Anything that is not a ``str`` is a ``TypeError``, an array above all: ``in`` would compare
    it element by element, failing without naming ``name`` or accepting ``array(["sum"])``. A
    ``str`` that is none of the choices is a ``ValueError``; both list the choices.
    """
    if isinstance(value, str):
        for choice in choices:
            if value == choice:
                return choice
    listed = ", ".join(repr(c) for c in choices)
    error = ValueError if isinstance(value, str) else TypeError
    raise error(f"{name} must be one of {listed}; got {value!r:.100}")


def check_path(path: Any, name: str = "path") -> str:
    """``path`` (str, bytes or os.PathLike) as the str that messages show, checked.

    Raises
    ------
    TypeError
        Not a str, bytes or os.PathLike (``None``, a number, a list).
    ValueError
        Empty (which would mean the working folder) or holding a NUL byte (which no file
        system allows).
    """
    try:
        raw = os.fspath(path)
    except TypeError:
        raise TypeError(
            f"{name} must be a str, bytes or os.PathLike file path, got {path!r:.100} "
            f"({type(path).__name__})"
        ) from None
    text = os.fsdecode(raw)
    if not text:
        raise ValueError(f"{name} must be a file path, got the empty string {path!r}")
    if "\x00" in text:
        raise ValueError(f"{name} must not contain a NUL byte, got {text!r}")
    return text


def utf8_text(raw: bytes, path: Any, advice: str, error: type[ValueError] = ValueError) -> str:
    """``raw``, the bytes of the file ``path``, as UTF-8 text without a leading byte-order mark
    (Windows editors and spreadsheets write one).

    Raises
    ------
    ValueError
        (or the subclass ``error``) The bytes are not UTF-8: the message names the file, the
        first byte that is not and its line, then gives ``advice``.
    """
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} cannot be "
            f"decoded; {advice}"
        ) from None


def csv_rows(text: str | Iterable[str], path: Any) -> Iterator[tuple[int, list[str]]]:
    """The rows of the CSV ``text`` (the file ``path``), each with the line it ends on (counted
    from 1; a quoted field may span lines); a blank line is an empty row. ``text`` is a string,
    or its lines (a file opened with ``newline=""``), read as the rows are.

    Raises
    ------
    ValueError
        The csv module refuses a row (a field over its limit of 128 KiB, which an unclosed
        quote makes of the rest of the file): the message names the file and the line where
        that row begins.
    """
    reader = csv.reader(io.StringIO(text, newline="") if isinstance(text, str) else text)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValueError(f"{path}, line {start} cannot be read as CSV: {exc} (a quote left "
                             "open makes the rest of the file one field)") from None
        yield reader.line_num, row
