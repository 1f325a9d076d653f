"""The loader against damaged and hostile files: always ModelFormatError, never a big allocation.

Every case is refused in-process (one test each, for readable failures), and again in a child
process whose address space is limited to ~256 MiB above what it uses after its imports, which
proves that no declared size (a huge shape, a huge layer, a huge header length) makes the
loader allocate memory before it is refused.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from _io_cases import base_network, byte_flips, hostile_files, truncations

from chainrule._safetensors import MAX_HEADER_BYTES
from chainrule.errors import ModelFormatError
from chainrule.io import load, read_tensors, save

HERE = Path(__file__).resolve().parent
SOURCES = [HERE.parents[1] / "src" / "chainrule" / name for name in ("io.py", "_safetensors.py")]


def _valid_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.safetensors"
        save(base_network(), path)
        return path.read_bytes()


VALID = _valid_bytes()
HOSTILE = hostile_files(VALID)
N_FLIPS = 300


def _refused(path: Path, **kwargs) -> ModelFormatError:
    with pytest.raises(ModelFormatError) as info:
        load(path, **kwargs)
    assert str(path) in str(info.value)  # the message names the file
    return info.value


def _assert_same_architecture(net) -> None:
    reference = base_network()
    assert [type(layer) for layer in net.layers] == [type(layer) for layer in reference.layers]
    assert net.dtype == reference.dtype
    shapes = [(name, p.shape) for name, p, _ in net.named_parameters()]
    assert shapes == [(name, p.shape) for name, p, _ in reference.named_parameters()]


def test_the_undamaged_file_loads(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(VALID)
    net = load(path)
    _assert_same_architecture(net)
    assert np.array_equal(net.parameters, base_network().parameters)


@pytest.mark.parametrize(("case", "data"), HOSTILE, ids=[case for case, _ in HOSTILE])
def test_hostile_file_is_refused(tmp_path, case, data):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(data)
    _refused(path)


# What the message of some cases must say (beyond the file name).
MESSAGES = {
    "empty-file": "too short",
    "length-past-end": "past the end",
    "length-huge": "past the end",
    "non-utf8-header": "UTF-8",
    "header-duplicate-key": "duplicate key",
    "huge-shape": "'0.W'",
    "huge-shape-offsets": "'0.W'",
    "shape-empty-but-huge": "'x' has shape [0, 1180591620717411303424]; a tensor may have",
    "shape-empty-but-too-big": "at most 32 dimensions and",
    "shape-too-many-dimensions": "'0.b' has shape [1, 1,",
    "offsets-overlap": "overlaps",
    "offsets-gap": "gap",
    "dtype-F16": "'F16'",
    "dtype-object": "'object'",
    "metadata-missing": "__metadata__",
    "format-other": "not a chainrule file",
    "format-version-'2'": "newer chainrule",
    "format-version-'one'": "format_version",
    "config-missing": "'config'",
    "config-not-json": "not valid JSON",
    "config-unknown-layer": "'Conv2D'",
    "config-huge-layer": "'0.W'",
    "config-shape-mismatch": "(4, 3)",
    "names-renamed": "'1.W'",
    "name-empty": "a tensor has an empty name",
    "name-lone-surrogate": "not valid Unicode",
    "tensors-float64-config-float32": "float64",
    "layers-do-not-fit": "do not fit",
    "nan-weights": "NaN",
}


@pytest.mark.parametrize(("case", "expected"), sorted(MESSAGES.items()))
def test_messages_say_what_is_wrong(tmp_path, case, expected):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(dict(HOSTILE)[case])
    assert expected in str(_refused(path))


def test_unknown_layer_message_lists_the_known_types(tmp_path):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(dict(HOSTILE)["config-unknown-layer"])
    message = str(_refused(path))
    for known in ("Dense", "ReLU", "Dropout", "Softmax"):
        assert known in message


def test_non_finite_weights_load_only_when_asked(tmp_path):
    for case in ("nan-weights", "inf-weights"):
        path = tmp_path / f"{case}.safetensors"
        path.write_bytes(dict(HOSTILE)[case])
        _refused(path)
        net = load(path, check_finite=False)
        _assert_same_architecture(net)
        assert not np.isfinite(net.parameters).all()


def test_a_header_length_beyond_the_limit_is_refused_before_reading_it(tmp_path):
    # A file big enough to hold the declared header (sparse: nothing is really written).
    path = tmp_path / "huge-header.safetensors"
    n = MAX_HEADER_BYTES + 1
    with open(path, "wb") as file:
        file.write(n.to_bytes(8, "little"))
        file.truncate(8 + n)
    message = str(_refused(path))
    assert f"the header length {n:,} exceeds the limit of {MAX_HEADER_BYTES:,} bytes" in message


@pytest.mark.parametrize("read", [read_tensors, load], ids=["read_tensors", "load"])
@pytest.mark.parametrize("change", [b"\0" * 8, None], ids=["grows", "shrinks"])
def test_a_file_that_changes_size_while_being_read_is_refused(tmp_path, monkeypatch, change,
                                                              read):
    path = tmp_path / "model.safetensors"
    path.write_bytes(VALID)
    real_fstat = os.fstat

    def fstat(fd):  # another process rewrites the file right after its size was taken
        result = real_fstat(fd)
        with open(path, "r+b") as other:
            if change is None:
                other.truncate(len(VALID) - 8)
            else:
                other.seek(0, os.SEEK_END)
                other.write(change)
        monkeypatch.setattr(os, "fstat", real_fstat)
        return result

    monkeypatch.setattr(os, "fstat", fstat)
    with pytest.raises(ModelFormatError, match="the file changed size while it was being read"):
        read(path)


@pytest.mark.parametrize("length", truncations(VALID))
def test_truncated_file_is_refused(tmp_path, length):
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(VALID[:length])
    _refused(path)


def test_byte_flips_are_refused_or_load_the_right_architecture(tmp_path):
    path = tmp_path / "flipped.safetensors"
    outcomes = {"refused": 0, "loaded": 0}
    for _position, _mask, data in byte_flips(VALID, N_FLIPS, seed=0):
        path.write_bytes(data)
        try:
            net = load(path)
        except ModelFormatError as exc:
            assert str(path) in str(exc)
            outcomes["refused"] += 1
        else:  # e.g. a flip inside a weight: a valid file with another value
            _assert_same_architecture(net)
            outcomes["loaded"] += 1
    # Both kinds happen, so the test distinguishes them (the data region is ~15% of the file).
    assert outcomes["refused"] > N_FLIPS // 2
    assert outcomes["loaded"] > 0


# ---------------------------------------------------------------------------------------------
# The same cases under a memory limit
# ---------------------------------------------------------------------------------------------

_CHILD = r"""
import json, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import numpy as np
from _io_cases import base_network, byte_flips, hostile_files, truncations
from chainrule.errors import ModelFormatError
from chainrule.io import load, save

folder = Path(tempfile.mkdtemp())
path = folder / "model.safetensors"
save(base_network(), path)
valid = path.read_bytes()
load(path)  # warm up every code path once
cases = [("hostile " + c, d) for c, d in hostile_files(valid)]
cases += [(f"truncated {n}", valid[:n]) for n in truncations(valid)]
flips = byte_flips(valid, int(sys.argv[2]), seed=0)
cases += [(f"flip #{i} at {p}.{b}", d) for i, (p, b, d) in enumerate(flips)]

status = Path("/proc/self/status").read_text()
vm_kib = int(next(line for line in status.splitlines() if line.startswith("VmSize:")).split()[1])
limit = vm_kib * 1024 + 256 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
try:
    np.ones(2**30 // 8)  # 1 GiB: must fail, or the limit proves nothing
    bites = False
except MemoryError:
    bites = True

results = {}
for case, data in cases:
    path.write_bytes(data)
    try:
        load(path)
        results[case] = "loaded"
    except ModelFormatError:
        results[case] = "refused"
    except BaseException as exc:
        results[case] = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps({"bites": bites, "results": results}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux")
def test_every_case_is_refused_under_a_memory_limit():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(HERE), str(N_FLIPS)],
        capture_output=True, text=True, env=env, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["bites"], "the memory limit did not stop a 1 GiB allocation"
    results = report["results"]
    assert len(results) == len(HOSTILE) + len(truncations(VALID)) + N_FLIPS
    wrong = {case: outcome for case, outcome in results.items()
             if outcome != "refused" and not (case.startswith("flip") and outcome == "loaded")}
    assert not wrong


# ---------------------------------------------------------------------------------------------
# Nothing is executed
# ---------------------------------------------------------------------------------------------

_FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle",
                      "joblib", "importlib"}
_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "load_module"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_the_loader_source_never_unpickles_or_evaluates(source):
    text = source.read_text()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {alias.name.split(".")[0] for alias in node.names} & _FORBIDDEN_MODULES
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in _FORBIDDEN_MODULES
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            assert name not in _FORBIDDEN_CALLS, f"{source.name}:{node.lineno} calls {name}"
            # numpy's own loader can unpickle (allow_pickle); it is never used.
            if isinstance(function, ast.Attribute) and name in ("load", "loads"):
                owner = function.value
                assert not (isinstance(owner, ast.Name) and owner.id in ("np", "numpy")), (
                    f"{source.name}:{node.lineno} calls numpy's load"
                )
    assert "allow_pickle" not in text


def test_loading_calls_no_unpickler(tmp_path, monkeypatch):
    """Loading valid and hostile files with pickle and marshal booby-trapped."""
    import marshal
    import pickle

    def trap(*args, **kwargs):
        raise AssertionError("the loader unpickled something")

    for module, names in ((pickle, ("load", "loads", "Unpickler")), (marshal, ("load", "loads"))):
        for name in names:
            monkeypatch.setattr(module, name, trap)
    path = tmp_path / "model.safetensors"
    path.write_bytes(VALID)
    load(path)
    for case in ("config-pickle-like", "config-unknown-layer", "huge-shape"):
        path.write_bytes(dict(HOSTILE)[case])
        _refused(path)
