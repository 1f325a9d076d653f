"""write_tensors / read_tensors: the container primitives model files and checkpoints share."""

from __future__ import annotations

import json
import os
import tracemalloc

import numpy as np
import pytest

from chainrule._safetensors import MAX_HEADER_BYTES
from chainrule._version import __version__
from chainrule.errors import ModelFormatError
from chainrule.io import FORMAT, FORMAT_VERSION, load, network_from, read_tensors, write_tensors


def test_arrays_and_metadata_round_trip(tmp_path, rng):
    tensors = {
        "weights": rng.normal(size=(3, 4)).astype(np.float32),
        "state.m": rng.normal(size=17),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3), np.float32),
        "cube": rng.normal(size=(2, 3, 4)),
    }
    metadata = {"epoch": "7", "history": json.dumps({"loss": [0.5, 0.25]}), "note": "héllo ✓"}
    path = tmp_path / "state.safetensors"
    write_tensors(path, tensors, metadata)
    read, read_metadata = read_tensors(path)
    assert read.keys() == tensors.keys()
    for name, array in tensors.items():
        assert read[name].dtype == array.dtype and read[name].shape == array.shape
        assert np.array_equal(read[name], array)
        assert read[name].flags.writeable and read[name].flags.owndata
    assert read_metadata == {**metadata, "format": FORMAT, "format_version": str(FORMAT_VERSION),
                             "chainrule_version": __version__}


def test_non_contiguous_and_big_endian_arrays_are_written_by_value(tmp_path, rng):
    base = rng.normal(size=(4, 6))
    views = {"transposed": base.T, "strided": base[:, ::2], "fortran": np.asfortranarray(base),
             "big_endian": base.astype(">f8")}
    write_tensors(tmp_path / "views.safetensors", views, {})
    read, _ = read_tensors(tmp_path / "views.safetensors")
    for name, view in views.items():
        assert np.array_equal(read[name], view), name


def test_the_file_is_the_header_then_the_little_endian_values(tmp_path, rng):
    """Byte for byte: the compact header (metadata first, keys sorted; float64 tensors first,
    then by name), padded with spaces to a multiple of 8, then each tensor's values in C order,
    whatever the arrays' byte order and memory layout."""
    base = rng.normal(size=(3, 4))
    tensors = {"w": base.T.astype(">f4"), "b": np.arange(3.0)[::-1], "s": np.array(2.5)}
    write_tensors(tmp_path / "state.safetensors", tensors, {"note": "é"})
    header = (
        '{"__metadata__":{"chainrule_version":"VERSION","format":"chainrule",'
        '"format_version":"1","note":"é"},"b":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},'
        '"s":{"dtype":"F64","shape":[],"data_offsets":[24,32]},'
        '"w":{"dtype":"F32","shape":[4,3],"data_offsets":[32,80]}}'
    ).replace("VERSION", __version__).encode()
    header += b" " * (-len(header) % 8)
    values = [np.array([2.0, 1.0, 0.0], "<f8"), np.array([2.5], "<f8"),
              np.ascontiguousarray(base.T, "<f4")]
    expected = len(header).to_bytes(8, "little") + header + b"".join(v.tobytes() for v in values)
    assert (tmp_path / "state.safetensors").read_bytes() == expected


def _traced_peak(function):
    """``(result, peak bytes allocated while function() ran)``."""
    tracemalloc.start()
    try:
        result = function()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def _some_tensors(rng):
    """About 1 MB of float64 and float32 arrays."""
    return {"m": rng.normal(size=(300, 200)), "v": rng.normal(size=(200, 300)),
            "b": rng.normal(size=5000).astype(np.float32)}


def test_writing_holds_no_copy_of_the_values(tmp_path, rng):
    tensors = _some_tensors(rng)
    size = sum(array.nbytes for array in tensors.values())
    _, peak = _traced_peak(lambda: write_tensors(tmp_path / "state.safetensors", tensors, {}))
    assert peak < 0.1 * size  # the arrays themselves are written, not bytes made of them


def test_reading_holds_no_copy_of_the_values(tmp_path, rng):
    tensors = _some_tensors(rng)
    size = sum(array.nbytes for array in tensors.values())
    path = tmp_path / "state.safetensors"
    write_tensors(path, tensors, {})
    (read, _), peak = _traced_peak(lambda: read_tensors(path))
    assert peak < 1.1 * size  # the arrays returned, read into: not the file's bytes as well
    assert all(np.array_equal(read[name], tensors[name]) for name in tensors)


def test_reserved_metadata(tmp_path):
    path = tmp_path / "state.safetensors"
    write_tensors(path, {}, {"format": FORMAT, "format_version": "1", "chainrule_version": "0.0.1"})
    assert read_tensors(path)[1]["chainrule_version"] == __version__  # replaced by the writer
    with pytest.raises(ValueError, match="format"):
        write_tensors(path, {}, {"format": "pytorch"})
    with pytest.raises(ValueError, match="format_version"):
        write_tensors(path, {}, {"format_version": "2"})


@pytest.mark.parametrize(
    ("tensors", "metadata", "error", "match"),
    [
        ({"x": np.arange(3)}, {}, TypeError, "float32 or float64"),
        ({"x": np.ones(3, np.float16)}, {}, TypeError, "float32 or float64"),
        ({"x": np.ones(3, np.complex64)}, {}, TypeError, "float32 or float64"),
        ({"x": [1.0, 2.0]}, {}, TypeError, "numpy array"),
        ({1: np.ones(3)}, {}, TypeError, "names must be str"),
        ({"": np.ones(3)}, {}, ValueError, "non-empty"),
        ({"__metadata__": np.ones(3)}, {}, ValueError, "__metadata__"),
        ({}, {"epoch": 3}, TypeError, "str to str"),
        ({}, ["epoch"], TypeError, "dict of str to str"),
        ([np.ones(3)], {}, TypeError, "dict of str to ndarray"),
    ],
)
def test_bad_input_is_refused_before_writing(tmp_path, tensors, metadata, error, match):
    with pytest.raises(error, match=match):
        write_tensors(tmp_path / "state.safetensors", tensors, metadata)
    assert os.listdir(tmp_path) == []


def test_a_header_beyond_the_reader_limit_is_not_written(tmp_path):
    with pytest.raises(ValueError, match="header"):
        write_tensors(tmp_path / "big.safetensors", {}, {"history": "x" * MAX_HEADER_BYTES})
    assert os.listdir(tmp_path) == []


def test_read_refuses_non_finite_unless_asked(tmp_path):
    path = tmp_path / "state.safetensors"
    write_tensors(path, {"m": np.array([1.0, np.nan]), "v": np.ones(2)}, {})
    with pytest.raises(ModelFormatError, match="'m'"):
        read_tensors(path)
    assert np.isnan(read_tensors(path, check_finite=False)[0]["m"][1])


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_tensors(tmp_path / "absent.safetensors")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.safetensors")


def test_a_file_without_a_network_is_not_a_model(tmp_path):
    path = tmp_path / "state.safetensors"
    write_tensors(path, {"optimizer.m": np.ones(3)}, {"epoch": "1"})
    with pytest.raises(ModelFormatError, match="no 'config'"):
        load(path)


def test_network_from_validates_its_arguments(tmp_path):
    from chainrule.layers.builders import mlp

    net = mlp([2, 3, 1], seed=0)
    config = json.dumps(net.get_config())
    weights = {name: param.copy() for name, param, _ in net.named_parameters()}
    rebuilt = network_from(config, weights, source="checkpoint.safetensors")
    assert np.array_equal(rebuilt.parameters, net.parameters)
    with pytest.raises(TypeError, match="JSON str"):
        network_from(net.get_config(), weights)
    with pytest.raises(TypeError, match="numpy arrays"):
        network_from(config, {name: w.tolist() for name, w in weights.items()})
    del weights["2.b"]
    with pytest.raises(ModelFormatError, match=r"checkpoint\.safetensors.*missing \['2\.b'\]"):
        network_from(config, weights, source="checkpoint.safetensors")
