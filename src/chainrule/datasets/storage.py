"""Where dataset files live, and fetching the ones that are missing.

A data directory is laid out by dataset::

    <root>/mnist/train-images-idx3-ubyte.gz
    <root>/fashion_mnist/t10k-labels-idx1-ubyte.gz
    <root>/california_housing/housing.csv

Two roots are searched, in this order:

1. the **data directory**, :func:`resolve_data_dir`: the ``data_dir`` argument if given, else the
   environment variable ``CHAINRULE_DATA``, else the cache;
2. the **cache**, :func:`cache_dir`: ``CHAINRULE_CACHE`` if set, else ``~/.cache/chainrule``.

A file found in neither is downloaded into the cache (when downloads are allowed). A ``.gz``
file may also be present decompressed (``train-images-idx3-ubyte``); the readers accept both.

Downloads come from each file's URL in the catalog, or from a mirror with the same layout:
the ``base_url`` argument or the environment variable ``CHAINRULE_DATA_URL`` (``base_url + "/" +
relative path``). The SHA-256 recorded for the file is checked either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._atomic import reason_of
from .._validation import check_bool
from ..errors import DataNotFoundError
from .download import DownloadError, fetch

__all__ = ["RemoteFile", "cache_dir", "file_url", "find", "find_in", "locate", "resolve_data_dir"]

DATA_ENV = "CHAINRULE_DATA"
CACHE_ENV = "CHAINRULE_CACHE"
URL_ENV = "CHAINRULE_DATA_URL"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset.

    Attributes
    ----------
    path : str
        Relative path inside a data directory, with ``/`` separators
        (``"mnist/train-images-idx3-ubyte.gz"``).
    sha256 : str
        SHA-256 of the file, verified on download.
    size : int
        Size in bytes.
    url : str or None
        Where to download it; ``None`` for a file that has no direct download.
    """

    path: str
    sha256: str
    size: int
    url: str | None = None


def _env_path(name: str) -> Path | None:
    """The environment variable ``name`` as a path; unset or empty gives ``None``."""
    value = os.environ.get(name, "")
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The download cache: ``$CHAINRULE_CACHE``, else ``~/.cache/chainrule``."""
    return _env_path(CACHE_ENV) or Path.home() / ".cache" / "chainrule"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``data_dir`` if given, else ``$CHAINRULE_DATA``, else :func:`cache_dir`.

    Raises
    ------
    TypeError
        ``data_dir`` is neither ``None``, a ``str`` nor path-like.
    """
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(
                f"data_dir must be a str, a path or None, got {type(data_dir).__name__}"
            )
        return Path(data_dir).expanduser()
    return _env_path(DATA_ENV) or cache_dir()


def _search_roots(data_dir: str | os.PathLike[str] | None) -> list[Path]:
    """The data directory, then the cache (once if they are the same folder)."""
    roots = [resolve_data_dir(data_dir), cache_dir()]
    return roots[:1] if roots[0] == roots[1] else roots


def _candidates(relative: str) -> list[str]:
    """``relative`` itself, then its decompressed name for a ``.gz`` file."""
    return [relative, relative[:-3]] if relative.endswith(".gz") else [relative]


def find(remote: RemoteFile, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The first existing copy of ``remote`` in the data directory or the cache, else ``None``."""
    for root in _search_roots(data_dir):
        path = find_in(root, remote)
        if path is not None:
            return path
    return None


def find_in(root: str | os.PathLike[str], remote: RemoteFile) -> Path | None:
    """The copy of ``remote`` in the one folder ``root`` (compressed, or decompressed for a
    ``.gz`` file), else ``None``."""
    for relative in _candidates(remote.path):
        path = Path(root) / relative
        if path.is_file():
            return path
    return None


def file_url(remote: RemoteFile, base_url: str | None = None) -> str | None:
    """Where to download ``remote``: ``base_url``, else ``$CHAINRULE_DATA_URL``, else its own URL.

    A base URL is a mirror laid out like a data directory: the file's relative path is appended.
    A mirror replaces URLs but adds none: a file without a URL (``None``) stays local-only.
    """
    if base_url is not None and not isinstance(base_url, str):
        raise TypeError(f"base_url must be a URL (str) or None, got {type(base_url).__name__}")
    if remote.url is None:
        return None
    base = base_url or os.environ.get(URL_ENV, "")
    return base.rstrip("/") + "/" + remote.path if base else remote.url


def fetch_into(
    root: str | os.PathLike[str],
    remote: RemoteFile,
    *,
    progress: bool | None = None,
    base_url: str | None = None,
) -> Path:
    """Download ``remote`` to ``root / remote.path`` (verified, atomic; see :func:`fetch`).

    Raises
    ------
    FileNotFoundError
        ``remote`` has no download URL.
    DownloadError, ChecksumError
        From :func:`chainrule.datasets.download.fetch`.
    ValueError, OSError
        From :func:`chainrule.datasets.download.fetch`: the file cannot be written there (a
        file where a folder should be, a folder that is not writable, a full disk); the
        message also says which folder that is and how to choose another.
    """
    url = file_url(remote, base_url)
    if url is None:
        raise FileNotFoundError(
            f"{remote.path} has no download URL; place it in a data directory "
            f"(the data_dir argument or ${DATA_ENV})"
        )
    try:
        return fetch(url, Path(root) / remote.path, remote.sha256, progress=progress)
    except DownloadError:
        raise
    except ValueError as exc:
        raise ValueError(f"{exc} ({_download_folder(Path(root))})") from None
    except OSError as exc:
        raise OSError(exc.errno, f"{reason_of(exc)} ({_download_folder(Path(root))})",
                      exc.filename) from None


def _download_folder(root: Path) -> str:
    """Which folder a download goes to, and how to choose another (for its errors)."""
    if root != cache_dir():
        return f"downloading into the data folder {root}"
    if _env_path(CACHE_ENV) is not None:
        return f"downloading into the cache {root}, ${CACHE_ENV}"
    return f"downloading into the cache {root}; set ${CACHE_ENV} to download elsewhere"


def locate(
    remote: RemoteFile,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool | None = None,
    base_url: str | None = None,
) -> Path:
    """The path of ``remote``: found locally (:func:`find`), else downloaded into the cache.

    Raises
    ------
    DataNotFoundError
        A ``FileNotFoundError``: not found locally, and ``download`` is false or the file has
        no URL; it lists the folders searched and says how to fix it.
    DownloadError, ChecksumError
        The download failed.
    OSError
        The downloaded file cannot be written into the cache (see :func:`fetch_into`).
    """
    download = check_bool(download, "download")
    path = find(remote, data_dir)
    if path is not None:
        return path
    downloadable = remote.url is not None
    if not (download and downloadable):
        raise DataNotFoundError(remote.path, tuple(_search_roots(data_dir)), downloadable, DATA_ENV)
    return fetch_into(cache_dir(), remote, progress=progress, base_url=base_url)
