"""The realm's login theme ``clever``: Keycloak's own, except that the "already authenticated as
different user" page names nobody and links to no application.

Keycloak refuses to swap the person inside a live browser session: when someone is still signed in
and a Clever login brings another person (a portal click on a shared classroom device), it shows "You
are already authenticated as different user '<username>' in this session" with "Back to
Application", a link into that session. Both belong to another child. The theme ships in the
clever-sync extension's jar (``keycloak-extension/src/main/resources/theme/clever``: a ``parent`` of
``keycloak.v2`` and one template, ``error.ftl``), so a Keycloak with the extension has it.

``ensure_login_theme`` makes it the realm's login theme when the realm uses Keycloak's own theme (none
set, ``keycloak`` or ``keycloak.v2``). A realm with a theme of the district's own keeps it, and a
Keycloak without the jar keeps Keycloak's: both are reported as notes (``docs/sso.md``, "Shared
devices", says what to copy into a theme of one's own).
"""

from __future__ import annotations

from typing import Any, Protocol

from keycloak import KeycloakAdmin

THEME = "clever"
KEYCLOAKS_OWN = ("", "keycloak", "keycloak.v2")


class Report(Protocol):
    """Where an ensure writes what it changed, and what an admin should know (``BrokerReport``)."""

    changes: list[str]
    notes: list[str]


def installed_login_themes(server_info: dict[str, Any]) -> set[str]:
    """The login themes Keycloak has, from ``GET /admin/serverinfo``."""
    return {str(theme.get("name")) for theme in server_info.get("themes", {}).get("login", [])}


def ensure_login_theme(admin: KeycloakAdmin, realm: str, report: Report) -> None:
    """Make ``clever`` the realm's login theme where the realm uses Keycloak's own."""
    current = admin.get_realm(realm).get("loginTheme") or ""
    if current == THEME:
        return
    if current not in KEYCLOAKS_OWN:
        report.notes.append(
            f"login theme {current!r} kept: add keycloak-clever's error.ftl to it (docs/sso.md, "
            "'Shared devices'), or Keycloak's 'already authenticated as different user' page names "
            "the person still signed in"
        )
        return
    if THEME not in installed_login_themes(admin.get_server_info()):
        report.notes.append(
            f"login theme {THEME!r} is not in this Keycloak (it comes with the clever-sync extension's "
            "jar, keycloak-extension/): Keycloak's 'already authenticated as different user' page "
            "names the person still signed in"
        )
        return
    admin.update_realm(realm, {"loginTheme": THEME})
    report.changes.append(f"realm login theme: {THEME} (was {current or 'Keycloak default'})")


def remove_login_theme(admin: KeycloakAdmin, realm: str, report: Report) -> None:
    """Give the realm Keycloak's own login theme back when it has ours."""
    if admin.get_realm(realm).get("loginTheme") == THEME:
        admin.update_realm(realm, {"loginTheme": ""})
        report.changes.append("realm login theme: Keycloak default again")
