"""``keycloak-clever demo``: the whole flow on the sandbox district, on the local services.

``make demo`` first runs ``scripts/services up`` (Keycloak, Redis, OpenLDAP), then this command,
which reads ``var/services.env``, creates the demo realm when it is missing, and writes
``var/demo.env`` with what a person needs to look around. Every step is idempotent: running the
demo again reuses what is there.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError

from plugin.settings import Settings, load_env_file

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
DEMO_REALM = "school"


def demo_settings() -> Settings:
    """Settings for the demo: the services' addresses, the demo realm, the sandbox as Clever."""
    env = {k: v for k, v in load_env_file(str(VAR / "services.env")).items() if k.startswith("KCC_")}
    env.setdefault("KCC_REALM", DEMO_REALM)
    return Settings.from_env(env)


def ensure_realm(settings: Settings) -> bool:
    """Create the demo realm when missing; True when it was created."""
    master = KeycloakAdmin(
        server_url=settings.keycloak.url,
        username=settings.keycloak.admin_user,
        password=settings.keycloak.admin_password,
        realm_name="master",
    )
    try:
        master.get_realm(settings.keycloak.realm)
        return False
    except KeycloakGetError as exc:
        if exc.response_code != 404:
            raise
    master.create_realm(
        {"realm": settings.keycloak.realm, "enabled": True, "displayName": "Example School District"}
    )
    return True


def write_demo_env(values: dict[str, str]) -> Path:
    """Write ``var/demo.env`` (shell-sourceable)."""
    path = VAR / "demo.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8")
    os.chmod(path, 0o600)
    return path


@click.command()
def demo() -> None:
    """Set up the demo realm on the running services and print where to look."""
    if not (VAR / "services.env").exists():
        raise click.ClickException("var/services.env is missing: run `make services` (or `make demo`) first")
    settings = demo_settings()
    created = ensure_realm(settings)
    realm = settings.keycloak.realm
    env_path = write_demo_env({"DEMO_REALM": realm})
    url = settings.keycloak.url
    click.echo(f"Demo realm {realm!r} {'created' if created else 'already there'}.")
    click.echo("")
    click.echo(f"  Keycloak admin console   {url}/admin/master/console/#/{realm}")
    password_hint = "KEYCLOAK_ADMIN_PASSWORD in var/services.env"
    click.echo(f"  Admin login              {settings.keycloak.admin_user} / {password_hint}")
    click.echo(f"  Realm account page       {url}/realms/{realm}/account")
    click.echo(f"  Demo settings            {env_path.relative_to(ROOT)}")
