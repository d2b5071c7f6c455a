"""``keycloak-clever broker register | show [--json] | remove``: Clever as Keycloak's identity broker.

Reads the same ``KCC_*`` settings as the sidecar (``KCC_CLEVER_OAUTH_URL``, ``KCC_CLEVER_CLIENT_ID``,
``KCC_CLEVER_CLIENT_SECRET``, ``KCC_CLEVER_CREATE_UNKNOWN_USERS``, ``KCC_REALM``, the Keycloak admin).
"""

from __future__ import annotations

import json

import click

from connectors.keycloak import admin_client
from model.base import SyncError
from plugin.commands.context import load_settings
from plugin.sso.broker import broker_state, ensure_broker, remove_broker


@click.group()
def broker() -> None:
    """Clever as an identity provider in the configured realm."""


@broker.command()
def register() -> None:
    """Create or update the Clever identity provider, its mappers, roles, User Profile and flow."""
    settings = load_settings()
    try:
        report = ensure_broker(admin_client(settings.keycloak), settings)
    except SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"realm {settings.keycloak.realm}:\n{report}")


@broker.command()
@click.option("--json", "as_json", is_flag=True, help="Print the identity provider and its mappers as JSON.")
def show(as_json: bool) -> None:
    """Show the Clever identity provider and its mappers as Keycloak holds them."""
    settings = load_settings()
    try:
        state = broker_state(admin_client(settings.keycloak))
    except SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(state, indent=2, sort_keys=True))
        return
    if state is None:
        click.echo(f"realm {settings.keycloak.realm}: no Clever identity provider")
        return
    config = state.get("config", {})
    click.echo(
        f"realm {settings.keycloak.realm}: identity provider {state['alias']} ({state.get('displayName')})"
    )
    for key in ("issuer", "authorizationUrl", "tokenUrl", "jwksUrl", "clientId", "clientAuthMethod"):
        click.echo(f"  {key}: {config.get(key, '')}")
    click.echo(f"  first broker login flow: {state.get('firstBrokerLoginFlowAlias')}")
    for mapper in sorted(state["mappers"], key=lambda m: m["name"]):
        mode = mapper.get("config", {}).get("syncMode", "")
        click.echo(f"  mapper {mapper['name']}: {mapper['identityProviderMapper']} ({mode})")


@broker.command()
@click.confirmation_option(prompt="Remove Clever from the realm (users' Clever links go with it)?")
def remove() -> None:
    """Delete the identity provider (its mappers and users' links go with it) and the flow."""
    settings = load_settings()
    try:
        report = remove_broker(admin_client(settings.keycloak))
    except SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"realm {settings.keycloak.realm}:\n{report}")
