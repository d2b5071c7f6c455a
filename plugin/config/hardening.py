"""What the sidecar checks before it serves anyone: its secret key, its headers, its run ids.

* ``KCC_SECRET_KEY`` signs the admin session cookie, keys the Fernet encryption of stored secrets
  (``plugin.config.secrets``) and the HMAC fingerprint of the Clever client secret (``plugin.sso.broker``). It
  must hold at least 32 bytes of randomness: at least 32 bytes long, and not a repeated or patterned
  string (a rough estimate of its entropy, from its character frequencies and how well it
  compresses, must reach 128 bits: that refuses ``"x" * 32``, a word repeated, or the 16 random
  bytes of ``secrets.token_hex(16)``). A
  weak key is refused when the app is built (``create_app``) and when a worker starts, with the
  command that makes a good one: ``python -c 'import secrets; print(secrets.token_hex(32))'``.
* Every response of the sidecar carries ``SECURITY_HEADERS``: no framing (clickjacking:
  ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``), no MIME sniffing, and
  ``Cache-Control: no-store`` (the pages show a district's people and the API answers carry
  tokens' hints: nothing for a shared cache or the browser's back button).
* Run ids are ours (``uuid4().hex[:12]``, ``[A-Za-z0-9-]``); any other in a URL, or in the page's
  ``?run=``, is a 400 before it reaches Redis or RQ.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from typing import TYPE_CHECKING

from model.base import ConfigError

if TYPE_CHECKING:  # the worker imports this module, and never Flask
    from flask import Response

MIN_SECRET_BYTES = 32
MIN_SECRET_BITS = 128
MAKE_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}
RUN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def estimated_bits(value: str) -> float:
    """A rough upper estimate of the value's entropy: the smaller of its character frequencies'
    Shannon entropy times its length, and what zlib leaves of it (a repeated word compresses away)."""
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    compressed = (len(zlib.compress(value.encode(), 9)) - len(zlib.compress(b"", 9))) * 8
    return min(per_char * total, float(compressed))


def secret_key_problem(secret_key: str) -> str | None:
    """Why ``KCC_SECRET_KEY`` is not good enough, or None."""
    if not secret_key:
        return f"KCC_SECRET_KEY is missing: set it to 32 random bytes, e.g. the output of {MAKE_KEY}"
    if len(secret_key.encode()) < MIN_SECRET_BYTES:
        return (
            f"KCC_SECRET_KEY is too short ({len(secret_key.encode())} bytes, at least "
            f"{MIN_SECRET_BYTES} of randomness needed): make one with {MAKE_KEY}"
        )
    if estimated_bits(secret_key) < MIN_SECRET_BITS:
        return f"KCC_SECRET_KEY is not random enough (repeated or patterned): make one with {MAKE_KEY}"
    return None


def require_secret_key(secret_key: str) -> None:
    """Refuse to start (ConfigError with a clear message) on a missing or weak secret key."""
    problem = secret_key_problem(secret_key)
    if problem is not None:
        raise ConfigError(problem)


def add_security_headers(response: Response) -> Response:
    """``after_request``: the headers of the module docstring, on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def valid_run_id(run_id: str) -> bool:
    return RUN_ID.fullmatch(run_id) is not None
