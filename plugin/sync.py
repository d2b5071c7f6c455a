"""The sync pipeline, top-down: fetch → map → plan → brake → apply → report.

``run_sync`` reads the whole roster before it writes anything, so a Clever failure mid-run (after
the client's retries) aborts the run with nothing disabled or removed. The plan is a pure diff:
a run where nothing changed in Clever sends no write to Keycloak or LDAP.

The brake: a run that would disable or remove more than ``options.brake_ratio`` (default 10%) of
any kind (students, teachers, staff, parents, classes, memberships) stops before writing and is
held "needs review" with its preview; ``approve_run`` runs it again with the brake released,
``discard_run`` drops it (``plugin.state`` keeps both decisions in the history).

Incremental: with a saved event cursor and no ``full=True``, the run first asks Clever's Events
for changes after the cursor. None → a "no-changes" report without touching Keycloak or LDAP.
Some → the run diffs the full roster against the directory (so only the changes are written);
a cursor Clever refuses or has dropped (older than 30 days) falls back to a plain full sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.base import RecordError, RosterSource
from connectors.clever import CleverClient, StaleCursorError
from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.ldap import LdapDirectory, desired_groups
from plugin.desired import desired_state
from plugin.plan import DirectoryState, Plan, diff, user_kind
from plugin.report import SyncReport
from plugin.settings import Settings

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def run_sync(
    settings: Settings,
    *,
    source: RosterSource | None = None,
    district_id: str = "",
    school_ids: tuple[str, ...] = (),
    dry_run: bool = False,
    full: bool = False,
    cursor: str | None = None,
    trigger: str = "manual",
    release_brake: bool = False,
    progress: Progress | None = None,
    report: SyncReport | None = None,
) -> SyncReport:
    """One sync of a district; returns its report (the caller stores it: ``plugin.jobs``)."""
    report = report or SyncReport(district_id=district_id, trigger=trigger, dry_run=dry_run)
    source = source or CleverClient(settings.clever)
    district_id = district_id or settings.clever.district_id
    report.district_id = district_id
    report.mode = "full" if full or cursor is None else "incremental"
    if report.mode == "incremental" and not _changed_since(source, cursor, report):
        return report.finish("no-changes")

    roster = source.roster(district_id or None)  # fetch
    keycloak = KeycloakDirectory(admin_client(settings.keycloak))
    _ensure_realm(keycloak, report)
    current = keycloak.current(with_accounts=settings.options.match_users_by_name)
    mapped = desired_state(  # map
        roster,
        current_users=current.directory.users,
        accounts=current.accounts,
        usernames=current.usernames,
        options=settings.options,
        school_ids=frozenset(school_ids),
    )
    plan = diff(mapped.desired, current.directory, removed_at=report.started)  # plan
    ldap = LdapDirectory(settings.ldap)
    ldap_plan = ldap.plan(desired_groups(mapped.desired, settings.ldap.groups_dn))
    _describe(report, mapped, plan, current.directory, ldap_plan, roster)
    report.preview = preview(plan, ldap_plan)

    reasons = brake_reasons(plan, current.directory, settings.options.brake_ratio)  # brake
    report.brake = {"held": bool(reasons) and not release_brake, "reasons": reasons}
    if dry_run:
        report.calls = dict(keycloak.calls)
        return report.finish("dry-run")
    if reasons and not release_brake:
        report.calls = dict(keycloak.calls)
        return report.finish("held")

    total = plan.size()
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("keycloak", done, total)

    for failure in keycloak.apply(plan, mapped.desired, tick):  # apply
        report.skip(failure)
        report.errors.append(f"keycloak: {failure.kind} {failure.clever_id}: {failure}")
    if not ldap_plan.empty:
        # Accounts created just now have no directory entry, so the LDAP plan made before applying holds.
        for failure in ldap.apply(ldap_plan):
            report.errors.append(f"ldap: {failure}")
    report.writes = {"keycloak": keycloak.http.writes, "ldap": ldap.counts.writes}  # report
    report.calls = dict(keycloak.calls)
    report.preview["event_cursor"] = roster.event_cursor
    return report.finish("ok")


def _changed_since(source: RosterSource, cursor: str | None, report: SyncReport) -> bool:
    """True when Clever has events after ``cursor`` (or refuses the cursor: then a full run)."""
    try:
        for _event in source.events(cursor):
            return True
    except StaleCursorError:
        report.warnings.append("the event cursor is older than Clever's 30-day window: full sync")
        report.mode = "full"
        return True
    return False


def _ensure_realm(keycloak: KeycloakDirectory, report: SyncReport) -> None:
    """The Clever attributes must be declared (Keycloak drops undeclared ones) before any write."""
    from plugin.broker import BrokerReport, ensure_user_profile

    ensure_user_profile(keycloak.admin, BrokerReport())
    response = keycloak.http.call("GET", "identity-provider/instances/clever", ok=(404,))
    if response.status_code == 404:
        report.warnings.append(
            "the Clever identity provider is not registered yet: accounts are linked, "
            "and their links work once `keycloak-clever broker` has registered it"
        )


def brake_reasons(plan: Plan, current: DirectoryState, ratio: float) -> list[str]:
    """Why the plan is held: kinds whose disables/removals exceed ``ratio`` of what exists."""
    reasons: list[str] = []
    totals: dict[str, int] = {}
    for user in current.users.values():
        if user.enabled:
            kind = user_kind(user.attributes)
            totals[kind] = totals.get(kind, 0) + 1
    disabled: dict[str, int] = {}
    for update in plan.disable_users:
        disabled[update.kind] = disabled.get(update.kind, 0) + 1
    checks = [(kind, count, totals.get(kind, 0)) for kind, count in sorted(disabled.items())]
    classes = sum(
        1
        for key, g in current.groups.items()
        if key.startswith("section:") and "clever_removed_at" not in g.attributes
    )
    checks.append(("classes", len(plan.retire_groups), classes))
    members = sum(len(ids) for ids in current.members.values())
    checks.append(("memberships", len(plan.remove_members), members))
    for kind, count, total in checks:
        if count and total and count / total > ratio:
            reasons.append(f"{count} of {total} {kind} would be disabled or removed (over {ratio:.0%})")
    return reasons


def preview(plan: Plan, ldap_plan: Any) -> dict[str, Any]:
    """A short picture of the plan for a held run or a dry run (Clever ids, never names)."""
    return {
        "keycloak": {
            "create_groups": len(plan.create_groups),
            "update_groups": len(plan.update_groups),
            "create_users": len(plan.create_users),
            "update_users": len(plan.update_users),
            "add_members": len(plan.add_members),
            "remove_members": len(plan.remove_members),
            "disable_users": len(plan.disable_users),
            "retire_groups": len(plan.retire_groups),
            "disable_sample": [u.clever_id for u in plan.disable_users[:50]],
        },
        "ldap": {
            "create": len(ldap_plan.create),
            "rename": len(ldap_plan.rename),
            "add_members": sum(len(m) for _, m in ldap_plan.add_members),
            "remove_members": sum(len(m) for _, m in ldap_plan.remove_members),
        },
    }


def _describe(
    report: SyncReport, mapped: Any, plan: Plan, current: DirectoryState, ldap_plan: Any, roster: Any
) -> None:
    report.count_plan(plan, mapped.desired, current)
    report.ldap = {
        "groups_created": len(ldap_plan.create),
        "groups_renamed": len(ldap_plan.rename),
        "members_added": sum(len(m) for _, m in ldap_plan.add_members),
        "members_removed": sum(len(m) for _, m in ldap_plan.remove_members),
    }
    report.warnings.extend(mapped.warnings)
    for error in [*mapped.skipped, *getattr(roster, "bad_records", [])]:
        report.skip(error if isinstance(error, RecordError) else RecordError(str(error)))
    for ambiguity in mapped.ambiguous:
        report.ambiguous.append(
            {
                "clever_ids": list(ambiguity.clever_ids),
                "keycloak_ids": list(ambiguity.keycloak_ids),
                "reason": ambiguity.reason,
            }
        )
    for spec in mapped.desired.users.values():
        if spec.read_only:
            report.warnings.append(
                f"{spec.clever_id}: account is read-only (LDAP federation in READ_ONLY mode): "
                "linked and given its groups; its Clever attributes are not written"
            )
    for refusal in mapped.refused:
        report.warnings.append(f"{refusal.clever_id}: new account made; {refusal.reason}")


def removed_at() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
