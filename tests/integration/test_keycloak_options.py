"""The Keycloak server options scripts/services starts with (and docs/deploy.md asks a district for)."""

from __future__ import annotations

import pytest
import requests
from keycloak import KeycloakAdmin

from tests.idp import register_idp

pytestmark = pytest.mark.integration


def user_token(base_url: str, realm: str, username: str, password: str) -> str:
    """An access token of a plain user of ``realm`` (password grant through admin-cli)."""
    response = requests.post(
        f"{base_url}/realms/{realm}/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": "admin-cli", "username": username, "password": password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def test_the_legacy_client_initiated_linking_endpoint_is_off(
    services_env: dict[str, str], keycloak_admin: KeycloakAdmin, realm: str
) -> None:
    """A signed-in user cannot ask Keycloak's deprecated endpoint for a link to Clever (CVE-2026-15571)."""
    register_idp(keycloak_admin)
    keycloak_admin.create_user(
        {
            "username": "pat.plain",
            "enabled": True,
            "firstName": "Pat",
            "lastName": "Plain",
            "email": "pat@example.org",
            "credentials": [{"type": "password", "value": "a-long-test-password", "temporary": False}],
        }
    )
    base = services_env["KEYCLOAK_URL"]
    token = user_token(base, realm, "pat.plain", "a-long-test-password")
    response = requests.get(
        f"{base}/realms/{realm}/account/linked-accounts/clever",
        params={"redirectUri": f"{base}/realms/{realm}/account"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 404, response.text
    assert "Legacy client-initiated account linking is disabled" in response.text
