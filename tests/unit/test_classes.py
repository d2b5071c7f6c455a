"""Force Unique Class Names, and names that make valid Keycloak groups and LDAP DNs."""

from __future__ import annotations

import pytest
from ldap3.utils.dn import parse_dn

from mappers.classes import (
    class_group_names,
    fits_group_name,
    group_name_safe,
    name_values,
    school_group_names,
    whole_name,
)
from model.records import Section
from model.text import ldap_rdn
from tests.factories import make_school, make_section

SCHOOL = "5f00000000000000005c0001"
OTHER_SCHOOL = "5f00000000000000005c0002"


def names_of(sections: list[Section], force_unique: bool) -> list[str]:
    """The group names of ``sections``, in the order given."""
    result = class_group_names(sections, force_unique)
    return [result.names[s.clever_id] for s in sections]


# --- Force Unique Class Names on -----------------------------------------------------------------


def test_on_a_class_is_named_by_section_name_and_clever_id() -> None:
    section = make_section("Classroom1", clever_id="5f0000000000000000012345")

    result = class_group_names([section], force_unique=True)

    assert result.names == {section.clever_id: "Classroom1 - 5f0000000000000000012345"}
    assert result.warnings == ()


def test_on_two_sections_of_one_name_never_collide_and_raise_no_warning() -> None:
    a, b = make_section("Math", school=SCHOOL), make_section("Math", school=SCHOOL)

    result = class_group_names([a, b], force_unique=True)

    assert result.names[a.clever_id] != result.names[b.clever_id]
    assert result.warnings == ()


def test_on_a_section_without_name_is_named_by_its_id_alone() -> None:
    section = make_section("   ")

    assert names_of([section], True) == [f"Section {section.clever_id}"]


def test_on_a_long_name_is_cut_and_keeps_the_whole_id() -> None:
    section = make_section("x" * 300)

    name = names_of([section], True)[0]

    assert fits_group_name(name) and len(name) < 300
    assert name.endswith(f"x - {section.clever_id}")


# --- Force Unique Class Names off ----------------------------------------------------------------


def test_off_a_class_is_named_by_section_name() -> None:
    section = make_section("Classroom1")

    assert class_group_names([section], force_unique=False).names == {section.clever_id: "Classroom1"}


def test_off_colliding_sections_get_separate_groups_the_oldest_keeps_the_name() -> None:
    older, newer = make_section("Math 7", school=SCHOOL), make_section("Math 7", school=SCHOOL)

    assert names_of([newer, older], False) == [f"Math 7 ({newer.clever_id[-6:]})", "Math 7"]


def test_off_a_collision_raises_a_warning_naming_school_name_and_sections() -> None:
    a, b = make_section("Math 7", school=SCHOOL), make_section("Math 7", school=SCHOOL)

    result = class_group_names([a, b], force_unique=False, school_names={SCHOOL: "Lincoln Elementary"})

    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "Lincoln Elementary" in warning and SCHOOL in warning and "'Math 7'" in warning
    assert a.clever_id in warning and b.clever_id in warning


def test_off_names_differing_only_in_case_accents_or_spaces_collide() -> None:
    sections = [
        make_section("Français 1", school=SCHOOL),
        make_section("francais  1", school=SCHOOL),
        make_section("FRANÇAIS 1 ", school=SCHOOL),
    ]

    names = names_of(sections, False)

    assert len({name.casefold() for name in names}) == 3
    assert names[0] == "Français 1"
    assert len(class_group_names(sections, False).warnings) == 1


def test_off_same_names_in_different_schools_do_not_collide() -> None:
    a, b = make_section("Math 7", school=SCHOOL), make_section("Math 7", school=OTHER_SCHOOL)

    result = class_group_names([a, b], force_unique=False)

    assert names_of([a, b], False) == ["Math 7", "Math 7"]
    assert result.warnings == ()


def test_off_a_new_colliding_section_does_not_rename_the_existing_groups() -> None:
    first, second = make_section("Art", school=SCHOOL), make_section("Art", school=SCHOOL)
    before = class_group_names([first, second], force_unique=False).names

    third = make_section("Art", school=SCHOOL)
    after = class_group_names([first, second, third], force_unique=False).names

    assert after[first.clever_id] == before[first.clever_id]
    assert after[second.clever_id] == before[second.clever_id]


def test_off_a_suffix_that_is_already_a_class_name_is_not_reused() -> None:
    a = make_section("Art", school=SCHOOL, clever_id="5f0000000000000000aaaaa1")
    b = make_section("Art", school=SCHOOL, clever_id="5f0000000000000000aaaaa2")
    squatter = make_section("Art (aaaaa2)", school=SCHOOL, clever_id="5f0000000000000000aaaaa3")

    names = names_of([a, b, squatter], False)

    assert names == ["Art", f"Art ({b.clever_id})", "Art (aaaaa2)"]


def test_off_the_names_do_not_depend_on_input_order() -> None:
    sections = [make_section("Art", school=SCHOOL) for _ in range(4)]

    forward = class_group_names(sections, force_unique=False)
    backward = class_group_names(list(reversed(sections)), force_unique=False)

    assert forward == backward


def test_off_a_section_without_name_is_section_and_its_id() -> None:
    section = make_section("")

    assert names_of([section], False) == [f"Section {section.clever_id}"]


def test_off_a_long_colliding_name_keeps_its_suffix() -> None:
    a, b = make_section("y" * 300, school=SCHOOL), make_section("y" * 300, school=SCHOOL)

    names = names_of([a, b], False)

    assert all(fits_group_name(n) for n in names)
    assert names[1].endswith(f" ({b.clever_id[-6:]})")


# --- names valid in Keycloak and LDAP ------------------------------------------------------------


def test_a_slash_stays_in_the_group_name_keycloak_takes_it() -> None:
    assert names_of([make_section("Math 7/8")], False) == ["Math 7/8"]


def test_a_leading_hash_and_commas_stay_in_the_group_name() -> None:
    assert names_of([make_section("#1 Band, Period 2")], False) == ["#1 Band, Period 2"]


def test_emoji_stay() -> None:
    assert names_of([make_section("Science 🔬 Lab 👩‍🔬")], False) == ["Science 🔬 Lab 👩‍🔬"]


def test_control_characters_and_edge_spaces_are_removed() -> None:
    assert group_name_safe("  Math\t7\n\x00Period\x1f2  ") == "Math 7 Period 2"


def test_invisible_bidi_controls_are_removed() -> None:
    assert group_name_safe("Art\u202e Class\u200b") == "Art Class"


def test_a_name_of_300_characters_is_cut_where_ldap_would_refuse_it() -> None:
    assert group_name_safe("z" * 300) == "z" * 240
    assert len(group_name_safe("中" * 100).encode()) <= 240  # three bytes a character
    assert group_name_safe("a, b" * 60) != "a, b" * 60  # escaped commas count: \, is two bytes


def test_a_cut_name_is_one_warning_and_the_whole_name_stays_in_parts() -> None:
    section = make_section("Advanced Placement " * 20)

    result = class_group_names([section], False)

    assert len(result.warnings) == 1 and section.clever_id in result.warnings[0]
    assert whole_name(name_values(section.name)) == section.name
    assert all(len(v) <= 255 for v in name_values(section.name))


def test_a_cut_does_not_leave_half_an_emoji() -> None:
    name = group_name_safe("a" * 232 + "👩‍🔬")

    assert not name.endswith("\u200d")


def test_a_trailing_tilde_is_replaced_because_keycloak_paths_escape_with_it() -> None:
    assert group_name_safe("Art~") == "Art∼"
    assert group_name_safe("Art~s") == "Art~s"


def test_an_empty_name_gets_the_fallback() -> None:
    assert group_name_safe(" \t", fallback="Section 1") == "Section 1"


def test_cleaning_is_idempotent() -> None:
    once = group_name_safe(" #a/b, c~ " + "d" * 300)

    assert group_name_safe(once) == once


@pytest.mark.parametrize(
    "name",
    ["#1 Band", "Smith, J - Math", "A+B=C", 'The "Best" <Class>;', " lead", "Math 7∕8", "Sci 🔬", "x\\y"],
)
def test_every_group_name_makes_a_valid_ldap_dn_that_reads_back_the_same(name: str) -> None:
    rdn = ldap_rdn(name)

    parsed = parse_dn(f"{rdn},ou=groups,dc=example,dc=org", escape=False)

    assert len(parsed) == 4
    assert parsed[0][0] == "cn"


def test_ldap_rdn_escapes_a_leading_hash_and_commas() -> None:
    assert ldap_rdn("#1 Band, Period 2") == "cn=\\#1 Band\\, Period 2"


# --- school group names --------------------------------------------------------------------------


def test_schools_are_named_by_their_cleaned_name() -> None:
    school = make_school("Lincoln K-8 / Annex")

    assert school_group_names([school]).names == {school.clever_id: "Lincoln K-8 / Annex"}


def test_two_schools_of_one_name_get_separate_groups_with_a_warning() -> None:
    a, b = make_school("Lincoln Elementary"), make_school("Lincoln Elementary")

    result = school_group_names([b, a])

    assert result.names == {
        a.clever_id: "Lincoln Elementary",
        b.clever_id: f"Lincoln Elementary ({b.clever_id[-6:]})",
    }
    assert len(result.warnings) == 1
