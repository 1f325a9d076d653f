"""The safetensors container: encode tensors and metadata, validate a header, read values.

A safetensors file (https://github.com/huggingface/safetensors) is::

    bytes 0..8          N, the header length: an unsigned 64-bit little-endian integer
    bytes 8..8+N        the header: a UTF-8 JSON object (padded with spaces)
    bytes 8+N..         the data buffer: every tensor's raw little-endian bytes, back to back

and the header maps each tensor name to ``{"dtype": "F32", "shape": [...], "data_offsets":
[begin, end]}`` (offsets relative to the data buffer) plus an optional ``"__metadata__"``
object of string values.

Both directions are written here, on NumPy and the standard library alone (the ``safetensors``
package is a test-time oracle, not a dependency). Writing is deterministic: the header is compact
JSON with ``__metadata__`` first and its keys sorted, then the tensors in the package's order
(widest dtype first, then by name, so every tensor starts at a multiple of its item size), padded
with spaces to a multiple of 8 bytes. The same tensors and metadata therefore always give the
same bytes, in any process; with at most one metadata key they are the package's own bytes.
A file is written in parts (:func:`encode_parts`), the values straight from the arrays' memory,
so that saving a network holds no copy of its parameters.

Reading validates the whole header with the parser below *before* any tensor is decoded, so that
a damaged or hostile file is refused with a :class:`~chainrule.errors.ModelFormatError` and never
makes us allocate more than the file's own size: every declared tensor must fit exactly in the
bytes that are actually there. The values are then read from the file straight into their
arrays (:func:`decode`, :func:`read_into`: new arrays, or a network's parameters), never held
as bytes as well. Only ``F32`` and ``F64`` tensors exist in chainrule files, and nothing is
ever unpickled or evaluated.

Opening files and writing them atomically is in :mod:`chainrule.io`.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from .errors import ModelFormatError

#: safetensors dtype strings chainrule reads and writes, and their (little-endian) NumPy dtypes.
DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_CODES = {4: "F32", 8: "F64"}  # the code of a float array, by item size

#: The largest header accepted (written or read). A header is the tensor table and the metadata
#: strings: a few hundred bytes per layer, so 16 MiB is far beyond any real network, and it
#: bounds the memory the JSON parser may use on a hostile file to a small multiple of it.
MAX_HEADER_BYTES = 16 * 2**20

#: The most dimensions and bytes a tensor may declare: what NumPy can make an array of (32
#: dimensions is NumPy 1's limit, 2 allows 64; a size counts its nonzero dimensions only, as
#: NumPy's does, so a tensor of no values may not declare an impossible shape either).
MAX_DIMENSIONS = 32
MAX_TENSOR_BYTES = int(np.iinfo(np.intp).max)

_LENGTH_BYTES = 8  # the header-length prefix
_ENTRY_KEYS = frozenset({"dtype", "shape", "data_offsets"})
METADATA_KEY = "__metadata__"


@dataclass(frozen=True)
class TensorEntry:
    """One tensor's line of the header: ``data[begin:end]`` holds its values."""

    dtype: np.dtype  # of the values once read: native byte order (the file's are little-endian)
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """A validated header: the tensor table and the metadata (``{str: str}``)."""

    tensors: dict[str, TensorEntry]
    metadata: dict[str, str] | None  # None when the header has no "__metadata__"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def encode(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """The bytes of a safetensors file holding ``tensors`` and ``metadata``: the parts of
    :func:`encode_parts` joined (to write a file, write the parts instead)."""
    return b"".join(encode_parts(tensors, metadata))


def encode_parts(
    tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]
) -> Iterator[bytes | memoryview]:
    """The bytes of a safetensors file holding ``tensors`` and ``metadata``, in parts to write
    one after the other: the header (with its length), then each tensor's values.

    Everything is checked, and the header built, before this returns. A tensor's part is the
    array's own memory when it is already little-endian and C-contiguous (a network's
    parameters are), so that writing a file copies no values; any other array is converted
    only when its turn comes.

    Parameters
    ----------
    tensors : mapping of str to ndarray
        Float32 or float64 arrays of any shape, by non-empty name (not ``"__metadata__"``).
        They must not change until the parts have been consumed.
    metadata : mapping of str to str

    Raises
    ------
    TypeError
        A name, array or metadata value of the wrong type.
    ValueError
        An empty or reserved name, a name or metadata string that is not valid Unicode, or a
        header beyond :data:`MAX_HEADER_BYTES`.
    """
    if not isinstance(tensors, Mapping):
        raise TypeError(f"tensors must be a dict of str to ndarray, got {type(tensors).__name__}")
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict of str to str, got {type(metadata).__name__}")
    for name, array in tensors.items():
        _check_name(name)
        if not isinstance(array, np.ndarray):
            raise TypeError(f"tensors[{name!r}] must be a numpy array, got {type(array).__name__}")
        if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
            raise TypeError(
                f"tensors[{name!r}] must be float32 or float64, got dtype {array.dtype}"
            )
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"metadata must map str to str, got {key!r}: {type(value).__name__}"
            )
        _check_unicode(key, "a metadata key")
        _check_unicode(value, f"metadata[{key!r}]")
    document: dict[str, Any] = {METADATA_KEY: dict(sorted(metadata.items()))}
    order = sorted(tensors, key=lambda name: (-tensors[name].dtype.itemsize, name))
    offset = 0
    for name in order:
        array = tensors[name]
        end = offset + array.nbytes
        document[name] = {"dtype": _CODES[array.dtype.itemsize], "shape": list(array.shape),
                          "data_offsets": [offset, end]}
        offset = end
    header = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)  # the data buffer starts 8-byte aligned
    if len(header) > MAX_HEADER_BYTES:
        raise ValueError(
            f"the file header would be {len(header):,} bytes, more than the "
            f"{MAX_HEADER_BYTES:,} a reader accepts; store less metadata or fewer tensors"
        )
    values = (_stored_bytes(tensors[name]) for name in order)
    return itertools.chain([len(header).to_bytes(_LENGTH_BYTES, "little") + header], values)


def _stored_bytes(array: np.ndarray) -> memoryview:
    """The bytes of ``array``'s values as a file stores them (little-endian, C order): its own
    memory when it is laid out so (``ascontiguousarray`` copies only otherwise)."""
    stored = np.ascontiguousarray(array, DTYPES[_CODES[array.dtype.itemsize]])
    return memoryview(stored.reshape(-1).view(np.uint8))  # a view: no copy (0-d, empty too)


def _check_unicode(text: str, what: str) -> None:
    """``text`` must be encodable as UTF-8: JSON's ``\\ud800`` escape makes a Python str that is
    not (a lone surrogate), which no other safetensors reader accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode (a lone surrogate): {text!r}") from None


def _check_name(name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"tensor names must be str, got {name!r} ({type(name).__name__})")
    if not name or name == METADATA_KEY:
        raise ValueError(f"tensor name must be non-empty and not {METADATA_KEY!r}, got {name!r}")
    _check_unicode(name, "tensor name")


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def header_length(prefix: bytes, file_size: int, source: str) -> int:
    """N from the first 8 bytes, checked against the file size and :data:`MAX_HEADER_BYTES`."""
    if file_size < _LENGTH_BYTES or len(prefix) < _LENGTH_BYTES:
        raise ModelFormatError(
            f"{source}: the file is {file_size} bytes long, too short for a safetensors file "
            f"(at least the {_LENGTH_BYTES}-byte header length is needed)"
        )
    n = int.from_bytes(prefix[:_LENGTH_BYTES], "little")  # unsigned: never negative
    if n > file_size - _LENGTH_BYTES:
        raise ModelFormatError(
            f"{source}: the header length {n:,} points past the end of the file "
            f"({file_size:,} bytes); the file is truncated or not a safetensors file"
        )
    if n > MAX_HEADER_BYTES:
        raise ModelFormatError(
            f"{source}: the header length {n:,} exceeds the limit of {MAX_HEADER_BYTES:,} bytes"
        )
    if n < 2:
        raise ModelFormatError(f"{source}: the header is {n} bytes, too short for a JSON object")
    return n


def parse_header(raw: bytes, data_size: int, source: str) -> Header:
    """Validate the header bytes against a data buffer of ``data_size`` bytes.

    Checks, in order: UTF-8; one JSON object without duplicate keys, NaN/Infinity or numbers
    beyond the float64 range (:func:`loads_json`);
    ``__metadata__``, if present, maps str to str (:attr:`Header.metadata` is None otherwise);
    every other entry has exactly ``dtype`` (``"F32"`` or ``"F64"``), ``shape`` (a list of
    ints >= 0) and ``data_offsets`` (``[begin, end]`` with ``end - begin == prod(shape) *
    itemsize``); sorted by offset, the tensors tile the data buffer exactly, without gap or
    overlap. So no declared size can exceed the bytes that are really in the file.

    Raises
    ------
    ModelFormatError
        Naming ``source`` and the first problem found.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{source}: the header is not valid UTF-8 ({exc})") from None
    try:
        document = loads_json(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFormatError(f"{source}: the header is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ModelFormatError(
            f"{source}: the header must be a JSON object, got {type(document).__name__}"
        )
    metadata = document.pop(METADATA_KEY, None)
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values())
    ):
        raise ModelFormatError(f"{source}: {METADATA_KEY} must be an object of string values")
    for string in [*document, *(metadata or {}).keys(), *(metadata or {}).values()]:
        try:
            _check_unicode(string, "a name or metadata string")
        except ValueError as exc:
            raise ModelFormatError(f"{source}: {exc}") from None
    tensors = {name: _entry(name, value, source) for name, value in document.items()}
    _check_tiling(tensors, data_size, source)
    return Header(tensors, metadata)


def loads_json(text: str) -> Any:
    """``json.loads`` that refuses duplicate keys, the non-standard NaN/Infinity, and numbers
    beyond the float64 range (which ``json.loads`` reads as infinity): the one reader of
    chainrule's strict JSON (a header, a model file's config and targets, a checkpoint's
    network config), so none of them holds a non-finite number.

    Raises ``ValueError`` (or ``RecursionError`` for absurdly deep nesting).
    """
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant,
                      parse_float=_finite_float)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON object hook: a repeated key is an error (the last one would silently win)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """JSON hook for a number with a fraction or exponent (integers stay exact ints)."""
    value = float(text)
    if not math.isfinite(value):  # only an overflow: the text is a JSON number
        raise ValueError(f"the number {text:.50} is beyond the float64 range")
    return value


def _entry(name: str, value: Any, source: str) -> TensorEntry:
    where = f"{source}: tensor {name!r}"
    if not name:
        raise ModelFormatError(f"{source}: a tensor has an empty name")
    if not isinstance(value, dict) or set(value) != _ENTRY_KEYS:
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise ModelFormatError(
            f"{where} must have exactly the keys {sorted(_ENTRY_KEYS)}, got {keys}"
        )
    dtype = value["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ModelFormatError(
            f"{where} has dtype {dtype!r}; chainrule files hold only {sorted(DTYPES)}"
        )
    shape = value["shape"]
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise ModelFormatError(f"{where} has shape {shape!r:.200}; expected a list of ints >= 0")
    itemsize = DTYPES[dtype].itemsize
    nonzero_bytes = math.prod(d for d in shape if d) * itemsize
    if len(shape) > MAX_DIMENSIONS or nonzero_bytes > MAX_TENSOR_BYTES:
        raise ModelFormatError(
            f"{where} has shape {shape!r:.200}; a tensor may have at most {MAX_DIMENSIONS} "
            f"dimensions and {MAX_TENSOR_BYTES:,} bytes (counting its nonzero dimensions)"
        )
    offsets = value["data_offsets"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_int(o) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise ModelFormatError(
            f"{where} has data_offsets {offsets!r:.200}; expected [begin, end], 0 <= begin <= end"
        )
    begin, end = offsets
    nbytes = math.prod(shape) * itemsize  # a Python int: cannot overflow
    if end - begin != nbytes:
        raise ModelFormatError(
            f"{where} of shape {tuple(shape)} and dtype {dtype} needs {nbytes:,} bytes, but its "
            f"data_offsets [{begin}, {end}] span {end - begin:,}"
        )
    return TensorEntry(DTYPES[dtype].newbyteorder("="), tuple(shape), begin, end)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_tiling(tensors: dict[str, TensorEntry], data_size: int, source: str) -> None:
    """Sorted by offset, the tensors cover ``[0, data_size)`` exactly: no gap, no overlap."""
    position, previous = 0, None
    for name, entry in sorted(tensors.items(), key=lambda item: (item[1].begin, item[1].end)):
        if entry.begin != position:
            kind = "overlaps" if entry.begin < position else "leaves a gap after"
            after = f"tensor {previous!r}" if previous is not None else "the start of the data"
            raise ModelFormatError(
                f"{source}: tensor {name!r} (data_offsets [{entry.begin}, {entry.end}]) "
                f"{kind} {after}, which ends at byte {position}"
            )
        position, previous = entry.end, name
    if position != data_size:
        raise ModelFormatError(
            f"{source}: the tensors declare {position:,} bytes of data but the file holds "
            f"{data_size:,} after the header; the file is truncated or damaged"
        )


def decode(file: BinaryIO, header: Header, source: str) -> dict[str, np.ndarray]:
    """The tensors of a file whose ``header`` :func:`parse_header` validated, read from the
    binary ``file`` positioned at its data buffer (just after the header).

    Each tensor's values are read straight into a new array (:func:`read_into`), so reading
    holds the values once, never the file's bytes as well. The arrays are writeable, in native
    byte order and C order, and own their memory.

    Raises
    ------
    ModelFormatError
        The file does not hold exactly the bytes the header declares (it changed size since
        its header was validated).
    """
    tensors = {name: np.empty(entry.shape, entry.dtype) for name, entry in header.tensors.items()}
    read_into(file, header, tensors, source)
    return tensors


def read_into(
    file: BinaryIO, header: Header, destinations: Mapping[str, np.ndarray], source: str
) -> None:
    """Read the data buffer of a file whose ``header`` :func:`parse_header` validated from the
    binary ``file``, positioned just after the header, into ``destinations``.

    ``destinations`` maps each tensor's name to a writeable C-contiguous array of its shape and
    dtype (:attr:`TensorEntry.dtype`), e.g. the parameters of a network built for the file:
    the bytes are read into the arrays' memory, with no copy of them in between. The tensors
    tile the data buffer (the header was validated so), so they are read in offset order, in
    one pass from the start of the buffer to its end.

    Raises
    ------
    ModelFormatError
        The file ends before the last tensor's values, or goes on after them: it changed size
        since its header was validated. The destinations are partly overwritten then.
    """
    for name, entry in sorted(header.tensors.items(), key=lambda item: item[1].begin):
        target = destinations[name]
        if (target.dtype, target.shape) != (entry.dtype, entry.shape) or not (
            target.flags.c_contiguous and target.flags.writeable
        ):  # else reshape(-1) below would copy, and the values read would be lost
            raise ValueError(
                f"tensor {name!r} must be read into a writeable C-contiguous array of dtype "
                f"{entry.dtype} and shape {entry.shape}, got dtype {target.dtype}, shape "
                f"{target.shape}, C-contiguous {target.flags.c_contiguous}, writeable "
                f"{target.flags.writeable}"
            )
        raw = memoryview(target.reshape(-1).view(np.uint8))  # the array's own memory
        if not _fill(file, raw):
            raise _changed_size(source)
        if sys.byteorder == "big":
            target.byteswap(inplace=True)  # the file's values are little-endian
    if file.read(1):
        raise _changed_size(source)


def _fill(file: BinaryIO, buffer: memoryview) -> bool:
    """Read into all of ``buffer``; False when the file ends first. (A buffered file fills it
    in one call; a raw one may return less, e.g. at most 2 GiB per read on Linux.)"""
    done = 0
    while done < buffer.nbytes:
        count = file.readinto(buffer[done:])
        if not count:
            return False
        done += count
    return True


def _changed_size(source: str) -> ModelFormatError:
    return ModelFormatError(f"{source}: the file changed size while it was being read")
