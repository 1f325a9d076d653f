"""The dataset catalog: its table, list_datasets() and download()."""

from __future__ import annotations

import hashlib
import urllib.parse

import pytest

from chainrule.datasets import loaders
from chainrule.datasets.california import load_california_housing
from chainrule.datasets.catalog import download, get_dataset, list_datasets
from chainrule.datasets.download import DownloadError


def test_list_datasets_names_and_fields():
    infos = list_datasets()
    assert [info.name for info in infos] == [
        "california_housing",
        "digits",
        "fashion_mnist",
        "mnist",
    ]
    for info in infos:
        assert info.description and info.source and info.licence
        assert callable(info.loader)


def test_loaders_resolve_to_the_functions():
    assert get_dataset("mnist").loader is loaders.load_mnist
    assert get_dataset("fashion_mnist").loader is loaders.load_fashion_mnist
    assert get_dataset("digits").loader is loaders.load_digits
    assert get_dataset("california_housing").loader is load_california_housing


def test_names_are_normalised_and_unknown_names_listed():
    assert get_dataset("Fashion-MNIST").name == "fashion_mnist"
    with pytest.raises(ValueError, match="mnist") as info:
        get_dataset("cifar10")
    assert "cifar10" in str(info.value) and "california_housing" in str(info.value)


def test_files_are_laid_out_by_dataset_and_downloaded_over_https():
    for info in list_datasets():
        for remote in info.files:
            assert remote.path.startswith(info.name + "/")
            assert len(remote.sha256) == 64
            if remote.url is not None:
                assert urllib.parse.urlsplit(remote.url).scheme == "https"
                assert remote.url.endswith(remote.path.split("/")[-1])
    assert get_dataset("digits").bundled
    assert not get_dataset("mnist").bundled
    assert len(get_dataset("mnist").files) == len(get_dataset("fashion_mnist").files) == 4


def test_catalog_checksums_and_sizes_match_the_real_files(shared_data):
    for info in list_datasets():
        for remote in info.files:
            path = shared_data / remote.path
            if not path.is_file():
                pytest.skip(f"{path} is absent")
            data = path.read_bytes()
            assert len(data) == remote.size, remote.path
            assert hashlib.sha256(data).hexdigest() == remote.sha256, remote.path


def test_download_bundled_dataset_is_a_no_op(local_server):
    assert download("digits", base_url=local_server.url) == []
    assert local_server.requests == []


def serve_real_files(local_server, shared_data, folder):
    for path in sorted((shared_data / folder).iterdir()):
        local_server.files[f"{folder}/{path.name}"] = path.read_bytes()


def served_names(local_server, folder):
    return [path.split("/")[1] for path in local_server.files if path.startswith(folder + "/")]


def test_download_into_data_dir_then_load(local_server, shared_data, tmp_path, monkeypatch):
    serve_real_files(local_server, shared_data, "mnist")
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    paths = download("mnist", tmp_path, progress=False)
    assert sorted(p.name for p in paths) == sorted(served_names(local_server, "mnist"))
    for path in paths:
        assert path.parent == tmp_path / "mnist"
        assert path.read_bytes() == local_server.files[f"mnist/{path.name}"]
    (X_train, _), (X_test, _) = loaders.load_mnist(tmp_path, download=False)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    # Everything is present now: a second call downloads nothing.
    requests = len(local_server.requests)
    assert download("mnist", tmp_path) == paths
    assert len(local_server.requests) == requests


def test_loader_downloads_missing_files_into_the_cache(
    local_server, shared_data, tmp_path, monkeypatch, isolated_storage
):
    serve_real_files(local_server, shared_data, "mnist")
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    (_, y_train), (_, y_test) = loaders.load_mnist(tmp_path / "empty", normalize=False)
    assert len(y_train) == 60000 and len(y_test) == 10000
    assert sorted(p.name for p in (isolated_storage / "mnist").iterdir()) == sorted(
        served_names(local_server, "mnist")
    )


def test_download_california_fetches_only_the_csv(local_server, shared_data, tmp_path):
    serve_real_files(local_server, shared_data, "california_housing")
    paths = download("california_housing", tmp_path, base_url=local_server.url, progress=False)
    assert [p.name for p in paths] == ["housing.csv"]
    assert local_server.requests == ["california_housing/housing.csv"]
    result = load_california_housing(tmp_path, download=False)
    assert result.layout == "csv" and result.X.shape == (20640, 8)


def test_download_without_data_dir_uses_the_cache(
    local_server, shared_data, isolated_storage, monkeypatch, tmp_path
):
    serve_real_files(local_server, shared_data, "california_housing")
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "empty"))
    paths = download("california_housing", base_url=local_server.url, progress=False)
    assert paths == [isolated_storage / "california_housing" / "housing.csv"]


def test_download_with_files_in_the_data_directory_fetches_nothing(
    local_server, shared_dataset, monkeypatch
):
    monkeypatch.setenv("CHAINRULE_DATA", str(shared_dataset("california_housing")))
    paths = download("california_housing", base_url=local_server.url)
    assert {p.name for p in paths} == {"housing.csv", "cal_housing.data", "cal_housing.domain"}
    assert local_server.requests == []


def test_download_offline_raises(tmp_path, refused_url):
    with pytest.raises(DownloadError, match="offline"):
        download("mnist", tmp_path, base_url=refused_url, progress=False)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_download_unknown_name():
    with pytest.raises(ValueError, match="unknown dataset"):
        download("imagenet")
