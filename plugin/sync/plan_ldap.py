"""The plan stage for LDAP: the difference between the groups the roster wants
(``mappers.ldap_layout.desired_groups``) and the ``groupOfNames`` LDAP holds (``connectors.ldap``).

The same ``Scope`` as the Keycloak diff (``plugin.sync.scope``) says what may change: a group is
created, renamed or emptied only where the snapshot decides its existence and name; its members
and owners change only where it decides the whole list, or for the people it decides (their DNs
in ``decided``). A full run decides everything. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from model.state import DesiredState, DirectoryState, LdapGroup, LdapPlan
from model.text import dn_norm, dn_parent, rdn_of
from plugin.sync.scope import Scope

Change = tuple[str, tuple[str, ...]]  # (group DN after renames, member or owner DNs)


def diff_ldap(
    wanted: Mapping[str, LdapGroup],
    current: Mapping[str, LdapGroup],
    groups_dn: str,
    scope: Scope,
    decided: Set[str] = frozenset(),
) -> LdapPlan:
    """Only the difference (module doc): new groups, renamed ones, member and owner changes."""
    create: list[LdapGroup] = []
    rename: list[tuple[str, str]] = []  # the schools' (sorted first), then the classes'
    schools = 0
    adds: list[Change] = []
    removes: list[Change] = []
    owners: list[Change] = []
    for key in sorted(wanted, key=lambda k: (not k.startswith("school:"), k)):
        group, have = wanted[key], current.get(key)
        whole = scope.members_of(key)
        if have is None:
            if scope.named(key):
                create.append(group if whole else _only(group, decided, groups_dn))
            continue
        members = group.members if whole else _kept(have.members, group.members, decided)
        if added := sorted(members - have.members):
            adds.append((group.dn, tuple(added)))
        if removed := sorted(have.members - members):
            removes.append((group.dn, tuple(removed)))
        wanted_owners = group.owners if whole else _kept(have.owners, group.owners, decided)
        if wanted_owners != have.owners:
            owners.append((group.dn, tuple(sorted(wanted_owners))))
        if scope.named(key) and _renamed(have.dn, group.dn, rename):
            rename.append((_moved(have.dn, rename), group.dn))
            schools += key.startswith("school:")
    for key in sorted(set(current) - set(wanted)):
        have = current[key]  # a class gone from Clever (or out of the chosen schools): emptied, kept
        if not scope.named(key):
            continue
        if removed := sorted(have.members - {groups_dn}):
            removes.append((have.dn, tuple(removed)))
        if have.owners:
            owners.append((have.dn, ()))
    renames = (*_in_order(rename[:schools]), *_in_order(rename[schools:]))
    return LdapPlan(tuple(create), renames, tuple(adds), tuple(removes), tuple(owners), groups_dn)


def people_dns(scope: Scope, directory: DirectoryState, desired: DesiredState) -> frozenset[str]:
    """The directory entries of the people the scope decides (as Keycloak holds them and as wanted):
    the members and owners an incremental run may add or take out of a group it does not decide."""
    if scope.everything:
        return frozenset()
    accounts = (directory.users.get(clever_id) for clever_id in scope.people)
    specs = (desired.users.get(clever_id) for clever_id in scope.people)
    return frozenset(found.ldap_dn for found in (*accounts, *specs) if found is not None and found.ldap_dn)


def _kept(have: frozenset[str], want: frozenset[str], decided: Set[str]) -> frozenset[str]:
    """The DNs a group ends with when the run decides only ``decided``: theirs as wanted, the rest kept."""
    return frozenset({*(dn for dn in have if dn not in decided), *(dn for dn in want if dn in decided)})


def _only(group: LdapGroup, decided: Set[str], groups_dn: str) -> LdapGroup:
    members = frozenset({groups_dn, *(dn for dn in group.members if dn in decided)})
    owners = frozenset(dn for dn in group.owners if dn in decided)
    return LdapGroup(group.key, group.dn, members, owners, group.name)


def _in_order(renames: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The renames in an order LDAP takes them: one whose new DN another group still holds after
    that group's own rename (a class taking the name its sibling gives up in a collision); a ring
    (two classes swapping names) through a name of its own first ("<name> (renaming)")."""
    pending, ordered = list(renames), []
    while pending:
        held = {dn_norm(old) for old, _ in pending}
        free = [rename for rename in pending if dn_norm(rename[1]) not in held]
        if not free:  # a ring: the first steps aside, the others follow
            old, new = pending[0]
            aside = f"{rdn_of(old)} (renaming),{dn_parent(old)}"
            ordered.append((old, aside))
            pending[0] = (aside, new)
            continue
        ordered.extend(free)
        pending = [rename for rename in pending if rename not in free]
    return ordered


def _moved(dn: str, renames: list[tuple[str, str]]) -> str:
    """Where ``dn`` is once the renames before it are written (renames are written in order, a
    school's before its classes'): a class renamed in a renamed school is renamed from there."""
    parent = dn_norm(dn_parent(dn))
    for old, new in renames:
        if dn_norm(old) == parent:
            return f"{rdn_of(dn)},{new}"
    return dn


def _renamed(old: str, new: str, renames: list[tuple[str, str]]) -> bool:
    """Whether the group's DN changes on its own: not when only its school's is renamed (a class
    moves with its school: no rename of its own)."""
    if dn_norm(old) == dn_norm(new):
        return False
    old_parent, new_parent = dn_parent(old), dn_parent(new)
    return not (
        rdn_of(old) == rdn_of(new)
        and any(dn_norm(o) == dn_norm(old_parent) and dn_norm(n) == dn_norm(new_parent) for o, n in renames)
    )
