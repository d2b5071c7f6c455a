"""Settings: one prefix, every problem reported at once."""

from __future__ import annotations

import pytest

from model.base import ConfigError
from plugin.config.settings import Settings

MINIMAL = {
    "KCC_KEYCLOAK_URL": "http://127.0.0.1:18080",
    "KCC_KEYCLOAK_ADMIN_USER": "admin",
    "KCC_KEYCLOAK_ADMIN_PASSWORD": "s3cret-pw",
    "KCC_REDIS_URL": "redis://127.0.0.1:16379/0",
    "KCC_LDAP_URL": "ldap://127.0.0.1:13389",
    "KCC_LDAP_BIND_DN": "cn=admin,dc=example,dc=org",
    "KCC_LDAP_BIND_PASSWORD": "ldap-pw",
    "KCC_LDAP_BASE_DN": "dc=example,dc=org",
}


def test_minimal_environment_gives_defaults() -> None:
    settings = Settings.from_env(MINIMAL)
    assert settings.keycloak.realm == "school"
    assert settings.ldap.groups_dn == "ou=groups,dc=example,dc=org"
    assert settings.clever.api_url == "https://api.clever.com"
    assert settings.clever.oauth_url == "https://clever.com"
    assert settings.options.match_users_by_name is True
    assert settings.options.force_unique_class_names is False
    assert settings.options.brake_ratio == 0.10


def test_every_missing_and_invalid_key_is_reported_together() -> None:
    env = {
        "KCC_KEYCLOAK_URL": "not a url",
        "KCC_MATCH_USERS_BY_NAME": "maybe",
        "KCC_TIMEZONE": "Mars/Olympus",
        "KCC_BRAKE_RATIO": "3",
    }
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    for expected in (
        "KCC_KEYCLOAK_URL must be",
        "KCC_KEYCLOAK_ADMIN_USER is missing",
        "KCC_KEYCLOAK_ADMIN_PASSWORD is missing",
        "KCC_REDIS_URL is missing",
        "KCC_LDAP_URL is missing",
        "KCC_LDAP_BIND_DN is missing",
        "KCC_LDAP_BIND_PASSWORD is missing",
        "KCC_LDAP_BASE_DN is missing",
        "KCC_MATCH_USERS_BY_NAME",
        "KCC_TIMEZONE",
        "KCC_BRAKE_RATIO",
    ):
        assert expected in message


def test_keys_without_the_prefix_are_ignored() -> None:
    env = {key.removeprefix("KCC_"): value for key, value in MINIMAL.items()}
    with pytest.raises(ConfigError, match="KCC_KEYCLOAK_URL is missing"):
        Settings.from_env(env)


def test_secrets_stay_out_of_repr() -> None:
    env = {**MINIMAL, "KCC_CLEVER_CLIENT_SECRET": "clever-secret-value", "KCC_SECRET_KEY": "flask-key"}
    text = repr(Settings.from_env(env))
    for secret in ("s3cret-pw", "ldap-pw", "clever-secret-value", "flask-key"):
        assert secret not in text


def test_options_parse_flags_and_time_zone() -> None:
    env = {
        **MINIMAL,
        "KCC_MATCH_USERS_BY_NAME": "off",
        "KCC_FORCE_UNIQUE_CLASS_NAMES": "yes",
        "KCC_SYNC_PARENT_DATA": "1",
        "KCC_TIMEZONE": "America/New_York",
    }
    options = Settings.from_env(env).options
    assert (options.match_users_by_name, options.force_unique_class_names, options.sync_parent_data) == (
        False,
        True,
        True,
    )
    assert options.timezone == "America/New_York"


def test_match_scopes_name_where_each_clever_role_lives() -> None:
    env = {**MINIMAL, "KCC_MATCH_SCOPES": "student=ou=students,dc=x; staff=/Staff|ou=staff,dc=x"}

    assert Settings.from_env(env).options.match_scopes == (
        ("student", ("ou=students,dc=x",)),
        ("staff", ("/Staff", "ou=staff,dc=x")),
    )
    with pytest.raises(ConfigError, match="KCC_MATCH_SCOPES"):
        Settings.from_env({**MINIMAL, "KCC_MATCH_SCOPES": "pupil=ou=x"})


def test_admin_run_name_providers_are_aliases_and_none_by_default() -> None:
    env = {**MINIMAL, "KCC_ADMIN_RUN_NAME_PROVIDERS": " google, entra,,google "}

    assert Settings.from_env(env).options.admin_run_name_providers == ("google", "entra")
    assert Settings.from_env(MINIMAL).options.admin_run_name_providers == ()


def test_linking_safety_opt_outs_are_off_by_default() -> None:
    clever = Settings.from_env(MINIMAL).clever

    assert (clever.users_edit_names, clever.allow_self_linking) == (False, False)


def test_the_service_accounts_client_credentials_replace_the_admin_user() -> None:
    env = {k: v for k, v in MINIMAL.items() if "ADMIN" not in k}
    env |= {"KCC_KEYCLOAK_CLIENT_ID": "keycloak-clever", "KCC_KEYCLOAK_CLIENT_SECRET": "client-secret-value"}
    keycloak = Settings.from_env(env).keycloak
    assert keycloak.service_account and (keycloak.admin_user, keycloak.admin_password) == ("", "")
    assert "client-secret-value" not in repr(keycloak)
    with pytest.raises(ConfigError, match="KCC_KEYCLOAK_CLIENT_SECRET is missing"):
        Settings.from_env({**env, "KCC_KEYCLOAK_CLIENT_SECRET": ""})
