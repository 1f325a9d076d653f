"""Redirects obey the download rule on every hop (review 4, defect 5).

The rule: https:// anywhere, http:// only to the local machine. A server on 127.0.0.1 answers
with redirects; a hop to ``http://plain-http.invalid/...`` must be refused before any lookup or
connection to that host, with a message naming the requested URL and the refused target, and
nothing may stay behind. Redirects between loopback URLs keep working.
"""

from __future__ import annotations

import hashlib
import importlib
import socket
import urllib.request
from pathlib import Path

import pytest

from chainrule.datasets.download import ChecksumError, DownloadError, fetch
from chainrule.datasets.storage import RemoteFile, locate

# The module itself (chainrule.datasets.download is also the name of a function there).
download_module = importlib.import_module("chainrule.datasets.download")

BODY = bytes(range(256)) * 300
SHA = hashlib.sha256(BODY).hexdigest()
PLAIN = "http://plain-http.invalid/x.gz"


@pytest.fixture
def contacted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name this process looks up or connects to from now on."""
    hosts: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host, *args, **kwargs):
        hosts.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address, *args, **kwargs):
        hosts.append(address[0])
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return hosts


def files_under(folder: Path) -> list[str]:
    """Every file (not folder) below ``folder``, hidden temporary files included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_a_redirect_to_plain_http_elsewhere_is_refused_before_contacting_it(
    local_server, tmp_path, contacted
):
    local_server.redirects["data/x.gz"] = PLAIN
    url = f"{local_server.url}/data/x.gz"
    with pytest.raises(DownloadError) as info:
        fetch(url, tmp_path / "x.gz", SHA, progress=False)
    message = str(info.value)
    assert not isinstance(info.value, ChecksumError)
    assert message.startswith(f"downloading {url} was stopped: the server redirected it with ")
    assert f"HTTP 302 to {PLAIN!r}, which was not followed" in message
    assert "https://" in message
    assert "offline" not in message and "could not connect" not in message
    assert "plain-http.invalid" not in contacted  # no DNS lookup, no connection
    assert local_server.requests == ["data/x.gz"]
    assert files_under(tmp_path) == []


def test_a_refused_redirect_leaves_nothing_in_the_cache(
    local_server, isolated_storage, monkeypatch
):
    """Through storage.locate, as ``chainrule datasets download`` does with a mirror."""
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    local_server.redirects["demo/file.bin"] = PLAIN
    remote = RemoteFile("demo/file.bin", SHA, len(BODY), "https://example.invalid/file.bin")
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    with pytest.raises(DownloadError, match=r"redirected it with HTTP 302 to 'http://plain"):
        locate(remote, progress=False)
    assert not isolated_storage.exists() or files_under(isolated_storage) == []


def test_an_existing_file_survives_a_refused_redirect(local_server, tmp_path):
    dest = tmp_path / "x.gz"
    dest.write_bytes(b"old content")
    local_server.redirects["x.gz"] = PLAIN
    with pytest.raises(DownloadError, match="not followed"):
        fetch(f"{local_server.url}/x.gz", dest, SHA, progress=False)
    assert dest.read_bytes() == b"old content"
    assert files_under(tmp_path) == ["x.gz"]


def test_the_refused_hop_of_a_chain_is_named_with_the_original_url(
    local_server, tmp_path, contacted
):
    local_server.redirects["a"] = f"{local_server.url}/b"  # allowed hop
    local_server.redirects["b"] = "ftp://127.0.0.1/c"  # refused: not https, not http
    with pytest.raises(DownloadError) as info:
        fetch(f"{local_server.url}/a", tmp_path / "f", SHA, progress=False)
    message = str(info.value)
    assert message.startswith(
        f"downloading {local_server.url}/a was stopped: the server redirected it "
        f"(via {local_server.url}/b) with HTTP 302 to 'ftp://127.0.0.1/c'"
    )
    assert local_server.requests == ["a", "b"]
    assert files_under(tmp_path) == []


def test_a_redirect_to_another_loopback_server_is_followed(
    local_server, second_local_server, tmp_path
):
    second_local_server.files["real/file.bin"] = BODY
    local_server.redirects["file.bin"] = f"{second_local_server.url}/real/file.bin"
    dest = fetch(f"{local_server.url}/file.bin", tmp_path / "file.bin", SHA, progress=False)
    assert dest.read_bytes() == BODY
    assert second_local_server.requests == ["real/file.bin"]
    assert files_under(tmp_path) == ["file.bin"]


def test_a_relative_redirect_is_followed_and_lands_in_the_cache(
    local_server, isolated_storage, monkeypatch
):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    local_server.redirects["demo/file.bin"] = "/moved/file.bin"
    local_server.files["moved/file.bin"] = BODY
    remote = RemoteFile("demo/file.bin", SHA, len(BODY), "https://example.invalid/file.bin")
    monkeypatch.setenv("CHAINRULE_DATA_URL", local_server.url)
    path = locate(remote, progress=False)
    assert path == isolated_storage / "demo" / "file.bin"
    assert path.read_bytes() == BODY
    assert local_server.requests == ["demo/file.bin", "moved/file.bin"]


@pytest.mark.parametrize(
    ("origin", "target", "allowed"),
    [
        ("https://mirror.example/f", "http://mirror.example/f", False),  # https -> http
        ("https://mirror.example/f", "http://127.0.0.1:8000/f", True),
        ("https://mirror.example/f", "https://cdn.example/f", True),
        ("https://mirror.example/f", "ftp://cdn.example/f", False),
    ],
)
def test_every_hop_of_an_https_download_is_checked(origin, target, allowed):
    """The handler alone (no https server here): the same rule for remote origins."""

    class Body:
        closed = False

        def close(self):
            self.closed = True

    handler = download_module._CheckedRedirectHandler(origin)
    request, body = urllib.request.Request(origin), Body()
    if allowed:
        new = handler.redirect_request(request, body, 301, "Moved", {}, target)
        assert new.full_url == target
        assert not body.closed  # urllib reads and closes it itself
    else:
        with pytest.raises(DownloadError, match=rf"HTTP 301 to '{target}', which was not"):
            handler.redirect_request(request, body, 301, "Moved", {}, target)
        assert body.closed


def test_remote_urls_keep_urllibs_proxy_handling(monkeypatch):
    """A non-loopback URL gets no empty ProxyHandler (environment proxies apply) but does get
    the checking redirect handler; a loopback URL gets both."""
    built = []

    class Opener:
        def open(self, url, timeout):
            return url, timeout

    def build_opener(*handlers):
        built.append(handlers)
        return Opener()

    monkeypatch.setattr(urllib.request, "build_opener", build_opener)
    assert download_module._open("https://mirror.example/f", 7) == ("https://mirror.example/f", 7)
    assert download_module._open("http://127.0.0.1:1/f", 3) == ("http://127.0.0.1:1/f", 3)
    remote, loopback = built
    assert [type(h).__name__ for h in remote] == ["_CheckedRedirectHandler"]
    assert remote[0].origin == "https://mirror.example/f"
    assert [type(h).__name__ for h in loopback] == ["_CheckedRedirectHandler", "ProxyHandler"]
    assert loopback[1].proxies == {}
