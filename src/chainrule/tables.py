"""Tables of numbers in files: features and targets read from .csv, .npz or .npy, results
written as .csv or .npy (what ``chainrule train`` with ``data.dataset = "files"``,
``chainrule evaluate`` and ``chainrule predict`` read and write)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .config import ConfigError


def read_table(path: str | Path, target: int | str = -1) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets from a .csv, .npz (arrays X, y) or .npy file (the ``target``
    column is y).

    A CSV's first row is a header when it names the columns: when a feature field of it (any
    field but the target's) is text, or when only its target field is text and the next row's
    target is a number. So a headerless file with text class labels keeps its first row; a
    header of numeric names over text labels (``1,2,label`` then ``0.5,0.1,cat``) is the one
    layout read wrongly (as a first sample of class "label"). A ``target`` given by name
    needs the header.
    """
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive or "y" not in archive:
                raise ValueError(f"{path} must hold arrays named X and y, has {archive.files}")
            return archive["X"], archive["y"]
    header, rows = _read_rows(path, target)
    column = _target_column(target, header, len(rows[0]) if rows else 0, path)
    y = np.array([row[column] for row in rows])
    features = [[value for i, value in enumerate(row) if i != column] for row in rows]
    try:
        X = np.array(features, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{path}: every feature column must be numeric") from None
    try:
        y = y.astype(np.float64)
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
    except ValueError:
        pass  # string class labels
    return X, y


def read_features(path: str | Path) -> np.ndarray:
    """A 2-D array of features from a .npy file or a numeric .csv (header optional: the first
    row is one when any of its fields is text)."""
    path = Path(path)
    if path.suffix == ".npy":
        X = np.load(path, allow_pickle=False)
        return X.reshape(1, -1) if X.ndim == 1 else X
    _, rows = _read_rows(path)
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{path}: every column must be numeric") from None


def _read_rows(path: Path, target: int | str | None = None) -> tuple[list[str] | None, list[list[str]]]:
    """The header (None if absent; see :func:`read_table`) and the data rows of a file.

    ``target``: the target column, whose field may be text in a data row; None when every
    column is a feature."""
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        return None, [[str(v) for v in row] for row in np.atleast_2d(array)]
    with open(path, newline="", encoding="utf-8") as file:
        rows = [row for row in csv.reader(file) if row]
    if not rows:
        raise ValueError(f"{path} is empty")
    header = None
    if _is_header(rows, target):
        header, rows = rows[0], rows[1:]
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(f"{path}: rows have different numbers of columns {sorted(widths)}")
    return header, rows


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
    if not value.strip():
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def _target_column(target: int | str, header: list[str] | None, width: int, path: Path) -> int:
    if isinstance(target, str):
        if header is None or target not in header:
            raise ConfigError(f"data.target: no column {target!r} in {path} (header: {header})")
        return header.index(target)
    if not -width <= target < width:
        raise ConfigError(f"data.target: column {target} does not exist in {path} ({width} columns)")
    return target % width


def write_table(path: str | Path, values: np.ndarray, header: list[str] | None = None) -> None:
    """Write predictions as .npy or .csv (by extension)."""
    path = Path(path)
    if path.suffix == ".npy":
        np.save(path, values, allow_pickle=False)
        return
    values = values.reshape(len(values), -1)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        if header:
            writer.writerow(header)
        writer.writerows(values.tolist())
