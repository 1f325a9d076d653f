"""Safe downloads: stream over HTTPS, verify the SHA-256, then move into place atomically.

:func:`fetch` never leaves a partial file behind. The bytes go to a temporary file in the
destination's folder; only when the transfer is complete and the checksum matches is that file
flushed to disk (``fsync``) and renamed over the destination with ``os.replace``, which is atomic
on POSIX and Windows. A failed, interrupted or mismatching transfer deletes the temporary file
and leaves an existing destination untouched.

Errors
------
:class:`DownloadError` (an ``OSError``)
    Any failed transfer: the machine is offline, the server refused or answered with an HTTP
    error, the connection broke or timed out.
:class:`ChecksumError` (a ``DownloadError``)
    The transfer finished but the bytes are not the expected ones. It subclasses
    ``DownloadError`` so that one ``except DownloadError`` covers every way a download can fail
    to produce the right file.
``OSError`` (not a ``DownloadError``)
    The destination cannot be written: a full disk, a read-only folder, a file name longer
    than the file system allows. It names the destination and keeps the system's ``errno``
    (``ENOSPC``, ...); a name that cannot be created fails before the transfer starts.

Only ``https://`` URLs are fetched, plus ``http://`` to the local machine (``127.0.0.1``,
``::1``, ``localhost``), which is what the tests and a local mirror use. The rule holds for every
hop: a redirect is followed only to a URL that passes the same check. A redirect elsewhere (to
``http://`` on another host, ``ftp://``, ...) is a :class:`DownloadError` naming the requested
URL and the refused target; the target is never contacted and nothing is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .._atomic import about_path, check_writable
from .._folders import missing_folders

__all__ = ["ChecksumError", "DownloadError", "fetch"]

_CHUNK = 1 << 16
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
OFFLINE_HINT = (
    "This machine seems to be offline (or the server is unreachable). Download the files on "
    "another machine and point the environment variable CHAINRULE_DATA (or the data folder "
    "option: data_dir in Python, data.data_dir in a run config, --data-dir for chainrule "
    "evaluate) at a folder laid out as <root>/mnist/train-images-idx3-ubyte.gz, "
    "<root>/fashion_mnist/..., <root>/california_housing/housing.csv."
)


class DownloadError(OSError):
    """A download failed: no network, an HTTP error, a broken or timed-out connection. (An
    error writing the downloaded file, such as a full disk, is the ``OSError`` naming it.)

    The message names the URL and the cause; when the server could not be reached at all it
    also says how to use local files instead (``CHAINRULE_DATA``).
    """


class ChecksumError(DownloadError):
    """A download completed but its SHA-256 differs from the expected one; nothing was kept."""


def fetch(
    url: str,
    dest: str | os.PathLike[str],
    sha256: str,
    *,
    progress: bool | None = None,
    timeout: float = 30,
) -> Path:
    """Download ``url`` to ``dest``, verifying its SHA-256, atomically.

    Parameters
    ----------
    url : str
        ``https://...`` (or ``http://`` to a loopback address).
    dest : str or path-like
        The final file; its folder is created if needed (and removed again if the download
        fails). An existing file is replaced only by a complete, verified download.
    sha256 : str
        The expected SHA-256 of the file, 64 hexadecimal digits.
    progress : bool or None, default None
        ``None``: a tqdm progress bar when tqdm is installed and stderr is a terminal, otherwise
        quiet. ``True``: a tqdm bar if tqdm is installed, else one line on stderr. ``False``:
        silent.
    timeout : float, default 30
        Seconds to wait for the connection and for each read.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ValueError
        A URL that is not https (nor http to the local machine), a malformed ``sha256``, a
        ``dest`` that is a folder or inside a path that is not one.
    DownloadError
        The transfer failed (offline, HTTP error, connection closed early, timeout), or the
        server redirected to a URL the rule above refuses (not followed).
    ChecksumError
        The downloaded bytes do not have the expected SHA-256.
    OSError
        ``dest`` cannot be written (a full disk, a read-only folder, ...): the ``OSError`` of
        the system (its ``errno``) naming ``dest``. A folder that is not writable or a file
        name that is too long fails before anything is downloaded.
    """
    _check_url(url)
    expected = _check_sha256(sha256)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    dest = Path(dest)
    if dest.is_dir():
        raise ValueError(f"dest must be the path of a file, but {dest} is a folder")
    created, nearest = missing_folders(dest.parent)  # deepest first
    if not nearest.is_dir():
        below = f"the folder {created[-1]}" if created else "the file"
        raise ValueError(f"cannot create {below} for {dest} because {nearest} exists and is "
                         "not a folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(dest)
    try:
        check_writable(dest)  # a name too long for the file system fails now, not at the end
        with _writing(dest), open(tmp, "xb") as out:
            actual = _stream(url, out, timeout=timeout, progress=progress, label=dest.name)
            out.flush()
            os.fsync(out.fileno())
        if actual != expected:
            raise ChecksumError(
                f"checksum mismatch for {url}: expected sha256 {expected}, got {actual}; "
                f"the file was discarded ({dest} was not changed)"
            )
        with _writing(dest):
            os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in created:  # the folders made for dest, deepest first, unless another
            with contextlib.suppress(OSError):  # download has put a file in one
                folder.rmdir()
        raise
    _fsync_folder(dest.parent)
    return dest


#: Longest file name (in bytes) kept inside the temporary file's name: most file systems allow
#: 255 bytes, and the hidden name adds 23 characters to it.
_NAME_IN_TEMPORARY = 200


def _temporary_name(dest: Path) -> Path:
    """A hidden, unique file name in ``dest``'s folder (so ``os.replace`` is a rename, never a
    copy), holding ``dest``'s name when it is short enough to stay within the file system's
    limit. ``open(..., "xb")`` creates it with the usual permissions, unlike
    ``tempfile.mkstemp``'s private 0600."""
    token = secrets.token_hex(8)
    if len(os.fsencode(dest.name)) > _NAME_IN_TEMPORARY:
        return dest.parent / f".{token}.part"
    return dest.parent / f".{dest.name}.{token}.part"


@contextlib.contextmanager
def _writing(dest: Path) -> Iterator[None]:
    """An ``OSError`` of the local file (a full disk) as the same error naming ``dest``, not
    the hidden temporary file; a :class:`DownloadError` (the transfer's) passes unchanged."""
    try:
        yield
    except DownloadError:
        raise
    except OSError as exc:
        raise about_path(exc, str(dest)) from None


def _stream(url: str, out: BinaryIO, *, timeout: float, progress: bool | None, label: str) -> str:
    """Copy the response body of ``url`` into ``out``; returns the SHA-256 hex digest. A
    failed transfer is a :class:`DownloadError`; a failed write is ``out.write``'s own
    ``OSError`` (the chunks are written here, outside the transfer's error handling)."""
    digest = hashlib.sha256()
    chunks = _chunks(url, timeout=timeout, progress=progress, label=label)
    with contextlib.closing(chunks):  # an error writing ends the transfer (and its bar) too
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(url: str, *, timeout: float, progress: bool | None, label: str) -> Iterator[bytes]:
    """The response body of ``url``, a chunk at a time; every way the transfer can fail is a
    :class:`DownloadError` naming ``url``."""
    try:
        with _open(url, timeout) as response:
            length = _content_length(response)
            update, close = _progress_bar(progress, total=length, label=label, url=url)
            received = 0
            try:
                while chunk := response.read(_CHUNK):
                    yield chunk
                    received += len(chunk)
                    update(len(chunk))
            finally:
                close()
    except DownloadError:  # a refused redirect: its message is complete
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"downloading {url} failed: the server answered HTTP {exc.code} {exc.reason}"
        ) from exc
    except urllib.error.URLError as exc:
        host = urllib.parse.urlsplit(url).netloc
        raise DownloadError(
            f"could not connect to {host} to download {url} ({exc.reason}). {OFFLINE_HINT}"
        ) from exc
    except (http.client.HTTPException, OSError) as exc:  # reset, timeout, TLS
        raise DownloadError(f"downloading {url} failed: {type(exc).__name__}: {exc}") from exc
    if length is not None and received != length:
        raise DownloadError(
            f"downloading {url} was interrupted: received {received} of {length} bytes"
        )


def _open(url: str, timeout: float) -> Any:
    """Open ``url``, following only redirects that pass :func:`_check_url`.

    A loopback URL bypasses any configured HTTP proxy (it would not reach us); any other URL
    goes through urllib's usual handlers (proxy settings from the environment apply).
    """
    handlers: list[urllib.request.BaseHandler] = [_CheckedRedirectHandler(url)]
    if urllib.parse.urlsplit(url).hostname in _LOOPBACK_HOSTS:
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers).open(url, timeout=timeout)


class _CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handling, with :func:`_check_url` applied to every hop.

    urllib calls :meth:`redirect_request` with the absolute target of a 301/302/303/307/308
    before it connects anywhere, so a refused target is never contacted.
    """

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin  # the URL given to fetch, for the message

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        try:
            _check_url(newurl)
        except ValueError:
            if fp is not None:  # the redirect's own body: not read, the connection is done
                fp.close()
            via = "" if req.full_url == self.origin else f" (via {req.full_url})"
            raise DownloadError(
                f"downloading {self.origin} was stopped: the server redirected it{via} with "
                f"HTTP {code} to {newurl!r}, which was not followed, because downloads go only "
                f"to https:// URLs (or http:// to 127.0.0.1/localhost); nothing was kept. Use "
                f"a mirror that serves the file over https, or a data folder (CHAINRULE_DATA) "
                f"that holds it"
            ) from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _content_length(response: Any) -> int | None:
    """The ``Content-Length`` header as an int, or ``None`` when absent or unusable."""
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _progress_bar(
    progress: bool | None, *, total: int | None, label: str, url: str
) -> tuple[Callable[[int], Any], Callable[[], Any]]:
    """``(update(n_bytes), close())`` for the chosen kind of progress report."""
    if progress is False:
        return (lambda n: None), (lambda: None)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None and (progress or sys.stderr.isatty()):
        bar = tqdm(
            total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr
        )
        return bar.update, bar.close
    if progress:
        size = f" ({total:,} bytes)" if total is not None else ""
        print(f"downloading {url}{size}", file=sys.stderr, flush=True)
    return (lambda n: None), (lambda: None)


def _check_url(url: Any) -> None:
    """``https`` anywhere, ``http`` only to the local machine; anything else is a ValueError."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, got {type(url).__name__}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return
    raise ValueError(
        f"url must be https:// (or http:// to 127.0.0.1/localhost for a local mirror), got {url!r}"
    )


def _check_sha256(sha256: Any) -> str:
    """64 hexadecimal digits, returned in lower case."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower()):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    return sha256.lower()


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows opening a folder (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
