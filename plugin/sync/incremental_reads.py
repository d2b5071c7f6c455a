"""What an incremental run reads from Keycloak: only the groups, accounts and member lists its events
touch, each once, several at a time on the directory's thread pool (``plugin.sync.incremental`` plans with
them: it prefetches what it knows it will need, then reads through the caches).

Keycloak ids come from ``plugin.sync.applied`` (what the last run left). A group the last run made and
Keycloak no longer has means a full run (``Fallback``).
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.base import bounded_map
from connectors.keycloak import KeycloakDirectory, admin_client
from connectors.keycloak_read import LdapProvider, current_user
from connectors.ldap import LdapDirectory
from connectors.ownership import owner_of_link
from connectors.records import Event, Section
from connectors.state import CurrentGroup, CurrentUser, DirectoryState, GroupSpec, fingerprint
from connectors.text import normalize_name
from mappers.classes import class_group_names
from plugin.config.settings import Settings
from plugin.sync.applied import Applied
from plugin.sync.events import Changes, Fallback, people_of
from plugin.sync.report import SyncReport


class IncrementalReads:
    """An incremental run's state and its reads: one group, account or member list at a time, cached."""

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
        self.keycloak = KeycloakDirectory(
            admin_client(settings.keycloak),
            bulk=settings.keycloak.bulk,
            health_url=settings.keycloak.health_url,
        )
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
        self.lists_read = 0  # member lists read from Keycloak
        self.lists_from_events = 0  # member lists known from update events (not read)

    # -- reads ------------------------------------------------------------------------------------

    def _group(self, key: str) -> CurrentGroup | None:
        if key not in self.groups and key in self.keycloak.group_ids:
            group_id = self.keycloak.group_ids[key]
            response = self.keycloak.http.call("GET", f"groups/{group_id}", ok=(404,))
            if response.status_code == 404:
                raise Fallback(f"group {key} is gone from Keycloak")
            rep = response.json()
            attributes = {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}
            self.groups[key] = CurrentGroup(group_id, key, rep["name"], rep.get("parentId"), attributes)
            self.keycloak.paths[key] = rep.get("path") or ""
        return self.groups.get(key)

    def _prefetch(self, keys: Iterable[str]) -> None:
        """Read the groups ``keys`` (those known and not read yet) in parallel."""
        wanted = sorted({k for k in keys if k not in self.groups and k in self.keycloak.group_ids})
        for _ in bounded_map(self._group, wanted, self.keycloak.workers if len(wanted) > 1 else 1):
            pass

    def _members_from_events(self, events: Iterable[Event]) -> None:
        """The member lists an update event tells: the class as it was before the update, when the
        fingerprint the last run left for its group says those were exactly its members then
        (anything else, a hand edit or several updates since, means reading the list)."""
        before: dict[str, Section] = {}
        for event in events:
            if (
                event.previous is not None
                and (key := f"section:{event.previous.clever_id}") in self.keycloak.group_ids
            ):
                before[key] = event.previous
        if not before:
            return
        ids = self.applied.keycloak_ids({c for section in before.values() for c in people_of(section)})
        stored = self.applied.fingerprints(before)
        for key, section in before.items():
            members = frozenset(ids[c] for c in people_of(section) if c in ids)
            if stored.get(key) == fingerprint(self.keycloak.group_ids[key], members):
                self.members[key] = members
                self.lists_from_events += 1

    def _prefetch_members(self, keys: Iterable[str]) -> None:
        """Read the member lists of the groups ``keys`` (already read, not listed yet) in parallel."""
        wanted = {k for k in keys if k not in self.members and k in self.groups}
        if wanted:
            self.lists_read += len(wanted)
            self.members.update(self.keycloak.members(self.groups, wanted))

    def _users(
        self, known: dict[str, str], providers: dict[str, LdapProvider]
    ) -> dict[str, tuple[CurrentUser, set[str]] | None]:
        """``_user`` of each Clever id -> Keycloak id in ``known``, in parallel."""
        items = sorted(known.items())

        def one(item: tuple[str, str]) -> tuple[CurrentUser, set[str]] | None:
            return self._user(item[1], item[0], providers)

        found = bounded_map(one, items, self.keycloak.workers if len(items) > 1 else 1)
        return {cid: user for (cid, _), user in zip(items, found, strict=True)}

    def _user(
        self, keycloak_id: str, clever_id: str, providers: dict[str, LdapProvider]
    ) -> tuple[CurrentUser, set[str]] | None:
        response = self.keycloak.http.call("GET", f"users/{keycloak_id}", ok=(404,))
        if response.status_code == 404:
            return None
        rep = response.json()
        if not any(owner_of_link(link) == clever_id for link in rep.get("federatedIdentities") or ()):
            # The memory of ids is a cache: this account is not the person's any more (unlinked).
            raise Fallback(f"the account the last run synced for {clever_id} is not theirs any more")
        attributes = {name: tuple(values) for name, values in (rep.get("attributes") or {}).items()}
        groups = self.keycloak.http.pages(f"users/{keycloak_id}/groups", 1000, briefRepresentation="true")
        keys = {self.key_of[g["id"]] for g in groups if g["id"] in self.key_of}
        return current_user(rep, clever_id, attributes, providers), keys

    def _members_of(self, key: str) -> frozenset[str]:
        if key not in self.members:
            self.lists_read += 1
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
                raise Fallback(f"school {section.school} has no class groups yet")
            siblings = self.keycloak.http.pages(
                f"groups/{classes.keycloak_id}/children", briefRepresentation="false"
            )
            for sibling in siblings:
                other = ((sibling.get("attributes") or {}).get("clever_key") or [""])[0]
                if other != key and normalize_name(sibling["name"]) == normalize_name(name):
                    raise Fallback(f"class name {section.clever_id} collides in its school")
        teachers = tuple(
            dict.fromkeys((section.teacher, *section.teachers) if section.teacher else section.teachers)
        )
        attributes = {"clever_key": (key,), "clever_id": (section.clever_id,), "clever_teachers": teachers}
        return GroupSpec(key, name, f"school:{section.school}:classes", "class", attributes)
