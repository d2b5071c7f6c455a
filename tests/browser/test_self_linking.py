"""A user cannot steer a Clever identity into their own account from the Account Console (real
Chromium, Keycloak, sandbox). A link made some other way gets nothing from the sync:
``tests/integration/test_link_decisions.py``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from plugin.sync.pipeline import run_sync
from tests.browser_fixtures import CleverWorld
from tests.factories import make_school, make_teacher
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PASSWORD = "Pupil-pass-1"


def _pupil_at_linked_accounts(page: Page, world: CleverWorld) -> str:
    """A pupil with a password account, signed in to the Account Console's Linked accounts."""
    pupil: str = world.admin.create_user(
        {
            "username": "pupil",
            "enabled": True,
            "firstName": "Sam",
            "lastName": "Lee",
            "email": "pupil@example.org",
            "emailVerified": True,
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
    )
    page.goto(f"{world.account_url}account-security/linked-accounts")
    page.fill("#username", "pupil")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    return pupil


def test_the_account_console_offers_no_clever_link(page: Page, clever_world: CleverWorld) -> None:
    world = clever_world
    pupil = _pupil_at_linked_accounts(page, world)
    expect(page.get_by_role("heading", name="Linked accounts")).to_be_visible()
    expect(page.get_by_text("No unlinked providers")).to_be_visible()
    expect(page.get_by_text("Clever", exact=True)).to_have_count(0)

    assert world.admin.get_user_social_logins(pupil) == []


def test_a_clever_identity_linked_in_the_account_console_gets_nothing_from_the_sync(
    page: Page, clever_world: CleverWorld
) -> None:
    """Self-service linking turned back on by hand (or with ``KCC_ALLOW_SELF_LINKING=true``): a pupil
    links the Clever session a teacher left open; the link works for logins, but the sync writes
    nothing into the pupil's account and puts the link on the admin's waiting list."""
    world = clever_world
    idp = world.admin.get_idp("clever")
    world.admin.update_idp("clever", {**idp, "config": {**idp["config"], "showInAccountConsole": "ALWAYS"}})
    for action in world.admin.get_required_actions():
        if action["alias"] == "idp_link":
            world.admin.update_required_action("idp_link", {**action, "enabled": True})
    sandbox_teacher = world.person("teacher")
    pupil = _pupil_at_linked_accounts(page, world)
    page.get_by_text("Link account").click()
    page.get_by_role("button", name="Continue").click()  # Keycloak's "Do you want to link ... with Clever?"
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")
    page.click(f"#login-{sandbox_teacher['id']}")
    page.wait_for_url(f"{world.account_url}**")
    links = world.admin.get_user_social_logins(pupil)
    assert [link["userId"] for link in links] == [sandbox_teacher["id"]]  # Keycloak made the link

    school = make_school("Lincoln Elementary")
    name = sandbox_teacher.get("name") or {}
    teacher = make_teacher(
        name.get("first", "A"),
        name.get("last", "B"),
        clever_id=sandbox_teacher["id"],
        school=school.clever_id,
    )
    report = run_sync(
        world.settings, source=MemorySource(MemoryRoster([school], [teacher], [])), district_id="d1"
    )

    assert report.status == "ok", report.summary()
    account = world.admin.get_user(pupil)
    assert account.get("attributes", {}).get("clever_role") is None
    assert world.admin.get_user_groups(pupil) == []
    assert [(w["kind"], w["keycloak_id"]) for w in report.waiting] == [("suspicious-link", pupil)]
