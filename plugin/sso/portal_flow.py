"""The Clever portal's own way into Keycloak: a login flow without Keycloak's SSO cookie, and its client.

Why not ``max_age=0`` alone: ``plugin.sso.portal`` asks Keycloak to re-authenticate a login started at
Clever, so that on a shared classroom device the person who clicked in Clever is the one signed in.
Keycloak's Cookie step (``CookieAuthenticator``) asks the protocol whether the browser's session is
too old (``OIDCLoginProtocol.requireReauthentication`` → ``isAuthTimeExpired``), which checks
``authTime + maxAge < Time.currentTime()`` in whole seconds, strictly: a session authenticated in the
same second as the portal request is not "expired" under ``max_age=0``, and the browser goes on as
the previous person. So the portal's login does not go through the Cookie step at all:

* the flow ``clever portal``: one step, "Identity Provider Redirector"
  (``identity-provider-redirector``), REQUIRED, with ``defaultProvider=clever``. It always sends the
  browser to Clever, and when it cannot (Clever disabled or gone) the flow fails instead of falling
  through to anything else;
* the client ``clever-portal``: public, code flow only with PKCE S256 (nobody redeems its code: the
  Account Console signs in by itself, through the session this login makes), no direct grants, no
  service account, no web origins, one redirect URI: the sidecar's ``/clever/signed-in``, which goes
  on to the realm's Account Console without the code (``plugin.sso.portal``), and its browser flow
  bound to ``clever portal`` (``authenticationFlowBindingOverrides``).

A browser that still holds someone's Keycloak session carries it into this login anyway (the new
login's authentication session takes the id of the user session, ``AuthorizationEndpointBase``), and
when Clever's answer is another person Keycloak refuses to swap the person inside it
(``AuthenticationProcessor.attachSession``: "You are already authenticated as different user ...");
the same person goes on. Nobody ever lands in someone else's account, whatever the clock says.

``ensure_portal_login`` keeps both as described and changes only what differs; ``remove_portal_login``
takes them out with the identity provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keycloak import KeycloakAdmin

from model.state import IDP_ALIAS
from plugin.sso.broker_flow import Changes

PORTAL_FLOW_ALIAS = "clever portal"
PORTAL_CLIENT_ID = "clever-portal"
REDIRECTOR = "identity-provider-redirector"
REDIRECTOR_REQUIREMENT = "REQUIRED"
REDIRECTOR_CONFIG_ALIAS = "clever-portal-redirector"


def portal_landing_uri(public_url: str) -> str:
    """The portal client's one redirect URI: the sidecar's ``/clever/signed-in``."""
    return f"{public_url.rstrip('/')}/clever/signed-in"


def desired_portal_client(realm: str, flow_id: str, public_url: str) -> dict[str, Any]:
    """The portal's client: public, code flow with PKCE only, landing on the sidecar's landing route only."""
    account = f"/realms/{realm}/account/"
    return {
        "clientId": PORTAL_CLIENT_ID,
        "name": "Clever portal login (keycloak-clever)",
        "description": "Logins started at Clever: always through Clever, never an earlier session",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": True,
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "rootUrl": "${authBaseUrl}",
        "baseUrl": account,
        "redirectUris": [portal_landing_uri(public_url)],
        "webOrigins": [],
        "fullScopeAllowed": False,
        "attributes": {"pkce.code.challenge.method": "S256"},
        "authenticationFlowBindingOverrides": {"browser": flow_id},
    }


def differing_fields(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """Dotted names of the desired fields whose current value differs (maps compared entry by entry)."""
    changed = []
    for key, value in desired.items():
        if isinstance(value, Mapping):
            held = current.get(key) or {}
            changed += [f"{key}.{k}" for k, v in value.items() if held.get(k) != v]
        elif current.get(key) != value:
            changed.append(key)
    return changed


def ensure_portal_login(admin: KeycloakAdmin, realm: str, public_url: str, report: Changes) -> None:
    """The flow, then the client bound to it; each created when missing, put back where it differs."""
    flow_id = ensure_portal_flow(admin, report)
    ensure_portal_client(admin, realm, flow_id, public_url, report)


def ensure_portal_flow(admin: KeycloakAdmin, report: Changes) -> str:
    """Create the flow when missing; rebuild its steps unless they are exactly the redirect to Clever.
    Returns the flow's id."""
    flow = _flow(admin)
    if flow is None:
        admin.create_authentication_flow(
            {
                "alias": PORTAL_FLOW_ALIAS,
                "description": "Logins started at Clever: to Clever, no SSO cookie (keycloak-clever)",
                "providerId": "basic-flow",
                "topLevel": True,
                "builtIn": False,
            },
            skip_exists=True,
        )
        report.changes.append(f"flow {PORTAL_FLOW_ALIAS!r}: created")
        flow = _flow(admin)
        assert flow is not None
    held = admin.get_authentication_flow_executions(PORTAL_FLOW_ALIAS)
    if _is_redirect_only(admin, held):
        return str(flow["id"])
    for execution in held:
        if execution.get("level", 0) == 0:  # a sub-flow goes with its steps
            admin.delete_authentication_flow_execution(execution["id"])
    admin.create_authentication_flow_execution({"provider": REDIRECTOR}, PORTAL_FLOW_ALIAS)
    (created,) = admin.get_authentication_flow_executions(PORTAL_FLOW_ALIAS)
    # The whole execution goes back: Keycloak sets every field of the PUT (a missing priority is 0).
    admin.update_authentication_flow_executions(
        {**created, "requirement": REDIRECTOR_REQUIREMENT}, PORTAL_FLOW_ALIAS
    )
    admin.create_execution_config(
        created["id"], {"alias": REDIRECTOR_CONFIG_ALIAS, "config": {"defaultProvider": IDP_ALIAS}}
    )
    report.changes.append(f"flow {PORTAL_FLOW_ALIAS!r}: steps set to the redirect to {IDP_ALIAS} only")
    return str(flow["id"])


def ensure_portal_client(
    admin: KeycloakAdmin, realm: str, flow_id: str, public_url: str, report: Changes
) -> None:
    """Create the client, or put back the fields that differ (an admin's other settings are kept)."""
    desired = desired_portal_client(realm, flow_id, public_url)
    internal_id = admin.get_client_id(PORTAL_CLIENT_ID)
    if internal_id is None:
        admin.create_client(desired, skip_exists=True)
        report.changes.append(f"client {PORTAL_CLIENT_ID}: created")
        return
    current = admin.get_client(internal_id)
    changed = differing_fields(current, desired)
    if not changed:
        return
    merged = {**current, **desired}
    for key, value in desired.items():
        if isinstance(value, Mapping):
            merged[key] = {**(current.get(key) or {}), **value}
    admin.update_client(internal_id, merged)
    report.changes.append(f"client {PORTAL_CLIENT_ID}: updated {', '.join(sorted(changed))}")


def remove_portal_login(admin: KeycloakAdmin, report: Changes) -> None:
    """Delete the client, then the flow (Keycloak refuses to delete a flow a client is bound to:
    "Cannot remove authentication flow, it is currently in use", as a 500)."""
    internal_id = admin.get_client_id(PORTAL_CLIENT_ID)
    if internal_id is not None:
        admin.delete_client(internal_id)
        report.changes.append(f"client {PORTAL_CLIENT_ID}: removed")
    flow = _flow(admin)
    if flow is not None:
        admin.delete_authentication_flow(flow["id"])
        report.changes.append(f"flow {PORTAL_FLOW_ALIAS!r}: removed")


def _flow(admin: KeycloakAdmin) -> dict[str, Any] | None:
    return next((f for f in admin.get_authentication_flows() if f["alias"] == PORTAL_FLOW_ALIAS), None)


def _is_redirect_only(admin: KeycloakAdmin, held: list[dict[str, Any]]) -> bool:
    """Exactly one step: the redirector, REQUIRED, configured to Clever."""
    if len(held) != 1:
        return False
    (execution,) = held
    if (execution.get("providerId"), execution.get("requirement")) != (REDIRECTOR, REDIRECTOR_REQUIREMENT):
        return False
    if not execution.get("authenticationConfig"):
        return False
    config = admin.get_authenticator_config(execution["authenticationConfig"])
    return bool(config.get("config", {}).get("defaultProvider") == IDP_ALIAS)
