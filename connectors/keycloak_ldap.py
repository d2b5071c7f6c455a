"""Keycloak's own LDAP user federation: the component that imports a district's directory people.

The sidecar never needs it to sync (it reads whatever federation the realm has); the demo, the
tests and the benchmark use it to give a realm the directory a district already runs. Keycloak
quirk: the "first name" mapper it generates for vendor ``other`` reads ``cn`` (the whole name);
``federate_ldap`` leaves Keycloak's mappers as Keycloak makes them unless told otherwise.
"""

from __future__ import annotations

from typing import Any

from keycloak import KeycloakAdmin

from model.config import LdapSettings

STORAGE_PROVIDER = "org.keycloak.storage.UserStorageProvider"


def ldap_federation_component(
    realm_id: str,
    ldap: LdapSettings,
    *,
    users_dn: str = "",
    mode: str = "READ_ONLY",
    name: str = "district-ldap",
) -> dict[str, Any]:
    """The representation of an LDAP federation of ``users_dn`` (default: the people DN)."""
    return {
        "name": name,
        "providerId": "ldap",
        "providerType": STORAGE_PROVIDER,
        "parentId": realm_id,
        "config": {
            "enabled": ["true"],
            "vendor": ["other"],
            "connectionUrl": [ldap.url],
            "bindDn": [ldap.bind_dn],
            "bindCredential": [ldap.bind_password],
            "authType": ["simple"],
            "usersDn": [users_dn or ldap.people_dn],
            "usernameLDAPAttribute": ["uid"],
            "rdnLDAPAttribute": ["uid"],
            "uuidLDAPAttribute": ["entryUUID"],
            "userObjectClasses": ["inetOrgPerson, organizationalPerson"],
            "searchScope": ["1"],
            "editMode": [mode],
            "importEnabled": ["true"],
            "syncRegistrations": ["false"],
            "pagination": ["true"],
            "batchSizeForSync": ["1000"],
            "fullSyncPeriod": ["-1"],
            "changedSyncPeriod": ["-1"],
            "trustEmail": ["false"],
        },
    }


def federate_ldap(
    admin: KeycloakAdmin,
    ldap: LdapSettings,
    *,
    users_dn: str = "",
    mode: str = "READ_ONLY",
    name: str = "district-ldap",
    given_name_mapper: bool = False,
    full_sync: bool = True,
) -> str:
    """Create the federation when missing (found by name), optionally import everyone; its id."""
    realm = admin.connection.realm_name
    assert realm is not None, "the admin client has a realm"
    realm_id = admin.get_realm(realm)["id"]
    found = [c for c in admin.get_components({"type": STORAGE_PROVIDER}) if c["name"] == name]
    if found:
        component_id: str = found[0]["id"]
    else:
        component = ldap_federation_component(realm_id, ldap, users_dn=users_dn, mode=mode, name=name)
        component_id = admin.create_component(component)
    if given_name_mapper:
        for mapper in admin.get_components({"parent": component_id, "name": "first name"}):
            if mapper["config"].get("ldap.attribute") != ["givenName"]:
                mapper["config"]["ldap.attribute"] = ["givenName"]
                admin.update_component(mapper["id"], mapper)
    if full_sync:
        admin.sync_users(component_id, "triggerFullSync")
    return component_id
