"""The sidecar works with exactly ``SERVICE_ROLES``, and each of them is needed.

Every test of the suite signs in as the realm's service account (``tests/conftest.py`` runs
``keycloak-clever setup`` on each test realm), so the whole suite is the proof that these roles are
enough. Here: ``setup`` is idempotent and leaves exactly those roles; a sync, the broker
registration and the admin page's client work with them; and with any one removed Keycloak itself
refuses part of that work (the roles' check bypassed), while the sidecar refuses to start,
naming the missing role and what it is for.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from connectors.keycloak import admin_client
from connectors.keycloak_account import MANAGEMENT_CLIENT, SERVICE_CLIENT_ID, SERVICE_ROLES, token_roles
from model.base import ConfigError, SyncError
from plugin.admin.auth import ensure_admin_client
from plugin.commands.cli import cli
from plugin.config.settings import Settings, load_env_file
from plugin.sso.broker import ensure_broker
from plugin.sso.setup import ensure_service_account
from plugin.sync.pipeline import run_sync
from tests.integration.test_broker import DISCOVERY, clever_settings
from tests.sync_roster import MemorySource, make_district_roster

pytestmark = pytest.mark.integration


def _held(admin: KeycloakAdmin) -> set[str]:
    internal = admin.get_client_id(SERVICE_CLIENT_ID)
    assert internal
    account = admin.get_client_service_account_user(internal)
    management = admin.get_client_id(MANAGEMENT_CLIENT)
    assert management
    return {role["name"] for role in admin.get_client_roles_of_user(account["id"], management)}


def _remove(admin: KeycloakAdmin, role: str) -> None:
    internal = admin.get_client_id(SERVICE_CLIENT_ID)
    assert internal
    account = admin.get_client_service_account_user(internal)
    management = admin.get_client_id(MANAGEMENT_CLIENT)
    assert management
    admin.delete_client_roles_of_user(account["id"], management, [admin.get_client_role(management, role)])


def _work(settings: Settings, admin: KeycloakAdmin) -> None:
    """What the sidecar does in Keycloak: register the broker, keep the page's client, write people."""
    ensure_broker(admin, clever_settings(settings), DISCOVERY)
    ensure_admin_client(admin, settings)
    user_id = admin.create_user({"username": f"sa-{uuid.uuid4().hex[:8]}", "enabled": True})
    group_id = admin.create_group({"name": f"sa-{uuid.uuid4().hex[:8]}"})
    admin.group_user_add(user_id, group_id)
    admin.update_user(user_id, {"firstName": "Jess"})


def test_setup_is_idempotent_and_leaves_exactly_the_roles(
    keycloak_admin: KeycloakAdmin, service_secret: str
) -> None:
    assert _held(keycloak_admin) == set(SERVICE_ROLES)
    management = keycloak_admin.get_client_id(MANAGEMENT_CLIENT)
    assert management
    internal = keycloak_admin.get_client_id(SERVICE_CLIENT_ID)
    assert internal
    account = keycloak_admin.get_client_service_account_user(internal)
    keycloak_admin.assign_client_role(
        account["id"], management, [keycloak_admin.get_client_role(management, "realm-admin")]
    )
    assert ensure_service_account(keycloak_admin) == service_secret  # the same secret, again
    assert _held(keycloak_admin) == set(SERVICE_ROLES)  # the extra role is gone
    client = keycloak_admin.get_client(internal)
    assert (client["publicClient"], client["serviceAccountsEnabled"]) == (False, True)
    assert (client["standardFlowEnabled"], client["directAccessGrantsEnabled"]) == (False, False)


def test_the_cli_writes_the_credentials_not_the_admin_password(
    services_env: dict[str, str], realm: str, tmp_path: Path
) -> None:
    env_file = str(tmp_path / "sidecar.env")
    env = {
        "KCC_KEYCLOAK_URL": services_env["KEYCLOAK_URL"],
        "KCC_REALM": realm,
        "KCC_KEYCLOAK_ADMIN_USER": services_env["KEYCLOAK_ADMIN_USER"],
        "KCC_KEYCLOAK_ADMIN_PASSWORD": services_env["KEYCLOAK_ADMIN_PASSWORD"],
    }
    for _ in range(2):  # idempotent
        result = CliRunner().invoke(cli, ["setup", "--env-file", env_file], env=env)
        assert result.exit_code == 0, result.output
    written = load_env_file(env_file)
    assert set(written) == {"KCC_KEYCLOAK_CLIENT_ID", "KCC_KEYCLOAK_CLIENT_SECRET"}
    assert services_env["KEYCLOAK_ADMIN_PASSWORD"] not in Path(env_file).read_text() + result.output
    assert written["KCC_KEYCLOAK_CLIENT_SECRET"] not in result.output
    for role in SERVICE_ROLES:
        assert role in result.output


def test_the_sync_and_the_broker_work_with_exactly_these_roles(settings: Settings) -> None:
    assert settings.keycloak.service_account and not settings.keycloak.admin_password
    admin = admin_client(settings.keycloak)
    assert token_roles(admin) >= set(SERVICE_ROLES)
    _work(settings, admin)
    report = run_sync(settings, source=MemorySource(make_district_roster(8, schools=1)), district_id="d1")
    assert report.status == "ok", report.errors


@pytest.mark.parametrize("role", list(SERVICE_ROLES))
def test_without_one_role_keycloak_refuses_and_the_sidecar_names_it(
    settings: Settings, keycloak_admin: KeycloakAdmin, role: str
) -> None:
    _remove(keycloak_admin, role)
    with pytest.raises(ConfigError) as refused:
        admin_client(settings.keycloak)
    assert f"lacks the realm-management role(s) {role} ({SERVICE_ROLES[role]})" in str(refused.value)
    unchecked = admin_client(settings.keycloak, check_roles=False)
    with pytest.raises((KeycloakError, SyncError)) as failed:  # Keycloak's own 403
        _work(settings, unchecked)
    assert "403" in str(failed.value), failed.value
    with pytest.raises(ConfigError, match=role):  # a run stops at once, naming it
        run_sync(settings, source=MemorySource(make_district_roster(4, schools=1)), district_id="d1")
