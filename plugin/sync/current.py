"""The directory side of a run: Keycloak and LDAP as they are, read for the snapshot's scope.

``read_current`` reads before the map stage, ``complete`` after it; both take the run's scope:

* everything (a full run): the realm's ``/Clever`` tree, its accounts (the brief listing when the
  last run's memory allows it: ``plugin.sync.applied``; then ``complete`` reads the attributes of
  the accounts whose wanted attributes changed, and the member lists whose fingerprints no longer
  hold), and every LDAP group;
* an incremental run's scope (``plugin.sync.current_scoped``): the accounts of the people it
  decides, the groups they are in, the whole member lists of the classes it decides, and the LDAP
  groups of its schools and classes.

Either way, whose account is whose is the ownership rule's answer (``model.ownership``, read
from the realm's ``clever`` links); the memory only spares reading what did not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from connectors.keycloak import KeycloakDirectory
from connectors.keycloak_read import KeycloakState
from connectors.ldap import LdapDirectory
from model.state import CurrentUser, DesiredState, DirectoryState, LdapGroup, fingerprint
from plugin.sync.applied import Applied
from plugin.sync.current_scoped import read_scoped
from plugin.sync.departed import with_kinds
from plugin.sync.desired import Mapped
from plugin.sync.report import SyncReport
from plugin.sync.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class Reading:
    """How a run reads the directory: whether to read every member list, match by name, whether
    the realm holds the ``clever`` identity provider (no provider: nothing is linked yet), and
    whether contacts become parents (Sync Parent Data: a contact without an account is new)."""

    started: datetime
    verify: bool = False
    match: bool = True
    idp_present: bool = True
    parents: bool = False


@dataclass(slots=True)
class Current:
    """Keycloak and LDAP as read for a run (module doc)."""

    state: KeycloakState  # the directory in scope, the name-match candidates, the usernames
    ldap: dict[str, LdapGroup]
    found: dict[str, CurrentUser] = field(default_factory=dict)  # owned accounts the memory did not hold
    lost: dict[str, str] = field(default_factory=dict)  # remembered people whose account owns nothing now
    fingerprints: dict[str, str] = field(default_factory=dict)  # accounts as written (brief listings)
    verify: bool = False  # every member list read
    scoped: bool = False  # read for an incremental run's scope: member lists read already
    counts: dict[str, int | str] = field(default_factory=dict)  # what was read, for the report's preview
    # What the memory (``plugin.sync.applied``) says, read once with the directory:
    written: Mapping[str, str] = field(default_factory=dict)  # fingerprints: accounts an earlier run wrote
    refused_emails: Mapping[str, str] = field(default_factory=dict)  # addresses Keycloak refused
    totals: Mapping[str, int] = field(default_factory=dict)  # what the last full run counted (the brake)
    kinds: Mapping[str, str] = field(default_factory=dict)  # read-only accounts' kinds (departed people)
    members: Mapping[str, str] = field(default_factory=dict)  # member-list fingerprints (full runs)

    @property
    def directory(self) -> DirectoryState:
        return self.state.directory


def read_current(
    keycloak: KeycloakDirectory,
    ldap: LdapDirectory,
    snapshot: Snapshot,
    applied: Applied,
    how: Reading,
    accounts: Future[list[list[Any]] | None] | None = None,
) -> Current:
    """Keycloak and LDAP for the snapshot's scope (module doc), and what the memory says of them;
    ``accounts``: every account's row an incremental run may read ahead (``plugin.sync.current_scoped``)."""
    if not snapshot.scope.everything:
        state, groups, found, lost, read_by = read_scoped(
            keycloak, ldap, snapshot, applied, how.parents, accounts
        )
        counts: dict[str, int | str] = {
            "keycloak_read_by": read_by,  # the extension's rows, or a call each (plugin.sync.current_scoped)
            "accounts_read": len(state.directory.users),
            "member_lists_read": len(snapshot.scope.member_lists),
            "realm_listed": len(state.usernames),  # accounts listed for name matching (0: not listed)
        }
        current = Current(state, groups, found, lost, scoped=True, counts=counts)
        current.written = applied.user_fingerprints(snapshot.scope.people)
    else:
        verify = how.verify or applied.needs_verify(how.started)
        stored = {} if verify or not how.idp_present else applied.user_fingerprints()
        with ThreadPoolExecutor(1) as pool:
            ldap_read = pool.submit(ldap.current)
            state, found, lost = _read_realm(keycloak, applied, stored, how.match)
            current = Current(state, ldap_read.result(), found, lost, stored, verify, written=stored)
        current.members = {} if verify else applied.fingerprints()
    current.refused_emails = applied.refused_emails()
    current.totals = applied.totals()
    current.kinds = applied.kinds(cid for cid, user in state.directory.users.items() if user.read_only)
    return current


def _read_realm(
    keycloak: KeycloakDirectory, applied: Applied, stored_users: dict[str, str], match: bool
) -> tuple[Any, dict[str, CurrentUser], dict[str, str]]:
    """The realm's state: the cheap read when the last run's memory allows it, else the full one.
    Also the accounts the memory does not hold: an earlier run wrote them (their owned link came
    with them) and stopped before it recorded them, or Redis lost its data; and the people the
    memory holds whose account is still here but owns nothing now (an unlink since:
    ``plugin.sso.links.note_unlinked``)."""
    ids = applied.all_ids()
    state = None
    if stored_users:
        state = keycloak.current_known(ids=ids, others=applied.others(), dns=applied.all_dns())
    if state is None:
        state = keycloak.current(with_accounts=match, with_members=False)
    users = state.directory.users
    found = {cid: user for cid, user in users.items() if ids.get(cid) != user.keycloak_id}
    accounts = {account.keycloak_id for account in state.accounts}
    lost = {cid: kid for cid, kid in ids.items() if cid not in users and kid in accounts}
    return state, found, lost


def complete(
    keycloak: KeycloakDirectory, current: Current, mapped: Mapped, report: SyncReport
) -> DirectoryState:
    """After the map stage: what the cheap reads left out, and each account's kind (its person's
    Clever role: ``plugin.sync.departed.with_kinds``)."""
    directory = current.directory
    if current.state.partial:
        directory = _complete_users(keycloak, directory, mapped.desired, mapped.confirmed, report)
        current.state.directory = directory  # the brief listing's records are let go
    if not current.scoped:
        directory = _with_members(keycloak, directory, mapped.desired, current.members, report)
        report.preview["verified"] = current.verify
    return with_kinds(directory, mapped.desired, current.kinds)


def _complete_users(
    keycloak: KeycloakDirectory,
    current: DirectoryState,
    desired: DesiredState,
    confirmed: Mapping[str, str],
    report: SyncReport,
) -> DirectoryState:
    """After the brief read: attributes and links of the accounts whose wanted attributes changed
    since the last run wrote them (not in ``confirmed``: ``plugin.sync.desired_people`` compared the
    fingerprints), and of enabled accounts about to be disabled. A confirmed account takes its
    spec's attributes as its own (as written; the spec holds only ``clever_role`` then), so the
    plan finds no attribute to change."""
    users: dict[str, CurrentUser] = {}
    to_read: list[CurrentUser] = []
    for clever_id, user in current.users.items():
        spec = desired.users.get(clever_id)
        if spec is not None:
            if clever_id in confirmed:
                users[clever_id] = replace(user, attributes=spec.attributes)  # as written: shared
                continue
        elif not user.enabled or clever_id in desired.present:
            users[clever_id] = user  # disabled already, or out of the chosen schools: nothing to write
            continue
        to_read.append(user)
    users.update(keycloak.users(to_read))
    report.preview["accounts_read"] = len(to_read)
    return replace(current, users=users)


def wanted_members(
    desired: DesiredState, current: DirectoryState, created: Mapping[str, str] = MappingProxyType({})
) -> dict[str, list[str]]:
    """Group key -> Keycloak ids the roster wants there (people with an account, or one ``created``
    by this run: Clever id -> Keycloak id), every managed group.

    Lists, not sets (a third of the memory): each person is listed once, with their one account.
    """
    wanted: dict[str, list[str]] = {key: [] for key in (*desired.groups, *current.groups) if key != "root"}
    for spec in desired.users.values():
        existing = current.users.get(spec.clever_id)
        keycloak_id = (
            existing.keycloak_id if existing else spec.matched_keycloak_id or created.get(spec.clever_id, "")
        )
        if keycloak_id:
            for key in spec.groups:
                wanted.setdefault(key, []).append(keycloak_id)
    return wanted


def _with_members(
    keycloak: KeycloakDirectory,
    current: DirectoryState,
    desired: DesiredState,
    stored: Mapping[str, str],
    report: SyncReport,
) -> DirectoryState:
    """Member lists: read only where the wanted members differ from the last run's fingerprint
    (``stored``; none on a verify run)."""
    settled: dict[str, int] = {}
    for key, ids in wanted_members(desired, current).items():
        group = current.groups.get(key)
        if group is not None and stored.get(key) == fingerprint(group.keycloak_id, ids):
            settled[key] = len(ids)
    to_read = {key for key in current.groups if key != "root" and key not in settled}
    members = keycloak.members(current.groups, to_read)
    report.preview["member_lists_read"] = len(to_read)
    return replace(current, members=members, settled=settled)
