"""``keycloak-clever setup``: the sidecar's service account in the district realm (idempotent).

Run once by a Keycloak admin (and again after an upgrade that needs another role): it signs in
with the admin user given for this run only (``KCC_KEYCLOAK_ADMIN_USER``/``_PASSWORD``/``_REALM``,
or prompted), makes or corrects the confidential client ``keycloak-clever``, gives its service
account exactly ``connectors.keycloak_account.SERVICE_ROLES`` (adding what lacks, removing any
other realm-management role), and writes ``KCC_KEYCLOAK_CLIENT_ID`` and
``KCC_KEYCLOAK_CLIENT_SECRET`` into the sidecar's env file (mode 600). The admin's password is
never written anywhere. Example::

    KCC_KEYCLOAK_URL=https://id.district.org KCC_REALM=school \\
        keycloak-clever setup --env-file /etc/keycloak-clever/keycloak-clever.env
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from connectors.keycloak import admin_client
from connectors.keycloak_account import (
    MANAGEMENT_CLIENT,
    SERVICE_CLIENT_ID,
    SERVICE_ROLES,
    desired_service_client,
)
from model.base import ConfigError
from plugin.config.settings import keycloak_from_env


def ensure_service_account(admin: KeycloakAdmin, roles: tuple[str, ...] = tuple(SERVICE_ROLES)) -> str:
    """Make (or correct) the client and its service account's roles; returns the client secret."""
    desired = desired_service_client()
    internal_id = admin.get_client_id(SERVICE_CLIENT_ID)
    if internal_id is None:
        admin.create_client(desired, skip_exists=True)
        internal_id = admin.get_client_id(SERVICE_CLIENT_ID)
        assert internal_id is not None
    else:
        current = admin.get_client(internal_id)
        if any(current.get(key) != value for key, value in desired.items()):
            admin.update_client(internal_id, {**current, **desired})
    account = admin.get_client_service_account_user(internal_id)
    management = admin.get_client_id(MANAGEMENT_CLIENT)
    assert management is not None
    held = {role["name"]: role for role in admin.get_client_roles_of_user(account["id"], management)}
    wanted = set(roles)
    extra = [role for name, role in held.items() if name not in wanted]
    if extra:
        admin.delete_client_roles_of_user(account["id"], management, extra)
    missing = [admin.get_client_role(management, name) for name in roles if name not in held]
    if missing:
        admin.assign_client_role(account["id"], management, missing)
    secret: str = admin.get_client_secrets(internal_id)["value"]
    return secret


def write_env(path: Path, values: dict[str, str]) -> None:
    """Set ``values`` in a KEY=VALUE file, keeping its other lines; mode 600."""
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in values]
    kept += [f"{key}={value}" for key, value in values.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(kept) + "\n")
    path.chmod(0o600)


@click.command()
@click.option(
    "--env-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sidecar's env file: KCC_KEYCLOAK_CLIENT_ID and KCC_KEYCLOAK_CLIENT_SECRET are set in it.",
)
def setup(env_file: Path) -> None:
    """Make the sidecar's service account in the realm (idempotent), with only the roles it needs."""
    try:
        keycloak = keycloak_from_env(
            {**os.environ, "KCC_KEYCLOAK_CLIENT_ID": "", "KCC_KEYCLOAK_CLIENT_SECRET": ""}
        )
    except ConfigError as exc:
        if "KCC_KEYCLOAK_URL" in str(exc):
            raise click.ClickException(str(exc)) from exc
        keycloak = None
    if keycloak is None:  # no admin in the environment: ask (the password is not echoed, not kept)
        user = click.prompt("Keycloak admin user")
        password = click.prompt("Password", hide_input=True)
        keycloak = replace(
            keycloak_from_env(
                {**os.environ, "KCC_KEYCLOAK_ADMIN_USER": user, "KCC_KEYCLOAK_ADMIN_PASSWORD": password}
            ),
            client_id="",
            client_secret="",
        )
    try:
        secret = ensure_service_account(admin_client(keycloak))
    except KeycloakError as exc:
        raise click.ClickException(f"Keycloak refused the setup (HTTP {exc.response_code}): {exc}") from exc
    write_env(env_file, {"KCC_KEYCLOAK_CLIENT_ID": SERVICE_CLIENT_ID, "KCC_KEYCLOAK_CLIENT_SECRET": secret})
    click.echo(
        f"service account {SERVICE_CLIENT_ID} in realm {keycloak.realm}, with the realm-management roles:"
    )
    for role, why in SERVICE_ROLES.items():
        click.echo(f"  {role:<26} {why}")
    click.echo(f"its client credentials are in {env_file} (mode 600); the admin password was not kept")
