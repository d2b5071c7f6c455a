"""``keycloak-clever demo``: the whole Clever flow on the sandbox district, on the local services.

``make demo`` first runs ``scripts/services up`` (Keycloak, Redis, OpenLDAP), then this command:

1. the demo realm ``school`` ("Example School District") when missing;
2. the sandbox (the local Clever, ``#DEMO Sandbox District``) as a background process, with the
   Clever app's redirect URIs registered exactly as a district registers them at Clever
   (``plugin.sso.redirects.clever_redirect_uris``: the portal route, Keycloak's broker endpoint, the
   admin page's callback);
3. the district's existing directory: OpenLDAP people federated into the realm (READ_ONLY, as
   districts usually run it), two of whom have the names of sandbox teachers, so Match Users By
   Name has something to find;
4. the sidecar's service account (``keycloak-clever setup``): the master admin is used up to here
   only; the broker, the sync, the sidecar and the worker sign in with its client credentials;
   Clever registered as the realm's identity broker;
5. a full roster sync, whose Sync Status summary is printed;
6. the sidecar (admin page, portal route) under gunicorn and an RQ worker with the scheduler;
7. ``var/demo.env`` with ``DEMO_REALM``, ``CLEVER_URL``, ``SIDECAR_URL`` and the ``KCC_`` settings
   of the demo, so ``set -a; . var/demo.env`` lets any ``keycloak-clever`` command act on it.

Every step is idempotent: running the demo again reuses what is there and syncs again (a no-op
when nothing changed). ``make services-down`` stops everything. The sidecar listens on
``SIDECAR_PORT`` (18000) and the sandbox on ``SANDBOX_PORT`` (18100), as the services' ports come
from ``KEYCLOAK_PORT`` and the others, so a second demo on one machine moves all of them.
"""

from __future__ import annotations

import secrets
import sys
import uuid
from pathlib import Path

import click
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError
from ldap3 import Connection, Server
from ldap3.utils.dn import escape_rdn
from redis import Redis

from connectors.clever import CleverClient
from connectors.keycloak import admin_client
from connectors.keycloak_account import SERVICE_CLIENT_ID, SERVICE_ROLES
from connectors.keycloak_ldap import federate_ldap
from model.records import Role
from plugin.commands.processes import Background, ensure_running
from plugin.config.settings import Settings, load_env_file
from plugin.config.store import CLIENT_SECRET, ConfigStore, IntegrationConfig, confirm_district
from plugin.runs import takeover
from plugin.runs.audit import BY_DEMO
from plugin.runs.jobs import page_choices, run_locked, state_for
from plugin.sso.broker import ensure_broker
from plugin.sso.redirects import clever_redirect_uris
from plugin.sso.setup import ensure_service_account
from plugin.sync.run_options import RunOptions

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
BIN = Path(sys.executable).parent
DEMO_REALM = "school"
SANDBOX_PORT = 18100  # defaults; ``SANDBOX_PORT`` and ``SIDECAR_PORT`` in the environment move them
SIDECAR_PORT = 18000
SANDBOX_CLIENT = ("sandbox-client", "sandbox-secret")  # the sandbox's default app


def demo_env(sandbox_port: int = SANDBOX_PORT, sidecar_port: int = SIDECAR_PORT) -> dict[str, str]:
    """The demo's ``KCC_`` settings: the services, the demo realm, the sandbox as Clever."""
    services = load_env_file(str(VAR / "services.env"))
    keep = load_env_file(str(VAR / "demo.env")) if (VAR / "demo.env").exists() else {}
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {key: value for key, value in services.items() if key.startswith("KCC_")}
    env.update(
        KCC_REALM=DEMO_REALM,
        KCC_CLEVER_OAUTH_URL=sandbox_url,
        KCC_CLEVER_API_URL=sandbox_url,
        KCC_CLEVER_CLIENT_ID=SANDBOX_CLIENT[0],
        KCC_CLEVER_CLIENT_SECRET=SANDBOX_CLIENT[1],
        KCC_PUBLIC_URL=f"http://127.0.0.1:{sidecar_port}",
        KCC_SECRET_KEY=keep.get("KCC_SECRET_KEY") or secrets.token_hex(32),
    )
    if keep.get("KCC_CLEVER_DISTRICT_ID"):
        env["KCC_CLEVER_DISTRICT_ID"] = keep["KCC_CLEVER_DISTRICT_ID"]
    if keep.get("DEMO_ADMIN_PASSWORD"):
        env["DEMO_ADMIN_PASSWORD"] = keep["DEMO_ADMIN_PASSWORD"]
    return env


def ensure_realm(settings: Settings) -> bool:
    """Create the demo realm when missing; True when it was created."""
    master = admin_client(settings.keycloak, "master")
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


def ensure_directory_people(settings: Settings) -> list[str]:
    """Give two sandbox teachers an existing directory account (same names, their own usernames)."""
    teachers = CleverClient(settings.clever).users(role=Role.TEACHER)
    named = [t for t in teachers if t.first_name and t.last_name][:2]
    conn = Connection(
        Server(settings.ldap.url), settings.ldap.bind_dn, settings.ldap.bind_password, auto_bind=True
    )
    added = []
    for person in named:
        uid = "".join(c for c in f"{person.first_name[0]}{person.last_name}".lower() if c.isalnum())
        attributes = {
            "cn": f"{person.first_name} {person.last_name}",
            "sn": person.last_name,
            "givenName": person.first_name,
        }
        dn = f"uid={escape_rdn(uid)},{settings.ldap.people_dn}"
        if conn.add(dn, ["inetOrgPerson"], attributes):  # type: ignore[no-untyped-call]
            added.append(uid)
    conn.unbind()
    return added


def ensure_demo_admin(admin: KeycloakAdmin, password: str) -> str:
    """A realm admin for the admin page: ``district-it`` with the realm-management roles it needs."""
    username = "district-it"
    user_id = admin.get_user_id(username)
    if user_id is None:
        user_id = admin.create_user(
            {
                "username": username,
                "enabled": True,
                "firstName": "District",
                "lastName": "IT",
                "email": "district-it@example.org",
                "emailVerified": True,
                "credentials": [{"type": "password", "value": password, "temporary": False}],
            }
        )
    client_id = admin.get_client_id("realm-management")
    assert client_id is not None
    wanted = {"manage-users", "view-users", "manage-identity-providers", "view-identity-providers"}
    roles = [r for r in admin.get_client_roles(client_id) if r["name"] in wanted]
    admin.assign_client_role(user_id, client_id, roles)
    return username


def write_demo_env(values: dict[str, str]) -> Path:
    """Write ``var/demo.env`` (shell-sourceable, mode 600: it holds the demo's secrets)."""
    path = VAR / "demo.env"
    path.touch(mode=0o600, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8")
    return path


def record_choices(settings: Settings) -> IntegrationConfig:
    """What an admin would do on the page, recorded the way the page records it: the Clever app,
    the confirmed district (its name from Clever, its district-app token), every school, Enabled,
    the options of ``settings``. Once the page has saved anything, the admin's choices stay."""
    store = ConfigStore(Redis.from_url(settings.redis_url), settings)
    config = store.load()
    if store.saved() and config.district_id:
        return config
    clever = CleverClient(settings.clever)
    district_id = settings.clever.district_id
    district = clever.district(district_id)
    config = confirm_district(
        store, district_id, district.name if district else "", clever.token_for(district_id)
    )
    config.enabled = True
    config.clever_client_id = settings.clever.client_id
    config.school_mode, config.schools = "all", {}
    options = settings.options
    config.match_users_by_name = options.match_users_by_name
    config.force_unique_class_names = options.force_unique_class_names
    config.sync_parent_data = options.sync_parent_data
    store.save(config)
    store.secrets.put(CLIENT_SECRET, settings.clever.client_secret)
    return config


def _run_sync(settings: Settings) -> str:
    page = page_choices(settings)  # what the page shows is what the sync runs with
    settings = page.settings
    state = state_for(settings)
    run_id = uuid.uuid4().hex[:12]
    district_id = settings.clever.district_id
    running = takeover.acquire(state, district_id, run_id, ttl=state.lease_s)
    if running is not None:
        return f"a sync is already running (run {running}); see `keycloak-clever status`"
    try:
        report = run_locked(
            settings,
            state,
            district_id,
            run_id,
            RunOptions(trigger="demo", started_by=BY_DEMO),
            school_ids=page.school_ids,
        )
    finally:
        state.release(district_id, run_id)
    return report.summary()


def sandbox_command(settings: Settings, port: int) -> list[str]:
    """``keycloak-clever-sandbox serve`` with the Clever app's redirect URIs, first one first."""
    uris = [f"--redirect-uri={uri.url}" for uri in clever_redirect_uris(settings)]
    return [str(BIN / "keycloak-clever-sandbox"), "serve", f"--port={port}", *uris]


@click.command()
@click.option("--sandbox-port", envvar="SANDBOX_PORT", default=SANDBOX_PORT, show_default=True, type=int)
@click.option("--sidecar-port", envvar="SIDECAR_PORT", default=SIDECAR_PORT, show_default=True, type=int)
def demo(sandbox_port: int, sidecar_port: int) -> None:
    """Run the whole Clever flow on the sandbox district and print where to look."""
    if not (VAR / "services.env").exists():
        raise click.ClickException("var/services.env is missing: run `make services` (or `make demo`) first")
    env = demo_env(sandbox_port, sidecar_port)
    settings = Settings.from_env(env)
    keycloak_url = settings.keycloak.url
    sandbox_url = settings.clever.oauth_url
    sidecar_url = settings.public_url

    created = ensure_realm(settings)
    click.echo(f"realm {DEMO_REALM!r}: {'created' if created else 'reused'}")
    ensure_running(
        Background(
            "sandbox",
            sandbox_command(settings, sandbox_port),
            f"{sandbox_url}/.well-known/openid-configuration",
            {},
        ),
        VAR,
    )
    click.echo(f"sandbox Clever: {sandbox_url}")
    if "KCC_CLEVER_DISTRICT_ID" not in env:
        env["KCC_CLEVER_DISTRICT_ID"] = CleverClient(settings.clever).district_id()
        settings = Settings.from_env(env)
    admin = admin_client(settings.keycloak)  # the master admin: what `keycloak-clever setup` does
    # From here on the sidecar, the worker and the sync sign in as the realm's service account.
    env = {k: v for k, v in env.items() if not k.startswith("KCC_KEYCLOAK_ADMIN_")}
    env.update(
        KCC_KEYCLOAK_CLIENT_ID=SERVICE_CLIENT_ID, KCC_KEYCLOAK_CLIENT_SECRET=ensure_service_account(admin)
    )
    settings = Settings.from_env(env)
    click.echo(f"service account: {SERVICE_CLIENT_ID} with {', '.join(SERVICE_ROLES)}")

    added = ensure_directory_people(settings)
    # Districts map givenName; Keycloak's default "first name" mapper reads cn (the whole name).
    federate_ldap(admin, settings.ldap, given_name_mapper=True)
    click.echo(f"directory: LDAP people federated into the realm ({len(added)} added now)")

    click.echo(f"broker: {ensure_broker(admin_client(settings.keycloak), settings)}")
    config = record_choices(settings)
    click.echo(
        f"admin page: district {config.district_name!r} ({config.district_id}), schools: {config.school_mode}"
    )
    click.echo("sync: running a full roster sync of the sandbox district ...")
    click.echo(_run_sync(settings))

    env.setdefault("DEMO_ADMIN_PASSWORD", secrets.token_urlsafe(12))
    admin_user = ensure_demo_admin(admin, env["DEMO_ADMIN_PASSWORD"])
    env_path = write_demo_env(
        {"DEMO_REALM": DEMO_REALM, "CLEVER_URL": sandbox_url, "SIDECAR_URL": sidecar_url, **env}
    )
    process_env = {k: v for k, v in env.items() if k.startswith("KCC_")}
    ensure_running(
        Background(
            "sidecar",
            [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{sidecar_port}", "-w", "2", "wsgi:app"],
            f"{sidecar_url}/healthz",
            process_env,
        ),
        VAR,
    )
    ensure_running(
        Background("worker", [str(BIN / "python"), str(ROOT / "worker.py")], None, process_env), VAR
    )

    click.echo("")
    click.echo("Where to look")
    account_url = f"{keycloak_url}/realms/{DEMO_REALM}/account"
    click.echo(f"  Login with Clever        {account_url}  (click 'Clever', pick a student)")
    click.echo(f"  Clever portal            {sandbox_url}/portal  (Instant Login links)")
    click.echo(f"  Admin page               {sidecar_url}/configuration/authentication/clever")
    click.echo(f"  Admin page login         {admin_user} / {env['DEMO_ADMIN_PASSWORD']}  (demo only)")
    click.echo(f"  Keycloak admin console   {keycloak_url}/admin/master/console/#/{DEMO_REALM}")
    click.echo("  Keycloak console login   admin / KEYCLOAK_ADMIN_PASSWORD in var/services.env")
    click.echo(f"  Demo settings            {env_path.relative_to(ROOT)}  (set -a; . var/demo.env)")
