"""One list of the Clever app's redirect URIs: the same in docs/sso.md, on the admin page (the browser
journey, ``tests/browser/test_admin_page.py``) and in what the demo registers in the sandbox."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from plugin.commands.demo import sandbox_command
from plugin.config.settings import Settings
from plugin.sso.redirects import clever_redirect_uris
from tests.unit.test_broker_portal import ENV

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sso.md"


def district_settings() -> Settings:
    """The example addresses docs/sso.md uses."""
    settings = Settings.from_env(ENV)
    keycloak = dataclasses.replace(settings.keycloak, url="https://id.district.org", realm="school")
    return dataclasses.replace(settings, keycloak=keycloak, public_url="https://sidecar.district.org")


def test_the_list_is_portal_first_then_keycloak_then_the_admin_page() -> None:
    assert [uri.url for uri in clever_redirect_uris(district_settings())] == [
        "https://sidecar.district.org/clever/login",
        "https://id.district.org/realms/school/broker/clever/endpoint",
        "https://sidecar.district.org/configuration/authentication/clever/clever/callback",
    ]


def test_docs_name_every_uri_of_the_list_in_its_order() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## Redirect URIs to enter in Clever's dashboard")[1]
    listed = re.findall(r"^\d\. `[^`]+` \(e\.g\. `([^`]+)`\)", section, flags=re.MULTILINE)
    assert listed == [uri.url for uri in clever_redirect_uris(district_settings())]


def test_the_demo_registers_exactly_the_list_in_the_sandbox() -> None:
    settings = district_settings()
    command = sandbox_command(settings, 18100)
    registered = [arg.split("=", 1)[1] for arg in command if arg.startswith("--redirect-uri=")]
    assert registered == [uri.url for uri in clever_redirect_uris(settings)]
