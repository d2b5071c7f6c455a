"""Continuous updates and retention on the page: set them, and say how fresh the realm is.

``set_continuous`` saves the page's "Continuous updates" and its interval and moves the next tick at
once (``plugin.runs.continuous.reschedule``); ``set_retention`` saves the retention rule.
``freshness_status`` is what the page, the JSON API and the CLI show: whether continuous updates are
on, when the next tick is, "last change from Clever applied N minutes ago", when Clever was last
checked, the last tick, and the retention rule in words (``plugin.sync.retention.rule_words``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from plugin.admin.actions import ActionError
from plugin.admin.auth import AdminUser
from plugin.admin.decisions import may_decide
from plugin.admin.services import Services
from plugin.config.settings import continuous_minutes, retention_days
from plugin.runs import continuous
from plugin.runs.state import SyncState
from plugin.sync.retention import rule_words

log = logging.getLogger(__name__)


def set_continuous(svc: Services, values: Mapping[str, Any], by: str) -> str:
    """Save "Continuous updates" (``on``) and its minutes; schedule or cancel the ticks."""
    store = svc.store()
    config = store.load()
    on = values.get("continuous") == "on"
    try:
        minutes = continuous_minutes(str(values.get("minutes") or svc.settings.options.continuous_minutes))
    except ValueError as exc:
        raise ActionError(f"Continuous updates not saved: {exc}") from exc
    config.continuous, config.continuous_minutes = on, minutes
    store.save(config)
    log.info("admin page: continuous updates %s (every %d min) by %s", "on" if on else "off", minutes, by)
    if config.district_id:
        continuous.reschedule(svc.settings, config.district_id)
    if not on:
        return "Continuous updates off: Clever syncs in the weekly window and when you press Sync"
    return f"Continuous updates on: Clever's changes are applied every {_minutes(minutes)}"


def set_retention(svc: Services, values: Mapping[str, Any], who: AdminUser) -> str:
    """Save the retention rule: ``retention`` on with ``days``, or off (days 0). Only who may decide
    about accounts (``plugin.admin.decisions.may_decide``): it deletes accounts."""
    if not may_decide(svc, who):
        raise ActionError("Only a realm admin (realm-management realm-admin) sets the retention rule.")
    by = who.username
    store = svc.store()
    config = store.load()
    try:
        days = retention_days(str(values.get("days") or 0)) if values.get("retention") == "on" else 0
    except ValueError as exc:
        raise ActionError(f"Retention not saved: {exc}") from exc
    if values.get("retention") == "on" and not days:
        raise ActionError("Retention not saved: enter after how many days (1 to 3650)")
    config.retention_days = days
    store.save(config)
    log.info("admin page: retention %s by %s", f"{days} days" if days else "off", by)
    return f"Retention {'on' if days else 'off'}: {rule_words(days)}"


def freshness_status(svc: Services) -> dict[str, Any]:
    """Continuous updates, freshness and retention as the page and the API show them."""
    config = svc.store().load()
    settings = svc.effective()
    district = config.district_id or settings.clever.district_id
    return continuous.status(settings, district, SyncState(svc.redis), saved=config.continuous is not None)


def _minutes(minutes: int) -> str:
    return continuous.every(minutes)
