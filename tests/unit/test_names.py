"""Match Users By Name (deny by default, possible matches, unlinked people) and usernames for new
accounts."""

from __future__ import annotations

from typing import Any

import pytest

from mappers.names import Scope, clean_username, match_by_name, username_candidates, username_for
from model.state import Account
from model.text import normalize_name
from tests.factories import make_account, make_contact, make_staff, make_student, make_teacher

# --- normalize_name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("José López‑García", "jose lopez-garcia"),  # accents, non-breaking hyphen
        ("Maeve O’Brien", "Maeve O'Brien"),  # curly apostrophe
        ("Maeve O‘Brien", "maeve o'brien"),
        ("Maeve Oʼbrien", "MAEVE O'BRIEN"),  # modifier letter apostrophe
        ("Maeve O`Brien", "Maeve O'Brien"),  # backtick
        ("Maeve O´Brien", "Maeve O'Brien"),  # acute accent, which NFKC would make a space
        ("Anna Smith–Jones", "anna smith-jones"),  # en dash
        ("Anna Smith—Jones", "anna smith-jones"),  # em dash
        ("Anna Smith−Jones", "anna smith-jones"),  # minus sign
        ("Anna Smith‐Jones", "anna smith-jones"),  # hyphen U+2010
        ("Anna Smith‒Jones", "anna smith-jones"),  # figure dash
        ("  Mary   Ann\tLee ", "mary ann lee"),  # trimming, collapsing
        ("Ｊｅｓｓ", "jess"),  # full-width letters (NFKC)
        ("Straße", "STRASSE"),  # case folding, not lower()
        ("Zoë Ångström", "zoe angstrom"),
        ("Jose\u0301", "josé"),  # decomposed accent
    ],
)
def test_spellings_of_one_name_normalize_alike(written: str, stored: str) -> None:
    assert normalize_name(written) == normalize_name(stored)


def test_normalized_name_is_plain_lower_case_text() -> None:
    assert normalize_name("  José  López‑García ") == "jose lopez-garcia"


def test_different_names_stay_different() -> None:
    assert normalize_name("Jess Datos") != normalize_name("Jessie Datos")


def test_non_latin_names_survive_normalization() -> None:
    assert normalize_name("김민준") == "김민준"
    assert normalize_name("Алёна") == "алена"


# --- match_by_name: links ------------------------------------------------------------------------
# Most name rules are shown with teachers: a Clever student is matched only to an account known as
# a student account (``STUDENT_PLACE`` below), which the student rules further down show.

STUDENT_PLACE = Scope({"student": ("ou=students,dc=x",)})


def student_account(first: str = "Jess", last: str = "Datos", **fields: Any) -> Account:
    """An LDAP account where ``STUDENT_PLACE`` keeps students."""
    uid = f"{first}{last}".lower().replace(" ", "")
    return make_account(first, last, source="ldap", ldap_dn=f"uid={uid},ou=students,dc=x", **fields)


def test_one_person_and_one_account_of_the_same_name_are_linked() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos")

    result = match_by_name([teacher], [account])

    assert result.linked == {teacher.clever_id: account}
    assert (result.unmatched, result.ambiguous, result.refused, result.possible) == ((), (), (), ())


def test_accents_and_case_do_not_prevent_a_link() -> None:
    teacher = make_teacher("José", "López‑García")
    account = make_account("JOSE", "lopez-garcia")

    assert match_by_name([teacher], [account]).linked == {teacher.clever_id: account}


def test_curly_and_straight_apostrophes_match() -> None:
    teacher = make_teacher("Maeve", "O’Brien")
    account = make_account("Maeve", "O'Brien", source="ldap", ldap_dn="uid=mobrien,ou=people,dc=x")

    assert match_by_name([teacher], [account]).linked == {teacher.clever_id: account}


def test_accounts_from_every_source_can_be_linked() -> None:
    people = [make_teacher("A", "One"), make_teacher("B", "Two"), make_teacher("C", "Three")]
    accounts = [
        make_account("A", "One", source="ldap"),
        make_account("B", "Two", source="google"),
        make_account("C", "Three", source="entra"),
    ]

    assert len(match_by_name(people, accounts).linked) == 3


def test_first_and_last_name_are_not_interchangeable() -> None:
    teacher = make_teacher("Jess", "Datos")

    result = match_by_name([teacher], [make_account("Datos", "Jess")])

    assert result.linked == {}
    assert result.unmatched == (teacher.clever_id,)


def test_a_person_nobody_matches_is_unmatched() -> None:
    teacher = make_teacher("Jess", "Datos")

    result = match_by_name([teacher], [make_account("Other", "Person")])

    assert result.unmatched == (teacher.clever_id,)


def test_a_read_only_ldap_account_is_still_linked() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos", source="ldap", read_only=True)

    assert match_by_name([teacher], [account]).linked == {teacher.clever_id: account}


# --- deny by default: what an account holds ------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "said"),
    [
        ("realm role staff", "holds realm role staff"),
        ("client role gradebook/superuser", "holds client role gradebook/superuser"),
        ("group /Teachers-Old", "is in group /Teachers-Old"),
    ],
)
def test_an_account_holding_more_than_the_defaults_is_refused_and_the_person_waits(
    held: str, said: str
) -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos", holds=(held,))

    result = match_by_name([teacher], [account])

    assert result.linked == {} and result.unmatched == ()
    (refused,) = result.refused
    assert (refused.clever_id, refused.keycloak_ids) == (teacher.clever_id, (account.keycloak_id,))
    assert said in refused.reason and refused.candidates[0].why == said
    assert result.waiting == {teacher.clever_id}


def test_the_realm_role_of_the_persons_own_clever_role_is_not_beyond_the_defaults() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos", holds=("realm role clever-teacher",))

    assert match_by_name([teacher], [account]).linked == {teacher.clever_id: account}


def test_a_scope_places_an_account_holding_more_in_the_persons_population() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account(
        "Jess", "Datos", source="ldap", ldap_dn="uid=jd,ou=teachers,dc=x", holds=("realm role teacher",)
    )

    assert match_by_name([teacher], [account]).linked == {}
    scope = Scope({"teacher": ("ou=teachers,dc=x",)})
    assert match_by_name([teacher], [account], scope).linked == {teacher.clever_id: account}


def test_an_admin_account_is_never_linked_nor_offered_and_the_person_waits() -> None:
    teacher = make_teacher("Pat", "Admin")
    admin = make_account("Pat", "Admin", is_admin=True)

    result = match_by_name([teacher], [admin])

    assert result.linked == {} and result.unmatched == ()
    (refused,) = result.refused
    assert (refused.clever_id, refused.keycloak_ids) == (teacher.clever_id, ())  # nothing to choose
    assert [(c.keycloak_id, c.linkable) for c in refused.candidates] == [(admin.keycloak_id, False)]
    assert "admin" in refused.reason


def test_a_disabled_account_is_never_linked() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos", enabled=False)

    result = match_by_name([teacher], [account])

    assert result.linked == {}
    assert "disabled" in result.refused[0].reason and not result.refused[0].candidates[0].linkable


def test_an_account_not_checked_for_privilege_is_never_linked() -> None:
    teacher = make_teacher("Jess", "Datos")

    result = match_by_name([teacher], [make_account("Jess", "Datos", vetted=False)])

    assert result.linked == {} and "checked for admin rights" in result.refused[0].reason


def test_names_the_user_can_edit_are_never_matched_by_name() -> None:
    teacher = make_teacher("Jess", "Datos")

    result = match_by_name([teacher], [make_account("Jess", "Datos", names_editable=True)])

    assert result.linked == {} and "its user can edit" in result.refused[0].reason


# --- deny by default: students -------------------------------------------------------------------


def test_a_student_is_never_matched_to_an_account_not_known_as_a_student_account() -> None:
    student = make_student("Jess", "Datos")
    account = make_account("Jess", "Datos")

    result = match_by_name([student], [account])

    assert result.linked == {} and result.unmatched == ()
    (possible,) = result.possible
    assert possible.keycloak_ids == (account.keycloak_id,)
    assert "not known as a student account" in possible.reason


def test_a_student_is_matched_to_an_account_a_student_scope_places() -> None:
    student = make_student("Jess", "Datos")
    account = student_account()

    assert match_by_name([student], [account], STUDENT_PLACE).linked == {student.clever_id: account}


def test_a_student_is_matched_to_an_account_holding_the_clever_student_role() -> None:
    student = make_student("Jess", "Datos")
    account = make_account(
        "Jess", "Datos", realm_roles=frozenset({"clever-student"}), holds=("realm role clever-student",)
    )

    assert match_by_name([student], [account]).linked == {student.clever_id: account}


def test_a_student_is_refused_an_account_holding_the_realm_role_staff() -> None:
    student = make_student("Jess", "Datos")
    staff = make_account("Jess", "Datos", holds=("realm role staff",))

    result = match_by_name([student], [staff])

    assert result.linked == {} and result.possible == ()
    assert "holds realm role staff" in result.refused[0].reason


# --- possible matches: near names, names another provider writes ---------------------------------


@pytest.mark.parametrize(
    ("clever", "realm"),
    [
        (("José", "García-López"), ("Jose", "Garcia Lopez")),
        (("Lee Ann", "Park"), ("Lee-Ann", "Park")),
        (("Maeve", "O'Brien"), ("Maeve", "OBrien")),
    ],
)
def test_a_name_equal_only_up_to_hyphens_spaces_and_apostrophes_is_a_possible_match(
    clever: tuple[str, str], realm: tuple[str, str]
) -> None:
    teacher = make_teacher(*clever)
    account = make_account(*realm)

    result = match_by_name([teacher], [account])

    assert result.linked == {} and result.unmatched == ()  # no second account
    (possible,) = result.possible
    assert (possible.clever_id, possible.keycloak_ids) == (teacher.clever_id, (account.keycloak_id,))
    assert "only in hyphens, spaces or apostrophes" in possible.candidates[0].why


def test_an_exact_name_wins_over_a_near_one() -> None:
    teacher = make_teacher("Lee Ann", "Park")
    exact, near = make_account("Lee Ann", "Park"), make_account("Lee-Ann", "Park")

    assert match_by_name([teacher], [near, exact]).linked == {teacher.clever_id: exact}


def test_two_near_accounts_are_ambiguous_and_listed() -> None:
    teacher = make_teacher("Lee Ann", "Park")
    near = [make_account("Lee-Ann", "Park"), make_account("LeeAnn", "Park")]

    result = match_by_name([teacher], near)

    assert result.linked == {} and result.unmatched == ()
    assert set(result.ambiguous[0].keycloak_ids) == {a.keycloak_id for a in near}


def test_an_account_whose_names_another_provider_rewrites_waits_until_the_district_runs_them() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos", source="google", names_from=("google",))

    result = match_by_name([teacher], [account])

    assert result.linked == {} and "identity provider google" in result.possible[0].reason
    run_by_district = Scope(admin_run_names=frozenset({"google"}))
    assert match_by_name([teacher], [account], run_by_district).linked == {teacher.clever_id: account}


# --- unlinked people -----------------------------------------------------------------------------


def test_a_person_whose_account_was_unlinked_waits_with_it_and_gets_no_new_account() -> None:
    teacher = make_teacher("Jess", "Datos")
    unlinked = make_account("Jess", "Datos", carried_clever_id=teacher.clever_id)

    result = match_by_name([teacher], [unlinked])

    assert result.linked == {} and result.unmatched == ()
    (held,) = result.unlinked
    assert (held.clever_id, held.keycloak_ids) == (teacher.clever_id, (unlinked.keycloak_id,))


def test_an_account_carrying_another_persons_clever_id_is_nobody_elses() -> None:
    owner, namesake = make_teacher("Jess", "Datos"), make_teacher("Jess", "Datos")
    unlinked = make_account("Jess", "Datos", carried_clever_id=owner.clever_id)

    result = match_by_name([namesake], [unlinked])

    assert result.linked == {} and result.unmatched == (namesake.clever_id,)
    assert "carries Clever id" in result.passed_over[0].reason


# --- match_by_name: ambiguity --------------------------------------------------------------------


def test_two_people_of_one_name_and_one_account_are_ambiguous() -> None:
    first, second = make_teacher("Jess", "Datos"), make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos")

    result = match_by_name([second, first], [account])

    assert result.linked == {}
    assert len(result.ambiguous) == 1
    assert result.ambiguous[0].clever_ids == (first.clever_id, second.clever_id)
    assert result.ambiguous[0].keycloak_ids == (account.keycloak_id,)
    assert "2 Clever people" in result.ambiguous[0].reason


def test_one_person_and_two_accounts_of_one_name_are_ambiguous() -> None:
    teacher = make_teacher("Jess", "Datos")
    accounts = [make_account("Jess", "Datos", source="ldap"), make_account("JESS", "datos", source="google")]

    result = match_by_name([teacher], accounts)

    assert result.linked == {}
    assert result.ambiguous[0].clever_ids == (teacher.clever_id,)
    assert set(result.ambiguous[0].keycloak_ids) == {a.keycloak_id for a in accounts}
    assert "2 accounts" in result.ambiguous[0].reason


def test_an_ambiguous_name_does_not_stop_other_links() -> None:
    jess1, jess2, kim = (
        make_teacher("Jess", "Datos"),
        make_teacher("Jess", "Datos"),
        make_teacher("Kim", "Lee"),
    )
    kim_account = make_account("Kim", "Lee")

    result = match_by_name([jess1, jess2, kim], [make_account("Jess", "Datos"), kim_account])

    assert result.linked == {kim.clever_id: kim_account}
    assert len(result.ambiguous) == 1


def test_reasons_never_contain_names() -> None:
    people = [make_student("Jess", "Datos"), make_student("Jess", "Datos"), make_teacher("Kim", "Lee")]
    people += [make_teacher("Lee Ann", "Park"), make_student("Bo", "Lund")]
    accounts = [make_account("Jess", "Datos"), make_account("Kim", "Lee", is_admin=True)]
    accounts += [make_account("Lee-Ann", "Park"), make_account("Bo", "Lund")]

    result = match_by_name(people, accounts)

    held = [*result.refused, *result.possible]
    reasons = [a.reason for a in result.ambiguous] + [h.reason for h in held]
    reasons += [c.why for h in [*result.ambiguous, *held] for c in h.candidates]
    assert len(held) == 3
    names = ("Jess", "Datos", "Kim", "Lee", "Ann", "Park", "Bo", "Lund")
    assert not any(name in reason for reason in reasons for name in names)


def test_a_namesake_beside_an_admin_is_not_unique_and_the_admin_is_never_offered() -> None:
    teacher = make_teacher("Jess", "Datos")
    ordinary = make_account("Jess", "Datos")
    admin = make_account("Jess", "Datos", is_admin=True)

    result = match_by_name([teacher], [admin, ordinary])

    assert result.linked == {}
    assert [(a.clever_ids, a.keycloak_ids) for a in result.ambiguous] == [
        ((teacher.clever_id,), (ordinary.keycloak_id,))
    ]
    assert {c.keycloak_id: c.linkable for c in result.ambiguous[0].candidates} == {
        admin.keycloak_id: False,
        ordinary.keycloak_id: True,
    }


# --- out of place: somebody else's, a new account is made ----------------------------------------


def test_an_account_linked_to_another_clever_id_is_never_linked() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos", linked_clever_id="5f00000000000000000000ff")

    result = match_by_name([teacher], [account])

    assert result.linked == {} and result.unmatched == (teacher.clever_id,)
    assert "5f00000000000000000000ff" in result.passed_over[0].reason


def test_a_student_never_matches_an_account_holding_a_staff_clever_role() -> None:
    student = make_student("Jess", "Datos")
    staff = make_account("Jess", "Datos", realm_roles=frozenset({"clever-staff", "offline_access"}))

    result = match_by_name([student], [staff])

    assert result.linked == {} and "clever-staff" in result.passed_over[0].reason


def test_an_account_where_the_district_keeps_staff_is_not_a_students() -> None:
    student = make_student("Jess", "Datos")
    staff = make_account("Jess", "Datos", source="ldap", ldap_dn="uid=j,ou=Staff, dc=x")
    scope = Scope({"staff": ("ou=staff,dc=x",)}, ldap_dn="dc=x")

    assert match_by_name([student], [staff], scope).linked == {}
    assert match_by_name([make_staff("Jess", "Datos")], [staff], scope).linked != {}


def test_an_ldap_account_outside_the_people_dn_is_out_of_scope() -> None:
    teacher = make_teacher("Jess", "Datos")
    outside = make_account("Jess", "Datos", source="ldap", ldap_dn="uid=j,ou=other,dc=x")

    result = match_by_name([teacher], [outside], Scope(ldap_dn="ou=people,dc=x"))

    assert result.linked == {} and "outside the synced directory" in result.passed_over[0].reason


def test_the_district_username_decides_before_names() -> None:
    teacher = make_teacher("Jess", "Datos", district_username="jd42")
    namesake = make_account("Jess", "Datos")
    own = make_account("Jessica", "Datos-Reyes", username="jd42", source="ldap")

    assert match_by_name([teacher], [namesake, own]).linked == {teacher.clever_id: own}


def test_another_sis_id_on_the_account_makes_it_somebody_else() -> None:
    teacher = make_teacher("Jess", "Datos", sis_id="111")
    other = make_account("Jess", "Datos", strong_ids=(("clever_sis_id", "222"),))

    result = match_by_name([teacher], [other])

    assert result.linked == {} and "another clever_sis_id" in result.passed_over[0].reason


def test_an_account_already_linked_to_the_same_clever_id_is_linked_even_after_a_rename() -> None:
    student = make_student("Jessica", "Datos-Reyes")
    account = make_account("Jess", "Datos", linked_clever_id=student.clever_id)

    assert match_by_name([student], [account]).linked == {student.clever_id: account}


def test_a_disabled_account_already_linked_to_the_same_clever_id_is_linked_for_restore() -> None:
    student = make_student("Jess", "Datos")
    account = make_account("Jess", "Datos", linked_clever_id=student.clever_id, enabled=False)

    assert match_by_name([student], [account]).linked == {student.clever_id: account}


def test_an_account_linked_to_one_person_is_not_offered_to_a_namesake() -> None:
    owner, namesake = make_student("Jess", "Datos"), make_student("Jess", "Datos")
    account = make_account("Jess", "Datos", linked_clever_id=owner.clever_id)

    result = match_by_name([owner, namesake], [account])

    assert result.linked == {owner.clever_id: account}
    assert [r.clever_id for r in result.passed_over] == [namesake.clever_id]
    assert result.unmatched == (namesake.clever_id,)


def test_two_accounts_linked_to_one_clever_id_are_ambiguous() -> None:
    student = make_student("Jess", "Datos")
    accounts = [make_account(linked_clever_id=student.clever_id) for _ in range(2)]

    result = match_by_name([student], accounts)

    assert result.linked == {}
    assert "several accounts are linked" in result.ambiguous[0].reason


# --- match_by_name: people who never match -------------------------------------------------------


@pytest.mark.parametrize(("first", "last"), [("", "Datos"), ("Jess", ""), ("  ", "Datos")])
def test_a_person_without_first_or_last_name_never_matches(first: str, last: str) -> None:
    student = make_student(first, last)

    result = match_by_name([student], [make_account(first, last), make_account("Jess", "Datos")])

    assert result.linked == {}
    assert result.unmatched == (student.clever_id,)


def test_a_contact_with_the_whole_name_in_last_name_matches_the_account_s_first_last() -> None:
    contact = make_contact("Jess  de la Datos")
    account = make_account("Jess", "de la Datos")

    result = match_by_name([contact], [account])

    assert result.linked == {contact.clever_id: account}


def test_an_account_two_names_would_claim_is_ambiguous_not_linked() -> None:
    contact = make_contact("Jess Datos")
    teacher = make_teacher("Jess", "Datos")

    result = match_by_name([contact, teacher], [make_account("Jess", "Datos")])

    assert result.linked == {}
    assert {c for a in result.ambiguous for c in a.clever_ids} == {contact.clever_id, teacher.clever_id}


def test_a_contact_with_a_one_word_name_matches_nobody() -> None:
    contact = make_contact("Datos")

    result = match_by_name([contact], [make_account("", "Datos"), make_account("Jess", "Datos")])

    assert result.unmatched == (contact.clever_id,)


def test_an_account_without_a_name_matches_nobody() -> None:
    student = make_student("Jess", "Datos")

    result = match_by_name([student], [make_account("", "")])

    assert result.unmatched == (student.clever_id,)


# --- match_by_name: determinism ------------------------------------------------------------------


def test_the_result_does_not_depend_on_input_order() -> None:
    people = [make_student("Jess", "Datos"), make_student("Jess", "Datos"), make_teacher("Kim", "Lee")]
    people += [make_teacher("Ann", "Bo"), make_teacher("Zed", "Ng"), make_teacher("Lee Ann", "Park")]
    accounts = [make_account("Jess", "Datos"), make_account("Kim", "Lee"), make_account("Ann", "Bo")]
    accounts += [make_account("Ann", "Bo"), make_account("Zed", "Ng", is_admin=True)]
    accounts += [make_account("Lee-Ann", "Park")]

    forward = match_by_name(people, accounts)
    backward = match_by_name(reversed(people), reversed(accounts))

    assert forward == backward
    assert list(forward.linked) == sorted(forward.linked)


def test_a_person_listed_twice_is_matched_once() -> None:
    teacher = make_teacher("Jess", "Datos")
    account = make_account("Jess", "Datos")

    assert match_by_name([teacher, teacher], [account]).linked == {teacher.clever_id: account}


def test_the_result_is_immutable() -> None:
    result = match_by_name([], [])

    with pytest.raises(AttributeError):
        result.unmatched = ("x",)  # type: ignore[misc]


def test_account_defaults_describe_an_ordinary_local_account() -> None:
    account = Account(keycloak_id="k", username="u", first_name="F", last_name="L")

    assert (account.enabled, account.is_admin, account.source, account.read_only, account.holds) == (
        True,
        False,
        "local",
        False,
        (),
    )


# --- usernames -----------------------------------------------------------------------------------


def test_username_is_the_district_username() -> None:
    student = make_student(district_username="JDatos42", email="jess@example.org")

    assert username_for(student, set()) == "jdatos42"


def test_username_falls_back_to_the_email_local_part() -> None:
    student = make_student(email="Jess.Datos@example.org")

    assert username_for(student, set()) == "jess.datos"


def test_username_falls_back_to_the_clever_id() -> None:
    student = make_student()

    assert username_for(student, set()) == f"clever-{student.clever_id}"


def test_username_is_cleaned_to_keycloak_characters() -> None:
    assert clean_username("José O’Brien!") == "jose-obrien"
    assert clean_username(" a/b\\c ") == "a-b-c"


def test_a_username_shorter_than_keycloak_allows_is_not_used() -> None:
    student = make_student(district_username="jd", email="j@example.org")

    assert username_candidates(student) == [f"clever-{student.clever_id}"]


def test_a_taken_username_gets_the_end_of_the_clever_id() -> None:
    student = make_student(district_username="jdatos")

    assert username_for(student, {"jdatos"}) == f"jdatos-{student.clever_id[-6:]}"


def test_usernames_are_compared_in_lower_case() -> None:
    student = make_student(district_username="JDatos")

    assert username_for(student, lambda name: name == "jdatos") != "jdatos"


def test_when_the_short_suffix_is_taken_the_whole_clever_id_is_used() -> None:
    student = make_student(district_username="jdatos")
    taken = {"jdatos", f"jdatos-{student.clever_id[-6:]}"}

    assert username_for(student, taken) == f"jdatos-{student.clever_id}"


def test_when_every_id_suffix_is_taken_a_counter_is_used() -> None:
    student = make_student(district_username="jdatos")
    taken = {"jdatos", f"jdatos-{student.clever_id[-6:]}", f"jdatos-{student.clever_id}", "jdatos2"}

    assert username_for(student, taken) == "jdatos3"


def test_namesakes_get_distinct_usernames_in_either_order() -> None:
    a, b = make_student(district_username="jdatos"), make_student(district_username="jdatos")
    existing = {"jdatos"}

    assert username_for(a, existing) != username_for(b, existing)
    assert username_for(a, existing | {username_for(b, existing)}) == username_for(a, existing)
