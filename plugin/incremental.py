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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from connectors.base import RecordError
from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.keycloak_read import LdapProvider, ldap_providers, person_names
from connectors.ldap import LdapDirectory, LdapGroup, diff_groups
from connectors.records import Event, Role, School, Section, User
from mappers.classes import class_group_names, school_group_names
from mappers.layout import ldap_rdn
from mappers.names import normalize_name
from plugin import resolutions
from plugin.applied import Applied, fingerprint
from plugin.desired import desired_state
from plugin.plan import (
    CurrentGroup,
    CurrentUser,
    DesiredState,
    DirectoryState,
    GroupSpec,
    Membership,
    Plan,
    UserSpec,
    UserUpdate,
    _adopt,
    _retired,
    _user_update,
)
from plugin.report import SyncReport
from plugin.settings import Settings

FULL_RATIO = 0.2  # more changed people than this share of the district: a full run is cheaper
ROLE_SUFFIXES = (":students", ":teachers", ":staff", ":parents")


@dataclass(slots=True)
class Changes:
    """The events folded: the last state of each touched record."""

    users: dict[str, Event] = field(default_factory=dict)
    sections: dict[str, Event] = field(default_factory=dict)
    schools: dict[str, Event] = field(default_factory=dict)
    renamed: set[str] = field(default_factory=set)  # sections created or renamed
    reason: str = ""


def fold(events: list[Event], *, sync_parents: bool) -> Changes:
    """Per record, its last event; ``reason`` says why a full run is needed instead."""
    changes = Changes()
    for event in events:
        record = event.record
        if record is None:
            continue
        if event.collection == "schools":
            if event.action != "updated":
                changes.reason = f"a school was {event.action}"
            changes.schools[record.clever_id] = event
        elif event.collection == "users" and isinstance(record, User):
            if record.roles and record.roles <= {Role.CONTACT}:
                if sync_parents:
                    changes.reason = "a contact changed and Sync Parent Data is on"
                continue
            changes.users[record.clever_id] = event
        elif event.collection == "sections":
            changes.sections[record.clever_id] = event
            if event.action == "created" or "name" in event.previous_attributes:
                changes.renamed.add(record.clever_id)
    return changes


class _Fallback(Exception):
    """The events need a full run (the message says why)."""


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
    totals = applied.totals()
    people = sum(totals.get(kind, 0) for kind in ("students", "teachers", "staff", "parents"))
    try:
        if changes.reason:
            raise _Fallback(changes.reason)
        if len(changes.users) > max(50, FULL_RATIO * people):
            raise _Fallback(f"{len(changes.users)} people changed")
        group_ids = applied.group_ids()
        if not group_ids:
            raise _Fallback("no record of the last run's groups")
        run = _Incremental(settings, changes, report, applied, group_ids, school_ids)
        plan, desired, ldap_plan = run.plan()
    except _Fallback as exc:
        report.warnings.append(f"incremental: {exc}: full sync instead")
        return None
    report.count_plan(plan, desired, run.current)
    report.preview.update(_preview(plan, ldap_plan, len(events)))
    report.preview["event_cursor"] = events[-1].event_id
    reasons = _brake(plan, totals, settings.options.brake_ratio)
    report.brake = {"held": bool(reasons) and not release_brake, "reasons": reasons}
    keycloak, ldap = run.keycloak, run.ldap
    if dry_run or (reasons and not release_brake):
        report.calls = dict(keycloak.calls)
        return report.finish("dry-run" if dry_run else "held")
    for failure in keycloak.apply(plan, desired):
        report.skip(failure)
        report.errors.append(f"keycloak: {failure.kind} {failure.clever_id}: {failure}")
    for failure in ldap.apply(ldap_plan):
        report.errors.append(f"ldap: {failure}")
    run.remember()
    report.writes = {"keycloak": keycloak.http.writes, "ldap": ldap.counts.writes}
    report.calls = dict(keycloak.calls)
    return report.finish("ok")


class _Incremental:
    """One incremental run's reads and plan (``plan()``), then what it remembers (``remember()``)."""

    def __init__(
        self,
        settings: Settings,
        changes: Changes,
        report: SyncReport,
        applied: Applied,
        group_ids: dict[str, str],
        school_ids: frozenset[str],
    ) -> None:
        self.settings = settings
        self.changes = changes
        self.report = report
        self.applied = applied
        self.keycloak = KeycloakDirectory(admin_client(settings.keycloak))
        self.keycloak.group_ids = dict(group_ids)
        self.ldap = LdapDirectory(settings.ldap)
        self.key_of = {group_id: key for key, group_id in group_ids.items()}
        self.schools = {
            key.split(":")[1]
            for key in group_ids
            if key.startswith("school:")
            and key.count(":") == 1
            and (not school_ids or key.split(":")[1] in school_ids)
        }
        self.groups: dict[str, CurrentGroup] = {}
        self.members: dict[str, frozenset[str]] = {}
        self.current = DirectoryState({}, {}, {})
        self.section_members: dict[str, set[str]] = {}  # key -> final Keycloak ids (created: Clever ids)
        self.stale: set[str] = set()  # role groups whose fingerprint no longer holds

    # -- reads ------------------------------------------------------------------------------------

    def _group(self, key: str) -> CurrentGroup | None:
        if key not in self.groups and key in self.keycloak.group_ids:
            group_id = self.keycloak.group_ids[key]
            response = self.keycloak.http.call("GET", f"groups/{group_id}", ok=(404,))
            if response.status_code == 404:
                raise _Fallback(f"group {key} is gone from Keycloak")
            rep = response.json()
            attributes = {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}
            self.groups[key] = CurrentGroup(group_id, key, rep["name"], rep.get("parentId"), attributes)
            self.keycloak.paths[key] = rep.get("path") or ""
        return self.groups.get(key)

    def _user(
        self, keycloak_id: str, clever_id: str, providers: dict[str, LdapProvider]
    ) -> tuple[CurrentUser, set[str]] | None:
        response = self.keycloak.http.call("GET", f"users/{keycloak_id}", ok=(404,))
        if response.status_code == 404:
            return None
        rep = response.json()
        attributes = {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}
        groups = self.keycloak.http.get(f"users/{keycloak_id}/groups", briefRepresentation="true", max=1000)
        keys = {self.key_of[g["id"]] for g in groups if g["id"] in self.key_of}
        federation = rep.get("federationLink") or ""
        provider = providers.get(federation)
        first_name, last_name = person_names(rep, providers)
        user = CurrentUser(
            keycloak_id=keycloak_id,
            clever_id=clever_id,
            username=rep["username"],
            first_name=first_name,
            last_name=last_name,
            email=rep.get("email") or "",
            enabled=bool(rep.get("enabled", True)),
            attributes=attributes,
            read_only=provider is not None and provider.edit_mode == "READ_ONLY",
            ldap_dn=(attributes.get("LDAP_ENTRY_DN") or ("",))[0],
        )
        return user, keys

    # -- the plan ---------------------------------------------------------------------------------

    def plan(self) -> tuple[Plan, DesiredState, Any]:
        changes, settings = self.changes, self.settings
        removed_at = self.report.started
        create_groups: list[GroupSpec] = []
        update_groups: list[tuple[str, GroupSpec]] = []
        retire: list[tuple[str, GroupSpec]] = []
        adds: dict[tuple[str, str], Membership] = {}
        removes: dict[tuple[str, str], Membership] = {}

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
                raise _Fallback(f"school {school_id}'s new name is taken")
            spec = GroupSpec(key, name, "root", "school", {"clever_key": (key,), "clever_id": (school_id,)})
            school_specs[key] = spec
            if group.name != name or any(group.attributes.get(k) != v for k, v in spec.attributes.items()):
                update_groups.append((group.keycloak_id, spec))

        # people
        providers = ldap_providers(self.keycloak.http)
        known = self.applied.keycloak_ids(changes.users)
        current_users: dict[str, CurrentUser] = {}
        current_keys: dict[str, set[str]] = {}
        for clever_id, keycloak_id in sorted(known.items()):
            found = self._user(keycloak_id, clever_id, providers)
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
            state = self.keycloak.current(
                with_accounts=settings.options.match_users_by_name, with_members=False
            )
            for user in newcomers:
                existing = state.directory.users.get(user.clever_id)
                if existing is not None:  # synced before, but not in the memory of ids
                    current_users[user.clever_id] = existing
                    current_keys[user.clever_id] = self._user(
                        existing.keycloak_id, user.clever_id, providers
                    )[1]  # type: ignore[index]
            accounts, usernames = state.candidates, state.usernames
        roster = _Roster([School(s, "", s) for s in sorted(self.schools)], records)
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
        )
        self.mapped = mapped
        for warning in mapped.warnings:
            self.report.warnings.append(warning)
        for error in mapped.skipped:
            self.report.skip(error)
        for ambiguity in mapped.ambiguous:
            self.report.ambiguous.append(
                {
                    "clever_ids": list(ambiguity.clever_ids),
                    "keycloak_ids": list(ambiguity.keycloak_ids),
                    "reason": ambiguity.reason,
                }
            )
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
            for key in person.groups - have:
                adds[(key, existing.keycloak_id)] = Membership(key, keycloak_id=existing.keycloak_id)
                self.stale.add(key)
            for key in have - person.groups:
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
                        _kind(existing),
                        fields={"enabled": False},
                        attributes={"clever_removed_at": (removed_at,)},
                    )
                )
        self.created_specs = {newcomer.clever_id: newcomer for newcomer in create_users}

        # sections: the class group and its members
        deleted_people = {cid for cid, e in changes.users.items() if e.action == "deleted"}
        member_ids = self.applied.keycloak_ids(
            {m for e in changes.sections.values() if isinstance(e.record, Section) for m in _people(e.record)}
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
            for clever_id in _people(section):
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
        for newcomer in create_users:  # a newcomer's role groups go in the create call: paths needed
            for key in newcomer.groups:
                self._group(key)

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
            self._ldap_plan(school_specs, section_specs, mapped.desired.users, current_users),
        )

    def _members_of(self, key: str) -> frozenset[str]:
        if key not in self.members:
            self.members.update(self.keycloak.members(self.groups, {key}))
            self.members.setdefault(key, frozenset())
        return self.members[key]

    def _section_spec(self, section: Section, group: CurrentGroup | None, renamed: bool) -> GroupSpec:
        key = f"section:{section.clever_id}"
        unique = self.settings.options.force_unique_class_names
        name = class_group_names([section], unique, {section.school: ""}).names[section.clever_id]
        if group is not None and not renamed:
            name = group.name  # it may carry a collision suffix the full run gave it
        elif not unique:
            classes = self._group(f"school:{section.school}:classes")
            if classes is None:
                raise _Fallback(f"school {section.school} has no class groups yet")
            siblings = self.keycloak.http.pages(
                f"groups/{classes.keycloak_id}/children", briefRepresentation="false"
            )
            for sibling in siblings:
                other = ((sibling.get("attributes") or {}).get("clever_key") or [""])[0]
                if other != key and normalize_name(sibling["name"]) == normalize_name(name):
                    raise _Fallback(f"class name {section.clever_id} collides in its school")
        teachers = tuple(
            dict.fromkeys((section.teacher, *section.teachers) if section.teacher else section.teachers)
        )
        attributes = {"clever_key": (key,), "clever_id": (section.clever_id,), "clever_teachers": teachers}
        return GroupSpec(key, name, f"school:{section.school}:classes", "class", attributes)

    # -- LDAP ---------------------------------------------------------------------------------------

    def _ldap_plan(
        self,
        school_specs: dict[str, GroupSpec],
        section_specs: dict[str, GroupSpec],
        users: Any,
        current_users: dict[str, CurrentUser],
    ) -> Any:
        groups_dn = self.settings.ldap.groups_dn
        dns = {cid: u.ldap_dn for cid, u in current_users.items() if u.ldap_dn}
        movers = {cid: dn for cid, dn in dns.items()}  # people with a DN whose schools may change
        keys = set(school_specs) | {
            f"section:{e.record.clever_id}" for e in self.changes.sections.values() if e.record
        }
        school_keys = {f"school:{s}" for s in self.schools} if movers else set()
        for spec in section_specs.values():
            school_keys.add(spec.parent.rsplit(":", 1)[0] if spec.parent else "")
        keys |= school_keys
        current = self.ldap.current(keys)
        dns.update(
            self.applied.dns(
                {
                    m
                    for e in self.changes.sections.values()
                    if isinstance(e.record, Section)
                    for m in _people(e.record)
                }
            )
        )
        wanted: dict[str, LdapGroup] = {}
        for key in sorted(school_keys | set(school_specs)):
            have = current.get(key)
            group = self._group(key)
            name = school_specs[key].name if key in school_specs else group.name if group else ""
            if not name or have is None:
                continue
            kept = set(have.members)
            for cid, dn in movers.items():
                spec = users.get(cid)
                inside = spec is not None and any(g.startswith(key + ":") for g in spec.groups)
                (kept.add if inside else kept.discard)(dn)
            wanted[key] = LdapGroup(key, f"{ldap_rdn(name)},{groups_dn}", frozenset(kept), name=name)
        for key, spec in section_specs.items():
            school = wanted.get((spec.parent or "").rsplit(":", 1)[0])
            if school is None:
                continue
            people = spec.attributes.get("clever_teachers", ()) + tuple(_people_of_key(self.changes, key))
            members = frozenset({groups_dn, *(dns[p] for p in people if p in dns)})
            owners = frozenset(dns[t] for t in spec.attributes.get("clever_teachers", ()) if t in dns)
            wanted[key] = LdapGroup(key, f"{ldap_rdn(spec.name)},{school.dn}", members, owners, spec.name)
        for key in keys:  # sections gone: in current, not wanted → emptied by diff_groups
            if key not in wanted and key in current and not key.startswith("section:"):
                wanted[key] = current[key]
        return diff_groups(wanted, {k: v for k, v in current.items() if k in keys}, groups_dn)

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
                self.report.warnings.append(
                    f"{clever_id}: Keycloak refused the email address (another account holds it): "
                    "the account has none; not retried until the address changes in Clever"
                )
        if self.mapped.resolved:
            redis = Redis.from_url(self.settings.redis_url)
            for clever_id in self.mapped.resolved:
                resolutions.forget(redis, self.settings.keycloak.realm, clever_id)


@dataclass
class _Roster:
    """The changed people as a roster view for ``desired_state`` (no sections: those are per event)."""

    schools_: list[School]
    users_: list[User]

    def schools(self) -> list[School]:
        return self.schools_

    def users(self, role: Any = None) -> list[User]:
        return self.users_

    def sections(self) -> list[Section]:
        return []


def _people(section: Section) -> tuple[str, ...]:
    teachers = (section.teacher, *section.teachers) if section.teacher else section.teachers
    return tuple(dict.fromkeys((*teachers, *section.students)))


def _people_of_key(changes: Changes, key: str) -> tuple[str, ...]:
    event = changes.sections.get(key.removeprefix("section:"))
    return _people(event.record) if event and isinstance(event.record, Section) else ()


def _same(wanted: Any, have: Any) -> bool:
    if "clever_removed_at" in have and "clever_removed_at" not in wanted:
        return False
    return all(tuple(have.get(name, ())) == tuple(values) for name, values in wanted.items())


def _kind(user: CurrentUser) -> str:
    from plugin.plan import user_kind

    return user_kind(user.attributes)


def _brake(plan: Plan, totals: dict[str, int], ratio: float) -> list[str]:
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


def _preview(plan: Plan, ldap_plan: Any, events: int) -> dict[str, Any]:
    from plugin.sync import preview

    return {**preview(plan, ldap_plan), "events": events}


__all__ = ["RecordError", "fold", "run_incremental"]
