"""Pure parts of the privilege check: which role names mean power, whether users edit their names."""

from __future__ import annotations

from connectors.keycloak_vet import names_editable, privileged_realm_roles


def test_admin_and_manage_realm_roles_and_clever_admin_are_privileged_clever_roles_are_not() -> None:
    assert privileged_realm_roles({"helpdesk-admin"})
    assert privileged_realm_roles({"Manage-Courses"})
    assert privileged_realm_roles({"clever-admin"})
    assert not privileged_realm_roles({"clever-district-admin", "offline_access", "default-roles-x"})


def test_names_are_editable_when_the_user_profile_lets_users_edit_them() -> None:
    profile = {"attributes": [{"name": "lastName", "permissions": {"edit": ["admin", "user"]}}]}

    assert names_editable(profile)
    assert not names_editable({"attributes": [{"name": "lastName", "permissions": {"edit": ["admin"]}}]})
