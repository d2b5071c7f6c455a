"""Pure parts of the privilege and link checks: which role names mean power, which links are ours."""

from __future__ import annotations

from connectors.keycloak_vet import names_editable, privileged_realm_roles, trusted_link


def test_admin_and_manage_realm_roles_and_clever_admin_are_privileged_clever_roles_are_not() -> None:
    assert privileged_realm_roles({"helpdesk-admin"})
    assert privileged_realm_roles({"Manage-Courses"})
    assert privileged_realm_roles({"clever-admin"})
    assert not privileged_realm_roles({"clever-district-admin", "offline_access", "default-roles-x"})


def test_names_are_editable_when_the_user_profile_lets_users_edit_them() -> None:
    profile = {"attributes": [{"name": "lastName", "permissions": {"edit": ["admin", "user"]}}]}

    assert names_editable(profile)
    assert not names_editable({"attributes": [{"name": "lastName", "permissions": {"edit": ["admin"]}}]})


def test_a_link_is_ours_only_by_the_syncs_memory_or_a_first_login_account() -> None:
    rep = {"id": "k1", "username": "someone", "attributes": {"clever_id": ["c1"]}}

    assert trusted_link(rep, "c1", {"c1": "k1"})
    assert not trusted_link(rep, "c1", {"c2": "k2"}, written="c1")  # the attribute is no evidence
    assert trusted_link({"id": "k1", "username": "clever-c1"}, "c1", {"c2": "k2"})
    # No memory at all (Redis lost): only an account the sync wrote (clever_roles) counts.
    assert not trusted_link(rep, "c1", {}, written="c1")
    assert trusted_link(
        {**rep, "attributes": {"clever_id": ["c1"], "clever_roles": ["student"]}}, "c1", {}, written="c1"
    )
