"""A Keycloak user representation read as a person: names as the directory means them, whether
its LDAP federation lets the sync write it, and the realm's LDAP providers that tell.

Names of LDAP-federated accounts are read as the directory means them, not as Keycloak's default
mappers put them (``person_names``): see there for the quirk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model.state import CurrentUser
from model.text import normalize_name

if TYPE_CHECKING:
    from connectors.keycloak_http import KeycloakHttp

LDAP_PROVIDER = "org.keycloak.storage.UserStorageProvider"
LDAP_MAPPER = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper"


@dataclass(frozen=True, slots=True)
class LdapProvider:
    """An LDAP user federation provider of the realm, as reading accounts needs it."""

    edit_mode: str  # READ_ONLY, WRITABLE, UNSYNCED
    first_name_from_cn: bool = False  # its "first name" mapper reads ``cn`` (Keycloak's default)


def person_names(rep: Mapping[str, Any], providers: Mapping[str, LdapProvider]) -> tuple[str, str]:
    """(first, last) of a Keycloak user representation, as the person's name is meant.

    Keycloak quirk: the "first name" mapper Keycloak creates for an LDAP provider of vendor "other"
    maps ``cn``, the whole name, so the directory's "Liam Martin" (``sn: Martin``) is firstName
    "Liam Martin", lastName "Martin", and Match Users By Name would miss Clever's Liam Martin. For
    an account of a provider whose first name comes from ``cn``, a first name that ends with " " +
    the last name (compared as the name match compares) is read without that ending. The quirk is
    Keycloak's, so it is undone here where Keycloak is read, and the account is never written
    back: an adopted account keeps its spelling, and a later run sees no name to "correct".
    """
    first, last = rep.get("firstName") or "", rep.get("lastName") or ""
    provider = providers.get(rep.get("federationLink") or "")
    if provider is not None and provider.first_name_from_cn:
        first = _given_name(first, last)
    return first, last


def _given_name(whole: str, last: str) -> str:
    words, count = whole.split(), len(last.split())
    if count and len(words) > count and normalize_name(" ".join(words[-count:])) == normalize_name(last):
        return " ".join(words[:-count])
    return whole


def ldap_providers(http: KeycloakHttp) -> dict[str, LdapProvider]:
    """The realm's LDAP user federation providers by component id (one more call each: mappers)."""
    providers: dict[str, LdapProvider] = {}
    for component in http.get("components", type=LDAP_PROVIDER):
        if component.get("providerId") != "ldap":
            continue
        mappers = http.get("components", parent=component["id"], type=LDAP_MAPPER)
        from_cn = any(
            _config(mapper, "user.model.attribute") == "firstName"
            and _config(mapper, "ldap.attribute").casefold() == "cn"
            for mapper in mappers
        )
        providers[component["id"]] = LdapProvider(_config(component, "editMode"), from_cn)
    return providers


def _config(component: Mapping[str, Any], name: str) -> str:
    return str(((component.get("config") or {}).get(name) or [""])[0])


def current_user(
    rep: Mapping[str, Any],
    clever_id: str,
    attributes: Mapping[str, tuple[str, ...]],
    providers: Mapping[str, LdapProvider],
    *,
    linked: bool = True,
) -> CurrentUser:
    """A synced person as Keycloak holds them, from a full user representation."""
    first_name, last_name = person_names(rep, providers)
    return CurrentUser(
        keycloak_id=rep["id"],
        clever_id=clever_id,
        username=rep["username"],
        first_name=first_name,
        last_name=last_name,
        email=rep.get("email") or "",
        enabled=bool(rep.get("enabled", True)),
        attributes=dict(attributes),
        linked=linked,
        read_only=read_only(providers, rep.get("federationLink") or ""),
        ldap_dn=(attributes.get("LDAP_ENTRY_DN") or ("",))[0],
    )


def read_only(providers: Mapping[str, LdapProvider], federation: str) -> bool:
    provider = providers.get(federation)
    return provider is not None and provider.edit_mode == "READ_ONLY"
