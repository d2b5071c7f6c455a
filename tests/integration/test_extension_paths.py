"""Which path the clever-sync extension writes new accounts by, on the Keycloak the services run.

The rows path (``Fresh``) writes Keycloak's own JPA rows and runs only on the Keycloak versions it was
verified on (``RowsPath.VERIFIED``); the pinned version (``services/versions.env``) is one of them, so
there a batch of new people must actually go as rows, not only end like the model path would.
"""

from __future__ import annotations

from typing import Any

import pytest
from keycloak import KeycloakAdmin

from tests.extension_client import Extension
from tests.idp import register_idp
from tests.unit.test_versions import pinned_keycloak

pytestmark = pytest.mark.integration


@pytest.fixture
def extension(services_env: dict[str, str], realm: str, keycloak_admin: KeycloakAdmin) -> Extension:
    register_idp(keycloak_admin)
    return Extension(services_env, realm)


def _people(*clever_ids: str) -> list[dict[str, Any]]:
    return [
        {
            "op": "create_user",
            "ref": cid,
            "username": f"kid.{cid}",
            "firstName": "Kid",
            "lastName": cid.upper(),
            "attributes": {"clever_id": [cid]},
            "groups": ["/Clever"],
            "link": True,
        }
        for cid in clever_ids
    ]


def test_on_the_pinned_keycloak_new_people_go_as_rows(
    services_env: dict[str, str], keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    assert services_env["KEYCLOAK_VERSION"] == pinned_keycloak()
    probe = extension.probe()
    assert probe["keycloak"] == pinned_keycloak()
    assert probe["newAccounts"]["path"] == "rows", probe["newAccounts"]
    extension.batch({"op": "create_group", "ref": "root", "name": "Clever"})

    answer = extension.send(*_people("r1", "r2", "r3"))

    assert [r["status"] for r in answer["results"]] == ["created"] * 3
    assert answer["newAccounts"] == {
        "path": "rows",
        "reason": f"Keycloak {pinned_keycloak()} is a version the rows path was verified on",
        "keycloak": pinned_keycloak(),
        "rows": 3,
        "fallback": False,
    }
    kid = keycloak_admin.get_users({"username": "kid.r2", "exact": True})[0]
    assert kid["lastName"] == "R2" and kid["createdTimestamp"] > 0
    assert [g["path"] for g in keycloak_admin.get_user_groups(kid["id"])] == ["/Clever"]


def test_a_realm_with_a_workflow_takes_the_model_path_and_says_why(
    keycloak_admin: KeycloakAdmin, extension: Extension
) -> None:
    """Workflows (on by default since 26.6) listen for the events only the model path fires."""
    realm = keycloak_admin.connection.realm_name
    keycloak_admin.connection.raw_post(
        f"admin/realms/{realm}/workflows",
        data='{"name": "welcome", "on": "user-created", "steps": [{"uses": "set-user-attribute",'
        ' "with": {"clever_welcomed": "yes"}}]}',
    )
    extension.batch({"op": "create_group", "ref": "root", "name": "Clever"})

    answer = extension.send(*_people("w1", "w2"))

    assert [r["status"] for r in answer["results"]] == ["created"] * 2
    assert answer["newAccounts"]["path"] == "model"
    assert answer["newAccounts"]["rows"] == 0
    assert "workflow" in answer["newAccounts"]["reason"]
    assert extension.probe()["newAccounts"]["path"] == "model"
