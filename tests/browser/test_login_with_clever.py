"""Login with Clever in a real headless Chromium, through the real Keycloak, the sandbox and the sidecar.

Each journey ends on what a person sees (the Account Console with their username, or Keycloak's error
page) and on what Keycloak holds (a session of the pre-linked user, no new user). Screenshots of every
journey are kept under ``test-artifacts/``.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from playwright.sync_api import Page, Route, expect

from plugin.sso.broker import (
    DENY_DUPLICATE_MESSAGE,
    DENY_UNKNOWN_MESSAGE,
    FLOW_ALIAS,
    ensure_broker,
    fetch_discovery,
)
from plugin.sso.portal_flow import PORTAL_CLIENT_ID
from tests.browser_fixtures import ARTIFACTS, CleverWorld, follow

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def expect_signed_in(page: Page, world: CleverWorld, keycloak_id: str, users_before: int) -> None:
    """The browser is on the Account Console as the pre-linked user; no account was added."""
    page.wait_for_url(f"{world.account_url}**")
    username = world.admin.get_user(keycloak_id)["username"]
    expect(page.get_by_label("Username")).to_have_value(username)
    assert world.sessions(keycloak_id), "the pre-linked user has no Keycloak session"
    assert world.user_count() == users_before


def start_at_keycloak(page: Page, world: CleverWorld) -> None:
    """Open the Account Console, meet Keycloak's login page, press "Clever"."""
    page.goto(world.account_url)
    expect(page.locator("#social-clever")).to_have_text("Clever")
    page.click("#social-clever")
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_a_linked_person_signs_in_from_the_keycloak_login_page(
    page: Page, clever_world: CleverWorld, role: str
) -> None:
    person = clever_world.person(role)
    keycloak_id = clever_world.prelink(person)
    users = clever_world.user_count()

    start_at_keycloak(page, clever_world)
    page.click(f"#login-{person['id']}")

    expect_signed_in(page, clever_world, keycloak_id, users)
    roles = {r["name"] for r in clever_world.admin.get_realm_roles_of_user(keycloak_id)}
    assert f"clever-{role}" not in roles  # the sync owns roles of linked people (IMPORT mappers)


def test_a_student_signs_in_with_a_clever_badge(page: Page, clever_world: CleverWorld) -> None:
    student = clever_world.person("student", 1)
    keycloak_id = clever_world.prelink(student)
    users = clever_world.user_count()

    start_at_keycloak(page, clever_world)
    page.fill("#badge_code", clever_world.sandbox.badge_code(student["id"]))
    page.click("#badge-submit")

    expect_signed_in(page, clever_world, keycloak_id, users)


def test_a_login_started_in_the_clever_portal_without_state(page: Page, clever_world: CleverWorld) -> None:
    teacher = clever_world.person("teacher", 1)
    keycloak_id = clever_world.prelink(teacher)
    users = clever_world.user_count()
    page.goto(f"{clever_world.sandbox_url}/portal")
    journey = follow(page)

    page.click(f"#instant-login-{teacher['id']}")

    expect_signed_in(page, clever_world, keycloak_id, users)
    # Clever sent the state-less code to the sidecar's route, which never used it ...
    (arrival,) = journey.hops(f"{clever_world.sidecar_url}/clever/login")
    assert "code" in arrival and "state" not in arrival
    # ... and started Keycloak's own login, whose hop to Clever was silent (Clever's session) ...
    logins = journey.hops(f"{clever_world.realm_url}/protocol/openid-connect/auth")
    (keycloak_login,) = [q for q in logins if q["client_id"] == PORTAL_CLIENT_ID]  # not the console's own
    assert keycloak_login["kc_idp_hint"] == "clever" and keycloak_login["max_age"] == "0"
    (hop,) = journey.hops(f"{clever_world.sandbox_url}/oauth/authorize")
    assert hop["state"] and hop["code_challenge"] and hop["nonce"]
    assert not journey.showed(f"{clever_world.sandbox_url}/oauth/authorize")
    # ... so Keycloak's broker endpoint got a fresh code with its own state.
    (callback,) = journey.hops(f"{clever_world.realm_url}/broker/clever/endpoint")
    assert callback["state"] == hop["state"] and callback["code"] != arrival["code"]


def test_a_portal_login_on_a_shared_device_never_continues_the_previous_person(
    page: Page, clever_world: CleverWorld
) -> None:
    first, second = clever_world.person("student", 2), clever_world.person("student", 3)
    first_id, second_id = clever_world.prelink(first), clever_world.prelink(second)
    users = clever_world.user_count()
    start_at_keycloak(page, clever_world)
    page.click(f"#login-{first['id']}")
    expect_signed_in(page, clever_world, first_id, users)
    page.goto(f"{clever_world.sandbox_url}/portal")
    journey = follow(page)

    page.click(f"#instant-login-{second['id']}")

    # The portal click signs the browser in to Clever as the second student, so Clever's silent hop
    # brings Keycloak's broker endpoint a code for the second student. The portal's flow has no
    # Cookie step, so Keycloak never reuses the first student's session (max_age=0 alone did, when
    # both fell in one second: tests/integration/test_portal_login.py), and Keycloak refuses to swap
    # the person inside it, on a page that names nobody (the realm's ``clever`` login theme):
    # the first must sign out (tests/browser/test_shared_device.py goes on from here).
    # A minute, not the default 20 s: on a freshly started Keycloak (CI's first run) this first
    # refused broker login has once taken longer.
    page.wait_for_url(f"{clever_world.realm_url}/broker/clever/endpoint**", timeout=60_000)
    first_username = clever_world.admin.get_user(first_id)["username"]
    expect(page.locator("#kcc-different-user")).to_be_visible()
    assert first_username not in page.content()
    assert [s.user_id for s in clever_world.sandbox.sessions.values()] == [second["id"]]
    assert not journey.showed(f"{clever_world.sandbox_url}/oauth/authorize")
    assert len(journey.hops(f"{clever_world.realm_url}/broker/clever/endpoint")) == 1
    # The second student never lands in the first's account, nor in their own.
    assert not journey.showed(clever_world.account_url)
    expect(page.get_by_label("Username")).to_have_count(0)
    assert not clever_world.sessions(second_id)
    assert clever_world.user_count() == users


def test_an_unknown_clever_person_is_refused(page: Page, clever_world: CleverWorld) -> None:
    stranger = clever_world.person("student", 4)
    users = clever_world.user_count()

    start_at_keycloak(page, clever_world)
    page.click(f"#login-{stranger['id']}")

    expect(page.get_by_text(DENY_UNKNOWN_MESSAGE)).to_be_visible()
    assert clever_world.user_count() == users
    assert not clever_world.admin.get_users({"idpAlias": "clever", "idpUserId": stranger["id"]})


def test_a_tampered_id_token_signature_is_refused(page: Page, clever_world: CleverWorld) -> None:
    student = clever_world.person("student")
    keycloak_id = clever_world.prelink(student)
    users = clever_world.user_count()
    clever_world.sandbox.tamper_id_token = True  # id_tokens signed with a key not in the JWKS

    start_at_keycloak(page, clever_world)
    page.click(f"#login-{student['id']}")

    page.wait_for_url(f"{clever_world.realm_url}/broker/clever/endpoint**")
    expect(page.get_by_text("Unexpected error when authenticating with identity provider")).to_be_visible()
    assert not clever_world.sessions(keycloak_id)
    page.screenshot(path=str(ARTIFACTS / "tampered_id_token_refused.png"))
    # The control: the same login with the signature left alone goes through. Signed out of Clever,
    # the browser meets the picker again instead of Clever's silent hop.
    clever_world.sandbox.tamper_id_token = False
    clever_world.sandbox.sign_out()
    start_at_keycloak(page, clever_world)
    page.click(f"#login-{student['id']}")
    expect_signed_in(page, clever_world, keycloak_id, users)


def test_a_wrong_state_is_refused(page: Page, clever_world: CleverWorld) -> None:
    student = clever_world.person("student")
    keycloak_id = clever_world.prelink(student)

    def forge_state(route: Route) -> None:
        # Playwright does not route redirects, so rewrite the sandbox's redirect to Keycloak itself.
        answer = route.fetch(max_redirects=0)
        parts = urlsplit(answer.headers["location"])
        query = dict(parse_qsl(parts.query))
        assert query.get("state")
        query["state"] = "forged-" + query["state"][7:]
        location = urlunsplit(parts._replace(query=urlencode(query)))
        route.fulfill(status=302, headers={"Location": location})

    page.route(f"{clever_world.sandbox_url}/oauth/authorize", forge_state)
    start_at_keycloak(page, clever_world)
    page.click(f"#login-{student['id']}")

    # Keycloak finds no login of its own behind the forged state and stops there.
    page.wait_for_url(f"{clever_world.realm_url}/broker/clever/endpoint**")
    expect(page.get_by_role("heading", name="Page has expired")).to_be_visible()
    assert not clever_world.sessions(keycloak_id)


def create_unknown_people(world: CleverWorld) -> None:
    clever = dataclasses.replace(world.settings.clever, create_unknown_users=True)
    world.settings = dataclasses.replace(world.settings, clever=clever)
    report = ensure_broker(world.admin, world.settings, fetch_discovery(world.sandbox_url))
    assert f"flow {FLOW_ALIAS!r}: steps set to create unknown people" in report.changes


def test_with_the_setting_an_unknown_person_gets_a_new_account(page: Page, clever_world: CleverWorld) -> None:
    create_unknown_people(clever_world)
    student = clever_world.person("student", 5)

    start_at_keycloak(page, clever_world)
    page.click(f"#login-{student['id']}")

    page.wait_for_url(f"{clever_world.account_url}**")
    expect(page.get_by_label("Username")).to_have_value(f"clever-{student['id']}")
    (created,) = clever_world.admin.get_users({"idpAlias": "clever", "idpUserId": student["id"]})
    assert created["attributes"]["clever_id"] == [student["id"]]
    assert created["attributes"]["clever_role"] == ["student"]
    assert created.get("emailVerified") is False
    # Clever's email is unverified: kept as an attribute, never the account's email, which another
    # identity provider's "link by email" would trust.
    assert not created.get("email")
    roles = {r["name"] for r in clever_world.admin.get_realm_roles_of_user(created["id"])}
    assert "clever-student" in roles


def test_with_the_setting_an_account_with_the_same_email_is_never_linked_nor_given_the_email(
    page: Page, clever_world: CleverWorld
) -> None:
    """Clever's email is unverified: the new account keeps it only as ``clever_email``."""
    create_unknown_people(clever_world)
    teacher = next(t for t in clever_world.sandbox.people("teacher") if t.get("email"))
    existing = clever_world.admin.create_user(
        {
            "username": "look.alike",
            "email": teacher["email"],
            "enabled": True,
            "firstName": "A",
            "lastName": "B",
        }
    )

    start_at_keycloak(page, clever_world)
    page.click(f"#login-{teacher['id']}")

    # Keycloak runs the IdP's mappers in no fixed order: the empty email is sometimes set after the
    # first-login duplicate check, which then refuses the taken address. Both outcomes are safe;
    # the existing account is linked in neither, and its address goes to no other account.
    page.wait_for_function(
        "() => location.href.includes('/account') || document.body.innerText.includes('already exists here')",
        timeout=60_000,
    )
    assert clever_world.admin.get_user_social_logins(existing) == []
    assert clever_world.admin.get_user(existing)["email"] == teacher["email"].lower()
    found = clever_world.admin.get_users({"idpAlias": "clever", "idpUserId": teacher["id"]})
    if DENY_DUPLICATE_MESSAGE.split(",", 1)[0] in page.content():
        assert found == []
        return
    page.wait_for_url(f"{clever_world.account_url}**")
    expect(page.get_by_label("Email")).to_have_value("")
    (created,) = found or clever_world.admin.get_users({"idpAlias": "clever", "idpUserId": teacher["id"]})
    assert created["id"] != existing and not created.get("email")
    assert created["attributes"]["clever_email"] == [teacher["email"]]


def test_with_the_setting_a_person_of_another_district_gets_no_account(
    page: Page, clever_world: CleverWorld
) -> None:
    clever = dataclasses.replace(clever_world.settings.clever, district_id="5f00000000000000000000ff")
    clever_world.settings = dataclasses.replace(clever_world.settings, clever=clever)
    create_unknown_people(clever_world)
    student = clever_world.person("student", 6)  # of the sandbox's district, not the configured one
    users = clever_world.user_count()

    start_at_keycloak(page, clever_world)
    page.click(f"#login-{student['id']}")

    expect(page.get_by_text("does not match the configured essential claim")).to_be_visible()
    assert clever_world.admin.get_users({"idpAlias": "clever", "idpUserId": student["id"]}) == []
    assert clever_world.user_count() == users
    assert not clever_world.sessions_of_realm()
