"""Retention's reads and writes in Keycloak (``plugin.sync.retention`` decides what to do).

* ``disabled_linked``: every disabled account that carries a ``clever`` link, with its attributes,
  Keycloak's own ``createdTimestamp`` and ``federationLink`` (``GET users?idpAlias=clever&enabled=false``,
  paged): the departed people's accounts, and whatever else is disabled and linked;
* ``owners``: whose each account is by the ownership rule (``model.ownership``): its owned
  link's Clever id, or "" (a link the sync did not make: such an account is never touched);
* ``delete_account``: ``DELETE users/{id}`` (Keycloak ends its sessions with it);
* ``unlink_account``: the ``clever`` link removed, then the Clever attributes (read, merged, written:
  ``PUT users/{id}`` drops what it is not given). A READ_ONLY directory account refuses the
  attribute write; its link is still removed.

Settings: none (``KeycloakDirectory.http``). Example::

    accounts = disabled_linked(directory.http)
    who = owners(directory.http, [a.keycloak_id for a in accounts], workers=4)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.keycloak_http import KeycloakHttp
from connectors.pooling import bounded_map
from model.ownership import owner_of_link
from model.state import IDP_ALIAS, Attributes

PAGE = 200


@dataclass(frozen=True, slots=True)
class DisabledAccount:
    """A disabled account with a ``clever`` link, as retention reads it."""

    keycloak_id: str
    username: str
    first_name: str
    last_name: str
    attributes: Attributes
    created_ms: int  # Keycloak's ``createdTimestamp``: when the account was made; nothing rewrites it
    federation_link: str  # the user-storage provider it lives in (LDAP), or ""


def disabled_linked(http: KeycloakHttp) -> list[DisabledAccount]:
    """Every disabled account with a ``clever`` link (full representations, paged)."""
    listing = http.pages("users", PAGE, idpAlias=IDP_ALIAS, enabled="false", briefRepresentation="false")
    return [_account(rep) for rep in listing if not rep.get("enabled", True)]


def _account(rep: Mapping[str, Any]) -> DisabledAccount:
    attributes = rep.get("attributes") or {}
    return DisabledAccount(
        keycloak_id=str(rep["id"]),
        username=str(rep.get("username", "")),
        first_name=str(rep.get("firstName") or ""),
        last_name=str(rep.get("lastName") or ""),
        attributes={name: tuple(values) for name, values in attributes.items()},
        created_ms=int(rep.get("createdTimestamp") or 0),
        federation_link=str(rep.get("federationLink") or ""),
    )


def owners(http: KeycloakHttp, keycloak_ids: Iterable[str], workers: int = 4) -> dict[str, str]:
    """Keycloak id -> the Clever id its owned link gives ("" when its link owns nothing)."""
    ids = list(keycloak_ids)

    def owner(keycloak_id: str) -> tuple[str, str]:
        links = http.call("GET", f"users/{keycloak_id}/federated-identity", ok=(404,))
        found = links.json() if links.status_code == 200 else []
        return keycloak_id, next((who for link in found if (who := owner_of_link(link))), "")

    return dict(bounded_map(owner, ids, workers if len(ids) > 1 else 1))


def delete_account(http: KeycloakHttp, keycloak_id: str) -> None:
    """Delete the account (already gone: nothing to do)."""
    http.call("DELETE", f"users/{keycloak_id}", ok=(404,))


def unlink_account(http: KeycloakHttp, keycloak_id: str, names: Iterable[str]) -> None:
    """Remove the ``clever`` link, then the attributes ``names`` (a read-only account keeps its own)."""
    http.call("DELETE", f"users/{keycloak_id}/federated-identity/{IDP_ALIAS}", ok=(404,))
    user = http.get(f"users/{keycloak_id}", userProfileMetadata="false")
    attributes: dict[str, Any] = user.get("attributes") or {}
    dropped = [name for name in names if name in attributes]
    if not dropped:
        return
    for name in dropped:
        del attributes[name]
    user["attributes"] = attributes
    http.call("PUT", f"users/{keycloak_id}", user, ok=(400,))  # 400: a READ_ONLY directory account
