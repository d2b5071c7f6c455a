"""The brake and the preview an admin reviews: a run that would disable, remove or rewrite too much
is held.

A run that would disable or remove more than ``options.brake_ratio`` (default 10%) of any kind
(students, teachers, staff, parents, classes, memberships), or *rewrite* more than
``options.brake_update_ratio`` (default 75%, as Clever's own hold) of the synced people of a kind,
stops before writing, "held" with its ``preview`` (Clever ids, never names); approving runs it
again with the brake released. A rewrite is an update of an account the sync already holds that
changes its name or one of its identifiers (``REWRITES``): what an SIS re-key does to every
record. Attribute-only changes (a new school year's grades) and first links by name are not
rewrites, and fewer than ``REWRITES_AT_LEAST`` (10) rewrites of a kind are corrections, never held.

Each share is taken of what the run could change, kind by kind: disables of the enabled accounts
(read-only directory accounts included: Keycloak takes their ``enabled``), rewrites of the enabled
accounts the sync may rename (read-only directory accounts, whose names come from the directory,
left out). So a realm where a fifth of the students are directory people holds a rename of 80% of
the others as it holds one in a realm without them. An incremental run uses the totals the last
full run saved, ``rewritable:<kind>`` among them (``rewritable_totals``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.state import DirectoryState, Plan, UserUpdate
from plugin.config.settings import SyncOptions
from plugin.sync.plan import current_kind
from plugin.sync.scope import Scope

REWRITES = frozenset(
    {
        "firstName",
        "lastName",
        "clever_sis_id",
        "clever_student_number",
        "clever_teacher_number",
        "clever_staff_id",
        "clever_state_id",
    }
)


def rewrites(plan: Plan) -> dict[str, int]:
    """Per kind, the updates that rewrite a synced account's name or identifiers."""
    counts: dict[str, int] = {}
    for update in plan.update_users:
        if _rewrite(update):
            counts[update.kind] = counts.get(update.kind, 0) + 1
    return counts


def _rewrite(update: UserUpdate) -> bool:
    if update.linked_by_name:
        return False
    changed = set(update.fields) | {name for name, values in update.attributes.items() if values}
    return bool(changed & REWRITES)


REWRITES_AT_LEAST = 10


REWRITABLE = "rewritable:"  # prefix of the saved totals of renameable accounts, by kind


def people_total(totals: Mapping[str, int]) -> int:
    """The district's people as the last full run counted them (its saved totals: every kind, the
    rewritable share of each aside, not classes or memberships)."""
    return sum(
        count
        for kind, count in totals.items()
        if kind not in ("classes", "memberships") and not kind.startswith(REWRITABLE)
    )


def rewritable_totals(totals: dict[str, int]) -> dict[str, int]:
    """The rewrite denominators among an incremental run's saved totals (a kind's whole total when
    a full run of an older version saved none)."""
    kinds = {kind: count for kind, count in totals.items() if not kind.startswith(REWRITABLE)}
    return {kind: totals.get(REWRITABLE + kind, count) for kind, count in kinds.items()}


def rewrite_reasons(counts: dict[str, int], totals: dict[str, int], ratio: float) -> list[str]:
    return [
        f"{count} of {totals[kind]} {kind} would have their names or identifiers rewritten (over {ratio:.0%})"
        for kind, count in sorted(counts.items())
        if count >= REWRITES_AT_LEAST and totals.get(kind) and count / totals[kind] > ratio
    ]


def brake_reasons(plan: Plan, current: DirectoryState, ratio: float, update_ratio: float = 0.75) -> list[str]:
    """Why the plan is held: kinds whose disables/removals exceed ``ratio`` of what exists, or
    whose rewrites exceed ``update_ratio``."""
    reasons: list[str] = []
    totals: dict[str, int] = {}  # enabled accounts: what disables are a share of
    renameable: dict[str, int] = {}  # of those, the ones the sync may rename: what rewrites are
    for user in current.users.values():
        if user.enabled:
            kind = current_kind(user)
            totals[kind] = totals.get(kind, 0) + 1
            if not user.read_only:
                renameable[kind] = renameable.get(kind, 0) + 1
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
    return reasons + rewrite_reasons(rewrites(plan), renameable, update_ratio)


def brake_from_totals(
    plan: Plan, totals: dict[str, int], ratio: float, update_ratio: float = 0.75
) -> list[str]:
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
    ] + rewrite_reasons(rewrites(plan), rewritable_totals(totals), update_ratio)


def brake_for(
    plan: Plan, current: DirectoryState, scope: Scope, totals: Mapping[str, int], options: SyncOptions
) -> list[str]:
    """Why the brake holds the run: against what the realm holds (a full run), or the ``totals`` the
    last full run counted (an incremental run reads too little to count them)."""
    ratio, update_ratio = options.brake_ratio, options.brake_update_ratio
    if scope.everything:
        return brake_reasons(plan, current, ratio, update_ratio)
    return brake_from_totals(plan, dict(totals), ratio, update_ratio)


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
