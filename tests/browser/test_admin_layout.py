"""The page on a phone and its way to and from Keycloak's admin console, in Chromium.

At 390 px wide (an iPhone 12-15) the page, a run's page and Approve's confirmation never scroll
sideways (the document is no wider than the viewport) with a held run, a waiting list and a
history on them. The page links the realm's Clever identity provider in the admin console; the
console's Clients list links back to the page (the page client's Home URL). Screenshots:
``test-artifacts/layout-*.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from plugin.admin.auth import CLIENT_ID
from plugin.config.settings import Settings
from tests.browser.test_admin_held import _held_run
from tests.browser.test_admin_page import AdminWorld, admin_world, sign_in
from tests.browser.test_admin_standing import demo_settings
from tests.integration.test_admin_auth import admin_redis, make_user

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis", "admin_world", "demo_settings"]  # fixtures, imported for this module's tests
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"layout-{name}.png"), full_page=True)


def _fits(page: Page) -> None:
    """No sideways scroll: the document is no wider than the viewport."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert widths[2] == PHONE["width"], widths  # the layout viewport is the phone's (not widened)
    assert max(widths[:2]) <= widths[2], (page.url, widths)


def test_the_page_is_readable_at_390_px(
    chromium: Browser, admin_world: AdminWorld, demo_settings: Settings
) -> None:
    world = admin_world
    twin = world.sandbox.people("student")[-1]["name"]
    for n in (1, 2):  # an ambiguous name match: the waiting list has a table too
        world.admin.create_user(
            {"username": f"twin{n}", "enabled": True, "firstName": twin["first"], "lastName": twin["last"]}
        )
    run_id, _ = _held_run(world, demo_settings)
    # Not ``is_mobile``: a mobile layout viewport widens to fit wide content, hiding the overflow.
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page, world)
        page.wait_for_url(world.page_url)
        expect(page.locator("#held-run")).to_be_visible()
        expect(page.locator("[data-waiting='ambiguous']")).to_be_visible()
        _fits(page)
        # The counts become one block per kind: a count is read beside its name.
        students = page.locator("#counts tr[data-kind='students'] td[data-count='disabled']")
        expect(students).to_be_visible()
        assert (
            page.evaluate("e => getComputedStyle(e, '::before').content", students.element_handle())
            == '"disabled: "'
        )
        _shot(page, "page-390")
        page.locator("#held-run").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "layout-390-held.png"))  # what the phone shows
        page.goto(f"{world.page_url}runs/{run_id}")
        expect(page.locator("#would-change")).to_be_visible()
        _fits(page)
        _shot(page, "run-390")
        page.goto(f"{world.page_url}runs/{run_id}/approve")
        expect(page.locator("#confirm-approve")).to_be_visible()
        _fits(page)
        _shot(page, "approve-390")
    finally:
        context.close()


def test_the_page_links_the_realm_in_the_admin_console_and_the_console_links_back(
    page: Page, admin_world: AdminWorld, demo_settings: Settings
) -> None:
    world = admin_world
    make_user(world.admin, "realm-boss", client_roles=("realm-admin",))
    from plugin.commands.demo import record_choices
    from plugin.sso.broker import ensure_broker

    record_choices(demo_settings)
    ensure_broker(world.admin, demo_settings)  # Clever registered in the realm (as Enabled does)
    sign_in(page, world, "realm-boss")
    page.wait_for_url(world.page_url)
    realm = world.settings.keycloak.realm
    console = f"{world.settings.keycloak.url}/admin/{realm}/console/#/{realm}"
    expect(page.locator("#console-idp")).to_have_attribute(
        "href", f"{console}/identity-providers/oidc/clever/settings"
    )

    page.click("#console-idp")  # the page's Keycloak session signs the admin in to the console
    page.wait_for_url(f"{console}/identity-providers/oidc/clever/settings")
    expect(page.get_by_test_id("alias")).to_have_value("clever", timeout=60_000)
    _shot(page, "console-idp")

    page.goto(f"{console}/clients")
    home = page.get_by_test_id(f"client-home-url-{CLIENT_ID}")
    expect(home).to_have_attribute("href", world.page_url, timeout=60_000)
    _shot(page, "console-clients")
    with page.context.expect_page() as opened:
        home.click()
    back = opened.value
    back.wait_for_load_state()
    assert back.url == world.page_url
    expect(back.locator("#signed-in-as")).to_have_text("realm-boss")
