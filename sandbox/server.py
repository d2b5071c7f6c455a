"""Serve a sandbox on a real socket in a background thread, for tests: ``with serve(app) as url:``.

One way the sandbox is not Clever: Werkzeug's server closes the connection after every answer
(``Connection: close``; it cannot keep one open: it reads the rest of the socket after each
answer), where Clever's keep them open. A client here pays a TCP connection a request, which it
does not at Clever (``tests/unit/test_clever_http.py``: one connection for many pages there).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` threaded on ``host:port`` (0 = a free port); yields the base URL, stops on exit."""
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="clever-sandbox", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
