"""What a realm recorded of the writes made to it, in a form two realms can be compared in: its admin
events (ids replaced by usernames and group paths) and its accounts' timestamps as stored."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from typing import Any

from keycloak import KeycloakAdmin


def enable_admin_events(admin: KeycloakAdmin) -> None:
    """Store admin events with their representations (off in a new realm)."""
    realm = admin.connection.realm_name
    config = admin.connection.raw_get(f"admin/realms/{realm}/events/config").json()
    config.update({"adminEventsEnabled": True, "adminEventsDetailsEnabled": True})
    admin.connection.raw_put(f"admin/realms/{realm}/events/config", data=_json(config))


def admin_events(admin: KeycloakAdmin) -> Counter[tuple[str, str, str, bool]]:
    """Each stored admin event as (resource type, operation, path with names for ids, has representation)."""
    realm = admin.connection.realm_name
    names = _names(admin)
    events = admin.connection.raw_get(f"admin/realms/{realm}/admin-events", first=0, max=100000).json()
    return Counter(
        (
            event["resourceType"],
            event["operationType"],
            "/".join(names.get(part, part) for part in event["resourcePath"].split("/")),
            bool(event.get("representation")),
        )
        for event in events
    )


def _names(admin: KeycloakAdmin) -> dict[str, str]:
    """Keycloak id -> a name that is the same in another realm made alike (username, group path)."""
    names = {
        user["id"]: f"user:{user['username']}" for user in admin.get_users({"briefRepresentation": True})
    }

    def walk(group: dict[str, Any], path: str) -> None:
        names[group["id"]] = f"group:{path}"
        for child in admin.get_group_children(group["id"], {"max": 1000, "briefRepresentation": True}):
            walk(child, f"{path}/{child['name']}")

    for top in admin.get_groups({"briefRepresentation": True}):
        walk(top, f"/{top['name']}")
    return names


def stored_timestamps(env: dict[str, str], realm: str) -> dict[str, tuple[bool, bool]]:
    """username -> (CREATED_TIMESTAMP set, LAST_MODIFIED_TIMESTAMP set and equal to it), read from
    PostgreSQL (the admin API does not show the last-modified time)."""
    query = (
        "SELECT u.username, u.created_timestamp IS NOT NULL,"
        " u.last_modified_timestamp IS NOT NULL AND u.last_modified_timestamp = u.created_timestamp"
        " FROM user_entity u JOIN realm r ON r.id = u.realm_id"
        f" WHERE r.name = '{realm}' AND u.service_account_client_link IS NULL"
    )
    done = subprocess.run(
        [
            f"{env['POSTGRES_BIN']}/psql",
            "-X",
            "-tA",
            "-F",
            ",",
            "-h",
            env["POSTGRES_HOST"],
            "-p",
            env["POSTGRES_PORT"],
            "-U",
            env["POSTGRES_USER"],
            "-d",
            env["POSTGRES_DB"],
            "-c",
            query,
        ],
        env={**os.environ, "PGPASSWORD": env["POSTGRES_PASSWORD"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = (line.split(",") for line in done.stdout.splitlines() if line)
    return {name: (created == "t", modified == "t") for name, created, modified in rows}


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
