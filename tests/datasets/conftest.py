"""Fixtures for the dataset tests: an isolated cache and a local HTTP server.

No test here may touch the real network: every test gets a private cache and a
``CHAINRULE_DATA_URL`` mirror that refuses connections, so a download that slipped through would
fail fast on 127.0.0.1 instead of reaching the internet.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_storage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refused_url: str) -> Path:
    """A fresh cache folder; downloads default to a refusing local mirror (``refused_url``)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CHAINRULE_CACHE", str(cache))
    monkeypatch.setenv("CHAINRULE_DATA_URL", refused_url)
    return cache


@dataclass
class LocalServer:
    """What the test server serves: ``files[path] = body``; ``truncate`` paths close early;
    ``redirects[path] = location`` are answered with HTTP 302."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


def _handler(state: LocalServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API names it so
            path = self.path.lstrip("/")
            state.requests.append(path)
            if path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.files.get(path)
            if body is None:
                self.send_error(404, "not here")
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if path in state.truncate:
                # Promise the whole body, send half, then hang up.
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # silence the test log
            pass

    return Handler


def _serve() -> Iterator[LocalServer]:
    """An HTTP server on 127.0.0.1 in a background thread, serving its ``LocalServer``."""
    state = LocalServer(url="")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A local HTTP server serving ``state.files`` (see :class:`LocalServer`)."""
    yield from _serve()


@pytest.fixture
def second_local_server() -> Iterator[LocalServer]:
    """Another local server, on another port (e.g. an allowed redirect target)."""
    yield from _serve()
