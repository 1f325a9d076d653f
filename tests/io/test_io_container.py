"""The safetensors container written and read by chainrule itself: its exact layout, that the same
content always gives the same bytes, and agreement with the ``safetensors`` package (an oracle
used here and in ``test_io_roundtrip.py``'s ``test_the_file_is_plain_safetensors``, skipped when
it is not installed)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from _io_cases import assemble, split

from chainrule._safetensors import decode, encode, header_length, parse_header, read_into
from chainrule.errors import ModelFormatError
from chainrule.io import load, read_tensors, save, write_tensors


def _tensors():
    """Both dtypes, given out of order, with a 0-d, an empty and an odd-length tensor."""
    rng = np.random.default_rng(0)
    return {
        "b": rng.normal(size=(3,)).astype(np.float32),  # 12 bytes: a float64 after it would
        "a.W": rng.normal(size=(2, 3)),                  # be misaligned, so float64 goes first
        "scalar": np.array(2.5, np.float32),
        "empty": np.zeros((0, 4), np.float32),
        "z": rng.normal(size=(1,)),
        "größe": np.arange(4, dtype=np.float32),
    }


def _read(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str] | None]:
    """``(tensors, metadata)`` of in-memory file bytes, through chainrule's reader."""
    n = header_length(data[:8], len(data), "bytes")
    header = parse_header(data[8 : 8 + n], len(data) - 8 - n, "bytes")
    return decode(io.BytesIO(data[8 + n :]), header, "bytes"), header.metadata


def test_the_layout_is_fixed_by_the_content():
    metadata = {"zeta": "1", "alpha": "2", "mid": "3"}
    data = encode(_tensors(), metadata)
    n = int.from_bytes(data[:8], "little")
    raw = data[8 : 8 + n]
    assert n % 8 == 0  # the data buffer starts 8-byte aligned
    text = raw.decode("utf-8")
    assert text.startswith('{"__metadata__":{"alpha":"2","mid":"3","zeta":"1"},"a.W":')
    assert set(text[len(text.rstrip()):]) <= {" "}  # padded with spaces
    header = json.loads(raw)
    names = [name for name in header if name != "__metadata__"]
    assert names == ["a.W", "z", "b", "empty", "größe", "scalar"]  # float64 first, then by name
    position = 0
    for name in names:
        begin, end = header[name]["data_offsets"]
        itemsize = 8 if header[name]["dtype"] == "F64" else 4
        assert begin == position and begin % itemsize == 0, name
        position = end
    assert position == len(data) - 8 - n


def test_values_round_trip_exactly():
    tensors = _tensors()
    read, metadata = _read(encode(tensors, {"k": "v"}))
    assert metadata == {"k": "v"}
    assert sorted(read) == sorted(tensors)
    for name, array in tensors.items():
        assert read[name].dtype == array.dtype and read[name].shape == array.shape, name
        assert read[name].tobytes() == array.tobytes(), name
        assert read[name].flags.owndata and read[name].flags.writeable, name


@pytest.mark.parametrize("wrong", [
    np.empty((3, 2)), np.empty((2, 3), np.float32), np.empty((3, 2)).T,
    np.broadcast_to(0.0, (2, 3)),
], ids=["shape", "dtype", "not-contiguous", "read-only"])
def test_values_are_read_only_into_arrays_that_hold_them_in_place(wrong):
    """Reading into a copy (reshaping a non-contiguous array) would lose the values silently."""
    data = encode({"W": np.ones((2, 3))}, {})
    n = header_length(data[:8], len(data), "bytes")
    header = parse_header(data[8 : 8 + n], len(data) - 8 - n, "bytes")
    with pytest.raises(ValueError, match=r"^tensor 'W' must be read into a writeable "
                                         r"C-contiguous array of dtype float64 and shape \(2, 3\)"):
        read_into(io.BytesIO(data[8 + n :]), header, {"W": wrong}, "bytes")
    target = np.zeros((2, 3))
    read_into(io.BytesIO(data[8 + n :]), header, {"W": target}, "bytes")
    assert np.array_equal(target, np.ones((2, 3)))


def test_the_same_network_is_saved_as_the_same_bytes_in_any_process(tmp_path):
    """Nothing in a file depends on the process: dict order, hash seeds, memory addresses."""
    code = ("import sys, numpy as np, chainrule as cr; "
            "net = cr.mlp([3, 5, 3], activation='tanh', output='softmax', seed=0); "
            "trainer = cr.Trainer(net, 'cross_entropy', batch_size=4, verbose=0, seed=0); "
            "trainer.fit(np.eye(3)[[0, 1, 2, 0]], ['a', 'b', 'c', 'a'], epochs=1); "
            "cr.save(net, sys.argv[1], trainer=trainer)")
    paths = []
    for hash_seed in ("1", "2"):
        path = tmp_path / f"model-{hash_seed}.safetensors"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True)
        paths.append(path)
    first = paths[0].read_bytes()
    assert paths[1].read_bytes() == first
    again = tmp_path / "again.safetensors"
    save(load(paths[0]), again)  # the targets are not carried by load(): compare the tensors
    assert split(again.read_bytes())[1] == split(first)[1]


def test_byte_order_and_memory_layout_do_not_change_the_bytes():
    rng = np.random.default_rng(1)
    plain = {"W": rng.normal(size=(4, 3)), "v": rng.normal(size=5).astype(np.float32)}
    unusual = {"W": np.asfortranarray(plain["W"]).astype(">f8"),
               "v": np.repeat(plain["v"], 2)[::2]}  # big-endian, Fortran order, strided
    assert not unusual["v"].flags.c_contiguous
    assert encode(unusual, {}) == encode(plain, {})


@pytest.mark.parametrize(("tensors", "metadata"), [
    ({"\ud800": np.zeros(1)}, {}),
    ({"W": np.zeros(1)}, {"note": "x\udfff"}),
], ids=["name", "metadata"])
def test_strings_that_are_not_unicode_are_not_written(tmp_path, tensors, metadata):
    path = tmp_path / "state.safetensors"
    with pytest.raises(ValueError, match="not valid Unicode"):
        write_tensors(path, tensors, metadata)
    assert not path.exists()


def test_metadata_that_is_not_unicode_is_refused_when_read(tmp_path):
    path = tmp_path / "state.safetensors"
    write_tensors(path, {"W": np.ones(2)}, {"note": "NOTE"})
    header, body = split(path.read_bytes())
    header["__metadata__"]["note"] = "\udfff"
    path.write_bytes(assemble(header, body))
    with pytest.raises(ModelFormatError, match="not valid Unicode"):
        read_tensors(path)


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1.5e400"])
def test_a_number_beyond_the_float_range_is_refused_like_infinity(number):
    """JSON has no infinity, but Python reads a number beyond the float64 range as one: the
    header (and every strict JSON entry, as a model file's targets) refuses it as it refuses
    the literal Infinity, rather than reading inf."""
    raw = f'{{"__metadata__": {{}}, "x": {number}}}'.encode()
    with pytest.raises(ModelFormatError, match=f"^f.safetensors: the header is not valid JSON "
                                               f"\\(the number {number} is beyond the float64 "
                                               f"range\\)"):
        parse_header(raw, 0, "f.safetensors")


# ---------------------------------------------------------------------------------------------
# Against the safetensors package
# ---------------------------------------------------------------------------------------------

METADATA_TEXT = 'say "hi"\\ \n\t\x01\x7f é ✓ \u2028'  # escapes and non-ASCII


@pytest.mark.parametrize("metadata", [{}, {"note": METADATA_TEXT}], ids=["none", "one-key"])
def test_the_package_writes_the_same_bytes(metadata):
    """With at most one metadata key (the package orders several by a hash), byte for byte."""
    package = pytest.importorskip("safetensors.numpy")
    tensors = _tensors()
    assert encode(tensors, metadata) == package.save(tensors, metadata=metadata)


def test_the_package_and_chainrule_read_each_other():
    package = pytest.importorskip("safetensors.numpy")
    tensors = _tensors()
    metadata = {f"key{i}": f"{METADATA_TEXT} {i}" for i in range(8)}
    for read, metadata_read in [
        (package.load(encode(tensors, metadata)), metadata),
        _read(package.save(tensors, metadata=metadata)),
    ]:
        assert metadata_read == metadata
        assert sorted(read) == sorted(tensors)
        for name, array in tensors.items():
            assert read[name].dtype == array.dtype and read[name].shape == array.shape, name
            assert read[name].tobytes() == array.tobytes(), name
