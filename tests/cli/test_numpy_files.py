""".npy and .npz data files that are not what they should be: each is refused with a
ValueError naming the file (and the array and index), before anything is split or shuffled."""

import io
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from chainrule.experiment import load_data
from chainrule.tables import read_features, read_table

X = np.arange(12.0).reshape(6, 2)
Y = np.array([0, 1, 0, 1, 0, 1])


#: An .npy is read as features (predict) or as a table with its target column (train).
BOTH_READERS = pytest.mark.parametrize("read", [read_features, lambda path: read_table(path, 0)],
                                       ids=["features", "table"])


def _with(X=X, y=Y):
    return {"X": X, "y": y}


def _nan_at(array, index):
    array = array.copy()
    array[index] = np.nan
    return array


@pytest.mark.parametrize("arrays, message", [
    (_with(X=X[:, 0]), r"X must be 2-D \(n_samples, n_features\), got shape \(6,\)"),
    (_with(X=X.reshape(6, 2, 1)), r"X must be 2-D .*, got shape \(6, 2, 1\)"),
    (_with(X=X.astype(str)), r"X must hold numbers \(bool, int or float\), got dtype <U32"),
    (_with(X=X.astype(complex)), r"X must hold numbers .*got dtype complex128"),
    (_with(X=X[:0], y=Y[:0]), r"X holds no samples \(shape \(0, 2\)\)"),
    (_with(y=Y[:5]), (r"y must have one entry \(or row\) per row of X, shape \(6,\) or "
                     r"\(6, n_targets\), got shape \(5,\)")),
    (_with(y=np.zeros((6, 1, 1))), r"y must have one entry .*got shape \(6, 1, 1\)"),
    (_with(y=np.array(1.0)), r"y must have one entry .*got shape \(\)"),
    (_with(X=_nan_at(X, (4, 1))), (r"every feature must be a finite number, got nan at index "
                                  r"\(4, 1\) of X")),
    (_with(y=_nan_at(Y.astype(float), 3)), (r"every target must be a finite number or a class "
                                           r"label, got nan at index \(3,\) of y")),
    (_with(y=Y.astype(bytes)), (r"y must hold numbers or strings \(class labels\), got dtype "
                               r"\|S\d+")),
])
def test_an_npz_whose_arrays_do_not_fit_is_refused_naming_the_file(tmp_path, arrays, message):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"d\.npz: " + message):
        read_table(path)


def test_an_npz_with_string_labels_or_2d_targets_is_read(tmp_path):
    np.savez(tmp_path / "a.npz", X=X, y=np.array(["cat", "dog"] * 3))
    assert read_table(tmp_path / "a.npz")[1].tolist() == ["cat", "dog"] * 3
    np.savez(tmp_path / "b.npz", X=X.astype(np.float32), y=X)
    features, targets = read_table(tmp_path / "b.npz")
    assert features.dtype == np.float32 and targets.shape == (6, 2)


def test_a_nan_in_an_npz_is_reported_where_it_is_in_the_file_not_after_the_split(tmp_path):
    """The split shuffles the rows: the index must be the file's."""
    features = np.random.default_rng(0).random((60, 3))
    features[41, 1] = np.nan
    np.savez(tmp_path / "d.npz", X=features, y=np.arange(60) % 2)
    with pytest.raises(ValueError, match=r"d\.npz: .*got nan at index \(41, 1\) of X"):
        load_data({"dataset": "files", "train": str(tmp_path / "d.npz")})


def test_a_truncated_npz_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, **_with())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"d\.npz is not a NumPy \.npz archive: it is not a "
                                         r"complete zip file \(truncated, or another format\)"):
        read_table(path)


def test_a_damaged_npz_member_is_refused_naming_the_file_and_array(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, **_with())
    data = bytearray(path.read_bytes())
    start = data.index(b"\x93NUMPY")  # inside X.npy, the first member (stored uncompressed)
    data[start + 200] ^= 0xFF  # one byte of X's numbers: the member's CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"d\.npz \(array X\) cannot be read \(truncated or "
                                         r"damaged\?\): Bad CRC-32"):
        read_table(path)


def _header(shape, descr="<f8"):
    """The .npy header of an array of ``shape``: what a file's first bytes claim."""
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buffer.getvalue()


HUGE = (10**7, 10**7)  # 800 TB of float64, which np.load would allocate before reading any
TOO_BIG = (r"cannot be read \(truncated or damaged\?\): its header describes an array of shape "
           r"\(10000000, 10000000\) and dtype float64 \(800,000,000,000,000 bytes\), but only "
           r"16 bytes of data follow")


@BOTH_READERS
def test_an_npy_whose_header_promises_more_than_the_file_holds_is_refused(tmp_path, read):
    path = tmp_path / "d.npy"
    path.write_bytes(_header(HUGE) + bytes(16))
    with pytest.raises(ValueError, match=r"d\.npy " + TOO_BIG):
        read(path)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED],
                         ids=["stored", "deflated"])
def test_an_npz_member_whose_header_promises_more_than_it_holds_is_refused(tmp_path, method):
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr("X.npy", _header(HUGE) + bytes(16))
        archive.writestr("y.npy", _header((2,)) + bytes(16))
    with pytest.raises(ValueError, match=r"d\.npz \(array X\) " + TOO_BIG):
        read_table(path)


def test_a_compressed_member_is_held_to_what_its_compressed_bytes_can_expand_to(tmp_path):
    """A directory entry may lie about a member's size: deflate expands at most 1032-fold."""
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", _header((500_000_000,)) + bytes(16))  # 4 GB claimed
        archive.writestr("y.npy", _header((2,)) + bytes(16))
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # X's entry in the directory: its size is at +24
    compressed = int.from_bytes(data[entry + 20:entry + 24], "little")
    data[entry + 24:entry + 28] = (2**32 - 16).to_bytes(4, "little")  # 4 GiB, room for 4 GB
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=(
            rf"d\.npz \(array X\) cannot be read .*\(4,000,000,000 bytes\), but only "
            rf"{1032 * compressed - len(_header((500_000_000,))):,} bytes of data follow")):
        read_table(path)


def test_an_npz_member_that_is_not_an_npy_file_is_refused(tmp_path):
    """NumPy hands such a member back as bytes, not as an array."""
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"1,2\n3,4\n")
        archive.writestr("y.npy", _header((2,)) + bytes(16))
    with pytest.raises(ValueError, match=r"d\.npz \(array X\) cannot be read \(truncated or "
                                         r"damaged\?\): the magic string is not correct"):
        read_table(path)


def test_an_npz_member_of_an_unknown_compression_method_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, **_with())
    data = bytearray(path.read_bytes())
    data[data.index(b"PK\x01\x02") + 10] = 99  # the first member's method, in the directory
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"d\.npz \(array X\) cannot be read \(truncated or "
                                         r"damaged\?\): .*compression method"):
        read_table(path)


def test_an_npz_that_does_not_begin_as_a_zip_file_is_not_called_python_objects(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, **_with())
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF  # the directory at the end is intact: only the start is wrong
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"d\.npz is not a NumPy \.npz archive: it does not "
                                         r"begin as a zip file does \(damaged, or another "
                                         r"format\)"):
        read_table(path)


def test_an_npz_of_python_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([[1, "a"]], dtype=object), y=np.array([1]))
    with pytest.raises(ValueError, match=r"d\.npz \(array X\) holds Python objects \(dtype "
                                         r"object\), which are not loaded"):
        read_table(path)


@BOTH_READERS
def test_a_text_file_named_npy_is_not_called_pickled_data(tmp_path, read):
    path = tmp_path / "d.npy"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match=r"d\.npy is not a NumPy \.npy file \(it does not "
                                         r"begin with the \.npy header\); a text table needs "
                                         r"the suffix \.csv"):
        read(path)


@BOTH_READERS
def test_a_truncated_or_object_npy_is_refused_naming_the_file(tmp_path, read):
    path = tmp_path / "d.npy"
    np.save(path, X)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"d\.npy cannot be read \(truncated or damaged\?\)"):
        read(path)
    np.save(path, np.array([1, "a", None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"d\.npy holds Python objects \(dtype object\)"):
        read(path)


@pytest.mark.parametrize("array, message", [
    (X.reshape(3, 2, 2), (r"the array must be 2-D \(n_samples, n_features\), got shape "
                         r"\(3, 2, 2\)")),
    (X.astype(str), r"the array must hold numbers .*got dtype <U32"),
    (_nan_at(X, (5, 0)), (r"every feature must be a finite number, got nan at index \(5, 0\) "
                         "of the array")),
])
def test_npy_features_that_do_not_fit_are_refused_naming_the_file(tmp_path, array, message):
    np.save(tmp_path / "f.npy", array)
    with pytest.raises(ValueError, match=r"f\.npy: " + message):
        read_features(tmp_path / "f.npy")


def test_npy_features_of_one_sample_may_be_1d(tmp_path):
    np.save(tmp_path / "f.npy", X[0])
    np.testing.assert_array_equal(read_features(tmp_path / "f.npy"), X[:1])


def test_an_npy_table_must_be_a_table(tmp_path):
    np.save(tmp_path / "t.npy", X.reshape(3, 2, 2))
    with pytest.raises(ValueError, match=r"t\.npy must hold a table: a 2-D array of numbers or "
                                         r"strings \(one row per sample\), got dtype float64 "
                                         r"and shape \(3, 2, 2\)"):
        read_table(tmp_path / "t.npy", 0)


@pytest.mark.parametrize("suffix", [".NPZ", ".Npz"])
def test_an_npz_suffix_is_read_whatever_its_case(tmp_path, suffix):
    np.savez(tmp_path / "T.npz", **_with())
    path = (tmp_path / "T.npz").rename(tmp_path / f"T{suffix}")
    features, targets = read_table(path)
    np.testing.assert_array_equal(features, X)
    np.testing.assert_array_equal(targets, Y)
    np.testing.assert_array_equal(read_features(path), X)
    config = {"dataset": "files", "train": str(path), "validation_size": 0.0, "test_size": 0.5}
    assert len(load_data(config).y_train) == 3  # data.train=T.NPZ, as chainrule train reads it


@pytest.mark.parametrize("suffix", [".NPY", ".nPy"])
def test_an_npy_suffix_is_read_whatever_its_case(tmp_path, suffix):
    path = tmp_path / f"X{suffix}"
    with open(path, "wb") as file:  # np.save would add ".npy"
        np.save(file, np.column_stack([X, Y]))
    np.testing.assert_array_equal(read_features(path), np.column_stack([X, Y]))
    features, targets = read_table(path)
    np.testing.assert_array_equal(features, X)
    np.testing.assert_array_equal(targets, Y)
