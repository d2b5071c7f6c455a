"""A small client of the clever-sync extension for tests, signed in as the master admin."""

from __future__ import annotations

from typing import Any

import requests
from keycloak import KeycloakAdmin

from plugin.sso.broker import desired_roles


class Extension:
    """A tiny client of the extension, signed in as the master admin."""

    def __init__(self, services_env: dict[str, str], realm: str) -> None:
        self.base = f"{services_env['KEYCLOAK_URL']}/admin/realms/{realm}/clever-sync"
        response = requests.post(
            f"{services_env['KEYCLOAK_URL']}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": services_env["KEYCLOAK_ADMIN_USER"],
                "password": services_env["KEYCLOAK_ADMIN_PASSWORD"],
            },
            timeout=30,
        )
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def batch(self, *operations: dict[str, Any]) -> list[dict[str, Any]]:
        response = requests.post(
            f"{self.base}/batch", json={"operations": list(operations)}, headers=self.headers, timeout=300
        )
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        assert [result["index"] for result in results] == list(range(len(operations)))
        return results

    def send(self, *operations: dict[str, Any]) -> dict[str, Any]:
        """The whole answer of a batch (results, transactions, newAccounts)."""
        response = requests.post(
            f"{self.base}/batch", json={"operations": list(operations)}, headers=self.headers, timeout=300
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def probe(self) -> dict[str, Any]:
        response = requests.get(f"{self.base}/", headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def make_clever_roles(admin: KeycloakAdmin) -> None:
    """The Clever realm roles, as ``keycloak-clever setup`` / ``broker register`` make them."""
    for name in desired_roles():
        admin.create_realm_role({"name": name, "description": "Given by Clever"}, skip_exists=True)
