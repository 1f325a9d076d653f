"""Loaders of the real image datasets: the bundled 8x8 digits, MNIST and Fashion-MNIST.

MNIST and Fashion-MNIST are read from a data directory laid out like ``<root>/mnist/...`` (see
:mod:`chainrule.datasets.storage` for where it is looked for) and downloaded into the cache when
missing and ``download=True``. The California housing loader is in
:mod:`chainrule.datasets.california`.
"""

from __future__ import annotations

import gzip
import io
import os
from importlib import resources

import numpy as np

from .._validation import check_bool
from .catalog import locate_file
from .idx import read_idx

__all__ = ["load_digits", "load_fashion_mnist", "load_mnist"]

_DIGITS_FILE = "digits.csv.gz"
_DIGITS_SHAPE = (1797, 65)
_IMAGE_SHAPE = (28, 28)

Split = tuple[np.ndarray, np.ndarray]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits bundled with chainrule (never touches the network).

    The test part of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and
    C. Kaynak, 1998; CC BY 4.0): 1797 images of 8x8 pixels, each pixel a count 0-16 of ink
    pixels in a 4x4 block of the original 32x32 bitmap. See ``datasets/data/ATTRIBUTION.md``.

    Returns
    -------
    X : ndarray of shape (1797, 64), float64
        Pixel values 0-16, each image row by row (``X[i].reshape(8, 8)`` shows it).
    y : ndarray of shape (1797,), int64
        The digit, 0-9.
    """
    raw = resources.files(__package__).joinpath("data", _DIGITS_FILE).read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    if table.shape != _DIGITS_SHAPE:  # guards against a damaged installation
        raise ValueError(
            f"bundled {_DIGITS_FILE} has shape {table.shape}, expected {_DIGITS_SHAPE}"
        )
    return table[:, :64].astype(np.float64), table[:, 64]


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    normalize: bool = True,
) -> tuple[Split, Split]:
    """MNIST handwritten digits (LeCun, Cortes and Burges): 60,000 training, 10,000 test images.

    Parameters
    ----------
    data_dir : str, path-like or None
        Folder holding ``mnist/train-images-idx3-ubyte.gz`` and the three other IDX files
        (gzip or decompressed). Default: ``$CHAINRULE_DATA``, then the cache.
    download : bool, default True
        Download missing files into the cache (``$CHAINRULE_CACHE`` or ``~/.cache/chainrule``).
    normalize : bool, default True
        Return pixels as float32 in ``[0, 1]`` (divided by 255) instead of uint8 0-255.

    Returns
    -------
    (X_train, y_train), (X_test, y_test)
        ``X_*`` of shape (n_samples, 784), each image flattened row by row, float32 or uint8;
        ``y_*`` of shape (n_samples,), int64 digits 0-9. n_samples is 60000 and 10000.

    Raises
    ------
    DataNotFoundError
        A ``FileNotFoundError``: a file is missing and ``download`` is false.
    DownloadError
        A download failed (offline, checksum mismatch, ...).
    OSError
        A downloaded file cannot be written (a full disk, a read-only cache folder).
    ValueError
        A file is damaged or not the expected IDX content; the message names it.
    """
    return _load_idx_dataset("mnist", data_dir, download, normalize)


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    normalize: bool = True,
) -> tuple[Split, Split]:
    """Fashion-MNIST (Xiao, Rasul and Vollgraf, Zalando 2017): MNIST's format, clothing images.

    Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
    8 Bag, 9 Ankle boot. Files in ``<data_dir>/fashion_mnist/``; parameters, returns and errors
    as :func:`load_mnist`.
    """
    return _load_idx_dataset("fashion_mnist", data_dir, download, normalize)


def _load_idx_dataset(
    folder: str, data_dir: str | os.PathLike[str] | None, download: bool, normalize: bool
) -> tuple[Split, Split]:
    """Both splits of an MNIST-style dataset stored as ``<folder>/{train,t10k}-*-idx*-ubyte.gz``."""
    normalize = check_bool(normalize, "normalize")
    return tuple(  # type: ignore[return-value]
        _load_idx_split(folder, prefix, data_dir, download, normalize)
        for prefix in ("train", "t10k")
    )


def _load_idx_split(
    folder: str,
    prefix: str,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    normalize: bool,
) -> Split:
    """One split: images of shape (n, 28, 28) uint8 and labels (n,) uint8 0-9, checked together."""
    image_path = locate_file(f"{folder}/{prefix}-images-idx3-ubyte.gz", data_dir, download=download)
    label_path = locate_file(f"{folder}/{prefix}-labels-idx1-ubyte.gz", data_dir, download=download)
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != _IMAGE_SHAPE:
        raise ValueError(
            f"{image_path}: expected uint8 images of shape (n_images, 28, 28), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{label_path}: expected {len(images)} uint8 labels to match {image_path.name}, "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if labels.max(initial=0) > 9:
        raise ValueError(f"{label_path}: labels must be 0-9, found {labels.max()}")
    X = images.reshape(len(images), -1)
    if normalize:
        X = X.astype(np.float32)
        X /= 255.0
    return X, labels.astype(np.int64)
