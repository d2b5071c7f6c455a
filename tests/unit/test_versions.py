"""The one Keycloak version: services/versions.env pins it, and everything built or said of it agrees."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pinned_keycloak() -> str:
    """KEYCLOAK_PINNED of services/versions.env."""
    text = (ROOT / "services" / "versions.env").read_text(encoding="utf-8")
    match = re.search(r"^KEYCLOAK_PINNED=(\S+)$", text, re.MULTILINE)
    assert match, "services/versions.env has no KEYCLOAK_PINNED=<version> line"
    return match.group(1)


def test_the_extension_is_built_for_the_pinned_keycloak_by_default() -> None:
    pom = (ROOT / "keycloak-extension" / "pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<keycloak\.version>([^<]+)</keycloak\.version>", pom)
    assert match, "keycloak-extension/pom.xml has no <keycloak.version>"
    assert match.group(1) == pinned_keycloak(), (
        f"keycloak-extension/pom.xml builds for Keycloak {match.group(1)} but services/versions.env "
        f"pins {pinned_keycloak()}: change <keycloak.version> to it"
    )


def test_the_readme_and_the_deploy_notes_name_the_pinned_keycloak() -> None:
    version = pinned_keycloak()
    for name in ("README.md", "keycloak-extension/README.md", "docs/deploy.md"):
        assert f"Keycloak {version}" in (ROOT / name).read_text(encoding="utf-8"), name
