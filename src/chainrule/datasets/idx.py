"""A strict reader for the IDX format of MNIST and Fashion-MNIST.

The format (Y. LeCun, C. Cortes and C. J. C. Burges, "THE MNIST DATABASE of handwritten
digits", section "FILE FORMATS FOR THE MNIST DATABASE"), all integers big-endian::

    bytes 0-1   0x00 0x00
    byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                            0x0D float32, 0x0E float64
    byte  3     number of dimensions, n_dims
    then        n_dims unsigned 32-bit sizes
    then        the data, C order, prod(sizes) * itemsize bytes, nothing after

So the magic number of an image file is ``0x00000803`` (uint8, 3 dimensions) and of a label file
``0x00000801``. Every rule above is checked; a file that breaks one raises a ``ValueError`` that
names the file and what is wrong, instead of returning garbage or a reshaping error later.
Files may be gzip-compressed (detected from their first two bytes) or raw.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["parse_idx", "read_idx"]

#: IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ndarray
        Shape as stored in the header (``(n_images, n_rows, n_cols)`` for image files,
        ``(n_labels,)`` for label files), native byte order, a writable array of its own.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is a damaged gzip stream or breaks the IDX format; the message names the file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: damaged gzip data ({exc})") from None
    return parse_idx(raw, name=str(path))


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file; see the module docstring for the format.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        What to call the data in error messages (the file name).

    Returns
    -------
    ndarray
        In native byte order, writable, shaped as the header says.

    Raises
    ------
    ValueError
        Wrong magic bytes, unknown dtype code, no dimensions, a truncated header, or a payload
        whose size differs from ``prod(sizes) * itemsize``.
    """
    if len(data) < 4:
        raise ValueError(f"{name}: not an IDX file, only {len(data)} byte(s), the header needs 4")
    magic = int.from_bytes(data[:4], "big")
    if data[:2] != b"\x00\x00":
        raise ValueError(
            f"{name}: not an IDX file, magic number 0x{magic:08X} does not start with 0x0000"
        )
    code, n_dims = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{name}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if n_dims == 0:
        raise ValueError(f"{name}: IDX header declares 0 dimensions (magic 0x{magic:08X})")
    header_size = 4 + 4 * n_dims
    if len(data) < header_size:
        raise ValueError(
            f"{name}: truncated IDX header, {n_dims} dimensions need {header_size} bytes, "
            f"the file has {len(data)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=n_dims, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a crafted header cannot overflow
    payload = len(data) - header_size
    if payload != expected:
        problem = "truncated" if payload < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: IDX payload {problem}: shape {shape} of {dtype.name} needs {expected} "
            f"bytes after the header, the file has {payload}"
        )
    array = np.frombuffer(data, dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
