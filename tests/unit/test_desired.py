"""The map stage (``plugin.sync.desired``): a roster built here and the realm's accounts in, the desired
state out. Plain data only: no Keycloak, LDAP or Redis (issue 16)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from model.base import RecordError
from model.records import Role, School, Section, User
from model.state import Account, CurrentUser, UserSpec
from plugin.config.settings import SyncOptions
from plugin.sync.desired import MapInput, Mapped, read_roster
from plugin.sync.desired_people import desired_state, map_people
from plugin.sync.resolutions import CREATE
from plugin.sync.snapshot import ScopedRoster
from tests.factories import (
    make_account,
    make_contact,
    make_school,
    make_section,
    make_staff,
    make_student,
    make_teacher,
    make_user,
)

# --- Builders -------------------------------------------------------------------------------------

LINCOLN = make_school("Lincoln Elementary", clever_id="5f00000000000000000000a1")
WASHINGTON = make_school("Washington Middle", clever_id="5f00000000000000000000a2")
OUT_OF_DISTRICT = "5f00000000000000000000ff"  # a school id no school of the roster has


Roster = ScopedRoster  # a district in the shape the map stage reads (``model.base.RosterView``)


def roster(
    *records: User | Section,
    schools: Iterable[School] = (LINCOLN, WASHINGTON),
    bad_records: Iterable[RecordError] = (),
) -> Roster:
    users = [r for r in records if isinstance(r, User)]
    sections = [r for r in records if isinstance(r, Section)]
    return Roster(list(schools), users, sections, list(bad_records))


def student(clever_id: str, first: str = "Jess", last: str = "Datos", **fields: Any) -> User:
    fields.setdefault("school", LINCOLN.clever_id)
    return make_student(first, last, clever_id=clever_id, **fields)


def teacher(clever_id: str, first: str = "Maeve", last: str = "O'Brien", **fields: Any) -> User:
    fields.setdefault("school", LINCOLN.clever_id)
    return make_teacher(first, last, clever_id=clever_id, **fields)


def section(clever_id: str, name: str = "Math 7", **fields: Any) -> Section:
    fields.setdefault("school", LINCOLN.clever_id)
    return make_section(name, clever_id=clever_id, **fields)


def linked(clever_id: str, username: str, **fields: Any) -> CurrentUser:
    """An account the sync already linked to ``clever_id``."""
    values: dict[str, Any] = {
        "keycloak_id": f"kc-{clever_id}",
        "clever_id": clever_id,
        "username": username,
        "first_name": "Jess",
        "last_name": "Datos",
        "email": "",
        "enabled": True,
        "attributes": {},
    }
    return CurrentUser(**(values | fields))


def mapped(
    district: Roster,
    *,
    current: Iterable[CurrentUser] = (),
    accounts: Iterable[Account] | Callable[..., Iterable[Account]] = (),
    usernames: Iterable[str] = (),
    school_ids: Iterable[str] = (),
    resolutions: Mapping[str, str] | None = None,
    refused_emails: Mapping[str, str] | None = None,
    hold: Iterable[str] = (),
    **options: Any,
) -> Mapped:
    """``desired_state`` of ``district`` with the defaults of a first run on an empty realm."""
    current_users = {c.clever_id: c for c in current}
    return desired_state(
        district,
        MapInput(
            options=SyncOptions(**options),
            current_users=current_users,
            accounts=accounts if callable(accounts) else list(accounts),
            usernames=set(usernames) | {c.username for c in current_users.values()},
            school_ids=frozenset(school_ids),
            resolutions=resolutions or {},
            refused_emails=refused_emails or {},
            hold=frozenset(hold),
        ),
    )


def user(result: Mapped, clever_id: str) -> UserSpec:
    return result.desired.users[clever_id]


def skipped(result: Mapped) -> dict[str, str]:
    """Clever id -> the plain-words reason its record was skipped."""
    return {e.clever_id: str(e) for e in result.skipped}


# --- The group tree ------------------------------------------------------------------------------


def test_each_chosen_school_gets_a_group_under_clever_with_its_role_groups() -> None:
    groups = mapped(roster()).desired.groups
    school = groups[f"school:{LINCOLN.clever_id}"]
    assert (groups["root"].name, groups["root"].parent) == ("Clever", None)
    assert (school.name, school.parent, school.kind) == ("Lincoln Elementary", "root", "school")
    assert school.attributes["clever_id"] == (LINCOLN.clever_id,)
    children = {g.name: g for g in groups.values() if g.parent == school.key}
    assert sorted(children) == ["Classes", "Parents", "Staff", "Students", "Teachers"]
    assert children["Students"].key == f"school:{LINCOLN.clever_id}:students"
    assert children["Students"].attributes["clever_realm_role"] == ("clever-student",)
    assert children["Teachers"].attributes["clever_realm_role"] == ("clever-teacher",)
    assert "clever_realm_role" not in children["Classes"].attributes


def test_two_schools_of_one_name_get_distinct_group_names() -> None:
    twin = make_school("Lincoln Elementary", clever_id="5f00000000000000000000b7")
    result = mapped(roster(schools=(LINCOLN, twin)))
    assert result.desired.groups[f"school:{LINCOLN.clever_id}"].name == "Lincoln Elementary"
    assert result.desired.groups[f"school:{twin.clever_id}"].name == "Lincoln Elementary (0000b7)"
    assert any("2 schools named 'Lincoln Elementary'" in w for w in result.warnings)


def test_a_section_becomes_a_class_group_under_its_schools_classes() -> None:
    math = section("5f0000000000000000000c01", "Math 7", teachers=("t1",), students=("s1",))
    result = mapped(roster(teacher("t1"), student("s1"), math))
    group = result.desired.groups["section:5f0000000000000000000c01"]
    assert (group.name, group.kind) == ("Math 7", "class")
    assert group.parent == f"school:{LINCOLN.clever_id}:classes"
    assert group.attributes["clever_id"] == ("5f0000000000000000000c01",)
    assert group.attributes["clever_name"] == ("Math 7",)


def test_a_class_group_lists_its_teachers_once_each() -> None:
    math = section("c1", teachers=("t1", "t2"))  # Clever names t1 as ``teacher`` and in ``teachers``
    assert (math.teacher, math.teachers) == ("t1", ("t1", "t2"))
    result = mapped(roster(teacher("t1"), teacher("t2", "Ana", "Reyes"), math))
    assert result.desired.groups["section:c1"].attributes["clever_teachers"] == ("t1", "t2")


def test_namesake_sections_of_one_school_keep_apart_with_an_id_suffix_when_unique_names_are_off() -> None:
    first = section("5f0000000000000000000c01", "Math 7")
    later = section("5f0000000000000000000c02", "math 7")
    result = mapped(roster(first, later), force_unique_class_names=False)
    assert result.desired.groups["section:5f0000000000000000000c01"].name == "Math 7"
    assert result.desired.groups["section:5f0000000000000000000c02"].name == "math 7 (000c02)"
    assert any("2 sections named 'Math 7'" in w for w in result.warnings)


def test_namesake_sections_of_different_schools_keep_their_plain_names() -> None:
    here = section("c1", "Math 7")
    there = section("c2", "Math 7", school=WASHINGTON.clever_id)
    result = mapped(roster(here, there), force_unique_class_names=False)
    assert result.desired.groups["section:c1"].name == "Math 7"
    assert result.desired.groups["section:c2"].name == "Math 7"
    assert result.desired.groups["section:c2"].parent == f"school:{WASHINGTON.clever_id}:classes"
    assert result.warnings == []


def test_force_unique_class_names_appends_the_section_id_to_every_class() -> None:
    result = mapped(roster(section("c1", "Math 7"), section("c2", "Art")), force_unique_class_names=True)
    assert result.desired.groups["section:c1"].name == "Math 7 - c1"
    assert result.desired.groups["section:c2"].name == "Art - c2"


# --- People and their specs ----------------------------------------------------------------------


def test_a_student_gets_a_spec_with_username_names_email_groups_and_attributes() -> None:
    jess = student("s1", email="jess.datos@example.org", grade="7", sis_id="1001")
    math = section("c1", students=("s1",))
    spec = user(mapped(roster(jess, math)), "s1")
    assert (spec.kind, spec.username) == ("students", "jess.datos")
    assert (spec.first_name, spec.last_name, spec.email) == ("Jess", "Datos", "jess.datos@example.org")
    assert spec.groups == ("school:5f00000000000000000000a1:students", "section:c1")
    assert spec.attributes["clever_id"] == ("s1",)
    assert spec.attributes["clever_role"] == ("student",)
    assert spec.attributes["clever_school_ids"] == (LINCOLN.clever_id,)
    assert spec.attributes["clever_grade"] == ("7",)
    assert spec.attributes["clever_sis_id"] == ("1001",)
    assert spec.matched_keycloak_id == ""


def test_a_teacher_is_in_the_teachers_group_and_the_classes_they_teach() -> None:
    math = section("c1", teachers=("t1",))
    spec = user(mapped(roster(teacher("t1"), math)), "t1")
    assert spec.kind == "teachers"
    assert spec.groups == (f"school:{LINCOLN.clever_id}:teachers", "section:c1")
    assert spec.attributes["clever_role"] == ("teacher",)


def test_a_person_with_two_roles_is_in_both_role_groups_and_of_the_higher_kind() -> None:
    both = make_user(
        roles=(Role.STAFF, Role.TEACHER), clever_id="t1", schools=(LINCOLN.clever_id,), email="m@x.org"
    )
    spec = user(mapped(roster(both)), "t1")
    assert spec.kind == "teachers"
    assert spec.groups == (f"school:{LINCOLN.clever_id}:staff", f"school:{LINCOLN.clever_id}:teachers")
    assert spec.attributes["clever_roles"] == ("teacher", "staff")


def test_a_person_in_two_schools_is_in_the_role_group_of_each() -> None:
    jess = student("s1", schools=(LINCOLN.clever_id, WASHINGTON.clever_id))
    spec = user(mapped(roster(jess)), "s1")
    assert spec.groups == (
        f"school:{LINCOLN.clever_id}:students",
        f"school:{WASHINGTON.clever_id}:students",
    )
    assert spec.attributes["clever_school_ids"] == (LINCOLN.clever_id, WASHINGTON.clever_id)


def test_a_district_admin_without_schools_is_reported_as_a_district_admin_in_no_school_group() -> None:
    admin = make_user(roles=(Role.DISTRICT_ADMIN,), clever_id="da1", first_name="Dana", last_name="Boss")
    spec = user(mapped(roster(admin), school_ids={LINCOLN.clever_id}), "da1")
    assert spec.kind == "district_admins"
    assert spec.groups == ()
    assert spec.attributes["clever_role"] == ("district_admin",)


def test_a_staff_member_is_in_the_staff_group() -> None:
    spec = user(mapped(roster(make_staff(clever_id="st1", school=LINCOLN.clever_id))), "st1")
    assert (spec.kind, spec.groups) == ("staff", (f"school:{LINCOLN.clever_id}:staff",))


# --- Usernames for new accounts ------------------------------------------------------------------


def test_a_new_username_is_the_district_username_before_the_email() -> None:
    jess = student("s1", district_username="JDatos", email="jess.datos@example.org")
    assert user(mapped(roster(jess)), "s1").username == "jdatos"


def test_a_person_without_district_username_or_email_is_named_by_clever_id() -> None:
    assert user(mapped(roster(student("5F00AB"))), "5F00AB").username == "clever-5f00ab"


def test_two_new_people_whose_usernames_collide_get_distinct_ones() -> None:
    one = student("5f0000000000000000000101", email="jdatos@a.org")
    two = student("5f0000000000000000000102", "Jessie", email="JDatos@b.org")
    result = mapped(roster(one, two))
    assert user(result, "5f0000000000000000000101").username == "jdatos"
    assert user(result, "5f0000000000000000000102").username == "jdatos-000102"


def test_a_new_username_avoids_a_realm_username_whatever_its_case() -> None:
    jess = student("5f0000000000000000000101", email="jdatos@a.org")
    result = mapped(roster(jess), usernames={"JDatos"})
    assert user(result, "5f0000000000000000000101").username == "jdatos-000101"


def test_a_new_username_avoids_the_username_of_a_linked_account() -> None:
    old = student("5f0000000000000000000109", email="x@a.org")
    new = student("5f0000000000000000000101", "Jessie", email="jdatos@a.org")
    result = mapped(roster(old, new), current=[linked(old.clever_id, "jdatos")])
    assert user(result, old.clever_id).username == "jdatos"
    assert user(result, new.clever_id).username == "jdatos-000101"


def test_a_linked_account_keeps_its_username_when_the_clever_email_changes() -> None:
    jess = student("s1", email="new.address@example.org")
    result = mapped(roster(jess), current=[linked("s1", "old.address")])
    assert user(result, "s1").username == "old.address"


# --- Names ---------------------------------------------------------------------------------------


def test_a_students_preferred_first_name_is_shown_and_the_legal_one_kept() -> None:
    jess = student("s1", "Jessica", preferred_first_name="Jess")
    spec = user(mapped(roster(jess), use_preferred_names=True), "s1")
    assert spec.first_name == "Jess"
    assert spec.attributes["clever_legal_first_name"] == ("Jessica",)


def test_the_legal_first_name_is_shown_when_preferred_names_are_off() -> None:
    jess = student("s1", "Jessica", preferred_first_name="Jess")
    spec = user(mapped(roster(jess), use_preferred_names=False), "s1")
    assert spec.first_name == "Jessica"
    assert "clever_legal_first_name" not in spec.attributes


def test_a_preferred_name_equal_to_the_legal_one_adds_nothing() -> None:
    spec = user(mapped(roster(student("s1", "Jess", preferred_first_name="Jess"))), "s1")
    assert spec.first_name == "Jess"
    assert "clever_legal_first_name" not in spec.attributes


def test_a_preferred_name_applies_to_students_only() -> None:
    maeve = teacher("t1", "Margaret", preferred_first_name="Maeve")
    assert user(mapped(roster(maeve)), "t1").first_name == "Margaret"


def test_a_name_too_long_for_keycloak_is_cut_and_kept_whole_with_a_warning() -> None:
    long_last = "D" * 300
    result = mapped(roster(student("s1", last=long_last)))
    spec = user(result, "s1")
    assert spec.last_name == "D" * 255
    assert spec.attributes["clever_last_name"] == (long_last,)
    assert any(w.startswith("s1: the last name (300 characters)") for w in result.warnings)


# --- Records skipped, others kept ----------------------------------------------------------------


def test_a_person_without_a_name_is_skipped_in_plain_words_and_the_others_kept() -> None:
    nameless = student("s1", "", " ")
    result = mapped(roster(nameless, student("s2")))
    assert skipped(result) == {"s1": "no name"}
    assert result.skipped[0].kind == "users"
    assert list(result.desired.users) == ["s2"]
    assert "s1" in result.desired.present  # an account they have is not disabled


def test_a_record_clever_sent_broken_gets_no_spec_and_its_account_is_left_untouched() -> None:
    broken = RecordError("roles.student.grade: not text", kind="users", clever_id="s1")
    result = mapped(roster(student("s2"), bad_records=[broken]))
    assert list(result.desired.users) == ["s2"]
    assert "s1" in result.desired.present
    assert result.desired.untouched == {"s1"}


class StreamingRoster(ScopedRoster):
    """A roster as Clever's client reads it: a broken record is known only once the users stream
    has passed it (``connectors.clever``: ``bad_records`` grows while it streams)."""

    def __init__(self, *args: Any, broken_while_streaming: RecordError, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.late = broken_while_streaming

    def users(self, role: Any = None) -> Iterator[User]:
        yield from self.users_
        self.bad_records.append(self.late)


def test_a_record_found_broken_while_the_users_stream_is_left_untouched_too() -> None:
    broken = RecordError("name.last: not valid text", kind="users", clever_id="s1")
    streaming = StreamingRoster([LINCOLN, WASHINGTON], [student("s2")], [], broken_while_streaming=broken)
    result = mapped(streaming)
    assert list(result.desired.users) == ["s2"]
    assert "s1" in result.desired.present  # still in Clever: an account they have is not disabled
    assert result.desired.untouched == {"s1"}


def test_a_broken_record_of_another_kind_touches_no_account() -> None:
    broken = RecordError("bad section", kind="sections", clever_id="c1")
    result = mapped(roster(student("s2"), bad_records=[broken]))
    assert result.desired.untouched == frozenset()


def test_a_person_in_no_school_of_the_district_is_skipped_with_the_school_and_their_sections() -> None:
    lost = student("s1", school=OUT_OF_DISTRICT)
    result = mapped(roster(lost, section("c1", students=("s1",))))
    assert skipped(result) == {
        "s1": f"in no school of the district's roster (school {OUT_OF_DISTRICT} is not in the district); "
        "left out of section c1"
    }
    assert "s1" not in result.desired.users
    assert "s1" in result.desired.present


def test_a_person_clever_sends_without_schools_is_skipped_saying_so() -> None:
    lost = make_user(roles=(Role.TEACHER,), clever_id="t1")
    assert skipped(mapped(roster(lost))) == {
        "t1": "in no school of the district's roster (Clever sends none)"
    }


def test_a_section_member_missing_from_the_roster_is_named_and_dropped_from_the_teachers() -> None:
    math = section("c1", teachers=("t1", "ghost"), students=("s1",))
    result = mapped(roster(teacher("t1"), student("s1"), math))
    assert skipped(result) == {
        "ghost": "section c1 names user ghost, who is not in the roster (membership skipped)"
    }
    assert result.skipped[0].kind == "sections"
    assert result.desired.groups["section:c1"].attributes["clever_teachers"] == ("t1",)


# --- Scope: the chosen schools -------------------------------------------------------------------


def test_people_and_sections_outside_the_chosen_schools_get_nothing_but_stay_present() -> None:
    there = student("s2", school=WASHINGTON.clever_id)
    result = mapped(
        roster(student("s1"), there, section("c2", school=WASHINGTON.clever_id, students=("s2",))),
        school_ids={LINCOLN.clever_id},
    )
    assert list(result.desired.users) == ["s1"]
    assert "s2" in result.desired.present  # narrowing the scope disables nobody
    assert f"school:{WASHINGTON.clever_id}" not in result.desired.groups
    assert "section:c2" not in result.desired.groups
    assert result.skipped == []


def test_a_person_in_a_chosen_and_another_school_is_placed_in_the_chosen_one_only() -> None:
    jess = student("s1", schools=(WASHINGTON.clever_id, LINCOLN.clever_id))
    spec = user(mapped(roster(jess), school_ids={LINCOLN.clever_id}), "s1")
    assert spec.groups == (f"school:{LINCOLN.clever_id}:students",)
    assert spec.attributes["clever_school_ids"] == (LINCOLN.clever_id,)


def test_out_of_scope_members_of_a_chosen_section_are_counted_in_one_warning() -> None:
    there = student("s2", school=WASHINGTON.clever_id)
    math = section("c1", students=("s1", "s2"))
    result = mapped(roster(student("s1"), there, math), school_ids={LINCOLN.clever_id})
    assert user(result, "s1").groups == (f"school:{LINCOLN.clever_id}:students", "section:c1")
    assert "1 people named in sections are not in the roster's scope (memberships skipped)" in result.warnings


# --- Sync Parent Data ----------------------------------------------------------------------------


def anne(students: Iterable[str] = ("s1",), **fields: Any) -> User:
    return make_contact("Anne Marie Smith", clever_id="p1", students=students, **fields)


def test_contacts_get_no_spec_when_sync_parent_data_is_off() -> None:
    result = mapped(roster(student("s1"), anne()), sync_parent_data=False)
    assert list(result.desired.users) == ["s1"]
    assert "clever_relationships" not in user(result, "s1").attributes
    assert result.contacts_off == {"p1"}


def test_a_contacts_own_login_account_is_kept_when_sync_parent_data_is_off() -> None:
    own = linked("p1", "anne")  # made at a Clever login: no relationships
    result = mapped(roster(student("s1"), anne()), current=[own], sync_parent_data=False)
    assert "p1" in result.desired.present


def test_a_parent_account_the_sync_made_is_let_go_when_sync_parent_data_is_turned_off() -> None:
    made = linked("p1", "anne.smith", attributes={"clever_relationships": ("s1|Parent|Parent/Guardian",)})
    result = mapped(roster(student("s1"), anne()), current=[made], sync_parent_data=False)
    assert "p1" not in result.desired.present
    assert "p1" not in result.desired.users


def test_a_contact_becomes_a_parent_with_a_split_name_and_relationships_on_both_sides() -> None:
    result = mapped(roster(student("s1"), anne()), sync_parent_data=True)
    parent = user(result, "p1")
    assert (parent.kind, parent.username) == ("parents", "anne.smith")
    assert (parent.first_name, parent.last_name) == ("Anne Marie", "Smith")
    assert parent.email == "anne.smith@example.org"
    assert parent.groups == (f"school:{LINCOLN.clever_id}:parents",)
    assert parent.attributes["clever_relationships"] == ("s1|Parent|Parent/Guardian",)
    assert parent.attributes["clever_school_ids"] == (LINCOLN.clever_id,)
    assert user(result, "s1").attributes["clever_relationships"] == ("p1|Parent|Parent/Guardian",)


def test_a_parent_is_in_the_parents_group_of_each_of_their_students_schools() -> None:
    there = student("s2", school=WASHINGTON.clever_id)
    result = mapped(roster(student("s1"), there, anne(students=("s1", "s2"))), sync_parent_data=True)
    assert user(result, "p1").groups == (
        f"school:{LINCOLN.clever_id}:parents",
        f"school:{WASHINGTON.clever_id}:parents",
    )


def test_a_parent_of_students_outside_the_chosen_schools_is_skipped() -> None:
    there = student("s2", school=WASHINGTON.clever_id)
    result = mapped(
        roster(student("s1"), there, anne(students=("s2",))),
        school_ids={LINCOLN.clever_id},
        sync_parent_data=True,
    )
    assert "p1" not in result.desired.users
    assert skipped(result) == {"p1": "no student in scope"}
    assert "p1" in result.desired.present


def test_a_contact_without_an_email_is_skipped_and_the_other_parents_kept() -> None:
    other = make_contact("Bo Lund", clever_id="p2", students=("s1",), email="bo@example.org")
    result = mapped(roster(student("s1"), anne(email=""), other), sync_parent_data=True)
    assert skipped(result) == {"p1": "no email"}
    assert result.skipped[0].kind == "parents"
    assert sorted(result.desired.users) == ["p2", "s1"]


def test_a_teacher_who_is_also_a_contact_is_synced_as_a_teacher_only() -> None:
    both = make_user(roles=(Role.TEACHER, Role.CONTACT), clever_id="t1", schools=(LINCOLN.clever_id,))
    spec = user(mapped(roster(both), sync_parent_data=True), "t1")
    assert spec.kind == "teachers"
    assert spec.groups == (f"school:{LINCOLN.clever_id}:teachers",)


# --- Match Users By Name -------------------------------------------------------------------------


def test_match_by_name_adopts_a_privilege_free_account_of_the_same_name() -> None:
    existing = make_account("Maeve", "O'Brien", keycloak_id="kc-maeve", username="mobrien.old")
    result = mapped(roster(teacher("t1", email="m@x.org")), accounts=[existing], usernames={"mobrien.old"})
    spec = user(result, "t1")
    assert (spec.username, spec.matched_keycloak_id) == ("mobrien.old", "kc-maeve")
    assert result.linked_by_name == {"t1": "kc-maeve"}


def test_match_by_name_off_makes_a_new_account_beside_a_namesake() -> None:
    existing = make_account("Jess", "Datos", keycloak_id="kc-jess", username="jess")
    result = mapped(
        roster(student("s1", email="jess@x.org")),
        accounts=[existing],
        usernames={"jess"},
        match_users_by_name=False,
    )
    spec = user(result, "s1")
    assert (spec.username, spec.matched_keycloak_id) == ("jess-s1", "")
    assert result.linked_by_name == {}


def test_an_admins_account_of_the_same_name_holds_the_person_and_is_never_offered() -> None:
    admin = make_account("Maeve", "O'Brien", keycloak_id="kc-admin", username="mobrien", is_admin=True)
    result = mapped(roster(teacher("t1", email="m@x.org")), accounts=[admin], usernames={"mobrien"})
    (refused,) = result.match.waiting["refused-link"]
    assert (refused.clever_id, refused.keycloak_ids) == ("t1", ())
    assert [(c.keycloak_id, c.linkable) for c in refused.candidates] == [("kc-admin", False)]
    assert "t1" not in result.desired.users and result.held == {"t1": "teachers"}
    assert result.linked_by_name == {}


def test_a_student_waits_beside_an_account_not_known_as_a_student_account() -> None:
    plain = make_account("Jess", "Datos", keycloak_id="kc-jess")
    result = mapped(roster(student("s1")), accounts=[plain])
    (possible,) = result.match.waiting["possible-match"]
    assert (possible.clever_id, possible.keycloak_ids) == ("s1", ("kc-jess",))
    assert result.held == {"s1": "students"} and "s1" in result.desired.present
    assert result.waiting_people["s1"] == {
        "name": "Jess Datos",
        "roles": ["student"],
        "schools": ["Lincoln Elementary"],
        "grade": "",
        "title": "",
        "sis_id": "",
    }


def test_two_accounts_of_the_persons_name_hold_the_person_for_review() -> None:
    one = make_account("Maeve", "O'Brien", keycloak_id="kc-1", username="mobrien1")
    two = make_account("Maeve", "O'Brien", keycloak_id="kc-2", username="mobrien2")
    result = mapped(roster(teacher("t1"), teacher("t2", "Bo", "Lund")), accounts=[one, two])
    assert [(a.clever_ids, a.keycloak_ids) for a in result.match.ambiguous] == [(("t1",), ("kc-1", "kc-2"))]
    assert "t1" not in result.desired.users
    assert result.held == {"t1": "teachers"}
    assert "t1" in result.desired.present  # held, not disabled
    assert "t2" in result.desired.users


def test_two_people_of_one_name_and_one_account_link_neither() -> None:
    account = make_account("Maeve", "O'Brien", keycloak_id="kc-1", username="mobrien")
    result = mapped(roster(teacher("t1"), teacher("t2")), accounts=[account])
    assert [a.clever_ids for a in result.match.ambiguous] == [("t1", "t2")]
    assert result.held == {"t1": "teachers", "t2": "teachers"}
    assert result.desired.users == {}


def test_a_person_an_admin_answered_leaves_a_shared_ambiguity_the_other_stays() -> None:
    account = make_account("Maeve", "O'Brien", keycloak_id="kc-1", username="mobrien")
    result = mapped(roster(teacher("t1"), teacher("t2")), accounts=[account], resolutions={"t1": "kc-1"})
    assert user(result, "t1").matched_keycloak_id == "kc-1"
    assert [a.clever_ids for a in result.match.ambiguous] == [("t2",)]
    assert result.held == {"t2": "teachers"} and result.match.by_admin == {"t1"}


def test_an_admins_choice_of_candidate_links_the_held_person() -> None:
    one = make_account("Jess", "Datos", keycloak_id="kc-1", username="jdatos1")
    two = make_account("Jess", "Datos", keycloak_id="kc-2", username="jdatos2")
    result = mapped(roster(student("s1")), accounts=[one, two], resolutions={"s1": "kc-2"})
    assert result.match.ambiguous == []
    assert user(result, "s1").matched_keycloak_id == "kc-2"
    assert result.resolved == {"s1"} and result.match.by_admin == {"s1"}


def test_an_admins_confirmation_of_a_possible_match_links_it() -> None:
    near = make_account("Jose", "Garcia Lopez", keycloak_id="kc-1")
    result = mapped(
        roster(student("s1", "José", "García-López")), accounts=[near], resolutions={"s1": "kc-1"}
    )
    assert user(result, "s1").matched_keycloak_id == "kc-1"
    assert result.match.waiting["possible-match"] == [] and result.held == {}


def test_an_admins_choice_to_create_makes_a_new_account_for_the_held_person() -> None:
    one = make_account("Jess", "Datos", keycloak_id="kc-1", username="jdatos1")
    two = make_account("Jess", "Datos", keycloak_id="kc-2", username="jdatos2")
    jess = student("s1", email="jess@x.org")
    result = mapped(roster(jess), accounts=[one, two], resolutions={"s1": CREATE})
    spec = user(result, "s1")
    assert (spec.username, spec.matched_keycloak_id) == ("jess", "")


def test_an_admins_choice_that_is_no_candidate_any_more_is_a_warning_and_the_person_stays_held() -> None:
    one = make_account("Jess", "Datos", keycloak_id="kc-1", username="jdatos1")
    two = make_account("Jess", "Datos", keycloak_id="kc-2", username="jdatos2")
    result = mapped(roster(student("s1")), accounts=[one, two], resolutions={"s1": "kc-gone"})
    assert result.held == {"s1": "students"}
    assert any(w.startswith("s1: the chosen account kc-gone is not one of") for w in result.warnings)


def test_the_realms_accounts_are_not_read_when_everybody_has_an_account() -> None:
    def accounts(*args: object, **kwargs: object) -> list[Account]:
        raise AssertionError("accounts read although nobody is new")

    result = mapped(roster(student("s1")), current=[linked("s1", "jdatos")], accounts=accounts)
    assert user(result, "s1").username == "jdatos"


def test_the_realms_accounts_are_read_through_the_callable_when_somebody_is_new() -> None:
    existing = make_account("Maeve", "O'Brien", keycloak_id="kc-maeve", username="mobrien")
    near = make_account("Maeve", "OBrien", keycloak_id="kc-near", username="mobrien2")
    asked: list[str] = []

    def accounts(wanted: Callable[[Account], bool]) -> list[Account]:
        asked.extend(a.keycloak_id for a in (existing, near) if wanted(a))
        return [a for a in (existing, near) if wanted(a)]

    assert user(mapped(roster(teacher("t1")), accounts=accounts), "t1").matched_keycloak_id == "kc-maeve"
    assert asked == ["kc-maeve", "kc-near"]  # near names are read too: they may be possible matches


def test_a_person_put_on_hold_gets_no_spec_and_is_not_disabled() -> None:
    result = mapped(roster(student("s1"), student("s2", "Bo")), hold=["s1"])
    assert list(result.desired.users) == ["s2"]
    assert result.held == {"s1": "students"}
    assert "s1" in result.desired.present


# --- Emails --------------------------------------------------------------------------------------


def test_an_email_keycloak_refused_before_is_not_offered_again() -> None:
    jess = student("s1", email="shared@example.org")
    result = mapped(roster(jess), refused_emails={"s1": "shared@example.org"})
    assert user(result, "s1").email == ""


def test_a_new_email_after_a_refused_one_is_offered() -> None:
    jess = student("s1", email="jess@example.org")
    result = mapped(roster(jess), refused_emails={"s1": "shared@example.org"})
    assert user(result, "s1").email == "jess@example.org"


# --- The two halves: read_roster then map_people --------------------------------------------------


def test_read_roster_then_map_people_give_what_desired_state_gives() -> None:
    district = roster(student("s1", email="jess@x.org"), teacher("t1"), section("c1", teachers=("t1",)))
    options = SyncOptions()
    read = read_roster(district, options)
    halves = map_people(read, MapInput(options=options))
    whole = mapped(district)
    assert halves.desired.users == whole.desired.users
    assert halves.desired.groups == whole.desired.groups


# --- Two bugs found while writing these tests, fixed --------------------------------------------


def test_a_preferred_name_over_an_empty_legal_one_writes_no_empty_attribute() -> None:
    spec = user(mapped(roster(student("s1", "", "Datos", preferred_first_name="Jess"))), "s1")
    assert spec.first_name == "Jess"
    assert {name: values for name, values in spec.attributes.items() if "" in values} == {}


def test_a_skipped_section_member_is_not_also_counted_as_out_of_scope() -> None:
    math = section("c1", students=("s1", "s2"))
    result = mapped(roster(student("s1", "", ""), student("s2"), math))
    assert skipped(result) == {"s1": "no name"}
    assert result.warnings == []
