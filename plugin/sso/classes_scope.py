"""The optional client scope ``clever-classes``: a person's Clever classes and schools in tokens and
userinfo, for applications and LMSs behind Keycloak (``docs/apps.md``).

What ``ensure_classes_scope`` keeps in the realm (creating what is missing, putting back what differs):

* the OpenID Connect client scope ``clever-classes`` (shown on a consent screen as "Your Clever
  classes and schools", its name added to the token's ``scope``);
* its one mapper, ``clever classes`` (type ``clever-classes-mapper``, from the clever-sync extension's
  jar: ``keycloak-extension/.../sso/CleverClassesMapper.java``), writing ``clever_classes`` and
  ``clever_schools`` into the access token, the ID token, userinfo and introspection;
* the scope among the realm's default *optional* client scopes: a client created after ``register``
  offers it, and a client gets the claims only when it asks for ``scope=openid clever-classes``.
  Existing clients add it themselves (Clients > the client > Client scopes > Add client scope).

Why a mapper of ours and not Keycloak's "Group Membership": that one lists every group of the person
(no filter) and no group attribute, and a class's Clever section id is the class group's
``clever_id`` attribute. A Keycloak without the jar has no such mapper type: nothing is made, and
``register`` says so in a note.
"""

from __future__ import annotations

from typing import Any

from keycloak import KeycloakAdmin

from plugin.sso.theme import Report

SCOPE_NAME = "clever-classes"
MAPPER_NAME = "clever classes"
MAPPER_TYPE = "clever-classes-mapper"
IN_EVERY_TOKEN = ("access.token.claim", "id.token.claim", "userinfo.token.claim", "introspection.token.claim")


def desired_scope() -> dict[str, Any]:
    """The client scope's representation (attributes are strings, as Keycloak keeps them)."""
    return {
        "name": SCOPE_NAME,
        "description": "The person's Clever classes and schools (keycloak-clever)",
        "protocol": "openid-connect",
        "attributes": {
            "include.in.token.scope": "true",
            "display.on.consent.screen": "true",
            "consent.screen.text": "Your Clever classes and schools",
        },
    }


def desired_mapper() -> dict[str, Any]:
    """The scope's mapper: both claims in every kind of token and in userinfo."""
    return {
        "name": MAPPER_NAME,
        "protocol": "openid-connect",
        "protocolMapper": MAPPER_TYPE,
        "config": dict.fromkeys(IN_EVERY_TOKEN, "true"),
    }


def mapper_installed(server_info: dict[str, Any]) -> bool:
    """Whether Keycloak knows the mapper type (the clever-sync extension's jar is in ``providers/``)."""
    types = server_info.get("protocolMapperTypes", {}).get("openid-connect", [])
    return any(kind.get("id") == MAPPER_TYPE for kind in types)


def ensure_classes_scope(admin: KeycloakAdmin, report: Report) -> None:
    """The scope, its mapper and its place among the realm's optional scopes."""
    if not mapper_installed(admin.get_server_info()):
        report.notes.append(
            f"client scope {SCOPE_NAME!r} not made: this Keycloak has no {MAPPER_TYPE!r} mapper (it comes "
            "with the clever-sync extension's jar, keycloak-extension/)"
        )
        return
    scope_id = _ensure_scope(admin, report)
    _ensure_mapper(admin, scope_id, report)
    if not any(held["id"] == scope_id for held in admin.get_default_optional_client_scopes()):
        admin.add_default_optional_client_scope(scope_id)
        report.changes.append(f"client scope {SCOPE_NAME}: a default optional scope of the realm")


def _ensure_scope(admin: KeycloakAdmin, report: Report) -> str:
    desired = desired_scope()
    current = admin.get_client_scope_by_name(SCOPE_NAME)
    if current is None:
        scope_id = admin.create_client_scope(desired, skip_exists=True)
        report.changes.append(f"client scope {SCOPE_NAME}: created")
        return str(scope_id)
    held = current.get("attributes") or {}
    wanted = desired["attributes"]
    if current.get("protocol") != desired["protocol"] or any(held.get(k) != v for k, v in wanted.items()):
        merged = {**current, **desired, "attributes": {**held, **wanted}}
        admin.update_client_scope(current["id"], merged)
        report.changes.append(f"client scope {SCOPE_NAME}: updated")
    return str(current["id"])


def _ensure_mapper(admin: KeycloakAdmin, scope_id: str, report: Report) -> None:
    desired = desired_mapper()
    held = {mapper["name"]: mapper for mapper in admin.get_mappers_from_client_scope(scope_id)}
    current = held.get(MAPPER_NAME)
    if current is None:
        admin.add_mapper_to_client_scope(scope_id, desired)
        report.changes.append(f"client scope {SCOPE_NAME}: mapper {MAPPER_NAME!r} created")
        return
    # Which tokens carry the claims is the admin's to tune (docs/apps.md): only the type is put back.
    if current.get("protocolMapper") != MAPPER_TYPE:
        admin.update_mapper_in_client_scope(scope_id, current["id"], {**desired, "id": current["id"]})
        report.changes.append(f"client scope {SCOPE_NAME}: mapper {MAPPER_NAME!r} put back")


def remove_classes_scope(admin: KeycloakAdmin, report: Report) -> None:
    """Delete the scope (Keycloak takes it off every client that had it)."""
    current = admin.get_client_scope_by_name(SCOPE_NAME)
    if current is not None:
        admin.delete_client_scope(current["id"])
        report.changes.append(f"client scope {SCOPE_NAME}: removed")
