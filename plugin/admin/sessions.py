"""Server-side admin sessions: revocable, re-checked against Keycloak, with an absolute lifetime.

The browser's cookie holds only a random session id (and the CSRF token); the session itself is a
Redis record ``kcc:<realm>:admin-session:<sid>`` that expires ``LIFETIME_S`` after sign-in, however
busy the admin is. Sign out deletes it: a copied cookie replayed afterwards is refused (401, or the
sign-in page). Every ``RECHECK_S`` seconds a request first re-checks the session with Keycloak:
the refresh token of the sign-in is used once (Keycloak refuses it when the Keycloak session was
ended, by Sign out, by an admin in the console, or when the user was disabled), and the page's
role rule is read again. A refused refresh or a lost role ends the session here too. The refresh
token is kept encrypted (Fernet, ``plugin.config.secrets``) and is never shown.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from redis import Redis

from plugin.config.secrets import fernet_for

LIFETIME_S = 8 * 3600  # absolute: a session never outlives this, active or not
RECHECK_S = 60  # Keycloak's session and the roles are read again after this


@dataclass
class AdminSession:
    """One signed-in admin."""

    user_id: str
    username: str
    allowed: bool
    created: float
    checked: float
    refresh_token: str = ""  # encrypted

    def due(self, now: float) -> bool:
        return now - self.checked > RECHECK_S


class SessionStore:
    """Create, read, re-check and end admin sessions for one realm."""

    def __init__(self, redis: Redis, realm: str, secret_key: str) -> None:
        self.redis = redis
        self.prefix = f"kcc:{realm}:admin-session:"
        self.fernet = fernet_for(secret_key)

    def create(self, user_id: str, username: str, allowed: bool, refresh_token: str) -> str:
        """A new session; its id (for the cookie)."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        sealed = self.fernet.encrypt(refresh_token.encode()).decode() if refresh_token else ""
        record = AdminSession(user_id, username, allowed, now, now, sealed)
        self.redis.set(self.prefix + sid, json.dumps(asdict(record)), ex=LIFETIME_S)
        return sid

    def get(self, sid: str) -> AdminSession | None:
        raw = self.redis.get(self.prefix + sid) if sid else None
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        known = {k: v for k, v in data.items() if k in AdminSession.__dataclass_fields__}
        return AdminSession(**known)

    def refresh_token(self, record: AdminSession) -> str:
        if not record.refresh_token:
            return ""
        try:
            return self.fernet.decrypt(record.refresh_token.encode()).decode()
        except InvalidToken:
            return ""

    def checked(self, sid: str, record: AdminSession, allowed: bool, refresh_token: str) -> None:
        """Keep the outcome of a re-check; the record keeps its absolute expiry."""
        record.allowed, record.checked = allowed, time.time()
        if refresh_token:
            record.refresh_token = self.fernet.encrypt(refresh_token.encode()).decode()
        self.redis.set(self.prefix + sid, json.dumps(asdict(record)), keepttl=True)

    def end(self, sid: str) -> None:
        if sid:
            self.redis.delete(self.prefix + sid)
