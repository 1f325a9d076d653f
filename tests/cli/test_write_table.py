"""``write_table`` (``chainrule predict -o``): .csv and .npy, written atomically."""

from __future__ import annotations

import os

import numpy as np
import pytest

from chainrule import tables
from chainrule.tables import write_csv, write_table


@pytest.mark.parametrize("name", ["predictions.csv", "predictions.npy"])
def test_a_failed_write_keeps_the_earlier_file_and_names_it(tmp_path, monkeypatch, name):
    path = tmp_path / name
    write_table(path, np.array([[0.25, 0.75]]), header=["p0", "p1"])
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match=rf"No space left on device: '.*{name}'"):
        write_table(path, np.arange(6.0).reshape(3, 2), header=["p0", "p1"])
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [name]


def test_csv_and_npy_hold_the_values(tmp_path):
    values = np.array([[0.5, 1.5], [2.0, -3.0]])
    write_table(tmp_path / "a.csv", values, header=["x", "y"])
    write_table(tmp_path / "b.npy", values)
    assert (tmp_path / "a.csv").read_bytes() == b"x,y\r\n0.5,1.5\r\n2.0,-3.0\r\n"
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), values)
    write_table(tmp_path / "c.csv", np.array(["cat", "dog"]))
    assert (tmp_path / "c.csv").read_bytes() == b"cat\r\ndog\r\n"


def test_a_csv_written_in_chunks_is_the_csv_written_at_once(tmp_path, monkeypatch):
    values = np.arange(35.0).reshape(7, 5) / 3
    lines = ["a,b,c,d,e", *(",".join(map(repr, row)) for row in values.tolist())]
    expected = "".join(line + "\r\n" for line in lines).encode()
    for fields in (1, 4, 1 << 14):  # a row, two rows, every row at a time
        monkeypatch.setattr(tables, "_CHUNK_FIELDS", fields)
        write_table(tmp_path / "p.csv", values, header=list("abcde"))
        assert (tmp_path / "p.csv").read_bytes() == expected
    write_csv(tmp_path / "empty.csv", [])
    assert (tmp_path / "empty.csv").read_bytes() == b""


def test_a_csv_is_not_held_whole_while_written(tmp_path):
    import tracemalloc

    values = np.random.default_rng(0).random((20_000, 50)).astype(np.float32)  # 4 MB, 19 MB of text
    tracemalloc.start()
    try:
        write_table(tmp_path / "p.csv", values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < values.nbytes, peak / values.nbytes  # held whole: 18 times values.nbytes
    assert (tmp_path / "p.csv").stat().st_size > 4 * values.nbytes


def test_rows_that_fail_midway_leave_the_earlier_file(tmp_path):
    path = tmp_path / "history.csv"
    write_csv(path, [["epoch", "loss"], [1, 0.5]])

    def rows():
        yield ["epoch", "loss"]
        for epoch in range(1, 100_000):
            yield [epoch, 1 / (100_000 - epoch - 1)]  # ZeroDivisionError after many chunks

    with pytest.raises(ZeroDivisionError):
        write_csv(path, rows())
    assert path.read_bytes() == b"epoch,loss\r\n1,0.5\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["history.csv"]
