"""A Plan and its group specs as JSON and back: what a scale-out shard job carries (``plugin.runs.queues``).

RQ jobs are JSON only, so the part of the plan a shard applies travels as plain lists and dicts;
``plan_from_json(plan_to_json(plan)) == plan``. Attribute values come back as tuples, as the
mappers make them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from model.state import Attributes, GroupSpec, Membership, Plan, UserSpec, UserUpdate


def plan_to_json(plan: Plan) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(asdict(plan))
    return plain


def groups_to_json(groups: Mapping[str, GroupSpec]) -> dict[str, Any]:
    return {key: _plain(asdict(spec)) for key, spec in groups.items()}


def _plain(value: Any) -> Any:
    """``asdict``'s output with every mapping a dict (a person's ``PackedAttributes`` is copied
    as it is by ``asdict``, and JSON takes dicts only)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(item) for item in value)
    return value


def _attributes(raw: Mapping[str, Any]) -> Attributes:
    return {name: tuple(values) for name, values in raw.items()}


def _group(raw: Mapping[str, Any]) -> GroupSpec:
    return GroupSpec(**{**raw, "attributes": _attributes(raw.get("attributes", {}))})


def _user(raw: Mapping[str, Any]) -> UserSpec:
    return UserSpec(**{**raw, "attributes": _attributes(raw["attributes"]), "groups": tuple(raw["groups"])})


def _update(raw: Mapping[str, Any]) -> UserUpdate:
    return UserUpdate(**{**raw, "attributes": _attributes(raw.get("attributes", {}))})


def groups_from_json(raw: Mapping[str, Any]) -> dict[str, GroupSpec]:
    return {key: _group(spec) for key, spec in raw.items()}


def plan_from_json(raw: Mapping[str, Any]) -> Plan:
    return Plan(
        create_groups=tuple(_group(g) for g in raw.get("create_groups", ())),
        update_groups=tuple((str(i), _group(g)) for i, g in raw.get("update_groups", ())),
        create_users=tuple(_user(u) for u in raw.get("create_users", ())),
        update_users=tuple(_update(u) for u in raw.get("update_users", ())),
        add_members=tuple(Membership(**m) for m in raw.get("add_members", ())),
        remove_members=tuple(Membership(**m) for m in raw.get("remove_members", ())),
        disable_users=tuple(_update(u) for u in raw.get("disable_users", ())),
        retire_groups=tuple((str(i), _group(g)) for i, g in raw.get("retire_groups", ())),
    )
