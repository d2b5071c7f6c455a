"""The map stage: a roster and the realm's accounts in, the desired Keycloak and LDAP state out.

Policy lives in ``mappers/`` (names, class names, parents, layout); this module only wires it:

* groups: ``/Clever/<School>/{Students,Teachers,Staff,Parents,Classes/<class>}``, keyed by
  ``clever_key`` (``root``, ``school:<id>``, ``school:<id>:students``, ``school:<id>:classes``,
  ``section:<id>``); school and class groups carry ``clever_id``; a class group lists its teachers'
  Clever ids in ``clever_teachers`` (so teachers are told apart from students inside the class).
* people: one ``UserSpec`` per in-scope person; district admins get no school group.
* scope: people and sections of schools outside the chosen ones are not wanted (they lose their
  memberships) but are still *present*, so narrowing the scope never disables anybody.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import RecordError, RosterView
from connectors.ownership import ROOT_MARK, ROOT_MARK_VERSION
from connectors.records import Role, User
from connectors.state import (
    REALM_ROLE_ATTRIBUTE,
    REALM_ROLES,
    Account,
    Attributes,
    CurrentUser,
    DesiredState,
    GroupSpec,
    PackedAttributes,
    UserSpec,
    user_fingerprint,
)
from mappers.classes import class_group_names, school_group_names
from mappers.eligibility import Scope
from mappers.layout import (
    CLASSES_GROUP,
    ROLE_GROUPS,
    ROOT_GROUP,
    name_values,
    primary_role,
    user_attributes,
)
from mappers.name_fit import clean_name, fit_names, fitted_warning, split_value
from mappers.names import username_for
from mappers.parents import parents_of, relationships_of_parent, relationships_of_student
from plugin.config.settings import SyncOptions
from plugin.sync.desired_checks import known_teachers, schoolless
from plugin.sync.desired_match import NameMatch, match_people, person_details

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


# Attributes whose values many people share (their one object is reused, see ``shared``).
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


def desired_state(
    roster: RosterView,
    *,
    current_users: Mapping[str, CurrentUser],
    accounts: Iterable[Account] | Callable[..., Iterable[Account]],
    usernames: set[str],
    options: SyncOptions,
    school_ids: frozenset[str] = frozenset(),
    resolutions: Mapping[str, str] | None = None,
    refused_emails: Mapping[str, str] | None = None,
    scope: Scope | None = None,
    hold: Iterable[str] = (),
) -> Mapped:
    """Map the roster to the groups and accounts it calls for (pure but for reading the streams).

    ``accounts`` may be a callable: it is called only when somebody has no account yet (reading the
    candidates costs Keycloak calls). ``resolutions`` are the admin's answers to ambiguous matches
    (``plugin.sync.resolutions``: Clever id -> Keycloak id or ``"create"``); ``refused_emails`` the
    addresses Keycloak refused before (Clever id -> address): not offered again.
    """
    return map_people(
        read_roster(roster, options=options, school_ids=school_ids),
        current_users=current_users,
        accounts=accounts,
        usernames=usernames,
        options=options,
        resolutions=resolutions,
        refused_emails=refused_emails,
        scope=scope,
        hold=hold,
    )


# A parent to sync: the contact, their schools, relationships, first and last name, email.
ParentSpec = tuple[User, tuple[str, ...], tuple[tuple[str, str, str], ...], str, str, str]


@dataclass(slots=True)
class RosterRead:
    """The roster read and sorted: the part of the map stage that needs nothing from Keycloak
    (so the sync reads Clever while Keycloak is being read: ``plugin.sync.pipeline``)."""

    mapped: Mapped
    groups: dict[str, GroupSpec]
    in_sections: dict[str, tuple[str, ...]]
    people: list[User]
    present: set[str]
    relationships: Mapping[str, tuple[tuple[str, str, str], ...]]
    parent_specs: list[ParentSpec]


def read_roster(
    roster: RosterView, *, options: SyncOptions, school_ids: frozenset[str] = frozenset()
) -> RosterRead:
    """Read the roster's streams: the group tree, who is in which class, the people in scope."""
    every_school = list(roster.schools())
    district_schools = {s.clever_id for s in every_school}
    schools = [s for s in every_school if not school_ids or s.clever_id in school_ids]
    names = school_group_names(schools)
    mapped = Mapped(DesiredState({}, {}), dict(names.names), warnings=list(names.warnings))
    groups = _school_groups(names.names)

    sections = [s for s in roster.sections() if s.school in names.names]
    class_names = class_group_names(sections, options.force_unique_class_names, names.names)
    mapped.warnings.extend(class_names.warnings)
    # Memory: a list per person while sections come (a set of ~8 keys is six times the size);
    # repeats are harmless.
    in_sections: defaultdict[str, list[str]] = defaultdict(list)
    for section in sections:
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
    del sections
    # Memory: a tuple per person once the lists are complete (60 bytes less each).
    member_of = {clever_id: tuple(keys) for clever_id, keys in in_sections.items()}
    del in_sections

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
            s in names.names for s in user.schools
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
    # Memory: the district's ids are not copied into one more set (122,112 at 50,000 students);
    # only the classes' teachers are looked up.
    synced = {p.clever_id for p in people}
    _dangling(member_of, synced, present, mapped)
    named = {t for group in groups.values() for t in group.attributes.get("clever_teachers", ())}
    known_teachers(groups, {t for t in named if t in synced or t in present or t in mapped.contacts_off})
    del synced, named

    relationships: Mapping[str, tuple[tuple[str, str, str], ...]] = {}
    parent_specs: list[ParentSpec] = []
    if options.sync_parent_data:
        students = {p.clever_id: _scoped(p, names.names) for p in people if p.has(Role.STUDENT)}
        plan = parents_of(contacts, students)
        relationships = relationships_of_student(plan.parents)
        by_id = {c.clever_id: c for c in contacts}
        for parent in plan.parents:
            parent_specs.append(
                (
                    by_id[parent.clever_id],
                    parent.school_ids,
                    relationships_of_parent(parent),
                    parent.first_name,
                    parent.last_name,
                    parent.email,
                )
            )
        mapped.skipped.extend(
            RecordError(s.reason, kind="parents", clever_id=s.clever_id, person="parents")
            for s in plan.skipped
        )
    return RosterRead(mapped, groups, member_of, people, present, relationships, parent_specs)


def map_people(
    read: RosterRead,
    *,
    current_users: Mapping[str, CurrentUser],
    accounts: Iterable[Account] | Callable[..., Iterable[Account]],
    usernames: set[str],
    options: SyncOptions,
    resolutions: Mapping[str, str] | None = None,
    refused_emails: Mapping[str, str] | None = None,
    as_written: Mapping[str, str] | None = None,
    written: Container[str] = (),
    scope: Scope | None = None,
    hold: Iterable[str] = (),
) -> Mapped:
    """The accounts the people of ``read`` call for, given the realm's (see ``desired_state``).

    ``read`` is used up: its people's records and section keys are let go one by one as they are
    mapped (memory: a district's records and its people's specs are not held in full at once).

    ``written``: Clever ids whose accounts an earlier run wrote (``plugin.sync.applied``).

    ``as_written`` (Clever id -> ``connectors.state.user_fingerprint`` the last run wrote) is for
    accounts listed briefly, without their attributes: a person whose wanted attributes still
    match it gets a spec whose ``attributes`` hold only ``clever_role`` (one shared mapping per
    role; the kind the brake and the report count by), and their Clever id goes in
    ``Mapped.confirmed``. The account's attributes are then taken as written, not read or
    compared (``plugin.sync.pipeline``). Memory: the attributes of a district's people are most of its
    desired state, and a run where nothing changed needs none of them.

    ``scope`` says where the district keeps each Clever role (``match_scope``); ``hold`` lists
    Clever ids that get nothing this run and are not disabled (a link the sync did not make).
    """
    resolutions = resolutions or {}
    refused_emails = refused_emails or {}
    as_written = as_written or {}
    mapped, groups, people, present = read.mapped, read.groups, read.people, read.present
    in_sections, relationships, parent_specs = read.in_sections, read.relationships, read.parent_specs
    school_names = mapped.school_names
    new_people = [p for p in people if p.clever_id not in current_users]
    new_people += [spec[0] for spec in parent_specs if spec[0].clever_id not in current_users]
    if options.match_users_by_name and new_people:
        mapped.match = match_people(
            new_people, accounts, resolutions, scope or Scope(), mapped.resolved, mapped.warnings
        )
    matched: Mapping[str, Account] = mapped.match.linked
    held = mapped.match.held | set(hold)

    taken: set[str] | None = None  # lower-case usernames in use; made when somebody needs one
    users: dict[str, UserSpec] = {}

    def new_username(user: User) -> str:
        nonlocal taken
        if taken is None:
            taken = {name.lower() for name in usernames}
            taken.update(spec.username.lower() for spec in users.values())
        return username_for(user, taken)

    def add(
        user: User,
        kind: str,
        schools: tuple[str, ...],
        first: str,
        last: str,
        email: str,
        extra: set[str],
        rels: tuple[tuple[str, str, str], ...],
    ) -> None:
        if user.clever_id in held:
            mapped.held[user.clever_id] = kind
            if user.clever_id in mapped.match.held:
                mapped.waiting_people[user.clever_id] = person_details(user, schools, school_names)
            return
        current = current_users.get(user.clever_id)
        account = matched.get(user.clever_id)
        if current is not None:
            username = current.username
        elif account is not None:
            username = account.username
        else:
            username = new_username(user)
        if taken is not None:
            taken.add(username.lower())
        read_only = current.read_only if current else account.read_only if account else False
        attributes: Mapping[str, Sequence[str]] = {
            name: [shared(value) for value in values] if name in REPEATED else values
            for name, values in user_attributes(user, relationships=rels, school_ids=schools).items()
        }
        preferred = user.preferred_first_name if options.use_preferred_names else ""
        if preferred and preferred != first and user.has(Role.STUDENT):  # shown; the legal name kept
            if legal := clean_name(first)[0]:  # no legal first name: nothing to keep (no empty attribute)
                attributes = {**attributes, "clever_legal_first_name": split_value(legal)}
            first = preferred
        fitted = fit_names(first, last)  # cleaned and cut as Keycloak holds them (``mappers.name_fit``)
        first, last = fitted.first, fitted.last
        if fitted.attributes:
            attributes = {**attributes, **fitted.attributes}
        if fitted.notes and (current is None or (current.first_name, current.last_name) != (first, last)):
            mapped.warnings.append(fitted_warning(user.clever_id, fitted))
        before = as_written.get(user.clever_id) if current else None
        if current and before and before == user_fingerprint(current.keycloak_id, attributes, read_only):
            mapped.confirmed[user.clever_id] = before
            role = tuple(attributes.get("clever_role", ()))
            kept = shared_role.setdefault(role, {"clever_role": role} if role else {})
        else:
            kept = PackedAttributes(attributes)
        if email and refused_emails.get(user.clever_id) == email:
            email = ""  # Keycloak refused it (another account holds it): said once, not retried
        users[user.clever_id] = UserSpec(
            clever_id=user.clever_id,
            kind=kind,
            username=username,
            first_name=first,
            last_name=last,
            email=email,
            attributes=kept,
            groups=tuple(sorted(shared(key) if key.startswith("school:") else key for key in extra)),
            matched_keycloak_id=account.keycloak_id if account else "",
            ldap_dn=current.ldap_dn if current else account.ldap_dn if account else "",
            read_only=read_only,
        )
        if account:
            mapped.linked_by_name[user.clever_id] = account.keycloak_id

    # Memory: one object per repeated value ("student", a school's role group key, a grade...)
    # instead of one per person; values unique to a person pass through. Attributes are packed
    # (``connectors.state.PackedAttributes``), so repeated values are shared as strings.
    seen: dict[Any, Any] = {}
    shared_role: dict[tuple[str, ...], Attributes] = {}

    def shared(value: Any) -> Any:
        return seen.setdefault(value, value)

    del new_people  # Memory: each record below is let go once its person is mapped
    people.sort(key=lambda p: p.clever_id, reverse=True)
    while people:
        person = people.pop()  # in Clever id order (usernames are given in that order)
        person_schools = _scoped(person, school_names)
        keys = set(in_sections.pop(person.clever_id, ()))  # let go as they are mapped
        for held_role in person.roles:
            if held_role in ROLE_GROUPS and held_role is not Role.CONTACT:
                keys.update(f"school:{s}:{ROLE_GROUPS[held_role].lower()}" for s in person_schools)
        kind = kind_of(person)
        add(
            person,
            kind,
            person_schools,
            person.first_name,
            person.last_name,
            person.email,
            keys,
            relationships.get(person.clever_id, ()),
        )
    for contact, parent_schools, rels, first, last, email in parent_specs:
        keys = {f"school:{s}:parents" for s in parent_schools if s in school_names}
        add(contact, "parents", parent_schools, first, last, email, keys, rels)

    present.update(held)  # people held for review are not disabled meanwhile
    for clever_id in mapped.contacts_off:
        # Sync Parent Data off: a parent account the sync made (its relationships, or written by an
        # earlier run) is deprovisioned; any other account of a contact (made at a Clever login) is
        # left alone. A contact with no account is not listed (nothing to keep; memory: 69,067
        # contacts at 50,000 students).
        current = current_users.get(clever_id)
        if current is not None and not (clever_id in written or "clever_relationships" in current.attributes):
            present.add(clever_id)
    mapped.desired = DesiredState(
        groups=groups, users=users, present=present, untouched=frozenset(mapped.broken)
    )
    return mapped


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
