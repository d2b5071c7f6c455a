"""Pure parts of the candidate check: what an account holds beyond the defaults, whose names a
provider rewrites, which links are ours."""

from __future__ import annotations

from connectors.keycloak_vet import holdings, names_editable, rewrites_names

DEFAULTS = frozenset({"r-default", "r-offline", "c-manage-account"})


def test_what_an_account_holds_beyond_the_realms_defaults_is_said_in_words() -> None:
    mappings = {
        "realmMappings": [{"id": "r-default", "name": "default-roles-school"}, {"id": "r9", "name": "staff"}],
        "clientMappings": {
            "gradebook": {"mappings": [{"id": "c7", "name": "superuser"}]},
            "account": {"mappings": [{"id": "c-manage-account", "name": "manage-account"}]},
        },
    }

    held = holdings(mappings, ["/Everyone", "/Teachers-Old"], DEFAULTS, frozenset({"/Everyone"}))

    assert held == ("client role gradebook/superuser", "group /Teachers-Old", "realm role staff")


def test_an_account_with_only_the_defaults_holds_nothing() -> None:
    mappings = {"realmMappings": [{"id": "r-default", "name": "default-roles-school"}]}

    assert holdings(mappings, [], DEFAULTS, frozenset()) == ()
    assert holdings({}, [], DEFAULTS, frozenset()) == ()


def test_a_provider_rewrites_names_when_it_or_a_name_mapper_forces_them_at_every_login() -> None:
    force, imported = {"config": {"syncMode": "FORCE"}}, {"config": {"syncMode": "IMPORT"}}
    last_name = {
        "identityProviderMapper": "oidc-user-attribute-idp-mapper",
        "config": {"user.attribute": "lastName"},
    }
    google_first = {
        "identityProviderMapper": "google-user-attribute-mapper",
        "config": {"userAttribute": "firstName"},
    }

    assert rewrites_names(force, [])
    assert not rewrites_names(imported, [])
    assert not rewrites_names({}, [])  # no sync mode: LEGACY, names are written at first login only
    assert rewrites_names(imported, [{**last_name, "config": {**last_name["config"], "syncMode": "FORCE"}}])
    assert rewrites_names(
        imported, [{**google_first, "config": {"userAttribute": "firstName", "syncMode": "FORCE"}}]
    )
    assert not rewrites_names(
        imported, [{**last_name, "config": {**last_name["config"], "syncMode": "INHERIT"}}]
    )
    email = {"config": {"user.attribute": "email", "syncMode": "FORCE"}}
    assert not rewrites_names(imported, [email])  # not a name


def test_names_are_editable_when_the_user_profile_lets_users_edit_them() -> None:
    profile = {"attributes": [{"name": "lastName", "permissions": {"edit": ["admin", "user"]}}]}

    assert names_editable(profile)
    assert not names_editable({"attributes": [{"name": "lastName", "permissions": {"edit": ["admin"]}}]})
