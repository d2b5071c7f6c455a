"""The apply stage: the Keycloak writes and the LDAP group writes of one plan, at the same time."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from connectors.ldap import LdapDirectory
from model.base import RecordError, SyncError
from model.state import LdapPlan


def apply_both(
    keycloak_apply: Callable[[], list[RecordError]], ldap: LdapDirectory, ldap_plan: LdapPlan
) -> tuple[list[RecordError], list[RecordError]]:
    """The Keycloak writes and the LDAP group writes at the same time; the failures of each.

    The LDAP plan does not depend on the Keycloak writes: it was made before them from the people's
    directory entries as read, and accounts created now have none yet (their DNs appear, and join
    their groups, on the next run). An error that stops one side (``ConfigError``,
    ``TransientError``) is raised only after the other side has finished, and names both sides'
    outcome (``ApplyError``): a directory that went away makes Keycloak's LDAP federation answer
    500 too, and the report must say that our own LDAP writes failed as well.
    """
    if ldap_plan.empty:
        return keycloak_apply(), []
    keycloak_error: SyncError | None = None
    ldap_error: SyncError | None = None
    keycloak_failures: list[RecordError] = []
    ldap_failures: list[RecordError] = []
    with ThreadPoolExecutor(1) as pool:
        ldap_done = pool.submit(ldap.apply, ldap_plan)
        try:
            keycloak_failures = keycloak_apply()
        except SyncError as exc:
            keycloak_error = exc
        try:
            ldap_failures = ldap_done.result()
        except SyncError as exc:
            ldap_error = exc
    if keycloak_error or ldap_error:
        raise ApplyError(keycloak_error, ldap_error)
    return keycloak_failures, ldap_failures


class ApplyError(SyncError):
    """One or both sides of the apply stopped; the message names each system and what it said."""

    def __init__(self, keycloak: SyncError | None, ldap: SyncError | None) -> None:
        parts = [
            f"keycloak: {keycloak}" if keycloak else "keycloak: its writes finished",
            f"ldap: {ldap}" if ldap else "ldap: its group writes finished",
        ]
        if keycloak and ldap:
            parts.append(
                "both failed: when the directory is down, Keycloak's LDAP federation fails too, "
                "so look at the directory first"
            )
        super().__init__("; ".join(parts))
        self.keycloak, self.ldap = keycloak, ldap
