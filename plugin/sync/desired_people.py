"""The map stage, second half: each person of a read roster (``plugin.sync.desired.read_roster``)
gets their ``UserSpec``, given the realm's accounts (``MapInput``).

A person with an account keeps its username; a new one is matched by name (Match Users By Name,
``plugin.sync.desired_match``) or gets a free username, given in Clever-id order. A person the
run's scope does not decide (an incremental run's context: a classmate, a sibling) is mapped only
when they have an account, so that the classes the run decides in full list them; nobody outside
the scope is matched or made.

Memory: the attributes of a district's people are most of its desired state. An account listed
briefly (``MapInput.as_written``) whose wanted attributes still match the fingerprint the last run
wrote gets a spec whose ``attributes`` hold only ``clever_role`` (one shared mapping per role; the
kind the brake and the report count by), and its Clever id goes in ``Mapped.confirmed``: its
attributes are taken as written, not read or compared (``plugin.sync.current``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

from mappers.layout import ROLE_GROUPS, user_attributes
from mappers.name_fit import clean_name, fit_names, fitted_warning, split_value
from mappers.names import username_for
from mappers.people import kind_of
from model.base import RosterView
from model.records import Role, User
from model.state import (
    REALM_ROLE_ATTRIBUTE,
    Account,
    Attributes,
    CurrentGroup,
    CurrentUser,
    DesiredState,
    GroupSpec,
    PackedAttributes,
    UserSpec,
    user_fingerprint,
)
from plugin.sync.desired import MapInput, Mapped, RosterRead, read_roster
from plugin.sync.desired_match import match_people
from plugin.sync.scope import Scope
from plugin.sync.snapshot import NeedsFullRun

# Attributes whose values many people share (their one object is reused, see ``_Specs.shared``).
REPEATED = frozenset(
    {
        "clever_role",
        "clever_roles",
        "clever_district",
        "clever_school_ids",
        "clever_grade",
        "clever_graduation_year",
        "clever_title",
        "clever_phone_type",
        REALM_ROLE_ATTRIBUTE,
    }
)
Relationships = tuple[tuple[str, str, str], ...]


class Person(NamedTuple):
    """One person to map: their record, report kind, schools, names, email, groups, relationships."""

    user: User
    kind: str
    schools: tuple[str, ...]
    first: str
    last: str
    email: str
    groups: set[str]
    relationships: Relationships


def desired_state(roster: RosterView, inp: MapInput) -> Mapped:
    """Map the roster to the groups and accounts it calls for (pure but for reading the streams)."""
    return map_people(read_roster(roster, inp.options, inp.school_ids, inp.scope), inp)


def map_people(read: RosterRead, inp: MapInput) -> Mapped:
    """The accounts the people of ``read`` call for, given the realm's (module doc).

    ``read`` is used up: its people's records and section keys are let go one by one as they are
    mapped (memory: a district's records and its people's specs are not held in full at once)."""
    mapped = read.mapped
    if not inp.scope.everything:  # context without an account is not this run's to match or make
        read.people = [p for p in read.people if _ours(p, inp)]
        read.parent_specs = [spec for spec in read.parent_specs if _ours(spec[0], inp)]
    new_people = [p for p in read.people if p.clever_id not in inp.current_users]
    new_people += [spec[0] for spec in read.parent_specs if spec[0].clever_id not in inp.current_users]
    if inp.options.match_users_by_name and new_people:
        mapped.match = match_people(
            new_people, inp.accounts, inp.resolutions, inp.match_scope, mapped.resolved, mapped.warnings
        )
    del new_people  # Memory: each record below is let go once its person is mapped
    held = mapped.match.held | set(inp.hold)
    specs = _Specs(inp, mapped, held)
    specs.people(read)
    for contact, parent_schools, rels, first, last, email in read.parent_specs:
        keys = {f"school:{s}:parents" for s in parent_schools if s in mapped.school_names}
        specs.add(Person(contact, "parents", parent_schools, first, last, email, keys, rels))
    present = read.present
    present.update(held)  # people held for review are not disabled meanwhile
    for clever_id in mapped.contacts_off:
        # Sync Parent Data off: a parent account the sync made (its relationships, or written by an
        # earlier run) is deprovisioned; any other account of a contact (made at a Clever login) is
        # left alone. A contact with no account is not listed (nothing to keep; memory: 69,067
        # contacts at 50,000 students).
        current = inp.current_users.get(clever_id)
        if current is not None and not (
            clever_id in inp.written or "clever_relationships" in current.attributes
        ):
            present.add(clever_id)
    desired = DesiredState(
        groups=read.groups, users=specs.users, present=present, untouched=frozenset(mapped.broken)
    )
    mapped.desired, missing = settle_groups(desired, inp.current_groups, inp.scope)
    if missing:
        raise NeedsFullRun(f"{len(missing)} classes the events name are not in Keycloak yet")
    return mapped


def settle_groups(
    desired: DesiredState, current: Mapping[str, CurrentGroup], scope: Scope
) -> tuple[DesiredState, set[str]]:
    """The desired groups as the scope decides them: a group whose name the snapshot cannot decide
    (a class of a school whose other classes it did not read) keeps its name in Keycloak, one whose
    attributes it cannot decide keeps those. Also the groups it needs and can neither decide nor
    find in Keycloak (a full run must make them)."""
    if scope.everything:
        return desired, set()
    groups: dict[str, GroupSpec] = {}
    missing: set[str] = set()
    for key, spec in desired.groups.items():
        have = current.get(key)
        if have is None:
            if not scope.named(key):
                missing.add(key)
            groups[key] = spec
            continue
        name = spec.name if scope.named(key) else have.name
        attributes = spec.attributes if scope.attributed(key) else have.attributes
        groups[key] = replace(spec, name=name, attributes=attributes)
    return replace(desired, groups=groups), missing


def person_details(user: User, schools: Iterable[str], school_names: Mapping[str, str]) -> dict[str, Any]:
    """What the admin page shows of a waiting person (kept for the page only, never in a report)."""
    roles = [role.value.replace("_", " ") for role in Role if user.has(role)]
    return {
        "name": " ".join(part for part in (user.first_name, user.last_name) if part.strip()),
        "roles": roles,
        "schools": [school_names.get(school, school) for school in schools],
        "grade": user.grade,
        "title": user.title,
        "sis_id": user.sis_id,
    }


def _ours(user: User, inp: MapInput) -> bool:
    return inp.scope.person(user.clever_id) or user.clever_id in inp.current_users


class _Specs:
    """The people's specs as they are made (usernames are given in Clever-id order)."""

    def __init__(self, inp: MapInput, mapped: Mapped, held: set[str]) -> None:
        self.inp, self.mapped, self.held = inp, mapped, held
        self.matched: Mapping[str, Account] = mapped.match.linked
        self.users: dict[str, UserSpec] = {}
        self.taken: set[str] | None = None  # lower-case usernames in use; made when somebody needs one
        # Memory: one object per repeated value ("student", a school's role group key, a grade...)
        # instead of one per person; values unique to a person pass through. Attributes are packed
        # (``model.state.PackedAttributes``), so repeated values are shared as strings.
        self.seen: dict[Any, Any] = {}
        self.shared_role: dict[tuple[str, ...], Attributes] = {}

    def shared(self, value: Any) -> Any:
        return self.seen.setdefault(value, value)

    def people(self, read: RosterRead) -> None:
        """Every person of ``read`` (not the parents), their records let go as they are mapped."""
        people, school_names = read.people, self.mapped.school_names
        people.sort(key=lambda p: p.clever_id, reverse=True)
        while people:
            user = people.pop()  # in Clever id order (usernames are given in that order)
            schools = tuple(s for s in user.schools if s in school_names)
            keys = set(read.in_sections.pop(user.clever_id, ()))  # let go as they are mapped
            for role in user.roles:
                if role in ROLE_GROUPS and role is not Role.CONTACT:
                    keys.update(f"school:{s}:{ROLE_GROUPS[role].lower()}" for s in schools)
            rels = read.relationships.get(user.clever_id, ())
            names = user.first_name, user.last_name, user.email
            self.add(Person(user, kind_of(user), schools, *names, keys, rels))

    def add(self, person: Person) -> None:
        """The spec of one person (or they wait: ``Mapped.held``)."""
        clever_id = person.user.clever_id
        if clever_id in self.held:
            self.mapped.held[clever_id] = person.kind
            if clever_id in self.mapped.match.held:
                details = person_details(person.user, person.schools, self.mapped.school_names)
                self.mapped.waiting_people[clever_id] = details
            return
        current = self.inp.current_users.get(clever_id)
        account = self.matched.get(clever_id)
        read_only = current.read_only if current else account.read_only if account else False
        username = self._username(person.user, current, account)
        attributes, first, last = self._attributes(person, current, read_only)
        email = person.email
        if email and self.inp.refused_emails.get(clever_id) == email:
            email = ""  # Keycloak refused it (another account holds it): said once, not retried
        self.users[clever_id] = UserSpec(
            clever_id=clever_id,
            kind=person.kind,
            username=username,
            first_name=first,
            last_name=last,
            email=email,
            attributes=attributes,
            groups=tuple(sorted(self.shared(k) if k.startswith("school:") else k for k in person.groups)),
            matched_keycloak_id=account.keycloak_id if account else "",
            ldap_dn=current.ldap_dn if current else account.ldap_dn if account else "",
            read_only=read_only,
        )
        if account:
            self.mapped.linked_by_name[clever_id] = account.keycloak_id

    def _username(self, user: User, current: CurrentUser | None, account: Account | None) -> str:
        if current is not None:
            username = current.username
        elif account is not None:
            username = account.username
        else:
            if self.taken is None:
                self.taken = {name.lower() for name in self.inp.usernames}
                self.taken.update(spec.username.lower() for spec in self.users.values())
            username = username_for(user, self.taken)
        if self.taken is not None:
            self.taken.add(username.lower())
        return username

    def _attributes(
        self, person: Person, current: CurrentUser | None, read_only: bool
    ) -> tuple[Attributes, str, str]:
        """The person's Clever attributes (or only ``clever_role``, as written) and names."""
        user, first = person.user, person.first
        found = user_attributes(user, relationships=person.relationships, school_ids=person.schools)
        attributes: Mapping[str, Sequence[str]] = {
            name: [self.shared(value) for value in values] if name in REPEATED else values
            for name, values in found.items()
        }
        preferred = user.preferred_first_name if self.inp.options.use_preferred_names else ""
        if preferred and preferred != first and user.has(Role.STUDENT):  # shown; the legal name kept
            if legal := clean_name(first)[0]:  # no legal first name: nothing to keep (no empty attribute)
                attributes = {**attributes, "clever_legal_first_name": split_value(legal)}
            first = preferred
        # Cleaned and cut as Keycloak holds them (``mappers.name_fit``).
        fitted = fit_names(first, person.last)
        first, last = fitted.first, fitted.last
        if fitted.attributes:
            attributes = {**attributes, **fitted.attributes}
        if fitted.notes and (current is None or (current.first_name, current.last_name) != (first, last)):
            self.mapped.warnings.append(fitted_warning(user.clever_id, fitted))
        before = self.inp.as_written.get(user.clever_id) if current else None
        if current and before and before == user_fingerprint(current.keycloak_id, attributes, read_only):
            self.mapped.confirmed[user.clever_id] = before
            role = tuple(attributes.get("clever_role", ()))
            return self.shared_role.setdefault(role, {"clever_role": role} if role else {}), first, last
        return PackedAttributes(attributes), first, last


__all__ = ["Person", "desired_state", "map_people"]
