"""The plain data every layer shares about the realm: desired state, current state, the plan.

Nothing here does I/O or decides anything. The mappers and ``plugin.sync.desired`` build a
``DesiredState``; the Keycloak and LDAP connectors read a ``DirectoryState`` and apply a ``Plan``;
``plugin.sync.plan.diff`` turns the two states into the plan. Connectors, mappers and the sidecar all
import these types from here, so no connector needs to import the sidecar (``plugin``) or policy
(``mappers``).

Groups are keyed by a stable *key* stored on the group as the ``clever_key`` attribute
(``root``, ``school:<id>``, ``school:<id>:students``, ``section:<id>`` ...), so a rename in Clever
renames the group instead of making a new one. Users are keyed by their Clever id.

Also here: the LDAP groups and their plan (``LdapGroup``, ``LdapPlan``: the layout is
``mappers.ldap_layout``'s, the diff ``plugin.sync.plan_ldap``'s, the writes ``connectors.ldap``'s).
And, because connectors and mappers both need them as data: ``Account`` (an existing realm
account as read, what the name match compares), the identity provider's alias ``IDP_ALIAS`` and the
realm role of each Clever role (``REALM_ROLES``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import ClassVar

from model.records import Role

# The alias of the Clever identity provider in the realm (the broker registers it; links use it).
IDP_ALIAS = "clever"

# The mark of an account the sync created (``POST users``, the extension's ``create_user``): the
# time the run that made it decided to (ISO 8601, UTC). Written once, in the creating call, never by
# an update; an admin-only ``clever_*`` attribute (User Profile), so users cannot write it. Only
# retention reads it (``plugin.sync.retention``): a missing mark means "never delete".
CREATED_MARK = "clever_created_at"

# Clever role → realm role given to people of that role.
REALM_ROLES: dict[Role, str] = {
    Role.STUDENT: "clever-student",
    Role.TEACHER: "clever-teacher",
    Role.STAFF: "clever-staff",
    Role.DISTRICT_ADMIN: "clever-district-admin",
    Role.CONTACT: "clever-contact",
}

Attributes = Mapping[str, tuple[str, ...]]
_Shape = tuple[tuple[str, ...], tuple[int, ...]]  # attribute names, where each one's values end


class PackedAttributes(Mapping[str, tuple[str, ...]]):
    """A person's attributes as two tuples: a *shape* (the names and where each one's values
    start, one shared object per combination of names and value counts) and every value in a row.

    Memory: a district's people are most of a full run's desired state, and a dict of ~9 names with
    a tuple per value took about 490 bytes a person (a 9-entry dict 270, its unique one-value
    tuples 48 each); packed it is about 160 (tracemalloc at 50,000 students: 23 MB -> 9 MB). A
    value tuple is made when it is asked for (``packed["clever_id"]`` slices the row). Read-only,
    equal to a dict of the same items (``Mapping.__eq__``); ``dict(packed)`` where a real dict is
    needed (JSON: ``plugin.sync.plan_json``).
    """

    __slots__ = ("_shape", "_values")
    _shapes: ClassVar[dict[_Shape, _Shape]] = {}

    def __init__(self, attributes: Mapping[str, Iterable[str]]) -> None:
        names: list[str] = []
        ends: list[int] = []
        values: list[str] = []
        for name, found in attributes.items():
            names.append(name)
            values.extend(found)
            ends.append(len(values))
        key = (tuple(names), tuple(ends))
        # A few dozen shapes in a district; each kept once (bounded by the attribute names).
        self._shape = PackedAttributes._shapes.setdefault(key, key)
        self._values = tuple(values)

    def __getitem__(self, name: str) -> tuple[str, ...]:
        names, ends = self._shape
        try:
            index = names.index(name)
        except ValueError:
            raise KeyError(name) from None
        return self._values[ends[index - 1] if index else 0 : ends[index]]

    def __contains__(self, name: object) -> bool:
        return name in self._shape[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._shape[0])

    def __len__(self) -> int:
        return len(self._shape[0])

    def __repr__(self) -> str:
        return f"PackedAttributes({dict(self)!r})"

    def __reduce__(self) -> tuple[type[PackedAttributes], tuple[dict[str, tuple[str, ...]]]]:
        return PackedAttributes, (dict(self),)


# On a role group (``/Clever/<School>/Students`` ...): the realm role its members get through it.
REALM_ROLE_ATTRIBUTE = "clever_realm_role"
USER_KINDS = ("students", "teachers", "staff", "district_admins", "parents")
GROUP_KINDS = ("schools", "classes")


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A group the roster wants: ``parent`` is the parent's key (None for the root)."""

    key: str
    name: str
    parent: str | None
    kind: str  # "root" | "school" | "role" | "class"
    attributes: Attributes = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserSpec:
    """A person the roster wants, with the keys of the groups they belong in."""

    clever_id: str
    kind: str  # one of USER_KINDS
    username: str
    first_name: str
    last_name: str
    email: str
    attributes: Attributes
    # Sorted, each once. (A tuple: a frozenset of a person's ~9 keys is five times the memory.)
    groups: tuple[str, ...]
    # Set when Match Users By Name linked this person to an existing account (keeps its names).
    matched_keycloak_id: str = ""
    ldap_dn: str = ""
    # An LDAP account in READ_ONLY mode: Keycloak refuses every attribute write on it, so it only
    # gains the link and its groups (the report says so).
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class DesiredState:
    """What the roster says the directory should hold (after the mappers' policy)."""

    groups: Mapping[str, GroupSpec]
    users: Mapping[str, UserSpec]
    # Clever ids in the district's roster without a spec in ``users``: out of the chosen schools,
    # contacts left out when parents are synced, records skipped, people held for review, and contacts
    # with an account to keep when parents are not synced. Accounts of people missing from both are
    # disabled, so narrowing the school scope never disables anybody.
    # (Memory: the people in ``users`` are not listed twice.)
    present: Set[str] = frozenset()
    # Clever ids of people whose records Clever sent broken (skipped): an account they have keeps
    # its groups; nothing is written for them until Clever sends them whole.
    untouched: Set[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CurrentGroup:
    keycloak_id: str
    key: str
    name: str
    parent_id: str | None
    attributes: Attributes


@dataclass(frozen=True, slots=True)
class CurrentUser:
    keycloak_id: str
    clever_id: str
    username: str
    first_name: str
    last_name: str
    email: str
    enabled: bool
    attributes: Attributes
    linked: bool = True
    read_only: bool = False
    ldap_dn: str = ""
    # The person's kind from their Clever role (``plugin.sync.departed.with_kinds``); "" = from the account.
    kind: str = ""


@dataclass(frozen=True, slots=True)
class DirectoryState:
    """What the directory holds in the sync's scope."""

    groups: Mapping[str, CurrentGroup]
    users: Mapping[str, CurrentUser]  # by Clever id
    members: Mapping[str, frozenset[str]]  # group key -> Keycloak ids of members
    # Groups whose members are known to be exactly the wanted ones (the last run's fingerprint
    # matched, ``plugin.sync.applied``): group key -> member count. Their lists are not read or diffed.
    settled: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserUpdate:
    """Changes to an existing account: only the fields that differ are set."""

    keycloak_id: str
    clever_id: str
    kind: str
    fields: Mapping[str, str | bool] = field(default_factory=dict)  # firstName, lastName, email, enabled
    attributes: Attributes = field(default_factory=dict)  # full new values of changed attributes
    link: bool = False  # add the Clever federated identity link
    linked_by_name: bool = False
    # A READ_ONLY directory account: Keycloak takes ``enabled`` alone, no attribute or name.
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class Membership:
    """A user (by Keycloak id, or by Clever id when created in the same run) and a group key."""

    group: str
    keycloak_id: str = ""
    clever_id: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """The difference, in the order it is applied."""

    create_groups: tuple[GroupSpec, ...] = ()
    update_groups: tuple[tuple[str, GroupSpec], ...] = ()  # (keycloak id, new spec)
    create_users: tuple[UserSpec, ...] = ()
    update_users: tuple[UserUpdate, ...] = ()
    add_members: tuple[Membership, ...] = ()
    remove_members: tuple[Membership, ...] = ()
    disable_users: tuple[UserUpdate, ...] = ()
    retire_groups: tuple[tuple[str, GroupSpec], ...] = ()  # sections gone from Clever: emptied, marked

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.create_groups,
                self.update_groups,
                self.create_users,
                self.update_users,
                self.add_members,
                self.remove_members,
                self.disable_users,
                self.retire_groups,
            )
        )

    def size(self) -> int:
        """How many writes (at most) the plan needs."""
        return (
            len(self.create_groups)
            + len(self.update_groups)
            + len(self.create_users)
            + len(self.update_users)
            + len(self.add_members)
            + len(self.remove_members)
            + len(self.disable_users)
            + len(self.retire_groups)
        )


@dataclass(frozen=True, slots=True)
class Account:
    """An existing realm account as the name match sees it (read by ``connectors.keycloak_read``)."""

    keycloak_id: str
    username: str
    first_name: str
    last_name: str
    enabled: bool = True
    is_admin: bool = False  # any admin/management power in its effective roles, or clever-admin
    linked_clever_id: str = ""
    source: str = "local"  # "ldap", "local", or the alias of another identity provider it is linked to
    read_only: bool = False  # LDAP federation in READ_ONLY mode
    ldap_dn: str = ""
    vetted: bool = False  # its effective roles were read (``connectors.keycloak_vet``)
    realm_roles: frozenset[str] = frozenset()  # effective realm roles, composites and groups included
    groups: tuple[str, ...] = ()  # group paths (read only when a ``Scope`` names groups)
    strong_ids: tuple[tuple[str, str], ...] = ()  # (clever_sis_id|..., value) the account carries
    names_editable: bool = False  # the User Profile lets its user edit first or last name
    # What it holds beyond the realm's default roles and groups, in words: "realm role staff",
    # "client role gradebook/superuser", "group /Teachers-Old" (``connectors.keycloak_vet``).
    holds: tuple[str, ...] = ()
    # The other identity providers it is linked to whose names reach it at every login (their sync
    # mode, or a first/last-name mapper's, is FORCE): its names are theirs, not the district's.
    names_from: tuple[str, ...] = ()
    # The ``clever_id`` attribute of an account no owned link gives to anyone (``model.ownership``):
    # data left by an earlier owner (an unlink since), never evidence; it may only make a person wait.
    carried_clever_id: str = ""


# -- LDAP: the school and class ``groupOfNames`` (``connectors.ldap`` reads and writes them) --


@dataclass(frozen=True, slots=True)
class LdapGroup:
    key: str
    dn: str
    members: frozenset[str]
    owners: frozenset[str] = frozenset()
    name: str = ""


@dataclass(frozen=True, slots=True)
class LdapPlan:
    create: tuple[LdapGroup, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()  # (old dn, new dn)
    add_members: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (group dn after renames, member dns)
    remove_members: tuple[tuple[str, tuple[str, ...]], ...] = ()
    set_owners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    placeholder: str = ""  # the member every group lists so it is never empty (``groups_dn``)

    def people_added(self, failed: frozenset[str] = frozenset()) -> int:
        """Member values naming people that the plan writes: into new groups and existing ones
        (groups whose DN is in ``failed`` were refused: not counted)."""
        added = sum(len(m) for dn, m in self.add_members if dn not in failed)
        return added + sum(len(g.members - {self.placeholder}) for g in self.create if g.dn not in failed)

    def people_removed(self, failed: frozenset[str] = frozenset()) -> int:
        return sum(len(m) for dn, m in self.remove_members if dn not in failed)

    @property
    def empty(self) -> bool:
        return not (self.create or self.rename or self.add_members or self.remove_members or self.set_owners)

    def size(self) -> int:
        return (
            len(self.create)
            + len(self.rename)
            + len(self.add_members)
            + len(self.remove_members)
            + len(self.set_owners)
        )


# -- fingerprints: what a run wrote, so the next one can tell it still holds (``plugin.sync.applied``) --


def fingerprint(group_id: str, members: Iterable[str]) -> str:
    """The fingerprint of a group's member set (the group's own id included: a re-made group differs)."""
    digest = hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()
    return f"{group_id}:{digest}"


def user_fingerprint(keycloak_id: str, attributes: Mapping[str, Sequence[str]], read_only: bool) -> str:
    """The fingerprint of the attributes the sync wants on an account."""
    text = repr((sorted((k, tuple(v)) for k, v in attributes.items()), read_only))
    return f"{keycloak_id}:{hashlib.sha1(text.encode()).hexdigest()}"
