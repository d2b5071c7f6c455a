"""Nobody links a Clever identity to their own account, and a link that is not the sync's owns
nothing: the whole chain an attacker runs on a shared classroom device (link a teacher's open Clever
session to her own account, unlink it, then a sync), in real Chromium through the real Keycloak with
the clever-sync extension, the sandbox as Clever, and real syncs on both write paths.

Entry points (``keycloak-extension``: ``OwnershipGuardMapper``; ``model.ownership``):
* the Account Console shows no Clever to link;
* the ``idp_link`` required action (``kc_action=idp_link:clever``), even when an admin turned it on;
* the legacy client-initiated linking endpoint ``/broker/clever/link`` (refused by Keycloak's own
  server option where it is off, else by the guard);
* the Account REST API's ``linked-accounts/clever`` link URI (the same two ways).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker, fetch_discovery
from plugin.sync.run_options import RunOptions
from tests.browser_fixtures import CleverWorld, follow

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PASSWORD = "Pupil-pass-1"
PROBE = "probe-app"
REFUSED = "Clever accounts are linked by your district's IT team"


def _pupil(world: CleverWorld) -> str:
    """A pupil's own password account (no Clever link), named unlike anybody in the sandbox."""
    keycloak_id: str = world.admin.create_user(
        {
            "username": "pupil",
            "enabled": True,
            "firstName": "Sam",
            "lastName": "Quill",
            "email": "pupil@example.org",
            "emailVerified": True,
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
    )
    return keycloak_id


def _probe_client(world: CleverWorld) -> str:
    """An application of the realm whose sign-in hands the test a token of the browser's session."""
    redirect = f"{world.sidecar_url}/probe-callback"
    world.admin.create_client(
        {
            "clientId": PROBE,
            "publicClient": True,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": True,
            "redirectUris": [f"{redirect}*"],
        },
        skip_exists=True,
    )
    return redirect


def _sign_in(page: Page, world: CleverWorld, redirect: str) -> dict[str, Any]:
    """The pupil signs in to the Account Console, then the probe app in the same browser (its SSO
    session): the probe's tokens belong to the browser's session."""
    page.goto(world.account_url)
    page.fill("#username", "pupil")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    page.wait_for_url(f"{world.account_url}**")
    query = urlencode(
        {"client_id": PROBE, "redirect_uri": redirect, "response_type": "code", "scope": "openid"}
    )
    with page.expect_request(lambda r: r.url.startswith(redirect)) as arrived:
        page.goto(f"{world.realm_url}/protocol/openid-connect/auth?{query}")
    code = dict(parse_qsl(urlsplit(arrived.value.url).query))["code"]
    answer = requests.post(
        f"{world.realm_url}/protocol/openid-connect/token",
        data={"grant_type": "authorization_code", "client_id": PROBE, "code": code, "redirect_uri": redirect},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def _pick_at_clever(page: Page, world: CleverWorld, person: dict[str, Any]) -> None:
    """At the sandbox's sign-in, the teacher's open Clever session answers (the teacher's entry)."""
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")
    page.click(f"#login-{person['id']}")


def _links(world: CleverWorld, keycloak_id: str) -> list[tuple[str, str, str]]:
    return [
        (link["identityProvider"], link["userId"], link["userName"])
        for link in world.admin.get_user_social_logins(keycloak_id)
    ]


def _enable_idp_link(world: CleverWorld) -> None:
    """What a realm admin might do by hand: turn Keycloak's "link an identity provider" action on."""
    for action in world.admin.get_required_actions():
        if action["alias"] == "idp_link":
            world.admin.update_required_action("idp_link", {**action, "enabled": True})


def _link_by_required_action(page: Page, world: CleverWorld, redirect: str, teacher: dict[str, Any]) -> None:
    query = urlencode(
        {
            "client_id": PROBE,
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": "openid",
            "kc_action": "idp_link:clever",
        }
    )
    page.goto(f"{world.realm_url}/protocol/openid-connect/auth?{query}")
    if page.get_by_role("button", name="Continue").count():
        page.get_by_role("button", name="Continue").click()  # Keycloak's "link your account with Clever?"
    _pick_at_clever(page, world, teacher)


def test_the_account_console_offers_no_clever_link(page: Page, clever_world: CleverWorld) -> None:
    world = clever_world
    pupil = _pupil(world)
    page.goto(f"{world.account_url}account-security/linked-accounts")
    page.fill("#username", "pupil")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    expect(page.get_by_role("heading", name="Linked accounts")).to_be_visible()
    expect(page.get_by_text("Clever", exact=True)).to_have_count(0)

    assert _links(world, pupil) == []


def test_keycloak_refuses_self_service_linking_at_every_entry_point(
    page: Page, clever_world: CleverWorld
) -> None:
    world = clever_world
    teacher = world.person("teacher")
    pupil = _pupil(world)
    redirect = _probe_client(world)
    _enable_idp_link(world)
    tokens = _sign_in(page, world, redirect)

    # 1. Keycloak's idp_link required action, turned on by an admin: the guard refuses.
    _link_by_required_action(page, world, redirect, teacher)
    expect(page.get_by_text(REFUSED)).to_be_visible()
    assert _links(world, pupil) == []

    # 2. The legacy endpoint, with a hash made for the browser's own session.
    nonce = secrets.token_urlsafe(8)
    digest = hashlib.sha256(f"{nonce}{tokens['session_state']}{PROBE}clever".encode()).digest()
    link_hash = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    query = urlencode({"client_id": PROBE, "redirect_uri": redirect, "nonce": nonce, "hash": link_hash})
    journey = follow(page)
    page.goto(f"{world.realm_url}/broker/clever/link?{query}")  # the teacher's Clever session answers
    if journey.hops(f"{world.sandbox_url}/oauth/authorize"):
        expect(page.get_by_text(REFUSED)).to_be_visible()
    else:  # the server's legacy linking is off (scripts/services): Keycloak refuses at the door
        expect(page.get_by_text("Invalid Request")).to_be_visible()
    assert _links(world, pupil) == []

    # 3. The Account REST API's link URI for the Account Console.
    account_api = f"{world.realm_url}/account/linked-accounts/clever"
    answer = requests.get(
        account_api,
        params={"providerId": "clever", "redirectUri": world.account_url},
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
        timeout=30,
    )
    if answer.status_code == 200:
        journey = follow(page)
        page.goto(answer.json()["accountLinkUri"])
        assert journey.hops(f"{world.sandbox_url}/oauth/authorize"), "Keycloak went to Clever to link"
        expect(page.get_by_text(REFUSED)).to_be_visible()
    else:
        assert answer.status_code == 404 and "disabled" in answer.text, answer.text
    assert _links(world, pupil) == []


@pytest.mark.parametrize(("bulk", "unlinker"), [(True, "her"), (False, "her"), (True, "admin")])
def test_a_self_made_link_then_its_unlink_then_syncs_give_her_nothing_and_the_teacher_their_own_account(
    page: Page, clever_world: CleverWorld, redis_url: str, bulk: bool, unlinker: str
) -> None:
    """The district opted out (``KCC_ALLOW_SELF_LINKING=true``): Keycloak lets the pupil link a new
    teacher's open Clever session. That link owns nothing; she removes it herself (or an admin does,
    as the console's Unlink and the page's do); an incremental run, then a full run, on both write
    paths, give her account nothing and the teacher an account of their own, where the teacher's
    Clever login then lands."""
    world = clever_world
    opted_out = dataclasses.replace(
        world.settings,
        clever=dataclasses.replace(world.settings.clever, allow_self_linking=True),
        keycloak=dataclasses.replace(world.settings.keycloak, bulk=bulk),
    )
    ensure_broker(world.admin, opted_out, fetch_discovery(world.sandbox_url))
    _enable_idp_link(world)
    state = SyncState.from_url(redis_url)
    district = opted_out.clever.district_id
    first = jobs.run_locked(opted_out, state, district, "full1", RunOptions(full=True))
    assert first.status == "ok", first.summary()
    school = world.sandbox.people("teacher")[0]["roles"]["teacher"]["school"]
    newcomer = world.sandbox.create(
        "users",
        {
            "district": district,
            "name": {"first": "Nora", "last": "Newhire"},
            "email": "nora.newhire@example.org",
            "roles": {"teacher": {"school": school, "schools": [school]}},
        },
    )
    pupil = _pupil(world)
    redirect = _probe_client(world)
    tokens = _sign_in(page, world, redirect)

    _link_by_required_action(page, world, redirect, newcomer)
    page.wait_for_url(f"{redirect}**")
    [(alias, clever_id, user_name)] = _links(world, pupil)
    assert (alias, clever_id) == ("clever", newcomer["id"]) and user_name != f"clever-sync:{newcomer['id']}"

    if unlinker == "her":
        unlink = requests.delete(
            f"{world.realm_url}/account/linked-accounts/clever",
            headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
            timeout=30,
        )
        assert unlink.status_code == 204, unlink.text
    else:
        world.admin.delete_user_social_login(pupil, "clever")
    assert _links(world, pupil) == []

    for run_id, options in (("events", RunOptions()), ("full2", RunOptions(full=True))):
        report = jobs.run_locked(opted_out, state, district, run_id, options)
        assert report.status == "ok", report.summary()
        account = world.admin.get_user(pupil)
        assert not [name for name in account.get("attributes") or {} if name.startswith("clever_")]
        assert world.admin.get_user_groups(pupil) == []
        assert _links(world, pupil) == []
        roles = {role["name"] for role in world.admin.get_composite_realm_roles_of_user(pupil)}
        assert not [role for role in roles if role.startswith("clever-")]
        [teacher_id] = [
            u["id"] for u in world.admin.get_users({"idpUserId": newcomer["id"], "idpAlias": "clever"})
        ]
        assert teacher_id != pupil
        assert _links(world, teacher_id) == [("clever", newcomer["id"], f"clever-sync:{newcomer['id']}")]

    context = page.context.browser.new_context() if page.context.browser else None
    assert context is not None
    try:
        other = context.new_page()
        other.goto(world.account_url)
        other.click("#social-clever")
        _pick_at_clever(other, world, newcomer)
        other.wait_for_url(f"{world.account_url}**")
        username = world.admin.get_user(teacher_id)["username"]
        expect(other.get_by_label("Username")).to_have_value(username)
    finally:
        context.close()
