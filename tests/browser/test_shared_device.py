"""Shared classroom devices in real Chromium: one browser, one child after another.

Clever keeps a browser signed in until the person logs out of Clever, and answers ``/oauth/authorize``
silently meanwhile (the sandbox does the same). A Keycloak "Sign out" of a Clever login therefore also
signs the browser out of Clever (``plugin.sso.logout``), and Keycloak's "already authenticated as
different user" page names nobody (the realm's ``clever`` login theme). Each test ends on what the
next child sees: their own account, or Clever asking who they are; never the earlier child's
username.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_login_with_clever import expect_signed_in, start_at_keycloak
from tests.browser_fixtures import ARTIFACTS, CleverWorld, follow

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def username(world: CleverWorld, keycloak_id: str) -> str:
    return str(world.admin.get_user(keycloak_id)["username"])


def sign_out_of_the_account_console(page: Page, person: dict[str, Any]) -> None:
    """The person's own "Sign out", from the menu under their name in the Account Console."""
    name = person["name"]
    page.get_by_role("button", name=f"{name['first']} {name['last']}").click()
    page.get_by_role("menuitem", name="Sign out").click()


def expect_signed_out_everywhere(page: Page, world: CleverWorld, keycloak_id: str) -> None:
    """The browser ends on Clever's logout page; neither Keycloak nor Clever holds a session."""
    page.wait_for_url(f"{world.sandbox_url}/logout**")
    expect(page.locator("#signed-out")).to_be_visible()
    assert not world.sessions(keycloak_id)
    assert not world.sandbox.sessions


def test_after_a_sign_out_the_next_child_pressing_clever_is_asked_who_they_are(
    page: Page, clever_world: CleverWorld
) -> None:
    first, second = clever_world.person("student", 7), clever_world.person("student", 8)
    first_id, second_id = clever_world.prelink(first), clever_world.prelink(second)
    users = clever_world.user_count()
    start_at_keycloak(page, clever_world)
    page.click(f"#login-{first['id']}")
    expect_signed_in(page, clever_world, first_id, users)

    sign_out_of_the_account_console(page, first)

    expect_signed_out_everywhere(page, clever_world, first_id)
    page.screenshot(path=str(ARTIFACTS / "shared-device-signed-out-of-clever.png"))
    # The next child, same browser: Keycloak's login page, "Clever", and Clever asks who they are.
    start_at_keycloak(page, clever_world)
    expect(page.locator(f"#login-{second['id']}")).to_be_visible()
    page.click(f"#login-{second['id']}")
    expect_signed_in(page, clever_world, second_id, users)
    assert username(clever_world, first_id) not in page.content()
    assert not clever_world.sessions(first_id)


def test_after_a_sign_out_the_next_child_from_the_portal_lands_in_their_own_account(
    page: Page, clever_world: CleverWorld
) -> None:
    first, second = clever_world.person("teacher", 2), clever_world.person("student", 9)
    first_id, second_id = clever_world.prelink(first), clever_world.prelink(second)
    users = clever_world.user_count()
    page.goto(f"{clever_world.sandbox_url}/portal")
    page.click(f"#instant-login-{first['id']}")
    expect_signed_in(page, clever_world, first_id, users)

    sign_out_of_the_account_console(page, first)

    expect_signed_out_everywhere(page, clever_world, first_id)
    page.click("#portal-link")
    page.click(f"#instant-login-{second['id']}")
    expect_signed_in(page, clever_world, second_id, users)
    assert username(clever_world, first_id) not in page.content()


def test_a_portal_click_while_someone_is_still_signed_in_names_nobody(
    page: Page, clever_world: CleverWorld
) -> None:
    first, second = clever_world.person("student", 10), clever_world.person("student", 11)
    first_id, second_id = clever_world.prelink(first), clever_world.prelink(second)
    users = clever_world.user_count()
    page.goto(f"{clever_world.sandbox_url}/portal")
    page.click(f"#instant-login-{first['id']}")
    expect_signed_in(page, clever_world, first_id, users)
    page.goto(f"{clever_world.sandbox_url}/portal")  # the first child walks away, still signed in
    journey = follow(page)

    page.click(f"#instant-login-{second['id']}")

    # Keycloak will not swap the person inside the first child's session, and says so without
    # naming them or linking back into their session.
    expect(page.locator("#kcc-different-user")).to_contain_text("Someone else is still signed in")
    page.screenshot(path=str(ARTIFACTS / "shared-device-someone-else-signed-in.png"))
    assert username(clever_world, first_id) not in page.content()
    assert first["name"]["last"] not in page.content()
    expect(page.locator("#backToApplication")).to_have_count(0)
    assert not journey.showed(clever_world.account_url)
    assert not clever_world.sessions(second_id)

    # "Sign out the person still signed in": Keycloak asks to confirm, then the browser is signed
    # out of Keycloak and of Clever; the second child starts again from Clever, as themselves.
    page.click("#kcc-sign-out-other")
    page.click("#kc-logout")
    expect_signed_out_everywhere(page, clever_world, first_id)
    page.click("#portal-link")
    page.click(f"#instant-login-{second['id']}")
    expect_signed_in(page, clever_world, second_id, users)
    assert username(clever_world, first_id) not in page.content()
