"""Secrets at rest and the page's settings: plain data, no services (Redis is faked by a dict)."""

from __future__ import annotations

import secrets
from typing import Any, cast

import pytest
from redis import Redis

from model.base import ConfigError
from model.config import KeycloakSettings, LdapSettings
from plugin.config.secrets import SecretStore, fernet_for, hint
from plugin.config.settings import Settings
from plugin.config.store import IntegrationConfig, effective_settings

KEY = secrets.token_hex(32)


class HashOnly:
    """The three hash commands SecretStore uses."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def hset(self, key: str, field: str, value: Any) -> None:
        self.data.setdefault(key, {})[field] = value

    def hget(self, key: str, field: str) -> Any:
        return self.data.get(key, {}).get(field)

    def hdel(self, key: str, field: str) -> None:
        self.data.get(key, {}).pop(field, None)


def store(fake: HashOnly, key: str = KEY) -> SecretStore:
    return SecretStore(cast(Redis, fake), key, "kcc:school")


def test_a_secret_is_stored_encrypted_and_read_back() -> None:
    fake = HashOnly()
    store(fake).put("clever_client_secret", "sandbox-secret")
    raw = fake.data["kcc:school:secrets"]["clever_client_secret"]
    assert b"sandbox-secret" not in raw
    assert store(fake).get("clever_client_secret") == "sandbox-secret"


def test_another_key_cannot_read_it_and_says_so_with_none() -> None:
    fake = HashOnly()
    store(fake).put("clever_client_secret", "sandbox-secret")
    assert store(fake, secrets.token_hex(32)).get("clever_client_secret") is None


def test_an_empty_value_deletes_the_secret() -> None:
    fake = HashOnly()
    store(fake).put("t", "value-long-enough")
    store(fake).put("t", "")
    assert store(fake).get("t") is None


def test_hints_show_four_characters_of_long_secrets_only() -> None:
    assert hint("0123456789abcdef") == "…cdef"
    assert hint("short") == "set"
    assert hint("") == ""


def test_no_key_no_secrets() -> None:
    with pytest.raises(ConfigError, match="KCC_SECRET_KEY"):
        fernet_for("")


def test_the_pages_choices_win_over_the_environment() -> None:
    settings = Settings(
        keycloak=KeycloakSettings(url="http://kc", admin_user="a", admin_password="p"),
        redis_url="redis://r/0",
        ldap=LdapSettings(
            url="ldap://l", bind_dn="cn=a", bind_password="p", base_dn="dc=x", people_dn="", groups_dn=""
        ),
    )
    config = IntegrationConfig(
        clever_client_id="app", district_id="d1", sync_parent_data=True, school_mode="all"
    )
    effective = effective_settings(settings, config, "s3cret")
    assert (effective.clever.client_id, effective.clever.client_secret) == ("app", "s3cret")
    assert effective.clever.district_id == "d1" and effective.options.sync_parent_data
    assert config.school_ids == ()
    assert IntegrationConfig(school_mode="search", schools={"b": "B", "a": "A"}).school_ids == ("a", "b")
