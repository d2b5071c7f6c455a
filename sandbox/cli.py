"""``keycloak-clever-sandbox ...``: run and change the local Clever (a command of its own: the
production ``keycloak-clever`` never loads the sandbox).

- ``serve``: run the sandbox (a generated district, or ``--roster FILE``).
- ``generate``: write a generated district as a roster file.
- ``mutate``: change the roster of a running sandbox over HTTP (``POST /sandbox/mutations``);
  ``mutate rotate-token`` rotates a district-app token (``POST /sandbox/tokens/rotate``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import requests

from sandbox.config import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PORT,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    FaultSpec,
    SandboxConfig,
)
from sandbox.roster_file import RosterError


@click.group()
def sandbox() -> None:
    """The local Clever (Data API, Events, OAuth/OIDC, Badges) for demos and tests."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option(
    "--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Serve this roster file."
)
@click.option(
    "--size",
    default=DEFAULT_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Students to generate.",
)
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Generator and badge seed.")
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True, envvar="CLEVER_CLIENT_ID")
@click.option(
    "--client-secret", default=DEFAULT_CLIENT_SECRET, show_default=True, envvar="CLEVER_CLIENT_SECRET"
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="A registered redirect URI (repeat; first = portal).",
)
@click.option(
    "--faults",
    default="",
    help="e.g. error_rate=0.05,burst429=0.02,latency_ms=20,truncate=0.01,drop=0.01,bad_signature=0,seed=7",
)
@click.option(
    "--rate-limit", default=1200, show_default=True, type=click.IntRange(min=1), help="Requests/minute/token."
)
@click.option(
    "--issuer", default=None, help="Fix the OIDC issuer (default: the URL the sandbox is reached at)."
)
def serve(
    host: str,
    port: int,
    roster: Path | None,
    size: int,
    seed: int,
    client_id: str,
    client_secret: str,
    redirect_uris: tuple[str, ...],
    faults: str,
    rate_limit: int,
    issuer: str | None,
) -> None:
    """Run the sandbox until interrupted."""
    from werkzeug.serving import run_simple

    from sandbox.app import create_app

    try:
        spec = FaultSpec.parse(faults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from exc
    config = SandboxConfig(
        size=size,
        seed=seed,
        roster=roster,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uris=redirect_uris,
        rate_limit=rate_limit,
        faults=spec,
        issuer=issuer,
    )
    started = time.monotonic()
    try:
        app = create_app(config)
    except RosterError as exc:
        raise click.ClickException(str(exc)) from exc
    state = app.extensions["clever_sandbox"]
    base = f"http://{host}:{port}"
    click.echo(f"Clever sandbox ready in {time.monotonic() - started:.1f}s at {base}")
    click.echo(f"  district {state.district_id}  ({state.store.count('users')} users)")
    # Only a hint: this line ends up in the demo's log (the token: ``keycloak-clever-sandbox`` API).
    click.echo(f"  district-app token …{state.district_token[-4:]}")
    click.echo(f"  client {client_id}  redirect URIs {', '.join(redirect_uris) or '(any accepted)'}")
    click.echo(
        f"  login page {base}/oauth/authorize?client_id={client_id}&redirect_uri=...   portal {base}/portal"
    )
    if spec.active:
        click.echo(f"  faults {spec}")
    for warning in app.extensions["clever_sandbox_warnings"]:
        click.echo(f"  warning: {warning}", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)


@sandbox.command()
@click.option("--size", default=DEFAULT_SIZE, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="'-' = stdout."
)
def generate(size: int, seed: int, output: Path) -> None:
    """Write a generated district as a roster file."""
    from sandbox.generator import generate as make_roster

    started = time.monotonic()
    roster = make_roster(size, seed)
    text = json.dumps(roster, ensure_ascii=False, indent=None, separators=(",", ":"))
    if str(output) == "-":
        sys.stdout.write(text + "\n")
        return
    output.write_text(text + "\n", encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k}" for k, v in roster.items())
    click.echo(f"wrote {output}: {counts} in {time.monotonic() - started:.1f}s", err=True)


@sandbox.group()
@click.option(
    "--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True, envvar="CLEVER_SANDBOX_URL"
)
@click.option("--client-id", default=DEFAULT_CLIENT_ID, show_default=True, envvar="CLEVER_CLIENT_ID")
@click.option(
    "--client-secret", default=DEFAULT_CLIENT_SECRET, show_default=True, envvar="CLEVER_CLIENT_SECRET"
)
@click.pass_context
def mutate(ctx: click.Context, url: str, client_id: str, client_secret: str) -> None:
    """Change the roster of a running sandbox; each change prints the events it produced."""
    ctx.obj = (url.rstrip("/"), (client_id, client_secret))


def _send(ctx: click.Context, ops: Any) -> None:
    url, auth = ctx.obj
    try:
        response = requests.post(f"{url}/sandbox/mutations", json=ops, auth=auth, timeout=30)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the sandbox at {url}: {exc}") from exc
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200:
        raise click.ClickException(body.get("message") or body.get("error_description") or response.text)
    for event in body["events"]:
        click.echo(f"{event['id']} {event['type']} {event['data']['object']['id']}")


def _json_arg(value: str) -> Any:
    try:
        return json.loads(Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value)
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"not JSON (or @file): {exc}") from exc


@mutate.command("create")
@click.argument("kind", type=click.Choice(["users", "sections", "schools", "terms", "courses"]))
@click.argument("obj", metavar="JSON|@FILE")
@click.pass_context
def create_cmd(ctx: click.Context, kind: str, obj: str) -> None:
    """Add an object (bare Clever JSON; id and timestamps filled in)."""
    _send(ctx, {"op": "create", "kind": kind, "object": _json_arg(obj)})


@mutate.command("update")
@click.argument("kind", type=click.Choice(["users", "sections", "schools", "terms", "courses"]))
@click.argument("object_id")
@click.argument("changes", metavar="JSON|@FILE")
@click.pass_context
def update_cmd(ctx: click.Context, kind: str, object_id: str, changes: str) -> None:
    """Merge changes into an object, e.g. '{"name": {"first": "Ann"}}' (null deletes a field)."""
    _send(ctx, {"op": "update", "kind": kind, "id": object_id, "changes": _json_arg(changes)})


@mutate.command("delete")
@click.argument("kind", type=click.Choice(["users", "sections", "schools", "terms", "courses"]))
@click.argument("object_id")
@click.pass_context
def delete_cmd(ctx: click.Context, kind: str, object_id: str) -> None:
    """Remove an object (a person also leaves their sections)."""
    _send(ctx, {"op": "delete", "kind": kind, "id": object_id})


@mutate.command("move-student")
@click.argument("student")
@click.option("--from", "from_section", required=True, help="Section the student leaves.")
@click.option("--to", "to_section", required=True, help="Section the student joins.")
@click.pass_context
def move_cmd(ctx: click.Context, student: str, from_section: str, to_section: str) -> None:
    """Move a student from one section to another."""
    _send(
        ctx,
        {"op": "move_student", "student": student, "from_section": from_section, "to_section": to_section},
    )


@mutate.command("apply")
@click.argument("ops", metavar="JSON|@FILE")
@click.pass_context
def apply_cmd(ctx: click.Context, ops: str) -> None:
    """Apply a change or a list of changes as POST /sandbox/mutations takes them."""
    _send(ctx, _json_arg(ops))


@mutate.command("rotate-token")
@click.option("--district", default="", help="The district (default: the first).")
@click.pass_context
def rotate_token_cmd(ctx: click.Context, district: str) -> None:
    """Give a district a new district-app token (the old one gets 401); prints the new token."""
    url, auth = ctx.obj
    try:
        response = requests.post(
            f"{url}/sandbox/tokens/rotate",
            json={"district": district} if district else {},
            auth=auth,
            timeout=30,
        )
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the sandbox at {url}: {exc}") from exc
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200:
        raise click.ClickException(body.get("message") or body.get("error_description") or response.text)
    click.echo(f"{body['district']} {body['access_token']}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``keycloak-clever-sandbox``)."""
    sandbox.main(args=argv if argv is not None else sys.argv[1:], prog_name="keycloak-clever-sandbox")
