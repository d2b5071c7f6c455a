"""The pure middle of the pipeline: the difference between desired and current state.

Nothing here does I/O. ``diff(desired, current, scope)`` returns a ``Plan`` that names only what
differs; an empty plan (``plan.empty``) means the directory already looks like the roster and nothing
is sent. Full and incremental runs use this one diff; the ``scope`` (``plugin.sync.scope``) says what
the run's snapshot covers, so an incremental run never disables, unlinks or removes members outside
it.
The states and the plan are plain data (``model.state``); this module is the policy of how one
becomes the other (names compared as the name match compares them, Clever attributes owned in full,
an attribute's values compared as Keycloak stores them: ``same_values``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mappers.layout import CLEVER_ATTRIBUTES
from model.state import (
    Attributes,
    CurrentGroup,
    CurrentUser,
    DesiredState,
    DirectoryState,
    GroupSpec,
    Membership,
    Plan,
    UserSpec,
    UserUpdate,
)
from model.text import normalize_name
from plugin.sync.scope import EVERYTHING, Scope

# ``clever_role`` -> report kind (``plugin.sync.desired.KIND_OF_ROLE`` by role name).
KIND_OF_ROLE_NAME = {
    "student": "students",
    "teacher": "teachers",
    "staff": "staff",
    "district_admin": "district_admins",
    "contact": "parents",
}
# The Clever attributes a person's spec gives in full (``clever_removed_at``, ``clever_unwritable``
# are the pipeline's own marks; ``clever_removed_at`` is dropped from an account whenever it is synced).
OWNED_ATTRIBUTES = frozenset(CLEVER_ATTRIBUTES) - {"clever_unwritable"}


def diff(
    desired: DesiredState, current: DirectoryState, scope: Scope = EVERYTHING, *, removed_at: str
) -> Plan:
    """The writes that turn ``current`` into ``desired`` within ``scope`` (``plugin.sync.scope``:
    everything for a full run); ``removed_at`` stamps disabled people and retired classes."""
    create_groups, update_groups = _diff_groups(desired, current, scope)
    create_users, update_users, add_members = _diff_users(desired, current, scope)
    disable_users = [
        disable(user, current_kind(user), removed_at)
        for clever_id, user in sorted(current.users.items())
        if clever_id not in desired.present
        and user.enabled
        and clever_id not in desired.users
        and scope.person(clever_id)
    ]
    retire_groups = [
        (group.keycloak_id, retired(group, removed_at))
        for key, group in sorted(current.groups.items())
        if key.startswith("section:")
        and key not in desired.groups
        and "clever_removed_at" not in group.attributes
        and scope.named(key)
    ]
    return Plan(
        create_groups=tuple(create_groups),
        update_groups=tuple(update_groups),
        create_users=tuple(create_users),
        update_users=tuple(update_users),
        add_members=tuple(add_members),
        remove_members=tuple(_removals(desired, current, scope)),
        disable_users=tuple(disable_users),
        retire_groups=tuple(retire_groups),
    )


def _diff_users(
    desired: DesiredState, current: DirectoryState, scope: Scope
) -> tuple[list[UserSpec], list[UserUpdate], list[Membership]]:
    """New accounts, accounts to update or adopt, and the memberships to add."""
    create_users: list[UserSpec] = []
    update_users: list[UserUpdate] = []
    add_members: list[Membership] = []
    by_keycloak_id = {user.keycloak_id: user for user in current.users.values()}
    for spec in desired.users.values():
        decided = scope.person(spec.clever_id)
        existing = current.users.get(spec.clever_id)
        if existing is None and spec.matched_keycloak_id:
            existing = by_keycloak_id.get(spec.matched_keycloak_id)
        if existing is None:
            if decided and spec.matched_keycloak_id:
                # An account found by name: link it and adopt it, keep its names and password.
                update_users.append(adopt(spec))
                keycloak_id = spec.matched_keycloak_id
                add_members.extend(Membership(key, keycloak_id=keycloak_id) for key in spec.groups)
            elif decided:
                create_users.append(spec)
            continue
        if decided and (update := user_update(spec, existing)) is not None:
            update_users.append(update)
        for key in spec.groups:
            if (
                (decided or scope.members_of(key))
                and key not in current.settled
                and existing.keycloak_id not in current.members.get(key, ())
            ):
                add_members.append(Membership(key, keycloak_id=existing.keycloak_id))
    return create_users, update_users, add_members


def _removals(desired: DesiredState, current: DirectoryState, scope: Scope) -> list[Membership]:
    """Members a group holds and the roster does not want there, where the scope decides it.

    Only groups with members now (and not settled) can lose any."""
    managed = set(desired.groups) | set(current.groups)
    populated = {key for key in managed if current.members.get(key) and key not in current.settled}
    wanted: dict[str, set[str]] = {key: set() for key in populated}
    for spec in desired.users.values():
        keycloak_id = _keycloak_id(spec, current)
        if keycloak_id:
            for key in spec.groups:
                if key in wanted:
                    wanted[key].add(keycloak_id)
    kept = {user.keycloak_id for cid, user in current.users.items() if cid in desired.untouched}
    # Memory: who owns which account is looked up only when the scope is not everything.
    owner = {} if scope.everything else {u.keycloak_id: cid for cid, u in current.users.items()}
    return [
        Membership(key, keycloak_id=keycloak_id)
        for key in sorted(populated)
        for keycloak_id in sorted(current.members[key] - wanted[key] - kept)
        if scope.membership(key, owner.get(keycloak_id, ""))
    ]


def current_kind(user: CurrentUser) -> str:
    """The report kind of a synced account: its Clever role's, else its ``clever_role`` attribute's."""
    return user.kind or user_kind(user.attributes)


def user_kind(attributes: Attributes) -> str:
    """The report kind of a synced account, from its ``clever_role`` attribute."""
    role = (attributes.get("clever_role") or ("",))[0]
    return KIND_OF_ROLE_NAME.get(role, "staff")


def _diff_groups(
    desired: DesiredState, current: DirectoryState, scope: Scope
) -> tuple[list[GroupSpec], list[tuple[str, GroupSpec]]]:
    create: list[GroupSpec] = []
    update: list[tuple[str, GroupSpec]] = []
    for spec in _parents_first(desired.groups):
        existing = current.groups.get(spec.key)
        if existing is None:
            if scope.named(spec.key):
                create.append(spec)
            continue
        parent = current.groups.get(spec.parent) if spec.parent else None
        moved = scope.named(spec.key) and parent is not None and existing.parent_id != parent.keycloak_id
        renamed = scope.named(spec.key) and existing.name != spec.name
        changed = scope.attributed(spec.key) and not same_attributes(spec.attributes, existing.attributes)
        if renamed or moved or changed:
            update.append((existing.keycloak_id, _within(spec, existing, scope)))
    return create, update


def _within(spec: GroupSpec, existing: CurrentGroup, scope: Scope) -> GroupSpec:
    """The group as written: what the scope does not decide stays as Keycloak has it."""
    if scope.named(spec.key) and scope.attributed(spec.key):
        return spec
    name = spec.name if scope.named(spec.key) else existing.name
    attributes = spec.attributes if scope.attributed(spec.key) else existing.attributes
    return GroupSpec(spec.key, name, spec.parent, spec.kind, attributes)


def _parents_first(groups: Mapping[str, GroupSpec]) -> list[GroupSpec]:
    def depth(spec: GroupSpec) -> int:
        level = 0
        while spec.parent is not None and spec.parent in groups:
            spec = groups[spec.parent]
            level += 1
        return level

    return sorted(groups.values(), key=lambda spec: (depth(spec), spec.key))


def same_values(have: Iterable[str], wanted: Iterable[str]) -> bool:
    """True when an attribute holds the wanted values in any order. Keycloak keeps a multi-valued
    attribute as a multiset: its JPA ``setAttribute`` does nothing when only the order differs,
    and it reads the values back in the database's order (no ``ORDER BY``), so an order-only
    difference would be written on every run and never land (seen: a teacher's two
    ``clever_school_ids`` read back swapped after an incremental run on PostgreSQL)."""
    return sorted(have) == sorted(wanted)


def same_attributes(wanted: Attributes, have: Attributes) -> bool:
    """True when ``have`` holds every wanted value, and no removal mark the spec does not want."""
    if "clever_removed_at" in have and "clever_removed_at" not in wanted:
        return False
    return all(same_values(have.get(name, ()), values) for name, values in wanted.items())


def adopt(spec: UserSpec) -> UserUpdate:
    """Link and adopt an account found by name (its names and password are kept)."""
    return UserUpdate(
        spec.matched_keycloak_id,
        spec.clever_id,
        spec.kind,
        fields={} if spec.read_only else {"enabled": True},
        attributes={} if spec.read_only else dict(spec.attributes),
        link=True,
        linked_by_name=True,
    )


def user_update(spec: UserSpec, existing: CurrentUser) -> UserUpdate | None:
    """What a synced person's account needs written (None: nothing)."""
    if existing.read_only:
        # Only the link and ``enabled`` are this realm's to write (a returning person is enabled).
        enabled: dict[str, str | bool] = {} if existing.enabled else {"enabled": True}
        if existing.linked and not enabled:
            return None
        return UserUpdate(
            existing.keycloak_id,
            spec.clever_id,
            spec.kind,
            fields=enabled,
            link=not existing.linked,
            read_only=True,
        )
    fields = {} if spec.matched_keycloak_id else _profile(spec, existing)
    if not existing.enabled:
        fields["enabled"] = True
    attributes = {
        name: tuple(values)
        for name, values in spec.attributes.items()
        if not same_values(existing.attributes.get(name, ()), values)
    }
    # A Clever attribute the roster no longer gives (relationships once Sync Parent Data is off,
    # a name no longer too long) is removed, not left stale.
    for name in existing.attributes:
        if name in OWNED_ATTRIBUTES and name not in spec.attributes:
            attributes[name] = ()
    if not fields and not attributes and existing.linked:
        return None
    return UserUpdate(
        existing.keycloak_id,
        spec.clever_id,
        spec.kind,
        fields=fields,
        attributes=attributes,
        link=not existing.linked,
    )


def _profile(spec: UserSpec, existing: CurrentUser) -> dict[str, str | bool]:
    """The names and email the roster changes on an account the sync made (never an adopted one)."""
    fields: dict[str, str | bool] = {}
    # Names change only when they differ after the name match's normalization, so an account
    # adopted by name keeps its own spelling ("Sean O’Brien" for Clever's "Seán O'Brien").
    for name, wanted, have in (
        ("firstName", spec.first_name, existing.first_name),
        ("lastName", spec.last_name, existing.last_name),
    ):
        if wanted != have and normalize_name(wanted) != normalize_name(have):
            fields[name] = wanted
    # Clever's emails are unverified: one fills an empty address, never replaces one.
    if spec.email and not existing.email:
        fields["email"] = spec.email
    return fields


def _keycloak_id(spec: UserSpec, current: DirectoryState) -> str:
    existing = current.users.get(spec.clever_id)
    if existing is not None:
        return existing.keycloak_id
    if spec.matched_keycloak_id:
        return spec.matched_keycloak_id
    return ""


def disable(user: CurrentUser, kind: str, removed_at: str) -> UserUpdate:
    """Disable a departed person's account, stamped ``clever_removed_at``.

    Keycloak refuses every attribute on a read-only directory account, and takes ``enabled``.
    """
    return UserUpdate(
        user.keycloak_id,
        user.clever_id,
        kind,
        fields={"enabled": False},
        attributes={} if user.read_only else {"clever_removed_at": (removed_at,)},
        read_only=user.read_only,
    )


def retired(group: CurrentGroup, removed_at: str) -> GroupSpec:
    """A deleted class's group, kept and marked ``clever_removed_at``."""
    attributes = dict(group.attributes)
    attributes["clever_removed_at"] = (removed_at,)
    return GroupSpec(group.key, group.name, None, "class", attributes)
