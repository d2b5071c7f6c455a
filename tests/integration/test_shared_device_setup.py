"""What ``broker register`` sets up for shared devices, in a real Keycloak: the provider's sign-out
goes through the sidecar (``plugin.sso.logout``), and the realm's login theme is ``clever`` unless the
district has a theme of its own (``plugin.sso.theme``)."""

from __future__ import annotations

import pytest
from keycloak import KeycloakAdmin

from model.state import IDP_ALIAS
from plugin.config.settings import Settings
from plugin.sso.broker import ensure_broker
from plugin.sso.theme import THEME
from tests.integration.test_broker import DISCOVERY, clever_settings

pytestmark = pytest.mark.integration


def test_the_sign_out_of_a_clever_login_goes_through_the_sidecar(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    config = keycloak_admin.get_idp(IDP_ALIAS)["config"]
    assert config["logoutUrl"] == f"{settings.public_url.rstrip('/')}/clever/logout"
    assert config["backchannelSupported"] == "false"  # in the browser, or Clever stays signed in
    assert config["sendIdTokenOnLogout"] == "false"  # no Clever id_token in URLs, logs or sessions
    assert not ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)


def test_the_realm_gets_the_clever_login_theme(keycloak_admin: KeycloakAdmin, settings: Settings) -> None:
    report = ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    assert f"realm login theme: {THEME} (was Keycloak default)" in report.changes
    assert keycloak_admin.get_realm(settings.keycloak.realm)["loginTheme"] == THEME
    assert report.notes == []


def test_a_theme_of_the_districts_own_is_kept_and_named_in_a_note(
    keycloak_admin: KeycloakAdmin, settings: Settings
) -> None:
    keycloak_admin.update_realm(settings.keycloak.realm, {"loginTheme": "keycloak.v2-district"})

    report = ensure_broker(keycloak_admin, clever_settings(settings), DISCOVERY)

    assert keycloak_admin.get_realm(settings.keycloak.realm)["loginTheme"] == "keycloak.v2-district"
    (note,) = report.notes
    assert "'keycloak.v2-district' kept" in note and "note: login theme" in str(report)
