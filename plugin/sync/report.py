"""The Sync Status summary: one ``SyncReport`` per run, JSON-ready, stored in Redis by ``plugin.runs.state``.

Shape (``report.to_dict()``)::

    {"run_id": "...", "district_id": "...", "trigger": "manual"|"weekly"|"approve",
     "started_by": "it-admin (admin page)"|"command line (user@host)"|"weekly schedule"|...,
     "decided_by": "" (a held run: who approved or discarded it),
     "mode": "full"|"incremental", "dry_run": false,
     "status": "ok"|"partial"|"failed"|"held"|"dry-run"|"discarded"|"approved"|"no-changes",
     "started": ISO, "ended": ISO, "duration_s": 1.2,
     "kinds": {"students": {"created": 0, "updated": 0, "linked_by_name": 0, "unchanged": 0, "found": 0,
                            "disabled": 0, "memberships_added": 0, "memberships_removed": 0,
                            "failed": 0, "waiting": 0}, ...},
     "ldap": {"groups_created": 0, "groups_renamed": 0, "members_added": 0, "members_removed": 0},
     "ambiguous": [{"clever_ids": [...], "keycloak_ids": [...], "reason": "..."}],
     "skipped": [{"kind": "users", "clever_id": "...", "reason": "..."}],
     "waiting": [{"kind": "ambiguous"|"suspicious-link"|..., "clever_id": "...", "reason": "...",
                  "action": "what the admin does"}],
     "warnings": [...], "warning_ids": {"<grouped warning>": [clever ids]},
     "errors": [...], "writes": {"keycloak": 0, "ldap": 0},
     "calls": {"GET": 12}, "brake": {"held": false, "reasons": [...]}, "preview": {...},
     "writer": {"path": "extension"|"rest", "new_accounts": "rows"|"model", "reason": "...", "keycloak":
                "26.7.3", "rows": 0, "fallbacks": 0, ...}}   (``KeycloakDirectory.writer``)

Kinds: schools, students, teachers, staff, district_admins (people whose primary Clever role is
district admin), parents, classes. ``memberships_added`` counts every Clever group a person joins,
a new account's groups included (it is created in them); ``waiting`` counts the people of the kind
on the waiting list, whatever the reason (``count_waiting``). ``ldap.members_added`` counts the
people written into groups, new groups' first members included (the placeholder member is not a
person: ``connectors.ldap``). Counts are what the run wrote (a run that stopped midway, what it had
written when it stopped: ``count_written``; its plan is in ``preview``): a write
Keycloak refused is counted under ``failed``, not under ``created``/``updated``/``disabled``
(``count_failures``), it is listed under ``errors`` in words, and a person it leaves without an
account is on the waiting list (``waiting``, kind ``failed``) with the reason. A run with any failed
write ends ``partial`` (``keycloak-clever sync`` then exits 2); ``ok`` means everything was written.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connectors.keycloak_sessions import access_words
from mappers.names import Ambiguity, Held
from model.base import RecordError
from model.state import USER_KINDS, DesiredState, DirectoryState, Plan, UserUpdate
from plugin.sync.plan import current_kind

CLEVER_ID = re.compile(r"[0-9a-f]{24}")
KINDS = ("schools", "students", "teachers", "staff", "district_admins", "parents", "classes")
COUNTS = (
    "created",
    "updated",
    "linked_by_name",
    "linked_by_admin",
    "unchanged",
    "found",  # an account an earlier run wrote and did not record (it stopped first, or Redis lost it)
    "disabled",
    "memberships_added",
    "memberships_removed",
    "failed",
    "waiting",
)
# The counts of writes (a run that stopped midway shows what it did of these: ``count_written``).
WRITTEN = (
    "created",
    "updated",
    "linked_by_name",
    "linked_by_admin",
    "disabled",
    "memberships_added",
    "memberships_removed",
)
AMBIGUOUS_ACTION = (
    "choose the account on the Clever page, or create a new account; "
    "the next sync links it and gives them their classes"
)
HELD_ACTIONS = {
    "ambiguous": AMBIGUOUS_ACTION,
    "refused-link": "link the account on the Clever page if it is theirs (it keeps what it holds), "
    "or create a new account; or remove what it holds beyond the defaults, or place it with "
    "KCC_MATCH_SCOPES, and the next sync links it",
    "possible-match": "confirm the account on the Clever page (one by one, or every match of a rule), "
    "or create a new account; the next sync links it and gives them their classes",
    "unlinked": "an account of theirs was unlinked: link it again, choose another account, or create "
    "a new account on the Clever page",
}
SKIPPED_ACTION = "complete the record in the SIS; the next sync after Clever has it makes the account"
FAILED_ACTION = (
    "fix the record in the SIS or the realm rule named in the reason; every sync retries it "
    "and it stays on this list until it is written"
)


_IDS = re.compile(r"\b[0-9a-f]{24}\b")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def warning_kind(warning: str) -> str:
    """What a warning is about, without whom: Clever ids and quoted names become ``…``."""
    return _QUOTED.sub("'…'", _IDS.sub("…", warning))


def warnings_by_kind(warnings: list[str]) -> list[dict[str, Any]]:
    """Warnings of one kind together: ``[{"kind": ..., "count": n, "items": [...]}]``, biggest first."""
    groups: dict[str, list[str]] = {}
    for warning in warnings:
        groups.setdefault(warning_kind(warning), []).append(warning)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return [{"kind": kind, "count": len(items), "items": items} for kind, items in ordered]


def writer_line(writer: Mapping[str, Any]) -> str:
    """How a run wrote to Keycloak, in words: the REST API, or the extension and its new accounts' path."""
    if writer.get("path") != "extension":
        return f"admin REST API ({writer.get('reason', '')})"
    line = f"clever-sync {writer.get('extension', '')} on Keycloak {writer.get('keycloak', '')}"
    line += f", new accounts as {writer.get('new_accounts') or 'model'}: {writer.get('reason', '')}"
    if writer.get("fallbacks"):
        line += f"; {writer['fallbacks']} batch(es) fell back from rows to the model API"
    return line


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class SyncReport:
    """What a run did (or, dry or held, would do)."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    district_id: str = ""
    trigger: str = "manual"
    started_by: str = ""  # who or what asked for the run (``RunOptions.started_by``)
    decided_by: str = ""  # who approved or discarded it, for a run the brake held
    mode: str = "full"
    dry_run: bool = False
    status: str = "running"
    started: str = field(default_factory=now_iso)
    ended: str = ""
    duration_s: float = 0.0
    kinds: dict[str, dict[str, int]] = field(
        default_factory=lambda: {k: dict.fromkeys(COUNTS, 0) for k in KINDS}
    )
    ldap: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("groups_created", "groups_renamed", "members_added", "members_removed"), 0
        )
    )
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # A warning said of several people is one line ("193 people: account is read-only ...");
    # the Clever ids behind it are here, keyed by that line (``group_warnings``).
    warning_ids: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=lambda: {"keycloak": 0, "ldap": 0})
    calls: dict[str, int] = field(default_factory=dict)
    brake: dict[str, Any] = field(default_factory=lambda: {"held": False, "reasons": []})
    preview: dict[str, Any] = field(default_factory=dict)
    writer: dict[str, Any] = field(default_factory=dict)
    # The kill switch (``connectors.keycloak_sessions``): departed people whose sessions this run
    # ended, how many sessions and offline tokens; {} when nobody departed.
    access_ended: dict[str, int] = field(default_factory=dict)
    # Retention (``plugin.sync.retention``): {"days", "deleted": {kind: n}, "unlinked": {kind: n}};
    # {} when it did not run.
    retention: dict[str, Any] = field(default_factory=dict)
    _clock: float = field(default_factory=time.monotonic, repr=False)
    # Clever ids an incremental run read again (their events): their waiting entries are this run's.
    _reread: set[str] = field(default_factory=set, repr=False)
    # Clever ids this run links to an account an admin chose (counted ``linked_by_admin``).
    _by_admin: set[str] = field(default_factory=set, repr=False)
    # Who a held or dry run would disable or remove (``plugin.sync.would_change.WouldChange``): kept
    # apart from the report (``plugin.runs.changes``), never in ``to_dict``.
    would_change: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(replace(self, would_change=None) if self.would_change is not None else self)
        data.pop("_clock", None)
        data.pop("_reread", None)
        data.pop("_by_admin", None)
        data.pop("would_change", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncReport:
        fields_ = cls.__dataclass_fields__
        known = {
            k: v for k, v in data.items() if k in fields_ and not k.startswith("_") and k != "would_change"
        }
        return cls(**known)

    def reread(self, clever_ids: Iterable[str]) -> None:
        """Note the people an incremental run mapped again (``carry_waiting`` leaves theirs out)."""
        self._reread.update(clever_ids)

    def carry_waiting(self, before: SyncReport) -> None:
        """A run that did not read everyone (no changes, or incremental) keeps the earlier run's
        waiting list: nobody leaves it until a run has seen them again."""
        listed = {w["clever_id"] for w in self.waiting}
        for entry in before.waiting:
            if entry["clever_id"] not in listed and entry["clever_id"] not in self._reread:
                self.waiting.append(entry)
        self.count_waiting()

    def count_waiting(self) -> None:
        """Each kind's ``waiting``: the people of that kind on the waiting list, whatever the reason
        (ambiguous, skipped, refused by Keycloak, a link to decide, departed ...), each once."""
        people: dict[str, set[str]] = {kind: set() for kind in USER_KINDS}
        for entry in self.waiting:
            if entry.get("person") in people:
                people[entry["person"]].add(entry["clever_id"])
        for kind, ids in people.items():
            self.kinds.setdefault(kind, dict.fromkeys(COUNTS, 0))["waiting"] = len(ids)

    def finish(self, status: str) -> SyncReport:
        self.group_warnings()
        self.count_waiting()
        self.status = status
        self.ended = now_iso()
        self.duration_s = round(time.monotonic() - self._clock, 3)
        return self

    def group_warnings(self) -> None:
        """Warnings ``"<Clever id>: <words>"`` with the same words become one line with a count."""
        by_words: dict[str, list[str]] = {}
        for warning in self.warnings:
            clever_id, sep, words = warning.partition(": ")
            if sep and CLEVER_ID.fullmatch(clever_id):
                by_words.setdefault(words, []).append(clever_id)
        lines: list[str] = []
        said: set[str] = set()
        for warning in self.warnings:
            clever_id, _, words = warning.partition(": ")
            ids = by_words.get(words, [])
            if len(ids) < 2 or clever_id not in ids:
                lines.append(warning)
            elif words not in said:
                said.add(words)
                line = f"{len(ids)} people: {words}"
                lines.append(line)
                self.warning_ids[line] = sorted(set(ids))
        self.warnings = lines

    def skip(self, error: RecordError) -> None:
        """A record not synced; a person Clever wants synced also goes on the waiting list."""
        self.skipped.append({"kind": error.kind, "clever_id": error.clever_id, "reason": str(error)})
        # A contact with no student in scope is not wanted; a person without a name (or a parent
        # without an email) is, and gets an account once the SIS has it.
        if error.kind in ("users", "parents") and "no student in scope" not in str(error):
            reason = f"no account was made: {error}"
            self.wait("skipped", error.clever_id, reason, SKIPPED_ACTION, person=error.person)

    def wait(self, kind: str, clever_id: str, reason: str, action: str = "", **details: Any) -> None:
        """Put a person (or record) on the admin's waiting list: it stays until resolved.

        ``kind`` names the list (``ambiguous``, ``suspicious-link``, ``refused-link``, ``skipped``,
        ...); ``reason`` and ``action`` are plain words for the page; ``details`` are JSON values
        (candidate account ids, the account the link points to, ...). Pass ``person=<report kind>``
        (``students`` ...) for a person: the kind's ``waiting`` count is the people listed with it.
        """
        self.waiting.append(
            {"kind": kind, "clever_id": clever_id, "reason": reason, "action": action, **details}
        )

    def count_plan(self, plan: Plan, desired: DesiredState, current: DirectoryState) -> None:
        """Per-kind counts of what the plan does."""
        kind_of_user = {u.keycloak_id: current_kind(u) for u in current.users.values()}
        for spec in desired.users.values():
            if spec.matched_keycloak_id:
                kind_of_user[spec.matched_keycloak_id] = spec.kind
        touched: dict[str, set[str]] = {k: set() for k in KINDS}
        for spec in plan.create_users:
            self.kinds[spec.kind]["created"] += 1
            # A new account is created in its groups (``POST /users`` and the extension carry them).
            self.kinds[spec.kind]["memberships_added"] += len(spec.groups)
            touched[spec.kind].add(spec.clever_id)
        for update in plan.update_users:
            self.kinds[update.kind][self._linked(update)] += 1
            touched[update.kind].add(update.clever_id)
        for update in plan.disable_users:
            self.kinds[update.kind]["disabled"] += 1
        for membership in plan.add_members:
            kind = kind_of_user.get(membership.keycloak_id, "students")
            self.kinds[kind]["memberships_added"] += 1
        for membership in plan.remove_members:
            kind = kind_of_user.get(membership.keycloak_id, "students")
            self.kinds[kind]["memberships_removed"] += 1
        group_kinds = {"school": "schools", "class": "classes"}
        for group in plan.create_groups:
            if group.kind in group_kinds:
                self.kinds[group_kinds[group.kind]]["created"] += 1
        for _, group in plan.update_groups:
            if group.kind in group_kinds:
                self.kinds[group_kinds[group.kind]]["updated"] += 1
        self.kinds["classes"]["disabled"] += len(plan.retire_groups)
        for spec in desired.users.values():
            if spec.clever_id not in touched[spec.kind]:
                self.kinds[spec.kind]["unchanged"] += 1
        for kind, group_kind in (("schools", "school"), ("classes", "class")):
            total = sum(1 for g in desired.groups.values() if g.kind == group_kind)
            self.kinds[kind]["unchanged"] += max(
                0, total - self.kinds[kind]["created"] - self.kinds[kind]["updated"]
            )

    def linked_by_admin(self, clever_ids: Iterable[str]) -> None:
        """Note the people this run links to an account an admin chose (``linked_by_admin``)."""
        self._by_admin.update(clever_ids)

    def _linked(self, update: UserUpdate) -> str:
        if not update.linked_by_name:
            return "updated"
        return "linked_by_admin" if update.clever_id in self._by_admin else "linked_by_name"

    def hold_ambiguous(self, ambiguities: Iterable[Ambiguity], kinds: Mapping[str, str]) -> None:
        """People Match Users By Name could not pair: listed, counted ``waiting``, on the waiting list.

        ``kinds`` is Clever id -> report kind of each held person. They have no account (so are in
        no class) until an admin's choice is applied by a run (``plugin.sync.full_run``: a full one).
        """
        for ambiguity in ambiguities:
            self.ambiguous.append(
                {
                    "clever_ids": list(ambiguity.clever_ids),
                    "keycloak_ids": list(ambiguity.keycloak_ids),
                    "reason": ambiguity.reason,
                }
            )
            for clever_id in ambiguity.clever_ids:
                self._held(
                    "ambiguous",
                    Held(clever_id, ambiguity.keycloak_ids, ambiguity.reason, ambiguity.candidates),
                    kinds,
                )

    def hold(self, kind: str, people: Iterable[Held], kinds: Mapping[str, str]) -> None:
        """People who wait for an admin (``refused-link``, ``possible-match``, ``unlinked``), with the
        accounts listed for each: counted ``waiting``, on the waiting list."""
        for held in people:
            self._held(kind, held, kinds)

    def _held(self, kind: str, held: Held, kinds: Mapping[str, str]) -> None:
        person = kinds.get(held.clever_id, "")
        self.wait(
            kind,
            held.clever_id,
            f"no account was made, and they are in none of their classes yet: {held.reason}",
            HELD_ACTIONS[kind],
            candidates=list(held.keycloak_ids),
            listed=[{**asdict(c), "holds": list(c.holds)} for c in held.candidates],
            person=person,
        )

    def count_written(
        self, written: Plan, desired: DesiredState, current: DirectoryState, ldap_done: Mapping[str, int]
    ) -> None:
        """A run that stopped midway counts what it wrote (``written``: the part of its plan Keycloak
        took; ``ldap_done``: its LDAP writes), not what it planned; the plan stays in ``preview``."""
        unchanged = {kind: counts["unchanged"] for kind, counts in self.kinds.items()}
        for counts in self.kinds.values():
            for name in WRITTEN:
                counts[name] = 0
        self.count_plan(written, desired, current)
        for kind, count in unchanged.items():
            self.kinds[kind]["unchanged"] = count
        self.ldap = {name: int(ldap_done.get(name, 0)) for name in self.ldap}

    def count_failures(self, plan: Plan, failures: list[RecordError], *, directory: str = "keycloak") -> None:
        """Move what ``failures`` refused from the written counts to ``failed``; list them in words."""
        # Clever id -> (kind, count the plan put it under, memberships it came with)
        done: dict[str, tuple[str, str, int]] = {}
        for update in plan.disable_users:
            done[update.clever_id] = (update.kind, "disabled", 0)
        for update in plan.update_users:
            done[update.clever_id] = (update.kind, self._linked(update), 0)
        for spec in plan.create_users:
            done[spec.clever_id] = (spec.kind, "created", len(spec.groups))
        for failure in failures:
            self.errors.append(f"{directory}: {failure.kind or 'record'} {failure.clever_id}: {failure}")
            if directory != "keycloak" or failure.clever_id not in done:
                continue
            kind, counted, memberships = done.pop(failure.clever_id)
            self.kinds[kind][counted] = max(0, self.kinds[kind][counted] - 1)
            self.kinds[kind]["memberships_added"] = max(
                0, self.kinds[kind]["memberships_added"] - memberships
            )
            self.kinds[kind]["failed"] += 1
            reason = str(failure)
            if counted == "created" and not reason.startswith("no account was made"):
                reason = f"no account was made: {reason}"
            self.wait("failed", failure.clever_id, reason, FAILED_ACTION, person=kind)

    def finish_written(self) -> SyncReport:
        """End a run that wrote: ``partial`` when any write failed, else ``ok``."""
        return self.finish("partial" if self.errors else "ok")

    def summary(self) -> str:
        """A few lines for a terminal."""
        mode = self.mode + (", dry run" if self.dry_run else "")
        lines = [f"run {self.run_id} ({self.trigger}, {mode}): {self.status} in {self.duration_s:.1f}s"]
        if self.started_by:
            lines.append(f"  started by {self.started_by}")
        if self.preview.get("full_because"):
            lines.append(f"  full run: {self.preview['full_because']}")
        for kind in KINDS:
            counts = self.kinds[kind]
            shown = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in counts.items() if value)
            lines.append(f"  {kind.replace('_', ' '):<15} {shown or 'nothing'}")
        ldap = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.ldap.items() if v)
        lines.append(f"  {'ldap':<15} {ldap or 'nothing'}")
        lines.extend(self._write_lines())
        if self.brake.get("held"):
            lines.append("  HELD for review: " + "; ".join(self.brake["reasons"]))
        for title, items in (("ambiguous", self.ambiguous), ("skipped", self.skipped)):
            if items:
                lines.append(f"  {title}: {len(items)}")
        if self.waiting:
            lines.append(f"  waiting for an admin: {len(self.waiting)}")
            lines.extend(f"    {w['clever_id']} ({w['kind']}): {w['reason']}" for w in self.waiting[:20])
        lines.extend(f"  warning: {w}" for w in self.warnings[:20])
        lines.extend(f"  error: {e}" for e in self.errors[:20])
        return "\n".join(lines)

    def _write_lines(self) -> list[str]:
        """The summary's lines on what the run wrote: writes, writer, access ended, retention."""
        lines = [f"  {'writes':<15} keycloak {self.writes['keycloak']}, ldap {self.writes['ldap']}"]
        if self.writer:
            lines.append(f"  {'writer':<15} {writer_line(self.writer)}")
        if self.access_ended:
            lines.append(f"  {'access ended':<15} {access_words(self.access_ended)}")
        if self.retention:
            done = {k: sum(self.retention.get(k, {}).values()) for k in ("deleted", "unlinked")}
            lines.append(f"  {'retention':<15} {self.retention.get('days', 0)} days: {done}")
        return lines
