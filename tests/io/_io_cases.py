"""Networks and damaged model files shared by the io tests (and their memory-bounded child).

``hostile_files(valid)`` turns the bytes of one valid model file into a list of
``(case id, bytes)`` that must all be refused with ``ModelFormatError``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.layers.activations import ELU, LeakyReLU, ReLU
from chainrule.layers.base import LAYERS, Layer
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.rescale import Rescale
from chainrule.layers.sequential import Sequential

# Layers whose constructor needs (or is worth testing with) arguments; every other registered
# layer type is built with no arguments. A new layer type with required arguments needs an
# entry here, or the registry-driven round trip fails and says so.
LAYER_EXAMPLES: dict[str, Callable[[], Layer]] = {
    "Dense": lambda: Dense(4, 4, bias=False, init={"name": "small_normal", "std": 0.5}, l2=0.1),
    "Dropout": lambda: Dropout(0.25),
    "LeakyReLU": lambda: LeakyReLU(0.2),
    "ELU": lambda: ELU(0.7),
    "Rescale": lambda: Rescale(offset=[0.5, -1.0, 2.0, 0.0], scale=[2.0, 0.25, 1.0, 3.0]),
}


def example_layer(name: str) -> Layer:
    """A layer of the registered type ``name`` (4 features in, 4 out)."""
    if name in LAYER_EXAMPLES:
        return LAYER_EXAMPLES[name]()
    try:
        return LAYERS.get(name)()
    except TypeError as exc:
        raise AssertionError(
            f"layer type {name!r} needs constructor arguments: add it to LAYER_EXAMPLES in "
            f"tests/io/_io_cases.py ({exc})"
        ) from None


def network_with(name: str, dtype: Any = np.float32, seed: int = 0) -> Sequential:
    """Dense(3, 4) → the example layer of type ``name`` → Dense(4, 2, l1=0.01)."""
    layers = [Dense(3, 4, init="he_normal"), example_layer(name), Dense(4, 2, l1=0.01)]
    return Sequential(layers, dtype=dtype, seed=seed)


def base_network(dtype: Any = np.float32) -> Sequential:
    """The network whose file the fuzz tests damage: tensors 0.W, 0.b, 2.W, 2.b."""
    return Sequential([Dense(3, 4), ReLU(), Dense(4, 2)], dtype=dtype, seed=0)


# --------------------------------------------------------------------------------------------
# Taking files apart and putting them back together
# --------------------------------------------------------------------------------------------


def split(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(the header as a dict, the data buffer) of a valid file."""
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def assemble(header: dict[str, Any] | bytes, body: bytes, length: int | None = None) -> bytes:
    """A file from a header (a dict, or raw bytes) and a body; ``length`` overrides N."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(raw) if length is None else length
    return n.to_bytes(8, "little", signed=n < 0) + raw + body


def _edit(valid: bytes, change: Callable[[dict[str, Any]], None], body: bytes | None = None):
    header, data = split(valid)
    change(header)
    return assemble(header, data if body is None else body)


def _edit_config(valid: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    def apply(header: dict[str, Any]) -> None:
        config = json.loads(header["__metadata__"]["config"])
        change(config)
        header["__metadata__"]["config"] = json.dumps(config)

    return _edit(valid, apply)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return apply


_DELETE = object()


def _safetensors_file(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None) -> bytes:
    """A well-formed safetensors file of ``tensors`` (written here, bypassing chainrule's
    checks); without ``__metadata__`` when ``metadata`` is None."""
    header: dict[str, Any] = {} if metadata is None else {"__metadata__": metadata}
    body, offset = [], 0
    for name, array in tensors.items():
        body.append(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
        header[name] = {"dtype": {4: "F32", 8: "F64"}[array.dtype.itemsize],
                        "shape": list(array.shape), "data_offsets": [offset, offset + len(body[-1])]}
        offset += len(body[-1])
    return assemble(header, b"".join(body))


def _with_header_bytes(valid: bytes, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` by ``new`` (same length) inside the header."""
    assert len(old) == len(new)
    n = int.from_bytes(valid[:8], "little")
    header = valid[8 : 8 + n]
    assert old in header
    return valid[:8] + header.replace(old, new, 1) + valid[8 + n :]


# --------------------------------------------------------------------------------------------
# Hostile files
# --------------------------------------------------------------------------------------------


def hostile_files(valid: bytes) -> list[tuple[str, bytes]]:
    """Every hand-crafted bad file derived from ``valid`` (a saved :func:`base_network`)."""
    header, body = split(valid)
    n = int.from_bytes(valid[:8], "little")
    metadata = header["__metadata__"]
    config = json.loads(metadata["config"])
    W0 = header["0.W"]
    last = max((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])
    end = header[last]["data_offsets"][1]
    cases: list[tuple[str, bytes]] = []

    def add(case: str, data: bytes) -> None:
        cases.append((case, data))

    # -- the length prefix
    add("empty-file", b"")
    add("length-only", valid[:8])
    add("length-past-end", assemble(valid[8 : 8 + n], body, length=len(valid)))
    add("length-huge", assemble(valid[8 : 8 + n], body, length=2**63 + 5))
    add("length-negative", assemble(valid[8 : 8 + n], body, length=-1))
    add("length-zero", assemble(b"", valid[8:], length=0))
    add("length-short", assemble(valid[8 : 8 + n], body, length=n - 1))
    add("length-long", assemble(valid[8 : 8 + n], body, length=n + 1))
    # -- the header as text
    add("non-utf8-header", _with_header_bytes(valid, b'"format"', b'"f\xff\xfemat"'))
    add("header-not-json", assemble(b"{not json" + b" " * 16, body))
    add("header-json-array", assemble(b"[]", body))
    add("header-json-null", assemble(b"null", body))
    add("header-deeply-nested", assemble(b"[" * 200_000 + b"]" * 200_000, body))
    add("header-duplicate-key", _with_header_bytes(valid, b'"0.b"', b'"0.W"'))
    add("header-nan-constant", _edit(valid, _set(("0.W", "shape"), "NANMARK")).replace(
        b'"NANMARK"', b"NaN      "))  # same length, so N stays right
    # -- tensor entries
    add("huge-shape", _edit(valid, _set(("0.W", "shape"), [10**12, 10**12])))
    add("huge-shape-offsets", _edit(valid, _set(("0.W",), {
        "dtype": "F32", "shape": [10**12, 10**12], "data_offsets": [0, 4 * 10**24]})))
    add("huge-shape-alone", assemble(
        {"__metadata__": metadata, "x": {"dtype": "F64", "shape": [2**40, 2**40],
                                         "data_offsets": [0, 8 * 2**80]}}, b""))
    add("shape-empty-but-huge", _edit(valid, _set(("x",), {  # no bytes: it tiles
        "dtype": "F32", "shape": [0, 2**70], "data_offsets": [end, end]})))
    add("shape-empty-but-too-big", _edit(valid, _set(("x",), {
        "dtype": "F64", "shape": [0, 2**61, 2], "data_offsets": [end, end]})))
    add("shape-too-many-dimensions", _edit(valid, _set(("0.b", "shape"),
                                                       [1] * 64 + header["0.b"]["shape"])))
    w_begin, w_end = W0["data_offsets"]
    add("offsets-wrong-size", _edit(valid, _set(("0.W", "data_offsets"), [w_begin, w_end - 4])))
    add("offsets-overlap", _edit(valid, _set(("0.b", "data_offsets"), [0, 16])))
    add("offsets-gap", _edit(
        valid, _set((last, "data_offsets"), [o + 4 for o in header[last]["data_offsets"]]),
        body=body + b"\0" * 4))
    begin, stop = header[last]["data_offsets"]
    add("offsets-past-end", _edit(valid, _set((last,), {  # consistent, but runs off the end
        "dtype": header[last]["dtype"], "shape": [2 * math.prod(header[last]["shape"])],
        "data_offsets": [begin, stop + (stop - begin)]})))
    add("offsets-negative", _edit(valid, _set(("0.W", "data_offsets"), [-4, 44])))
    add("offsets-floats", _edit(valid, _set(("0.W", "data_offsets"),
                                            [float(o) for o in W0["data_offsets"]])))
    add("offsets-strings", _edit(valid, _set(("0.W", "data_offsets"),
                                             [str(o) for o in W0["data_offsets"]])))
    add("offsets-three", _edit(valid, _set(("0.W", "data_offsets"), [*W0["data_offsets"], end])))
    add("offsets-reversed", _edit(valid, _set(("0.W", "data_offsets"), W0["data_offsets"][::-1])))
    for dtype in ("F16", "I64", "BOOL", "object", "f32", "float32", "U8", 32, None):
        add(f"dtype-{dtype}", _edit(valid, _set(("0.W", "dtype"), dtype)))
    add("shape-negative", _edit(valid, _set(("0.W", "shape"), [-3, -4])))
    add("shape-floats", _edit(valid, _set(("0.W", "shape"), [3.0, 4.0])))
    add("shape-bools", _edit(valid, _set(("0.W", "shape"), [True, 4])))
    add("shape-string", _edit(valid, _set(("0.W", "shape"), "3x4")))
    add("entry-extra-key", _edit(valid, _set(("0.W", "extra"), 1)))
    add("entry-missing-key", _edit(valid, _set(("0.W", "shape"), _DELETE)))
    add("entry-not-object", _edit(valid, _set(("0.W",), [1, 2, 3])))
    add("trailing-bytes", valid + b"\0" * 8)
    # -- metadata
    add("metadata-missing", _edit(valid, _set(("__metadata__",), _DELETE)))
    add("metadata-not-object", _edit(valid, _set(("__metadata__",), ["format", "chainrule"])))
    add("metadata-value-not-string", _edit(valid, _set(("__metadata__", "epoch"), 3)))
    add("format-missing", _edit(valid, _set(("__metadata__", "format"), _DELETE)))
    add("format-other", _edit(valid, _set(("__metadata__", "format"), "pt")))
    add("format-version-missing", _edit(valid, _set(("__metadata__", "format_version"), _DELETE)))
    for version in ("2", "999", "0", "-1", "one", "1.0", " 1", "\u0661", "9" * 40):
        add(f"format-version-{version!r}", _edit(
            valid, _set(("__metadata__", "format_version"), version)))
    add("config-missing", _edit(valid, _set(("__metadata__", "config"), _DELETE)))
    add("config-not-json", _edit(valid, _set(("__metadata__", "config"), "{'dtype': float32")))
    add("config-pickle-like", _edit(valid, _set(("__metadata__", "config"),
                                                "cos\nsystem\n(S'echo hacked'\ntR.")))
    add("config-array", _edit(valid, _set(("__metadata__", "config"), "[]")))
    add("config-nan", _edit(valid, _set(("__metadata__", "config"), metadata["config"].replace(
        '"l1": 0.0', '"l1": NaN', 1))))
    add("config-extra-key", _edit_config(valid, _set(("name",), "mine")))
    add("config-no-layers", _edit_config(valid, _set(("layers",), _DELETE)))
    add("config-empty-layers", _edit_config(valid, _set(("layers",), [])))
    add("config-dtype", _edit_config(valid, _set(("dtype",), "float16")))
    add("config-dtype-mismatch", _edit_config(valid, _set(("dtype",), "float64")))
    add("config-layer-no-type", _edit_config(valid, _set(("layers", 1, "type"), _DELETE)))
    add("config-layer-not-object", _edit_config(valid, _set(("layers", 1), "ReLU")))
    add("config-unknown-layer", _edit_config(valid, _set(("layers", 1, "type"), "Conv2D")))
    add("config-layer-type-not-string", _edit_config(valid, _set(("layers", 1, "type"), 7)))
    add("config-layer-config-not-object", _edit_config(valid, _set(("layers", 1, "config"), [])))
    add("config-bad-argument",
        _edit_config(valid, _set(("layers", 0, "config", "in_features"), -3)))
    add("config-unknown-argument", _edit_config(valid, _set(("layers", 1, "config", "x"), 1)))
    add("config-bool-size", _edit_config(valid, _set(("layers", 0, "config", "in_features"), True)))
    add("config-unknown-init", _edit_config(valid, _set(("layers", 0, "config", "init"), "magic")))
    def huge_hidden_layer(config: dict[str, Any]) -> None:  # consistent sizes, 2 GB of floats
        config["layers"][0]["config"]["out_features"] = 10**8
        config["layers"][2]["config"]["in_features"] = 10**8

    add("config-huge-layer", _edit_config(valid, huge_hidden_layer))
    add("config-shape-mismatch", _edit_config(valid, lambda c: c["layers"][0]["config"].update(
        in_features=4, out_features=3)))  # 0.W is (3, 4): same size, other shape
    add("config-layer-missing", _edit_config(valid, lambda c: c["layers"].pop()))
    # -- tensor names against the architecture
    add("names-renamed", _edit(valid, lambda h: h.update({"1.W": h.pop("2.W")})))
    add("name-empty", _edit(valid, lambda h: h.update({"": h.pop("0.W")})))
    # A lone surrogate is a str in Python's JSON, but not valid Unicode: no other reader would
    # accept the name, nor could the file be written again.
    add("name-lone-surrogate", _edit(valid, lambda h: h.update({"\ud800": h.pop("0.W")})))
    add("header-entry-deleted", _edit(valid, _set(("2.b",), _DELETE)))
    add("names-extra", _safetensors_file(
        {**_tensors(valid), "3.W": np.zeros((2, 2), np.float32)}, metadata))
    add("names-missing-tensor", _safetensors_file(
        {k: v for k, v in _tensors(valid).items() if k != "2.b"}, metadata))
    add("tensors-float64-config-float32", _safetensors_file(
        {k: v.astype(np.float64) for k, v in _tensors(valid).items()}, metadata))
    add("layers-do-not-fit", _safetensors_file(
        {"0.W": np.zeros((3, 4), np.float32), "0.b": np.zeros(4, np.float32),
         "1.W": np.zeros((3, 4), np.float32), "1.b": np.zeros(4, np.float32)},
        {**metadata, "config": json.dumps({"dtype": "float32", "layers": [
            config["layers"][0], config["layers"][0]]})}))
    add("foreign-safetensors-file", _safetensors_file(_tensors(valid), None))
    add("foreign-metadata", _safetensors_file(_tensors(valid), {"format": "pt"}))
    add("nan-weights", _safetensors_file(
        {**_tensors(valid), "0.b": np.full(4, np.nan, np.float32)}, metadata))
    add("inf-weights", _safetensors_file(
        {**_tensors(valid), "2.W": np.full((4, 2), -np.inf, np.float32)}, metadata))
    return cases


def _tensors(valid: bytes) -> dict[str, np.ndarray]:
    """The tensors of a valid file, read here from its header and data buffer."""
    header, body = split(valid)
    dtypes = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
    tensors = {}
    for name, entry in header.items():
        if name != "__metadata__":
            begin, end = entry["data_offsets"]
            values = np.frombuffer(body[begin:end], dtypes[entry["dtype"]])
            tensors[name] = values.reshape(entry["shape"])
    return tensors


def truncations(valid: bytes) -> list[int]:
    """Lengths to cut ``valid`` to: 0..8, inside the header, inside the data, one short."""
    n = int.from_bytes(valid[:8], "little")
    header_cuts = [9, 10, 8 + n // 3, 8 + n // 2, 8 + n - 1, 8 + n]
    data_cuts = [8 + n + 1, 8 + n + 4, (8 + n + len(valid)) // 2, len(valid) - 4, len(valid) - 1]
    return sorted(set(range(9)) | set(header_cuts) | set(data_cuts))


def byte_flips(valid: bytes, count: int, seed: int) -> list[tuple[int, int, bytes]]:
    """``count`` single-byte corruptions of ``valid``: (position, XOR mask, damaged bytes).

    Half flip one bit, half XOR the byte with a random non-zero value. A third land in the
    8-byte length prefix and the header's first bytes, the rest anywhere, so that every region
    of the file is hit.
    """
    rng = np.random.default_rng(seed)
    n = int.from_bytes(valid[:8], "little")
    positions = np.concatenate([
        rng.integers(0, 8 + min(n, 64), size=count // 3),
        rng.integers(0, len(valid), size=count - count // 3),
    ])
    flips = []
    for index, position in enumerate(positions.tolist()):
        mask = 1 << int(rng.integers(8)) if index % 2 else int(rng.integers(1, 256))
        damaged = bytearray(valid)
        damaged[position] ^= mask
        flips.append((position, mask, bytes(damaged)))
    return flips
