"""What stands in front of every API call: injected faults, bearer-token auth, the rate limit."""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request

from sandbox.faults import FaultInjector, RateLimiter

FAULT_MESSAGES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def message(status: int, text: str) -> Response:
    """Clever's error body ``{"message": ...}``."""
    return Response(json.dumps({"message": text}), status=status, mimetype="application/json")


def _drop_connection() -> Response:
    sock: Any = request.environ.get("werkzeug.socket")
    if sock is not None:
        # Shut the socket so the client sees the connection close with no answer; werkzeug then
        # treats its own failing write as a dropped connection and stays quiet.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=502)


def guarded(view: Callable[..., Response]) -> Callable[..., Response]:
    """Faults, then auth (``g.caller``), then the per-token rate limit, then the view."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        st = current_app.extensions["clever_sandbox"]
        injector: FaultInjector | None = current_app.extensions.get("clever_sandbox_faults")
        fault = injector.next() if injector else None
        if fault and fault.latency:
            time.sleep(fault.latency)
        if fault and fault.drop:
            return _drop_connection()
        limiter: RateLimiter = current_app.extensions["clever_sandbox_limiter"]
        if fault and fault.status == 429:
            # An injected burst looks like a spent window: empty body, Reset at the window's end.
            return Response(b"", status=429, headers=limiter.exhausted().headers())
        if fault and fault.status:
            return message(fault.status, FAULT_MESSAGES[fault.status])
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        caller = st.caller_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if caller is None:
            response = message(401, "Unauthorized: a valid bearer token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="Clever"'
            return response
        quota = limiter.hit(token.strip())
        if not quota.allowed:
            return Response(b"", status=429, headers=quota.headers())  # Clever: 429 with an empty body
        g.caller = caller
        response = view(*args, **kwargs)
        response.headers.update(quota.headers())
        if fault and fault.truncate:
            body = response.get_data()
            response.set_data(body[: len(body) // 2])
        return response

    return wrapper
