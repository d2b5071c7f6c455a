"""The admin page in real headless Chromium: the article's journey, through Keycloak and the sandbox.

The sandbox accepts only the redirect URIs the page lists (``plugin.sso.redirects``), as Clever does.
Sign in as a realm admin → Clever app → Enabled → Login with Clever as the sandbox's district admin
(a wrong expected District ID first: refused) → confirm the District ID → schools each of the three
ways → options → Sync (a real RQ worker process runs the job) → the Sync Status summary shows the
counts of the stored report → resolve an ambiguous name match. Screenshots of every step go to
``test-artifacts/admin-*.png``. No secret may appear in any page.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from keycloak import KeycloakAdmin
from playwright.sync_api import Page, expect
from redis import Redis

from plugin.admin.blueprint import URL_PREFIX
from plugin.app import create_app
from plugin.config.settings import Settings
from plugin.config.store import ConfigStore
from plugin.runs.jobs import window_around
from plugin.runs.state import SyncState
from plugin.sso.redirects import clever_redirect_uris
from sandbox.app import create_app as create_sandbox
from sandbox.config import SandboxConfig
from sandbox.server import serve
from sandbox.state import SandboxState
from tests.conftest import worker_environment
from tests.integration.test_admin_auth import PASSWORD, admin_redis, admin_settings, make_user

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis"]  # a fixture, imported for this module's tests
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CLIENT_SECRET = "sandbox-secret"


@dataclass
class AdminWorld:
    settings: Settings
    admin: KeycloakAdmin
    sandbox: SandboxState
    sandbox_url: str
    page_url: str
    shots: int = 0

    def shot(self, page: Page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.shots += 1
        page.screenshot(path=str(ARTIFACTS / f"admin-{self.shots:02d}-{name}.png"), full_page=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def admin_world(
    settings: Settings, keycloak_admin: KeycloakAdmin, admin_redis: Redis
) -> Iterator[AdminWorld]:
    """The sandbox and the sidecar on real sockets; the realm has one IT admin; no Clever app set yet.
    The sandbox accepts only the redirect URIs the page tells the admin to register, as Clever does."""
    port = _free_port()
    settings = admin_settings(settings, f"http://127.0.0.1:{port}")
    registered = [uri.url for uri in clever_redirect_uris(settings)]
    sandbox_app = create_sandbox(SandboxConfig(size=30, seed=4, redirect_uris=registered))
    with serve(sandbox_app) as sandbox_url:
        settings = dataclasses.replace(
            settings,
            clever=dataclasses.replace(settings.clever, oauth_url=sandbox_url, api_url=sandbox_url),
        )
        sidecar: Flask = create_app(settings)
        with serve(sidecar, port=port) as sidecar_url:
            make_user(keycloak_admin, "it-admin", client_roles=("manage-identity-providers", "manage-users"))
            yield AdminWorld(
                settings=settings,
                admin=keycloak_admin,
                sandbox=sandbox_app.extensions["clever_sandbox"],
                sandbox_url=sandbox_url,
                page_url=f"{sidecar_url}{URL_PREFIX}/",
            )


def sign_in(page: Page, world: AdminWorld, username: str = "it-admin") -> None:
    page.goto(world.page_url)
    page.wait_for_url(f"{world.settings.keycloak.url}/realms/**")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#kc-login")


def run_worker(world: AdminWorld) -> None:
    """A real RQ worker process drains the queue (``worker.py --burst``) with the realm's services."""
    settings = world.settings
    env = worker_environment(
        settings,
        KCC_CLEVER_OAUTH_URL=world.sandbox_url,
        KCC_CLEVER_API_URL=world.sandbox_url,
        # The Clever app is the one saved on the page: the worker reads it (and decrypts its secret).
        KCC_SECRET_KEY=settings.secret_key,
        KCC_TIMEZONE="UTC",
    )
    # The worker schedules the confirmed district's weekly run at start; inside the weekend window it
    # would run before the journey's Sync is looked at. This window's weekly run counts as done.
    opens, _ = window_around(datetime.now(UTC), "UTC")
    SyncState.from_url(settings.redis_url).set_weekly_done(
        world.sandbox.district_id, opens.date().isoformat()
    )
    done = subprocess.run(
        [sys.executable, "worker.py", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def assert_no_secret(page: Page, world: AdminWorld) -> None:
    """Neither the Clever client secret nor any stored district token is in the page."""
    content = page.content()
    assert CLIENT_SECRET not in content
    store = ConfigStore(Redis.from_url(world.settings.redis_url), world.settings)
    for name in store.redis.hkeys(f"{store.namespace}:secrets"):
        value = store.secrets.get(name.decode() if isinstance(name, bytes) else name)
        assert value and value not in content, name


def test_the_whole_journey(page: Page, admin_world: AdminWorld) -> None:
    world = admin_world
    student = world.sandbox.people("student")[0]
    district_admin = world.sandbox.people("district_admin")[0]
    # Two unlinked accounts with a student's name: Match Users By Name must call it ambiguous.
    name = student["name"]
    twins = [
        world.admin.create_user(
            {"username": f"twin{i}", "enabled": True, "firstName": name["first"], "lastName": name["last"]}
        )
        for i in (1, 2)
    ]

    sign_in(page, world)
    page.wait_for_url(world.page_url)
    expect(page.locator("#signed-in-as")).to_have_text("it-admin")
    # The redirect URIs the page lists are the ones this Clever (the sandbox) has registered.
    listed = page.locator("#clever-redirect-uris .redirect-uri").all_inner_texts()
    assert listed == list(world.sandbox.config.redirect_uris)
    world.shot(page, "signed-in")

    page.fill("#client_id", "sandbox-client")
    page.fill("#client_secret", CLIENT_SECRET)
    page.click("text=Save Clever app")
    expect(page.locator("#secret-hint")).to_contain_text("…cret")
    assert_no_secret(page, world)

    page.check("#enabled-box")
    page.click("#enabled-save")
    expect(page.locator(".flash.ok")).to_contain_text("Enabled")
    assert world.admin.get_idp("clever")["enabled"] is True
    world.shot(page, "enabled")

    # A district admin of another district than the one expected is refused.
    page.fill("#expected_district_id", "0" * 24)
    page.click("#login-with-clever")
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")
    page.click(f"#login-{district_admin['id']}")
    expect(page.locator(".flash.error")).to_contain_text("not the expected")
    world.shot(page, "district-refused")

    page.fill("#expected_district_id", world.sandbox.district_id)
    page.click("#login-with-clever")
    page.wait_for_load_state()
    if page.url.startswith(world.sandbox_url):  # else Clever remembered the district admin's login
        page.click(f"#login-{district_admin['id']}")
    expect(page.locator("#pending-id")).to_have_text(world.sandbox.district_id)
    district_name = world.sandbox.store.get("districts", world.sandbox.district_id)["name"]  # type: ignore[index]
    expect(page.locator("#pending-name")).to_have_text(district_name)
    world.shot(page, "district-to-confirm")
    page.click("#confirm-district")
    expect(page.locator("#district-id")).to_have_text(world.sandbox.district_id)
    assert_no_secret(page, world)

    # 1. search for a school name
    schools = sorted(
        (
            s
            for s in (
                world.sandbox.store.get("schools", i)
                for i in world.sandbox.store.ids("all", "schools", world.sandbox.district_id)
            )
            if s
        ),
        key=lambda s: s["id"],
    )
    first = schools[0]
    page.fill("#school-search", first["name"][:6])
    page.click("#school-search-go")
    page.check(f"#school-{first['id']}")
    page.click("#add-schools")
    expect(page.locator(f"[data-school-id='{first['id']}']")).to_have_text(first["name"])
    world.shot(page, "school-by-search")

    # 2. a Clever Badge login: the student's school is added
    page.click("#badge-login")
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")
    page.fill("#badge_code", world.sandbox.badge_code(student["id"]))
    page.click("#badge-submit")
    expect(page.locator(".flash.ok")).to_contain_text("School added from the Clever Badge")
    expect(page.locator(f"[data-school-id='{student['roles']['student']['school']}']")).to_have_count(1)
    world.shot(page, "school-by-badge")

    # 3. the district admin login: all schools
    page.click("#all-schools")
    expect(page.locator("#schools-all")).to_be_visible()

    page.check("#opt-sync_parent_data")
    page.click("#options-save")
    expect(page.locator("#opt-sync_parent_data")).to_be_checked()
    world.shot(page, "options")

    page.click("#sync-now")
    expect(page.locator("#run-progress")).to_be_visible()
    world.shot(page, "sync-queued")
    run_worker(world)
    page.goto(world.page_url)
    expect(page.locator("#last-status")).to_have_text("ok")
    state = SyncState.from_url(world.settings.redis_url)
    report = state.history(world.sandbox.district_id, 1)[0]
    for kind, counts in report.kinds.items():
        for count, value in counts.items():
            cell = page.locator(f"tr[data-kind='{kind}'] td[data-count='{count}']")
            expect(cell).to_have_text(str(value))
    student_ids = {p["id"] for p in world.sandbox.people("student")}
    held_back = {c for item in report.ambiguous for c in item["clever_ids"]} & student_ids
    created = report.kinds["students"]["created"] + report.kinds["students"]["linked_by_name"]
    assert student["id"] in held_back  # the student with two same-name accounts is linked to neither
    assert created == len(student_ids) - len(held_back)
    world.shot(page, "status")
    assert_no_secret(page, world)

    # Resolve the ambiguous match: link the student to twin2.
    row = page.locator(f"tr[data-clever-id='{student['id']}']")
    expect(row.locator("input[type=radio]:checked")).to_have_count(0)  # nothing chosen for the admin
    row.locator(f"input[value='{twins[1]}']").check()
    row.locator("button").click()
    expect(page.locator(".flash.ok")).to_contain_text("will be linked to the account twin2")
    world.shot(page, "resolved")
    from plugin.sync.resolutions import load

    assert load(state.redis, world.settings.keycloak.realm) == {student["id"]: twins[1]}


def test_a_signed_in_non_admin_gets_403(page: Page, admin_world: AdminWorld) -> None:
    make_user(admin_world.admin, "teacher")
    sign_in(page, admin_world, "teacher")
    expect(page.locator("#refusal")).to_contain_text("may not manage")
    admin_world.shot(page, "non-admin-403")
    answer = page.request.get(admin_world.page_url)
    assert answer.status == 403
