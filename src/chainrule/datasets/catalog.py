"""The catalog of real datasets: one table for the loaders and ``chainrule datasets list|download``.

Each entry names the dataset, describes it, states its source and licence, lists its files (with
their relative path in a data directory, download URL, size and SHA-256) and names its loader.
The SHA-256 values are those of the official distribution files; they are what makes a mirror
trustworthy, so any URL serving the same bytes is as good as another.

Example
-------
>>> from chainrule.datasets.catalog import list_datasets
>>> [d.name for d in list_datasets()]
['california_housing', 'digits', 'fashion_mnist', 'mnist']
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..registry import Registry
from .storage import (
    RemoteFile,
    cache_dir,
    fetch_into,
    file_url,
    find,
    find_in,
    locate,
    resolve_data_dir,
)

__all__ = [
    "DatasetInfo",
    "catalog_file",
    "dataset_status",
    "download",
    "get_dataset",
    "list_datasets",
    "locate_file",
]

_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
# The Fashion-MNIST files are kept in the project's own repository; its S3 "website" endpoint
# serves plain http only, which fetch refuses.
_FASHION_URL = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
)
_HOUSING_URL = (
    "https://raw.githubusercontent.com/ageron/handson-ml2/master/datasets/housing/housing.csv"
)


@dataclass(frozen=True)
class DatasetInfo:
    """One row of the catalog.

    Attributes
    ----------
    name : str
        The name used by the CLI and :func:`download` (also the folder in a data directory).
    description : str
        One line: what it is, its size and task.
    source : str
        Authors and reference.
    licence : str
    files : tuple of RemoteFile
        Its files; empty for a dataset bundled inside the package.
    loader_path : str
        ``"module:function"`` of its loader (see :attr:`loader`).
    enough : tuple of tuples of str
        Sets of file paths (``RemoteFile.path``) that the loader can work from, any one
        complete set being enough (California housing: ``housing.csv``, or the StatLib
        ``cal_housing.data``); empty: every file is needed.
    """

    name: str
    description: str
    source: str
    licence: str
    files: tuple[RemoteFile, ...]
    loader_path: str
    enough: tuple[tuple[str, ...], ...] = ()

    @property
    def bundled(self) -> bool:
        """Shipped inside the package: nothing to download."""
        return not self.files

    @property
    def loader(self) -> Callable[..., Any]:
        """The loading function (imported on first use: the loaders themselves read this table)."""
        module, function = self.loader_path.split(":")
        return getattr(importlib.import_module(module), function)


def _idx_files(
    folder: str, base_url: str, sizes_and_hashes: dict[str, tuple[int, str]]
) -> tuple[RemoteFile, ...]:
    """The four IDX files of an MNIST-style dataset as RemoteFiles."""
    return tuple(
        RemoteFile(f"{folder}/{name}", sha256, size, base_url + name)
        for name, (size, sha256) in sizes_and_hashes.items()
    )


_TABLE = (
    DatasetInfo(
        name="mnist",
        description="MNIST handwritten digits: 60,000 + 10,000 grey images 28x28, 10 classes",
        source="Y. LeCun, C. Cortes and C. J. C. Burges, the MNIST database of handwritten digits",
        licence="commonly stated as CC BY-SA 3.0",
        files=_idx_files(
            "mnist",
            _MNIST_URL,
            {
                "train-images-idx3-ubyte.gz": (
                    9912422,
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                ),
                "train-labels-idx1-ubyte.gz": (
                    28881,
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                ),
                "t10k-images-idx3-ubyte.gz": (
                    1648877,
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                ),
                "t10k-labels-idx1-ubyte.gz": (
                    4542,
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                ),
            },
        ),
        loader_path="chainrule.datasets.loaders:load_mnist",
    ),
    DatasetInfo(
        name="fashion_mnist",
        description="Fashion-MNIST clothing images: 60,000 + 10,000 grey 28x28, 10 classes",
        source="H. Xiao, K. Rasul and R. Vollgraf, Fashion-MNIST (Zalando Research, 2017)",
        licence="MIT, Copyright (c) 2017 Zalando SE",
        files=_idx_files(
            "fashion_mnist",
            _FASHION_URL,
            {
                "train-images-idx3-ubyte.gz": (
                    26421880,
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                ),
                "train-labels-idx1-ubyte.gz": (
                    29515,
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                ),
                "t10k-images-idx3-ubyte.gz": (
                    4422102,
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                ),
                "t10k-labels-idx1-ubyte.gz": (
                    5148,
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                ),
            },
        ),
        loader_path="chainrule.datasets.loaders:load_fashion_mnist",
    ),
    DatasetInfo(
        name="california_housing",
        description="California housing (1990 census): 20,640 districts, 8 features, regression",
        source="R. K. Pace and R. Barry, Sparse Spatial Autoregressions, Statistics and "
        "Probability Letters 33 (1997) 291-297; housing.csv from A. Geron, Hands-On Machine "
        "Learning",
        licence="no separate licence stated (StatLib); handson-ml2 repository Apache-2.0",
        files=(
            RemoteFile(
                "california_housing/housing.csv",
                "8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e",
                1423529,
                _HOUSING_URL,
            ),
            # The StatLib files are only distributed inside an archive: local only.
            RemoteFile(
                "california_housing/cal_housing.data",
                "a2b44dcc7e1c9091b43c4f458b25cbd1f7e8068d08edd26bc4703108d3fa6214",
                2071484,
            ),
            RemoteFile(
                "california_housing/cal_housing.domain",
                "49875a8323c6149941a1b7467942df111d255c3693dea491549a2eb94f5e32fd",
                235,
            ),
        ),
        loader_path="chainrule.datasets.california:load_california_housing",
        enough=(("california_housing/housing.csv",), ("california_housing/cal_housing.data",)),
    ),
    DatasetInfo(
        name="digits",
        description="Handwritten digits 8x8 (UCI optdigits test part): 1,797 images, 10 "
        "classes; bundled, no download",
        source="E. Alpaydin and C. Kaynak, Optical Recognition of Handwritten Digits (UCI, 1998)",
        licence="CC BY 4.0",
        files=(),
        loader_path="chainrule.datasets.loaders:load_digits",
    ),
)

_REGISTRY: Registry[DatasetInfo] = Registry("dataset")
for _info in _TABLE:
    _REGISTRY.register(_info.name)(_info)
_FILES = {remote.path: remote for info in _TABLE for remote in info.files}


def list_datasets() -> list[DatasetInfo]:
    """Every dataset in the catalog, sorted by name."""
    return [_REGISTRY.get(name) for name in _REGISTRY.names()]


def dataset_status(name: str, data_dir: str | os.PathLike[str] | None = None) -> str:
    """``"bundled"``, ``"available"`` (its loader can run without downloading: the files it
    needs are in the data directory or the cache, compressed or not) or ``"not downloaded"``.

    Example
    -------
    >>> dataset_status("digits")
    'bundled'
    """
    info = get_dataset(name)
    if info.bundled:
        return "bundled"
    found = {remote.path for remote in info.files if find(remote, data_dir) is not None}
    needed = info.enough or (tuple(remote.path for remote in info.files),)
    return "available" if any(found.issuperset(group) for group in needed) else "not downloaded"


def get_dataset(name: str) -> DatasetInfo:
    """The catalog entry ``name`` (case, ``-``, ``_`` ignored); an unknown name lists them all."""
    return _REGISTRY.get(name)


def catalog_file(path: str) -> RemoteFile:
    """The catalog's record (size, SHA-256, URL) of the file with relative ``path``
    (``"california_housing/housing.csv"``)."""
    return _FILES[path]


def locate_file(
    path: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool | None = None,
) -> Path:
    """Find (or download into the cache) the catalog file with relative ``path``.

    See :func:`chainrule.datasets.storage.locate` for the search order and the errors.
    """
    return locate(catalog_file(path), data_dir, download=download, progress=progress)


def download(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    progress: bool | None = None,
    base_url: str | None = None,
) -> list[Path]:
    """Make the files of dataset ``name`` available locally, downloading what is missing.

    Parameters
    ----------
    name : str
        A catalog name (see :func:`list_datasets`).
    data_dir : str, path-like or None
        If given, the files are wanted **in this folder**: each one missing there (neither
        compressed nor decompressed) is downloaded into it. If ``None``, files already in the data directory (``$CHAINRULE_DATA``) or the
        cache are kept and missing ones are downloaded into the cache.
    progress : bool or None
        Progress display, as in :func:`chainrule.datasets.download.fetch`.
    base_url : str or None
        A mirror laid out like a data directory, instead of the catalog URLs
        (default: ``$CHAINRULE_DATA_URL`` if set).

    Returns
    -------
    list of pathlib.Path
        The local path of every file now available. Files with no download URL (the StatLib
        California files) are included only if already present. A bundled dataset returns
        ``[]``.

    Raises
    ------
    ValueError
        Unknown ``name``.
    DownloadError, ChecksumError
        A download failed; files completed before it are kept.
    OSError
        A downloaded file cannot be written (a full disk, a read-only folder); the message
        names the folder and how it was chosen.
    """
    info = get_dataset(name)
    root = None if data_dir is None else resolve_data_dir(data_dir)
    paths = []
    for remote in info.files:
        # What is already there is kept, compressed or not (the readers take both).
        path = find(remote) if root is None else find_in(root, remote)
        if path is None and file_url(remote, base_url) is not None:
            path = fetch_into(root or cache_dir(), remote, progress=progress, base_url=base_url)
        if path is not None:
            paths.append(path)
    return paths
