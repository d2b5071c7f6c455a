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


def test_the_extension_is_built_only_for_the_keycloak_the_services_run() -> None:
    """The pom names no Keycloak of its own (a bare ``mvn package`` stops): every Maven call that
    reads it passes the services' ``KEYCLOAK_VERSION`` (``services/versions.env``)."""
    pom = (ROOT / "keycloak-extension" / "pom.xml").read_text(encoding="utf-8")
    assert "<keycloak.version>" not in pom, "keycloak-extension/pom.xml pins a Keycloak of its own"
    assert "${keycloak.version}" in pom
    calls = []  # each Maven call, up to where its command ends
    for name in ("Makefile", "scripts/services"):
        text = (ROOT / name).read_text(encoding="utf-8").replace("\\\n", " ")
        for line in text.splitlines():
            if not line.lstrip().startswith("#"):
                calls += re.findall(r"\bmvn (-[qBo] [^|&>)]*)", line)
    in_the_extension = [call for call in calls if "dependency:copy" not in call]  # copy runs at the root
    assert len(in_the_extension) == 4, in_the_extension  # the tests twice, the jars' install, the build
    for call in in_the_extension:
        assert "-Dkeycloak.version=" in call, call


def test_the_readme_and_the_deploy_notes_name_the_pinned_keycloak() -> None:
    version = pinned_keycloak()
    for name in ("README.md", "keycloak-extension/README.md", "docs/deploy.md"):
        assert f"Keycloak {version}" in (ROOT / name).read_text(encoding="utf-8"), name
