"""What a run's report says beyond its counts: warnings, skipped records, the people Match Users By
Name holds for an admin (ambiguous, refused, possible, unlinked) and the rest of the admin's waiting
list (``SyncReport.wait``). Reasons and warnings name Clever and Keycloak ids only; what the page
shows of a waiting person is kept apart (``plugin.sync.resolutions.keep_people``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from model.base import RecordError
from model.state import DirectoryState, LdapPlan, Plan
from plugin.sync.plan import current_kind
from plugin.sync.report import SyncReport


def describe(
    report: SyncReport, mapped: Any, plan: Plan, current: DirectoryState, ldap_plan: LdapPlan, roster: Any
) -> None:
    report.linked_by_admin(mapped.match.by_admin)
    report.count_plan(plan, mapped.desired, current)
    report.ldap = ldap_counts(ldap_plan)
    report.warnings.extend(mapped.warnings)
    report.warnings.extend(getattr(roster, "text_warnings", []))
    for error in [*mapped.skipped, *getattr(roster, "bad_records", [])]:
        report.skip(error if isinstance(error, RecordError) else RecordError(str(error)))
    report.hold_ambiguous(mapped.match.ambiguous, mapped.held)
    for kind, people in mapped.match.waiting.items():
        report.hold(kind, people, mapped.held)
    for spec in mapped.desired.users.values():
        if spec.read_only:
            report.warnings.append(
                f"{spec.clever_id}: account is read-only (LDAP federation in READ_ONLY mode): "
                "linked and given its groups; its Clever attributes are not written"
            )
    for passed in mapped.match.passed_over:
        report.warnings.append(f"{passed.clever_id}: {passed.reason}")


def ldap_counts(ldap_plan: LdapPlan, failures: Iterable[RecordError] = ()) -> dict[str, int]:
    """The report's LDAP counts of a plan; groups whose writes LDAP refused (``failures`` name
    their DNs) count nothing."""
    failed = frozenset(f.clever_id for f in failures)
    return {
        "groups_created": sum(1 for group in ldap_plan.create if group.dn not in failed),
        "groups_renamed": sum(1 for old, _ in ldap_plan.rename if old not in failed),
        "members_added": ldap_plan.people_added(failed),
        "members_removed": ldap_plan.people_removed(failed),
    }


def describe_suspicious(
    report: SyncReport, suspicious: Mapping[str, str], kinds: Mapping[str, str] = {}
) -> None:
    """Each ``clever`` link the sync did not make, on the admin's waiting list (``kinds``: Clever id
    -> report kind of the people the map held for it)."""
    for keycloak_id, clever_id in sorted(suspicious.items()):
        report.wait(
            "suspicious-link",
            clever_id,
            f"account {keycloak_id} is linked to this Clever id, but the sync did not make that link "
            "(made in the Account Console or by hand): the account gets nothing from Clever",
            "keep the link if the account is this person's, else unlink it",
            keycloak_id=keycloak_id,
            person=kinds.get(clever_id, ""),
        )


def describe_read(report: SyncReport, current: Any, mapped: Any) -> None:
    """What the directory read found that the report says: accounts the memory did not hold, links
    the sync did not make, the candidates' notes, what was read (``plugin.sync.current.Current``)."""
    for clever_id, user in current.found.items():
        spec = mapped.desired.users.get(clever_id)
        report.kinds[spec.kind if spec else current_kind(user)]["found"] += 1
    describe_suspicious(report, current.state.suspicious, mapped.held)
    report.warnings.extend(current.state.vetter_notes)
    report.preview.update(current.counts)
