"""People who left Clever while their account is a READ_ONLY directory account (Keycloak LDAP
federation with import).

Keycloak refuses every attribute and name write on such an account (``clever_role``,
``clever_removed_at``), but group memberships, the federated link and ``enabled`` are the realm's
own and writable. So:

* a person's kind is their Clever role, never their account's: the roster gives it while they are
  in it, and for a read-only account it is remembered (``plugin.sync.applied``, ``kinds``) for the run
  after they leave (else the brake would count a departed student as "staff");
* a departed person's read-only account is disabled with ``enabled=false`` alone, leaves every
  Clever group (as any departed account), is counted ``disabled`` under their kind, and waits on
  the page (``directory-departed``) with the DN to disable or remove in the directory, which the
  sync does not own: the entry still works for every other system that reads the directory;
* should Keycloak refuse even that (``connectors.keycloak``: ``undisablable``), the account
  loses its Clever link instead (a Clever login no longer reaches it), the write is counted
  ``failed``, the run ends ``partial`` and the person waits (``undisablable``) with the same action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from model.state import DesiredState, DirectoryState, Plan
from plugin.sync.report import SyncReport

DISABLED_REASON = (
    "left Clever: disabled in Keycloak and taken out of every Clever group, but the directory "
    "account is read-only here (Keycloak cannot mark it) and still active in the directory"
)
UNDISABLABLE_REASON = (
    "left Clever, but Keycloak would not disable the read-only directory account: the Clever "
    "link and every Clever group were taken off, the account itself is still enabled"
)


def directory_action(ldap_dn: str) -> str:
    """The exact step an admin takes in the directory for a departed person's entry."""
    entry = ldap_dn or "the person's entry"
    return f"disable or remove {entry} in the directory (Keycloak reads it read-only)"


def with_kinds(
    current: DirectoryState, desired: DesiredState, remembered: Mapping[str, str]
) -> DirectoryState:
    """Each account's kind from its person's Clever role: the roster's, or (a departed person) the one
    remembered for a read-only directory account, whose ``clever_role`` Keycloak refused
    (``remembered``: Clever id -> kind, ``plugin.sync.applied.Applied.kinds``)."""
    users = {
        clever_id: replace(user, kind=spec.kind if spec else remembered.get(clever_id, ""))
        for clever_id, user in current.users.items()
        for spec in (desired.users.get(clever_id),)
    }
    return replace(current, users=users)


def report_departed(
    report: SyncReport, plan: Plan, current: DirectoryState, undisablable: Mapping[str, str]
) -> None:
    """Put the departed read-only accounts of an applied plan on the waiting list."""
    for update in plan.disable_users:
        if not update.read_only:
            continue
        user = current.users.get(update.clever_id)
        ldap_dn = user.ldap_dn if user else ""
        if update.clever_id in undisablable:
            # ``count_failures`` listed it as a failed write; it is this list's, with its action.
            report.waiting = [
                w for w in report.waiting if (w["kind"], w["clever_id"]) != ("failed", update.clever_id)
            ]
            kind, reason = "undisablable", UNDISABLABLE_REASON
        else:
            kind, reason = "directory-departed", DISABLED_REASON
        report.wait(
            kind,
            update.clever_id,
            reason,
            directory_action(ldap_dn),
            keycloak_id=update.keycloak_id,
            ldap_dn=ldap_dn,
            person=update.kind,
        )
