"""The audit log of every admin decision about links, and the one-time move of the previous
version's links to ownership records.

Whose account is whose is the ownership rule's answer (``model.ownership``): an account belongs
to a Clever person if and only if it carries that person's *owned link*. Versions before it trusted
a ``clever`` link by the sync's memory in Redis (the Clever id -> Keycloak id pairs its last run
left, ``plugin.sync.applied``), by the links an admin kept on the page (Redis hash
``kcc:<realm>:kept-links``) and by the first-login flow's account name ``clever-<Clever id>``.
``links_to_own`` reads that memory once, on the first run of this version in a realm, and names the
links it trusted: the run rewrites each as an owned link (``connectors.keycloak.write_owned_link``)
and says how many; every other link stays a link that owns nothing (the person waits on the page).
The ``/Clever`` root group's ``clever_ownership`` attribute says the move is done
(``model.ownership.ROOT_MARK``); Redis is never read for ownership again.

Audit log: Redis list ``kcc:<realm>:audit``, newest first, at most ``AUDIT_KEEP`` entries, each
``{"at": ISO, "who": username, "who_id": Keycloak id, "action": ..., "clever_id": ..., "keycloak_id": ...}``:
every resolution of an ambiguous match and every decision about a suspicious link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from redis import Redis

AUDIT_KEEP = 1000


def kept_key(realm: str) -> str:
    return f"kcc:{realm}:kept-links"


def unlinked_key(realm: str) -> str:
    return f"kcc:{realm}:unlinked"


def audit_key(realm: str) -> str:
    return f"kcc:{realm}:audit"


def kept(redis: Redis, realm: str) -> dict[str, str]:
    """The links an admin kept on the page before ownership records: Clever id -> Keycloak id."""
    return {_text(k): _text(v) for k, v in redis.hgetall(kept_key(realm)).items()}


def links_to_own(
    foreign: Mapping[str, str],
    usernames: Mapping[str, str],
    made: Mapping[str, str],
    kept_links: Mapping[str, str],
) -> dict[str, str]:
    """The links the previous version trusted, to be rewritten as owned links: Keycloak id -> Clever id.

    ``foreign``: Keycloak id -> Clever id of each ``clever`` link that owns nothing; ``usernames``:
    Keycloak id -> username of those accounts; ``made``: the sync's memory (Clever id -> Keycloak
    id); ``kept_links``: the links an admin kept (same shape)."""
    trusted = {**made, **kept_links}
    return {
        keycloak_id: clever_id
        for keycloak_id, clever_id in foreign.items()
        if clever_id
        and (trusted.get(clever_id) == keycloak_id or usernames.get(keycloak_id) == f"clever-{clever_id}")
    }


def note_unlinked(redis: Redis, realm: str, lost: Mapping[str, str], owned: Iterable[str]) -> dict[str, str]:
    """People whose account was unlinked, who wait for an admin: Clever id -> the Keycloak id of the
    account that was theirs. ``lost``: people the last run synced whose account is still in the
    realm but owns nothing now (an unlink: the console's, the page's, an API's); ``owned``: Clever
    ids that own an account now (their wait is over). Redis hash ``kcc:<realm>:unlinked``: a
    decision pending, like a resolution; the account itself may carry nothing that says so (a
    READ_ONLY directory account never had a ``clever_id``)."""
    key = unlinked_key(realm)
    pipe = redis.pipeline()
    if lost:
        mapping: dict[Any, Any] = dict(lost)
        pipe.hset(key, mapping=mapping)
    if done := [clever_id for clever_id in owned if clever_id not in lost]:
        for chunk in range(0, len(done), 5000):
            pipe.hdel(key, *done[chunk : chunk + 5000])
    pipe.execute()
    return unlinked(redis, realm)


def unlinked(redis: Redis, realm: str) -> dict[str, str]:
    """The people waiting since an unlink: Clever id -> the Keycloak id that was theirs."""
    return {_text(k): _text(v) for k, v in redis.hgetall(unlinked_key(realm)).items()}


def forget_unlinked(redis: Redis, realm: str, clever_id: str) -> None:
    """An admin resolved the person's wait."""
    redis.hdel(unlinked_key(realm), clever_id)


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
