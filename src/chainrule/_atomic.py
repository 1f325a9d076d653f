"""``write_atomically``: a file holds its old bytes or its new ones, never half of them.

Every file chainrule writes (model files, checkpoints, predictions, figures, a run's
``config.toml``, ``history.csv`` and ``metrics.json``) goes through this one function, so a
full disk, a Ctrl-C or an unwritable folder never leaves a truncated file in place of a good
one, and the error names the file the caller asked for.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable
from typing import Any

from ._validation import check_path


def write_atomically(path: Any, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` to the file ``path`` so that it only ever holds the old or the new bytes.

    ``data`` is the bytes, or an iterable of parts of them (written as they come, so that a
    large file need not be held whole; an error raised while producing them is as one raised
    writing them).

    A temporary file is created in the same folder (so the final rename stays on one file
    system, where ``os.replace`` is atomic), written, flushed and fsync'ed, then renamed over
    ``path``; the folder is then fsync'ed (POSIX, best effort) so that the rename itself is on
    disk. Any error removes the temporary file. Only a process killed mid-write (SIGKILL, power
    loss) can leave a stray ``.chainrule-<random>.tmp`` beside ``path``; ``path`` is intact
    then.

    The temporary file's name is short and does not depend on ``path``'s name, so every name
    that is legal for ``path`` works (up to the file system's 255 bytes). An ``OSError`` names
    ``path`` as the caller gave it, never the temporary file: the same ``OSError`` subclass
    (``FileNotFoundError`` for a missing folder, ``IsADirectoryError`` when ``path`` is a
    folder, ``PermissionError``, ...) with ``path`` as its ``filename``.
    """
    shown, target, directory = _place(path)
    temporary, fd = _temporary_for(shown, directory)
    try:
        with os.fdopen(fd, "wb") as file:
            if isinstance(data, bytes):
                file.write(data)
            else:
                file.writelines(data)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of a file being replaced
            os.chmod(temporary, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _about(exc, shown) from None
        raise
    _fsync_directory(directory)


def check_writable(path: Any) -> None:
    """Raise the ``OSError`` that :func:`write_atomically` would raise for where ``path`` is
    (a folder; a folder that is missing, not a folder, or not writable), without touching
    ``path``: for a file written long after it is named (a training checkpoint), so that a
    wrong path fails at once, not after the first epoch. Creates and removes one temporary
    file beside ``path``."""
    shown, _, directory = _place(path)
    temporary, fd = _temporary_for(shown, directory)
    os.close(fd)
    os.unlink(temporary)


def _place(path: Any) -> tuple[str, str, str]:
    """``path`` checked: (as given, absolute, its folder); a folder is an IsADirectoryError."""
    shown = check_path(path)
    target = os.path.abspath(shown)
    if os.path.isdir(target) or shown.endswith(tuple(filter(None, (os.sep, os.altsep)))):
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a file path", shown)
    return shown, target, os.path.dirname(target)


def _temporary_for(shown: str, directory: str) -> tuple[str, int]:
    """:func:`_create_temporary`, its error naming ``shown``."""
    try:
        return _create_temporary(directory)
    except OSError as exc:
        raise _about(exc, shown) from None


def _about(exc: OSError, shown: str) -> OSError:
    """``exc`` told about the caller's ``shown`` path instead of the temporary file, e.g.
    ``[Errno 2] No such file or directory (its folder must exist): 'runs/model.safetensors'``:
    the same ``OSError`` subclass (``OSError(errno, ...)`` picks it from the errno)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOENT:
        reason += " (its folder must exist)"
    if exc.errno is None:
        return type(exc)(f"{reason}: {shown!r}")
    return OSError(exc.errno, reason, shown)


#: The temporary file of an atomic write: ``.chainrule-<12 hex digits>.tmp`` (27 bytes).
_TEMPORARY = ".chainrule-{}.tmp"


def _create_temporary(directory: str) -> tuple[str, int]:
    """A new file ``directory/.chainrule-<random>.tmp`` opened for writing: (its path, its fd).

    Like ``tempfile.mkstemp``, but created with mode 0o666 so that the usual umask applies and
    a new model file gets the same permissions ``open(path, "wb")`` would give it (mkstemp's
    0o600 would make it private).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(directory, _TEMPORARY.format(secrets.token_hex(6)))
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a temporary file", directory)


def _fsync_directory(directory: str) -> None:
    """Flush a folder's entries (the rename) to disk; POSIX only, ignored where unsupported."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
