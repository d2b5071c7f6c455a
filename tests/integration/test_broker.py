"""ensure_broker against the real Keycloak: creates, then twice is a no-op, then updates only what changed."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from click.testing import CliRunner
from keycloak import KeycloakAdmin

from mappers.layout import CLEVER_ATTRIBUTES
from model.state import IDP_ALIAS
from plugin.commands.cli import cli
from plugin.config.settings import Settings
from plugin.sso.broker import (
    DENY_UNKNOWN_MESSAGE,
    FLOW_ALIAS,
    Discovery,
    desired_mappers,
    ensure_broker,
    remove_broker,
)
from plugin.sso.portal_flow import PORTAL_CLIENT_ID, PORTAL_FLOW_ALIAS

pytestmark = pytest.mark.integration

DISCOVERY = Discovery(
    issuer="http://127.0.0.1:1",
    authorization_endpoint="http://127.0.0.1:1/oauth/authorize",
    token_endpoint="http://127.0.0.1:1/oauth/tokens",
    userinfo_endpoint="http://127.0.0.1:1/userinfo",
    jwks_uri="http://127.0.0.1:1/oauth/certs",
)


def clever_settings(settings: Settings, **changes: Any) -> Settings:
    values = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", **changes}
    clever = dataclasses.replace(settings.clever, **values)
    return dataclasses.replace(settings, clever=clever)


def snapshot(admin: KeycloakAdmin) -> dict[str, Any]:
    """Everything ensure_broker touches, as Keycloak holds it."""
    executions = admin.get_authentication_flow_executions(FLOW_ALIAS)
    portal_executions = admin.get_authentication_flow_executions(PORTAL_FLOW_ALIAS)
    configs = [
        admin.get_authenticator_config(e["authenticationConfig"])
        for e in executions + portal_executions
        if e.get("authenticationConfig")
    ]
    return {
        "idp": admin.get_idp(IDP_ALIAS),
        "mappers": sorted(admin.get_idp_mappers(IDP_ALIAS), key=lambda m: m["id"]),
        "profile": admin.get_realm_users_profile(),
        "executions": executions,
        "portal_executions": portal_executions,
        "configs": configs,
        "portal_client": portal_client(admin),
        "roles": sorted(r["name"] for r in admin.get_realm_roles()),
    }


def portal_client(admin: KeycloakAdmin) -> dict[str, Any]:
    internal_id = admin.get_client_id(PORTAL_CLIENT_ID)
    assert internal_id is not None
    client: dict[str, Any] = admin.get_client(internal_id)
    return client


def portal_flow_id(admin: KeycloakAdmin) -> str:
    return str(next(f["id"] for f in admin.get_authentication_flows() if f["alias"] == PORTAL_FLOW_ALIAS))


def test_ensure_twice_changes_nothing(keycloak_admin: KeycloakAdmin, settings: Settings) -> None:
    settings = clever_settings(settings)
    first = ensure_broker(keycloak_admin, settings, DISCOVERY)
    assert "identity provider clever: created" in first.changes
    before = snapshot(keycloak_admin)

    second = ensure_broker(keycloak_admin, settings, DISCOVERY)

    assert second.changes == []
    assert str(second) == "no changes"
    after = snapshot(keycloak_admin)
    assert after == before
    assert len(after["mappers"]) == len(desired_mappers(guard=True))
    idp = after["idp"]
    assert idp["displayName"] == "Clever"
    assert idp["trustEmail"] is False
    assert idp["firstBrokerLoginFlowAlias"] == FLOW_ALIAS
    assert idp["config"]["clientAuthMethod"] == "client_secret_basic"
    assert idp["config"]["pkceMethod"] == "S256"
    assert idp["config"]["jwksUrl"] == DISCOVERY.jwks_uri
    assert {"clever-student", "clever-district-admin", "clever-contact"} <= set(after["roles"])
    assert [e["providerId"] for e in after["executions"]] == ["deny-access-authenticator"]
    assert after["configs"][0]["config"]["denyErrorMessage"] == DENY_UNKNOWN_MESSAGE
    # The portal's flow: only the redirect to Clever, no Cookie step; its client is bound to it.
    assert [(e["providerId"], e["requirement"]) for e in after["portal_executions"]] == [
        ("identity-provider-redirector", "REQUIRED")
    ]
    assert after["configs"][1]["config"] == {"defaultProvider": IDP_ALIAS}
    client = after["portal_client"]
    assert client["authenticationFlowBindingOverrides"] == {"browser": portal_flow_id(keycloak_admin)}
    assert client["publicClient"] is True and client["directAccessGrantsEnabled"] is False
    assert client["redirectUris"] == [f"{settings.public_url}/clever/signed-in"]


def test_a_changed_setting_updates_only_that(keycloak_admin: KeycloakAdmin, settings: Settings) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings, district_id="d1"), DISCOVERY)
    mappers_before = keycloak_admin.get_idp_mappers(IDP_ALIAS)

    report = ensure_broker(
        keycloak_admin, clever_settings(settings, client_id="other-client", district_id="d1"), DISCOVERY
    )

    assert report.changes == ["identity provider clever: updated config.clientId"]
    assert keycloak_admin.get_idp(IDP_ALIAS)["config"]["clientId"] == "other-client"
    assert keycloak_admin.get_idp_mappers(IDP_ALIAS) == mappers_before

    report = ensure_broker(
        keycloak_admin,
        clever_settings(settings, client_id="other-client", create_unknown_users=True, district_id="d1"),
        DISCOVERY,
    )
    assert report.changes == [f"flow {FLOW_ALIAS!r}: steps set to create unknown people"]
    executions = keycloak_admin.get_authentication_flow_executions(FLOW_ALIAS)
    assert [e["providerId"] for e in executions] == ["idp-create-user-if-unique", "deny-access-authenticator"]
    # Distinct priorities: steps of equal priority come back (and run) in no fixed order.
    assert executions[0]["priority"] < executions[1]["priority"]


def test_steps_left_at_equal_priorities_are_rebuilt_in_order(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    wanted = clever_settings(settings, create_unknown_users=True, district_id="d1")
    ensure_broker(keycloak_admin, wanted, DISCOVERY)
    for execution in keycloak_admin.get_authentication_flow_executions(FLOW_ALIAS):
        # What an earlier version left: a PUT without priority sets it to 0.
        keycloak_admin.update_authentication_flow_executions(
            {"id": execution["id"], "requirement": execution["requirement"]}, FLOW_ALIAS
        )
    assert {e["priority"] for e in keycloak_admin.get_authentication_flow_executions(FLOW_ALIAS)} == {0}

    report = ensure_broker(keycloak_admin, wanted, DISCOVERY)

    assert report.changes == [f"flow {FLOW_ALIAS!r}: steps set to create unknown people"]
    executions = keycloak_admin.get_authentication_flow_executions(FLOW_ALIAS)
    assert [e["providerId"] for e in executions] == ["idp-create-user-if-unique", "deny-access-authenticator"]
    assert executions[0]["priority"] < executions[1]["priority"]


def test_a_new_secret_is_written(keycloak_admin: KeycloakAdmin, settings: Settings) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)
    changed = dataclasses.replace(settings.clever, client_id="sandbox-client", client_secret="rotated")

    report = ensure_broker(keycloak_admin, dataclasses.replace(settings, clever=changed), DISCOVERY)

    assert report.changes == ["identity provider clever: updated config.clientSecret"]


def test_user_profile_declares_clever_attributes_and_keeps_others(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    profile = keycloak_admin.get_realm_users_profile()
    profile["attributes"].append({"name": "homeroom", "displayName": "Homeroom", "multivalued": False})
    keycloak_admin.update_realm_users_profile(profile)

    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    attributes = {a["name"]: a for a in keycloak_admin.get_realm_users_profile()["attributes"]}
    assert "homeroom" in attributes
    for name in CLEVER_ATTRIBUTES:
        assert attributes[name]["group"] == "clever"
        assert attributes[name]["permissions"] == {"view": ["admin"], "edit": ["admin"]}
    assert "required" not in attributes["email"]
    # A student without email, with the sync's attributes, is kept whole.
    user_id = keycloak_admin.create_user(
        {
            "username": "no.email",
            "enabled": True,
            "firstName": "Ana",
            "lastName": "Diaz",
            "attributes": {"clever_id": ["5a0c91b95c7cc000010d4180"], "clever_school_ids": ["s1", "s2"]},
        }
    )
    held = keycloak_admin.get_user(user_id)["attributes"]
    assert held["clever_id"] == ["5a0c91b95c7cc000010d4180"]
    assert held["clever_school_ids"] == ["s1", "s2"]


def test_a_drifted_mapper_is_put_back_and_foreign_ones_kept(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)
    held = next(m for m in keycloak_admin.get_idp_mappers(IDP_ALIAS) if m["name"] == "clever_id")
    held["config"]["claim"] = "email"
    keycloak_admin.update_mapper_in_idp(IDP_ALIAS, held["id"], held)
    keycloak_admin.add_mapper_to_idp(
        IDP_ALIAS,
        {
            "name": "admin's own",
            "identityProviderAlias": IDP_ALIAS,
            "identityProviderMapper": "hardcoded-attribute-idp-mapper",
            "config": {"attribute": "source", "attribute.value": "clever", "syncMode": "IMPORT"},
        },
    )

    report = ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    assert report.changes == ["mapper 'clever_id': updated config.claim"]
    mappers = {m["name"]: m for m in keycloak_admin.get_idp_mappers(IDP_ALIAS)}
    assert mappers["clever_id"]["id"] == held["id"]
    assert mappers["clever_id"]["config"]["claim"] == "sub"
    assert "admin's own" in mappers


def test_remove_then_register_again(keycloak_admin: KeycloakAdmin, settings: Settings) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    report = remove_broker(keycloak_admin)

    assert report.changes == [
        "identity provider clever: removed",
        f"flow {FLOW_ALIAS!r}: removed",
        f"client {PORTAL_CLIENT_ID}: removed",
        f"flow {PORTAL_FLOW_ALIAS!r}: removed",
        "realm login theme: Keycloak default again",
        "client scope clever-classes: removed",
    ]
    assert not remove_broker(keycloak_admin)
    assert (
        "identity provider clever: created"
        in ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY).changes
    )


def test_a_drifted_portal_client_is_put_back_and_an_admins_other_settings_kept(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)
    drifted = portal_client(keycloak_admin)
    drifted["directAccessGrantsEnabled"] = True
    # An empty value unbinds (an empty map leaves the bindings alone): the realm's browser flow, with
    # its Cookie step, would serve the portal again.
    drifted["authenticationFlowBindingOverrides"] = {"browser": ""}
    drifted["attributes"]["post.logout.redirect.uris"] = "+"
    keycloak_admin.update_client(drifted["id"], drifted)
    assert portal_client(keycloak_admin)["authenticationFlowBindingOverrides"] == {}

    report = ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    updated = "authenticationFlowBindingOverrides.browser, directAccessGrantsEnabled"
    assert report.changes == [f"client {PORTAL_CLIENT_ID}: updated {updated}"]
    client = portal_client(keycloak_admin)
    assert client["id"] == drifted["id"]
    assert client["authenticationFlowBindingOverrides"] == {"browser": portal_flow_id(keycloak_admin)}
    assert client["directAccessGrantsEnabled"] is False
    assert client["attributes"]["post.logout.redirect.uris"] == "+"
    assert not ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)


def test_a_cookie_step_added_to_the_portal_flow_is_taken_out(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)
    keycloak_admin.create_authentication_flow_execution({"provider": "auth-cookie"}, PORTAL_FLOW_ALIAS)
    cookie = next(
        e
        for e in keycloak_admin.get_authentication_flow_executions(PORTAL_FLOW_ALIAS)
        if e["providerId"] == "auth-cookie"
    )
    keycloak_admin.update_authentication_flow_executions(
        {**cookie, "requirement": "ALTERNATIVE"}, PORTAL_FLOW_ALIAS
    )

    report = ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    assert report.changes == [f"flow {PORTAL_FLOW_ALIAS!r}: steps set to the redirect to clever only"]
    executions = keycloak_admin.get_authentication_flow_executions(PORTAL_FLOW_ALIAS)
    assert [(e["providerId"], e["requirement"]) for e in executions] == [
        ("identity-provider-redirector", "REQUIRED")
    ]
    config = keycloak_admin.get_authenticator_config(executions[0]["authenticationConfig"])
    assert config["config"] == {"defaultProvider": IDP_ALIAS}
    assert not ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)


def test_cli_show_json_prints_the_idp_and_its_mappers(
    keycloak_admin: KeycloakAdmin, settings: Settings, services_env: dict[str, str]
) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)
    env = {k: v for k, v in services_env.items() if k.startswith("KCC_")}
    env["KCC_REALM"] = settings.keycloak.realm

    result = CliRunner().invoke(cli, ["broker", "show", "--json"], env=env)

    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["alias"] == IDP_ALIAS
    assert len(shown["mappers"]) == len(desired_mappers(guard=True))


def test_users_cannot_link_identity_providers_themselves_unless_the_realm_opts_out(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    def link_action_enabled() -> bool:
        return any(a["alias"] == "idp_link" and a["enabled"] for a in keycloak_admin.get_required_actions())

    assert link_action_enabled()  # Keycloak's default
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    assert not link_action_enabled()
    assert keycloak_admin.get_idp(IDP_ALIAS)["config"]["showInAccountConsole"] == "NEVER"
    ensure_broker(keycloak_admin, clever_settings(settings, allow_self_linking=True), DISCOVERY)
    assert keycloak_admin.get_idp(IDP_ALIAS)["config"]["showInAccountConsole"] == "ALWAYS"
