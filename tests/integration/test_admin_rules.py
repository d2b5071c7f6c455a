"""The waiting list an admin acts on, through the page's own forms (real Keycloak sign-in, OpenLDAP,
Redis): each waiting person by name with their candidates, nothing preselected; possible matches
confirmed in bulk by a rule read on the page, one resolution and one audit entry per person; the
next sync links them, counts them "linked by admin", and they leave the list."""

from __future__ import annotations

import html
import re

import pytest
from flask.testing import FlaskClient
from keycloak import KeycloakAdmin
from ldap3 import Connection
from redis import Redis

from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.sso import links
from plugin.sync import resolutions
from tests.conftest import LdapOu
from tests.factories import make_school, make_teacher
from tests.idp import register_idp
from tests.integration.test_admin_auth import keycloak_sign_in, make_user
from tests.integration.test_link_candidates import federate_subtree
from tests.integration.test_link_decisions import admin_redis, page_settings, sync
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration
__all__ = ["admin_redis", "page_settings"]  # fixtures of the admin tests, used here too


def signed_in(settings: Settings, username: str) -> tuple[FlaskClient, str]:
    """A browser-like client signed in through Keycloak's form, and the page it sees."""
    client = create_app(settings).test_client()
    assert keycloak_sign_in(client, username).status_code == 302
    page = client.get(f"{URL_PREFIX}/")
    assert page.status_code == 200
    return client, page.get_data(as_text=True)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


def rule_form(page: str, words: str) -> tuple[str, str]:
    """The key and count of the rule form that reads ``words``."""
    for form in re.findall(r'<form[^>]*class="rule".*?</form>', page, re.S):
        if words in html.unescape(form):
            key = re.search(r'name="rule" value="([^"]+)"', form)[1]  # type: ignore[index]
            count = re.search(r'name="count" value="([^"]+)"', form)[1]  # type: ignore[index]
            return key, count
    raise AssertionError(f"no rule reads {words!r}")


def teachers_ou(ldap_conn: Connection, ldap_ou: LdapOu) -> str:
    ou = f"ou=teachers,{ldap_ou.people_dn}"
    assert ldap_conn.add(ou, ["organizationalUnit"])
    for uid, given, sn in (("lpark", "Lee-Ann", "Park"), ("jgarcia", "Jose", "Garcia Lopez")):
        attributes = {"cn": f"{given} {sn}", "sn": sn, "givenName": given}
        assert ldap_conn.add(f"uid={uid},{ou}", ["inetOrgPerson"], attributes)
    return ou


def test_possible_matches_are_confirmed_by_a_rule_on_the_page_and_linked_by_the_next_sync(
    page_settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    settings = page_settings
    ou = teachers_ou(ldap_conn, ldap_ou)
    register_idp(keycloak_admin)
    federate_subtree(keycloak_admin, settings, ldap_ou.people_dn)
    maeve = keycloak_admin.create_user(
        {"username": "mobrien", "enabled": True, "firstName": "Maeve", "lastName": "OBrien"}
    )
    make_user(keycloak_admin, "it-admin", client_roles=("realm-admin",))
    make_user(keycloak_admin, "page-only", realm_roles=("clever-admin",))
    school = make_school("Lincoln Elementary")
    lee = make_teacher("Lee Ann", "Park", school=school.clever_id, sis_id="T-100", title="Art")
    jose = make_teacher("José", "García-López", school=school.clever_id)
    maeve_t = make_teacher("Maeve", "O'Brien", school=school.clever_id)
    source = MemorySource(MemoryRoster([school], [lee, jose, maeve_t], []))
    sync(settings, source)
    ids = {u: keycloak_admin.get_users({"username": u, "exact": True})[0]["id"] for u in ("lpark", "jgarcia")}

    client, page = signed_in(settings, "it-admin")

    text = html.unescape(page)
    # Each waiting person by name, role, school, title and SIS id; each candidate by username, name,
    # where it comes from and why; nothing preselected.
    assert "Lee Ann Park" in text and "teacher · Lincoln Elementary · Art · SIS id T-100" in text
    # (Keycloak's default LDAP mapper reads the first name from cn: the page shows Keycloak's names.)
    assert re.search(rf"lpark</strong> \(Lee-Ann Park[^)]*\) · LDAP uid=lpark,{ou}", page)
    assert "mobrien</strong> (Maeve OBrien) · local account" in text
    assert "only in hyphens, spaces or apostrophes" in text
    assert not re.search(r'type="radio"[^>]*checked', page)
    words = f"candidates from {ou.casefold()} that hold nothing beyond the realm's defaults"
    key, count = rule_form(page, words)
    assert count == "2"

    refused = client.post(
        f"{URL_PREFIX}/confirm-rule", data={"csrf_token": csrf(page), "rule": key, "count": "3"}
    )
    assert refused.status_code == 302
    assert "changed since the page was shown" in client.get(f"{URL_PREFIX}/").get_data(as_text=True)
    other, other_page = signed_in(settings, "page-only")
    by_page_only = other.post(
        f"{URL_PREFIX}/confirm-rule", data={"csrf_token": csrf(other_page), "rule": key, "count": count}
    )
    assert by_page_only.status_code == 302
    redis = Redis.from_url(settings.redis_url)
    assert resolutions.load(redis, settings.keycloak.realm) == {}

    confirmed = client.post(
        f"{URL_PREFIX}/confirm-rule", data={"csrf_token": csrf(page), "rule": key, "count": count}
    )
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("#waiting")
    after = html.unescape(client.get(f"{URL_PREFIX}/").get_data(as_text=True))
    flashes = re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', after)
    assert "Confirmed 2 possible matches" in after and "lpark, jgarcia" in after, flashes

    assert resolutions.load(redis, settings.keycloak.realm) == {
        jose.clever_id: ids["jgarcia"],
        lee.clever_id: ids["lpark"],
    }
    audit = links.audit_log(redis, settings.keycloak.realm)
    assert sorted((e["who"], e["action"], e["clever_id"], e["keycloak_id"]) for e in audit) == sorted(
        [
            ("it-admin", "confirm-rule", jose.clever_id, ids["jgarcia"]),
            ("it-admin", "confirm-rule", lee.clever_id, ids["lpark"]),
        ]
    )

    report = sync(settings, source)

    for person, username in ((lee, "lpark"), (jose, "jgarcia")):
        links_of = keycloak_admin.get_user_social_logins(ids[username])
        assert [(link["identityProvider"], link["userId"]) for link in links_of] == [
            ("clever", person.clever_id)
        ]
    assert (
        report.kinds["teachers"]["linked_by_admin"] == 2 and report.kinds["teachers"]["linked_by_name"] == 0
    )
    assert [w["clever_id"] for w in report.waiting] == [maeve_t.clever_id]  # the others left the list
    assert keycloak_admin.get_user_social_logins(maeve) == []
    final = html.unescape(client.get(f"{URL_PREFIX}/").get_data(as_text=True))
    assert "Lee Ann Park" not in final and "Maeve O'Brien" in final


def test_one_waiting_person_is_linked_by_choosing_the_account_and_the_answer_names_its_username(
    page_settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    settings = page_settings
    register_idp(keycloak_admin)
    twins = [
        keycloak_admin.create_user(
            {"username": f"twin{i}", "enabled": True, "firstName": "Ada", "lastName": "King"}
        )
        for i in (1, 2)
    ]
    make_user(keycloak_admin, "it-admin", client_roles=("realm-admin",))
    school = make_school("Lincoln Elementary")
    ada = make_teacher("Ada", "King", school=school.clever_id)
    source = MemorySource(MemoryRoster([school], [ada], []))
    sync(settings, source)
    client, page = signed_in(settings, "it-admin")
    assert "twin1</strong> (Ada King) · local account" in page and not re.search(
        r'type="radio"[^>]*checked', page
    )

    client.post(
        f"{URL_PREFIX}/resolve",
        data={"csrf_token": csrf(page), "clever_id": ada.clever_id, "choice": twins[1]},
    )

    answer = html.unescape(client.get(f"{URL_PREFIX}/").get_data(as_text=True))
    assert (
        f"Ada King (Clever id {ada.clever_id}) will be linked to the account twin2 by the next sync" in answer
    )
    assert twins[1] not in answer.split("will be linked")[1].split("</div>")[0]  # no Keycloak id
    report = sync(settings, source)
    assert report.kinds["teachers"]["linked_by_admin"] == 1 and report.waiting == []
    assert (
        "Ada King"
        not in html.unescape(client.get(f"{URL_PREFIX}/").get_data(as_text=True)).split("Waiting for you")[1]
    )
