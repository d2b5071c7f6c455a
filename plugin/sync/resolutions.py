"""An admin's answers to the people Match Users By Name holds, for the next sync to apply; the rules
that confirm possible matches in bulk; and what the page shows of each waiting person.

When Match Users By Name cannot link a person on its own (``mappers.names``: ambiguous, refused,
possible, unlinked), the sync lists them with their candidate accounts and links nobody. On the
admin page a realm admin picks one of the accounts offered for that person, or "none of these:
create a new account"; the choice is kept here until a sync applies it. Who may choose, what may be
chosen, and the audit log of every choice: ``plugin.admin.decisions``; the sync checks a choice
again before applying it (``plugin.sync.desired_match.resolved_choices``).

Redis hash ``kcc:<realm>:resolutions``: Clever id → Keycloak user id, or ``"create"``.
The sync reads ``load(redis, realm)`` before mapping: a Keycloak id means "link this person to that
account" (as a name match would), ``CREATE`` means "make a new account, match nobody".

Bulk confirmation (``rules``): the waiting possible matches, each with its one candidate, grouped by
where the candidate comes from (an LDAP base DN, local accounts, another identity provider) and what
it holds beyond the realm's defaults. Each group is a rule in words ("candidates from
ou=teachers,dc=example,dc=org whose only extra is realm role teacher"); confirming it writes one
resolution per person, exactly as confirming each one would.

Redis hash ``kcc:<realm>:waiting-people``: Clever id → JSON of what the page shows of a waiting
person (name, roles, schools, grade, title, SIS id), written by the run that lists them
(``keep_people``) and read by the page only: reports, warnings and logs name Clever ids only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from redis import Redis

CREATE = "create"
POSSIBLE = "possible-match"


def key(realm: str) -> str:
    return f"kcc:{realm}:resolutions"


def people_key(realm: str) -> str:
    return f"kcc:{realm}:waiting-people"


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


def keep_people(redis: Redis, realm: str, people: Mapping[str, Mapping[str, Any]], *, full: bool) -> None:
    """Keep what the page shows of the people a run listed as waiting; a full run's list replaces
    the earlier ones (it saw everybody), an incremental run's adds to them."""
    pipe = redis.pipeline()
    if full:
        pipe.delete(people_key(realm))
    if people:
        pipe.hset(people_key(realm), mapping={c: json.dumps(p, sort_keys=True) for c, p in people.items()})
    pipe.execute()


def people(redis: Redis, realm: str, clever_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What the page shows of the waiting people ``clever_ids`` (those the sync described)."""
    wanted = list(dict.fromkeys(clever_ids))
    if not wanted:
        return {}
    found = redis.hmget(people_key(realm), wanted)
    return {c: json.loads(_text(raw)) for c, raw in zip(wanted, found, strict=True) if raw}


@dataclass(frozen=True, slots=True)
class Rule:
    """Possible matches an admin can confirm at once: the rule in words and who it confirms."""

    key: str  # stable while the group is the same: the page posts it back
    words: str
    members: tuple[tuple[str, str], ...]  # (Clever id, Keycloak id), in Clever-id order
    reasons: tuple[str, ...]  # why they are possible, each once


def rules(waiting: Iterable[Mapping[str, Any]]) -> list[Rule]:
    """The waiting possible matches grouped by their candidate's source and holdings, biggest first."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, Mapping[str, Any]]]] = {}
    for item in waiting:
        listed = [c for c in item.get("listed") or [] if c.get("linkable")]
        if item.get("kind") != POSSIBLE or len(listed) != 1:
            continue
        found = listed[0]
        where = (
            str(found.get("source", "local")),
            str(found.get("base", "")),
            tuple(found.get("holds") or ()),
        )
        groups.setdefault(where, []).append((str(item["clever_id"]), found))
    made = []
    for where, members in groups.items():
        pairs = tuple(sorted((clever_id, str(c["keycloak_id"])) for clever_id, c in members))
        reasons = tuple(dict.fromkeys(str(c.get("why", "")) for _, c in members))
        digest = hashlib.sha1(json.dumps([*where[:2], list(where[2])]).encode()).hexdigest()[:12]
        made.append(Rule(digest, rule_words(*where), pairs, reasons))
    return sorted(made, key=lambda rule: (-len(rule.members), rule.words))


def rule_words(source: str, base: str, holds: tuple[str, ...]) -> str:
    """ "candidates from ou=teachers,dc=example,dc=org whose only extra is realm role teacher" """
    if source == "ldap":
        where = f"candidates from {base}" if base else "candidates from the directory (LDAP)"
    elif source == "local":
        where = "local candidates (accounts made in Keycloak)"
    else:
        where = f"candidates signing in with identity provider {source}"
    if not holds:
        return f"{where} that hold nothing beyond the realm's defaults"
    if len(holds) == 1:
        return f"{where} whose only extra is {holds[0]}"
    return f"{where} whose only extras are {', '.join(holds[:-1])} and {holds[-1]}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
