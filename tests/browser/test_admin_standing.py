"""After the demo's own flow, the admin page tells the truth: in real headless Chromium.

The demo records its choices as the page would (``plugin.commands.demo.record_choices``) and runs its full
sync (``plugin.commands.demo._run_sync``, the demo's own step); then the demo is run again, which is an
incremental run that finds nothing to change. The page must still show the district's name, the
synced schools, what is synced now (the totals Keycloak holds), the waiting list (an ambiguous name
match, which stays after the no-op), and a run's detail page from the history. Screenshots go to
``test-artifacts/standing-*.png``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from keycloak import KeycloakAdmin
from playwright.sync_api import Page, expect

from plugin.commands.demo import _run_sync, record_choices
from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.browser.test_admin_page import CLIENT_SECRET, AdminWorld, admin_world, sign_in
from tests.integration.test_admin_auth import admin_redis

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis", "admin_world"]  # fixtures, imported for this module's tests
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"standing-{name}.png"), full_page=True)


@pytest.fixture
def demo_settings(admin_world: AdminWorld) -> Iterator[Settings]:
    """The demo's settings: the sandbox's app and district in ``KCC_*``, as ``plugin.commands.demo`` sets."""
    clever = dataclasses.replace(
        admin_world.settings.clever,
        client_id="sandbox-client",
        client_secret=CLIENT_SECRET,
        district_id=admin_world.sandbox.district_id,
    )
    yield dataclasses.replace(admin_world.settings, clever=clever)


def _count_users(admin: KeycloakAdmin, role: str) -> int:
    found: int = admin.connection.raw_get(
        f"admin/realms/{admin.connection.realm_name}/users/count",
        q=f"clever_role:{role}",
    ).json()
    return found


def test_after_the_demo_and_a_no_op_run_the_page_shows_the_standing_state(
    page: Page, admin_world: AdminWorld, demo_settings: Settings
) -> None:
    world = admin_world
    student = world.sandbox.people("student")[0]
    name = student["name"]
    for i in (1, 2):  # two unlinked accounts with a student's name: an ambiguous name match
        world.admin.create_user(
            {"username": f"twin{i}", "enabled": True, "firstName": name["first"], "lastName": name["last"]}
        )

    config = record_choices(demo_settings)  # the demo's own steps
    first = _run_sync(demo_settings)
    again = _run_sync(demo_settings)  # `make demo` again: nothing changed in Clever
    district_name = world.sandbox.store.get("districts", world.sandbox.district_id)["name"]  # type: ignore[index]
    assert config.district_name == district_name and config.school_mode == "all"
    assert ": ok in" in first.splitlines()[0], first
    assert "no-changes" in again.splitlines()[0], again
    state = SyncState.from_url(world.settings.redis_url)
    no_op, full = state.history(world.sandbox.district_id, 2)
    assert (full.mode, no_op.mode, no_op.status) == ("full", "incremental", "no-changes")

    sign_in(page, world)
    page.wait_for_url(world.page_url)
    expect(page.locator("#district-name")).to_have_text(district_name)
    expect(page.locator("#district-id")).to_have_text(world.sandbox.district_id)
    expect(page.locator("#schools-all")).to_be_visible()
    expect(page.locator("#last-status")).to_have_text("no-changes")  # the last run's deltas ...

    # ... beside what is synced now: the accounts Keycloak holds, and the groups.
    students = _count_users(world.admin, "student")
    held = {c for item in full.ambiguous for c in item["clever_ids"]}
    student_ids = {p["id"] for p in world.sandbox.people("student")}
    assert student["id"] in held and students == len(student_ids - held)  # no account while waiting
    expect(page.locator("td[data-total='students']")).to_have_text(str(students))
    expect(page.locator("td[data-total='teachers']")).to_have_text(str(_count_users(world.admin, "teacher")))
    schools = world.admin.get_group_children(world.admin.get_group_by_path("/Clever")["id"])
    expect(page.locator("td[data-total='schools']")).to_have_text(str(len(schools)))
    expect(page.locator("td[data-total='classes']")).to_have_text(str(full.kinds["classes"]["created"]))
    expect(page.locator("#last-full")).to_have_text(full.run_id)

    # The waiting list survived the no-op run: the ambiguous student, with the choice to make.
    waiting = page.locator("[data-waiting='ambiguous']")
    expect(waiting).to_contain_text(student["id"])
    expect(waiting).to_contain_text("nobody was linked and no account was made")
    choices = page.locator(f"tr[data-clever-id='{student['id']}'] input[type=radio]")
    expect(choices).to_have_count(3)  # two twins, or a new one
    expect(page.locator(f"tr[data-clever-id='{student['id']}'] input[type=radio]:checked")).to_have_count(0)
    _shot(page, "page")

    # A run's detail page from the history: its counts, its warnings grouped by kind.
    page.click(f"[data-run-link='{full.run_id}']")
    expect(page.locator("#run-id")).to_have_text(full.run_id)
    expect(page.locator("#run-status")).to_have_text("ok")
    created = page.locator("#run-counts tr[data-kind='students'] td[data-count='created']")
    expect(created).to_have_text(str(full.kinds["students"]["created"]))
    expect(page.locator("#run-ambiguous")).to_contain_text(student["id"])
    expect(page.locator("#run-warnings details")).to_have_count(len({w for w in _kinds(full.warnings)}))
    _shot(page, "run-detail")
    assert CLIENT_SECRET not in page.content()


def _kinds(warnings: list[str]) -> list[str]:
    from plugin.sync.report import warning_kind

    return [warning_kind(w) for w in warnings]
