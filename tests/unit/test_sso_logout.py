"""The sidecar's /clever/logout, where Keycloak sends the sign-out of a Clever login (no Keycloak here:
the server-to-server call fails, and the route falls back as it says)."""

from __future__ import annotations

from flask.testing import FlaskClient

from plugin.config.settings import Settings
from plugin.sso.logout_config import idp_logout_config
from tests.unit.test_broker_portal import client, settings

__all__ = ["client", "settings"]  # fixtures


def test_without_a_session_to_finish_the_browser_goes_to_clevers_logout(client: FlaskClient) -> None:
    response = client.get("/clever/logout")

    assert response.status_code == 302
    assert response.headers["Location"] == "https://clever.com/logout"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"  # nothing of Keycloak's URL reaches Clever


def test_when_keycloak_cannot_be_reached_the_browser_finishes_keycloaks_sign_out(
    client: FlaskClient,
) -> None:
    # The unit tests' Keycloak (id.example.org) answers nobody: the sign-out must not stay half done.
    response = client.get("/clever/logout?state=0b7c-session&post_logout_redirect_uri=https://evil.test/")

    assert response.headers["Location"] == (
        "https://id.example.org/realms/school/broker/clever/endpoint/logout_response?state=0b7c-session"
    )


def test_a_malformed_state_is_never_sent_to_keycloak(client: FlaskClient) -> None:
    response = client.get("/clever/logout?state=../../admin")

    assert response.headers["Location"] == "https://clever.com/logout"


def test_the_provider_sends_the_sign_out_here_in_the_browser(settings: Settings) -> None:
    assert idp_logout_config(settings) == {
        "logoutUrl": "https://sidecar.example.org/clever/logout",
        "backchannelSupported": "false",
        "sendIdTokenOnLogout": "false",
        "sendClientIdOnLogout": "false",
    }
