"""Ambiguous name matches resolved by an admin, for the next sync to apply.

When Match Users By Name finds several accounts for one Clever person (or one account for several),
the sync reports it as ambiguous and links nobody. On the admin page a realm admin picks one of the
accounts listed for that ambiguity, or "none of these: create a new account"; the choice is kept
here until a sync applies it. Who may choose, what may be chosen, and the audit log of every
choice: ``plugin.admin.decisions``; the sync checks a choice again before applying it
(``plugin.sync.desired_match.resolved_choices``).

Redis hash ``kcc:<realm>:resolutions``: Clever id → Keycloak user id, or ``"create"``.
The sync reads ``load(redis, realm)`` before mapping: a Keycloak id means "link this person to that
account" (as a name match would), ``CREATE`` means "make a new account, match nobody".
"""

from __future__ import annotations

from redis import Redis

CREATE = "create"


def key(realm: str) -> str:
    return f"kcc:{realm}:resolutions"


def resolve(redis: Redis, realm: str, clever_id: str, choice: str) -> None:
    """Record the admin's choice for one Clever person (a Keycloak user id, or ``CREATE``)."""
    redis.hset(key(realm), clever_id, choice)


def load(redis: Redis, realm: str) -> dict[str, str]:
    """Every pending choice: Clever id → Keycloak user id or ``CREATE``."""
    raw = redis.hgetall(key(realm))
    return {_text(k): _text(v) for k, v in raw.items()}


def forget(redis: Redis, realm: str, clever_id: str) -> None:
    """Drop a choice (the admin changed their mind, or the sync has applied it)."""
    redis.hdel(key(realm), clever_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
