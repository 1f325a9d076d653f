"""Tables of numbers in files: features and targets read from .csv, .npz or .npy, results
written as .csv or .npy (what ``chainrule train`` with ``data.dataset = "files"``,
``chainrule evaluate`` and ``chainrule predict`` read and write).

A CSV field that cannot be used (a feature that is not a finite number, a blank label) is
refused with the file, its line (counted from 1, the header included) and the column (counted
from 1, with its header name) named; an .npy's rows are counted from 1 instead of lines.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import write_atomically
from ._numpy_files import load_npy, load_npz
from ._validation import all_finite, csv_rows, utf8_text
from .config import ConfigError


def read_table(path: str | Path, target: int | str = -1, *,
               target_key: str = "data.target") -> tuple[np.ndarray, np.ndarray]:
    """Features and targets from a .csv, .npz (arrays X, y) or .npy file (the ``target``
    column is y).

    A CSV's first row is a header when it names the columns: when a feature field of it (any
    field but the target's) is text, or when only its target field is text and the next row's
    target is a number. So a headerless file with text class labels keeps its first row; a
    header of numeric names over text labels (``1,2,label`` then ``0.5,0.1,cat``) is the one
    layout read wrongly (as a first sample of class "label"). A ``target`` given by name
    needs the header. ``target_key`` is how the caller names ``target`` in messages (the
    config key, or a command-line option).

    The targets are numbers when every one is, else strings (class labels). Numbers are int64
    when all are whole, read exactly (not through float64: 10000000000000001 stays itself),
    else float64 (as Python's ``float`` reads them); whole numbers beyond int64 are float64
    when it holds each exactly (``1e20``), else refused naming the file, line and value. A
    numeric .npy is read as stored, not as text: its features become float64 and its target
    column follows the same rule, a bool one staying bool (as an .npz's ``y`` does).

    An .npz's ``X`` must be 2-D numbers (one column at least), all finite, and its ``y`` one
    row (or one label) per row of ``X``: numbers, all finite, or strings. A ``y`` of one
    column, (n_samples, 1), is one label or value per sample and is returned as (n_samples,),
    like a CSV's target column (so its task, classes and checks are those of the same targets
    saved 1-D).

    Raises
    ------
    ValueError
        No data rows; rows of different widths; a single column (no feature: a CSV
        delimited by ';' or tabs reads so); a feature field that is not a finite number,
        or a blank or non-finite target (naming the file, the line and the column); a row the
        csv module cannot read, such as a field over 128 KiB (naming the file and line); a file
        that is not what its suffix says, or an .npz whose arrays break the rules above
        (naming the file, the array and the index).
    ConfigError
        ``target`` names no column of the file.
    """
    path = Path(path)
    if path.suffix == ".npz":
        arrays = load_npz(path, ("X", "y"))
        X = _features(arrays["X"], path, "X")
        return X, _npz_targets(arrays["y"], path, len(X))
    table = _Rows(path, target)
    column = _target_column(target, table.header, table.width, path, target_key)
    if table.width == 1:
        hint = "" if table.unit == "row" else (
            "; are its fields separated by something other than commas (such as ';' or tabs)? "
            "Save it comma-separated")
        raise ValueError(f"{path} has one column, the target: no feature to learn from{hint}")
    y = _labels(table, column)
    X = table.numbers([i for i in range(table.width) if i != column], "feature")
    return X, y


def read_features(path: str | Path) -> np.ndarray:
    """A 2-D array of features from a .npy file, an .npz (its array ``X``; a ``y`` is not
    read) or a numeric .csv (header optional: the first row is one when any of its fields is
    text). A CSV field that is not a finite number is refused naming its line and column, a
    row the csv module cannot read (a field over 128 KiB) naming its line."""
    path = Path(path)
    if path.suffix == ".npz":
        return _features(load_npz(path, ("X",))["X"], path, "X")
    if path.suffix == ".npy":
        X = load_npy(path)
        return _features(X.reshape(1, -1) if X.ndim == 1 else X, path, "the array")
    table = _Rows(path)
    return table.numbers(list(range(table.width)), "feature")


def _features(X: np.ndarray, path: Path, name: str) -> np.ndarray:
    """``X``, the array ``name`` of the file ``path``, if it is a usable feature matrix:
    numbers, 2-D (n_samples, n_features), at least one row and one column, every entry
    finite."""
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: {name} must hold numbers (bool, int or float), "
                         f"got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{path}: {name} must be 2-D (n_samples, n_features), "
                         f"got shape {X.shape}")
    if not len(X):
        raise ValueError(f"{path}: {name} holds no samples (shape {X.shape})")
    if not X.shape[1]:
        raise ValueError(f"{path}: {name} holds no features (shape {X.shape})")
    if not all_finite(X):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValueError(f"{path}: every feature must be a finite number, got {X[index]} at "
                         f"index {index} of {name}")
    return X


def _npz_targets(y: np.ndarray, path: Path, n_samples: int) -> np.ndarray:
    """An .npz's ``y`` if it fits its ``X`` of ``n_samples`` rows: (n_samples,) or
    (n_samples, n_targets) of finite numbers or of strings (class labels); one column
    (n_samples, 1) comes back as (n_samples,)."""
    if y.dtype.kind not in "biufU":
        raise ValueError(f"{path}: y must hold numbers or strings (class labels), "
                         f"got dtype {y.dtype}")
    if y.ndim not in (1, 2) or len(y) != n_samples:
        raise ValueError(f"{path}: y must have one entry (or row) per row of X, shape "
                         f"({n_samples},) or ({n_samples}, n_targets), got shape {y.shape}")
    if not all_finite(y):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
        raise ValueError(f"{path}: every target must be a finite number or a class label, got "
                         f"{y[index]} at index {index} of y")
    return y.reshape(n_samples) if y.ndim == 2 and y.shape[1] == 1 else y


class _Rows:
    """The header (None if absent; see :func:`read_table`) and the data rows of a file, with
    where each row came from.

    ``target``: the target column, whose field may be text in a data row; None when every
    column is a feature.

    A numeric .npy is kept as its ``array`` (``rows`` is then the same array), read as stored:
    through text, an integer above 2**53 would pass through float64 and a bool be the word
    ``'True'``."""

    def __init__(self, path: Path, target: int | str | None = None) -> None:
        self.path = path
        self.header: list[str] | None = None
        self.array: np.ndarray | None = None
        if path.suffix == ".npy":
            array = load_npy(path)
            if array.ndim not in (1, 2) or array.dtype.kind not in "biufU":
                raise ValueError(f"{path} must hold a table: a 2-D array of numbers or strings "
                                 f"(one row per sample), got dtype {array.dtype} and shape "
                                 f"{array.shape}")
            array = np.atleast_2d(array)
            if array.dtype.kind == "U":
                self.rows = array.tolist()
            else:
                self.rows = self.array = array
            self.lines = list(range(1, len(array) + 1))
            self.unit = "row"
        else:
            self.rows, self.lines, self.unit = [], [], "line"
            text = utf8_text(path.read_bytes(), path, "save it as UTF-8 (CSV files are read "
                             "as UTF-8)")
            for line, row in csv_rows(text, path):
                if row:
                    self.rows.append(row)
                    self.lines.append(line)
            if not self.rows:
                raise ValueError(f"{path} is empty")
            if _is_header(self.rows, target):
                self.header = self.rows.pop(0)
                self.lines.pop(0)
        if not len(self.rows):
            header = f" (only a header: {','.join(self.header)})" if self.header else ""
            raise ValueError(f"{path} has no data rows{header}")
        widths = {len(row) for row in self.rows} if self.array is None else {self.array.shape[1]}
        if len(widths) > 1:
            raise ValueError(f"{path}: rows have different numbers of columns {sorted(widths)}")
        self.width = widths.pop()

    def where(self, index: int, column: int) -> str:
        """``"data.csv, line 7, column 3 (label)"``: a field of data row ``index``."""
        name = f" ({self.header[column]})" if self.header else ""
        return f"{self.path}, {self.unit} {self.lines[index]}, column {column + 1}{name}"

    def numbers(self, columns: list[int], what: str) -> np.ndarray:
        """The fields of ``columns`` as float64 (n_rows, len(columns)); a field that is not a
        finite number is refused, naming where it is."""
        if self.array is not None:
            values = self.array[:, columns].astype(np.float64)
            if not all_finite(values):
                index, i = (int(k) for k in np.argwhere(~np.isfinite(values))[0])
                raise ValueError(f"{self.where(index, columns[i])}: every {what} must be a "
                                 f"finite number, got {values[index, i]}")
            return values
        fields = [[row[i] for i in columns] for row in self.rows]
        try:
            values = np.array(fields, dtype=np.float64).reshape(len(fields), len(columns))
        except ValueError:
            values = None
        if values is not None and all_finite(values):
            return values
        for index, row in enumerate(self.rows):  # some field is bad: say which (NumPy reads
            for column in columns:  # a string as float() does, so one of them is found)
                problem = _number_problem(row[column])
                if problem:
                    raise ValueError(f"{self.where(index, column)}: every {what} must be a "
                                     f"finite number, got {problem}")
        raise AssertionError("unreachable: a field NumPy refused passed _number_problem")


def _number_problem(value: str) -> str | None:
    """Why a field is not a finite number (``"an empty field"``, ``"'nan'"``), or None."""
    if not value.strip():
        return "an empty field"
    number = _as_number(value)
    return None if number is not None and math.isfinite(number) else repr(value)


#: The range of whole-number targets.
_INT64 = np.iinfo(np.int64)


def _labels(table: _Rows, column: int) -> np.ndarray:
    """The target column: numbers when every field is one, else the strings (class labels);
    numbers are int64 when all are whole, read exactly (:func:`_whole_targets`), else float64.
    A blank field, or a non-finite number, is refused."""
    if table.array is not None:
        return _npy_labels(table.array[:, column], table, column)
    raw = [row[column] for row in table.rows]
    for index, value in enumerate(raw):
        if not value.strip():
            raise ValueError(f"{table.where(index, column)}: the target is missing (an empty "
                             "field); every row needs one")
    try:
        y = np.array(raw, dtype=np.float64)
    except ValueError:
        return np.array(raw)  # string class labels
    if not all_finite(y):
        index = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"{table.where(index, column)}: the target must be a finite number or "
                         f"a class label, got {raw[index]!r}")
    if not np.all(y == np.round(y)):
        return y
    try:
        return np.array(raw, dtype=np.int64)  # whole numbers written as such: read exactly
    except (ValueError, OverflowError):  # written as floats ("3.0", "1e3"), or beyond int64
        exact = [Decimal(value) for value in raw]
    if any(value != value.to_integral_value() for value in exact):
        return y  # a fraction that float64 rounds away ("0.99999999999999999999")
    return _whole_targets([int(value) for value in exact], y, table, column)


def _npy_labels(y: np.ndarray, table: _Rows, column: int) -> np.ndarray:
    """``y``, the target column of a numeric .npy, as stored: bools stay bools (as an .npz's
    do), integers are int64 and floats float64, or int64 when all are whole, as in a CSV."""
    if y.dtype.kind == "b":
        return y.copy()
    if y.dtype.kind == "f":
        if not all_finite(y):
            index = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(f"{table.where(index, column)}: the target must be a finite number "
                             f"or a class label, got {y[index]}")
        if np.all(y == np.round(y)) and -(2.0**63) <= y.min() and y.max() < 2.0**63:
            return y.astype(np.int64)
        return y.astype(np.float64)  # a fraction, or floats beyond int64: float64 holds them
    if y.dtype.kind == "i" or y.max() <= _INT64.max:
        return y.astype(np.int64)
    return _whole_targets(y.tolist(), y.astype(np.float64), table, column)  # uint64 above int64


def _whole_targets(values: list[int], floats: np.ndarray, table: _Rows,
                   column: int) -> np.ndarray:
    """Whole-number targets ``values`` (read exactly; ``floats``: as float64), kept exactly:
    int64 when every one fits, else float64 when it holds every one exactly (``1e20``); else
    refused, naming one beyond int64 and one float64 would round."""
    beyond = [i for i, value in enumerate(values) if not _INT64.min <= value <= _INT64.max]
    if not beyond:
        return np.array(values, dtype=np.int64)
    rounded = [i for i, value in enumerate(values) if int(floats[i]) != value]
    if not rounded:
        return floats
    big, changed = beyond[0], rounded[0]
    which = "it" if changed == big else f"{values[changed]} ({table.unit} {table.lines[changed]})"
    raise ValueError(f"{table.where(big, column)}: the whole-number target {values[big]} is "
                     f"beyond int64 (-2**63 to 2**63 - 1), and float64 would round {which} to "
                     f"{floats[changed]:.0f}: whole-number targets are kept exactly or "
                     "refused; to use such numbers as class labels, make them text (e.g. a "
                     "letter before each)")


def _is_header(rows: list[list[str]], target: int | str | None) -> bool:
    """Whether ``rows[0]`` names the columns (the rule is in :func:`read_table`)."""
    first = rows[0]
    text = [_is_text(value) for value in first]
    if not any(text):
        return False
    if not isinstance(target, int) or not -len(first) <= target < len(first):
        return True  # no text data field is expected (or a name is: target is a name)
    column = target % len(first)
    if any(is_text for i, is_text in enumerate(text) if i != column):
        return True
    second = rows[1] if len(rows) > 1 else []
    return column < len(second) and not _is_text(second[column])


def _is_text(value: str) -> bool:
    """A field that is neither a number nor empty (a missing value)."""
    return bool(value.strip()) and _as_number(value) is None


def _as_number(value: str) -> float | None:
    """The field as Python's ``float`` reads it (``" 1e3 "``, ``"nan"``, ``"-inf"``), or None."""
    try:
        return float(value)
    except ValueError:
        return None


def _target_column(target: int | str, header: list[str] | None, width: int, path: Path,
                   key: str) -> int:
    if isinstance(target, str):
        if header is None or target not in header:
            raise ConfigError(f"{key}: no column {target!r} in {path} (header: {header})")
        return header.index(target)
    if not -width <= target < width:
        raise ConfigError(f"{key}: column {target} does not exist in {path} ({width} columns)")
    return target % width


def write_table(path: str | Path, values: np.ndarray, header: list[str] | None = None) -> None:
    """Write predictions as .npy or .csv (by extension), atomically: a failed write leaves an
    earlier file at ``path`` as it was, and its ``OSError`` names ``path``."""
    if Path(path).suffix == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, values, allow_pickle=False)
        write_atomically(path, buffer.getvalue())
        return
    rows = values.reshape(len(values), -1).tolist()
    write_csv(path, [header, *rows] if header else rows)


def write_csv(path: str | Path, rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (a header row, if any, first) as a UTF-8 CSV file, atomically (see
    :func:`chainrule._atomic.write_atomically`)."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    write_atomically(path, text.getvalue().encode("utf-8"))
