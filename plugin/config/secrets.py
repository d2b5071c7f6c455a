"""Secrets at rest: the Clever client secret and district tokens, encrypted in Redis with Fernet.

The Fernet key is derived from ``KCC_SECRET_KEY`` (``settings.secret_key``, the same key that signs
the admin page's session cookie) with HKDF-SHA256 and a fixed, purpose-bound ``info``, so one
configured secret serves both without the cookie key ever being the encryption key itself. Changing
``KCC_SECRET_KEY`` makes stored secrets unreadable: the page then asks for them again (``get`` returns
``None``) instead of failing.

A secret is never shown back whole: ``hint`` gives its last four characters (nothing for short ones),
and nothing here logs a value. Example::

    secrets = SecretStore(redis, settings.secret_key, namespace=f"kcc:{realm}")
    secrets.put("clever_client_secret", "…")
    secrets.hint("clever_client_secret")   # "…cret"
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from redis import Redis

from plugin.config.hardening import require_secret_key

INFO = b"keycloak-clever secrets at rest v1"
HINT_MIN_LENGTH = 12  # below this, four characters would give away too much of the secret


def fernet_for(secret_key: str) -> Fernet:
    """The Fernet derived from ``KCC_SECRET_KEY``; ConfigError when it is missing or weak."""
    require_secret_key(secret_key)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def hint(value: str) -> str:
    """What a page may show of a secret: its last four characters, or only that it is set."""
    if not value:
        return ""
    return "…" + value[-4:] if len(value) >= HINT_MIN_LENGTH else "set"


class SecretStore:
    """Named secrets, each one Fernet token in one Redis hash ``<namespace>:secrets``."""

    def __init__(self, redis: Redis, secret_key: str, namespace: str) -> None:
        self._redis = redis
        self._fernet = fernet_for(secret_key)
        self._key = f"{namespace}:secrets"

    def put(self, name: str, value: str) -> None:
        """Store (or replace) a secret; an empty value deletes it."""
        if not value:
            self.delete(name)
            return
        self._redis.hset(self._key, name, self._fernet.encrypt(value.encode()))

    def get(self, name: str) -> str | None:
        """The secret, or None when unset or sealed with another key."""
        token = self._redis.hget(self._key, name)
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token if isinstance(token, bytes) else str(token).encode()).decode()
        except InvalidToken:
            return None

    def hint(self, name: str) -> str:
        """``hint()`` of the stored secret ("" when unset)."""
        return hint(self.get(name) or "")

    def delete(self, name: str) -> None:
        self._redis.hdel(self._key, name)
