"""The map stage, first half: a snapshot's records read and sorted into the group tree, who is in
which class, and the people in scope (``read_roster``); the second half (``plugin.sync.desired_people``)
gives each person their account, given the realm's.

Policy lives in ``mappers/`` (names, class names, parents, layout); this module only wires it:

* groups: ``/Clever/<School>/{Students,Teachers,Staff,Parents,Classes/<class>}``, keyed by
  ``clever_key`` (``root``, ``school:<id>``, ``school:<id>:students``, ``school:<id>:classes``,
  ``section:<id>``); school and class groups carry ``clever_id``; a class group lists its teachers'
  Clever ids in ``clever_teachers`` (so teachers are told apart from students inside the class).
* people: one ``UserSpec`` per in-scope person; district admins get no school group.
* scope: people and sections of schools outside the chosen ones are not wanted (they lose their
  memberships) but are still *present*, so narrowing the scope never disables anybody.

Full and incremental runs map alike: the roster is the snapshot's (``plugin.sync.snapshot``), and
the run's ``Scope`` only says which of its records are decided (``MapInput``).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from mappers import eligibility
from mappers.classes import group_tree
from mappers.parents import ParentSpec, Relationships, parent_specs
from mappers.people import sort_people
from model.base import RecordError, RosterView
from model.records import User
from model.state import (
    Account,
    CurrentGroup,
    CurrentUser,
    DesiredState,
    GroupSpec,
)
from plugin.config.settings import SyncOptions
from plugin.sync.desired_match import NameMatch
from plugin.sync.scope import EVERYTHING, Scope


@dataclass(slots=True)
class Mapped:
    """The desired state plus what the report needs to say about how it was made."""

    desired: DesiredState
    school_names: dict[str, str]
    linked_by_name: dict[str, str] = field(default_factory=dict)  # Clever id -> Keycloak id
    match: NameMatch = field(default_factory=NameMatch)  # who was linked, who waits and why
    # Clever id -> what the admin page shows of a person who waits (``desired_people.person_details``)
    waiting_people: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resolved: set[str] = field(default_factory=set)  # Clever ids whose resolution this run applies
    held: dict[str, str] = field(default_factory=dict)  # Clever id -> kind, of people who wait
    contacts_off: set[str] = field(default_factory=set)  # contacts not synced (Sync Parent Data off)
    broken: set[str] = field(default_factory=set)  # people whose records Clever sent broken
    # Clever id -> the stored fingerprint the person's wanted attributes still match (``as_written``)
    confirmed: dict[str, str] = field(default_factory=dict)


Accounts = Iterable[Account] | Callable[..., Iterable[Account]]


@dataclass(frozen=True, slots=True)
class MapInput:
    """Everything the map stage reads besides the roster, made once a run (``plugin.sync.planner``).

    ``accounts`` may be a callable: it is called only when somebody has no account yet (reading the
    candidates costs Keycloak calls). ``resolutions`` are the admin's answers to ambiguous matches
    (``plugin.sync.resolutions``: Clever id -> Keycloak id or ``"create"``); ``refused_emails`` the
    addresses Keycloak refused before (Clever id -> address): not offered again. ``written``: Clever
    ids whose accounts an earlier run wrote (``plugin.sync.applied``). ``as_written`` (Clever id ->
    the ``model.state.user_fingerprint`` the last run wrote) is for accounts listed briefly,
    without their attributes (``plugin.sync.desired_people``). ``match_scope`` says where the
    district keeps each Clever role (``desired_match.match_scope``); ``hold`` lists Clever ids that
    get nothing this run and are not disabled (a link the sync did not make).
    """

    options: SyncOptions
    scope: Scope = EVERYTHING
    current_users: Mapping[str, CurrentUser] = field(default_factory=dict)
    current_groups: Mapping[str, CurrentGroup] = field(default_factory=dict)
    accounts: Accounts = ()
    usernames: Set[str] = frozenset()
    resolutions: Mapping[str, str] = field(default_factory=dict)
    refused_emails: Mapping[str, str] = field(default_factory=dict)
    as_written: Mapping[str, str] = field(default_factory=dict)
    written: Container[str] = frozenset()
    match_scope: eligibility.Scope = field(default_factory=eligibility.Scope)
    hold: Set[str] = frozenset()
    school_ids: frozenset[str] = frozenset()


@dataclass(slots=True)
class RosterRead:
    """The roster read and sorted: the part of the map stage that needs nothing from Keycloak
    (so the sync reads Clever while Keycloak is being read: ``plugin.sync.planner``)."""

    mapped: Mapped
    groups: dict[str, GroupSpec]
    in_sections: dict[str, tuple[str, ...]]
    people: list[User]
    present: set[str]
    relationships: Mapping[str, tuple[tuple[str, str, str], ...]]
    parent_specs: list[ParentSpec]


def read_roster(
    roster: RosterView,
    options: SyncOptions,
    school_ids: frozenset[str] = frozenset(),
    scope: Scope = EVERYTHING,
) -> RosterRead:
    """Read the roster's streams: the group tree, who is in which class, the people in scope."""
    schools, sections, users = roster.schools(), roster.sections(), roster.users()
    # A person whose record Clever sent broken (``connectors.clever``: ``bad_records``) is still in
    # Clever: an account they have is kept as it is, not disabled, in the groups it is in.
    # It is read after the users stream has passed: Clever's client adds to it as it streams.
    bad = getattr(roster, "bad_records", ())
    tree = group_tree(schools, sections, options.force_unique_class_names, school_ids)
    decided = None if scope.everything else scope.member_lists
    found = sort_people(users, tree, options.sync_parent_data, bad, decided)
    mapped = Mapped(
        DesiredState({}, {}),
        tree.school_names,
        skipped=found.skipped,
        warnings=[*tree.warnings, *found.warnings],
        contacts_off=found.contacts_off,
        broken=found.broken,
    )
    relationships: Relationships = {}
    parents: list[ParentSpec] = []
    if options.sync_parent_data:
        relationships, parents, skipped = parent_specs(found.people, found.contacts, tree.school_names)
        mapped.skipped.extend(
            RecordError(s.reason, kind="parents", clever_id=s.clever_id, person="parents") for s in skipped
        )
    people, present = found.people, found.present
    return RosterRead(mapped, tree.groups, tree.member_of, people, present, relationships, parents)
