"""Browser fixtures (loaded by ``tests/conftest.py``): Debian's Chromium, and a realm wired to the sandbox.

``chromium`` is one headless browser per session (Playwright driving ``/usr/bin/chromium``; no
browser is ever downloaded); ``page`` a fresh context per test whose screenshot is saved under
``test-artifacts/`` when the test ends. ``clever_world`` serves the sandbox and the sidecar on real
sockets, registers the sandbox as the realm's Clever (``ensure_broker``) with the two redirect URIs
an admin enters in Clever's dashboard, and offers ``prelink`` for people (an account already linked to
their Clever id, as an earlier sync leaves one: ``link_clever_identity``).
``follow`` records a journey's navigations, redirect hops included, so a test can prove its route.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError
from playwright.sync_api import Browser, Frame, Page, Request, sync_playwright

from model.base import RecordError, TransientError
from model.ownership import OWNER_MARK
from model.state import IDP_ALIAS
from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.sso.broker import ensure_broker, fetch_discovery
from plugin.sso.portal import broker_redirect_uri, portal_redirect_uri, realm_url
from sandbox.app import create_app as create_sandbox
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context; a full-page screenshot is kept when the test ends."""
    context = chromium.new_context(locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        finally:
            context.close()


@dataclass
class Journey:
    """What a page's main frame did: every navigation request (redirect hops included) and every page
    it committed to, i.e. showed."""

    requested: list[str]
    shown: list[str]

    def hops(self, prefix: str) -> list[dict[str, str]]:
        """The query of every requested URL under ``prefix`` (a path prefix), in order."""
        return [dict(parse_qsl(urlsplit(url).query)) for url in self.requested if _under(url, prefix)]

    def showed(self, prefix: str) -> bool:
        """Whether a page under ``prefix`` was shown."""
        return any(_under(url, prefix) for url in self.shown)


def _under(url: str, prefix: str) -> bool:
    return url == prefix or url.startswith((f"{prefix}?", f"{prefix}/", f"{prefix}#"))


def follow(page: Page) -> Journey:
    """Record ``page``'s main-frame navigations from now on."""
    journey = Journey([], [])

    def requested(request: Request) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            journey.requested.append(request.url)

    def shown(frame: Frame) -> None:
        if frame == page.main_frame:
            journey.shown.append(frame.url)

    page.on("request", requested)
    page.on("framenavigated", shown)
    return journey


def link_clever_identity(admin: KeycloakAdmin, keycloak_id: str, clever_id: str) -> None:
    """Link a Keycloak user to a Clever person as the sync does (the owned link:
    ``model.ownership``), so their first "Login with Clever" lands here.

    Keycloak answers 409 when a link for the alias already exists: success when it points at the
    same Clever id, a RecordError (this person cannot be linked here) when it points elsewhere.
    """
    try:
        admin.add_user_social_login(keycloak_id, IDP_ALIAS, clever_id, OWNER_MARK + clever_id)
    except KeycloakError as exc:
        if exc.response_code == 409:
            existing = {
                link["identityProvider"]: link["userId"] for link in admin.get_user_social_logins(keycloak_id)
            }
            if existing.get(IDP_ALIAS) == clever_id:
                return
            raise RecordError(f"user {keycloak_id} is already linked to another Clever id") from exc
        if exc.response_code is not None and exc.response_code >= 500:
            raise TransientError(f"Keycloak answered {exc.response_code} linking {keycloak_id}") from exc
        raise


@dataclass
class CleverWorld:
    """A realm with Clever registered, the sandbox as Clever, the sidecar serving ``/clever/login``."""

    settings: Settings
    admin: KeycloakAdmin
    sandbox: SandboxState
    sandbox_url: str
    sidecar_url: str

    @property
    def realm_url(self) -> str:
        """The realm's public base URL."""
        return realm_url(self.settings)

    @property
    def account_url(self) -> str:
        """The realm's Account Console, where a signed-in person lands."""
        return f"{self.realm_url}/account/"

    def person(self, role: str, index: int = 0) -> dict[str, Any]:
        """A sandbox person of ``role`` (ascending Clever id)."""
        return self.sandbox.people(role)[index]

    def prelink(self, person: dict[str, Any], *, email: bool = False) -> str:
        """A Keycloak account linked to ``person`` as the sync would make it; its Keycloak id."""
        name = person.get("name") or {}
        username = f"kc-{person['id'][-8:]}"
        payload: dict[str, Any] = {
            "username": username,
            "enabled": True,
            "firstName": name.get("first") or "",
            "lastName": name.get("last") or "",
            "attributes": {"clever_id": [person["id"]]},
        }
        if email and person.get("email"):
            payload["email"] = person["email"]
        keycloak_id: str = self.admin.create_user(payload)
        link_clever_identity(self.admin, keycloak_id, person["id"])
        return keycloak_id

    def sessions(self, keycloak_id: str) -> list[dict[str, Any]]:
        """The user's Keycloak sessions."""
        found: list[dict[str, Any]] = self.admin.get_sessions(keycloak_id)
        return found

    def sessions_of_realm(self) -> list[dict[str, Any]]:
        """Every user session of the realm (through its clients' session lists)."""
        found: list[dict[str, Any]] = []
        for client in self.admin.get_clients():
            found += self.admin.get_client_all_sessions(client["id"])
        return found

    def user_count(self) -> int:
        """How many users the realm holds."""
        return int(self.admin.users_count())


@pytest.fixture
def clever_world(settings: Settings, keycloak_admin: KeycloakAdmin) -> Iterator[CleverWorld]:
    """The sandbox, the sidecar and the realm wired together as a district admin would wire them."""
    with wire_clever_world(settings, keycloak_admin, SandboxConfig(size=30, seed=4)) as world:
        yield world


@contextmanager
def wire_clever_world(
    settings: Settings, admin: KeycloakAdmin, config: SandboxConfig
) -> Iterator[CleverWorld]:
    """Serve the sidecar and a sandbox made from ``config`` (its redirect URIs: the two an admin
    registers), and register the sandbox as the realm's Clever; for fixtures of any scope."""
    sidecar = create_app(settings)
    with serve(sidecar) as sidecar_url:
        settings = dataclasses.replace(
            settings,
            public_url=sidecar_url,
            clever=dataclasses.replace(
                settings.clever, client_id="sandbox-client", client_secret="sandbox-secret"
            ),
        )
        sidecar.config["SETTINGS"] = settings
        config = dataclasses.replace(
            config, redirect_uris=[portal_redirect_uri(settings), broker_redirect_uri(settings)]
        )
        sandbox = create_sandbox(config)
        with serve(sandbox) as sandbox_url:
            district = sandbox.extensions["clever_sandbox"].district_id  # only its people sign in
            clever = dataclasses.replace(
                settings.clever, oauth_url=sandbox_url, api_url=sandbox_url, district_id=district
            )
            settings = dataclasses.replace(settings, clever=clever)
            sidecar.config["SETTINGS"] = settings
            ensure_broker(admin, settings, fetch_discovery(sandbox_url))
            yield CleverWorld(
                settings=settings,
                admin=admin,
                sandbox=sandbox.extensions["clever_sandbox"],
                sandbox_url=sandbox_url,
                sidecar_url=sidecar_url,
            )
