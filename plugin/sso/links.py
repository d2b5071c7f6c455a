"""Which ``clever`` links the sync trusts, and the audit log of every admin decision about links.

A ``clever`` link sends a Clever login straight into an account, so the sync trusts only the links
it made: the Clever id -> Keycloak id pairs its last run left (``plugin.sync.applied``, the sync's own
memory) plus the ones an admin kept on the page (Redis hash ``kcc:<realm>:kept-links``). Any other
link (made in the Account Console, or by hand) is *suspicious*: the account gets nothing from
Clever, nobody is matched to it, the person waits on the page until an admin keeps the link or
unlinks it (``plugin.admin.actions.decide_link``).

Audit log: Redis list ``kcc:<realm>:audit``, newest first, at most ``AUDIT_KEEP`` entries, each
``{"at": ISO, "who": username, "who_id": Keycloak id, "action": ..., "clever_id": ..., "keycloak_id": ...}``:
every resolution of an ambiguous match and every decision about a suspicious link.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from redis import Redis

AUDIT_KEEP = 1000


def kept_key(realm: str) -> str:
    return f"kcc:{realm}:kept-links"


def audit_key(realm: str) -> str:
    return f"kcc:{realm}:audit"


def kept(redis: Redis, realm: str) -> dict[str, str]:
    """The links an admin kept: Clever id -> Keycloak id."""
    return {_text(k): _text(v) for k, v in redis.hgetall(kept_key(realm)).items()}


def keep(redis: Redis, realm: str, clever_id: str, keycloak_id: str) -> None:
    """Trust the link of ``keycloak_id`` to ``clever_id`` from now on."""
    redis.hset(kept_key(realm), clever_id, keycloak_id)


def ours(made: Mapping[str, str], redis: Redis, realm: str) -> dict[str, str]:
    """Every trusted link: the ones the sync made (``made``) and the ones an admin kept."""
    return {**made, **kept(redis, realm)}


def audit(
    redis: Redis, realm: str, *, who: str, who_id: str, action: str, clever_id: str, keycloak_id: str
) -> None:
    """Write one entry of the audit log."""
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "who": who,
        "who_id": who_id,
        "action": action,
        "clever_id": clever_id,
        "keycloak_id": keycloak_id,
    }
    pipe = redis.pipeline()
    pipe.lpush(audit_key(realm), json.dumps(entry, sort_keys=True))
    pipe.ltrim(audit_key(realm), 0, AUDIT_KEEP - 1)
    pipe.execute()


def audit_log(redis: Redis, realm: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest ``limit`` entries of the audit log."""
    return [json.loads(_text(raw)) for raw in redis.lrange(audit_key(realm), 0, limit - 1)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
