"""The brake and the preview an admin reviews: a run that would disable or remove too much is held.

A run that would disable or remove more than ``options.brake_ratio`` (default 10%) of any kind
(students, teachers, staff, parents, classes, memberships) stops before writing, "held" with its
``preview`` (Clever ids, never names); approving runs it again with the brake released.
"""

from __future__ import annotations

from typing import Any

from plugin.plan import DirectoryState, Plan, user_kind


def brake_reasons(plan: Plan, current: DirectoryState, ratio: float) -> list[str]:
    """Why the plan is held: kinds whose disables/removals exceed ``ratio`` of what exists."""
    reasons: list[str] = []
    totals: dict[str, int] = {}
    for user in current.users.values():
        if user.enabled:
            kind = user_kind(user.attributes)
            totals[kind] = totals.get(kind, 0) + 1
    disabled: dict[str, int] = {}
    for update in plan.disable_users:
        disabled[update.kind] = disabled.get(update.kind, 0) + 1
    checks = [(kind, count, totals.get(kind, 0)) for kind, count in sorted(disabled.items())]
    classes = sum(
        1
        for key, g in current.groups.items()
        if key.startswith("section:") and "clever_removed_at" not in g.attributes
    )
    checks.append(("classes", len(plan.retire_groups), classes))
    members = sum(len(ids) for ids in current.members.values()) + sum(current.settled.values())
    checks.append(("memberships", len(plan.remove_members), members))
    for kind, count, total in checks:
        if count and total and count / total > ratio:
            reasons.append(f"{count} of {total} {kind} would be disabled or removed (over {ratio:.0%})")
    return reasons


def brake_from_totals(plan: Plan, totals: dict[str, int], ratio: float) -> list[str]:
    """``brake_reasons`` for an incremental run: against the totals the last full run saved."""
    counts: dict[str, int] = {}
    for update in plan.disable_users:
        counts[update.kind] = counts.get(update.kind, 0) + 1
    counts["classes"] = len(plan.retire_groups)
    counts["memberships"] = len(plan.remove_members)
    return [
        f"{count} of {totals[kind]} {kind} would be disabled or removed (over {ratio:.0%})"
        for kind, count in sorted(counts.items())
        if count and totals.get(kind) and count / totals[kind] > ratio
    ]


def preview(plan: Plan, ldap_plan: Any) -> dict[str, Any]:
    """A short picture of the plan for a held run or a dry run (Clever ids, never names)."""
    return {
        "keycloak": {
            "create_groups": len(plan.create_groups),
            "update_groups": len(plan.update_groups),
            "create_users": len(plan.create_users),
            "update_users": len(plan.update_users),
            "add_members": len(plan.add_members),
            "remove_members": len(plan.remove_members),
            "disable_users": len(plan.disable_users),
            "retire_groups": len(plan.retire_groups),
            "disable_sample": [u.clever_id for u in plan.disable_users[:50]],
        },
        "ldap": {
            "create": len(ldap_plan.create),
            "rename": len(ldap_plan.rename),
            "add_members": sum(len(m) for _, m in ldap_plan.add_members),
            "remove_members": sum(len(m) for _, m in ldap_plan.remove_members),
        },
    }
