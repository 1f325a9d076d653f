"""From a config to a trained model: data files, task detection, network, loss and trainer."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from chainrule.config import ConfigError, load_config
from chainrule.experiment import (
    build_loss,
    build_network,
    build_trainer,
    load_data,
    run,
)
from chainrule.losses import MSE, BinaryCrossEntropy
from chainrule.tables import read_features, read_table
from chainrule.training.callbacks import EarlyStopping, ReduceLROnPlateau

CIRCLES = ["data.dataset=circles", "data.options={n_samples=60}", "model.hidden=[3]"]


def circles(*overrides: str):
    """A validated config on 60 two-circles samples, and its data."""
    config = load_config(overrides=[*CIRCLES, *overrides])
    return config, load_data(config["data"])


# ------------------------------------------------------------------------------ tables


def test_read_table_target_by_index_or_name(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    X, y = read_table(path)  # the last column by default
    np.testing.assert_array_equal(X, [[1, 2], [4, 5]])
    assert y.tolist() == [3, 6] and y.dtype == np.int64
    X, y = read_table(path, 0)
    np.testing.assert_array_equal(X, [[2, 3], [5, 6]])
    assert y.tolist() == [1, 4]
    X, y = read_table(path, "b")
    assert y.tolist() == [2, 5]


def test_read_table_keeps_string_class_labels(tmp_path):
    path = tmp_path / "pets.csv"
    path.write_text("x1,x2,kind\n1,2,cat\n3,4,dog\n")
    X, y = read_table(path, "kind")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert y.tolist() == ["cat", "dog"]


def test_read_table_from_npz_and_npy(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.arange(3))
    X, y = read_table(tmp_path / "d.npz")
    np.testing.assert_array_equal(X, np.ones((3, 2)))
    assert y.tolist() == [0, 1, 2]
    np.save(tmp_path / "d.npy", np.arange(12.0).reshape(4, 3))
    X, y = read_table(tmp_path / "d.npy", 0)
    np.testing.assert_array_equal(X, [[1, 2], [4, 5], [7, 8], [10, 11]])
    assert y.tolist() == [0, 3, 6, 9]


BIG = [2**53 + 1, 2**53, -(2**63), 2**63 - 1]  # float64 would merge the first two


def _save(path, X, y):
    """X and y as a .csv, .npy (one table, y last) or .npz file, by the suffix of ``path``."""
    if path.suffix == ".npz":
        np.savez(path, X=X, y=y)
    elif path.suffix == ".npy":
        np.save(path, np.column_stack([X, y]))
    else:
        path.write_text("".join(f"{a},{b},{label}\n" for (a, b), label in zip(X, y)))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_whole_number_targets_are_read_exactly_whatever_the_file(tmp_path, suffix):
    X = np.arange(8).reshape(4, 2)
    _, y = read_table(_save(tmp_path / f"d{suffix}", X, np.array(BIG)))
    assert y.dtype == np.int64 and y.tolist() == BIG


@pytest.mark.parametrize("text, expected", [
    ("3.0\n1e3\n-2\n", [3, 1000, -2]),  # whole numbers written as floats: int64 as ever
    ("1e20\n-2e20\n3\n", [1e20, -2e20, 3.0]),  # beyond int64, but float64 holds them exactly
    ("0.99999999999999999999\n1\n2\n", [1.0, 1.0, 2.0]),  # a fraction float64 rounds away
])
def test_whole_targets_are_int64_when_it_holds_them_else_float64(tmp_path, text, expected):
    path = tmp_path / "t.csv"
    path.write_text("".join(f"0.5,{label}\n" for label in text.split()))
    _, y = read_table(path)
    assert y.dtype == np.asarray(expected).dtype and y.tolist() == expected


def test_whole_targets_that_neither_int64_nor_float64_holds_are_refused(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("x1,x2,label\n1,2,10000000000000001\n3,4,10000000000000002\n"
                    "5,6,12345678901234567890123\n")
    with pytest.raises(ValueError, match=(
            r"ids\.csv, line 4, column 3 \(label\): the whole-number target "
            r"12345678901234567890123 is beyond int64 \(-2\*\*63 to 2\*\*63 - 1\), and float64 would "
            r"round 10000000000000001 \(line 2\) to 10000000000000000: whole-number targets "
            r"are kept exactly or refused; to use such numbers as class labels, make them text "
            r"\(e\.g\. a letter before each\)")):
        read_table(path)


@pytest.mark.parametrize("big", ["1e30", "1.5e30", "20000000000000000000.0"])
def test_a_float_written_beyond_int64_makes_float_targets(tmp_path, big):
    """A regression column of whole values written as floats is read as Python's float reads
    it, not refused as an integer that float64 would round."""
    path = tmp_path / "t.csv"
    path.write_text(f"x1,x2,y\n1,2,0.0\n3,4,1.0\n5,6,{big}\n")
    _, y = read_table(path)
    assert y.dtype == np.float64 and y.tolist() == [0.0, 1.0, float(big)]


def test_a_table_of_one_column_has_no_features(tmp_path):
    np.save(tmp_path / "t.npy", np.arange(3.0).reshape(3, 1))
    with pytest.raises(ValueError, match=r"t\.npy has one column, the target: no feature to "
                                         r"learn from$"):
        read_table(tmp_path / "t.npy")
    np.savez(tmp_path / "t.npz", X=np.ones((3, 0)), y=np.arange(3))
    with pytest.raises(ValueError, match=r"t\.npz: X holds no features \(shape \(3, 0\)\)"):
        read_table(tmp_path / "t.npz")


def test_an_npy_table_keeps_its_targets_as_stored(tmp_path):
    """Not through text: an .npy of bools is a table, its targets bools as an .npz's are."""
    np.save(tmp_path / "u.npy", np.array([[1, 2, 2**64 - 1], [3, 4, 7]], dtype=np.uint64))
    with pytest.raises(ValueError, match=(
            r"u\.npy, row 1, column 3: the whole-number target 18446744073709551615 is beyond "
            r"int64 .*, and float64 would round it to 18446744073709551616")):
        read_table(tmp_path / "u.npy")
    np.save(tmp_path / "u.npy", np.array([[1, 2, 2**63], [3, 4, 7]], dtype=np.uint64))
    assert read_table(tmp_path / "u.npy")[1].tolist() == [2.0**63, 7.0]  # float64 holds them
    table = np.array([[True, False, True], [False, True, False]])
    np.save(tmp_path / "b.npy", table)
    np.savez(tmp_path / "b.npz", X=table[:, :2], y=table[:, 2])
    for name in ("b.npy", "b.npz"):
        X, y = read_table(tmp_path / name)
        np.testing.assert_array_equal(X, [[1, 0], [0, 1]])
        assert y.dtype == bool and y.tolist() == [True, False]
    np.save(tmp_path / "f.npy", np.array([[0.5, np.inf, 1.0], [0.5, 0.5, 2.0]]))
    with pytest.raises(ValueError, match=r"f\.npy, row 1, column 2: every feature must be a "
                                         r"finite number, got inf"):
        read_table(tmp_path / "f.npy")
    np.save(tmp_path / "f.npy", np.array([[0.5, 1.0], [0.5, np.nan]]))
    with pytest.raises(ValueError, match=r"f\.npy, row 2, column 2: the target must be a finite "
                                         r"number or a class label, got nan"):
        read_table(tmp_path / "f.npy")


@pytest.mark.parametrize("y", [np.array([0, 2, 1]), np.array([0.5, -1.0, 2.0]),
                               np.array(["cat", "dog", "cat"])])
def test_an_npz_target_column_is_one_target_per_sample(tmp_path, y):
    # y saved as a column (n_samples, 1) is what the same targets saved 1-D are (as in a CSV)
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=y.reshape(-1, 1))
    _, read = read_table(tmp_path / "d.npz")
    assert read.shape == (3,) and read.dtype == y.dtype and read.tolist() == y.tolist()
    np.savez(tmp_path / "two.npz", X=np.ones((3, 2)), y=np.column_stack([y, y]))
    assert read_table(tmp_path / "two.npz")[1].shape == (3, 2)  # several targets stay 2-D


@pytest.mark.parametrize(
    "name, text, target, error, message",
    [
        ("empty.csv", "\n\n", -1, ValueError, r"empty\.csv is empty"),
        ("ragged.csv", "1,2,3\n1,2\n", -1, ValueError,
         r"ragged\.csv: rows have different numbers of columns \[2, 3\]"),
        ("short_header.csv", "3,dog\n0,-2,dog\n1,4,cat\n", -1, ValueError,
         r"short_header\.csv: the header has 2 columns but the rows have 3"),
        ("words.csv", "1,2,3\nfoo,2,1\n", -1, ValueError,
         r"words\.csv, line 2, column 1: every feature must be a finite number, got 'foo'"),
        ("d.csv", "a,b,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,\n", -1, ValueError,
         r"d\.csv, line 4, column 3 \(label\): the target is missing \(an empty field\)"),
        ("d.csv", "0.1,0.2,0\n0.3,0.4,\n0.5,0.6,1\n", -1, ValueError,
         r"d\.csv, line 2, column 3: the target is missing"),
        ("d.csv", "a,b,label\n0.1,0.2,0\n0.3,0.4,nan\n", -1, ValueError,
         (r"d\.csv, line 3, column 3 \(label\): the target must be a finite number or a "
          r"class label, got 'nan'")),
        ("d.csv", "a,b,label\n0.1,0.2,0\nnan,0.4,1\n", -1, ValueError,
         r"d\.csv, line 3, column 1 \(a\): every feature must be a finite number, got 'nan'"),
        ("d.csv", "a,b,label\n0.1,0.2,0\n\n0.3,inf,1\n", -1, ValueError,  # a blank line counts
         r"d\.csv, line 4, column 2 \(b\): every feature must be a finite number, got 'inf'"),
        ("d.csv", "a,b,label\n0.1,,0\n0.3,0.4,1\n", -1, ValueError,
         (r"d\.csv, line 2, column 2 \(b\): every feature must be a finite number, got an "
          "empty field")),
        ("d.csv", "a,b,label\n", -1, ValueError,
         r"d\.csv has no data rows \(only a header: a,b,label\)"),
        ("named.csv", "a,b\n1,2\n", "label", ConfigError,
         r"data\.target: no column 'label' in .*named\.csv \(header: \['a', 'b'\]\)"),
        ("bare.csv", "1,2\n", "label", ConfigError, r"no column 'label' .*\(header: None\)"),
        ("narrow.csv", "1,2,3\n", 3, ConfigError,
         r"data\.target: column 3 does not exist in .*narrow\.csv \(3 columns\)"),
        ("narrow.csv", "1,2,3\n", -4, ConfigError, r"column -4 does not exist .*\(3 columns\)"),
        ("semi.csv", "a;b;label\n0.1;0.2;yes\n0.3;0.4;no\n", -1, ValueError,
         (r"semi\.csv has one column, the target: no feature to learn from; are its fields "
          r"separated by something other than commas \(such as ';' or tabs\)\? Save it "
          r"comma-separated")),
        ("long.csv", "1,2,0\n3," + "4" * 200_000 + ",1\n", -1, ValueError,
         (r"long\.csv, line 2 cannot be read as CSV: field larger than field limit \(131072\)"
          r" \(a quote left open makes the rest of the file one field\)")),
        ("long.csv", "1,2,a\n3,4,b\n5,6," + "c" * 200_000 + "\n", -1, ValueError,
         r"long\.csv, line 3 cannot be read as CSV: field larger than field limit \(131072\)"),
    ],
)
def test_bad_tables_name_the_file(tmp_path, name, text, target, error, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(error, match=message):
        read_table(tmp_path / name, target)


@pytest.mark.parametrize("header", ["", "label,a,b\n"], ids=["no header", "header"])
def test_a_byte_order_mark_is_not_part_of_the_table(tmp_path, header):
    """Spreadsheets write one: it neither joins the first field nor makes a header of the
    first row."""
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{header}0,0.5,0.1\n1,1.0,0.0\n2,0.0,0.2\n".encode())
    X, y = read_table(path, "label" if header else 0)
    assert y.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(X, [[0.5, 0.1], [1.0, 0.0], [0.0, 0.2]])
    assert read_features(path).shape == (3, 3)


def test_a_table_that_is_not_utf8_names_the_byte_and_its_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b,label\n0.5,0.1,cat\n0.2,0.3,caf\xe9\n")
    message = r"latin\.csv is not UTF-8 text: byte 0xe9 on line 3 cannot be decoded; save it as"
    for read in (read_table, read_features):
        with pytest.raises(ValueError, match=message):
            read(path)


def test_an_npz_needs_arrays_named_X_and_y(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.ones((3, 2)))
    with pytest.raises(ValueError,
                       match=r"d\.npz must hold arrays named X and y, has \['features'\]"):
        read_table(tmp_path / "d.npz")


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,x\n", r"line 2, column 2 \(b\): every feature must be a finite number, got 'x'"),
    ("1,2\n3,4\n,3\n",
     "line 3, column 1: every feature must be a finite number, got an empty field"),
    ('1,2\n3,"4\n5,6\n' + "7,8\n" * 40_000,  # the row that begins on line 2 never ends
     "line 2 cannot be read as CSV: field larger than field limit"),
])
def test_read_features_needs_numbers(tmp_path, text, message):
    (tmp_path / "f.csv").write_text(text)
    with pytest.raises(ValueError, match=r"f\.csv, " + message):
        read_features(tmp_path / "f.csv")


def test_a_header_of_another_width_than_the_rows_is_refused(tmp_path):
    """Which columns would its names name? (It used to end in an IndexError.)"""
    (tmp_path / "f.csv").write_text("3,dog\n0,-2,dog\n1,x,cat\n")
    with pytest.raises(ValueError, match=r"f\.csv: the header has 2 columns but the rows have 3"):
        read_features(tmp_path / "f.csv")


CHUNKED = [  # (text, target): rows that fall in different chunks of a small _CHUNK_FIELDS
    ("a,b,label\n1,2,0\n\n3,4,1\n5,6,2\n7,8,10000000000000001\n", -1),  # exact, in chunk 4
    ("1,2,0\n3,4,1\n5,6,3.0\n7,8,1e20\n", -1),  # whole, some written as floats, beyond int64
    ("1,2,0\n3,4,1\n5,6,0.5\n7,8,1\n", -1),  # a fraction in a later chunk: float64
    ("a,b,kind\n1,2,0\n3,4,1\n5,6,cat\n7,8,1\n", "kind"),  # text from chunk 3: all strings
    ('x,kind,y\n1,0,2\n"3",dog,4\n5,1,6\n', 1),  # a quoted field; the target in the middle
    ("a,b,label\n1,2,0\n3,4,1\n\n5,x,1\n", -1),  # a bad feature: its line, after a blank one
    ("a,b,label\n1,2,0\n3,x,1\n5,6,\n", -1),  # a blank target is said before a bad feature
    ("1,2,0\n3,x,1\n5,6,inf\n", -1),  # so is a non-finite one
    ("1,2,0\n3,x,1\n5,6\n", -1),  # rows of different widths before either
    ("1,2,0\n3,4,1\n5,6,7\n", 5),  # and before a target that names no column
    # numbers NumPy's reader refuses and float() reads (it decides); line ends of every kind
    ("a,b,label\r\n1_000,\xa02\u3000,x\r\n\u0661,+.5,y\r\n\r\n5.,-0,z\n", -1),
    ("1,2,0\r3,4,1\r\r5,6,2", -1),
    ("1,2,a\x00b\n3,4,#c\n5,6,d\u00e9\n", -1),  # labels with NUL, a comment sign, an accent
    ("1,2,0\n3,4,1\n5,\x1c6,2\n", -1),  # NumPy's reader takes \x1c for a space, float() not
    ("1,0,2\n3,1,4\n5,0,6\n", 1),  # a target in the middle
    ("0,1,2\n1,3,4\n", 0),  # or first
    ("1\n2\n  \n", -1),  # one column: a field of spaces is empty
    ('a,b,label\n1,2,0\n3,4,1\n5,6,"x,y"\n7,8,"two\n\nlines"\n9,10,z\n', -1),  # quotes later
]


@pytest.mark.parametrize("text, target", CHUNKED)
def test_a_table_read_in_chunks_is_the_table_read_at_once(tmp_path, monkeypatch, text, target):
    """A CSV is read a chunk of rows at a time: every result and message is the same whatever
    the chunks (here one row each, then all rows in one), and whether a chunk's lines are
    split at commas and parsed by NumPy or read by the csv module field by field."""
    from chainrule import tables

    path = tmp_path / "t.csv"
    path.write_text(text)

    def outcome(read, *args):
        try:
            values = read(path, *args)
        except ValueError as exc:
            return type(exc), str(exc)
        return [(a.dtype, a.tolist()) for a in (values if isinstance(values, tuple) else [values])]

    results = []
    for fields in (1, 1 << 14):
        monkeypatch.setattr(tables, "_CHUNK_FIELDS", fields)
        results.append((outcome(read_table, target), outcome(read_features)))
    monkeypatch.setattr(tables, "_splittable", lambda lines: False)  # the csv module's rows
    results.append((outcome(read_table, target), outcome(read_features)))
    assert results[0] == results[1] == results[2]


def test_quoted_fields_after_the_first_rows_are_read_as_the_csv_module_reads_them(
        tmp_path, monkeypatch):
    from chainrule import tables

    path = tmp_path / "q.csv"
    path.write_text('a,b,label\n1,2,x\n3,4,y\n5,"6",z\n7,8,"two,\n\nlines"\n9,10,w\n')
    monkeypatch.setattr(tables, "_CHUNK_FIELDS", 1)  # a row a chunk
    X, y = read_table(path)
    assert X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
    assert y.tolist() == ["x", "y", "z", "two,\n\nlines", "w"]


def test_csv_features_are_the_numbers_float_reads(tmp_path, monkeypatch):
    """Bit for bit, a chunk of one row at a time: the rows NumPy's reader parses (the first
    three) and a row of numbers it refuses, which float() reads."""
    from chainrule import tables

    rows = [["1.5", " 1.5 ", "+.5", "5.", "-0"],
            ["1E+2", "1e-3", "0.1000000000000000055511151231257827", "4.9e-324", "1e-320"],
            ["1.7976931348623157e308", "\xa02\u3000", "\t3\x0b", "-123456789012345678901", "7"],
            ["1_000", "\u0661\u0662", "8", "9", "10"]]
    path = tmp_path / "n.csv"
    path.write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    monkeypatch.setattr(tables, "_CHUNK_FIELDS", 5)
    expected = np.array([[float(field) for field in row] for row in rows])
    assert read_features(path).tobytes() == expected.tobytes()
    X, y = read_table(path)  # a fraction among the targets: float64
    assert X.tobytes() == expected[:, :-1].copy().tobytes()
    assert y.tobytes() == expected[:, -1].copy().tobytes()


def test_reading_a_table_holds_little_beyond_the_features(tmp_path, rng):
    """Not every field as a Python string: a CSV is converted a chunk of rows at a time, an
    .npy's features are copied once."""
    import tracemalloc

    table = np.column_stack([rng.normal(size=(20_000, 10)), rng.integers(0, 3, 20_000)])
    np.savetxt(tmp_path / "t.csv", table, fmt=["%.6g"] * 10 + ["%d"], delimiter=",")
    np.save(tmp_path / "t.npy", table)
    for name, bound in [("t.csv", 4), ("t.npy", 3)]:  # a whole-file read held 16, 3.7
        tracemalloc.start()
        try:
            X, y = read_table(tmp_path / name)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert X.shape == (20_000, 10) and y.dtype == np.int64 and X.flags.c_contiguous
        assert peak < bound * X.nbytes, (name, peak / X.nbytes)


# ------------------------------------------------------------------------------ data


def write_csv(path, X, y) -> str:
    np.savetxt(path, np.column_stack([X, y]), delimiter=",")
    return str(path)


def test_files_with_a_separate_test_file(tmp_path, rng):
    X, X_test = rng.normal(size=(20, 2)), rng.normal(size=(6, 2))
    y, y_test = np.arange(20) % 2, np.arange(6) % 2
    section = {"dataset": "files", "train": write_csv(tmp_path / "train.csv", X, y),
               "test": write_csv(tmp_path / "test.csv", X_test, y_test),
               "validation_size": 0.25, "seed": 0}
    data = load_data(section)
    assert data.task == "classification"  # integer targets
    np.testing.assert_allclose(data.X_test, X_test)
    assert data.y_test.tolist() == y_test.tolist()
    assert len(data.y_train) == 15 and len(data.y_val) == 5
    assert data.classes.tolist() == [0, 1]


def test_files_task_from_the_targets_or_from_the_config(tmp_path, rng):
    X = rng.normal(size=(20, 2))
    section = {"dataset": "files", "train": write_csv(tmp_path / "r.csv", X, X[:, 0] * 1.5),
               "validation_size": 0.0}
    data = load_data(section)
    assert data.task == "regression" and data.classes is None  # float targets
    section["train"] = write_csv(tmp_path / "c.csv", X, np.arange(20) % 4)
    assert load_data(section).task == "classification"
    data = load_data({**section, "task": "regression"})
    assert data.task == "regression" and data.classes is None


def test_options_a_generator_does_not_take_are_a_config_error():
    with pytest.raises(ConfigError, match="data.options: .*make_circles.*'radius'"):
        load_data({"dataset": "circles", "options": {"radius": 2}})


# ------------------------------------------------------------------------------ model


@pytest.mark.parametrize(
    "layers, message",
    [
        ("[{input_dim=3, output_dim=1, activation='sigmoid'}]",
         r"model.layers\[0\].input_dim is 3, but the data has 2 features"),
        ("[{input_dim=2, output_dim=2, activation='softmax'}]",
         r"model.layers\[-1\].output_dim is 2, but the data needs 1 outputs"),
    ],
)
def test_an_architecture_that_does_not_fit_the_data(layers, message):
    config = load_config(overrides=[*CIRCLES[:2], f"model.layers={layers}"])  # no model.hidden
    data = load_data(config["data"])
    with pytest.raises(ConfigError, match=message):
        build_network(config, data)


def test_the_callbacks_of_the_config_go_to_the_trainer():
    config, data = circles("callbacks.early_stopping={patience=2}",
                           "callbacks.reduce_lr_on_plateau={factor=0.5, patience=1}")
    trainer = build_trainer(config, build_network(config, data), data, callbacks=[])
    early, plateau = trainer.callbacks
    assert isinstance(early, EarlyStopping) and early.patience == 2
    assert isinstance(plateau, ReduceLROnPlateau)
    assert (plateau.factor, plateau.patience) == (0.5, 1)


def test_a_trainer_that_cannot_be_built_is_a_config_error():
    config, data = circles()
    config["optimizer"] = {"lr": 0.1}  # not validated: no name
    with pytest.raises(ConfigError, match="needs a 'name'"):
        build_trainer(config, build_network(config, data), data, callbacks=[])


def test_auto_loss_is_mse_for_regression():
    config = load_config(overrides=["data.dataset=regression", "model.hidden=[3]"])
    data = load_data(config["data"])
    assert data.task == "regression"
    assert isinstance(build_loss(config, data, build_network(config, data)), MSE)


def test_an_unknown_loss_in_an_unchecked_config_names_the_section():
    config, data = circles()
    config["loss"] = {"name": "hinge"}
    with pytest.raises(ConfigError, match="loss: unknown loss 'hinge'"):
        build_loss(config, data, build_network(config, data))


def test_an_old_config_with_log_loss_on_a_sigmoid_output_trains_with_bce():
    # "log_loss" was binary cross-entropy's alias: a run folder's config.toml written then
    # still loads where that reading is the only one, with a warning to rename it
    config, data = circles('loss.name="log_loss"', 'loss.label_smoothing=0.1')
    net = build_network(config, data)
    with pytest.warns(FutureWarning, match='loss.name = "log_loss" .*"binary_cross_entropy"'):
        loss = build_loss(config, data, net)
    assert type(loss) is BinaryCrossEntropy and loss.label_smoothing == 0.1
    assert config["loss"]["name"] == "log_loss"  # the config itself is left as written


def test_an_old_config_with_log_loss_on_softmax_outputs_is_refused():
    config = load_config(overrides=["data.dataset=blobs", "data.options={n_samples=60, centers=3}",
                                    "model.hidden=[3]", 'loss.name="log_loss"'])
    data = load_data(config["data"])
    net = build_network(config, data)  # three softmax outputs
    with pytest.raises(ConfigError, match=(
            r"^loss: unknown loss 'log_loss': .*'cross_entropy'.*'binary_cross_entropy'")):
        build_loss(config, data, net)


def test_an_old_config_with_log_loss_gets_its_options_checked():
    with pytest.raises(ConfigError, match="loss.reduce: unknown option; allowed: from_logits"):
        load_config(overrides=[*CIRCLES, 'loss.name="log_loss"', 'loss.reduce="sum"'])


def test_a_run_without_matplotlib_writes_no_figures(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    config = load_config(overrides=[*CIRCLES, "training.epochs=1", "training.verbose=0"])
    result = run(config, tmp_path / "run")
    assert sorted(path.name for path in result.files) == [
        "config.toml", "history.csv", "metrics.json", "model.safetensors"]
    assert sorted(path.name for path in (tmp_path / "run").iterdir()) == [
        "config.toml", "history.csv", "metrics.json", "model.safetensors"]
