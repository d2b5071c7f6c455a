"""What a run's report says beyond its counts: warnings, skipped records, the people Match Users By
Name holds for an admin (ambiguous, refused, possible, unlinked) and the rest of the admin's waiting
list (``SyncReport.wait``). Reasons and warnings name Clever and Keycloak ids only; what the page
shows of a waiting person is kept apart (``plugin.sync.resolutions.keep_people``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import RecordError
from connectors.state import DirectoryState, Plan
from plugin.sync.report import SyncReport


def describe(
    report: SyncReport, mapped: Any, plan: Plan, current: DirectoryState, ldap_plan: Any, roster: Any
) -> None:
    report.linked_by_admin(mapped.match.by_admin)
    report.count_plan(plan, mapped.desired, current)
    report.ldap = {
        "groups_created": len(ldap_plan.create),
        "groups_renamed": len(ldap_plan.rename),
        "members_added": sum(len(m) for _, m in ldap_plan.add_members),
        "members_removed": sum(len(m) for _, m in ldap_plan.remove_members),
    }
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


def describe_suspicious(report: SyncReport, suspicious: Mapping[str, str]) -> None:
    """Each ``clever`` link the sync did not make, on the admin's waiting list."""
    for keycloak_id, clever_id in sorted(suspicious.items()):
        report.wait(
            "suspicious-link",
            clever_id,
            f"account {keycloak_id} is linked to this Clever id, but the sync did not make that link "
            "(made in the Account Console or by hand): the account gets nothing from Clever",
            "keep the link if the account is this person's, else unlink it",
            keycloak_id=keycloak_id,
        )
