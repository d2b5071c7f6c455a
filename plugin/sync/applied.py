"""What the last successful run left in Keycloak, kept in Redis so later runs read less.

Keys (under ``kcc:sync:applied:<realm>:<district>:``)::

    members     hash: group key -> "<Keycloak group id>:<sha1 of the sorted member ids>"
    ids         hash: Clever id -> Keycloak user id (every synced account)
    users       hash: Clever id -> fingerprint of the account's wanted attributes when last written
    others      set: Keycloak ids of the realm's other accounts (not synced) at the last full run
    groups      hash: group key -> Keycloak group id
    dns         hash: Clever id -> LDAP DN (people with a directory entry only)
    emails      hash: Clever id -> the address Keycloak refused (another account holds it)
    kinds       hash: Clever id -> report kind (``students`` ...) of a read-only directory account,
                whose ``clever_role`` attribute Keycloak refuses: its kind when it departs
    totals      hash: kind -> enabled accounts / live classes / memberships (the incremental brake)
    verified    ISO time of the last run that read every group's members

**The trade-off (no-op speed against drift made by hand).** A full run reads the whole roster and
every synced account (a few paged calls), but a group's member list only when the members the
roster wants there differ from the fingerprint the last run wrote for it, or when it has no
fingerprint. So a run with nothing changed in Clever reads no member list and writes nothing,
and a change in Clever is still seen (its group's wanted members no longer match the fingerprint).
What such a run does not see is a membership added or removed by hand in Keycloak since: a
*verify* run (``sync --verify``, the weekly run, and any run when the last verify is older than
``VERIFY_EVERY``) reads every member list and puts it right. Accounts are read the same
way: a brief listing (names, email, enabled; ten times cheaper than full representations) on every
run, attributes and links only for people whose wanted attributes differ from the fingerprint the
last run wrote, or when an account appears that the last run did not see. Group names and
attributes are read on every run. Losing these
keys (a flushed Redis) only costs speed: a missing fingerprint means "read it".
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from redis import Redis

PREFIX = "kcc:sync:applied:"
VERIFY_EVERY = timedelta(days=7)
# Fields per HSET when a full run replaces a hash (``Applied._replace_hash``).
CHUNK = 5000


class Applied:
    """The memory of one realm and district (see the module docstring)."""

    def __init__(self, redis: Redis, realm: str, district_id: str) -> None:
        self.redis = redis
        self.realm = realm
        self.base = f"{PREFIX}{realm}:{district_id}:"

    @classmethod
    def from_url(cls, url: str, realm: str, district_id: str) -> Applied:
        return cls(Redis.from_url(url), realm, district_id)

    def _hash(self, name: str) -> dict[str, str]:
        # Keys interned: they are Clever ids and group keys, the same ones the roster's records
        # hold (``connectors.clever_parse`` interns ids), so a district's ids are kept once.
        return {sys.intern(_text(k)): _text(v) for k, v in self.redis.hgetall(self.base + name).items()}

    def _values(self, name: str, fields: Iterable[str]) -> dict[str, str]:
        fields = list(fields)
        if not fields:
            return {}
        found = self.redis.hmget(self.base + name, fields)
        return {f: _text(v) for f, v in zip(fields, found, strict=True) if v is not None}

    # -- member fingerprints --------------------------------------------------------------------

    def fingerprints(self, keys: Iterable[str] | None = None) -> dict[str, str]:
        """Group key -> member fingerprint: every group's, or those of ``keys``."""
        return self._hash("members") if keys is None else self._values("members", keys)

    def save_fingerprints(self, fingerprints: Mapping[str, str], *, dropped: Iterable[str] = ()) -> None:
        pipe = self.redis.pipeline()
        if fingerprints:
            pipe.hset(self.base + "members", mapping=_mapping(fingerprints))
        if dropped := list(dropped):
            pipe.hdel(self.base + "members", *dropped)
        pipe.execute()

    def needs_verify(self, now: datetime) -> bool:
        raw = self.redis.get(self.base + "verified")
        if raw is None:
            return True
        return now - datetime.fromisoformat(_text(raw)) > VERIFY_EVERY

    def set_verified(self, now: datetime) -> None:
        self.redis.set(self.base + "verified", now.astimezone(UTC).isoformat(timespec="seconds"))

    def user_fingerprints(self, clever_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Clever id -> fingerprint of the account's attributes as written: everyone's, or these."""
        return self._hash("users") if clever_ids is None else self._values("users", clever_ids)

    def save_users(self, fingerprints: Iterable[tuple[str, str]], others: Iterable[str]) -> None:
        """The full picture after a full run: every synced account's (Clever id, fingerprint), made
        as they are written (``_replace_hash``), and the other accounts."""
        self._replace_hash("users", fingerprints)
        pipe = self.redis.pipeline()
        pipe.delete(self.base + "others")
        if others := list(others):
            pipe.sadd(self.base + "others", *others)
        pipe.execute()

    def _replace_hash(self, name: str, items: Iterable[tuple[str, str]]) -> None:
        """The hash ``name`` replaced by ``items`` at once: written beside it ``CHUNK`` fields a
        command, then renamed over it in one transaction (readers see the old hash or the new one).

        Memory: one HSET of a district's 50,000 accounts packs every field and value into one
        buffer (redis-py encodes a whole pipeline before sending it), about as big again as the
        mapping; in chunks neither that nor the mapping has to be held in full. A staging hash
        left by a run that stopped half-way is dropped by the next one.
        """
        key, staging = self.base + name, self.base + name + ":new"
        self.redis.delete(staging)
        written = False
        pairs = iter(items)
        while chunk := dict(islice(pairs, CHUNK)):
            self.redis.hset(staging, mapping=_mapping(chunk))
            written = True
        pipe = self.redis.pipeline()
        if written:
            pipe.rename(staging, key)
        else:
            pipe.delete(key)
        pipe.execute()

    def save_user_fingerprints(self, fingerprints: Iterable[tuple[str, str]]) -> None:
        """Some accounts' fingerprints (an incremental run's people), the others kept."""
        if found := dict(fingerprints):
            self.redis.hset(self.base + "users", mapping=_mapping(found))

    def forget(self, clever_ids: Iterable[str]) -> None:
        """People whose account retention deleted or unlinked (``plugin.sync.retention``): no longer
        synced, nor lost (an unlinked account is not an unlink to wait on), nor anything to read."""
        if ids := list(clever_ids):
            pipe = self.redis.pipeline()
            for name in ("ids", "users", "dns", "kinds", "emails"):
                pipe.hdel(self.base + name, *ids)
            pipe.execute()

    def drop_users(self, clever_ids: Iterable[str]) -> None:
        if ids := list(clever_ids):
            self.redis.hdel(self.base + "users", *ids)

    def others(self) -> set[str]:
        return {_text(v) for v in self.redis.smembers(self.base + "others")}

    def all_ids(self) -> dict[str, str]:
        return self._hash("ids")

    def all_dns(self) -> dict[str, str]:
        return self._hash("dns")

    # -- ids, group ids, DNs ----------------------------------------------------------------------

    def keycloak_ids(self, clever_ids: Iterable[str]) -> dict[str, str]:
        return self._values("ids", clever_ids)

    def group_ids(self) -> dict[str, str]:
        return self._hash("groups")

    def dns(self, clever_ids: Iterable[str]) -> dict[str, str]:
        return self._values("dns", clever_ids)

    def remember(
        self,
        *,
        ids: Mapping[str, str] = {},
        groups: Mapping[str, str] = {},
        dns: Mapping[str, str] = {},
        replace: bool = False,
    ) -> None:
        """Record ids (``replace``: the whole picture of a full run, dropping what is gone)."""
        if replace:
            self.replace_ids(ids=ids.items(), groups=groups.items(), dns=dns.items())
            return
        pipe = self.redis.pipeline()
        for name, values in (("ids", ids), ("groups", groups), ("dns", dns)):
            if values:
                pipe.hset(self.base + name, mapping=_mapping(values))
        pipe.execute()

    def replace_ids(
        self,
        *,
        ids: Iterable[tuple[str, str]],
        groups: Iterable[tuple[str, str]],
        dns: Iterable[tuple[str, str]],
    ) -> None:
        """The whole picture of a full run (what is gone dropped), each hash from (key, value)
        pairs as they come; a key listed twice keeps its last value."""
        for name, pairs in (("ids", ids), ("groups", groups), ("dns", dns)):
            self._replace_hash(name, pairs)

    def kinds(self, clever_ids: Iterable[str]) -> dict[str, str]:
        """The remembered kinds of these people (read-only directory accounts only)."""
        return self._values("kinds", clever_ids)

    def remember_kinds(self, kinds: Mapping[str, str]) -> None:
        # Kept, not replaced, by a full run: a departed person's kind is needed on later runs too.
        if kinds:
            self.redis.hset(self.base + "kinds", mapping=_mapping(kinds))

    # -- refused emails and totals ----------------------------------------------------------------

    def refused_emails(self) -> dict[str, str]:
        return self._hash("emails")

    def refuse_emails(self, refused: Mapping[str, str]) -> None:
        if refused:
            self.redis.hset(self.base + "emails", mapping=_mapping(refused))

    def totals(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._hash("totals").items()}

    def save_totals(self, totals: Mapping[str, int]) -> None:
        if totals:
            self.redis.hset(self.base + "totals", mapping=_mapping(totals))


def _mapping(values: Mapping[str, str] | Mapping[str, int]) -> Any:
    """A plain dict for ``hset`` (redis-py's stubs want a wider key type than ours)."""
    return dict(values)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
