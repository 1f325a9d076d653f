"""fetch(): verified, atomic downloads, tested against a server on 127.0.0.1."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from chainrule.datasets.download import ChecksumError, DownloadError, fetch

BODY = bytes(range(256)) * 400  # 100 KiB, more than one read chunk
SHA = hashlib.sha256(BODY).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Names in ``folder`` other than the expected final files (temporary files)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_success_writes_the_verified_file(local_server, tmp_path):
    local_server.files["data/file.bin"] = BODY
    dest = tmp_path / "new" / "folder" / "file.bin"
    result = fetch(f"{local_server.url}/data/file.bin", dest, SHA, progress=False)
    assert result == dest
    assert dest.read_bytes() == BODY
    assert leftovers(dest.parent) == []


def test_uppercase_checksum_is_accepted(local_server, tmp_path):
    local_server.files["f"] = BODY
    fetch(f"{local_server.url}/f", tmp_path / "f", SHA.upper(), progress=False)
    assert (tmp_path / "f").read_bytes() == BODY


def test_checksum_mismatch_keeps_nothing(local_server, tmp_path):
    local_server.files["f"] = BODY[:-1] + b"X"
    dest = tmp_path / "f"
    with pytest.raises(ChecksumError, match="checksum mismatch") as info:
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert SHA in str(info.value)
    assert isinstance(info.value, DownloadError)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_checksum_mismatch_leaves_existing_good_file(local_server, tmp_path):
    dest = tmp_path / "f"
    dest.write_bytes(BODY)
    local_server.files["f"] = b"tampered" + BODY
    with pytest.raises(ChecksumError):
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert dest.read_bytes() == BODY
    assert leftovers(tmp_path) == []


def test_interrupted_transfer_leaves_no_partial_file(local_server, tmp_path):
    local_server.files["f"] = BODY
    local_server.truncate.add("f")
    dest = tmp_path / "f"
    with pytest.raises(DownloadError, match="interrupted|IncompleteRead") as info:
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert not isinstance(info.value, ChecksumError)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_interrupted_transfer_keeps_existing_file(local_server, tmp_path):
    dest = tmp_path / "f"
    dest.write_bytes(b"old content")
    local_server.files["f"] = BODY
    local_server.truncate.add("f")
    with pytest.raises(DownloadError):
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert dest.read_bytes() == b"old content"


def test_offline_gives_a_helpful_download_error(tmp_path, refused_url):
    url = f"{refused_url}/mnist/file.gz"
    with pytest.raises(DownloadError) as info:
        fetch(url, tmp_path / "file.gz", SHA, progress=False)
    message = str(info.value)
    assert "offline" in message
    assert "CHAINRULE_DATA" in message
    assert ("data_dir in Python, data.data_dir in a run config, --data-dir for chainrule "
            "evaluate") in message  # the option, as each interface names it
    assert url in message
    assert isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_http_error_status_is_a_download_error(local_server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(f"{local_server.url}/missing", tmp_path / "f", SHA, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    ["http://example.com/file.gz", "ftp://127.0.0.1/file.gz", "file:///etc/passwd", "https://"],
)
def test_only_https_or_local_http(url, tmp_path):
    with pytest.raises(ValueError, match="https"):
        fetch(url, tmp_path / "f", SHA, progress=False)


@pytest.mark.parametrize("sha", ["", "abc", "g" * 64, SHA + "0", None])
def test_bad_checksum_argument(sha, tmp_path, local_server):
    with pytest.raises(ValueError, match="sha256"):
        fetch(f"{local_server.url}/f", tmp_path / "f", sha, progress=False)
    assert local_server.requests == []


def test_progress_true_without_terminal_reports(local_server, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # force the no-tqdm path
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    local_server.files["f"] = BODY
    fetch(f"{local_server.url}/f", tmp_path / "f", SHA, progress=True)
    err = capsys.readouterr().err
    assert "downloading" in err and f"{len(BODY):,} bytes" in err


def test_progress_false_is_silent(local_server, tmp_path, capsys):
    local_server.files["f"] = BODY
    fetch(f"{local_server.url}/f", tmp_path / "f", SHA, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_true_with_tqdm(local_server, tmp_path, capsys):
    pytest.importorskip("tqdm")
    local_server.files["f"] = BODY
    fetch(f"{local_server.url}/f", tmp_path / "f", SHA, progress=True)
    assert (tmp_path / "f").read_bytes() == BODY
    assert "f" in capsys.readouterr().err


@pytest.mark.parametrize("timeout", [0, -1, True, "30", None])
def test_bad_timeout_argument(timeout, tmp_path, local_server):
    message = rf"timeout must be a positive number of seconds, got {timeout!r}"
    with pytest.raises(ValueError, match=message):
        fetch(f"{local_server.url}/f", tmp_path / "f", SHA, progress=False, timeout=timeout)
    assert local_server.requests == []


def test_url_must_be_a_string(tmp_path):
    with pytest.raises(TypeError, match="url must be a str, got bytes"):
        fetch(b"https://example.org/f", tmp_path / "f", SHA, progress=False)


def one_shot_server(reply: bytes):
    """A raw TCP server on 127.0.0.1 that answers one connection with ``reply`` and closes."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)  # a fetch that never connects fails the test instead of hanging

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)  # the request
            connection.sendall(reply)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


def test_a_connection_closed_without_an_answer_is_a_download_error(tmp_path):
    url, thread = one_shot_server(b"")
    with pytest.raises(DownloadError, match=r"downloading .*/f failed: RemoteDisconnected"):
        fetch(f"{url}/f", tmp_path / "f", SHA, progress=False)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_content_length_is_ignored(tmp_path):
    reply = b"HTTP/1.0 200 OK\r\nContent-Length: lots\r\n\r\n" + BODY
    url, thread = one_shot_server(reply)
    fetch(f"{url}/f", tmp_path / "f", SHA, progress=False)  # read to the end of the stream
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert (tmp_path / "f").read_bytes() == BODY


def test_https_goes_through_urllibs_default_handlers(tmp_path, monkeypatch):
    """A remote https URL uses urllib's default handlers (proxy settings apply), with only the
    redirect handler replaced by the checking one; faked here."""
    import io
    import urllib.request

    calls = []

    class Opener:
        def open(self, url, timeout):
            calls.append((url, timeout))
            response = io.BytesIO(BODY)
            response.headers = {"Content-Length": str(len(BODY))}
            return response

    def build_opener(*handlers):
        calls.append([type(handler).__name__ for handler in handlers])
        return Opener()

    monkeypatch.setattr(urllib.request, "build_opener", build_opener)
    fetch("https://mirror.example/f", tmp_path / "f", SHA, progress=False, timeout=7)
    assert calls == [["_CheckedRedirectHandler"], ("https://mirror.example/f", 7)]
    assert (tmp_path / "f").read_bytes() == BODY


@pytest.mark.parametrize("failing", ["open", "fsync"])
def test_a_folder_that_cannot_be_synced_does_not_fail_the_download(
    failing, local_server, tmp_path, monkeypatch
):
    """Some platforms cannot open or fsync a folder; the verified file is kept anyway."""
    import os
    import stat

    real_open, real_fsync = os.open, os.fsync
    refused = []

    def refusing_open(path, flags, *args, **kwargs):
        if os.path.isdir(path):
            refused.append(path)
            raise PermissionError(13, "cannot open a folder")
        return real_open(path, flags, *args, **kwargs)

    def refusing_fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            refused.append(fd)
            raise OSError(22, "fsync of a folder is not supported")
        return real_fsync(fd)

    monkeypatch.setattr(os, failing, refusing_open if failing == "open" else refusing_fsync)
    local_server.files["f"] = BODY
    assert fetch(f"{local_server.url}/f", tmp_path / "f", SHA, progress=False) == tmp_path / "f"
    assert refused  # the folder sync was attempted, and its failure ignored
    assert (tmp_path / "f").read_bytes() == BODY


def test_a_long_file_name_downloads(local_server, tmp_path):
    """A name near the usual 255-byte limit: the temporary file's name must not pass it."""
    local_server.files["f"] = BODY
    dest = tmp_path / ("a" * 240)
    assert fetch(f"{local_server.url}/f", dest, SHA, progress=False) == dest
    assert dest.read_bytes() == BODY
    assert leftovers(tmp_path) == []


def test_a_folder_as_dest_is_refused_before_downloading(local_server, tmp_path):
    local_server.files["f"] = BODY
    with pytest.raises(ValueError, match=r"dest must be the path of a file, but .* is a folder"):
        fetch(f"{local_server.url}/f", tmp_path, SHA, progress=False)
    assert local_server.requests == []
    assert list(tmp_path.iterdir()) == []


def test_a_dest_below_a_file_is_refused_before_downloading(local_server, tmp_path):
    local_server.files["f"] = BODY
    (tmp_path / "data").write_text("not a folder")
    dest = tmp_path / "data" / "mnist" / "f"
    message = (rf"cannot create the folder {tmp_path / 'data' / 'mnist'} for {dest} because "
               rf"{tmp_path / 'data'} exists and is not a folder")
    with pytest.raises(ValueError, match=message):
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert local_server.requests == []


def test_a_failed_download_removes_the_folders_it_made_and_only_those(local_server, tmp_path):
    local_server.files["f"] = BODY[:-1] + b"X"
    (tmp_path / "kept").mkdir()
    with pytest.raises(ChecksumError):
        fetch(f"{local_server.url}/f", tmp_path / "kept" / "new" / "deeper" / "f", SHA,
              progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]
    assert list((tmp_path / "kept").iterdir()) == []


class _DiskFull:
    """A file whose writes fail like a full disk after the first one."""

    def __init__(self, file):
        self.file, self.writes = file, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()

    def write(self, data):
        self.writes += 1
        if self.writes > 1:
            raise OSError(28, "No space left on device")
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.mark.parametrize("failing", ["write", "fsync"])
def test_a_full_disk_is_an_oserror_naming_the_destination_not_a_download_error(
    failing, local_server, tmp_path, monkeypatch
):
    import builtins
    import errno
    import importlib
    import os
    import stat

    if failing == "write":  # (chainrule.datasets.download is also the name of a function)
        download = importlib.import_module("chainrule.datasets.download")
        opened = lambda *args: _DiskFull(builtins.open(*args))  # noqa: SIM115 - fetch closes it
        monkeypatch.setattr(download, "open", opened, raising=False)
    else:
        real_fsync = os.fsync

        def fsync(fd):
            if stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(28, "No space left on device")
            return real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
    local_server.files["f"] = BODY
    dest = tmp_path / "new" / "f"
    with pytest.raises(OSError, match=r"No space left on device") as info:
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert not isinstance(info.value, DownloadError)  # the transfer did not fail
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(dest)
    assert list(tmp_path.iterdir()) == []  # neither the .part file nor the folder made for it


def test_a_name_too_long_is_refused_before_downloading(local_server, tmp_path):
    import errno

    local_server.files["f"] = BODY
    dest = tmp_path / "new" / ("n" * 300)
    with pytest.raises(OSError, match="File name too long") as info:
        fetch(f"{local_server.url}/f", dest, SHA, progress=False)
    assert info.value.errno == errno.ENAMETOOLONG
    assert info.value.filename == str(dest)
    assert local_server.requests == []  # nothing was transferred
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("variable", ["CHAINRULE_CACHE", None])
def test_a_cache_that_cannot_hold_the_download_says_where_it_comes_from(
        local_server, tmp_path, monkeypatch, variable):
    """CHAINRULE_CACHE pointing at a file (or a home whose ~/.cache is one): the error names
    the cache and how it was chosen, not fetch's own argument."""
    from chainrule.datasets import download

    local_server.files["mnist/train-labels-idx1-ubyte.gz"] = BODY
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    if variable:
        monkeypatch.setenv(variable, str(tmp_path / "file"))
        where = rf"\(downloading into the cache {tmp_path / 'file'}, \$CHAINRULE_CACHE\)"
    else:
        monkeypatch.delenv("CHAINRULE_CACHE", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path / "file"))
        where = r"\(downloading into the cache .*/file/\.cache/chainrule; set \$CHAINRULE_CACHE to download elsewhere\)"
    with pytest.raises(ValueError, match=rf"exists and is not a folder {where}") as caught:
        download("mnist", base_url=local_server.url, progress=False)
    assert "dest" not in str(caught.value)
    assert local_server.requests == []
