"""Issue 27, the kill switch: when the sync disables a departed person's account it ends their
sessions and offline tokens in the same run, every client that registered a back-channel logout URL
is told, and the report says how many. The real Keycloak, Redis, OpenLDAP and the sandbox's Events."""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.broker import ensure_broker
from plugin.sync.run_options import RunOptions
from sandbox.state import SandboxState
from tests.backchannel import PASSWORD, make_client, receiver, refresh_refused, sign_in

pytestmark = pytest.mark.integration
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def test_a_departed_student_has_no_session_left_and_the_client_is_told(
    clever_settings: Settings,
    sandbox_state: SandboxState,
    keycloak_admin: KeycloakAdmin,
    redis_url: str,
) -> None:
    settings = clever_settings
    ensure_broker(keycloak_admin, settings)
    state = SyncState.from_url(redis_url)
    district = settings.clever.district_id
    first = jobs.run_locked(
        settings, state, district, "full1", RunOptions(full=True), source=CleverClient(settings.clever)
    )
    assert first.status == "ok", first.summary()

    leaver = sandbox_state.people("student")[0]["id"]
    stays = sandbox_state.people("student")[1]["id"]
    accounts = {
        cid: keycloak_admin.get_users({"idpAlias": "clever", "idpUserId": cid})[0] for cid in (leaver, stays)
    }
    url, realm = settings.keycloak.url, settings.keycloak.realm
    with receiver() as relying_party:
        secret = make_client(keycloak_admin, relying_party.url)
        tokens = {}
        for cid, account in accounts.items():
            keycloak_admin.set_user_password(account["id"], PASSWORD, temporary=False)
            tokens[cid] = (
                sign_in(url, realm, secret, account["username"]),
                sign_in(url, realm, secret, account["username"], offline=True),
            )
        client = keycloak_admin.get_client_id("gradebook")
        for account in accounts.values():  # a session, and an offline token (an offline session)
            assert len(keycloak_admin.get_sessions(account["id"])) == 1
            assert len(_offline_sessions(keycloak_admin, account["id"], client)) == 1

        sandbox_state.delete("users", leaver)  # the student leaves the district in Clever
        departure = jobs.run_locked(
            settings, state, district, "events1", source=CleverClient(settings.clever)
        )

        assert departure.mode == "incremental" and departure.status == "ok", departure.summary()
        assert departure.kinds["students"]["disabled"] == 1, departure.summary()
        gone = accounts[leaver]["id"]
        assert keycloak_admin.get_user(gone)["enabled"] is False
        assert keycloak_admin.get_sessions(gone) == []
        assert _offline_sessions(keycloak_admin, gone, client) == []
        consents = keycloak_admin.connection.raw_get(f"admin/realms/{realm}/users/{gone}/consents").json()
        assert consents == [], consents
        online, offline = tokens[leaver]
        assert refresh_refused(url, realm, secret, online["refresh_token"])
        assert refresh_refused(url, realm, secret, offline["refresh_token"])
        told = relying_party.wait_for(gone)
        assert told is not None, relying_party.claims  # the client with a back-channel URL was told
        assert LOGOUT_EVENT in told["events"] and told["aud"] in ("gradebook", ["gradebook"])

        # The report says how many.
        assert departure.access_ended == {"people": 1, "sessions": 1, "offline_tokens": 1, "failed": 0}
        assert "ended 1 session and 1 offline token of 1 departed person" in departure.summary()

        # Whoever stays keeps their session; nothing was said about them.
        kept = accounts[stays]["id"]
        assert len(keycloak_admin.get_sessions(kept)) == 1
        assert len(_offline_sessions(keycloak_admin, kept, client)) == 1
        assert not refresh_refused(url, realm, secret, tokens[stays][0]["refresh_token"])
        assert all(claims.get("sub") != kept for claims in relying_party.claims)


def _offline_sessions(admin: KeycloakAdmin, user_id: str, client: str | None) -> list[dict[str, object]]:
    realm = admin.connection.realm_name
    found: list[dict[str, object]] = admin.connection.raw_get(
        f"admin/realms/{realm}/users/{user_id}/offline-sessions/{client}"
    ).json()
    return found
