"""Retention: how long a departed person's account is kept, as a rule a district writes down.

Off by default (``KCC_RETENTION_DAYS=0``, the page's "Retention"): a departed person's account stays
disabled, as it always did. With N days (``rule_words`` says it on the page and in docs/sync.md):

* an account **the sync created** for a Clever person, disabled by the sync because the person left
  Clever (its ``clever_removed_at`` stamp), is **deleted** N days after that stamp;
* an account the sync only **linked** (a directory account, an account that existed before) is
  **never deleted**: after N days its Clever link and its ``clever_*`` attributes are removed
  (*unlinked*), and the account itself stays as the district left it (disabled);
* a person back in Clever within the N days is enabled again by the sync, which drops the stamp, so
  nothing happens; after them, the person is new to the sync (a deleted account is made again, an
  unlinked one is matched as any account is).

"The sync created it" is the created mark (``model.state.CREATED_MARK``, written in the call
that makes the account, on both write paths), and it counts only on an account whose own
``createdTimestamp`` (Keycloak's, never rewritten) is at or after the mark, less ``CLOCK_SKEW``, and
that lives in no user-storage provider (LDAP): a mark copied onto an older account, or one made
before this version, means "never delete", as a missing mark does. The account must still be its
person's by the ownership rule (``model.ownership``) and still disabled; READ_ONLY directory
accounts never carry the stamp, so retention never touches them (they wait on the page for the
directory's admin, ``plugin.sync.departed``).

It is a stage of the pipeline (``plugin.sync.pipeline``), between plan and brake: in every full run
(the weekly run, Sync in full, an approved run) and in other runs once a day (``CHECK_EVERY``). Its
deletions and unlinks go through the brake as disables do (``brake_reasons``: over
``options.brake_ratio`` of a kind's synced accounts, or a kind with none to compare with, holds the
whole run for review, nothing written), are listed in a held or dry run's "would change", are
counted in the report (``report.retention``) and each leaves an entry in the audit log
(``plugin.sso.links.audit``, who "retention").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from connectors import keycloak_retention
from connectors.keycloak import KeycloakDirectory
from connectors.keycloak_retention import DisabledAccount
from mappers.layout import CLEVER_ATTRIBUTES, CLEVER_MARKS
from model.base import RecordError, TransientError
from model.state import CREATED_MARK
from plugin.sso import links
from plugin.sync.plan import user_kind
from plugin.sync.report import SyncReport

CLOCK_SKEW = timedelta(minutes=5)  # between the sidecar's clock (the mark) and Keycloak's
CHECK_EVERY = timedelta(days=1)  # how often a run that is not full checks retention
REMOVED_AT = "clever_removed_at"
AUDIT_WHO = "retention"
DELETE, UNLINK = "delete", "unlink"


def rule_words(days: int) -> str:
    """The rule in force, in the words the page and the docs use."""
    if not days:
        return (
            "the account of a person who left Clever stays disabled in Keycloak, with its Clever "
            "data, until an admin removes it"
        )
    span = "1 day" if days == 1 else f"{days} days"
    return (
        f"an account the sync created is deleted {span} after its person left Clever; an account it "
        f"only linked (a directory or existing account) is never deleted: after {span} its Clever "
        "link and Clever attributes are removed. A person back in Clever before then is enabled "
        "again. A run that would delete or unlink more than the brake's share of a kind is held "
        "for your review"
    )


@dataclass(frozen=True, slots=True)
class Due:
    """An account retention acts on now: deleted (the sync created it) or unlinked."""

    keycloak_id: str
    clever_id: str
    kind: str  # report kind (``students`` ...)
    action: str  # DELETE | UNLINK
    removed_at: str
    username: str
    first_name: str
    last_name: str


@dataclass
class Retention:
    """One run's retention: the rule's days, who is due, why the brake holds (empty: it does not)."""

    days: int
    due: list[Due]
    reasons: list[str]

    def rows(self) -> list[dict[str, str]]:
        return [asdict(item) for item in self.due]


# -- the rule (pure) ----------------------------------------------------------------------------------


def created_by_sync(account: DisabledAccount) -> bool:
    """The created mark, on an account Keycloak made at or after it, outside any user storage."""
    mark = _first(account.attributes, CREATED_MARK)
    when = _parse(mark)
    if when is None or account.federation_link:
        return False
    return account.created_ms / 1000 >= (when - CLOCK_SKEW).timestamp()


def past_window(accounts: Iterable[DisabledAccount], now: datetime, days: int) -> list[DisabledAccount]:
    """The accounts whose departure stamp is at least ``days`` old."""
    limit = now - timedelta(days=days)
    return [a for a in accounts if (when := _parse(_first(a.attributes, REMOVED_AT))) and when <= limit]


def due(accounts: Iterable[DisabledAccount], owners: Mapping[str, str], present: Set[str]) -> list[Due]:
    """What retention does to each account past the window: only accounts their person still owns,
    of people not in the roster now (``present``)."""
    found: list[Due] = []
    for account in accounts:
        clever_id = owners.get(account.keycloak_id, "")
        if not clever_id or clever_id in present:
            continue
        found.append(
            Due(
                account.keycloak_id,
                clever_id,
                user_kind(account.attributes),
                DELETE if created_by_sync(account) else UNLINK,
                _first(account.attributes, REMOVED_AT),
                account.username,
                account.first_name,
                account.last_name,
            )
        )
    return sorted(found, key=lambda item: (item.kind, item.clever_id))


def brake_reasons(items: Iterable[Due], totals: Mapping[str, int], ratio: float) -> list[str]:
    """A kind whose deletions and unlinks exceed ``ratio`` of its synced accounts, or that has none
    to compare with, holds the run."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    reasons = []
    for kind, count in sorted(counts.items()):
        total = totals.get(kind, 0)
        if not total or count / total > ratio:
            of = f"{total} synced {kind}" if total else f"{kind}, none of whom is synced now"
            reasons.append(f"retention would delete or unlink {count} of {of} (over {ratio:.0%})")
    return reasons


def _first(attributes: Mapping[str, tuple[str, ...]], name: str) -> str:
    values = attributes.get(name) or ()
    return values[0] if values else ""


def _parse(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
    return when if when is None or when.tzinfo else when.replace(tzinfo=UTC)


# -- the stage ------------------------------------------------------------------------------------


def _checked_key(realm: str, district_id: str) -> str:
    return f"kcc:sync:retention:{realm}:{district_id}"


def is_due(redis: Redis, realm: str, district_id: str, *, full: bool, now: datetime) -> bool:
    """Every full run checks retention; another run when the last check is ``CHECK_EVERY`` old."""
    if full:
        return True
    raw = redis.get(_checked_key(realm, district_id))
    last = _parse(raw.decode() if isinstance(raw, bytes) else raw or "")
    return last is None or now - last >= CHECK_EVERY


def plan_retention(
    keycloak: KeycloakDirectory,
    *,
    days: int,
    present: Set[str],
    totals: Mapping[str, int],
    ratio: float,
    now: datetime,
) -> Retention:
    """Who retention deletes or unlinks now, and whether the brake holds it."""
    accounts = past_window(keycloak_retention.disabled_linked(keycloak.http), now, days)
    owners = keycloak_retention.owners(keycloak.http, [a.keycloak_id for a in accounts], keycloak.workers)
    found = due(accounts, owners, present)
    return Retention(days, found, brake_reasons(found, totals, ratio))


def apply_retention(
    keycloak: KeycloakDirectory, retention: Retention, report: SyncReport, redis: Redis, realm: str
) -> list[str]:
    """Delete or unlink each due account, audit each, count them in the report; the Clever ids done."""
    counts: dict[str, dict[str, int]] = {DELETE: {}, UNLINK: {}}
    names = (*CLEVER_ATTRIBUTES, *CLEVER_MARKS)
    done: list[str] = []
    for item in retention.due:
        try:
            if item.action == DELETE:
                keycloak_retention.delete_account(keycloak.http, item.keycloak_id)
            else:
                keycloak_retention.unlink_account(keycloak.http, item.keycloak_id, names)
        except (RecordError, TransientError) as exc:
            report.errors.append(
                f"keycloak: retention could not {item.action} {item.kind} {item.clever_id}: {exc}"
            )
            continue
        links.audit(
            redis,
            realm,
            who=f"{AUDIT_WHO} ({retention.days} days)",
            who_id="",
            action=f"retention-{item.action}",
            clever_id=item.clever_id,
            keycloak_id=item.keycloak_id,
        )
        by_kind = counts[item.action]
        by_kind[item.kind] = by_kind.get(item.kind, 0) + 1
        done.append(item.clever_id)
    report.retention = {"days": retention.days, "deleted": counts[DELETE], "unlinked": counts[UNLINK]}
    return done


def note_checked(redis: Redis, realm: str, district_id: str, now: datetime) -> None:
    redis.set(_checked_key(realm, district_id), now.astimezone(UTC).isoformat(timespec="seconds"))


def summary(retention: Mapping[str, Any]) -> str:
    """The report's line: "retention (30 days): deleted 3 students; unlinked 1 teachers"."""
    parts = [
        f"{verb} " + ", ".join(f"{n} {kind}" for kind, n in sorted(retention.get(key, {}).items()))
        for key, verb in (("deleted", "deleted"), ("unlinked", "unlinked"))
        if retention.get(key)
    ]
    return f"retention ({retention.get('days', 0)} days): " + ("; ".join(parts) or "nothing due")
