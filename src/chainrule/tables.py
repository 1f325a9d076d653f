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
import itertools
import math
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ._atomic import write_atomically
from ._numpy_files import load_npy, load_npz
from ._validation import all_finite, csv_rows, utf8_text
from .config import ConfigError


def read_table(path: str | Path, target: int | str = -1, *,
               target_key: str = "data.target") -> tuple[np.ndarray, np.ndarray]:
    """Features and targets from a .csv, .npz (arrays X, y) or .npy file (the ``target``
    column is y); the suffix may be in any case (``.NPZ``), any other is read as CSV.

    A CSV's first row is a header when it names the columns: when a feature field of it (any
    field but the target's) is text, or when only its target field is text and the next row's
    target is a number. So a headerless file with text class labels keeps its first row; a
    header of numeric names over text labels (``1,2,label`` then ``0.5,0.1,cat``) is the one
    layout read wrongly (as a first sample of class "label"). A ``target`` given by name
    needs the header. ``target_key`` is how the caller names ``target`` in messages (the
    config key, or a command-line option).

    The targets are numbers when every one is, else strings (class labels). Numbers are int64
    when all are whole, read exactly (not through float64: 10000000000000001 stays itself),
    else float64 (as Python's ``float`` reads them). Beyond int64, a number written as a float
    (``1e30``, ``2.0e19``) makes the targets float64, as it reads; integers written out in
    digits are float64 when it holds each exactly, else refused naming the file, line and
    value (they would be rounded: write class labels that large as text). A numeric .npy is read as stored, not as text: its features become float64 and its target
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
    if file_suffix(path) == ".npz":
        arrays = load_npz(path, ("X", "y"))
        X = _features(arrays["X"], path, "X")
        return X, _npz_targets(arrays["y"], path, len(X))
    table = _Table(path, target, target_key)
    return table.X, table.y


def read_features(path: str | Path) -> np.ndarray:
    """A 2-D array of features from a .npy file, an .npz (its array ``X``; a ``y`` is not
    read) or a numeric .csv (header optional: the first row is one when any of its fields is
    text). A CSV field that is not a finite number is refused naming its line and column, a
    row the csv module cannot read (a field over 128 KiB) naming its line."""
    path = Path(path)
    if file_suffix(path) == ".npz":
        return _features(load_npz(path, ("X",))["X"], path, "X")
    if file_suffix(path) == ".npy":
        X = load_npy(path)
        return _features(X.reshape(1, -1) if X.ndim == 1 else X, path, "the array")
    return _Table(path).X


def file_suffix(path: str | Path) -> str:
    """The suffix that names ``path``'s format, in lower case (``".npz"`` for ``T.NPZ``): a
    suffix's case does not change what a file holds, and Windows tools write ``.CSV``."""
    return Path(path).suffix.lower()


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


#: About how many fields of a CSV are parsed at a time: only that chunk of rows is held as
#: Python strings (some 60 bytes a field), the rest of the table as float64 (8 bytes a field).
_CHUNK_FIELDS = 1 << 14


class _Table:
    """A table file read (see :func:`read_table`): its ``header`` (None if absent), ``width``,
    the features ``X`` (float64, every column but the target's) and the targets ``y`` (None
    when every column is a feature: ``target`` None).

    A CSV (or an .npy of strings) is read in chunks of rows, each chunk's fields converted as
    it is read, so that only one chunk is held as Python strings. A CSV's chunk is mostly held
    as its lines, its features parsed by NumPy's reader in C, and split into a Python string a
    field only where that reader refuses one (see :class:`_Chunk`). Where a row came from is
    looked for only when a message needs it, by reading the file again (:meth:`line`).

    A numeric .npy is read as stored: through text, an integer above 2**53 would pass through
    float64 and a bool be the word ``'True'``.

    Errors come in the same order whatever the size of the file: one that needs every row (not
    UTF-8, a row the csv module cannot read, rows of different widths) before a ``target`` that
    names no column, then a bad target (the first in the file), then a bad feature.
    """

    def __init__(self, path: Path, target: int | str | None = None,
                 key: str = "data.target") -> None:
        self.path = path
        self.header: list[str] | None = None
        self.unit = "row" if file_suffix(path) == ".npy" else "line"
        if file_suffix(path) == ".npy":
            array = load_npy(path)
            if array.ndim not in (1, 2) or array.dtype.kind not in "biufU":
                raise ValueError(f"{path} must hold a table: a 2-D array of numbers or strings "
                                 f"(one row per sample), got dtype {array.dtype} and shape "
                                 f"{array.shape}")
            self.strings = np.atleast_2d(array)
            if self.strings.dtype.kind != "U":
                self._read_numbers(self.strings, target, key)
            else:
                self._read(_RowChunks(self._rows()), target, key)
            return
        try:
            with open(path, encoding="utf-8-sig", newline="") as file:
                self._read(_CsvChunks(file), target, key)
        except (UnicodeDecodeError, csv.Error):
            _explain_unreadable(path)
            raise

    def _read_numbers(self, array: np.ndarray, target: int | str | None, key: str) -> None:
        """A numeric .npy: X a float64 copy of its feature columns, y its target column."""
        if not len(array):
            raise ValueError(f"{self.path} has no data rows")
        self.width = array.shape[1]
        columns = range(self.width)
        if target is not None:
            column = self._column(target, key)
            columns = range(1, self.width) if column == 0 else (
                range(column) if column == self.width - 1 else
                [i for i in columns if i != column])
            self.y = _npy_labels(array[:, column], self, column)
        # one copy of X: contiguous columns are sliced (a view, copied by astype), a target in
        # the middle is left out by fancy indexing (a copy, kept when already float64)
        sliced = isinstance(columns, range)
        picked = array[:, columns.start:columns.stop] if sliced else array[:, columns]
        self.X = picked.astype(np.float64, copy=sliced)
        if not all_finite(self.X):
            index, i = (int(k) for k in np.argwhere(~np.isfinite(self.X))[0])
            raise ValueError(f"{self.where(index, columns[i])}: every feature must be a finite "
                             f"number, got {self.X[index, i]}")

    def _read(self, source: _RowChunks, target: int | str | None, key: str) -> None:
        """Read the data rows of ``source`` (a CSV's not yet past its header) in chunks; see
        the class."""
        first = source.first(2)
        if self.unit == "line":
            if not first:
                raise ValueError(f"{self.path} is empty")
            if _is_header(first, target):
                self.header = first.pop(0)
        if not first:
            header = f" (only a header: {','.join(self.header)})" if self.header else ""
            raise ValueError(f"{self.path} has no data rows{header}")
        self.width = len(first[0])
        if self.header is not None and len(self.header) != self.width:  # names for which columns?
            raise ValueError(f"{self.path}: the header has {len(self.header)} columns but the "
                             f"rows have {self.width}")
        column, refusal = None, None
        if target is not None:
            try:  # a target that fits no column is said once every row's width is known
                column = self._column(target, key)
            except ValueError as exc:
                refusal = exc
        features = _FeatureChunks([i for i in range(self.width) if i != column], self.width)
        targets = None if column is None else _TargetChunks(column)
        widths: set[int] = set()
        size, start = max(1, _CHUNK_FIELDS // max(self.width, 1)), 0
        for chunk in itertools.chain([_Chunk(first)], source.chunks(size)):
            widths.update(chunk.widths())
            if len(widths) == 1 and refusal is None:
                if targets is not None:
                    targets.add(chunk.column(column, self.width), start)
                features.add(chunk, start)
            start += len(chunk)
        if len(widths) > 1:
            raise ValueError(f"{self.path}: rows have different numbers of columns "
                             f"{sorted(widths)}")
        if refusal is not None:
            raise refusal
        if targets is not None:
            self.y = targets.result(self)
        self.X = features.result(self)

    def _column(self, target: int | str, key: str) -> int:
        """The index of the ``target`` column; a table of that column alone is refused."""
        column = _target_column(target, self.header, self.width, self.path, key)
        if self.width == 1:
            hint = "" if self.unit == "row" else (
                "; are its fields separated by something other than commas (such as ';' or "
                "tabs)? Save it comma-separated")
            raise ValueError(f"{self.path} has one column, the target: no feature to learn "
                             f"from{hint}")
        return column

    def _rows(self) -> Iterator[list[str]]:
        """The data rows again, for an .npy of strings, a chunk of Python strings at a time."""
        size = max(1, _CHUNK_FIELDS // max(self.strings.shape[1], 1))
        return itertools.chain.from_iterable(
            self.strings[start:start + size].tolist()
            for start in range(0, len(self.strings), size))

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        """The data rows again, each with its line (a CSV's) or row (an .npy's), counted from 1:
        for messages, read again rather than kept."""
        if self.unit == "row":
            yield from enumerate(self._rows(), 1)
            return
        with open(self.path, encoding="utf-8-sig", newline="") as file:
            rows = ((line, row) for line, row in csv_rows(file, self.path) if row)
            if self.header is not None:
                next(rows)
            yield from rows

    def line(self, index: int) -> int:
        """The line (or .npy row) of data row ``index``."""
        if self.unit == "row":
            return index + 1
        return next(itertools.islice(self.numbered_rows(), index, None))[0]

    def where(self, index: int, column: int) -> str:
        """``"data.csv, line 7, column 3 (label)"``: a field of data row ``index``."""
        name = f" ({self.header[column]})" if self.header else ""
        return f"{self.path}, {self.unit} {self.line(index)}, column {column + 1}{name}"


def _explain_unreadable(path: Path) -> None:
    """Raise what makes the CSV ``path`` unreadable as a whole: not UTF-8 (said first, wherever
    it is), else the first row the csv module cannot read (naming the line where it begins)."""
    text = utf8_text(path.read_bytes(), path, "save it as UTF-8 (CSV files are read as UTF-8)")
    for _ in csv_rows(text, path):
        pass


class _Chunk:
    """A chunk of a table's data rows: the fields of each (``rows``), or the ``lines`` of a CSV
    that :func:`_splittable` allows, split only where needed. The csv module reads each such
    line as ``line.split(",")`` without its line end, so a chunk's features are parsed by one
    call to NumPy's reader, not made into a Python string a field."""

    def __init__(self, rows: list[list[str]] | None = None, *,
                 lines: list[str] | None = None) -> None:
        self._rows = rows
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines if self.lines is not None else self._rows)

    @property
    def rows(self) -> list[list[str]]:
        """The fields of each row (a chunk of lines is read by the csv module when this is
        first asked for: where its numbers are not all NumPy's)."""
        if self._rows is None:
            self._rows = list(csv.reader(self.lines))
        return self._rows

    def widths(self) -> set[int]:
        """The numbers of fields of the rows."""
        if self.lines is None:
            return set(map(len, self._rows))
        return {commas + 1 for commas in set(map(str.count, self.lines, itertools.repeat(",")))}

    def column(self, index: int, width: int) -> list[str]:
        """The fields in column ``index`` of rows of ``width`` fields."""
        if self.lines is None:
            return list(map(operator.itemgetter(index), self._rows))
        if index == width - 1:  # the line's last field: its end is cut off, not every comma
            return [line.rpartition(",")[2].rstrip("\r\n") for line in self.lines]
        return [line.split(",", index + 1)[index] for line in self.lines]


class _RowChunks:
    """Rows (lists of fields) from an iterator of them, the first few then chunks."""

    def __init__(self, rows: Iterator[list[str]]) -> None:
        self.rows = rows

    def first(self, count: int) -> list[list[str]]:
        """The next ``count`` rows (fewer at the end)."""
        return list(itertools.islice(self.rows, count))

    def chunks(self, size: int) -> Iterator[_Chunk]:
        """The remaining rows, ``size`` at a time."""
        while rows := list(itertools.islice(self.rows, size)):
            yield _Chunk(rows)


class _CsvChunks(_RowChunks):
    """The rows of an open CSV ``file`` (blank lines left out): the first few read by the csv
    module, then chunks of lines while :func:`_splittable` allows them, and from the first
    chunk it does not, rows read by the csv module again. (The csv module takes one line at a
    time from the file, as its rows need them, so no line is read twice or skipped.)"""

    def __init__(self, file: TextIO) -> None:
        self.lines = iter(file)
        super().__init__(filter(None, csv.reader(self.lines)))

    def chunks(self, size: int) -> Iterator[_Chunk]:
        while lines := list(itertools.islice(self.lines, size)):
            if not _splittable(lines):  # the lines before had no quote: a row begins here
                self.rows = filter(None, csv.reader(itertools.chain(lines, self.lines)))
                break
            # A blank line ("\n", "\r\n" or "\r": the file's lines end at each) is no row
            if data := [line for line in lines if line[0] not in "\r\n"]:
                yield _Chunk(lines=data)
        yield from super().chunks(size)


#: What keeps lines from being split at commas and parsed by NumPy (see :func:`_splittable`):
#: a quote, and the ASCII separators that NumPy's reader strips from around a number as
#: spaces where ``float`` refuses the field ("\x1c3" would be 3.0).
_UNSPLITTABLE = '"\x1c\x1d\x1e\x1f'


def _splittable(lines: list[str]) -> bool:
    """Whether the csv module reads each of the CSV ``lines`` as ``line.split(",")`` without
    its line end, and NumPy's reader reads each field of them as ``float`` does or refuses it
    (it refuses some ``float`` reads: ``"1_000"``, digits beyond ASCII): no quote (a quoted
    field may hold commas and line ends), no line longer than the csv module's field limit
    (it refuses a longer field), none of :data:`_UNSPLITTABLE`."""
    text = "".join(lines)
    return (max(map(len, lines)) <= csv.field_size_limit()
            and not any(char in text for char in _UNSPLITTABLE))


class _FeatureChunks:
    """The ``columns`` of a table's rows as float64, a chunk of rows at a time; the first field
    that is not a finite number is kept to be refused, naming where it is."""

    def __init__(self, columns: list[int], width: int) -> None:
        self.columns = columns
        # rows as they are, or each row's features picked out at C speed
        self.pick = None if len(columns) == width else operator.itemgetter(*columns)
        self.blocks: list[np.ndarray] = []
        self.bad: tuple[int, int, str] | None = None  # (data row, column, what it holds)

    def add(self, chunk: _Chunk, start: int) -> None:
        """Convert the rows of ``chunk``, data rows ``start`` on."""
        if self.bad is not None:
            return
        values = None if chunk.lines is None else self._parse(chunk.lines)
        if values is None:
            values = self._convert(chunk.rows)
        if values is not None and all_finite(values):
            self.blocks.append(values)
            return
        self.bad = next((start + index, column, problem) for index, row in enumerate(chunk.rows)
                        for column in self.columns
                        if (problem := _number_problem(row[column])) is not None)
        self.blocks = []

    def _parse(self, lines: list[str]) -> np.ndarray | None:
        """The features of the CSV ``lines`` (see :class:`_Chunk`) as NumPy's reader parses
        them, or None where it refuses a field: it reads a number as ``float`` does, but not
        every number ``float`` reads, so :meth:`_convert` decides."""
        try:  # a row a line: it skips blank lines alone, and these have none
            return np.loadtxt(lines, dtype=np.float64, delimiter=",", comments=None,
                              quotechar=None, ndmin=2,
                              usecols=None if self.pick is None else self.columns)
        except ValueError:
            return None

    def _convert(self, rows: list[list[str]]) -> np.ndarray | None:
        """The features of ``rows`` as float64, or None if one is not a number."""
        fields = rows if self.pick is None else list(map(self.pick, rows))
        try:  # NumPy reads a string as float() does, so _number_problem finds why it refused
            return np.array(fields, dtype=np.float64).reshape(len(rows), len(self.columns))
        except ValueError:
            return None

    def result(self, table: _Table) -> np.ndarray:
        """The features (n_rows, len(columns)), or the first bad one refused."""
        if self.bad is not None:
            index, column, problem = self.bad
            raise ValueError(f"{table.where(index, column)}: every feature must be a finite "
                             f"number, got {problem}")
        return np.concatenate(self.blocks)


def _number_problem(value: str) -> str | None:
    """Why a field is not a finite number (``"an empty field"``, ``"'nan'"``), or None."""
    if not value.strip():
        return "an empty field"
    number = _as_number(value)
    return None if number is not None and math.isfinite(number) else repr(value)


#: An integer written out in digits (not as a float: "3.0", "1e3").
_DIGITS = re.compile(r"[+-]?[0-9]+")

#: The range of whole-number targets.
_INT64 = np.iinfo(np.int64)


class _TargetChunks:
    """The target ``column`` of a table's rows, a chunk at a time: numbers when every field is
    one, else the strings (class labels); numbers are int64 when all are whole, read exactly
    (:func:`_whole_targets`), else float64. A blank field, or a non-finite number, is refused.

    For each chunk its float64 values are kept, and while every number is whole their exact
    values (int64, or Python ints for whole numbers int64 cannot parse: ``"3.0"``, beyond
    int64); once a field is text, the strings instead."""

    def __init__(self, column: int) -> None:
        self.pick = operator.itemgetter(column)
        self.column = column
        self.count = 0  # data rows added
        self.floats: list[np.ndarray] = []
        self.exact: list[np.ndarray | list[int]] | None = []  # None: a fraction was seen
        self.strings: list[np.ndarray] | None = None  # from the chunk where text was seen
        self.text_from = 0  # the data row where self.strings begin
        self.blank: int | None = None  # the first data row whose target is blank
        self.nonfinite: tuple[int, str] | None = None  # the first non-finite: row, field

    def add(self, raw: list[str], start: int) -> None:
        """Take the targets ``raw`` (the fields of the column), data rows ``start`` on."""
        self.count += len(raw)
        if self.blank is not None:
            return  # refused whatever follows
        if self.strings is None:
            try:
                floats = np.array(raw, dtype=np.float64)
            except ValueError:  # text (or a blank field): class labels from here on
                self.strings, self.text_from = [], start
                self.floats, self.exact = [], None
            else:
                self._numbers(raw, floats, start)
                return
        blank = next((i for i, value in enumerate(raw) if not value.strip()), None)
        if blank is not None:
            self.blank, self.strings = start + blank, []
            return
        self.strings.append(np.array(raw))

    def _numbers(self, raw: list[str], floats: np.ndarray, start: int) -> None:
        """Keep a chunk of numeric targets: ``raw`` fields, read as ``floats``."""
        self.floats.append(floats)
        if self.nonfinite is None and not all_finite(floats):
            index = int(np.flatnonzero(~np.isfinite(floats))[0])
            self.nonfinite = (start + index, raw[index])
        if self.exact is None or self.nonfinite is not None:
            return  # float64 targets, or refused
        if not np.all(floats == np.round(floats)):
            self.exact = None
            return
        try:
            self.exact.append(np.array(raw, dtype=np.int64))  # whole numbers read exactly
        except (ValueError, OverflowError):  # written as floats ("3.0", "1e3"), or beyond int64
            exact = [Decimal(value) for value in raw]
            if any(value != value.to_integral_value() or (
                    not _INT64.min <= value <= _INT64.max and not _DIGITS.fullmatch(text.strip()))
                   for value, text in zip(exact, raw)):
                # a fraction that float64 rounds ("0.99999999999999999999"), or a float beyond
                # int64 ("1e30"): float64 targets, as written
                self.exact = None
            else:
                self.exact.append([int(value) for value in exact])

    def result(self, table: _Table) -> np.ndarray:
        """The targets, or the first blank one (else the first non-finite number) refused."""
        if self.blank is not None:
            raise ValueError(f"{table.where(self.blank, self.column)}: the target is missing "
                             "(an empty field); every row needs one")
        if self.strings is not None:  # string class labels; the rows before read again
            before = [self.pick(row) for _, row in itertools.islice(table.numbered_rows(),
                                                                    self.text_from)]
            return np.concatenate([np.array(before), *self.strings]) if before else (
                np.concatenate(self.strings))
        if self.nonfinite is not None:
            index, value = self.nonfinite
            raise ValueError(f"{table.where(index, self.column)}: the target must be a finite "
                             f"number or a class label, got {value!r}")
        floats = np.concatenate(self.floats)
        if self.exact is None:
            return floats
        if all(isinstance(part, np.ndarray) for part in self.exact):
            return np.concatenate(self.exact)
        values = [value for part in self.exact for value in
                  (part.tolist() if isinstance(part, np.ndarray) else part)]
        return _whole_targets(values, floats, table, self.column)


def _npy_labels(y: np.ndarray, table: _Table, column: int) -> np.ndarray:
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


def _whole_targets(values: list[int], floats: np.ndarray, table: _Table,
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
    which = "it" if changed == big else f"{values[changed]} ({table.unit} {table.line(changed)})"
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
    earlier file at ``path`` as it was, and its ``OSError`` names ``path``; a device or named
    pipe (``/dev/stdout``) is written in place, never replaced by a file. A CSV is written a
    chunk of rows at a time (:func:`write_csv`), never held whole as text."""
    if file_suffix(path) == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, values, allow_pickle=False)
        write_atomically(path, buffer.getvalue())
        return
    table = values.reshape(len(values), -1)
    size = max(1, _CHUNK_FIELDS // max(table.shape[1], 1))
    rows = itertools.chain.from_iterable(  # as Python numbers a chunk at a time
        table[start:start + size].tolist() for start in range(0, len(table), size))
    write_csv(path, itertools.chain([header], rows) if header else rows)


def write_csv(path: str | Path, rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (a header row, if any, first) as a UTF-8 CSV file, atomically (see
    :func:`chainrule._atomic.write_atomically`), encoding them a chunk at a time as they are
    written."""
    write_atomically(path, _csv_bytes(iter(rows)))


def _csv_bytes(rows: Iterator[Sequence[Any]]) -> Iterator[bytes]:
    """``rows`` as CSV text encoded in UTF-8, in parts of about :data:`_CHUNK_FIELDS` fields."""
    first = next(rows, None)
    if first is None:
        return
    size = max(1, _CHUNK_FIELDS // max(len(first), 1))
    rows = itertools.chain([first], rows)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    while chunk := list(itertools.islice(rows, size)):
        writer.writerows(chunk)
        yield text.getvalue().encode("utf-8")
        text.seek(0)
        text.truncate()
