"""Deny by default, on the real Keycloak, OpenLDAP and Redis, with the default settings: an account is
a name-match candidate only when it holds nothing beyond the realm's defaults; near names and names
another identity provider writes at login wait as possible matches; nobody who waits gets a second
account. What an admin sees is the report's waiting list (the page shows it: ``test_admin_rules``).
"""

from __future__ import annotations

from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from model.records import User
from plugin.config.settings import Settings
from plugin.sync.pipeline import run_sync
from plugin.sync.report import SyncReport
from tests.conftest import LdapOu
from tests.factories import make_school, make_student, make_teacher
from tests.idp import register_idp
from tests.integration.test_link_candidates import federate_subtree
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration
SCHOOL = make_school("Lincoln Elementary", clever_id="5f00000000000000000000a1")


def sync(settings: Settings, people: list[User]) -> SyncReport:
    report = run_sync(settings, source=MemorySource(MemoryRoster([SCHOOL], people, [])), district_id="d1")
    assert report.status == "ok", report.summary()
    return report


def local_account(admin: KeycloakAdmin, username: str, first: str, last: str, **extra: Any) -> str:
    rep = {"username": username, "firstName": first, "lastName": last, "enabled": True, **extra}
    return str(admin.create_user(rep))


def waiting(report: SyncReport, person: User) -> dict[str, Any]:
    [entry] = [w for w in report.waiting if w["clever_id"] == person.clever_id]
    return entry


def clever_accounts(admin: KeycloakAdmin, person: User) -> list[dict[str, Any]]:
    return list(admin.get_users({"idpAlias": "clever", "idpUserId": person.clever_id}))


def test_a_staff_account_and_another_clients_power_role_are_never_matched_and_both_are_listed(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    register_idp(keycloak_admin)
    keycloak_admin.create_realm_role({"name": "staff"})
    office = local_account(keycloak_admin, "jdatos.office", "Jess", "Datos")
    keycloak_admin.assign_realm_roles(office, [keycloak_admin.get_realm_role("staff")])
    gradebook = keycloak_admin.create_client({"clientId": "gradebook", "enabled": True})
    keycloak_admin.create_client_role(gradebook, {"name": "superuser"})
    grader = local_account(keycloak_admin, "aking", "Ada", "King")
    keycloak_admin.assign_client_role(
        grader, gradebook, [keycloak_admin.get_client_role(gradebook, "superuser")]
    )
    student = make_student("Jess", "Datos", school=SCHOOL.clever_id)
    teacher = make_teacher("Ada", "King", school=SCHOOL.clever_id)

    report = sync(settings, [student, teacher])

    for account, person, said in (
        (office, student, "holds realm role staff"),
        (grader, teacher, "holds client role gradebook/superuser"),
    ):
        assert keycloak_admin.get_user_social_logins(account) == [], report.summary()
        assert "clever_id" not in (keycloak_admin.get_user(account).get("attributes") or {})
        assert clever_accounts(keycloak_admin, person) == []  # no account of their own either: they wait
        entry = waiting(report, person)
        assert entry["kind"] == "refused-link" and said in entry["reason"]
        assert [(c["keycloak_id"], c["why"], c["source"]) for c in entry["listed"]] == [
            (account, said, "local")
        ]
    assert report.kinds["students"]["waiting"] == 1 and report.kinds["teachers"]["waiting"] == 1
    assert not any("Jess" in line or "Datos" in line for line in [*report.warnings, report.summary()])


def test_near_names_are_possible_matches_and_no_second_account_is_made(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    dn = f"uid=lpark,{ldap_ou.people_dn}"
    assert ldap_conn.add(dn, ["inetOrgPerson"], {"cn": "Lee-Ann Park", "sn": "Park", "givenName": "Lee-Ann"})
    register_idp(keycloak_admin)
    federate_subtree(keycloak_admin, settings, ldap_ou.people_dn)
    jose = local_account(keycloak_admin, "jgarcialopez", "Jose", "Garcia Lopez")
    lee_ann = keycloak_admin.get_users({"username": "lpark", "exact": True})[0]["id"]
    people = [
        make_teacher("José", "García-López", school=SCHOOL.clever_id),
        make_teacher("Lee Ann", "Park", school=SCHOOL.clever_id),
    ]
    before = keycloak_admin.users_count()

    report = sync(settings, people)

    assert keycloak_admin.users_count() == before, report.summary()  # no second account
    for person, account, source in ((people[0], jose, "local"), (people[1], lee_ann, "ldap")):
        entry = waiting(report, person)
        assert (entry["kind"], entry["candidates"]) == ("possible-match", [account])
        [listed] = entry["listed"]
        assert listed["source"] == source and "only in hyphens, spaces or apostrophes" in listed["why"]
        assert keycloak_admin.get_user_social_logins(account) == []
    assert waiting(report, people[1])["listed"][0]["base"] == ldap_ou.people_dn.casefold()
    assert report.kinds["teachers"]["created"] == 0 and report.kinds["teachers"]["waiting"] == 2


def test_an_account_whose_names_another_provider_forces_waits_until_the_district_runs_them(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    for alias in ("clever", "google", "entra"):
        register_idp(keycloak_admin, alias)
    google = keycloak_admin.get_idp("google")
    keycloak_admin.update_idp("google", {**google, "config": {**google["config"], "syncMode": "FORCE"}})
    keycloak_admin.add_mapper_to_idp(  # Entra imports, but its last-name mapper forces at every login
        "entra",
        {
            "name": "last name",
            "identityProviderAlias": "entra",
            "identityProviderMapper": "oidc-user-attribute-idp-mapper",
            "config": {"claim": "family_name", "user.attribute": "lastName", "syncMode": "FORCE"},
        },
    )
    accounts = {
        alias: local_account(
            keycloak_admin,
            f"{alias}-user",
            "Sam",
            alias.title(),
            federatedIdentities=[{"identityProvider": alias, "userId": f"{alias}-1", "userName": "sam"}],
        )
        for alias in ("google", "entra")
    }
    people = [make_teacher("Sam", "Google", school=SCHOOL.clever_id)]
    people.append(make_teacher("Sam", "Entra", school=SCHOOL.clever_id))

    report = sync(settings, people)

    for person, alias in zip(people, ("google", "entra"), strict=True):
        entry = waiting(report, person)
        assert entry["kind"] == "possible-match" and f"identity provider {alias}" in entry["reason"]
        assert entry["listed"][0]["source"] == alias
        assert clever_accounts(keycloak_admin, person) == []

    marked = sync(settings.with_options(admin_run_name_providers=("google", "entra")), people)

    assert marked.waiting == [] and marked.kinds["teachers"]["linked_by_name"] == 2, marked.summary()
    for person, alias in zip(people, ("google", "entra"), strict=True):
        links = keycloak_admin.get_user_social_logins(accounts[alias])
        assert {(link["identityProvider"], link["userId"]) for link in links} == {
            (alias, f"{alias}-1"),
            ("clever", person.clever_id),
        }
