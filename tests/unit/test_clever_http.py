"""CleverHttp over a real socket, against a server that keeps connections open as Clever's do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from connectors.clever_http import CleverHttp

PAGE = json.dumps({"data": [{"data": {"id": "a"}}, {"data": {"id": "b"}}], "links": []}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    authorizations: list[str]


class _KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the connection stays open between requests
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")  # its end comes after the JSON
        self.end_headers()
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(PAGE), PAGE))

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _server() -> Iterator[tuple[_Server, str]]:
    server = _Server(("127.0.0.1", 0), _KeepAlive)
    server.authorizations = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _read(http: CleverHttp, url: str, token: str) -> list[Any]:
    pages = http.list_page(url, what="test", token=token)
    items: list[Any] = []
    while True:
        try:
            items.append(next(pages))
        except StopIteration:
            return items


def test_list_pages_reuse_one_connection() -> None:
    """Each page is read to its end (a chunked answer's last, empty chunk comes after the JSON), so
    the next request goes out on the same connection: one TCP connection for three pages (a guard:
    the sandbox cannot show it, its server closes every connection: ``sandbox.server``)."""
    with _server() as (server, url):
        http = CleverHttp()
        for _ in range(3):
            assert len(_read(http, f"{url}/v3.0/sections", "t")) == 2
        assert server.connections == 1
        assert http.requests_made == 3


def test_a_netrc_login_for_the_host_is_never_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bearer token is the only credential a request carries: a ``~/.netrc`` entry for the
    host (which ``requests`` would add on its own) is not sent."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-for-clever\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with _server() as (server, url):
        _read(CleverHttp(), f"{url}/v3.0/sections", "the-token")
        assert server.authorizations == ["Bearer the-token"]
