"""``write_table`` (``chainrule predict -o``): .csv and .npy, written atomically."""

from __future__ import annotations

import os

import numpy as np
import pytest

from chainrule.tables import write_table


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
