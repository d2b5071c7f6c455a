"""When the next run must read the whole roster instead of Clever's events since the last one.

An incremental run only sees what changed *in Clever*. A change on this side changes the desired
state of people and classes Clever did not touch, so after any of these the next run, from the
page's Sync button, the CLI or the weekly schedule alike, is a full one:

* a sync option (Match Users By Name, Force Unique Class Names, Sync Parent Data, preferred
  names, the identity providers whose names the district runs, the brake ratio), the chosen
  schools, the Clever app (client id, API host, Data API version) or the district;
* an admin's pending resolution of a waiting person (``plugin.sync.resolutions``): the run that applies
  it links or creates their account and gives them their classes.

The choices a run was made with are saved beside the event cursor (``save_choices``) when the
run ends ``ok``; a ``partial`` run saves neither, so the next run is full and retries what failed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis import Redis

from plugin.config.settings import Settings
from plugin.sync import resolutions

KEY = "kcc:sync:choices:{district}"
LABELS = {
    "match_users_by_name": "Match Users By Name",
    "force_unique_class_names": "Force Unique Class Names",
    "sync_parent_data": "Sync Parent Data",
    "use_preferred_names": "preferred names",
    "admin_run_name_providers": "the identity providers whose names you run",
    "brake_ratio": "the brake",
    "school_ids": "the chosen schools",
    "client_id": "the Clever app",
    "api_url": "Clever's address",
    "api_version": "the Data API version",
    "district_id": "the district",
}


def choices(settings: Settings, district_id: str, school_ids: Sequence[str]) -> dict[str, Any]:
    """What a run's desired state depends on besides Clever's data (no secrets)."""
    options = settings.options
    return {
        "match_users_by_name": options.match_users_by_name,
        "force_unique_class_names": options.force_unique_class_names,
        "sync_parent_data": options.sync_parent_data,
        "use_preferred_names": options.use_preferred_names,
        "admin_run_name_providers": sorted(options.admin_run_name_providers),
        "brake_ratio": options.brake_ratio,
        "school_ids": sorted(school_ids),
        "client_id": settings.clever.client_id,
        "api_url": settings.clever.api_url,
        "api_version": settings.clever.api_version,
        "district_id": district_id,
    }


def full_run_reason(redis: Redis, settings: Settings, district_id: str, school_ids: Sequence[str]) -> str:
    """Why the next run must be full (plain words), or "" when Clever's events are enough."""
    raw = redis.get(KEY.format(district=district_id))
    saved = json.loads(raw) if raw else None
    now = choices(settings, district_id, school_ids)
    if saved is None:
        return "no record of the choices the last run was made with: full sync"
    if saved != now:
        changed = [LABELS[k] for k in now if saved.get(k) != now[k]]
        return f"{', '.join(changed)} changed since the last run: full sync"
    pending = resolutions.load(redis, settings.keycloak.realm)
    if pending:
        return f"an admin resolved {len(pending)} waiting people: full sync applies it"
    return ""


def save_choices(redis: Redis, settings: Settings, district_id: str, school_ids: Sequence[str]) -> None:
    """Remember the choices of a run that ended ``ok`` (next to its event cursor)."""
    redis.set(KEY.format(district=district_id), json.dumps(choices(settings, district_id, school_ids)))
