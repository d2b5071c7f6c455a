"""Who of a roster gets an account: the people to map, the contacts who may become parents, and
the people who are in Clever but get nothing now (``present``: an account they have is not
disabled). Example::

    found = sort_people(roster.users(), tree, sync_parents=False, bad_records=roster.bad_records)
    found.people      # the people to map (in a chosen school, named)
    found.skipped     # RecordError each: no name, in no school of the district, dangling section members

Rules:

* a contact (only that role): with Sync Parent Data a parent to be (``mappers.parents``), present;
  without, not wanted (``contacts_off``: an account the sync made them is deprovisioned, any other
  left alone);
* no first and no last name: present, skipped ("no name"), waits on the page;
* a district admin with no school, or a person of a chosen school: mapped;
* in no school of the district (a school not shared with the app, a bad id): present, skipped,
  with the sections they are left out of; in another school of the district: present;
* a record Clever sent broken (``bad_records``): present, untouched.

Also two checks of the records that refer to what the roster does not hold (issue 17, point 4): a
section member who is nobody of the roster is named in the report (``decided``: the sections
whose members an incremental run decides; None: all), and a class lists as teachers only people
Clever sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace

from mappers.classes import GroupTree
from mappers.layout import ROLE_PRIORITY
from model.base import RecordError
from model.records import Role, User

KIND_OF_ROLE = {
    Role.STUDENT: "students",
    Role.TEACHER: "teachers",
    Role.STAFF: "staff",
    Role.DISTRICT_ADMIN: "district_admins",
    Role.CONTACT: "parents",
}


@dataclass(slots=True)
class Sorted:
    """The roster's people sorted (module doc)."""

    people: list[User] = field(default_factory=list)
    contacts: list[User] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    contacts_off: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    skipped: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sort_people(
    users: Iterable[User],
    tree: GroupTree,
    sync_parents: bool,
    bad_records: Sequence[RecordError] = (),
    decided: Set[str] | None = None,
) -> Sorted:
    """The people of ``users`` sorted (module doc); ``tree``'s class groups lose the teachers the
    roster does not hold. ``bad_records``: the records Clever sent broken, read once ``users`` is
    passed (Clever's client adds to it while the stream goes on)."""
    found = Sorted()
    for user in users:
        if is_contact_only(user):
            if sync_parents:
                found.present.add(user.clever_id)
                found.contacts.append(user)
            else:
                found.contacts_off.add(user.clever_id)  # the map stage decides
        elif not (user.first_name.strip() or user.last_name.strip()):
            found.present.add(user.clever_id)
            found.skipped.append(
                RecordError("no name", kind="users", clever_id=user.clever_id, person=kind_of(user))
            )
        elif (user.has(Role.DISTRICT_ADMIN) and not user.schools) or any(
            s in tree.school_names for s in user.schools
        ):
            found.people.append(user)  # present once they have a spec (or are held: the map stage)
        elif not user.has(Role.DISTRICT_ADMIN) and not any(s in tree.district_schools for s in user.schools):
            found.present.add(user.clever_id)  # in Clever: an account it has is not disabled
            found.skipped.append(_schoolless(user, tree.member_of.get(user.clever_id, ()), kind_of(user)))
        else:
            found.present.add(user.clever_id)  # out of the chosen schools
    found.broken = {e.clever_id for e in bad_records if e.kind == "users" and e.clever_id}
    found.present.update(found.broken)
    _check_references(found, tree, decided)
    return found


def is_contact_only(user: User) -> bool:
    """A person whose only role is contact: a parent to be with Sync Parent Data, else nobody the
    sync gives an account (module doc)."""
    return user.roles == frozenset({Role.CONTACT})


def may_get_account(user: User, sync_parents: bool) -> bool:
    """Whether the sync could give ``user`` an account: not a contact alone without Sync Parent
    Data (``sort_people``'s first rule). The scoped read asks it before listing the realm for a
    person who has no account yet."""
    return sync_parents or not is_contact_only(user)


def kind_of(user: User) -> str:
    """The report kind of a person: their primary Clever role's (``mappers.layout.ROLE_PRIORITY``)."""
    role = next((role for role in ROLE_PRIORITY if role in user.roles), None)
    return KIND_OF_ROLE[role] if role else "staff"


def _check_references(found: Sorted, tree: GroupTree, decided: Set[str] | None) -> None:
    """Section members and teachers who are not synced: dangling references named, out-of-scope
    ones counted, unknown teachers taken off their classes' ``clever_teachers``."""
    # Memory: the district's ids are not copied into one more set (122,112 at 50,000 students);
    # only the classes' teachers are looked up.
    synced = {p.clever_id for p in found.people}
    member_of = tree.member_of if decided is None else _in(tree.member_of, decided)
    absent = set(member_of) - synced
    for clever_id in sorted(absent - found.present):
        sections = ", ".join(sorted({key.removeprefix("section:") for key in member_of[clever_id]}))
        found.skipped.append(
            RecordError(
                f"section {sections} names user {clever_id}, who is not in the roster (membership skipped)",
                kind="sections",
                clever_id=clever_id,
            )
        )
    # A member skipped for their own record (no name, in no school) is reported there once.
    skipped = {error.clever_id for error in found.skipped if error.kind == "users"}
    out_of_scope = (absent & found.present) - skipped
    if out_of_scope:
        count = len(out_of_scope)
        found.warnings.append(
            f"{count} people named in sections are not in the roster's scope (memberships skipped)"
        )
    known = synced | found.present | found.contacts_off
    for key, group in tree.groups.items():
        teachers = group.attributes.get("clever_teachers")
        if teachers and any(t not in known for t in teachers):
            attributes = {**group.attributes, "clever_teachers": tuple(t for t in teachers if t in known)}
            tree.groups[key] = replace(group, attributes=attributes)


def _in(member_of: Mapping[str, tuple[str, ...]], keys: Set[str]) -> dict[str, tuple[str, ...]]:
    """Who is in which of the classes ``keys`` (the classes a run decides in full)."""
    found = {clever_id: tuple(k for k in sections if k in keys) for clever_id, sections in member_of.items()}
    return {clever_id: sections for clever_id, sections in found.items() if sections}


def _schoolless(user: User, sections: Iterable[str], person: str = "") -> RecordError:
    """A person whose schools are none of the district's (not shared with the app, or a bad id)."""
    where = (
        f"school {', '.join(user.schools)} is not in the district" if user.schools else "Clever sends none"
    )
    classes = sorted({key.removeprefix("section:") for key in sections})
    left_out = f"; left out of section {', '.join(classes)}" if classes else ""
    return RecordError(
        f"in no school of the district's roster ({where}){left_out}",
        kind="users",
        clever_id=user.clever_id,
        person=person,
    )
