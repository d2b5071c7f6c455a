"""The group tree and the ``clever_*`` attributes of a user."""

from __future__ import annotations

import pytest

from mappers.layout import CLEVER_ATTRIBUTES, primary_role, relationship_value, user_attributes
from model.records import Role
from tests.factories import DISTRICT_ID, make_contact, make_student, make_teacher, make_user
from tests.group_paths import class_path, classes_path, role_group, role_path, root_path, school_path

# --- the group tree (tests.group_paths: the paths tests look groups up by) -----------------------


def test_the_tree_starts_at_clever() -> None:
    assert root_path() == "/Clever"


def test_a_school_group_sits_under_clever() -> None:
    assert school_path("Lincoln Elementary") == "/Clever/Lincoln Elementary"


@pytest.mark.parametrize(
    ("role", "group"),
    [
        (Role.STUDENT, "Students"),
        (Role.TEACHER, "Teachers"),
        (Role.STAFF, "Staff"),
        (Role.CONTACT, "Parents"),
    ],
)
def test_each_role_has_its_group_in_a_school(role: Role, group: str) -> None:
    assert role_group(role) == group
    assert role_path("Lincoln", role) == f"/Clever/Lincoln/{group}"


def test_district_admins_have_no_school_group() -> None:
    with pytest.raises(ValueError, match="district_admin"):
        role_group(Role.DISTRICT_ADMIN)


def test_a_class_group_sits_under_the_schools_classes() -> None:
    assert classes_path("Lincoln") == "/Clever/Lincoln/Classes"
    assert class_path("Lincoln", "Math 7 - 5f0000000000000000012345") == (
        "/Clever/Lincoln/Classes/Math 7 - 5f0000000000000000012345"
    )


def test_a_slash_stays_in_the_names_of_the_path() -> None:
    # Keycloak 26.5 finds "/Clever/K-8 / Annex/..." by path (tests/integration/test_hard_classes.py)
    assert class_path("K-8 / Annex", "Math 7/8") == "/Clever/K-8 / Annex/Classes/Math 7/8"


# --- primary role --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "primary"),
    [
        ({Role.STUDENT}, Role.STUDENT),
        ({Role.TEACHER, Role.STAFF}, Role.TEACHER),
        ({Role.STAFF, Role.DISTRICT_ADMIN}, Role.DISTRICT_ADMIN),
        ({Role.STUDENT, Role.CONTACT}, Role.STUDENT),
        ({Role.STAFF, Role.STUDENT}, Role.STAFF),
        (set(), None),
    ],
)
def test_the_primary_role_is_the_most_privileged(roles: set[Role], primary: Role | None) -> None:
    assert primary_role(roles) == primary


# --- user attributes -----------------------------------------------------------------------------


def test_a_students_attributes_carry_their_clever_data() -> None:
    student = make_student(
        school="5f00000000000000005c0001",
        sis_id="S-1",
        student_number="1001",
        state_id="ST-9",
        grade="7",
        graduation_year="2030",
    )

    assert user_attributes(student) == {
        "clever_id": [student.clever_id],
        "clever_role": ["student"],
        "clever_roles": ["student"],
        "clever_district": [DISTRICT_ID],
        "clever_school_ids": ["5f00000000000000005c0001"],
        "clever_sis_id": ["S-1"],
        "clever_student_number": ["1001"],
        "clever_state_id": ["ST-9"],
        "clever_grade": ["7"],
        "clever_graduation_year": ["2030"],
    }


def test_empty_values_are_left_out() -> None:
    attributes = user_attributes(make_teacher())

    assert all(values and all(values) for values in attributes.values())
    assert "clever_sis_id" not in attributes


def test_every_attribute_written_is_declared_in_the_user_profile() -> None:
    person = make_user(
        roles=(Role.TEACHER, Role.STAFF),
        sis_id="x",
        teacher_number="t",
        staff_id="s",
        title="Dr",
        phone="1",
        phone_type="Cell",
    )

    assert set(user_attributes(person, relationships=[("a", "b", "c")])) <= set(CLEVER_ATTRIBUTES)


def test_a_person_with_several_roles_lists_all_and_names_the_primary() -> None:
    person = make_user(roles=(Role.STAFF, Role.TEACHER))

    attributes = user_attributes(person)

    assert attributes["clever_roles"] == ["teacher", "staff"]
    assert attributes["clever_role"] == ["teacher"]


def test_a_teacher_of_several_schools_lists_them_all_primary_first() -> None:
    teacher = make_teacher(schools=("5f000000000000000000bbbb", "5f000000000000000000aaaa"))

    assert user_attributes(teacher)["clever_school_ids"] == [
        "5f000000000000000000bbbb",
        "5f000000000000000000aaaa",
    ]


def test_a_parents_schools_and_relationships_are_given_by_the_caller() -> None:
    contact = make_contact(phone="555-0100", phone_type="Home")

    attributes = user_attributes(
        contact,
        relationships=[("5f0000000000000000000aaa", "Parent", "Parent/Guardian")],
        school_ids=["5f00000000000000005c0001"],
    )

    assert attributes["clever_school_ids"] == ["5f00000000000000005c0001"]
    assert attributes["clever_relationships"] == ["5f0000000000000000000aaa|Parent|Parent/Guardian"]
    assert (attributes["clever_phone"], attributes["clever_phone_type"]) == (["555-0100"], ["Home"])
    assert attributes["clever_role"] == ["contact"]


def test_a_relationship_value_keeps_a_type_with_a_slash_readable() -> None:
    assert relationship_value("5f01", "", "Parent/Guardian").split("|") == ["5f01", "", "Parent/Guardian"]
