"""The strict IDX reader."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from chainrule.datasets.idx import IDX_DTYPES, parse_idx, read_idx


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """Encode ``array`` as IDX by hand: magic, big-endian sizes, big-endian data."""
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(IDX_DTYPES[code]).tobytes()


@pytest.mark.parametrize(
    "code, dtype",
    [
        (0x08, np.uint8),
        (0x09, np.int8),
        (0x0B, np.int16),
        (0x0C, np.int32),
        (0x0D, np.float32),
        (0x0E, np.float64),
    ],
)
def test_round_trip_every_dtype(code, dtype, rng):
    array = rng.integers(0, 100, (3, 4, 5)).astype(dtype)
    if array.dtype.kind != "u":
        array = array - 50 + rng.random((3, 4, 5)).astype(dtype)
    result = parse_idx(idx_bytes(array, code))
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    np.testing.assert_array_equal(result, array)
    result[0, 0, 0] = 1  # writable, not a view of the bytes


def test_big_endian_is_decoded():
    data = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + bytes([0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE])
    np.testing.assert_array_equal(parse_idx(data), [256, -2])


def test_gzip_and_raw_files(tmp_path, rng):
    labels = rng.integers(0, 10, 17).astype(np.uint8)
    data = idx_bytes(labels, 0x08)
    (tmp_path / "raw").write_bytes(data)
    (tmp_path / "packed.gz").write_bytes(gzip.compress(data))
    np.testing.assert_array_equal(read_idx(tmp_path / "raw"), labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed.gz"), labels)


GOOD = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"\x00\x00", "only 2 byte"),
        (b"\x01\x00\x08\x01" + GOOD[4:], "magic number 0x01000801"),
        (b"\x00\x00\x07\x02" + GOOD[4:], "dtype code 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (GOOD[:10], "truncated IDX header"),
        (GOOD[:-1], "payload truncated.*needs 6 bytes.*has 5"),
        (GOOD + b"\x00", "trailing bytes"),
    ],
)
def test_damaged_data_raises_value_error(data, match):
    with pytest.raises(ValueError, match=match):
        parse_idx(data, name="file.idx")
    with pytest.raises(ValueError, match="file.idx"):
        parse_idx(data, name="file.idx")


def test_damaged_file_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(GOOD[:-2]))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz.*truncated"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(GOOD * 100)[:-20])
    with pytest.raises(ValueError, match=r"labels\.gz: damaged gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize(
    "sizes, needed",
    [
        ((65536,) * 4, 2**64),  # the int64 product wrapped to 0, which the empty payload matched
        ((2**32 - 1,) * 2, (2**32 - 1) ** 2),  # wrapped to a negative byte count
    ],
)
def test_huge_sizes_in_a_crafted_header_do_not_overflow(sizes, needed):
    header = bytes([0, 0, 0x08, len(sizes)]) + struct.pack(f">{len(sizes)}I", *sizes)
    with pytest.raises(ValueError, match=rf"crafted\.idx: IDX payload truncated: shape "
                                         rf".* of uint8 needs {needed} bytes after the header, "
                                         r"the file has 0"):
        parse_idx(header, name="crafted.idx")
