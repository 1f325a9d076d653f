"""California housing: both layouts, derived and raw features, blanks, damaged files."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import catalog
from chainrule.datasets.california import (
    DERIVED_NAMES,
    RAW_COLUMNS,
    CaliforniaHousing,
    load_california_housing,
)

HEADER = (
    "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,households,"
    "median_income,median_house_value,ocean_proximity\n"
)
ROWS = [
    # longitude, latitude, age, rooms, bedrooms, population, households, income, value
    (-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252, 452600.0, "NEAR BAY"),
    (-122.22, 37.86, 21.0, 7099.0, 1106.0, 2401.0, 1138.0, 8.3014, 358500.0, "NEAR BAY"),
    (-118.0, 34.0, 30.0, 1000.0, None, 500.0, 200.0, 3.0, 150000.0, "INLAND"),
    (-117.5, 33.5, 10.0, 600.0, 100.0, 400.0, 100.0, 2.5, 99000.0, "<1H OCEAN"),
]
#: The catalog's records of the two files, before the tests replace them.
REAL_RECORDS = {relative: catalog.catalog_file(relative) for relative in (
    "california_housing/housing.csv", "california_housing/cal_housing.data")}


def write_small(root: Path, rows=ROWS) -> Path:
    """Both layouts of ``rows`` under ``root/california_housing``."""
    folder = root / "california_housing"
    folder.mkdir(parents=True, exist_ok=True)
    csv_lines = [",".join("" if v is None else str(v) for v in row) + "\n" for row in rows]
    (folder / "housing.csv").write_text(HEADER + "".join(csv_lines))
    data_lines = [
        ",".join(f"{(v if v is not None else 150.0):f}" for v in row[:9]) + "\n" for row in rows
    ]
    (folder / "cal_housing.data").write_text("".join(data_lines))
    return folder


def in_the_catalog(monkeypatch, folder: Path) -> None:
    """Record the files of ``folder`` in the catalog (size and SHA-256) as the official ones,
    which the loader checks every file it reads against."""
    for name in ("housing.csv", "cal_housing.data"):
        content = (folder / name).read_bytes()
        relative = f"california_housing/{name}"
        record = dataclasses.replace(catalog.catalog_file(relative), size=len(content),
                                     sha256=hashlib.sha256(content).hexdigest())
        monkeypatch.setitem(catalog._FILES, relative, record)


@pytest.fixture(autouse=True)
def small_files_in_the_catalog(request, monkeypatch, tmp_path):
    """The small files of ``write_small`` stand for the official ones (the real-file tests
    keep the catalog's records)."""
    if "real_root" not in request.fixturenames:
        in_the_catalog(monkeypatch, write_small(tmp_path / "catalog"))


def test_derived_features_follow_the_documented_formulas(tmp_path):
    write_small(tmp_path)
    data = load_california_housing(tmp_path, download=False, layout="statlib")
    assert isinstance(data, CaliforniaHousing)
    assert data.feature_names == DERIVED_NAMES and data.target_name == "MedHouseVal"
    row = ROWS[1]
    np.testing.assert_allclose(
        data.X[1],
        [8.3014, 21.0, 7099 / 1138, 1106 / 1138, 2401.0, 2401 / 1138, 37.86, -122.22],
        rtol=1e-12,
    )
    np.testing.assert_allclose(data.y, [r[8] / 100_000 for r in ROWS])
    assert row[8] / 100_000 == data.y[1]
    assert not data.imputed.any() and data.ocean_proximity is None


def test_raw_columns(tmp_path):
    write_small(tmp_path)
    X, y, names = load_california_housing(tmp_path, download=False, layout="statlib", derived=False)
    assert names == RAW_COLUMNS
    np.testing.assert_array_equal(X[0], ROWS[0][:8])
    np.testing.assert_array_equal(y, [r[8] for r in ROWS])


def test_csv_blank_bedrooms_are_imputed_by_the_median_ratio(tmp_path):
    write_small(tmp_path)
    data = load_california_housing(tmp_path, download=False, layout="csv")
    assert data.layout == "csv"
    assert data.imputed.tolist() == [False, False, True, False]
    ratio = np.median([129 / 126, 1106 / 1138, 100 / 100])
    np.testing.assert_allclose(data.X[2, DERIVED_NAMES.index("AveBedrms")], ratio, rtol=1e-12)
    raw = load_california_housing(tmp_path, download=False, layout="csv", derived=False)
    np.testing.assert_allclose(raw.X[2, RAW_COLUMNS.index("total_bedrooms")], 200 * ratio)
    assert raw.ocean_proximity.tolist() == ["NEAR BAY", "NEAR BAY", "INLAND", "<1H OCEAN"]


def test_layouts_agree_except_imputed_rows(tmp_path):
    write_small(tmp_path)
    for derived in (True, False):
        statlib = load_california_housing(tmp_path, layout="statlib", derived=derived)
        csv = load_california_housing(tmp_path, layout="csv", derived=derived)
        keep = ~csv.imputed
        np.testing.assert_array_equal(statlib.X[keep], csv.X[keep])
        np.testing.assert_array_equal(statlib.y, csv.y)
        assert statlib.feature_names == csv.feature_names


def test_auto_prefers_statlib_then_csv(tmp_path):
    folder = write_small(tmp_path)
    assert load_california_housing(tmp_path, download=False).layout == "statlib"
    (folder / "cal_housing.data").unlink()
    assert load_california_housing(tmp_path, download=False).layout == "csv"


def test_missing_statlib_file_is_not_downloadable(tmp_path):
    with pytest.raises(FileNotFoundError, match="cal_housing.data.*no direct download"):
        load_california_housing(tmp_path, layout="statlib")


def test_bad_layout(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        load_california_housing(tmp_path, layout="excel")


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda text: text.replace("ocean_proximity", "ocean"), "expected the header"),
        (lambda text: text.replace("8.3014,", "8.3014,1,"), "line 3: expected 10 fields"),
        (lambda text: text.replace("41.0,", ",", 1), "line 2: housing_median_age"),
        (lambda text: text.replace("358500.0", "n/a"), "line 3: median_house_value"),
        (lambda text: text.replace("358500.0", "nan"), "median_house_value"),
        (lambda text: text.replace(",1138.0,", ",0.0,"), "households must be positive"),
        (lambda text: text.split("\n")[0] + "\n", "no data rows"),
        (lambda text: text.replace("NEAR BAY", "x" * 200_000, 1),
         "line 2 cannot be read as CSV: field larger than field limit"),
    ],
)
def test_damaged_csv_names_file_and_line(tmp_path, edit, match):
    folder = write_small(tmp_path)
    path = folder / "housing.csv"
    path.write_text(edit(path.read_text()))
    with pytest.raises(ValueError, match=match) as info:
        load_california_housing(tmp_path, layout="csv")
    assert "housing.csv" in str(info.value)


@pytest.mark.parametrize("layout, name, row_2_line", [("csv", "housing.csv", 3),
                                                      ("statlib", "cal_housing.data", 2)])
def test_a_file_that_is_not_utf8_text_is_named(tmp_path, layout, name, row_2_line):
    """A still-compressed file, or one Latin-1 byte in the second row."""
    folder = write_small(tmp_path)
    text = (folder / name).read_bytes()
    for content, line in [(gzip.compress(text), 1),
                          (text.replace(b"21.0", b"2\xe9.0", 1), row_2_line)]:
        (folder / name).write_bytes(content)
        message = rf"{name} is not UTF-8 text: byte 0x[0-9a-f]{{2}} on line {line} cannot be "
        with pytest.raises(ValueError, match=message):
            load_california_housing(tmp_path, layout=layout)


def test_blank_lines_in_the_csv_are_skipped_as_in_the_statlib_file(tmp_path, monkeypatch):
    folder = write_small(tmp_path)
    for name in ("housing.csv", "cal_housing.data"):
        path = folder / name
        path.write_text(path.read_text().replace("\n", "\n\n", 2) + "\n\n")
    in_the_catalog(monkeypatch, folder)
    csv = load_california_housing(tmp_path, layout="csv", derived=False)
    statlib = load_california_housing(tmp_path, layout="statlib", derived=False)
    assert csv.X.shape == statlib.X.shape == (len(ROWS), 8)
    np.testing.assert_array_equal(csv.y, statlib.y)


@pytest.mark.parametrize(
    "content, match",
    [("1,2,3\n4,5,6\n", "rows of 9 numbers"), ("a,b\n", "not a StatLib"), ("", "rows of 9")],
)
def test_damaged_statlib_file(tmp_path, content, match):
    folder = write_small(tmp_path)
    (folder / "cal_housing.data").write_text(content)
    with pytest.raises(ValueError, match=match):
        load_california_housing(tmp_path, layout="statlib")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_non_finite_statlib_value_names_the_line(tmp_path, value):
    folder = write_small(tmp_path)
    lines = (folder / "cal_housing.data").read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("1000.000000", value, 1)  # total_rooms of the third row
    (folder / "cal_housing.data").write_text("".join(lines))
    with pytest.raises(ValueError, match=r"cal_housing\.data: non-finite value on line 3"):
        load_california_housing(tmp_path, layout="statlib")


def test_bedrooms_blank_in_every_row_cannot_be_imputed(tmp_path):
    write_small(tmp_path, [row[:4] + (None,) + row[5:] for row in ROWS])
    with pytest.raises(ValueError, match=r"housing\.csv: total_bedrooms is blank in every row, "
                                         "nothing to impute from"):
        load_california_housing(tmp_path, layout="csv")


@pytest.mark.parametrize("layout, name", [("statlib", "cal_housing.data"),
                                          ("csv", "housing.csv")])
@pytest.mark.parametrize("cut", ["inside the last field", "at the end of a line"])
def test_a_truncated_file_is_refused_with_what_was_expected(tmp_path, layout, name, cut):
    """A copy interrupted half-way reads as a smaller table (with a last value cut short when
    the cut falls inside a field): only the size the catalog records tells it apart."""
    path = write_small(tmp_path) / name
    content = path.read_bytes()
    end = content.rindex(b"\n", 0, -1) + 1  # the end of the next-to-last line
    if cut == "inside the last field":
        end = content.rindex(b",") + 4  # the last field cut after 3 characters
    path.write_bytes(content[:end])
    rows = len(ROWS) - (cut == "at the end of a line")
    with pytest.raises(ValueError) as info:
        load_california_housing(tmp_path, layout=layout)
    assert str(info.value).startswith(
        f"{path}: {rows} rows in {end:,} bytes, but the file of the catalog has {len(content):,}"
        f" bytes (SHA-256 {hashlib.sha256(content).hexdigest()[:16]}...): it is truncated, "
        "damaged or edited; delete it and ")
    fix = "extract it again from StatLib's cal_housing.tgz" if layout == "statlib" else (
        "download it again (chainrule datasets download california_housing)")
    assert str(info.value).endswith(fix)


def test_a_file_of_the_right_size_with_other_bytes_is_refused(tmp_path):
    path = write_small(tmp_path) / "cal_housing.data"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(path.read_text().replace("452600.000000", "452700.000000"))
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=(
            rf"cal_housing\.data: {len(ROWS)} rows in {path.stat().st_size:,} bytes as the file "
            rf"of the catalog, but with SHA-256 {found[:16]}\.\.\., not {expected[:16]}\.\.\.: it "
            r"is damaged or edited; delete it and extract it again")):
        load_california_housing(tmp_path, layout="statlib")


@pytest.mark.parametrize("layout, name", [("statlib", "cal_housing.data"), ("csv", "housing.csv")])
def test_windows_line_ends_and_a_byte_order_mark_are_no_damage(tmp_path, layout, name):
    """A copy an editor or git's autocrlf rewrote has the catalog's text: it loads as the
    original does."""
    path = write_small(tmp_path) / name
    original = load_california_housing(tmp_path, layout=layout)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    rewritten = load_california_housing(tmp_path, layout=layout)
    np.testing.assert_array_equal(rewritten.X, original.X)
    np.testing.assert_array_equal(rewritten.y, original.y)


def test_the_files_are_checked_against_the_real_catalog(tmp_path, monkeypatch):
    """Without the small files' records: the sizes are those of the official files."""
    for relative, record in REAL_RECORDS.items():  # the catalog as the package has it
        monkeypatch.setitem(catalog._FILES, relative, record)
    write_small(tmp_path)
    for layout, size in [("statlib", "2,071,484"), ("csv", "1,423,529")]:
        with pytest.raises(ValueError, match=rf"but the file of the catalog has {size} bytes"):
            load_california_housing(tmp_path, layout=layout, download=False)


# --------------------------------------------------------------------------- the real files


@pytest.fixture
def real_root(shared_dataset):
    return shared_dataset("california_housing")  # both layouts' files


def test_real_layouts_give_the_same_data(real_root):
    statlib = load_california_housing(real_root, download=False, layout="statlib")
    csv = load_california_housing(real_root, download=False, layout="csv")
    assert statlib.X.shape == csv.X.shape == (20640, 8)
    assert csv.imputed.sum() == 207 and not statlib.imputed.any()
    keep = ~csv.imputed
    np.testing.assert_array_equal(statlib.X[keep], csv.X[keep])
    np.testing.assert_array_equal(statlib.y, csv.y)
    np.testing.assert_allclose(statlib.y.mean() * 100_000, 206855.8, atol=0.05)
    assert statlib.y.min() == 0.14999 and statlib.y.max() == 5.00001
    names, counts = np.unique(csv.ocean_proximity, return_counts=True)
    assert dict(zip(names.tolist(), counts.tolist())) == {
        "<1H OCEAN": 9136,
        "INLAND": 6551,
        "NEAR OCEAN": 2658,
        "NEAR BAY": 2290,
        "ISLAND": 5,
    }
    # The only differing column is AveBedrms, and only on the imputed rows.
    differs = statlib.X != csv.X
    assert set(np.flatnonzero(differs.any(axis=0))) == {DERIVED_NAMES.index("AveBedrms")}


def test_real_raw_columns(real_root):
    raw = load_california_housing(real_root, download=False, layout="statlib", derived=False)
    np.testing.assert_array_equal(raw.X[0], [-122.23, 37.88, 41, 880, 129, 322, 126, 8.3252])
    assert raw.y[0] == 452600.0
