"""A shard's part of the plan survives the trip through JSON (RQ jobs are JSON only)."""

from __future__ import annotations

import json
from dataclasses import replace

from model.state import (
    GroupSpec,
    Membership,
    PackedAttributes,
    Plan,
    UserSpec,
    UserUpdate,
    user_fingerprint,
)
from plugin.sync.plan_json import groups_from_json, groups_to_json, plan_from_json, plan_to_json

SCHOOL = GroupSpec("school:s1", "Lincoln", "root", "school", {"clever_key": ("school:s1",)})
CLASS = GroupSpec("section:c1", "Math 1", "school:s1", "class", {"clever_id": ("c1",), "x": ("a", "b")})
STUDENT = UserSpec(
    clever_id="u1",
    kind="students",
    username="jess.datos",
    first_name="Jess",
    last_name="Datos",
    email="",
    attributes={"clever_id": ("u1",), "clever_school_ids": ("s1", "s2")},
    groups=("school:s1", "section:c1"),
    matched_keycloak_id="k9",
)
UPDATE = UserUpdate(
    "k2", "u2", "teachers", {"firstName": "Ana", "enabled": True}, {"clever_roles": ("t",)}, True
)


def test_a_plan_and_its_groups_come_back_equal_from_json() -> None:
    plan = Plan(
        create_groups=(SCHOOL,),
        update_groups=(("g1", CLASS),),
        create_users=(STUDENT,),
        update_users=(UPDATE,),
        add_members=(Membership("section:c1", clever_id="u1"),),
        remove_members=(Membership("section:c1", keycloak_id="k3"),),
        disable_users=(UserUpdate("k4", "u4", "students", {"enabled": False}),),
        retire_groups=(("g2", CLASS),),
    )
    groups = {SCHOOL.key: SCHOOL, CLASS.key: CLASS}
    plan_text, groups_text = json.dumps(plan_to_json(plan)), json.dumps(groups_to_json(groups))
    assert plan_from_json(json.loads(plan_text)) == plan
    assert groups_from_json(json.loads(groups_text)) == groups
    assert plan_from_json(plan_to_json(Plan())) == Plan()


def test_packed_attributes_read_as_the_dict_they_were_made_from() -> None:
    wanted = {"clever_id": ("u1",), "clever_school_ids": ("s1", "s2"), "clever_grade": ("9",)}
    packed = PackedAttributes(wanted)
    assert packed == wanted and dict(packed) == wanted and len(packed) == 3
    assert packed["clever_school_ids"] == ("s1", "s2") and packed.get("clever_title") is None
    assert "clever_grade" in packed and "clever_title" not in packed
    assert user_fingerprint("k1", packed, False) == user_fingerprint("k1", wanted, False)
    # Two people with the same names and value counts share one shape.
    assert PackedAttributes({**wanted, "clever_id": ("u2",)})._shape is packed._shape


def test_a_person_with_packed_attributes_travels_as_json() -> None:
    packed = replace(STUDENT, attributes=PackedAttributes(STUDENT.attributes))
    plan = Plan(create_users=(packed,))
    assert plan_from_json(json.loads(json.dumps(plan_to_json(plan)))) == plan
