"""What a run remembers, written in one place after apply, from what apply reports, for every kind
of run (``plugin.sync.pipeline`` calls ``remember`` once the writes are done).

The memory (``plugin.sync.applied``) is a cache: it makes the next run's reads cheaper and never
decides who owns what (``model.ownership``). What is kept:

* the links cache: Clever id -> Keycloak id of each synced account, the groups' ids, the people's
  directory DNs (a full run replaces the picture; an incremental run adds what it decided);
* fingerprints: each group's wanted members (a group whose list the run decided in full gets a new
  one; a group whose members an incremental run changed only in part loses its own: read next
  time), each synced account's wanted attributes as written (a write that failed drops it), the
  kinds of read-only directory accounts, the totals the incremental brake compares with;
* the waiting list: what the page shows of the people the run left waiting, the admins'
  resolutions the run applied (forgotten), the people an unlink left waiting, the addresses
  Keycloak refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import chain
from typing import Any

from redis import Redis

from connectors.keycloak import KeycloakDirectory, email_warning
from model.state import USER_KINDS, DesiredState, DirectoryState, fingerprint, user_fingerprint
from plugin.sso import links
from plugin.sync import resolutions
from plugin.sync.applied import Applied
from plugin.sync.brake import REWRITABLE
from plugin.sync.current import wanted_members
from plugin.sync.planned import Planned
from plugin.sync.report import SyncReport


def remember(planned: Planned, applied: Applied, redis: Redis, report: SyncReport, failed: set[str]) -> None:
    """Keep what this run left (module doc); ``failed``: the Clever ids whose writes failed."""
    realm = applied.realm
    keycloak, mapped = planned.keycloak, planned.mapped
    if planned.scope.everything:
        _remember_all(planned, applied, planned.started)
        _remember_accounts(planned, applied, failed, report)
    else:
        _remember_scope(planned, applied, failed)
    if keycloak.refused_emails:
        applied.refuse_emails(keycloak.refused_emails)
        report.warnings.extend(email_warning(keycloak, cid) for cid in sorted(keycloak.refused_emails))
    for clever_id in mapped.resolved:
        resolutions.forget(redis, realm, clever_id)
        links.forget_unlinked(redis, realm, clever_id)
    links.note_unlinked(redis, realm, planned.read.lost, planned.current.users)
    # What the page shows of the people this run left waiting (never in the report).
    resolutions.keep_people(redis, realm, mapped.waiting_people, full=planned.scope.everything)


def _remember_all(planned: Planned, applied: Applied, started: datetime) -> None:
    """A full run: the whole picture, what is gone dropped.

    Memory: the member lists are let go before the ids are written, and the ids are written as
    they are listed (the last one listed for a person holds, as in a dict), not copied first."""
    keycloak, mapped, current = planned.keycloak, planned.mapped, planned.current
    wanted = wanted_members(mapped.desired, current, keycloak.created)
    fingerprints = {
        key: fingerprint(keycloak.group_ids[key], members)
        for key, members in wanted.items()
        if key in keycloak.group_ids and key not in keycloak.failed_groups
    }
    memberships = sum(len(members) for members in wanted.values())
    del wanted
    applied.save_fingerprints(fingerprints, dropped=keycloak.failed_groups)
    del fingerprints
    if planned.read.verify:
        applied.set_verified(started)
    applied.replace_ids(
        ids=_ids(mapped.desired, current, keycloak),
        groups=keycloak.group_ids.items(),
        dns=((cid, spec.ldap_dn) for cid, spec in mapped.desired.users.items() if spec.ldap_dn),
    )
    applied.remember_kinds({cid: spec.kind for cid, spec in mapped.desired.users.items() if spec.read_only})
    totals = dict.fromkeys(USER_KINDS, 0)
    totals.update({REWRITABLE + kind: 0 for kind in USER_KINDS})
    for spec in mapped.desired.users.values():
        totals[spec.kind] = totals.get(spec.kind, 0) + 1
        if not spec.read_only:  # the incremental brake's rewrite denominators (``plugin.sync.brake``)
            totals[REWRITABLE + spec.kind] = totals.get(REWRITABLE + spec.kind, 0) + 1
    totals["classes"] = sum(1 for key in mapped.desired.groups if key.startswith("section:"))
    totals["memberships"] = memberships
    applied.save_totals(totals)


def _remember_accounts(planned: Planned, applied: Applied, failed: set[str], report: SyncReport) -> None:
    """Each synced account's attribute fingerprint and the realm's other accounts, for the next run.

    Memory: the fingerprints (about 130 bytes each) are made as they are written, not held for
    all 50,000 people of a large district at once."""
    keycloak, mapped, current = planned.keycloak, planned.mapped, planned.current
    users = mapped.desired.users
    synced = {
        clever_id: keycloak_id
        for clever_id, spec in users.items()
        if clever_id not in failed
        and (keycloak_id := _keycloak_id(clever_id, spec.matched_keycloak_id, current, keycloak))
    }
    report.preview.update(synced_totals(mapped.desired, synced, keycloak))
    adopted = {spec.matched_keycloak_id for spec in users.values()}
    fingerprints = (
        (
            clever_id,
            mapped.confirmed.get(clever_id)
            or user_fingerprint(keycloak_id, users[clever_id].attributes, users[clever_id].read_only),
        )
        for clever_id, keycloak_id in synced.items()
    )
    others = {account.keycloak_id for account in planned.read.state.accounts}
    applied.save_users(fingerprints, others - adopted)


def _remember_scope(planned: Planned, applied: Applied, failed: set[str]) -> None:
    """An incremental run: what it decided, added to the picture the last full run left."""
    keycloak, mapped, current, scope, plan = (
        planned.keycloak,
        planned.mapped,
        planned.current,
        planned.scope,
        planned.plan,
    )
    wanted = wanted_members(mapped.desired, current, keycloak.created)
    decided = {key for key in scope.member_lists if key in keycloak.group_ids}
    fingerprints = {
        key: fingerprint(keycloak.group_ids[key], wanted.get(key, ()))
        for key in decided - keycloak.failed_groups
    }
    changed = {m.group for m in chain(plan.add_members, plan.remove_members)}
    changed.update(key for spec in plan.create_users for key in spec.groups)
    applied.save_fingerprints(fingerprints, dropped=(changed - set(fingerprints)) | keycloak.failed_groups)
    people = {cid: spec for cid, spec in mapped.desired.users.items() if scope.person(cid)}
    ids = dict(_ids(DesiredState(mapped.desired.groups, people), current, keycloak, scope.people))
    applied.remember(
        ids=ids,
        groups=keycloak.group_ids,
        dns={cid: spec.ldap_dn for cid, spec in people.items() if spec.ldap_dn},
    )
    applied.remember_kinds({cid: spec.kind for cid, spec in people.items() if spec.read_only})
    applied.save_user_fingerprints(
        (cid, user_fingerprint(ids[cid], spec.attributes, spec.read_only))
        for cid, spec in people.items()
        if cid in ids and cid not in failed
    )
    applied.drop_users(cid for cid in scope.people if cid in failed or cid not in people)


def _ids(
    desired: DesiredState,
    current: DirectoryState,
    keycloak: KeycloakDirectory,
    only: frozenset[str] | None = None,
) -> Any:
    """(Clever id, Keycloak id) of every account the run knows as a person's (``only`` those)."""
    found = chain(
        ((clever_id, user.keycloak_id) for clever_id, user in current.users.items()),
        keycloak.created.items(),
        ((cid, spec.matched_keycloak_id) for cid, spec in desired.users.items() if spec.matched_keycloak_id),
    )
    return found if only is None else ((cid, kid) for cid, kid in found if cid in only)


def synced_totals(
    desired: DesiredState, synced: Mapping[str, str], keycloak: KeycloakDirectory
) -> dict[str, Any]:
    """After a full run: people of each kind with an account now, school and class groups held."""
    people = dict.fromkeys(USER_KINDS, 0)
    for clever_id in synced:
        kind = desired.users[clever_id].kind
        people[kind] = people.get(kind, 0) + 1
    held = keycloak.group_ids  # every group that exists now (read, or created by this run)
    groups = {
        "schools": sum(1 for key in held if key.startswith("school:") and key.count(":") == 1),
        "classes": sum(1 for key in held if key.startswith("section:")),
    }
    return {"synced": people, "groups_synced": groups}


def _keycloak_id(clever_id: str, matched: str, current: DirectoryState, keycloak: KeycloakDirectory) -> str:
    existing = current.users.get(clever_id)
    return existing.keycloak_id if existing else matched or keycloak.created.get(clever_id, "")
