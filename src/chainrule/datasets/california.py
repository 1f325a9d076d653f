"""California housing: the 1990 census block groups of Pace and Barry (1997), a regression task.

Two layouts of the same 20,640 rows are read:

``"statlib"``: ``california_housing/cal_housing.data``
    The original StatLib file: no header, 9 comma-separated numbers per row: longitude, latitude,
    housingMedianAge, totalRooms, totalBedrooms, population, households, medianIncome,
    medianHouseValue. No missing values.
``"csv"``: ``california_housing/housing.csv``
    Aurélien Géron's version (*Hands-On Machine Learning*): a header, the same 9 columns in the
    same order (snake_case names), 207 deliberately blank ``total_bedrooms`` fields, and a text
    column ``ocean_proximity``.

Features (``derived=True``, the 8 features of scikit-learn's ``fetch_california_housing``)::

    MedInc     = median_income                  (tens of thousands of dollars)
    HouseAge   = housing_median_age
    AveRooms   = total_rooms    / households    (rooms per household)
    AveBedrms  = total_bedrooms / households
    Population = population
    AveOccup   = population     / households    (people per household)
    Latitude   = latitude
    Longitude  = longitude
    target MedHouseVal = median_house_value / 100,000   (units of $100,000)

With ``derived=False`` the 8 numeric columns are returned as in the file (in file order, with
the csv layout's names) and the target in dollars.

Blank ``total_bedrooms`` (csv layout only) are imputed: a blank becomes
``households * median(total_bedrooms / households)``, the median taken over the file's complete
rows, so that a derived ``AveBedrms`` of an imputed row equals that median. The ratio, not the
raw count, is imputed because counts scale with the size of the district. ``imputed`` marks
those rows. ``ocean_proximity`` is not a feature (the StatLib layout has no such column, and both
layouts give the same ``X``); it is returned as a separate array of strings for the csv layout.

The file read must be the one of the catalog (:mod:`chainrule.datasets.catalog`): its size and
SHA-256 are checked on every load, after the rows are read (so that a file broken in a way the
reader sees is refused naming the line). A truncated copy would otherwise load as a smaller
table, its last value perhaps cut short; hashing the 1.4-2 MB costs about a millisecond, against
tens (StatLib) to hundreds (csv) of milliseconds of parsing.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_bool, check_choice, csv_rows, utf8_text
from .catalog import catalog_file, locate_file

__all__ = ["CaliforniaHousing", "load_california_housing"]

_STATLIB = "california_housing/cal_housing.data"
_CSV = "california_housing/housing.csv"
RAW_COLUMNS = (
    "longitude",
    "latitude",
    "housing_median_age",
    "total_rooms",
    "total_bedrooms",
    "population",
    "households",
    "median_income",
)
TARGET_COLUMN = "median_house_value"
_CSV_HEADER = (*RAW_COLUMNS, TARGET_COLUMN, "ocean_proximity")
_BEDROOMS = RAW_COLUMNS.index("total_bedrooms")
DERIVED_NAMES = (
    "MedInc",
    "HouseAge",
    "AveRooms",
    "AveBedrms",
    "Population",
    "AveOccup",
    "Latitude",
    "Longitude",
)
DERIVED_TARGET = "MedHouseVal"
TARGET_UNIT = 100_000.0


@dataclass(frozen=True, eq=False)
class CaliforniaHousing:
    """The loaded data; unpacks as ``X, y, feature_names = load_california_housing()``.

    Attributes
    ----------
    X : ndarray of shape (n_samples, 8), float64
    y : ndarray of shape (n_samples,), float64
    feature_names : tuple of str, length 8
    target_name : str
        ``"MedHouseVal"`` ($100,000) when derived, else ``"median_house_value"`` (dollars).
    layout : str
        ``"statlib"`` or ``"csv"``: the file that was read.
    imputed : ndarray of shape (n_samples,), bool
        Rows whose blank ``total_bedrooms`` was imputed (never any for ``"statlib"``).
    ocean_proximity : ndarray of shape (n_samples,), str, or None
        The csv layout's text column (``"NEAR BAY"``, ``"INLAND"``, ...); ``None`` for statlib.
    path : pathlib.Path
        The file read.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str
    layout: str
    imputed: np.ndarray
    ocean_proximity: np.ndarray | None
    path: Path

    def __iter__(self) -> Any:
        return iter((self.X, self.y, self.feature_names))


def load_california_housing(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    layout: str = "auto",
    derived: bool = True,
) -> CaliforniaHousing:
    """California housing: 20,640 districts, 8 features, median house value as target.

    See the module docstring for the two layouts, the feature formulas and how blanks are
    handled.

    Parameters
    ----------
    data_dir : str, path-like or None
        Folder holding ``california_housing/`` (default: ``$CHAINRULE_DATA``, then the cache).
    download : bool, default True
        Download ``housing.csv`` into the cache when it is needed and missing (the StatLib file
        has no direct download).
    layout : {"auto", "statlib", "csv"}, default "auto"
        Which file to read; ``"auto"`` prefers ``cal_housing.data`` when present (it has no
        blanks), else ``housing.csv``.
    derived : bool, default True
        scikit-learn's per-household features and the target in $100,000, or the raw columns.

    Returns
    -------
    CaliforniaHousing
        ``X`` (n_samples, 8) float64, ``y`` (n_samples,) float64, ``feature_names`` and more;
        unpacks as ``X, y, feature_names``.

    Raises
    ------
    DataNotFoundError
        A ``FileNotFoundError``: the chosen file is missing (and cannot or may not be
        downloaded).
    ValueError
        Bad ``layout``, or a damaged file: the message names the file and the line, or, for a
        file that reads but is not the catalog's (truncated, damaged, edited: another size or
        SHA-256), the sizes and what to do.
    """
    check_choice(layout, "layout", ("auto", "statlib", "csv"))
    derived = check_bool(derived, "derived")
    if layout == "auto":
        try:
            path, layout = locate_file(_STATLIB, data_dir, download=False), "statlib"
        except FileNotFoundError:
            path, layout = locate_file(_CSV, data_dir, download=download), "csv"
    else:
        path = locate_file(_STATLIB if layout == "statlib" else _CSV, data_dir, download=download)
    content = path.read_bytes()
    if layout == "statlib":
        table, ocean = _read_statlib(path, _text(path, content)), None
    else:
        table, ocean = _read_csv(path, _text(path, content))
    if (table[:, RAW_COLUMNS.index("households")] <= 0).any():
        raise ValueError(f"{path}: households must be positive in every row")
    imputed = np.isnan(table[:, _BEDROOMS])
    if imputed.all():
        raise ValueError(f"{path}: total_bedrooms is blank in every row, nothing to impute from")
    _check_official(path, content, len(table), layout)
    raw = _impute_bedrooms(table[:, :8], imputed)
    if derived:
        X, y = _derive(raw), table[:, 8] / TARGET_UNIT
        names, target = DERIVED_NAMES, DERIVED_TARGET
    else:
        X, y, names, target = raw, table[:, 8].copy(), RAW_COLUMNS, TARGET_COLUMN
    return CaliforniaHousing(X, y, names, target, layout, imputed, ocean, path)


def _read_statlib(path: Path, text: str) -> np.ndarray:
    """``cal_housing.data`` (``text``) as a (n_samples, 9) float64 table; no missing values
    allowed."""
    if not text.strip():
        raise ValueError(f"{path}: the file is empty, expected rows of 9 numbers")
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: not a StatLib cal_housing.data file ({exc})") from None
    if table.shape[1] != 9:
        raise ValueError(f"{path}: expected rows of 9 numbers, got a table of shape {table.shape}")
    if not np.isfinite(table).all():
        row = int(np.argwhere(~np.isfinite(table))[0, 0]) + 1
        raise ValueError(f"{path}: non-finite value on line {row}")
    return table


def _read_csv(path: Path, text: str) -> tuple[np.ndarray, np.ndarray]:
    """``housing.csv`` (``text``) as a (n_samples, 9) float64 table (blanks as NaN) and the text
    column."""
    rows, ocean = [], []
    lines = csv_rows(text, path)
    header = tuple(next(lines, (1, []))[1])
    if header != _CSV_HEADER:
        raise ValueError(f"{path}: expected the header {','.join(_CSV_HEADER)}, got {header}")
    for line, fields in lines:
        if not fields:  # a blank line (as the StatLib reader, np.loadtxt, skips them)
            continue
        if len(fields) != len(_CSV_HEADER):
            raise ValueError(
                f"{path}, line {line}: expected {len(_CSV_HEADER)} fields, got {len(fields)}"
            )
        rows.append([_parse_field(path, line, i, text) for i, text in enumerate(fields[:9])])
        ocean.append(fields[9])
    if not rows:
        raise ValueError(f"{path}: no data rows after the header")
    return np.array(rows, dtype=np.float64), np.array(ocean)


def _text(path: Path, content: bytes) -> str:
    """The file's ``content`` as text; one that is not UTF-8 (e.g. still compressed) is a
    ValueError."""
    return utf8_text(content, path, "is it still compressed or damaged? Decompress it, or "
                     "delete it and download the dataset again")


def _check_official(path: Path, content: bytes, n_rows: int, layout: str) -> None:
    """Refuse a file (of ``n_rows`` rows) whose size or SHA-256 is not the catalog's.

    Both are taken of the text as the catalog's file writes it: Windows line ends (CRLF, as an
    editor or git's ``autocrlf`` may leave them) and a UTF-8 byte-order mark are no damage,
    and are dropped first (the catalog's files have neither).
    """
    content = content.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    record = catalog_file(_STATLIB if layout == "statlib" else _CSV)
    fix = ("extract it again from StatLib's cal_housing.tgz" if layout == "statlib" else
           "download it again (chainrule datasets download california_housing)")
    if len(content) != record.size:
        raise ValueError(f"{path}: {n_rows:,} rows in {len(content):,} bytes, but the file of "
                         f"the catalog has {record.size:,} bytes (SHA-256 {record.sha256[:16]}"
                         f"...): it is truncated, damaged or edited; delete it and {fix}")
    digest = hashlib.sha256(content).hexdigest()
    if digest != record.sha256:
        raise ValueError(f"{path}: {n_rows:,} rows in {len(content):,} bytes as the file of the "
                         f"catalog, but with SHA-256 {digest[:16]}..., not {record.sha256[:16]}"
                         f"...: it is damaged or edited; delete it and {fix}")


def _parse_field(path: Path, line: int, column: int, text: str) -> float:
    """One numeric field; only ``total_bedrooms`` may be blank (read as NaN)."""
    if text == "" and column == _BEDROOMS:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        value = np.nan
    if not np.isfinite(value):
        raise ValueError(
            f"{path}, line {line}: {_CSV_HEADER[column]} must be a number, got {text!r}"
        )
    return value


def _impute_bedrooms(raw: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Fill blank ``total_bedrooms``: ``households * median(total_bedrooms / households)``."""
    raw = raw.copy()
    if missing.any():
        households = raw[:, RAW_COLUMNS.index("households")]
        ratio = np.median(raw[~missing, _BEDROOMS] / households[~missing])
        raw[missing, _BEDROOMS] = households[missing] * ratio
    return raw


def _derive(raw: np.ndarray) -> np.ndarray:
    """scikit-learn's 8 features from the raw columns (formulas in the module docstring)."""
    col = {name: raw[:, i] for i, name in enumerate(RAW_COLUMNS)}
    households = col["households"]
    return np.column_stack(
        [
            col["median_income"],
            col["housing_median_age"],
            col["total_rooms"] / households,
            col["total_bedrooms"] / households,
            col["population"],
            col["population"] / households,
            col["latitude"],
            col["longitude"],
        ]
    )
