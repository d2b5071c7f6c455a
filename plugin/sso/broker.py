"""Clever as an identity broker in a Keycloak realm: pure builders, then an idempotent ``ensure``.

What ``ensure_broker(admin, settings)`` puts in the realm (and keeps there, changing only what differs):

* the OIDC identity provider ``clever`` ("Clever" on the login page), its endpoints read from Clever's
  discovery document ``{KCC_CLEVER_OAUTH_URL}/.well-known/openid-configuration``; client secret sent as
  HTTP Basic (Clever's token endpoint wants Basic), PKCE S256, id_token signatures checked with the JWKS,
  ``trustEmail`` off (Clever never verifies emails);
* its mappers, every one ``IMPORT`` (and the provider's own sync mode ``IMPORT``): they fill only an
  account the first-login flow creates. **A login writes nothing to an existing account**: the roster
  sync owns names and ``clever_*`` attributes, READ_ONLY directory accounts refuse every write (a
  ``FORCE`` mapper made their Clever login fail), and a ``FORCE`` provider would rewrite the link's
  ``userName``, the ownership record (``model.ownership``);
* the guard mapper of the clever-sync extension (``GUARD_MAPPER``, when Keycloak has the extension):
  Keycloak itself refuses self-service linking at every entry point, logins while the provider is
  ``FORCE``, and first logins through a flow that links existing accounts; and it writes the ownership
  record of an account the first-login flow creates (``keycloak-extension``: ``OwnershipGuardMapper``);
* the realm roles ``clever-*`` (created when missing);
* the User Profile: a "Clever" attribute group with the ``clever_*`` attributes, admins only (Keycloak
  24+ silently drops undeclared attributes); email and first name not required, because young students
  often have no email and a contact's name may be only a last name; the validators of first name, last
  name and email set so Clever's names are accepted (``plugin.sso.profile_rules``);
* the first-broker-login flow ``clever first broker login``. Keycloak runs it only for a Clever person
  with no linked account (a linked person goes straight in). By default it holds only "Deny access" with
  a clear message; with ``KCC_CLEVER_CREATE_UNKNOWN_USERS=true`` it creates an account
  (username ``clever-<sub>``) when unique and refuses otherwise. It never links an existing account by
  email or name: only the roster sync links;
* the login of the Clever portal: the flow ``clever portal`` (only a redirect to Clever, no SSO cookie)
  and the public client ``clever-portal`` bound to it, which ``plugin.sso.portal`` sends portal logins
  to (why, in ``plugin.sso.portal_flow``);
* for shared devices, the provider's sign-out through the sidecar (``plugin.sso.logout``) and the
  realm's login theme ``clever`` (``plugin.sso.theme``);
* the optional client scope ``clever-classes`` for applications (``plugin.sso.classes_scope``).

Example::

    report = ensure_broker(admin_client(settings.keycloak), settings)
    print(report)          # "identity provider clever: created" ... or "no changes"
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from connectors import keycloak_bulk
from connectors.keycloak_http import KeycloakHttp
from mappers.layout import CLEVER_ATTRIBUTES, CLEVER_MARKS, USER_TYPE_ROLES
from model.base import ConfigError, TransientError
from model.config import CleverSettings
from model.state import IDP_ALIAS
from plugin.config.settings import Settings
from plugin.sso.broker_flow import (
    DENY_DUPLICATE_MESSAGE,
    DENY_UNKNOWN_MESSAGE,
    FLOW_ALIAS,
    Execution,
    desired_executions,
    ensure_first_login_flow,
    ensure_self_linking,
)
from plugin.sso.classes_scope import ensure_classes_scope, remove_classes_scope
from plugin.sso.logout_config import idp_logout_config
from plugin.sso.portal_flow import ensure_portal_login, remove_portal_login
from plugin.sso.profile_rules import own_validations
from plugin.sso.theme import ensure_login_theme, remove_login_theme

UP_GROUP = "clever"
GUARD_MAPPER = "clever-ownership-guard"  # the extension's identity-provider mapper type
SECRET_FINGERPRINT_KEY = "kccClientSecretHmac"
OLD_FINGERPRINT_KEYS = ("kccClientSecretSha256",)  # a bare SHA-256 of the secret: removed
# A whole name over 2,048 characters is kept in parts (``mappers.name_fit.split_value``).
MULTIVALUED_ATTRIBUTES = frozenset(
    {
        "clever_roles",
        "clever_school_ids",
        "clever_relationships",
        "clever_first_name",
        "clever_last_name",
        "clever_legal_first_name",
    }
)
RELAXED_REQUIRED = ("email", "firstName")
SYNC_OWNED = ("firstName", "lastName", "email")  # admin-only to edit (``desired_user_profile``)


@dataclass(frozen=True, slots=True)
class Discovery:
    """The parts of an OIDC discovery document Keycloak's broker needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


@dataclass(slots=True)
class BrokerReport:
    """What an ensure or remove changed, one line per thing; empty when nothing changed. ``notes``
    are what an admin should know that changed nothing (each run says them again)."""

    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __str__(self) -> str:
        lines = self.changes or ["no changes"]
        return "\n".join([*lines, *(f"note: {note}" for note in self.notes)])


# --- pure builders ---------------------------------------------------------------------------


def discovery_url(oauth_url: str) -> str:
    """Where Clever (or the sandbox) publishes its OIDC discovery document."""
    return oauth_url.rstrip("/") + "/.well-known/openid-configuration"


def parse_discovery(document: Mapping[str, Any]) -> Discovery:
    """The endpoints from a discovery document; ConfigError naming every missing key."""
    keys = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    missing = [key for key in keys if not isinstance(document.get(key), str) or not document[key]]
    if missing:
        raise ConfigError(f"Clever's discovery document lacks {', '.join(missing)}")
    return Discovery(**{key: str(document[key]) for key in keys})


def secret_fingerprint(secret: str, secret_key: str) -> str:
    """An HMAC-SHA256 of the client secret, keyed with ``KCC_SECRET_KEY``, kept beside it (Keycloak
    masks the secret on GET). Keyed, so whoever reads the IdP config cannot test guesses of the
    secret against it; a bare SHA-256 of a short secret would be brute-forced offline."""
    if not secret_key:
        raise ConfigError("KCC_SECRET_KEY is needed to register Clever (it keys the secret's fingerprint)")
    label = b"keycloak-clever idp client secret v1\0"
    return hmac.new(secret_key.encode(), label + secret.encode(), hashlib.sha256).hexdigest()


def desired_idp(clever: CleverSettings, discovery: Discovery, secret_key: str) -> dict[str, Any]:
    """The identity provider representation (all config values are strings, as Keycloak keeps them)."""
    return {
        "alias": IDP_ALIAS,
        "displayName": "Clever",
        "providerId": "oidc",
        "enabled": True,
        "trustEmail": False,
        "storeToken": False,
        "linkOnly": False,
        "hideOnLogin": False,
        "firstBrokerLoginFlowAlias": FLOW_ALIAS,
        "config": {
            **_district_filter(clever.district_id),
            # No "Link account" for Clever in the Account Console (``broker_flow.ensure_self_linking``).
            "showInAccountConsole": "ALWAYS" if clever.allow_self_linking else "NEVER",
            "issuer": discovery.issuer,
            "authorizationUrl": discovery.authorization_endpoint,
            "tokenUrl": discovery.token_endpoint,
            "userInfoUrl": discovery.userinfo_endpoint,
            "jwksUrl": discovery.jwks_uri,
            "useJwksUrl": "true",
            "validateSignature": "true",
            "clientId": clever.client_id,
            "clientSecret": clever.client_secret,
            SECRET_FINGERPRINT_KEY: secret_fingerprint(clever.client_secret, secret_key),
            "clientAuthMethod": "client_secret_basic",
            "pkceEnabled": "true",
            "pkceMethod": "S256",
            "defaultScope": "openid",
            # The default for mappers that say INHERIT; ours all name their own mode.
            "syncMode": "IMPORT",
            "guiOrder": "1",
        },
    }


def _district_filter(district_id: str) -> dict[str, str]:
    """Keycloak's "essential claim" filter: only id tokens whose ``district`` claim is the configured
    district are accepted, so a person of another district connected to the same Clever app never
    signs in (nor, with ``KCC_CLEVER_CREATE_UNKNOWN_USERS``, gets an account)."""
    if not district_id:
        return {}
    return {"filteredByClaim": "true", "claimFilterName": "district", "claimFilterValue": district_id}


def _attribute_mapper(name: str, claim: str, attribute: str, sync_mode: str) -> dict[str, Any]:
    return {
        "name": name,
        "identityProviderAlias": IDP_ALIAS,
        "identityProviderMapper": "oidc-user-attribute-idp-mapper",
        "config": {"claim": claim, "user.attribute": attribute, "syncMode": sync_mode},
    }


def role_claim_patterns() -> dict[str, str]:
    """Realm role → regex over the ``user_type`` values that give it ("district admin" has a space)."""
    values: dict[str, list[str]] = {}
    for user_type, role in USER_TYPE_ROLES.items():
        values.setdefault(role, []).append(user_type)
    return {role: "|".join(sorted(types)) for role, types in values.items()}


def guard_mapper(allow_self_linking: bool) -> dict[str, Any]:
    """The extension's guard on the Clever provider (``keycloak-extension``: ``OwnershipGuardMapper``)."""
    return {
        "name": "ownership guard",
        "identityProviderAlias": IDP_ALIAS,
        "identityProviderMapper": GUARD_MAPPER,
        "config": {"allowSelfLinking": "true" if allow_self_linking else "false", "syncMode": "IMPORT"},
    }


def desired_mappers(*, guard: bool = False, allow_self_linking: bool = False) -> list[dict[str, Any]]:
    """The Clever IdP's mappers, keyed by name (names are how ``ensure`` finds them again); with
    ``guard`` (Keycloak has the clever-sync extension) its guard too."""
    mappers = [guard_mapper(allow_self_linking)] if guard else []
    mappers += [
        {
            "name": "username",
            "identityProviderAlias": IDP_ALIAS,
            "identityProviderMapper": "oidc-username-idp-mapper",
            # Never the (unverified) email: accounts created at login are named after the Clever id.
            "config": {"template": "clever-${CLAIM.sub}", "target": "LOCAL", "syncMode": "IMPORT"},
        },
        # IMPORT: an account made at first login gets them; a login writes nothing to an existing one.
        _attribute_mapper("clever_id", "sub", "clever_id", "IMPORT"),
        _attribute_mapper("clever_district", "district", "clever_district", "IMPORT"),
        _attribute_mapper("first name", "given_name", "firstName", "IMPORT"),
        _attribute_mapper("last name", "family_name", "lastName", "IMPORT"),
        # Clever's email is unverified: never the Keycloak email (another IdP's "link by email" would
        # hand this account to whoever owns that address), only an admin-only attribute.
        _attribute_mapper("email", "email", "clever_email", "IMPORT"),
        {
            # Keycloak copies the claim into the new account's email before mappers run; this
            # empties it again (the first-login duplicate check still refuses a taken address).
            "name": "no keycloak email",
            "identityProviderAlias": IDP_ALIAS,
            "identityProviderMapper": "hardcoded-attribute-idp-mapper",
            "config": {"attribute": "email", "attribute.value": "", "syncMode": "IMPORT"},
        },
        _attribute_mapper("clever_role", "user_type", "clever_role", "IMPORT"),
    ]
    for role, pattern in sorted(role_claim_patterns().items()):
        mappers.append(
            {
                "name": f"role {role}",
                "identityProviderAlias": IDP_ALIAS,
                "identityProviderMapper": "oidc-advanced-role-idp-mapper",
                "config": {
                    "claims": json.dumps([{"key": "user_type", "value": pattern}]),
                    "are.claim.values.regex": "true",
                    "role": role,
                    "syncMode": "IMPORT",
                },
            }
        )
    return mappers


def desired_roles() -> list[str]:
    """The realm roles the role mappers and the sync give."""
    return sorted(set(USER_TYPE_ROLES.values()))


def desired_user_profile(current: Mapping[str, Any], *, users_edit_names: bool = False) -> dict[str, Any]:
    """``current`` UP config with the Clever group and attributes declared; everything else kept.

    An existing ``clever_*`` attribute keeps its display name, validations and annotations (an admin
    may have tuned them); only its group, admin-only permissions and multivalued flag are enforced.
    ``firstName``, ``lastName`` and ``email`` are made admin-only to edit (viewing is left as it
    is): the sync owns them, and a student who could rename themselves to a teacher's name would be
    matched to that teacher. ``users_edit_names`` (``KCC_USERS_EDIT_NAMES=true``) leaves their edit
    rights alone; then no account is ever matched by name (``connectors.keycloak_vet``).
    """
    profile = copy.deepcopy(dict(current))
    groups = profile.setdefault("groups", [])
    if not any(group.get("name") == UP_GROUP for group in groups):
        groups.append(
            {
                "name": UP_GROUP,
                "displayHeader": "Clever",
                "displayDescription": "Written by the Clever roster sync; visible to admins only.",
            }
        )
    attributes = profile.setdefault("attributes", [])
    by_name = {attribute.get("name"): attribute for attribute in attributes}
    for name in (*CLEVER_ATTRIBUTES, *CLEVER_MARKS):
        attribute = by_name.get(name)
        if attribute is None:
            attribute = {"name": name, "displayName": name.replace("_", " ").capitalize()}
            attributes.append(attribute)
        attribute["group"] = UP_GROUP
        attribute["permissions"] = {"view": ["admin"], "edit": ["admin"]}
        attribute["multivalued"] = name in MULTIVALUED_ATTRIBUTES
    for name in RELAXED_REQUIRED:
        if name in by_name:
            by_name[name].pop("required", None)
    own_validations(by_name)  # Clever's names accepted (``plugin.sso.profile_rules``)
    if not users_edit_names:
        for name in SYNC_OWNED:
            if name in by_name:
                permissions = by_name[name].setdefault("permissions", {})
                permissions["edit"] = ["admin"]
                permissions["view"] = sorted({*permissions.get("view", []), "admin"})
    return profile


def differing_keys(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[str]:
    """Dotted names of the desired fields (and ``config`` entries) whose current value differs."""
    changed = []
    for key, value in desired.items():
        if key == "config" and isinstance(value, Mapping):
            held = current.get("config") or {}
            # Keycloak drops empty config values: missing and "" are the same.
            changed += [f"config.{k}" for k, v in value.items() if held.get(k, "") != v]
        elif current.get(key) != value:
            changed.append(key)
    return changed


# --- I/O: read Clever's discovery document, reconcile Keycloak -------------------------------


def fetch_discovery(oauth_url: str, *, timeout: float = 10.0) -> Discovery:
    """GET and parse Clever's discovery document."""
    url = discovery_url(oauth_url)
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise TransientError(f"cannot read {url}: {exc}") from exc
    if response.status_code >= 500:
        raise TransientError(f"{url} answered {response.status_code}")
    if response.status_code != 200:
        raise ConfigError(f"{url} answered {response.status_code}: is KCC_CLEVER_OAUTH_URL right?")
    try:
        document = response.json()
    except ValueError as exc:
        raise ConfigError(f"{url} did not return JSON") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{url} did not return a JSON object")
    return parse_discovery(document)


def ensure_broker(
    admin: KeycloakAdmin, settings: Settings, discovery: Discovery | None = None
) -> BrokerReport:
    """Reconcile roles, User Profile, flows, identity provider, mappers and the portal's client;
    report what changed."""
    if not settings.clever.client_id or not settings.clever.client_secret:
        raise ConfigError("KCC_CLEVER_CLIENT_ID and KCC_CLEVER_CLIENT_SECRET are needed to register Clever")
    if settings.clever.create_unknown_users and not settings.clever.district_id:
        raise ConfigError(
            "KCC_CLEVER_CREATE_UNKNOWN_USERS needs KCC_CLEVER_DISTRICT_ID: only its people get accounts"
        )
    discovery = discovery or fetch_discovery(settings.clever.oauth_url)
    report = BrokerReport()
    guard = has_guard(admin)
    if settings.clever.create_unknown_users and not guard:
        raise ConfigError(
            "KCC_CLEVER_CREATE_UNKNOWN_USERS needs the clever-sync extension in Keycloak: its first-login "
            "step records that the new account is the person's (keycloak-extension/README.md)"
        )
    with _keycloak_errors():
        ensure_roles(admin, report)
        ensure_user_profile(admin, report, users_edit_names=settings.clever.users_edit_names)
        ensure_self_linking(admin, settings.clever.allow_self_linking, report)
        ensure_first_login_flow(admin, settings.clever.create_unknown_users, report)
        idp = desired_idp(settings.clever, discovery, settings.secret_key)
        idp["config"].update(idp_logout_config(settings))  # shared devices (``plugin.sso.logout``)
        ensure_idp(admin, idp, report)
        ensure_mappers(admin, report, guard=guard, allow_self_linking=settings.clever.allow_self_linking)
        if not guard:
            report.changes.append(
                "warning: Keycloak has no clever-sync extension: nothing in Keycloak refuses a user who "
                "links Clever to their own account through the Account REST API (such links own nothing: "
                "the sync gives those accounts nothing); install keycloak-extension to refuse them"
            )
        ensure_portal_login(admin, settings.keycloak.realm, settings.public_url, report)
        ensure_login_theme(admin, settings.keycloak.realm, report)  # shared devices
        ensure_classes_scope(admin, report)  # classes for apps (``plugin.sso.classes_scope``)
    return report


def ensure_roles(admin: KeycloakAdmin, report: BrokerReport) -> None:
    """Create the missing ``clever-*`` realm roles."""
    held = {role["name"] for role in admin.get_realm_roles(brief_representation=True)}
    for name in desired_roles():
        if name not in held:
            admin.create_realm_role({"name": name, "description": "Given by Clever"}, skip_exists=True)
            report.changes.append(f"realm role {name}: created")


def ensure_user_profile(
    admin: KeycloakAdmin, report: BrokerReport, *, users_edit_names: bool = False
) -> None:
    """GET-merge-PUT the User Profile; no PUT when nothing differs."""
    current = admin.get_realm_users_profile()
    desired = desired_user_profile(current, users_edit_names=users_edit_names)
    if desired != current:
        admin.update_realm_users_profile(desired)
        report.changes.append("user profile: Clever attributes declared")


def ensure_idp(admin: KeycloakAdmin, desired: dict[str, Any], report: BrokerReport) -> None:
    """Create the identity provider, or PUT it back with only the differing fields changed."""
    current = get_idp(admin)
    if current is None:
        admin.create_idp(desired)
        report.changes.append(f"identity provider {IDP_ALIAS}: created")
        return
    # Keycloak masks the secret on GET; the fingerprint beside it tells whether the setting changed.
    compared = {**desired, "config": {k: v for k, v in desired["config"].items() if k != "clientSecret"}}
    changed = differing_keys(current, compared)
    if not changed:
        return
    merged = {**current, **compared, "config": {**current.get("config", {}), **compared["config"]}}
    for old in OLD_FINGERPRINT_KEYS:
        merged["config"].pop(old, None)
    if "config." + SECRET_FINGERPRINT_KEY in changed:
        merged["config"]["clientSecret"] = desired["config"]["clientSecret"]
        changed = [k for k in changed if k != "config." + SECRET_FINGERPRINT_KEY] + ["config.clientSecret"]
    admin.update_idp(IDP_ALIAS, merged)
    report.changes.append(f"identity provider {IDP_ALIAS}: updated {', '.join(sorted(changed))}")


def has_guard(admin: KeycloakAdmin) -> bool:
    """True when Keycloak has the clever-sync extension (its jar holds the guard mapper type)."""
    with _keycloak_errors():
        return keycloak_bulk.probe(KeycloakHttp(admin)) is not None


def ensure_mappers(
    admin: KeycloakAdmin, report: BrokerReport, *, guard: bool = False, allow_self_linking: bool = False
) -> None:
    """Add missing mappers and put back differing ones (found by name); leave an admin's own alone."""
    # Keycloak refuses a second mapper with the same name on one IdP, so a name finds at most one.
    held = {mapper["name"]: mapper for mapper in admin.get_idp_mappers(IDP_ALIAS)}
    for desired in desired_mappers(guard=guard, allow_self_linking=allow_self_linking):
        name = desired["name"]
        current = held.get(name)
        if current is None:
            admin.add_mapper_to_idp(IDP_ALIAS, desired)
            report.changes.append(f"mapper {name!r}: created")
            continue
        changed = differing_keys(current, desired)
        if changed:
            admin.update_mapper_in_idp(IDP_ALIAS, current["id"], {**desired, "id": current["id"]})
            report.changes.append(f"mapper {name!r}: updated {', '.join(changed)}")


def placeholder_idp(oauth_url: str) -> dict[str, Any]:
    """A disabled ``clever`` identity provider that only holds links (``ensure_link_holder``)."""
    base = oauth_url.rstrip("/")
    return {
        "alias": IDP_ALIAS,
        "displayName": "Clever (not registered yet: keycloak-clever broker register)",
        "providerId": "oidc",
        "enabled": False,
        "trustEmail": False,
        "storeToken": False,
        "hideOnLogin": True,
        "config": {
            "authorizationUrl": f"{base}/oauth/authorize",
            "tokenUrl": f"{base}/oauth/tokens",
            "clientId": "not-registered",
            "clientAuthMethod": "client_secret_basic",
            "syncMode": "IMPORT",
            "showInAccountConsole": "NEVER",
        },
    }


def ensure_link_holder(admin: KeycloakAdmin, oauth_url: str) -> bool:
    """The sync records who owns an account in the account's ``clever`` link
    (``model.ownership``), and Keycloak keeps a link only beside an identity provider of that
    alias: a realm the sync writes before Clever is registered gets a *disabled* placeholder
    provider, so nobody signs in through it; ``broker register`` (the page's Enabled) makes it the
    real one. True when it had to be made."""
    with _keycloak_errors():
        if get_idp(admin) is not None:
            return False
        admin.create_idp(placeholder_idp(oauth_url))
    return True


def get_idp(admin: KeycloakAdmin) -> dict[str, Any] | None:
    """The Clever identity provider as Keycloak holds it, or None."""
    try:
        return admin.get_idp(IDP_ALIAS)
    except KeycloakError as exc:
        if exc.response_code == 404:
            return None
        raise


def broker_state(admin: KeycloakAdmin) -> dict[str, Any] | None:
    """The identity provider with its ``mappers`` as Keycloak holds them (None when absent)."""
    with _keycloak_errors():
        idp = get_idp(admin)
        if idp is None:
            return None
        return {**idp, "mappers": admin.get_idp_mappers(IDP_ALIAS)}


def remove_broker(admin: KeycloakAdmin) -> BrokerReport:
    """Delete the identity provider (with its mappers and every user's link), the first-login flow,
    and the portal's client and flow.

    Roles and the User Profile stay: the sync's users and attributes depend on them.
    """
    report = BrokerReport()
    with _keycloak_errors():
        if get_idp(admin) is not None:
            admin.delete_idp(IDP_ALIAS)
            report.changes.append(f"identity provider {IDP_ALIAS}: removed")
        for flow in admin.get_authentication_flows():
            if flow["alias"] == FLOW_ALIAS:
                admin.delete_authentication_flow(flow["id"])
                report.changes.append(f"flow {FLOW_ALIAS!r}: removed")
        remove_portal_login(admin, report)
        remove_login_theme(admin, str(admin.connection.realm_name), report)
        remove_classes_scope(admin, report)
    return report


@contextmanager
def _keycloak_errors() -> Iterator[None]:
    """The one choke point turning python-keycloak and network errors into the project's kinds."""
    try:
        yield
    except KeycloakError as exc:
        code = exc.response_code
        if code is None or code >= 500 or code == 429:
            raise TransientError(f"Keycloak answered {code}: {exc}") from exc
        raise ConfigError(f"Keycloak refused a change ({code}): {exc}") from exc
    except requests.RequestException as exc:
        raise TransientError(f"cannot reach Keycloak: {exc}") from exc


__all__ = [  # the first-login flow and self-service linking live in ``plugin.sso.broker_flow``
    "DENY_DUPLICATE_MESSAGE",
    "DENY_UNKNOWN_MESSAGE",
    "Execution",
    "desired_executions",
    "ensure_first_login_flow",
    "ensure_self_linking",
]
