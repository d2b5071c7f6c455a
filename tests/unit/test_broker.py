"""The broker's pure builders: what Keycloak should hold, from settings and Clever's discovery document."""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import pytest

from mappers.layout import CLEVER_ATTRIBUTES
from model.base import ConfigError
from model.config import CleverSettings
from plugin.sso.broker import (
    FLOW_ALIAS,
    GUARD_MAPPER,
    SECRET_FINGERPRINT_KEY,
    Execution,
    desired_executions,
    desired_idp,
    desired_mappers,
    desired_roles,
    desired_user_profile,
    differing_keys,
    discovery_url,
    parse_discovery,
    role_claim_patterns,
)

DOCUMENT = {
    "issuer": "https://clever.com",
    "authorization_endpoint": "https://clever.com/oauth/authorize",
    "token_endpoint": "https://clever.com/oauth/tokens",
    "userinfo_endpoint": "https://api.clever.com/userinfo",
    "jwks_uri": "https://clever.com/oauth/certs",
    "response_types_supported": ["code"],
}
CLEVER = CleverSettings(client_id="app-id", client_secret="app-secret")
KEY = secrets.token_hex(32)


def test_discovery_url_is_under_the_oauth_host() -> None:
    assert discovery_url("https://clever.com/") == "https://clever.com/.well-known/openid-configuration"


def test_parse_discovery_names_every_missing_endpoint() -> None:
    with pytest.raises(ConfigError, match="token_endpoint, jwks_uri"):
        parse_discovery({k: v for k, v in DOCUMENT.items() if k not in {"token_endpoint", "jwks_uri"}})


def test_idp_takes_endpoints_from_discovery_and_credentials_from_settings() -> None:
    idp = desired_idp(CLEVER, parse_discovery(DOCUMENT), KEY)

    assert (idp["alias"], idp["providerId"], idp["displayName"]) == ("clever", "oidc", "Clever")
    config = idp["config"]
    assert config["authorizationUrl"] == "https://clever.com/oauth/authorize"
    assert config["userInfoUrl"] == "https://api.clever.com/userinfo"
    assert config["jwksUrl"] == "https://clever.com/oauth/certs"
    assert config["issuer"] == "https://clever.com"
    assert (config["clientId"], config["clientSecret"]) == ("app-id", "app-secret")
    assert config["clientAuthMethod"] == "client_secret_basic"
    assert (config["pkceEnabled"], config["pkceMethod"]) == ("true", "S256")
    assert (config["validateSignature"], config["useJwksUrl"]) == ("true", "true")
    assert idp["trustEmail"] is False
    assert idp["firstBrokerLoginFlowAlias"] == FLOW_ALIAS
    assert all(isinstance(value, str) for value in config.values())


def test_idp_keeps_a_fingerprint_not_the_secret_twice() -> None:
    config = desired_idp(CLEVER, parse_discovery(DOCUMENT), KEY)["config"]

    assert "app-secret" not in config[SECRET_FINGERPRINT_KEY]
    other = desired_idp(
        CleverSettings(client_id="app-id", client_secret="new"), parse_discovery(DOCUMENT), KEY
    )
    assert other["config"][SECRET_FINGERPRINT_KEY] != config[SECRET_FINGERPRINT_KEY]


def test_the_fingerprint_is_keyed_with_the_secret_key_not_a_bare_hash() -> None:
    fingerprint = desired_idp(CLEVER, parse_discovery(DOCUMENT), KEY)["config"][SECRET_FINGERPRINT_KEY]
    assert fingerprint != hashlib.sha256(b"app-secret").hexdigest()
    other_key = desired_idp(CLEVER, parse_discovery(DOCUMENT), secrets.token_hex(32))
    assert other_key["config"][SECRET_FINGERPRINT_KEY] != fingerprint
    with pytest.raises(ConfigError, match="KCC_SECRET_KEY"):
        desired_idp(CLEVER, parse_discovery(DOCUMENT), "")


def test_mapper_names_are_unique_and_no_mapper_writes_at_a_login() -> None:
    mappers = desired_mappers(guard=True)

    assert len({m["name"] for m in mappers}) == len(mappers)
    # IMPORT only: a login writes nothing to an existing account (READ_ONLY accounts refuse it).
    assert {m["config"]["syncMode"] for m in mappers} == {"IMPORT"}


def test_the_guard_is_there_only_with_the_extension_and_carries_the_opt_out() -> None:
    guards = [m for m in desired_mappers(guard=True) if m["identityProviderMapper"] == GUARD_MAPPER]
    opted_out = [
        m for m in desired_mappers(guard=True, allow_self_linking=True) if m["name"] == guards[0]["name"]
    ]

    assert [g["config"]["allowSelfLinking"] for g in guards] == ["false"]
    assert opted_out[0]["config"]["allowSelfLinking"] == "true"
    assert not [m for m in desired_mappers() if m["identityProviderMapper"] == GUARD_MAPPER]


def test_claims_map_to_the_clever_attributes() -> None:
    claims = {
        m["config"]["claim"]: (m["config"]["user.attribute"], m["config"]["syncMode"])
        for m in desired_mappers()
        if m["identityProviderMapper"] == "oidc-user-attribute-idp-mapper"
    }

    assert claims == {
        "sub": ("clever_id", "IMPORT"),
        "district": ("clever_district", "IMPORT"),
        "given_name": ("firstName", "IMPORT"),
        "family_name": ("lastName", "IMPORT"),
        "email": ("clever_email", "IMPORT"),  # never the Keycloak email: Clever does not verify it
        "user_type": ("clever_role", "IMPORT"),
    }


def test_usernames_of_accounts_made_at_login_come_from_the_clever_id_not_the_email() -> None:
    username = next(m for m in desired_mappers() if m["identityProviderMapper"] == "oidc-username-idp-mapper")

    assert username["config"]["template"] == "clever-${CLAIM.sub}"


@pytest.mark.parametrize(
    ("user_type", "role"),
    [
        ("student", "clever-student"),
        ("teacher", "clever-teacher"),
        ("staff", "clever-staff"),
        ("district admin", "clever-district-admin"),
        ("district_admin", "clever-district-admin"),
        ("contact", "clever-contact"),
    ],
)
def test_each_user_type_gives_exactly_its_role(user_type: str, role: str) -> None:
    matching = [
        m["config"]["role"]
        for m in desired_mappers()
        if m["identityProviderMapper"] == "oidc-advanced-role-idp-mapper"
        # Keycloak matches the whole claim value (Java's Pattern.matches).
        and re.fullmatch(json.loads(m["config"]["claims"])[0]["value"], user_type)
    ]

    assert matching == [role]


def test_roles_cover_every_role_pattern() -> None:
    assert sorted(role_claim_patterns()) == desired_roles()
    assert "clever-district-admin" in desired_roles()


def test_user_profile_declares_clever_attributes_admin_only_in_the_clever_group() -> None:
    profile = desired_user_profile({"attributes": [], "groups": []})

    declared = {a["name"]: a for a in profile["attributes"]}
    assert set(CLEVER_ATTRIBUTES) <= set(declared)
    assert all(
        declared[name]["permissions"] == {"view": ["admin"], "edit": ["admin"]} for name in CLEVER_ATTRIBUTES
    )
    assert all(declared[name]["group"] == "clever" for name in CLEVER_ATTRIBUTES)
    assert declared["clever_school_ids"]["multivalued"] is True
    assert declared["clever_id"]["multivalued"] is False
    assert [g["name"] for g in profile["groups"]] == ["clever"]


def test_user_profile_keeps_other_attributes_and_an_admins_display_name() -> None:
    current = {
        "attributes": [
            {"name": "email", "required": {"roles": ["user"]}, "validations": {"email": {}}},
            {"name": "lastName", "required": {"roles": ["user"]}},
            {"name": "homeroom"},
            {"name": "clever_id", "displayName": "Clever ID (district)", "annotations": {"x": "y"}},
        ],
        "groups": [{"name": "user-metadata"}],
        "unmanagedAttributePolicy": "ADMIN_VIEW",
    }

    profile = desired_user_profile(current)

    declared = {a["name"]: a for a in profile["attributes"]}
    assert declared["homeroom"] == {"name": "homeroom"}
    assert declared["clever_id"]["displayName"] == "Clever ID (district)"
    assert declared["clever_id"]["annotations"] == {"x": "y"}
    assert "required" not in declared["email"]
    assert declared["email"]["validations"] == {"email": {}, "length": {"max": 255}}
    assert declared["lastName"]["required"] == {"roles": ["user"]}
    assert profile["unmanagedAttributePolicy"] == "ADMIN_VIEW"
    assert current["attributes"][0]["required"] == {"roles": ["user"]}  # the input is not modified


def test_user_profile_accepts_clever_names_the_default_rules_refuse() -> None:
    default = {"length": {"max": 255}, "person-name-prohibited-characters": {}}
    current = {
        "attributes": [
            {"name": "firstName", "validations": dict(default)},
            {"name": "lastName", "validations": {**default, "pattern": {"pattern": "^[a-z]+$"}}},
        ]
    }

    declared = {a["name"]: a for a in desired_user_profile(current)["attributes"]}

    assert declared["firstName"]["validations"] == {"length": {"max": 255}}
    assert declared["lastName"]["validations"] == {"length": {"max": 255}}


def test_user_profile_already_declared_is_unchanged() -> None:
    once = desired_user_profile({"attributes": [{"name": "email"}], "groups": []})

    assert desired_user_profile(once) == once


def test_unknown_people_are_refused_by_default() -> None:
    steps = desired_executions(create_unknown_users=False)

    assert [(s.provider, s.requirement) for s in steps] == [("deny-access-authenticator", "REQUIRED")]
    assert steps[0].message and "Clever" in steps[0].message


def test_creating_unknown_people_never_links_an_existing_account() -> None:
    steps = desired_executions(create_unknown_users=True)

    assert [s.provider for s in steps] == ["idp-create-user-if-unique", "deny-access-authenticator"]
    assert not any("link" in s.provider or "auto" in s.provider for s in steps)
    assert steps[0] == Execution("idp-create-user-if-unique", "ALTERNATIVE")


def test_differing_keys_look_only_at_desired_fields() -> None:
    current = {"alias": "clever", "internalId": "x", "config": {"clientId": "a", "extra": "1"}}

    assert differing_keys(current, {"alias": "clever", "config": {"clientId": "a"}}) == []
    assert differing_keys(current, {"alias": "clever", "config": {"clientId": "b", "new": "1"}}) == [
        "config.clientId",
        "config.new",
    ]


def test_names_and_email_are_admin_only_to_edit_and_stay_visible() -> None:
    current = {
        "attributes": [
            {"name": "firstName", "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]}},
            {"name": "lastName", "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]}},
            {"name": "email", "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]}},
        ],
        "groups": [],
    }

    declared = {a["name"]: a for a in desired_user_profile(current)["attributes"]}

    for name in ("firstName", "lastName", "email"):
        assert declared[name]["permissions"] == {"view": ["admin", "user"], "edit": ["admin"]}
    opted_out = {a["name"]: a for a in desired_user_profile(current, users_edit_names=True)["attributes"]}
    assert opted_out["firstName"]["permissions"]["edit"] == ["admin", "user"]


def test_only_the_configured_district_may_sign_in() -> None:
    config = desired_idp(
        CleverSettings(client_id="a", client_secret="b", district_id="d1"), parse_discovery(DOCUMENT), KEY
    )["config"]

    assert (config["filteredByClaim"], config["claimFilterName"], config["claimFilterValue"]) == (
        "true",
        "district",
        "d1",
    )
