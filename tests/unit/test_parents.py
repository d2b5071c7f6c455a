"""Sync Parent Data: contacts → parents, skipped contacts with reasons, relationships both ways."""

from __future__ import annotations

import pytest

from mappers.parents import (
    contact_name,
    parents_of,
    relationships_of_parent,
    relationships_of_student,
    split_full_name,
)
from model.records import StudentRelationship
from tests.factories import make_contact, make_student

SCHOOL = "5f00000000000000005c0001"
OTHER_SCHOOL = "5f00000000000000005c0002"


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full_name", "first", "last"),
    [
        ("Anne Marie Smith", "Anne Marie", "Smith"),
        ("Anne Smith", "Anne", "Smith"),
        ("Smith", "", "Smith"),
        ("  Anne   Smith ", "Anne", "Smith"),
        ("Maria de la Cruz", "Maria", "de la Cruz"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("John Smith Jr.", "John", "Smith Jr."),
        ("Smith, Anne Marie", "Anne Marie", "Smith"),
        ("", "", ""),
    ],
)
def test_a_full_name_is_split_into_first_and_last(full_name: str, first: str, last: str) -> None:
    assert split_full_name(full_name) == (first, last)


def test_a_contact_with_only_a_last_name_field_gets_it_split() -> None:
    assert contact_name(make_contact("Anne Marie Smith")) == ("Anne Marie", "Smith")


def test_a_contact_with_a_first_name_keeps_clever_names_as_they_are() -> None:
    contact = make_contact("Smith Jones", first_name="Anne")

    assert contact_name(contact) == ("Anne", "Smith Jones")


# --- parents -------------------------------------------------------------------------------------


def test_a_contact_of_a_student_in_scope_becomes_a_parent() -> None:
    student = make_student(school=SCHOOL)
    contact = make_contact(
        "Anne Marie Smith", students=[student.clever_id], phone="555-0100", phone_type="Cell"
    )

    plan = parents_of([contact], {student.clever_id: (SCHOOL,)})

    assert plan.skipped == ()
    [parent] = plan.parents
    assert (parent.clever_id, parent.first_name, parent.last_name) == (
        contact.clever_id,
        "Anne Marie",
        "Smith",
    )
    assert (parent.email, parent.phone, parent.phone_type) == ("anne.smith@example.org", "555-0100", "Cell")
    assert parent.relationships == (StudentRelationship(student.clever_id, "Parent", "Parent/Guardian"),)
    assert parent.school_ids == (SCHOOL,)


def test_a_contact_without_email_is_skipped_with_the_reason() -> None:
    student = make_student()
    contact = make_contact(students=[student.clever_id], email="")

    plan = parents_of([contact], {student.clever_id: (SCHOOL,)})

    assert plan.parents == ()
    assert [(s.clever_id, s.reason) for s in plan.skipped] == [(contact.clever_id, "no email")]


def test_a_contact_with_a_malformed_email_is_skipped() -> None:
    student = make_student()
    contact = make_contact(students=[student.clever_id], email="anne at example.org")

    plan = parents_of([contact], {student.clever_id: (SCHOOL,)})

    assert [s.reason for s in plan.skipped] == ["invalid email"]


def test_a_contact_whose_students_are_all_out_of_scope_is_skipped() -> None:
    outside = make_student(school=OTHER_SCHOOL)
    contact = make_contact(students=[outside.clever_id])

    plan = parents_of([contact], {make_student().clever_id: (SCHOOL,)})

    assert [(s.clever_id, s.reason) for s in plan.skipped] == [(contact.clever_id, "no student in scope")]


def test_a_contact_without_students_is_skipped() -> None:
    plan = parents_of([make_contact(students=[])], {})

    assert [s.reason for s in plan.skipped] == ["no student in scope"]


def test_a_contact_without_any_name_is_skipped() -> None:
    student = make_student()
    contact = make_contact("", students=[student.clever_id])

    plan = parents_of([contact], {student.clever_id: (SCHOOL,)})

    assert [s.reason for s in plan.skipped] == ["no name"]


def test_a_contact_with_a_one_word_name_becomes_a_parent_with_a_last_name_only() -> None:
    student = make_student()
    contact = make_contact("Okonkwo", students=[student.clever_id])

    [parent] = parents_of([contact], {student.clever_id: (SCHOOL,)}).parents

    assert (parent.first_name, parent.last_name) == ("", "Okonkwo")


def test_only_relationships_with_students_in_scope_are_kept() -> None:
    inside, outside = make_student(school=SCHOOL), make_student(school=OTHER_SCHOOL)
    contact = make_contact(students=[inside.clever_id, outside.clever_id])

    [parent] = parents_of([contact], {inside.clever_id: (SCHOOL,)}).parents

    assert parent.student_ids == (inside.clever_id,)
    assert parent.school_ids == (SCHOOL,)


def test_a_parent_of_children_in_two_schools_belongs_to_both() -> None:
    a, b = make_student(school=SCHOOL), make_student(school=OTHER_SCHOOL)
    contact = make_contact(students=[b.clever_id, a.clever_id])

    [parent] = parents_of([contact], {a.clever_id: (SCHOOL,), b.clever_id: (OTHER_SCHOOL,)}).parents

    assert parent.school_ids == (SCHOOL, OTHER_SCHOOL)


def test_a_repeated_relationship_is_kept_once() -> None:
    student = make_student()
    line = StudentRelationship(student.clever_id, "Parent", "Family")
    contact = make_contact(relationships=(line, line))

    [parent] = parents_of([contact], {student.clever_id: (SCHOOL,)}).parents

    assert parent.relationships == (line,)


def test_parents_and_skipped_come_in_clever_id_order() -> None:
    student = make_student()
    contacts = [make_contact(students=[student.clever_id]) for _ in range(3)]
    contacts += [make_contact(students=[student.clever_id], email="") for _ in range(2)]

    plan = parents_of(reversed(contacts), {student.clever_id: (SCHOOL,)})

    assert [p.clever_id for p in plan.parents] == sorted(c.clever_id for c in contacts[:3])
    assert [s.clever_id for s in plan.skipped] == sorted(c.clever_id for c in contacts[3:])


def test_email_is_trimmed() -> None:
    student = make_student()
    contact = make_contact(students=[student.clever_id], email="  anne@example.org ")

    [parent] = parents_of([contact], {student.clever_id: (SCHOOL,)}).parents

    assert parent.email == "anne@example.org"


# --- relationships on both sides -----------------------------------------------------------------


def test_a_relationship_is_recorded_on_the_parent_side() -> None:
    student = make_student()
    contact = make_contact(students=[student.clever_id], relationship="Grandparent", type="Emergency")

    [parent] = parents_of([contact], {student.clever_id: (SCHOOL,)}).parents

    assert relationships_of_parent(parent) == ((student.clever_id, "Grandparent", "Emergency"),)


def test_a_relationship_is_recorded_on_the_student_side() -> None:
    student = make_student()
    mother = make_contact("Ana Datos", students=[student.clever_id], relationship="Parent", type="Family")
    aunt = make_contact("Eva Datos", students=[student.clever_id], relationship="Aunt", type="Emergency")

    plan = parents_of([aunt, mother], {student.clever_id: (SCHOOL,)})

    assert relationships_of_student(plan.parents) == {
        student.clever_id: (
            (mother.clever_id, "Parent", "Family"),
            (aunt.clever_id, "Aunt", "Emergency"),
        )
    }


def test_skipped_contacts_leave_no_relationship_on_the_student() -> None:
    student = make_student()
    contact = make_contact(students=[student.clever_id], email="")

    plan = parents_of([contact], {student.clever_id: (SCHOOL,)})

    assert relationships_of_student(plan.parents) == {}
