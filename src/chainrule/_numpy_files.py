"""Arrays from NumPy's own file formats (.npy, .npz), or a ``ValueError`` naming the file.

``np.load`` alone says too little about a file that is not what its suffix claims: a text
table saved as ``data.npy`` is reported as "pickled (object) data" (NumPy falls back to
unpickling anything without the .npy header), a truncated .npz as "File is not a zip file",
and a damaged member as a ``zipfile.BadZipFile``; none names the file. Nothing is ever
unpickled (``allow_pickle=False``): a file of Python objects is refused, not loaded.

``np.load`` allocates the array its header describes before reading the data, so a file of a
hundred bytes whose header claims (10**7, 10**7) float64 raises a ``MemoryError`` (800 TB)
instead of a read error: the header is read first and compared with the bytes that follow it.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
from numpy.lib import format as npy_format

#: The first bytes of every .npy file (format specification, ``numpy.lib.format``).
NPY_MAGIC = b"\x93NUMPY"

_T = TypeVar("_T")

#: What ``np.load`` raises for a damaged or unreadable file or archive member (zipfile raises
#: ``NotImplementedError`` for a compression method it does not know).
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error,
                NotImplementedError)

#: How a zip file begins, as ``np.load`` tells an archive from an .npy or a pickle: a member's
#: local header, or (an empty archive) the end-of-directory record.
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")

#: The most a member can expand when decompressed, by compression method: deflate's limit is
#: 1032 to 1, so a directory entry claiming more is damaged.
_MAX_EXPANSION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}


def load_npy(path: Path) -> np.ndarray:
    """The array of the .npy file ``path``.

    Raises
    ------
    ValueError
        The file does not begin with the .npy header (e.g. a text table), holds Python
        objects (dtype object), or is truncated or damaged (its header describes more data
        than follows it, ...); the message names ``path``.
    """
    with open(path, "rb") as file:
        if file.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise ValueError(f"{path} is not a NumPy .npy file (it does not begin with the .npy "
                             "header); a text table needs the suffix .csv")
        file.seek(0)
        _read(path, lambda: _check_data_size(file, os.fstat(file.fileno()).st_size), "")
    return _read(path, lambda: np.load(path, allow_pickle=False), "")


def load_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the .npz archive ``path``, by name.

    Raises
    ------
    ValueError
        The file is not a complete zip archive (truncated, or another format), lacks one of
        ``names``, or one of them is not an .npy file, holds Python objects or is damaged (its
        header describes more data than the member holds, an unknown compression method,
        ...); the message names ``path`` (and the array).
    """
    with open(path, "rb") as file:
        start = file.read(len(_ZIP_STARTS[0]))
    if start not in _ZIP_STARTS:  # else np.load would take it for a pickle
        raise ValueError(f"{path} is not a NumPy .npz archive: it does not begin as a zip file "
                         "does (damaged, or another format)")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a NumPy .npz archive: it is not a complete zip file "
                         "(truncated, or another format)")
    with _read(path, lambda: np.load(path, allow_pickle=False), "") as archive:
        missing = [name for name in names if name not in archive.files]
        if missing:
            raise ValueError(f"{path} must hold arrays named {' and '.join(names)}, "
                             f"has {archive.files}")
        return {name: _read(path, lambda name=name: _member(archive, name), f" (array {name})")
                for name in names}


def _member(archive: np.lib.npyio.NpzFile, name: str) -> np.ndarray:
    """The array ``name`` of the open .npz ``archive``, its header checked first (a member
    that is not an .npy file, which NumPy returns as bytes, is refused by it too)."""
    info = archive.zip.getinfo(f"{name}.npy" if f"{name}.npy" in archive.zip.namelist()
                               else name)
    size = info.file_size  # the directory's word, bounded by what the method can expand to
    if info.compress_type in _MAX_EXPANSION:
        size = min(size, _MAX_EXPANSION[info.compress_type] * info.compress_size)
    with archive.zip.open(info) as file:
        _check_data_size(file, size)
    return archive[name]


def _check_data_size(file: BinaryIO, size: int) -> None:
    """Read the .npy header at the start of ``file`` (``size`` bytes in all) and refuse it if
    its array needs more bytes than follow the header."""
    version = npy_format.read_magic(file)
    read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                   else npy_format.read_array_header_2_0)  # 3.0 differs only in its encoding
    shape, _, dtype = read_header(file)
    if dtype.hasobject:
        return  # no size to compare: np.load refuses it (allow_pickle=False)
    needed = math.prod(shape) * dtype.itemsize
    available = size - file.tell()
    if needed > available:
        raise ValueError(f"its header describes an array of shape {shape} and dtype {dtype} "
                         f"({needed:,} bytes), but only {available:,} bytes of data follow")


def _read(path: Path, load: Callable[[], _T], where: str) -> _T:
    """``load()``, with NumPy's and zipfile's errors made one ``ValueError`` naming ``path``."""
    try:
        return load()
    except _READ_ERRORS as exc:
        if "Object arrays" in str(exc):
            raise ValueError(f"{path}{where} holds Python objects (dtype object), which are "
                             "not loaded (unpickling can run code): save numbers or strings"
                             ) from None
        raise ValueError(f"{path}{where} cannot be read (truncated or damaged?): {exc}") from None
