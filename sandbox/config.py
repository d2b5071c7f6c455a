"""The sandbox's configuration, its movable clock and the fault specification."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_SIZE = 200
DEFAULT_SEED = 1
DEFAULT_PORT = 18100


class Clock:
    """A wall clock that tests can move forward (code expiry, rate-limit windows, event retention)."""

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0
        self._fixed = start

    def __call__(self) -> float:
        base = self._fixed if self._fixed is not None else time.time()
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._offset += seconds


@dataclass(frozen=True)
class FaultSpec:
    """Injected faults, all off by default; rates are per request and drawn from ``seed``.

    Example: ``error_rate=0.05,burst429=0.02,burst_len=3,latency_ms=20,truncate=0.01,drop=0.01,seed=7``.
    ``bad_signature`` is the rate of id_tokens signed with a key that is not in the JWKS (OAuth, not
    the Data API: it draws from its own generator, so it leaves the Data API's faults unchanged).
    """

    error_rate: float = 0.0
    burst429: float = 0.0
    burst_len: int = 3
    latency_ms: int = 0
    truncate: float = 0.0
    drop: float = 0.0
    seed: int = 0
    bad_signature: float = 0.0

    @property
    def active(self) -> bool:
        """True when any Data API fault is switched on (``bad_signature`` is not one)."""
        return any((self.error_rate, self.burst429, self.latency_ms, self.truncate, self.drop))

    @classmethod
    def parse(cls, spec: str) -> FaultSpec:
        """Parse ``key=value,...``; unknown keys and bad values raise ``ValueError`` naming them."""
        values: dict[str, float | int] = {}
        ints = {"burst_len", "latency_ms", "seed"}
        known = {"error_rate", "burst429", "truncate", "drop", "bad_signature"} | ints
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep or key not in known:
                raise ValueError(f"fault spec: unknown or malformed entry {part!r} (known: {sorted(known)})")
            try:
                values[key] = int(raw) if key in ints else float(raw)
            except ValueError as exc:
                raise ValueError(f"fault spec: {key} must be a number, got {raw!r}") from exc
            if key not in ints and not 0.0 <= float(values[key]) <= 1.0:
                raise ValueError(f"fault spec: {key} is a rate between 0 and 1, got {raw!r}")
        return cls(**values)  # type: ignore[arg-type]


@dataclass
class SandboxConfig:
    """Everything a sandbox needs; every field has a default that gives the demo district.

    - ``size``/``seed``: generate a district of ``size`` students from ``seed`` (ignored with ``roster``).
    - ``roster``: path of a roster file ``{"districts": [...], "users": [...], ...}`` to serve instead.
    - ``client_id``/``client_secret``: the one registered app (``sandbox-client``/``sandbox-secret``).
    - ``redirect_uris``: the app's registered redirect URIs; the first is where portal logins land.
      Empty means any redirect URI is accepted (handy for tests; never true of the real Clever).
    - ``rate_limit``: requests per minute per bearer token (Clever: 1200).
    - ``faults``: a ``FaultSpec`` or its string form; off by default.
    - ``issuer``: fix the OIDC issuer instead of deriving it from the request's host.
    - ``clock``: seconds since the epoch; pass a ``Clock`` to move time in tests.
    - ``login_page_limit``: people listed per role on the login and portal pages.
    - ``api_versions``: the Data API versions the app may read (others answer 403).
    - ``tamper_id_token``: sign every id_token with a key that is not in the JWKS (broker tests of a
      refused signature); also switchable at run time as ``SandboxState.tamper_id_token``.
    """

    size: int = DEFAULT_SIZE
    seed: int = DEFAULT_SEED
    roster: Path | str | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default=DEFAULT_CLIENT_SECRET, repr=False)
    redirect_uris: tuple[str, ...] | list[str] = ()
    rate_limit: int = 1200
    faults: FaultSpec | str | None = None
    issuer: str | None = None
    clock: Callable[[], float] = time.time
    login_page_limit: int = 25
    tamper_id_token: bool = False
    # The Data API versions this app may read: Clever answers 403 for a version an app is not
    # allowed (``("v3.0",)`` plays an app that has not moved to v3.1 yet).
    api_versions: tuple[str, ...] = ("v3.0", "v3.1")

    def fault_spec(self) -> FaultSpec:
        """The faults as a ``FaultSpec`` (parsing the string form)."""
        if self.faults is None:
            return FaultSpec()
        if isinstance(self.faults, str):
            return FaultSpec.parse(self.faults)
        return self.faults
