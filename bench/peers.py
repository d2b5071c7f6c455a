"""The peers our sync is measured against, on the same people, each in a fresh realm.

* **Keycloak's own LDAP full sync** (``triggerFullSync``): the people are first loaded into a fresh
  OpenLDAP OU (not timed), then a READ_ONLY LDAP user-federation component is created in the realm
  and its full sync is timed. This is what a district gets from Keycloak alone (users only: the
  group tree would need a group-ldap-mapper, whose own sync comes on top).
* **The bulk-import floor** (``partialImport``): the same final users, with their attributes,
  federated-identity links and group memberships, and the group tree with its attributes, imported
  in batches. This is about as fast as Keycloak itself absorbs users; no sync can beat it by much.

Both are built from ``plugin.sync.desired_people.desired_state`` of the same roster, so they hold the state
our sync ends in.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from ldap3 import Connection
from ldap3.utils.dn import escape_rdn

from connectors.keycloak import group_path
from connectors.keycloak_http import KeycloakHttp
from connectors.keycloak_ldap import ldap_federation_component
from model.config import LdapSettings
from model.state import IDP_ALIAS, DesiredState, GroupSpec

# Keycloak imports a batch in one transaction whose cost per user grows with the batch (measured
# on 400 people of size S: 500 a batch ~1 s/user, 200: 78 ms, 50: 29 ms, 20: 15 ms, 10: 9 ms; four
# batches of 10 at a time: 7 ms). The floor uses the fastest setting found, at our sync's concurrency.
IMPORT_BATCH = 10
IMPORT_WORKERS = 4


@dataclass(frozen=True)
class Person:
    """A person as both peers see it: a directory entry and a final Keycloak user."""

    clever_id: str
    username: str
    first_name: str
    last_name: str
    email: str
    attributes: dict[str, list[str]]
    groups: tuple[str, ...]  # Keycloak group paths


@dataclass(frozen=True)
class PeerResult:
    method: str
    seconds: float
    people: int
    http_calls: int
    detail: dict[str, Any]


def people_of(desired: DesiredState) -> list[Person]:
    """The final users of ``desired``, ordered by Clever id.

    Keycloak refuses a second account with the same email; as our sync does on that 409, the later
    holder keeps the address as the ``clever_email`` attribute instead.
    """
    people: list[Person] = []
    emails: set[str] = set()
    for _, spec in sorted(desired.users.items()):
        attributes = {name: list(values) for name, values in spec.attributes.items() if values}
        email = spec.email
        if email and email.lower() in emails:
            attributes["clever_email"] = [email]
            email = ""
        emails.add(email.lower())
        groups = tuple(sorted(group_path(desired.groups, key) for key in spec.groups))
        people.append(
            Person(spec.clever_id, spec.username, spec.first_name, spec.last_name, email, attributes, groups)
        )
    return people


def load_ldap_people(conn: Connection, people_dn: str, people: Iterable[Person]) -> int:
    """Add one inetOrgPerson per person under ``people_dn`` (setup, not timed)."""
    count = 0
    for person in people:
        dn = person_dn(person, people_dn)
        attributes = {
            "uid": person.username,
            "cn": f"{person.first_name} {person.last_name}".strip() or person.username,
            "sn": person.last_name or person.username,
            "employeeNumber": person.clever_id,
        }
        if person.first_name:
            attributes["givenName"] = person.first_name
        if person.email:
            attributes["mail"] = person.email
        if not conn.add(dn, ["inetOrgPerson"], attributes):
            raise RuntimeError(f"LDAP refused {person.clever_id}: {conn.result['description']}")
        count += 1
    return count


def person_dn(person: Person, people_dn: str) -> str:
    return f"uid={escape_rdn(person.username)},{people_dn}"


def keycloak_ldap_full_sync(admin: KeycloakAdmin, realm: str, ldap: LdapSettings) -> PeerResult:
    """Create a READ_ONLY, importing LDAP federation of ``ldap.people_dn`` in ``realm`` (the one the
    demo and the tests use, ``connectors.keycloak_ldap``) and time its ``triggerFullSync``."""
    realm_id = admin.get_realm(realm)["id"]
    component_id = admin.create_component(ldap_federation_component(realm_id, ldap))
    started = time.perf_counter()
    result = admin.sync_users(component_id, "triggerFullSync")
    seconds = time.perf_counter() - started
    if int(result.get("failed", 0)):
        raise RuntimeError(f"Keycloak's LDAP sync failed for some users: {result}")
    people = int(result.get("added", 0)) + int(result.get("updated", 0))
    return PeerResult("keycloak-ldap-full-sync", seconds, people, 1, dict(result))


def load_ldap_groups(
    conn: Connection,
    groups_dn: str,
    people_dn: str,
    groups: Mapping[str, GroupSpec],
    people: Iterable[Person],
) -> int:
    """One ``groupOfNames`` per group of the tree with members, flat under ``groups_dn`` (setup).

    Keycloak's group-ldap-mapper keeps one level: the group ``/Clever/Lincoln High/Classes/Art 1``
    becomes ``cn=Lincoln High - Classes - Art 1`` (names are unique in a school, schools unique in
    the district). A ``groupOfNames`` must have a member, so a group nobody is in is left out (as
    in Keycloak it would be empty). Returns the number of groups added.
    """
    members: dict[str, list[str]] = {}
    for person in people:
        dn = person_dn(person, people_dn)
        for path in person.groups:
            members.setdefault(path, []).append(dn)
    for path, dns in members.items():
        name = flat_group_name(path)
        if not conn.add(f"cn={escape_rdn(name)},{groups_dn}", ["groupOfNames"], {"cn": name, "member": dns}):
            raise RuntimeError(f"LDAP refused group {path}: {conn.result['description']}")
    return len(members)


def flat_group_name(path: str) -> str:
    """``/Clever/Lincoln High/Students`` -> ``Lincoln High - Students`` (no ``/``: a path separator)."""
    return " - ".join(path.split("/")[2:])


def keycloak_ldap_full_sync_with_groups(
    admin: KeycloakAdmin, realm: str, ldap: LdapSettings, expected_memberships: int
) -> PeerResult:
    """(b2): Keycloak's LDAP federation with a group-ldap-mapper in IMPORT mode, as a district
    would set it up to get groups from its directory: the mapper's sync makes the groups under
    ``/Clever``, then ``triggerFullSync`` imports the users and, as each is imported, their
    memberships. Both syncs are timed; the memberships Keycloak ends with are counted (untimed)
    and must be ``expected_memberships``."""
    realm_id = admin.get_realm(realm)["id"]
    component_id = admin.create_component(ldap_federation_component(realm_id, ldap))
    admin.create_group({"name": "Clever"})
    mapper_id = admin.create_component(group_mapper_component(component_id, ldap.groups_dn))
    http = KeycloakHttp(admin)  # python-keycloak has no call for a mapper's sync
    started = time.perf_counter()
    groups = http.call(
        "POST", f"user-storage/{component_id}/mappers/{mapper_id}/sync", {}, direction="fedToKeycloak"
    ).json()
    users = admin.sync_users(component_id, "triggerFullSync")
    seconds = time.perf_counter() - started
    if int(users.get("failed", 0)) or int(groups.get("failed", 0)):
        raise RuntimeError(f"Keycloak's LDAP sync failed for some users or groups: {users} {groups}")
    memberships = _memberships(http, admin.get_group_by_path("/Clever")["id"])
    if memberships != expected_memberships:
        raise RuntimeError(f"Keycloak's LDAP sync made {memberships} memberships, not {expected_memberships}")
    people = int(users.get("added", 0)) + int(users.get("updated", 0))
    detail = {"users": dict(users), "groups": dict(groups), "memberships": memberships}
    return PeerResult("keycloak-ldap-full-sync-with-groups", seconds, people, 2, detail)


def group_mapper_component(parent_id: str, groups_dn: str) -> dict[str, Any]:
    """A group-ldap-mapper (IMPORT mode, flat groups under ``/Clever``) of the federation ``parent_id``."""
    config = {
        "groups.dn": groups_dn,
        "group.name.ldap.attribute": "cn",
        "group.object.classes": "groupOfNames",
        "preserve.group.inheritance": "false",
        "ignore.missing.groups": "false",
        "membership.ldap.attribute": "member",
        "membership.attribute.type": "DN",
        "membership.user.ldap.attribute": "uid",
        "groups.ldap.filter": "",
        "mode": "IMPORT",
        "user.roles.retrieve.strategy": "LOAD_GROUPS_BY_MEMBER_ATTRIBUTE",
        "memberof.ldap.attribute": "memberOf",
        "mapped.group.attributes": "",
        "drop.non.existing.groups.during.sync": "false",
        "groups.path": "/Clever",
    }
    return {
        "name": "district-groups",
        "providerId": "group-ldap-mapper",
        "providerType": "org.keycloak.storage.ldap.mappers.LDAPStorageMapper",
        "parentId": parent_id,
        "config": {name: [value] for name, value in config.items()},
    }


def _memberships(http: KeycloakHttp, root_id: str) -> int:
    """Members of every child group of ``root_id`` (the peer's groups are flat under it)."""
    children = http.pages(f"groups/{root_id}/children", briefRepresentation="true")
    return sum(
        sum(1 for _ in http.pages(f"groups/{child['id']}/members", briefRepresentation="true"))
        for child in children
    )


def partial_import_floor(
    admin: KeycloakAdmin, realm: str, groups: Mapping[str, GroupSpec], people: Sequence[Person]
) -> PeerResult:
    """Import the group tree, then the users (with attributes, links, groups) in batches; time both."""
    started = time.perf_counter()
    calls = 0
    result = admin.partial_import_realm(realm, {"ifResourceExists": "FAIL", "groups": group_tree(groups)})
    calls += 1
    groups_seconds = time.perf_counter() - started
    added = int(result.get("added", 0))

    def one(batch: Sequence[Person]) -> int:
        payload = {"ifResourceExists": "FAIL", "users": [user_representation(p) for p in batch]}
        return int(admin.partial_import_realm(realm, payload).get("added", 0))

    with ThreadPoolExecutor(IMPORT_WORKERS) as pool:
        for count in pool.map(one, _batches(people, IMPORT_BATCH)):
            added += count
            calls += 1
    seconds = time.perf_counter() - started
    return PeerResult(
        "keycloak-partial-import",
        seconds,
        len(people),
        calls,
        {
            "groups": len(groups),
            "added": added,
            "groups_seconds": round(groups_seconds, 3),
            "batch": IMPORT_BATCH,
            "parallel": IMPORT_WORKERS,
        },
    )


def user_representation(person: Person) -> dict[str, Any]:
    user: dict[str, Any] = {
        "username": person.username,
        "enabled": True,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "attributes": person.attributes,
        "groups": list(person.groups),
        "federatedIdentities": [
            {"identityProvider": IDP_ALIAS, "userId": person.clever_id, "userName": person.username}
        ],
    }
    if person.email:
        user["email"] = person.email
    return user


def group_tree(groups: Mapping[str, GroupSpec]) -> list[dict[str, Any]]:
    """Nested group representations (with the sync's attributes) of every desired group."""
    children: dict[str | None, list[GroupSpec]] = {}
    for spec in groups.values():
        children.setdefault(spec.parent if spec.parent in groups else None, []).append(spec)

    def build(parent: str | None, path: str) -> list[dict[str, Any]]:
        return [
            {
                "name": spec.name,
                "path": f"{path}/{spec.name}",
                "attributes": {name: list(values) for name, values in spec.attributes.items() if values},
                "subGroups": build(spec.key, f"{path}/{spec.name}"),
            }
            for spec in sorted(children.get(parent, []), key=lambda s: s.name)
        ]

    return build(None, "")


def _batches(items: Sequence[Person], size: int) -> Iterator[Sequence[Person]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
