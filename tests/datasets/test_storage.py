"""Data directory resolution, local lookup and download-on-miss."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from chainrule.datasets.download import DownloadError
from chainrule.datasets.storage import (
    RemoteFile,
    cache_dir,
    fetch_into,
    file_url,
    find,
    locate,
    resolve_data_dir,
)

BODY = b"some dataset bytes\n" * 50
REMOTE = RemoteFile(
    "toy/data.bin", hashlib.sha256(BODY).hexdigest(), len(BODY), "https://example.org/toy.bin"
)


def put(root: Path, relative: str, body: bytes = BODY) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


# --------------------------------------------------------------------------- resolution


def test_cache_dir_from_environment(isolated_storage):
    assert cache_dir() == isolated_storage


def test_cache_dir_default_is_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "chainrule"


def test_empty_environment_variable_counts_as_unset(monkeypatch, isolated_storage):
    monkeypatch.setenv("CHAINRULE_DATA", "")
    assert resolve_data_dir() == isolated_storage


def test_resolution_order(monkeypatch, tmp_path, isolated_storage):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    assert resolve_data_dir() == isolated_storage
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(str(tmp_path / "arg")) == tmp_path / "arg"


def test_resolution_rejects_bad_type():
    with pytest.raises(TypeError, match="data_dir"):
        resolve_data_dir(42)


# --------------------------------------------------------------------------- lookup


def test_find_prefers_the_data_directory_over_the_cache(tmp_path, isolated_storage):
    in_cache = put(isolated_storage, REMOTE.path)
    assert find(REMOTE, tmp_path / "data") == in_cache
    in_data = put(tmp_path / "data", REMOTE.path)
    assert find(REMOTE, tmp_path / "data") == in_data


def test_find_uses_the_environment_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "env"))
    path = put(tmp_path / "env", REMOTE.path)
    assert find(REMOTE) == path
    assert find(REMOTE, tmp_path / "elsewhere") is None


def test_find_accepts_a_decompressed_copy(tmp_path):
    gz = RemoteFile("toy/images.gz", REMOTE.sha256, 1, "https://example.org/images.gz")
    raw = put(tmp_path, "toy/images")
    assert find(gz, tmp_path) == raw
    compressed = put(tmp_path, "toy/images.gz")
    assert find(gz, tmp_path) == compressed


def test_locate_without_download_names_the_folders(tmp_path, isolated_storage):
    with pytest.raises(FileNotFoundError) as info:
        locate(REMOTE, tmp_path / "data", download=False)
    message = str(info.value)
    assert REMOTE.path in message
    assert str(tmp_path / "data") in message and str(isolated_storage) in message
    assert "download=True" in message


def test_locate_file_without_url_is_local_only(tmp_path, local_server, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    local_only = RemoteFile("toy/local.bin", REMOTE.sha256, len(BODY))
    local_server.files[local_only.path] = BODY
    with pytest.raises(FileNotFoundError, match="no direct download"):
        locate(local_only, tmp_path)
    assert local_server.requests == []


# --------------------------------------------------------------------------- download on miss


def test_file_url_precedence(monkeypatch):
    monkeypatch.delenv("CHAINRULE_DATA_URL")
    assert file_url(REMOTE) == "https://example.org/toy.bin"
    monkeypatch.setenv("CHAINRULE_DATA_URL", "http://127.0.0.1:9/mirror/")
    assert file_url(REMOTE) == "http://127.0.0.1:9/mirror/toy/data.bin"
    assert file_url(REMOTE, "https://other.org/m") == "https://other.org/m/toy/data.bin"
    assert file_url(RemoteFile("a/b", REMOTE.sha256, 1)) is None


def test_locate_downloads_a_missing_file_into_the_cache(
    tmp_path, local_server, monkeypatch, isolated_storage
):
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    local_server.files[REMOTE.path] = BODY
    path = locate(REMOTE, tmp_path / "data", progress=False)
    assert path == isolated_storage / REMOTE.path
    assert path.read_bytes() == BODY
    assert not (tmp_path / "data").exists()
    # Found in the cache the second time: no new request.
    assert locate(REMOTE, tmp_path / "data") == path
    assert local_server.requests == [REMOTE.path]


def test_locate_does_not_download_what_is_present(tmp_path, local_server, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    path = put(tmp_path, REMOTE.path)
    assert locate(REMOTE, tmp_path) == path
    assert local_server.requests == []


def test_locate_offline_raises_download_error(tmp_path, refused_url):
    with pytest.raises(DownloadError, match="offline"):
        locate(REMOTE, tmp_path, base_url=refused_url, progress=False)


def test_fetch_into_a_file_without_url_says_where_to_put_it(tmp_path, local_server, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)  # a mirror adds no URL
    local_only = RemoteFile("toy/local.bin", REMOTE.sha256, len(BODY))
    with pytest.raises(FileNotFoundError, match=r"toy/local\.bin has no download URL; place it in "
                                                r"a data directory .*\$CHAINRULE_DATA"):
        fetch_into(tmp_path, local_only, progress=False)
    assert local_server.requests == [] and not (tmp_path / "toy").exists()
