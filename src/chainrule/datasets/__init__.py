"""Datasets: synthetic generators and loaders of real data.

Generators (:mod:`~chainrule.datasets.generators`) return ``(X, y)`` for toy problems:
``make_circles``, ``make_moons``, ``make_blobs``, ``make_spiral``, ``make_xor``,
``make_regression``.

Real data:

- ``load_digits()``: 8x8 handwritten digits, bundled with the package (no network);
- ``load_mnist()``, ``load_fashion_mnist()``: the IDX files, from a data directory or downloaded;
- ``load_california_housing()``: the StatLib file or Géron's ``housing.csv``.

Files are looked for in ``data_dir`` / ``$CHAINRULE_DATA``, then in the cache
(``$CHAINRULE_CACHE`` or ``~/.cache/chainrule``), and downloaded into the cache when missing:
see :mod:`~chainrule.datasets.storage`. ``list_datasets()``, ``dataset_status(name)`` and
``download(name)`` drive the catalog; a failed download raises :class:`DownloadError` (:class:`ChecksumError` for a file whose
SHA-256 is wrong), and a file that cannot be written where it goes (a full disk, a read-only
folder) the system's ``OSError`` naming it and the folder.
"""

from .california import CaliforniaHousing, load_california_housing
from .catalog import DatasetInfo, dataset_status, download, get_dataset, list_datasets
from .download import ChecksumError, DownloadError
from .generators import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spiral,
    make_xor,
)
from .loaders import load_digits, load_fashion_mnist, load_mnist

__all__ = [
    "CaliforniaHousing",
    "ChecksumError",
    "DatasetInfo",
    "DownloadError",
    "dataset_status",
    "download",
    "get_dataset",
    "list_datasets",
    "load_california_housing",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression",
    "make_spiral",
    "make_xor",
]
