"""The incremental run: Clever's Events after the saved cursor, applied to only what they touch.

What an event changes, and what this run reads and writes for it (nothing else is read):

* ``users.created|updated`` → that person: their account (``GET users/{id}`` and its groups) and
  their school role groups (``/Clever/<School>/Students`` ...). Class memberships are the
  sections' business: Clever sends ``sections.updated`` when a class list changes.
* ``users.deleted`` → the account is disabled with ``clever_removed_at`` and leaves every group.
* ``sections.*`` → that class group (name, ``clever_teachers``) and its member list (one
  ``GET groups/{id}/members``), its LDAP group; a deleted section is emptied and marked retired.
* ``schools.updated`` → that school group's name and attributes (and the LDAP entry's DN).

Keycloak ids come from ``plugin.applied`` (what the last run left), so no listing of the realm is
needed, except when a new person arrives: then the realm's accounts are read once (name match and
free usernames), as a full run would. The brake compares against the totals the last full run saved.

Falls back to a full run (``None``, with a warning saying why) when the events call for more than
this can do alone: a school created or deleted, contacts while Sync Parent Data is on, a new or
renamed class whose name collides inside its school (Force Unique Class Names off), no record of
the last run's groups (a flushed Redis), or more changed people than ``FULL_RATIO`` of the district.

Modules: ``plugin.events`` (the events folded), ``plugin.incremental_reads`` (what is read from
Keycloak), this one (the Keycloak plan, applying, remembering), ``plugin.incremental_ldap`` (the
LDAP plan), ``plugin.brake`` (the brake against the last full run's totals).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from redis import Redis

from connectors.base import RecordError
from connectors.keycloak import email_warning
from connectors.keycloak_read import ldap_providers
from connectors.records import Event, School, Section, User
from connectors.state import (
    CurrentUser,
    DesiredState,
    DirectoryState,
    GroupSpec,
    Membership,
    Plan,
    UserSpec,
    UserUpdate,
)
from connectors.text import normalize_name
from mappers.classes import school_group_names
from plugin import links, resolutions
from plugin.applied import Applied, fingerprint
from plugin.brake import brake_from_totals
from plugin.desired import desired_state
from plugin.desired_match import match_scope
from plugin.events import EventRoster, Fallback, fold, people_of
from plugin.incremental_ldap import ldap_plan
from plugin.incremental_reads import IncrementalReads
from plugin.plan import _adopt, _retired, _user_update
from plugin.report import SyncReport
from plugin.settings import Settings

FULL_RATIO = 0.2  # more changed people than this share of the district: a full run is cheaper
ROLE_SUFFIXES = (":students", ":teachers", ":staff", ":parents")


def run_incremental(
    settings: Settings,
    events: list[Event],
    report: SyncReport,
    applied: Applied,
    *,
    school_ids: frozenset[str] = frozenset(),
    dry_run: bool = False,
    release_brake: bool = False,
) -> SyncReport | None:
    """Apply ``events``; None when a full run must do it instead (the report's warnings say why)."""
    changes = fold(events, sync_parents=settings.options.sync_parent_data)
    report.reread(changes.users)
    totals = applied.totals()
    people = sum(totals.get(kind, 0) for kind in ("students", "teachers", "staff", "parents"))
    try:
        if changes.reason:
            raise Fallback(changes.reason)
        if len(changes.users) > max(50, FULL_RATIO * people):
            raise Fallback(f"{len(changes.users)} people changed")
        group_ids = applied.group_ids()
        if not group_ids:
            raise Fallback("no record of the last run's groups")
        run = _Incremental(settings, changes, report, applied, group_ids, school_ids)
        plan, desired, ldap_plan = run.plan()
    except Fallback as exc:
        report.warnings.append(f"incremental: {exc}: full sync instead")
        return None
    report.count_plan(plan, desired, run.current)
    report.preview.update(_preview(plan, ldap_plan, len(events)))
    report.preview["event_cursor"] = events[-1].event_id
    report.preview["member_lists_read"] = run.lists_read
    report.preview["member_lists_from_events"] = run.lists_from_events
    reasons = brake_from_totals(
        plan, totals, settings.options.brake_ratio, settings.options.brake_update_ratio
    )
    report.brake = {"held": bool(reasons) and not release_brake, "reasons": reasons}
    keycloak, ldap = run.keycloak, run.ldap
    if dry_run or (reasons and not release_brake):
        report.calls = dict(keycloak.calls)
        return report.finish("dry-run" if dry_run else "held")
    from plugin.sync import apply_both

    keycloak_failures, ldap_failures = apply_both(lambda: keycloak.apply(plan, desired), ldap, ldap_plan)
    report.count_failures(plan, keycloak_failures)
    report.count_failures(plan, ldap_failures, directory="ldap")
    from plugin.departed import report_departed

    report_departed(report, plan, run.current, keycloak.undisablable)
    run.remember()
    report.writes = {"keycloak": keycloak.http.writes, "ldap": ldap.counts.writes}
    report.calls = dict(keycloak.calls)
    return report.finish_written()


class _Incremental(IncrementalReads):
    """One incremental run's plan (``plan()``), then what it remembers (``remember()``)."""

    # -- the plan ---------------------------------------------------------------------------------

    def plan(self) -> tuple[Plan, DesiredState, Any]:
        changes, settings = self.changes, self.settings
        removed_at = self.report.started
        create_groups: list[GroupSpec] = []
        update_groups: list[tuple[str, GroupSpec]] = []
        retire: list[tuple[str, GroupSpec]] = []
        adds: dict[tuple[str, str], Membership] = {}
        removes: dict[tuple[str, str], Membership] = {}

        # the groups the events name, their parents, and the member lists of the classes: at once,
        # while the accounts of the people the events name are read on another thread
        providers = ldap_providers(self.keycloak.http)
        known = self.applied.keycloak_ids(changes.users)
        sections = [e.record for e in changes.sections.values() if isinstance(e.record, Section)]
        with ThreadPoolExecutor(1) as pool:
            users_read = pool.submit(self._users, known, providers)
            self._prefetch(
                [f"school:{s}" for s in changes.schools]
                + [f"section:{s.clever_id}" for s in sections]
                + [f"school:{s.school}:classes" for s in sections if s.school in self.schools]
            )
            self._members_from_events(changes.sections.values())
            self._prefetch_members(f"section:{s.clever_id}" for s in sections)
            users_found = users_read.result()

        # schools: the group's name and attributes
        school_specs: dict[str, GroupSpec] = {}
        for school_id, event in sorted(changes.schools.items()):
            key = f"school:{school_id}"
            group = self._group(key)
            if school_id not in self.schools or group is None or not isinstance(event.record, School):
                continue
            name = school_group_names([event.record]).names[school_id]
            root = (
                self.keycloak.http.get(f"groups/{group.parent_id}/children", max=1000)
                if group.parent_id
                else []
            )
            if any(
                normalize_name(g["name"]) == normalize_name(name) and g["id"] != group.keycloak_id
                for g in root
            ):
                raise Fallback(f"school {school_id}'s new name is taken")
            spec = GroupSpec(key, name, "root", "school", {"clever_key": (key,), "clever_id": (school_id,)})
            school_specs[key] = spec
            if group.name != name or any(group.attributes.get(k) != v for k, v in spec.attributes.items()):
                update_groups.append((group.keycloak_id, spec))

        # people
        current_users: dict[str, CurrentUser] = {}
        current_keys: dict[str, set[str]] = {}
        for clever_id, found in users_found.items():
            if found is not None:
                current_users[clever_id], current_keys[clever_id] = found
        records = [
            e.record
            for cid, e in sorted(changes.users.items())
            if e.action != "deleted" and isinstance(e.record, User)
        ]
        newcomers = [u for u in records if u.clever_id not in current_users]
        accounts: Any = []
        usernames: set[str] = set()
        if newcomers:
            redis = Redis.from_url(settings.redis_url)
            state = self.keycloak.current(
                with_accounts=settings.options.match_users_by_name,
                with_members=False,
                ours=links.ours(self.applied.all_ids(), redis, settings.keycloak.realm),
            )
            if state.suspicious:  # the full run reports them and holds their people
                raise Fallback("an account has a clever link the sync did not make")
            for user in newcomers:
                existing = state.directory.users.get(user.clever_id)
                if existing is not None:  # synced before, but not in the memory of ids
                    current_users[user.clever_id] = existing
                    current_keys[user.clever_id] = self._user(
                        existing.keycloak_id, user.clever_id, providers
                    )[1]  # type: ignore[index]
            accounts, usernames = state.candidates, state.usernames
        roster = EventRoster([School(s, "", s) for s in sorted(self.schools)], records)
        redis = Redis.from_url(settings.redis_url)
        mapped = desired_state(
            roster,
            current_users=current_users,
            accounts=accounts,
            usernames=usernames,
            options=settings.options,
            resolutions=resolutions.load(redis, settings.keycloak.realm)
            if settings.options.match_users_by_name
            else {},
            refused_emails=self.applied.refused_emails(),
            scope=match_scope(settings.options, settings.ldap.people_dn),
        )
        self.mapped = mapped
        for warning in mapped.warnings:
            self.report.warnings.append(warning)
        for error in mapped.skipped:
            self.report.skip(error)
        self.report.hold_ambiguous(mapped.ambiguous, mapped.held)
        create_users: list[UserSpec] = []
        update_users: list[UserUpdate] = []
        disable: list[UserUpdate] = []
        for person in mapped.desired.users.values():
            existing = current_users.get(person.clever_id)
            if existing is None:
                if person.matched_keycloak_id:
                    update_users.append(_adopt(person))
                    for key in person.groups:
                        adds[(key, person.matched_keycloak_id)] = Membership(
                            key, keycloak_id=person.matched_keycloak_id
                        )
                        self.stale.add(key)
                else:
                    create_users.append(person)
                    self.stale.update(person.groups)
                continue
            if (update := _user_update(person, existing)) is not None:
                update_users.append(update)
            have = {k for k in current_keys.get(person.clever_id, set()) if k.endswith(ROLE_SUFFIXES)}
            for key in set(person.groups) - have:
                adds[(key, existing.keycloak_id)] = Membership(key, keycloak_id=existing.keycloak_id)
                self.stale.add(key)
            for key in have - set(person.groups):
                removes[(key, existing.keycloak_id)] = Membership(key, keycloak_id=existing.keycloak_id)
                self.stale.add(key)
        for clever_id, event in sorted(changes.users.items()):
            existing = current_users.get(clever_id)
            if existing is None or clever_id in mapped.desired.users:
                continue
            # deleted in Clever (disabled), or out of scope / unnamed now (loses its groups only)
            for key in current_keys.get(clever_id, set()):
                removes[(key, existing.keycloak_id)] = Membership(key, keycloak_id=existing.keycloak_id)
                self.stale.add(key)
            if event.action == "deleted" and existing.enabled:
                disable.append(
                    UserUpdate(
                        existing.keycloak_id,
                        clever_id,
                        self.applied.kinds([clever_id]).get(clever_id) or _kind(existing),
                        fields={"enabled": False},
                        # a read-only directory account takes ``enabled`` alone (``plugin.departed``)
                        attributes={} if existing.read_only else {"clever_removed_at": (removed_at,)},
                        read_only=existing.read_only,
                    )
                )
        self.created_specs = {newcomer.clever_id: newcomer for newcomer in create_users}

        # sections: the class group and its members
        deleted_people = {cid for cid, e in changes.users.items() if e.action == "deleted"}
        member_ids = self.applied.keycloak_ids(
            {
                m
                for e in changes.sections.values()
                if isinstance(e.record, Section)
                for m in people_of(e.record)
            }
        )
        member_ids.update({cid: u.keycloak_id for cid, u in current_users.items()})
        section_specs: dict[str, GroupSpec] = {}
        for section_id, event in sorted(changes.sections.items()):
            section = event.record
            if not isinstance(section, Section):
                continue
            key = f"section:{section_id}"
            group = self._group(key)
            if event.action == "deleted" or section.school not in self.schools:
                if group is not None:
                    if "clever_removed_at" not in group.attributes and event.action == "deleted":
                        retire.append((group.keycloak_id, _retired(group, removed_at)))
                    self._members_of(key)
                    for keycloak_id in self.members.get(key, frozenset()):
                        removes[(key, keycloak_id)] = Membership(key, keycloak_id=keycloak_id)
                    self.section_members[key] = set()
                continue
            spec = self._section_spec(section, group, section_id in changes.renamed)
            section_specs[key] = spec
            self._group(spec.parent or "")
            if group is None:
                create_groups.append(spec)
                self._group(spec.parent or "")
            elif (
                group.name != spec.name
                or not _same(spec.attributes, group.attributes)
                or (
                    self.groups.get(spec.parent or "") is not None
                    and group.parent_id != self.groups[spec.parent or ""].keycloak_id
                )
            ):
                update_groups.append((group.keycloak_id, spec))
            present = self._members_of(key) if group is not None else frozenset()
            wanted: set[str] = set()
            for clever_id in people_of(section):
                if clever_id in deleted_people:
                    continue
                if clever_id in member_ids:
                    wanted.add(member_ids[clever_id])
                    if member_ids[clever_id] not in present:
                        adds[(key, member_ids[clever_id])] = Membership(
                            key, keycloak_id=member_ids[clever_id]
                        )
                elif clever_id in self.created_specs:
                    wanted.add("new:" + clever_id)
                    adds[(key, "new:" + clever_id)] = Membership(key, clever_id=clever_id)
            for keycloak_id in present - wanted:
                removes[(key, keycloak_id)] = Membership(key, keycloak_id=keycloak_id)
            self.section_members[key] = wanted
        # a newcomer's role groups go in the create call: paths needed
        self._prefetch(key for newcomer in create_users for key in newcomer.groups)

        groups = {**school_specs, **section_specs}
        desired = DesiredState(groups=groups, users=mapped.desired.users)
        self.current = DirectoryState(self.groups, current_users, self.members)
        plan = Plan(
            create_groups=tuple(create_groups),
            update_groups=tuple(update_groups),
            create_users=tuple(create_users),
            update_users=tuple(update_users),
            add_members=tuple(adds[k] for k in sorted(adds)),
            remove_members=tuple(removes[k] for k in sorted(removes)),
            disable_users=tuple(disable),
            retire_groups=tuple(retire),
        )
        return (
            plan,
            desired,
            ldap_plan(self, school_specs, section_specs, mapped.desired.users, current_users),
        )

    # -- after applying -------------------------------------------------------------------------------

    def remember(self) -> None:
        created = self.keycloak.created
        fingerprints: dict[str, str] = {}
        for key, wanted in self.section_members.items():
            if key in self.keycloak.group_ids and key not in self.keycloak.failed_groups:
                ids = {created.get(m[4:], "") if m.startswith("new:") else m for m in wanted}
                fingerprints[key] = fingerprint(self.keycloak.group_ids[key], ids - {""})
        self.applied.save_fingerprints(fingerprints, dropped=self.stale | self.keycloak.failed_groups)
        self.applied.drop_users(self.changes.users)  # their accounts are read in full next time
        self.applied.remember(ids=created, groups=self.keycloak.group_ids)
        if self.keycloak.refused_emails:
            self.applied.refuse_emails(self.keycloak.refused_emails)
            for clever_id in sorted(self.keycloak.refused_emails):
                self.report.warnings.append(email_warning(self.keycloak, clever_id))
        if self.mapped.resolved:
            redis = Redis.from_url(self.settings.redis_url)
            for clever_id in self.mapped.resolved:
                resolutions.forget(redis, self.settings.keycloak.realm, clever_id)


def _same(wanted: Any, have: Any) -> bool:
    if "clever_removed_at" in have and "clever_removed_at" not in wanted:
        return False
    return all(tuple(have.get(name, ())) == tuple(values) for name, values in wanted.items())


def _kind(user: CurrentUser) -> str:
    from plugin.plan import user_kind

    return user_kind(user.attributes)


def _preview(plan: Plan, ldap_plan: Any, events: int) -> dict[str, Any]:
    from plugin.brake import preview

    return {**preview(plan, ldap_plan), "events": events}


__all__ = ["RecordError", "fold", "run_incremental"]
