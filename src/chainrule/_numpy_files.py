"""Arrays from NumPy's own file formats (.npy, .npz), or a ``ValueError`` naming the file.

``np.load`` alone says too little about a file that is not what its suffix claims: a text
table saved as ``data.npy`` is reported as "pickled (object) data" (NumPy falls back to
unpickling anything without the .npy header), a truncated .npz as "File is not a zip file",
and a damaged member as a ``zipfile.BadZipFile``; none names the file. Nothing is ever
unpickled (``allow_pickle=False``): a file of Python objects is refused, not loaded.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

#: The first bytes of every .npy file (format specification, ``numpy.lib.format``).
NPY_MAGIC = b"\x93NUMPY"

_T = TypeVar("_T")

#: What ``np.load`` raises for a damaged or unreadable file or archive member.
_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


def load_npy(path: Path) -> np.ndarray:
    """The array of the .npy file ``path``.

    Raises
    ------
    ValueError
        The file does not begin with the .npy header (e.g. a text table), holds Python
        objects (dtype object), or is truncated or damaged; the message names ``path``.
    """
    with open(path, "rb") as file:
        start = file.read(len(NPY_MAGIC))
    if start != NPY_MAGIC:
        raise ValueError(f"{path} is not a NumPy .npy file (it does not begin with the .npy "
                         "header); a text table needs the suffix .csv")
    return _read(path, lambda: np.load(path, allow_pickle=False), "")


def load_npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of the .npz archive ``path``, by name.

    Raises
    ------
    ValueError
        The file is not a complete zip archive (truncated, or another format), lacks one of
        ``names``, or one of them holds Python objects or is damaged; the message names
        ``path`` (and the array).
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a NumPy .npz archive: it is not a complete zip file "
                         "(truncated, or another format)")
    with _read(path, lambda: np.load(path, allow_pickle=False), "") as archive:
        missing = [name for name in names if name not in archive.files]
        if missing:
            raise ValueError(f"{path} must hold arrays named {' and '.join(names)}, "
                             f"has {archive.files}")
        return {name: _read(path, lambda name=name: archive[name], f" (array {name})")
                for name in names}


def _read(path: Path, load: Callable[[], _T], where: str) -> _T:
    """``load()``, with NumPy's and zipfile's errors made one ``ValueError`` naming ``path``."""
    try:
        return load()
    except _READ_ERRORS as exc:
        if "pickle" in str(exc) or "Object arrays" in str(exc):
            raise ValueError(f"{path}{where} holds Python objects (dtype object), which are "
                             "not loaded (unpickling can run code): save numbers or strings"
                             ) from None
        raise ValueError(f"{path}{where} cannot be read (truncated or damaged?): {exc}") from None
