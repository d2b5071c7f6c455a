"""The map stage, first half: a snapshot's records read and sorted into the group tree, who is in
which class, and the people in scope (``read_roster``); the second half (``plugin.sync.desired_people``)
gives each person their account, given the realm's.

Policy lives in ``mappers/`` (names, class names, parents, layout); this module only wires it:

* groups: ``/Clever/<School>/{Students,Teachers,Staff,Parents,Classes/<class>}``, keyed by
  ``clever_key`` (``root``, ``school:<id>``, ``school:<id>:students``, ``school:<id>:classes``,
  ``section:<id>``); school and class groups carry ``clever_id``; a class group lists its teachers'
  Clever ids in ``clever_teachers`` (so teachers are told apart from students inside the class).
* people: one ``UserSpec`` per in-scope person; district admins get no school group.
* scope: people and sections of schools outside the chosen ones are not wanted (they lose their
  memberships) but are still *present*, so narrowing the scope never disables anybody.

Full and incremental runs map alike: the roster is the snapshot's (``plugin.sync.snapshot``), and
the run's ``Scope`` only says which of its records are decided (``MapInput``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.base import RecordError, RosterView
from connectors.ownership import ROOT_MARK, ROOT_MARK_VERSION
from connectors.records import Role, School, Section, User
from connectors.state import (
    REALM_ROLE_ATTRIBUTE,
    REALM_ROLES,
    Account,
    CurrentGroup,
    CurrentUser,
    DesiredState,
    GroupSpec,
    PackedAttributes,
)
from mappers import eligibility
from mappers.classes import class_group_names, school_group_names
from mappers.layout import CLASSES_GROUP, ROLE_GROUPS, ROOT_GROUP, name_values, primary_role
from mappers.parents import parents_of, relationships_of_parent, relationships_of_student
from plugin.config.settings import SyncOptions
from plugin.sync.desired_checks import known_teachers, schoolless
from plugin.sync.desired_match import NameMatch
from plugin.sync.scope import EVERYTHING, Scope

ROLE_OF_GROUP = {name: role for role, name in ROLE_GROUPS.items()}
KIND_OF_ROLE = {
    Role.STUDENT: "students",
    Role.TEACHER: "teachers",
    Role.STAFF: "staff",
    Role.DISTRICT_ADMIN: "district_admins",
    Role.CONTACT: "parents",
}


def kind_of(user: User) -> str:
    """The report kind of a person: their primary Clever role's (``mappers.layout.primary_role``)."""
    role = primary_role(user.roles)
    return KIND_OF_ROLE[role] if role else "staff"


@dataclass(slots=True)
class Mapped:
    """The desired state plus what the report needs to say about how it was made."""

    desired: DesiredState
    school_names: dict[str, str]
    linked_by_name: dict[str, str] = field(default_factory=dict)  # Clever id -> Keycloak id
    match: NameMatch = field(default_factory=NameMatch)  # who was linked, who waits and why
    # Clever id -> what the admin page shows of a person who waits (``desired_match.person_details``)
    waiting_people: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resolved: set[str] = field(default_factory=set)  # Clever ids whose resolution this run applies
    held: dict[str, str] = field(default_factory=dict)  # Clever id -> kind, of people who wait
    contacts_off: set[str] = field(default_factory=set)  # contacts not synced (Sync Parent Data off)
    broken: set[str] = field(default_factory=set)  # people whose records Clever sent broken
    # Clever id -> the stored fingerprint the person's wanted attributes still match (``as_written``)
    confirmed: dict[str, str] = field(default_factory=dict)


Accounts = Iterable[Account] | Callable[..., Iterable[Account]]


@dataclass(frozen=True, slots=True)
class MapInput:
    """Everything the map stage reads besides the roster, made once a run (``plugin.sync.planner``).

    ``accounts`` may be a callable: it is called only when somebody has no account yet (reading the
    candidates costs Keycloak calls). ``resolutions`` are the admin's answers to ambiguous matches
    (``plugin.sync.resolutions``: Clever id -> Keycloak id or ``"create"``); ``refused_emails`` the
    addresses Keycloak refused before (Clever id -> address): not offered again. ``written``: Clever
    ids whose accounts an earlier run wrote (``plugin.sync.applied``). ``as_written`` (Clever id ->
    the ``connectors.state.user_fingerprint`` the last run wrote) is for accounts listed briefly,
    without their attributes (``plugin.sync.desired_people``). ``match_scope`` says where the
    district keeps each Clever role (``desired_match.match_scope``); ``hold`` lists Clever ids that
    get nothing this run and are not disabled (a link the sync did not make).
    """

    options: SyncOptions
    scope: Scope = EVERYTHING
    current_users: Mapping[str, CurrentUser] = field(default_factory=dict)
    accounts: Accounts = ()
    usernames: Set[str] = frozenset()
    resolutions: Mapping[str, str] = field(default_factory=dict)
    refused_emails: Mapping[str, str] = field(default_factory=dict)
    as_written: Mapping[str, str] = field(default_factory=dict)
    written: Container[str] = frozenset()
    match_scope: eligibility.Scope = field(default_factory=eligibility.Scope)
    hold: Set[str] = frozenset()
    school_ids: frozenset[str] = frozenset()


# A parent to sync: the contact, their schools, relationships, first and last name, email.
ParentSpec = tuple[User, tuple[str, ...], tuple[tuple[str, str, str], ...], str, str, str]


@dataclass(slots=True)
class RosterRead:
    """The roster read and sorted: the part of the map stage that needs nothing from Keycloak
    (so the sync reads Clever while Keycloak is being read: ``plugin.sync.planner``)."""

    mapped: Mapped
    groups: dict[str, GroupSpec]
    in_sections: dict[str, tuple[str, ...]]
    people: list[User]
    present: set[str]
    relationships: Mapping[str, tuple[tuple[str, str, str], ...]]
    parent_specs: list[ParentSpec]


def read_roster(
    roster: RosterView,
    options: SyncOptions,
    school_ids: frozenset[str] = frozenset(),
    scope: Scope = EVERYTHING,
) -> RosterRead:
    """Read the roster's streams: the group tree, who is in which class, the people in scope."""
    every_school = list(roster.schools())
    names = school_group_names(s for s in every_school if not school_ids or s.clever_id in school_ids)
    mapped = Mapped(DesiredState({}, {}), dict(names.names), warnings=list(names.warnings))
    groups = _school_groups(names.names)
    member_of = _class_groups(roster.sections(), options, mapped, groups)
    people, contacts, present = _sort_people(roster, options, every_school, member_of, mapped)
    # Memory: the district's ids are not copied into one more set (122,112 at 50,000 students);
    # only the classes' teachers are looked up.
    synced = {p.clever_id for p in people}
    decided = member_of if scope.everything else _in(member_of, scope.member_lists)
    _dangling(decided, synced, present, mapped)
    named = {t for group in groups.values() for t in group.attributes.get("clever_teachers", ())}
    known_teachers(groups, {t for t in named if t in synced or t in present or t in mapped.contacts_off})
    del synced, named
    relationships: Mapping[str, tuple[tuple[str, str, str], ...]] = {}
    parent_specs: list[ParentSpec] = []
    if options.sync_parent_data:
        relationships, parent_specs = _parents(people, contacts, mapped)
    return RosterRead(mapped, groups, member_of, people, present, relationships, parent_specs)


def _class_groups(
    sections: Iterable[Section], options: SyncOptions, mapped: Mapped, groups: dict[str, GroupSpec]
) -> dict[str, tuple[str, ...]]:
    """The class groups of the chosen schools' sections (into ``groups``); who is in which class."""
    listed = [s for s in sections if s.school in mapped.school_names]
    class_names = class_group_names(listed, options.force_unique_class_names, mapped.school_names)
    mapped.warnings.extend(class_names.warnings)
    # Memory: a list per person while sections come (a set of ~8 keys is six times the size);
    # repeats are harmless.
    in_sections: defaultdict[str, list[str]] = defaultdict(list)
    for section in listed:
        key = f"section:{section.clever_id}"
        teachers = tuple(
            dict.fromkeys((section.teacher, *section.teachers) if section.teacher else section.teachers)
        )
        groups[key] = GroupSpec(
            key,
            class_names.names[section.clever_id],
            f"school:{section.school}:classes",
            "class",
            PackedAttributes(  # memory: a district's classes are many (15,265 at 50,000 students)
                {
                    "clever_key": (key,),
                    "clever_id": (section.clever_id,),
                    "clever_teachers": teachers,
                    "clever_name": name_values(section.name),  # whole, as Clever has it
                }
            ),
        )
        for clever_id in (*teachers, *section.students):
            in_sections[clever_id].append(key)
    del listed
    # Memory: a tuple per person once the lists are complete (60 bytes less each).
    return {clever_id: tuple(keys) for clever_id, keys in in_sections.items()}


def _sort_people(
    roster: RosterView,
    options: SyncOptions,
    every_school: list[School],
    member_of: Mapping[str, tuple[str, ...]],
    mapped: Mapped,
) -> tuple[list[User], list[User], set[str]]:
    """(the people to map, the contacts to make parents of, the Clever ids present but not mapped)."""
    district_schools = {s.clever_id for s in every_school}
    people: list[User] = []
    contacts: list[User] = []
    present: set[str] = set()
    for user in roster.users():
        if user.roles == frozenset({Role.CONTACT}) or (user.has(Role.CONTACT) and len(user.roles) == 1):
            # Sync Parent Data off: contacts are not wanted, so a parent account an earlier run
            # made is deprovisioned like any departed person's (disabled, through the brake).
            if options.sync_parent_data:
                present.add(user.clever_id)
                contacts.append(user)
            else:
                mapped.contacts_off.add(user.clever_id)  # ``map_people`` decides
        elif not (user.first_name.strip() or user.last_name.strip()):
            present.add(user.clever_id)
            mapped.skipped.append(
                RecordError("no name", kind="users", clever_id=user.clever_id, person=kind_of(user))
            )
        elif (user.has(Role.DISTRICT_ADMIN) and not user.schools) or any(
            s in mapped.school_names for s in user.schools
        ):
            people.append(user)  # present once they have a spec (or are held: ``map_people``)
        elif not user.has(Role.DISTRICT_ADMIN) and not any(s in district_schools for s in user.schools):
            present.add(user.clever_id)  # in Clever: an account it has is not disabled
            mapped.skipped.append(schoolless(user, member_of.get(user.clever_id, ()), kind_of(user)))
        else:
            present.add(user.clever_id)  # out of the chosen schools
    # A person whose record Clever sent broken (``connectors.clever``: ``bad_records``) is still in
    # Clever: an account they have is kept as it is, not disabled, in the groups it is in.
    broken = (e.clever_id for e in getattr(roster, "bad_records", ()) if e.kind == "users" and e.clever_id)
    mapped.broken.update(broken)
    present.update(mapped.broken)
    return people, contacts, present


def _parents(
    people: list[User], contacts: list[User], mapped: Mapped
) -> tuple[Mapping[str, tuple[tuple[str, str, str], ...]], list[ParentSpec]]:
    """Sync Parent Data: each student's relationships, and the parents to sync."""
    students = {p.clever_id: _scoped(p, mapped.school_names) for p in people if p.has(Role.STUDENT)}
    plan = parents_of(contacts, students)
    by_id = {c.clever_id: c for c in contacts}
    parent_specs: list[ParentSpec] = [
        (
            by_id[parent.clever_id],
            parent.school_ids,
            relationships_of_parent(parent),
            parent.first_name,
            parent.last_name,
            parent.email,
        )
        for parent in plan.parents
    ]
    mapped.skipped.extend(
        RecordError(s.reason, kind="parents", clever_id=s.clever_id, person="parents") for s in plan.skipped
    )
    return relationships_of_student(plan.parents), parent_specs


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


def _school_groups(school_names: Mapping[str, str]) -> dict[str, GroupSpec]:
    # The root says its realm's links are ownership records (``plugin.sso.links``).
    root = {"clever_key": ("root",), ROOT_MARK: (ROOT_MARK_VERSION,)}
    groups = {"root": GroupSpec("root", ROOT_GROUP, None, "root", root)}
    for school_id, name in school_names.items():
        key = f"school:{school_id}"
        groups[key] = GroupSpec(
            key, name, "root", "school", {"clever_key": (key,), "clever_id": (school_id,)}
        )
        for child in (*ROLE_GROUPS.values(), CLASSES_GROUP):
            child_key = f"{key}:{child.lower()}"
            attributes: dict[str, tuple[str, ...]] = {"clever_key": (child_key,)}
            if child in ROLE_OF_GROUP:
                attributes[REALM_ROLE_ATTRIBUTE] = (REALM_ROLES[ROLE_OF_GROUP[child]],)
            groups[child_key] = GroupSpec(child_key, child, key, "role", attributes)
    return groups


def _scoped(user: User, school_names: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(s for s in user.schools if s in school_names)


def _in(member_of: Mapping[str, tuple[str, ...]], keys: Set[str]) -> dict[str, tuple[str, ...]]:
    """Who is in which of the classes ``keys`` (the classes a run decides in full)."""
    found = {clever_id: tuple(k for k in sections if k in keys) for clever_id, sections in member_of.items()}
    return {clever_id: sections for clever_id, sections in found.items() if sections}


def _dangling(
    in_sections: Mapping[str, tuple[str, ...]], people: set[str], present: set[str], mapped: Mapped
) -> None:
    """Section members who are not synced: out of scope (a count), or not in the roster at all
    (a dangling reference Clever should not send: each one named in the report)."""
    absent = set(in_sections) - people
    for clever_id in sorted(absent - present):
        sections = ", ".join(sorted({key.removeprefix("section:") for key in in_sections[clever_id]}))
        mapped.skipped.append(
            RecordError(
                f"section {sections} names user {clever_id}, who is not in the roster (membership skipped)",
                kind="sections",
                clever_id=clever_id,
            )
        )
    # A member already skipped for their own record (no name, in no school) is reported there once.
    skipped = {error.clever_id for error in mapped.skipped if error.kind == "users"}
    out_of_scope = (absent & present) - skipped
    if out_of_scope:
        count = len(out_of_scope)
        mapped.warnings.append(
            f"{count} people named in sections are not in the roster's scope (memberships skipped)"
        )
