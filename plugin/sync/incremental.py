"""The incremental run: Clever's Events after the saved cursor, applied to only what they touch.

What an event changes, and what this run reads and writes for it (nothing else is read):

* ``users.created|updated`` → that person: their account (``GET users/{id}`` and its groups) and
  their school role groups (``/Clever/<School>/Students`` ...). Class memberships are the
  sections' business: Clever sends ``sections.updated`` when a class list changes.
* ``users.deleted`` → the account is disabled with ``clever_removed_at`` and leaves every group.
* ``sections.*`` → that class group (name, ``clever_teachers``) and its member list (one
  ``GET groups/{id}/members``), its LDAP group; a deleted section is emptied and marked retired.
* ``schools.updated`` → that school group's name and attributes (and the LDAP entry's DN).

Keycloak ids come from ``plugin.sync.applied`` (what the last run left), so no listing of the realm is
needed, except when a new person arrives: then the realm's accounts are read once (name match and
free usernames), as a full run would. The brake compares against the totals the last full run saved.

Falls back to a full run (``None``, with a warning saying why) when the events call for more than
this can do alone: a school created or deleted, contacts while Sync Parent Data is on, a new or
renamed class whose name collides inside its school (Force Unique Class Names off), no record of
the last run's groups (a flushed Redis), or more changed people than ``FULL_RATIO`` of the district.

Modules: ``plugin.sync.events`` (the events folded), ``plugin.sync.incremental_reads`` (what is read from
Keycloak), this one (the events read, the Keycloak plan, what is remembered), ``plugin.sync.incremental_ldap``
(the LDAP plan), ``plugin.sync.brake`` (the brake against the last full run's totals). The brake, apply
and report stages are the full run's (``plugin.sync.pipeline``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis

from connectors.base import RosterSource
from connectors.clever import StaleCursorError
from connectors.keycloak_read import ldap_providers
from connectors.records import Event, School, Section, User
from connectors.state import (
    USER_KINDS,
    CurrentUser,
    DesiredState,
    DirectoryState,
    GroupSpec,
    Membership,
    Plan,
    UserSpec,
    UserUpdate,
    fingerprint,
)
from connectors.text import normalize_name
from mappers.classes import school_group_names
from plugin.config.settings import Settings
from plugin.sync import resolutions
from plugin.sync.applied import Applied
from plugin.sync.brake import brake_from_totals
from plugin.sync.desired import Mapped, desired_state
from plugin.sync.desired_match import match_scope
from plugin.sync.events import EventRoster, Fallback, fold, people_of
from plugin.sync.full_read import START_OF_FEED
from plugin.sync.incremental_ldap import ldap_plan
from plugin.sync.incremental_reads import IncrementalReads
from plugin.sync.plan import adopt, disable, retired, same_attributes, user_kind, user_update
from plugin.sync.planned import Planned
from plugin.sync.report import SyncReport

FULL_RATIO = 0.2  # more changed people than this share of the district: a full run is cheaper
ROLE_SUFFIXES = (":students", ":teachers", ":staff", ":parents")
FEED_KEEPS = timedelta(days=29)  # Clever keeps 30 days; a day of margin
Found = dict[str, tuple[CurrentUser, set[str]] | None]  # Clever id -> (account, its group keys)


def events_since(source: RosterSource, cursor: str | None, report: SyncReport) -> list[Event] | None:
    """Clever's events after ``cursor``; None when the cursor is refused or too old (a full run)."""
    after: str | None = cursor
    if cursor and cursor.startswith(START_OF_FEED):
        # The feed was empty at the last full run: every event in it now came after that run,
        # unless that run is older than the feed's 30 days.
        then = datetime.fromisoformat(cursor.removeprefix(START_OF_FEED))
        if datetime.now(UTC) - then > FEED_KEEPS:
            report.warnings.append("the last full sync is older than Clever's 30-day events: full sync")
            return None
        after = None
    try:
        return list(source.events(after))
    except StaleCursorError:
        report.warnings.append("the event cursor is older than Clever's 30-day window: full sync")
        return None


def plan_events(
    settings: Settings,
    events: list[Event],
    report: SyncReport,
    applied: Applied,
    school_ids: frozenset[str] = frozenset(),
) -> Planned | None:
    """Read, map and plan what ``events`` touch; None when a full run must do it instead (the
    report's warnings say why)."""
    changes = fold(events, sync_parents=settings.options.sync_parent_data)
    report.reread(changes.users)
    totals = applied.totals()
    people = sum(totals.get(kind, 0) for kind in USER_KINDS)
    try:
        if changes.reason:
            raise Fallback(changes.reason)
        if len(changes.users) > max(50, FULL_RATIO * people):
            raise Fallback(f"{len(changes.users)} people changed")
        group_ids = applied.group_ids()
        if not group_ids:
            raise Fallback("no record of the last run's groups")
        run = _Incremental(settings, changes, report, applied, group_ids, school_ids)
        plan, mapped, ldap = run.plan()
    except Fallback as exc:
        report.warnings.append(f"incremental: {exc}: full sync instead")
        return None
    report.preview["events"] = len(events)
    report.preview["member_lists_read"] = run.lists_read
    report.preview["member_lists_from_events"] = run.lists_from_events
    options = settings.options
    return Planned(
        plan=plan,
        ldap_plan=ldap,
        mapped=mapped,
        current=run.current,
        keycloak=run.keycloak,
        ldap=run.ldap,
        brake=brake_from_totals(plan, totals, options.brake_ratio, options.brake_update_ratio),
        remember=run.remember,
        event_cursor=events[-1].event_id,
    )


class _Incremental(IncrementalReads):
    """One incremental run's plan (``plan()``), then what it remembers (``remember()``)."""

    def plan(self) -> tuple[Plan, Mapped, Any]:
        """The Keycloak plan, the mapped people and the LDAP plan of the events."""
        found = self._read()
        self.create_groups: list[GroupSpec] = []
        self.update_groups: list[tuple[str, GroupSpec]] = []
        self.retire: list[tuple[str, GroupSpec]] = []
        self.adds: dict[tuple[str, str], Membership] = {}
        self.removes: dict[tuple[str, str], Membership] = {}
        school_specs = self._plan_schools()
        current_users, current_keys = self._accounts(found)
        mapped = self._map_people(current_users, current_keys)
        create_users, update_users, disable_users = self._plan_people(mapped, current_users, current_keys)
        section_specs = self._plan_sections(current_users)
        # a newcomer's role groups go in the create call: paths needed
        self._prefetch(key for newcomer in create_users for key in newcomer.groups)

        groups = {**school_specs, **section_specs}
        mapped.desired = DesiredState(groups=groups, users=mapped.desired.users)
        self.current = DirectoryState(self.groups, current_users, self.members)
        plan = Plan(
            create_groups=tuple(self.create_groups),
            update_groups=tuple(self.update_groups),
            create_users=tuple(create_users),
            update_users=tuple(update_users),
            add_members=tuple(self.adds[k] for k in sorted(self.adds)),
            remove_members=tuple(self.removes[k] for k in sorted(self.removes)),
            disable_users=tuple(disable_users),
            retire_groups=tuple(self.retire),
        )
        ldap = ldap_plan(self, school_specs, section_specs, mapped.desired.users, current_users)
        return plan, mapped, ldap

    # -- the stages of the plan -----------------------------------------------------------------------

    def _read(self) -> Found:
        """The groups the events name, their parents, and the member lists of the classes: at once,
        while the accounts of the people the events name are read on another thread."""
        providers = ldap_providers(self.keycloak.http)
        self.providers = providers
        known = self.applied.keycloak_ids(self.changes.users)
        sections = [e.record for e in self.changes.sections.values() if isinstance(e.record, Section)]
        with ThreadPoolExecutor(1) as pool:
            users_read = pool.submit(self._users, known, providers)
            self._prefetch(
                [f"school:{s}" for s in self.changes.schools]
                + [f"section:{s.clever_id}" for s in sections]
                + [f"school:{s.school}:classes" for s in sections if s.school in self.schools]
            )
            self._members_from_events(self.changes.sections.values())
            self._prefetch_members(f"section:{s.clever_id}" for s in sections)
            found: Found = users_read.result()
            return found

    def _plan_schools(self) -> dict[str, GroupSpec]:
        """Schools: the group's name and attributes."""
        specs: dict[str, GroupSpec] = {}
        for school_id, event in sorted(self.changes.schools.items()):
            key = f"school:{school_id}"
            group = self._group(key)
            if school_id not in self.schools or group is None or not isinstance(event.record, School):
                continue
            name = school_group_names([event.record]).names[school_id]
            siblings = (
                self.keycloak.http.get(f"groups/{group.parent_id}/children", max=1000)
                if group.parent_id
                else []
            )
            if any(
                normalize_name(g["name"]) == normalize_name(name) and g["id"] != group.keycloak_id
                for g in siblings
            ):
                raise Fallback(f"school {school_id}'s new name is taken")
            spec = GroupSpec(key, name, "root", "school", {"clever_key": (key,), "clever_id": (school_id,)})
            specs[key] = spec
            if group.name != name or not same_attributes(spec.attributes, group.attributes):
                self.update_groups.append((group.keycloak_id, spec))
        return specs

    def _accounts(self, found: Found) -> tuple[dict[str, CurrentUser], dict[str, set[str]]]:
        """The accounts of the people the events name (by Clever id), and the group keys of each.

        A newcomer the memory of ids does not know may have an account all the same (synced before):
        then the realm's accounts are read once, as a full run would (name match, free usernames).
        """
        self.accounts: Any = []
        self.usernames: set[str] = set()
        users: dict[str, CurrentUser] = {}
        keys: dict[str, set[str]] = {}
        for clever_id, account in found.items():
            if account is not None:
                users[clever_id], keys[clever_id] = account
        newcomers = [u for u in self._records() if u.clever_id not in users]
        if not newcomers:
            return users, keys
        state = self.keycloak.current(
            with_accounts=self.settings.options.match_users_by_name, with_members=False
        )
        if state.suspicious:  # the full run reports them and holds their people
            raise Fallback("an account has a clever link the sync did not make")
        for user in newcomers:
            existing = state.directory.users.get(user.clever_id)
            if existing is not None:  # synced before, but not in the memory of ids
                users[user.clever_id] = existing
                account = self._user(existing.keycloak_id, user.clever_id, self.providers)
                keys[user.clever_id] = account[1] if account else set()
        self.accounts, self.usernames = state.candidates, state.usernames
        return users, keys

    def _records(self) -> list[User]:
        return [
            e.record
            for _, e in sorted(self.changes.users.items())
            if e.action != "deleted" and isinstance(e.record, User)
        ]

    def _map_people(self, users: dict[str, CurrentUser], keys: dict[str, set[str]]) -> Mapped:
        """The map stage, on the people the events name."""
        settings = self.settings
        roster = EventRoster([School(s, "", s) for s in sorted(self.schools)], self._records())
        redis = Redis.from_url(settings.redis_url)
        self.mapped = desired_state(
            roster,
            current_users=users,
            accounts=self.accounts,
            usernames=self.usernames,
            options=settings.options,
            resolutions=resolutions.load(redis, settings.keycloak.realm)
            if settings.options.match_users_by_name
            else {},
            refused_emails=self.applied.refused_emails(),
            scope=match_scope(settings.options, settings.ldap.people_dn),
        )
        return self.mapped

    def _plan_people(
        self, mapped: Mapped, current_users: dict[str, CurrentUser], current_keys: dict[str, set[str]]
    ) -> tuple[list[UserSpec], list[UserUpdate], list[UserUpdate]]:
        """People: created, adopted, updated, and their school role groups; departed ones disabled."""
        create: list[UserSpec] = []
        update: list[UserUpdate] = []
        disable_users: list[UserUpdate] = []
        for person in mapped.desired.users.values():
            existing = current_users.get(person.clever_id)
            if existing is None:
                if person.matched_keycloak_id:
                    update.append(adopt(person))
                    for key in person.groups:
                        self._add(key, person.matched_keycloak_id)
                else:
                    create.append(person)
                    self.stale.update(person.groups)
                continue
            if (changed := user_update(person, existing)) is not None:
                update.append(changed)
            have = {k for k in current_keys.get(person.clever_id, set()) if k.endswith(ROLE_SUFFIXES)}
            for key in set(person.groups) - have:
                self._add(key, existing.keycloak_id)
            for key in have - set(person.groups):
                self._remove(key, existing.keycloak_id)
        for clever_id, event in sorted(self.changes.users.items()):
            existing = current_users.get(clever_id)
            if existing is None or clever_id in mapped.desired.users:
                continue
            # deleted in Clever (disabled), or out of scope / unnamed now (loses its groups only)
            for key in current_keys.get(clever_id, set()):
                self._remove(key, existing.keycloak_id)
            if event.action == "deleted" and existing.enabled:
                kind = self.applied.kinds([clever_id]).get(clever_id) or user_kind(existing.attributes)
                disable_users.append(disable(existing, kind, self.report.started))
        self.created_specs = {newcomer.clever_id: newcomer for newcomer in create}
        return create, update, disable_users

    def _plan_sections(self, current_users: dict[str, CurrentUser]) -> dict[str, GroupSpec]:
        """Sections: the class group and its members."""
        changes = self.changes
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
        # People this run links by name are members under the account they now own, as in a full run.
        member_ids.update(
            {
                cid: spec.matched_keycloak_id
                for cid, spec in self.mapped.desired.users.items()
                if spec.matched_keycloak_id
            }
        )
        specs: dict[str, GroupSpec] = {}
        for section_id, event in sorted(changes.sections.items()):
            section = event.record
            if not isinstance(section, Section):
                continue
            key = f"section:{section_id}"
            group = self._group(key)
            if event.action == "deleted" or section.school not in self.schools:
                if group is not None:
                    if "clever_removed_at" not in group.attributes and event.action == "deleted":
                        self.retire.append((group.keycloak_id, retired(group, self.report.started)))
                    self._members_of(key)
                    for keycloak_id in self.members.get(key, frozenset()):
                        self.removes[(key, keycloak_id)] = Membership(key, keycloak_id=keycloak_id)
                    self.section_members[key] = set()
                continue
            spec = self._section_spec(section, group, section_id in changes.renamed)
            specs[key] = spec
            parent = self._group(spec.parent or "")
            if group is None:
                self.create_groups.append(spec)
            elif (
                group.name != spec.name
                or not same_attributes(spec.attributes, group.attributes)
                or (parent is not None and group.parent_id != parent.keycloak_id)
            ):
                self.update_groups.append((group.keycloak_id, spec))
            present = self._members_of(key) if group is not None else frozenset()
            wanted: set[str] = set()
            for clever_id in people_of(section):
                if clever_id in deleted_people:
                    continue
                if clever_id in member_ids:
                    wanted.add(member_ids[clever_id])
                    if member_ids[clever_id] not in present:
                        self.adds[(key, member_ids[clever_id])] = Membership(
                            key, keycloak_id=member_ids[clever_id]
                        )
                elif clever_id in self.created_specs:
                    wanted.add("new:" + clever_id)
                    self.adds[(key, "new:" + clever_id)] = Membership(key, clever_id=clever_id)
            for keycloak_id in present - wanted:
                self.removes[(key, keycloak_id)] = Membership(key, keycloak_id=keycloak_id)
            self.section_members[key] = wanted
        return specs

    def _add(self, key: str, keycloak_id: str) -> None:
        self.adds[(key, keycloak_id)] = Membership(key, keycloak_id=keycloak_id)
        self.stale.add(key)

    def _remove(self, key: str, keycloak_id: str) -> None:
        self.removes[(key, keycloak_id)] = Membership(key, keycloak_id=keycloak_id)
        self.stale.add(key)

    # -- after applying -------------------------------------------------------------------------------

    def remember(self, failed: set[str]) -> None:
        """What the run left: the class fingerprints, the new accounts' ids; the changed people are
        read in full next time (``failed`` needs nothing more: they are among them)."""
        created = self.keycloak.created
        fingerprints: dict[str, str] = {}
        for key, wanted in self.section_members.items():
            if key in self.keycloak.group_ids and key not in self.keycloak.failed_groups:
                ids = {created.get(m[4:], "") if m.startswith("new:") else m for m in wanted}
                fingerprints[key] = fingerprint(self.keycloak.group_ids[key], ids - {""})
        self.applied.save_fingerprints(fingerprints, dropped=self.stale | self.keycloak.failed_groups)
        self.applied.drop_users(self.changes.users)  # their accounts are read in full next time
        self.applied.remember(ids=created, groups=self.keycloak.group_ids)


__all__ = ["events_since", "fold", "plan_events"]
