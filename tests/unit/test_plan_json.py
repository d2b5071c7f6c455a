"""A shard's part of the plan survives the trip through JSON (RQ jobs are JSON only)."""

from __future__ import annotations

import json

from connectors.state import GroupSpec, Membership, Plan, UserSpec, UserUpdate
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
