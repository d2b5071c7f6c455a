"""An SIS re-key that rewrites every name is held for review, like Clever's own hold (real services)."""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.sso.broker import ensure_broker
from plugin.sync.report import SyncReport
from plugin.sync.run_options import RunOptions
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration


def _last_names(admin: KeycloakAdmin) -> set[str]:
    users = admin.get_users({"q": "clever_role:student", "max": 1000})
    return {u.get("lastName", "") for u in users}


def test_rewriting_most_names_is_held_and_applied_only_when_approved(
    clever_settings: Settings, sandbox_state: SandboxState, keycloak_admin: KeycloakAdmin
) -> None:
    settings = clever_settings
    ensure_broker(keycloak_admin, settings)
    state = jobs.state_for(settings)
    district = settings.clever.district_id

    def full(run_id: str) -> SyncReport:
        return jobs.run_locked(
            settings, state, district, run_id, RunOptions(full=True), source=CleverClient(settings.clever)
        )

    first = full("full1")
    assert first.status == "ok", first.summary()
    before = _last_names(keycloak_admin)

    students = sandbox_state.people("student")
    rekeyed = students[: int(len(students) * 0.8)]
    for student in rekeyed:
        sandbox_state.update("users", student["id"], {"name": {**student["name"], "last": "Rekeyed"}})

    held = full("full2")
    assert held.status == "held", held.summary()
    rewritten = f"{len(rekeyed)} of {len(students)} students would have their names or identifiers"
    assert held.brake["reasons"] == [f"{rewritten} rewritten (over 75%)"]
    assert _last_names(keycloak_admin) == before  # nothing was written
    assert state.held(district) is not None

    approved = jobs.run_locked(
        settings,
        state,
        district,
        "full3",
        source=CleverClient(settings.clever),
        run=RunOptions(full=True, release_brake=True),
    )
    assert approved.status == "ok", approved.summary()
    assert approved.kinds["students"]["updated"] == len(rekeyed)
    assert "Rekeyed" in _last_names(keycloak_admin)
