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
import re
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
    then. A file being replaced keeps its permissions, and the temporary file has them from
    its creation, before any byte is written (a private file's new contents are never readable
    by others); a new file gets those of ``open(path, "wb")`` (0o666 less the umask).

    A symbolic link at ``path`` is replaced by a regular file (the file it pointed to is left
    unchanged). A ``path`` that is, or links to, something other than a regular file or a
    folder (a device such as ``/dev/null``, a named pipe), or that names a process's stream
    (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/1``, also when it is redirected to a file), is
    written in place, as ``open(path, "wb")`` would: renaming over it would replace the device,
    pipe or link by a file, and a stream has no old bytes to keep.

    The temporary file's name is short and does not depend on ``path``'s name, so every name
    that is legal for ``path`` works (up to the file system's 255 bytes). An ``OSError`` names
    ``path`` as the caller gave it, never the temporary file: the same ``OSError`` subclass
    (``FileNotFoundError`` for a missing folder, ``IsADirectoryError`` when ``path`` is a
    folder, ``PermissionError``, ...) with ``path`` as its ``filename``.
    """
    shown, target, directory, existing = _place(path)
    if _is_stream(target, existing):
        _write_in_place(shown, target, data)
        return
    mode = None if existing is None else stat.S_IMODE(existing.st_mode)
    temporary, fd = _temporary_for(shown, directory, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            _write(file, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise about_path(exc, shown) from None
        raise
    _fsync_directory(directory)


def check_writable(path: Any) -> None:
    """Raise the ``OSError`` that :func:`write_atomically` would raise for where ``path`` is
    (a folder; a folder that is missing, not a folder, or not writable; a file name longer
    than the folder's file system allows; a device or pipe that is not writable), without
    touching ``path``: for a file written long after it is named (a training checkpoint), so
    that a wrong path fails at once, not after the first epoch. Creates and removes one
    temporary file beside ``path`` (none for a device or pipe, which is not opened: a pipe
    would block until read)."""
    shown, target, directory, existing = _place(path)
    if _is_stream(target, existing):
        if not os.access(target, os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), shown)
        return
    temporary, fd = _temporary_for(shown, directory, None)
    os.close(fd)
    os.unlink(temporary)
    _check_name(shown, target, directory)


def _place(path: Any) -> tuple[str, str, str, os.stat_result | None]:
    """``path`` checked: (as given, absolute, its folder, what is there now, following a
    symbolic link, or None); a folder is an IsADirectoryError."""
    shown = check_path(path)
    target = os.path.abspath(shown)
    try:
        existing = os.stat(target)
    except OSError:  # nothing there (or a dangling link): the write's own error tells more
        existing = None
    if (existing is not None and stat.S_ISDIR(existing.st_mode)) or shown.endswith(
        tuple(filter(None, (os.sep, os.altsep)))
    ):
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a file path", shown)
    return shown, target, os.path.dirname(target), existing


#: A path naming a process's stream: ``/dev/stdout`` (and stdin, stderr), ``/dev/fd/1``,
#: ``/proc/self/fd/1``, ``/proc/thread-self/fd/1`` (``/proc/<pid>/task/<tid>/fd/1``), even
#: when it leads to a regular file (stdout redirected to one): not a file a program replaces.
#: Any other path in ``/proc`` or ``/dev`` (``/proc/self/cwd/...``, ``/dev/shm/...``) is an
#: ordinary one.
_STREAM = re.compile(
    r"/dev/std(?:in|out|err)|/dev/fd/[0-9]+|/proc/[^/]+(?:/task/[^/]+)?/fd/[0-9]+")


def _is_stream(target: str, existing: os.stat_result | None) -> bool:
    """Whether ``target`` (absolute) is to be written in place rather than replaced: it is, or
    links to, something other than a regular file (a device, a named pipe), or it or a link
    it leads through is one of :data:`_STREAM` (``/dev/stdout`` redirected to a file:
    replacing it would mean renaming over ``/dev``'s link)."""
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        return True
    path = target
    for _ in range(40):  # the system's own limit on links followed
        folder = os.path.realpath(os.path.dirname(path))  # the folder's links resolved
        path = os.path.join(folder, os.path.basename(path))
        if _STREAM.fullmatch(path):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.join(folder, os.readlink(path))  # relative to the real folder
    return False


def _write(file: Any, data: bytes | Iterable[bytes]) -> None:
    if isinstance(data, bytes):
        file.write(data)
    else:
        file.writelines(data)


def _write_in_place(shown: str, target: str, data: bytes | Iterable[bytes]) -> None:
    """Write into the device or pipe ``target``: not atomic (a stream has no old bytes to
    keep) and not fsync'ed (a pipe cannot be)."""
    try:
        with open(target, "wb") as file:
            _write(file, data)
    except OSError as exc:
        raise about_path(exc, shown) from None


def _check_name(shown: str, target: str, directory: str) -> None:
    """An ``OSError`` (ENAMETOOLONG) when ``target``'s name is longer than its folder's file
    system allows: the temporary file's short name cannot tell, only the final rename would.
    Where the limit is unknown (no ``pathconf``, e.g. Windows), nothing is checked."""
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (AttributeError, ValueError, OSError):
        return
    size = len(os.fsencode(os.path.basename(target)))
    if 0 < limit < size:
        raise OSError(
            errno.ENAMETOOLONG,
            f"File name too long ({size} bytes; its file system allows {limit})",
            shown,
        )


def _temporary_for(shown: str, directory: str, mode: int | None) -> tuple[str, int]:
    """:func:`_create_temporary`, its error naming ``shown``."""
    try:
        return _create_temporary(directory, mode)
    except OSError as exc:
        raise about_path(exc, shown) from None


def reason_of(exc: OSError) -> str:
    """What went wrong, in the system's words (``No space left on device``), without the
    errno and file name an ``OSError``'s own text adds; its text or class when it has none."""
    return exc.strerror or str(exc) or type(exc).__name__


def about_path(exc: OSError, shown: str) -> OSError:
    """``exc`` told about the caller's ``shown`` path instead of the temporary file, e.g.
    ``[Errno 2] No such file or directory (its folder must exist): 'runs/model.safetensors'``:
    the same ``OSError`` subclass (``OSError(errno, ...)`` picks it from the errno)."""
    reason = reason_of(exc)
    if exc.errno == errno.ENOENT:
        reason += " (its folder must exist)"
    if exc.errno is None:
        return type(exc)(f"{reason}: {shown!r}")
    return OSError(exc.errno, reason, shown)


#: The temporary file of an atomic write: ``.chainrule-<12 hex digits>.tmp`` (27 bytes).
_TEMPORARY = ".chainrule-{}.tmp"


def _create_temporary(directory: str, mode: int | None) -> tuple[str, int]:
    """A new file ``directory/.chainrule-<random>.tmp`` opened for writing: (its path, its fd).

    Like ``tempfile.mkstemp``, but with the permissions the final file will have: ``mode``
    (those of the file being replaced) exactly, set before anything is written, or for a new
    file 0o666 less the umask, as ``open(path, "wb")`` would give it (mkstemp's 0o600 would
    make it private). Created with ``mode & 0o777`` first, which the umask can only narrow, so
    that it is never readable by more users than ``mode`` allows, even for an instant.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = os.path.join(directory, _TEMPORARY.format(secrets.token_hex(6)))
        try:
            fd = os.open(temporary, flags, 0o666 if mode is None else mode & 0o777)
        except FileExistsError:
            continue
        if mode is not None:
            with contextlib.suppress(OSError):  # what the umask removed (best effort, as before)
                os.chmod(temporary, mode)
        return temporary, fd
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
