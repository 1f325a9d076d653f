"""Which datasets are available without a download, and downloads that keep what is there."""

from __future__ import annotations

import pytest

from chainrule.datasets import dataset_status
from chainrule.datasets.catalog import download, get_dataset


def put(root, *relative: str) -> None:
    """Empty stand-ins for catalog files (status and download look at names only)."""
    for path in relative:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"")


def test_a_bundled_dataset(tmp_path):
    assert dataset_status("digits", tmp_path) == "bundled"


def test_california_needs_one_of_its_two_layouts(tmp_path):
    """Its loader reads housing.csv or the StatLib cal_housing.data: either one is enough,
    and the StatLib files cannot be downloaded (it used to say "not downloaded" after a
    successful download of housing.csv)."""
    assert dataset_status("california_housing", tmp_path) == "not downloaded"
    put(tmp_path / "csv", "california_housing/housing.csv")
    assert dataset_status("california_housing", tmp_path / "csv") == "available"
    put(tmp_path / "statlib", "california_housing/cal_housing.data")
    assert dataset_status("california_housing", tmp_path / "statlib") == "available"
    put(tmp_path / "domain", "california_housing/cal_housing.domain")  # not data by itself
    assert dataset_status("california_housing", tmp_path / "domain") == "not downloaded"


def test_mnist_needs_its_four_files_compressed_or_not(tmp_path):
    names = [remote.path for remote in get_dataset("mnist").files]
    put(tmp_path, *[name.removesuffix(".gz") for name in names[:3]])
    assert dataset_status("mnist", tmp_path) == "not downloaded"
    put(tmp_path, names[3])
    assert dataset_status("mnist", tmp_path) == "available"


def test_the_cache_counts_too(isolated_storage, tmp_path):
    put(isolated_storage, "california_housing/housing.csv")
    assert dataset_status("california_housing", tmp_path / "elsewhere") == "available"


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        dataset_status("cifar")


def test_download_into_a_folder_keeps_decompressed_copies(local_server, tmp_path):
    """Decompressed IDX files in data_dir are what the loaders read: nothing is fetched (it
    used to download all four .gz files again, and fail offline)."""
    names = [remote.path for remote in get_dataset("mnist").files]
    put(tmp_path, *[name.removesuffix(".gz") for name in names])
    paths = download("mnist", tmp_path, base_url=local_server.url, progress=False)
    assert local_server.requests == []
    assert paths == [tmp_path / name.removesuffix(".gz") for name in names]
