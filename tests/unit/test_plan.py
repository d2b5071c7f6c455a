"""The pure diff (``plugin.sync.plan.diff``) and the incremental fold of events: plain data in, plan out."""

from __future__ import annotations

import dataclasses

from model.records import Event, Role, Section, User
from model.state import (
    CurrentGroup,
    CurrentUser,
    DesiredState,
    DirectoryState,
    GroupSpec,
    Membership,
    UserSpec,
)
from plugin.sync.brake import brake_reasons
from plugin.sync.plan import diff
from plugin.sync.snapshot_events import fold

NOW = "2026-01-01T00:00:00+00:00"
CLASS = GroupSpec("section:s1", "Math", "school:a:classes", "class", {"clever_key": ("section:s1",)})
ROLE = GroupSpec("school:a:students", "Students", None, "role", {"clever_key": ("school:a:students",)})


def spec(clever_id: str = "c1", groups: tuple[str, ...] = ("section:s1",), **changes: object) -> UserSpec:
    values: dict[str, object] = {
        "clever_id": clever_id,
        "kind": "students",
        "username": clever_id,
        "first_name": "Jess",
        "last_name": "Datos",
        "email": "",
        "attributes": {"clever_id": (clever_id,), "clever_role": ("student",)},
        "groups": tuple(sorted(set(groups))),
    }
    values.update(changes)
    return UserSpec(**values)  # type: ignore[arg-type]


def account(clever_id: str = "c1", keycloak_id: str = "k1", **changes: object) -> CurrentUser:
    values: dict[str, object] = {
        "keycloak_id": keycloak_id,
        "clever_id": clever_id,
        "username": clever_id,
        "first_name": "Jess",
        "last_name": "Datos",
        "email": "",
        "enabled": True,
        "attributes": {"clever_id": (clever_id,), "clever_role": ("student",)},
    }
    values.update(changes)
    return CurrentUser(**values)  # type: ignore[arg-type]


def group(spec: GroupSpec, keycloak_id: str = "g1", **attributes: tuple[str, ...]) -> CurrentGroup:
    return CurrentGroup(keycloak_id, spec.key, spec.name, None, {**spec.attributes, **attributes})


def state(users: list[CurrentUser], members: dict[str, frozenset[str]]) -> DirectoryState:
    groups = {CLASS.key: group(CLASS), ROLE.key: group(ROLE, "g2")}
    return DirectoryState(groups, {u.clever_id: u for u in users}, members)


def desired(*users: UserSpec, present: tuple[str, ...] = ()) -> DesiredState:
    return DesiredState(
        {CLASS.key: CLASS, ROLE.key: ROLE},
        {u.clever_id: u for u in users},
        frozenset(present or [u.clever_id for u in users]),
    )


def test_nothing_changed_is_an_empty_plan() -> None:
    plan = diff(desired(spec()), state([account()], {CLASS.key: frozenset({"k1"})}), removed_at=NOW)
    assert plan.empty and plan.size() == 0


def test_a_new_person_is_one_create_carrying_their_groups() -> None:
    plan = diff(desired(spec("c2")), state([], {}), removed_at=NOW)
    assert [s.clever_id for s in plan.create_users] == ["c2"]
    assert plan.add_members == ()  # the groups travel in the create call


def test_a_changed_name_updates_only_that_field() -> None:
    plan = diff(
        desired(spec(last_name="Renamed")), state([account()], {CLASS.key: frozenset({"k1"})}), removed_at=NOW
    )
    assert len(plan.update_users) == 1
    assert plan.update_users[0].fields == {"lastName": "Renamed"}
    assert plan.update_users[0].attributes == {}


def test_an_email_fills_an_empty_address_but_never_replaces_one() -> None:
    filled = diff(
        desired(spec(email="a@x.org")), state([account()], {CLASS.key: frozenset({"k1"})}), removed_at=NOW
    )
    kept = diff(
        desired(spec(email="a@x.org")),
        state([account(email="own@x.org")], {CLASS.key: frozenset({"k1"})}),
        removed_at=NOW,
    )
    assert filled.update_users[0].fields == {"email": "a@x.org"}
    assert kept.empty


def test_values_in_another_order_are_the_same_values_and_other_values_are_written() -> None:
    """Keycloak keeps an attribute's values as a multiset (it ignores a write that only reorders
    them, and reads them back in the database's order): an order-only difference is no change."""
    schools = {"clever_id": ("c1",), "clever_role": ("student",), "clever_school_ids": ("a", "b")}
    swapped = {**schools, "clever_school_ids": ("b", "a")}
    members = {CLASS.key: frozenset({"k1"})}
    plan = diff(
        desired(spec(attributes=schools)), state([account(attributes=swapped)], members), removed_at=NOW
    )
    assert plan.empty
    more = {**schools, "clever_school_ids": ("b", "a", "c")}
    plan = diff(desired(spec(attributes=more)), state([account(attributes=swapped)], members), removed_at=NOW)
    assert [u.attributes for u in plan.update_users] == [{"clever_school_ids": ("b", "a", "c")}]
    teachers = GroupSpec(
        CLASS.key, CLASS.name, CLASS.parent, "class", {**CLASS.attributes, "clever_teachers": ("t1", "t2")}
    )
    current = state([], {})
    current.groups[CLASS.key] = group(CLASS, clever_teachers=("t2", "t1"))
    plan = diff(DesiredState({CLASS.key: teachers, ROLE.key: ROLE}, {}, frozenset()), current, removed_at=NOW)
    assert plan.update_groups == ()


def test_moving_between_groups_adds_and_removes_one_membership_each() -> None:
    plan = diff(
        desired(spec(groups=("school:a:students",))),
        state([account()], {CLASS.key: frozenset({"k1"})}),
        removed_at=NOW,
    )
    assert plan.add_members == (Membership("school:a:students", keycloak_id="k1"),)
    assert plan.remove_members == (Membership("section:s1", keycloak_id="k1"),)


def test_a_settled_group_is_neither_read_nor_diffed_and_counts_for_the_brake() -> None:
    # Settled: the last run's fingerprint of the group matched its wanted members, so its member
    # list was not read (here: left empty) and nothing is added to it or removed from it.
    current = state([account()], {CLASS.key: frozenset({"k1"})})
    settled = dataclasses.replace(current, members={}, settled={ROLE.key: 1, CLASS.key: 1})
    person = spec(groups=("section:s1", "school:a:students"))
    assert diff(desired(person), settled, removed_at=NOW).empty
    unsettled = dataclasses.replace(current, settled={CLASS.key: 1})
    assert diff(desired(person), unsettled, removed_at=NOW).add_members == (
        Membership("school:a:students", keycloak_id="k1"),
    )
    leaving = diff(desired(), dataclasses.replace(current, settled={ROLE.key: 3}), removed_at=NOW)
    assert brake_reasons(leaving, dataclasses.replace(current, settled={ROLE.key: 3}), 0.2) == [
        "1 of 1 students would be disabled or removed (over 20%)",
        "1 of 4 memberships would be disabled or removed (over 20%)",
    ]


def test_someone_gone_from_clever_is_disabled_and_loses_memberships() -> None:
    plan = diff(desired(), state([account()], {CLASS.key: frozenset({"k1"})}), removed_at=NOW)
    assert [(u.clever_id, dict(u.fields), dict(u.attributes)) for u in plan.disable_users] == [
        ("c1", {"enabled": False}, {"clever_removed_at": (NOW,)})
    ]
    assert plan.remove_members == (Membership("section:s1", keycloak_id="k1"),)


def test_someone_out_of_scope_but_present_is_not_disabled() -> None:
    plan = diff(desired(present=("c1",)), state([account()], {}), removed_at=NOW)
    assert plan.disable_users == ()


def test_a_returning_person_is_enabled_and_the_removal_mark_cleared() -> None:
    back = account(enabled=False, attributes={**account().attributes, "clever_removed_at": (NOW,)})
    plan = diff(desired(spec()), state([back], {CLASS.key: frozenset({"k1"})}), removed_at=NOW)
    assert plan.update_users[0].fields == {"enabled": True}
    assert plan.update_users[0].attributes == {"clever_removed_at": ()}


def test_a_renamed_section_renames_its_group_and_a_gone_one_is_retired() -> None:
    renamed = GroupSpec(CLASS.key, "Algebra", CLASS.parent, "class", CLASS.attributes)
    plan = diff(
        DesiredState({CLASS.key: renamed, ROLE.key: ROLE}, {}, frozenset()),
        state([], {}),
        removed_at=NOW,
    )
    assert [(gid, s.name) for gid, s in plan.update_groups] == [("g1", "Algebra")]
    retired = diff(DesiredState({ROLE.key: ROLE}, {}, frozenset()), state([], {}), removed_at=NOW)
    assert [gid for gid, _ in retired.retire_groups] == ["g1"]
    assert retired.retire_groups[0][1].attributes["clever_removed_at"] == (NOW,)


def test_a_person_matched_by_name_is_adopted_with_their_groups() -> None:
    plan = diff(desired(spec(matched_keycloak_id="k9")), state([], {}), removed_at=NOW)
    assert plan.create_users == ()
    assert plan.update_users[0].link and plan.update_users[0].linked_by_name
    assert plan.add_members == (Membership("section:s1", keycloak_id="k9"),)


def _event(event_id: str, type_: str, record: object, previous: tuple[str, ...] = ()) -> Event:
    return Event(event_id, type_, NOW, record, previous)  # type: ignore[arg-type]


def test_fold_keeps_the_last_event_of_each_record_and_notes_renames() -> None:
    student = User("u1", "d", first_name="A", roles=frozenset({Role.STUDENT}))
    section = Section("s1", "d", "a", "Math")
    changes = fold(
        [
            _event("e1", "users.created", student),
            _event("e2", "users.deleted", student),
            _event("e3", "sections.updated", section, ("name",)),
        ]
    )
    assert changes.users["u1"].action == "deleted"
    assert changes.renamed == {"s1"} and not changes.reason


def test_fold_asks_for_a_full_run_when_a_school_appears_and_follows_a_contacts_children() -> None:
    from model.records import School, StudentRelationship

    assert fold([_event("e1", "schools.created", School("a", "d", "New"))]).reason
    before = User("p1", "d", last_name="Parent", roles=frozenset({Role.CONTACT}))
    after = dataclasses.replace(before, student_relationships=(StudentRelationship("s2", "Parent", ""),))
    event = dataclasses.replace(_event("e1", "users.updated", after), previous=before)
    gone = User(
        "p2", "d", roles=frozenset({Role.CONTACT}), student_relationships=(StudentRelationship("s3"),)
    )
    changes = fold([event, _event("e2", "users.deleted", gone)])
    assert not changes.reason
    assert set(changes.users) == {"p1", "p2"}  # contacts are people too, whatever Sync Parent Data says
    assert changes.students_of == {"p1": {"s2"}, "p2": {"s3"}}


def _class_update(event_id: str, before: Section, **after: object) -> Event:
    changed = dataclasses.replace(before, **after)  # type: ignore[arg-type]
    return dataclasses.replace(_event(event_id, "sections.updated", changed, tuple(after)), previous=before)


def test_fold_decides_who_joined_or_left_a_class_over_all_its_events_or_lists_the_class() -> None:
    math = Section("s1", "d", "a", "Math", teacher="t1", teachers=("t1",), students=("u1", "u2"))
    art = Section("s2", "d", "a", "Art", students=("u3", "u4", "u5"))
    gone = User("u5", "d", roles=frozenset({Role.STUDENT}))
    changes = fold(
        [
            _class_update("e1", math, students=("u2",)),  # u1 left
            _class_update("e2", dataclasses.replace(math, students=("u2",)), students=("u2", "u9")),  # u9 in
            _class_update("e3", art, students=("u3", "u4")),  # u5 left: departed, decided already
            _event("e4", "users.deleted", gone),
            _event("e5", "sections.created", Section("s3", "d", "a", "New", students=("u7",))),
            _class_update("e6", Section("s4", "d", "a", "Gym", students=("u8",)), students=(), teacher="t2"),
        ]
    )
    # s1's two events together moved two people not decided otherwise: its whole list is read;
    # s2's only change is a departure; s4 moved u8 out and t2 in: two new people, listed too.
    assert changes.joined_or_left == {"s1": {"u1", "u9"}, "s2": {"u5"}, "s4": {"u8", "t2"}}
    assert changes.listed == {"s1", "s3", "s4"} and changes.movers == set()
    one = fold([_class_update("e1", art, students=("u3", "u4", "u5", "u6"))])  # u6 joined Art
    assert one.listed == set() and one.movers == {"u6"} and one.decided() == 1
    teacher = fold([_class_update("e1", math, teacher="t3", teachers=("t3",))])  # t1 out, t3 in
    assert teacher.listed == {"s1"}
