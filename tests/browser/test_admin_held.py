"""A run the brake held, as the admin sees it in Chromium: who it would disable, as a list and as
CSV; "would change", never "changed"; Approve repeats the numbers and applies only once the box is
ticked, checked by the server (the whole approval is done with JavaScript off); the history says
who started and who approved. Screenshots: ``test-artifacts/held-*.png`` (docs/img from them).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from plugin.commands.demo import _run_sync, record_choices
from plugin.config.settings import Settings
from plugin.runs.state import SyncState
from tests.browser.test_admin_page import AdminWorld, admin_world, run_worker, sign_in
from tests.browser.test_admin_standing import demo_settings
from tests.integration.test_admin_auth import admin_redis

pytestmark = [pytest.mark.browser, pytest.mark.integration]
__all__ = ["admin_redis", "admin_world", "demo_settings"]  # fixtures, imported for this module's tests
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"held-{name}.png"), full_page=True)


def _held_run(world: AdminWorld, settings: Settings) -> tuple[str, list[dict[str, str]]]:
    """A first sync, then a fifth of the students leave Clever: the next run is held. Its id and
    the students who left (with their usernames in Keycloak)."""
    record_choices(settings)
    _run_sync(settings)
    students = world.sandbox.people("student")
    leavers = students[: len(students) // 5]
    for student in leavers:
        world.sandbox.delete("users", student["id"])
    _run_sync(settings)
    held = SyncState.from_url(settings.redis_url).held(world.sandbox.district_id)
    assert held is not None and held.status == "held"
    named = []
    for student in leavers:
        [user] = world.admin.get_users({"idpAlias": "clever", "idpUserId": student["id"]})
        named.append({"clever_id": student["id"], "username": user["username"]})
    return held.run_id, named


def test_a_held_run_lists_who_and_is_approved_only_when_confirmed(
    chromium: Browser, page: Page, admin_world: AdminWorld, demo_settings: Settings
) -> None:
    world = admin_world
    run_id, leavers = _held_run(world, demo_settings)
    sign_in(page, world)
    page.wait_for_url(world.page_url)

    box = page.locator("#held-run")
    expect(box).to_contain_text(f"Approving it would disable {len(leavers)} people")
    for person in leavers[:20]:
        expect(box.locator(f"tr[data-clever-id='{person['clever_id']}']")).to_contain_text(person["username"])
    expect(page.locator("[data-counts-heading]")).to_have_text("What this run would change")
    assert "What this run changed" not in page.content()
    disabled = page.locator("#counts tr[data-kind='students'] td[data-count='disabled']")
    expect(disabled).to_have_text(str(len(leavers)))
    box.scroll_into_view_if_needed()
    _shot(page, "summary")
    page.locator("#status").screenshot(path=str(ARTIFACTS / "held-status.png"))

    with page.expect_download() as download:
        page.click("#held-csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    people = [r for r in rows if r["change"] == "disable account"]
    assert {(r["clever_id"], r["username"]) for r in people} == {
        (p["clever_id"], p["username"]) for p in leavers
    }
    assert any(r["change"] == "remove from group" for r in rows)

    # The whole approval without JavaScript: the confirmation is a page and a box the server checks.
    context = chromium.new_context(java_script_enabled=False, storage_state=page.context.storage_state())
    plain = context.new_page()
    try:
        plain.goto(world.page_url)
        plain.click("#approve-run")
        expect(plain.locator("#approve-sentence")).to_contain_text(f"disable {len(leavers)} people")
        expect(plain.locator("#would-disable tr[data-clever-id]")).to_have_count(len(leavers))
        _shot(plain, "confirm")
        # Unticked (the browser's own check taken away): the server refuses, nothing is applied.
        plain.evaluate("document.getElementById('confirm-approve').removeAttribute('required')")
        plain.click("#approve-apply")
        expect(plain.locator(".flash.error")).to_contain_text("tick the box")
        # Numbers that are not the held run's (a stale page): refused too.
        plain.evaluate("document.querySelector('input[name=people]').value = '1'")
        plain.check("#confirm-approve")
        plain.click("#approve-apply")
        expect(plain.locator(".flash.error")).to_contain_text(f"may disable {len(leavers)} people")
        held = SyncState.from_url(world.settings.redis_url).held(world.sandbox.district_id)
        assert held is not None and held.run_id == run_id
        plain.check("#confirm-approve")
        plain.click("#approve-apply")
        expect(plain.locator(".flash.ok")).to_contain_text("Approved")
    finally:
        context.close()

    run_worker(world)
    page.goto(world.page_url)
    expect(page.locator("#last-status")).to_have_text("ok")
    expect(page.locator("[data-counts-heading]")).to_have_text("What this run changed")
    newest = page.locator("#history tr[data-run]").first
    expect(newest.locator("[data-started-by]")).to_contain_text(
        f"it-admin (admin page), approving run {run_id}"
    )
    expect(page.locator(f"#history tr[data-run='{run_id}'] [data-decided-by]")).to_have_text(
        "by it-admin (admin page)"
    )
    for person in leavers:
        [user] = world.admin.get_users({"idpAlias": "clever", "idpUserId": person["clever_id"]})
        assert user["enabled"] is False
    _shot(page, "approved")
