"""What the admin page configures, kept in Redis: ``kcc:<realm>:admin`` (JSON) plus the secrets.

``IntegrationConfig`` is the page's state: Enabled, the Clever app's client id, the confirmed
district, the chosen schools (and how they were chosen), the article's three options and the
identity providers whose names the district runs (Match Users By Name trusts their names). The Clever
client secret and the district-app token live beside it, encrypted (``plugin.config.secrets``).

``effective_settings(settings, config, secrets)`` is the one place the page's choices meet the
environment's ``Settings``: what the page sets wins, what it leaves empty falls back to ``KCC_*``.
The broker, the Sync button and the jobs all run with that object.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from redis import Redis

from model.base import ConfigError
from plugin.config.schedule import WeeklySchedule
from plugin.config.secrets import SecretStore, hint
from plugin.config.settings import Settings

log = logging.getLogger(__name__)
CLIENT_SECRET = "clever_client_secret"
SCHOOL_MODES = {
    "search": "Searching for your school name",
    "badge": "Using Clever Badge log in",
    "all": "Using your District admin log in (all schools)",
}


def district_token_name(district_id: str) -> str:
    return f"district_token:{district_id}"


@dataclass
class IntegrationConfig:
    """The page's settings (no secrets here: they are in ``SecretStore``)."""

    enabled: bool = False
    clever_client_id: str = ""
    district_id: str = ""
    district_name: str = ""
    confirmed_at: str = ""
    school_mode: str = ""
    schools: dict[str, str] = field(default_factory=dict)  # Clever school id -> name
    match_users_by_name: bool = True
    force_unique_class_names: bool = False
    sync_parent_data: bool = False
    use_preferred_names: bool = True
    # Identity providers whose names the district runs (``KCC_ADMIN_RUN_NAME_PROVIDERS``): None until
    # the page sets it, then the page's list wins (an empty list included).
    admin_run_name_providers: list[str] | None = None
    # The weekly window (``plugin.config.schedule.WeeklySchedule.to_dict``); {} = the article's
    # Saturday 00:01 to Sunday 23:59 in ``KCC_TIMEZONE``. Its zone, once saved, wins over that.
    schedule: dict[str, Any] = field(default_factory=dict)
    # Continuous updates and retention (``KCC_CONTINUOUS``, ``KCC_CONTINUOUS_MINUTES``,
    # ``KCC_RETENTION_DAYS``): None until the page saves them, then the page's values win.
    continuous: bool | None = None
    continuous_minutes: int | None = None
    retention_days: int | None = None

    def weekly_schedule(self, default_timezone: str) -> WeeklySchedule:
        """The saved weekly window, or the default one in ``default_timezone``."""
        return WeeklySchedule.from_dict(self.schedule, default_timezone)

    @property
    def school_ids(self) -> tuple[str, ...]:
        """The schools to sync; empty with mode "all" means every school of the district."""
        return () if self.school_mode == "all" else tuple(sorted(self.schools))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConfigStore:
    """Load and save the page's ``IntegrationConfig`` for one realm."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.namespace = f"kcc:{settings.keycloak.realm}"

    @cached_property
    def secrets(self) -> SecretStore:
        """The page's encrypted secrets (``ConfigError`` without ``KCC_SECRET_KEY``)."""
        return SecretStore(self.redis, self.settings.secret_key, self.namespace)

    def saved(self) -> bool:
        """True once the page has saved its settings (before that, ``load`` gives the environment's)."""
        return bool(self.redis.exists(f"{self.namespace}:admin"))

    def load(self) -> IntegrationConfig:
        raw = self.redis.get(f"{self.namespace}:admin")
        if raw is None:
            # Nothing saved on the page: what a sync runs with (``KCC_*``, every school).
            options = self.settings.options
            return IntegrationConfig(
                clever_client_id=self.settings.clever.client_id,
                district_id=self.settings.clever.district_id,
                school_mode="all" if self.settings.clever.district_id else "",
                match_users_by_name=options.match_users_by_name,
                force_unique_class_names=options.force_unique_class_names,
                sync_parent_data=options.sync_parent_data,
                use_preferred_names=options.use_preferred_names,
            )
        data = json.loads(raw)
        known = {k: v for k, v in data.items() if k in IntegrationConfig.__dataclass_fields__}
        return IntegrationConfig(**known)

    def save(self, config: IntegrationConfig) -> None:
        self.redis.set(f"{self.namespace}:admin", json.dumps(config.to_dict(), sort_keys=True))

    def client_secret(self) -> str:
        """The Clever client secret: the page's, else ``KCC_CLEVER_CLIENT_SECRET``.

        Without ``KCC_SECRET_KEY`` (a worker or CLI configured through ``KCC_*`` alone) the page's
        secret cannot be read: the environment's is used, and the log says so when the page has one.
        """
        try:
            stored = self.secrets.get(CLIENT_SECRET)
        except ConfigError:
            if self.redis.hexists(f"{self.namespace}:secrets", CLIENT_SECRET):
                log.warning("KCC_SECRET_KEY is not set: the admin page's Clever client secret is not used")
            stored = None
        return stored or self.settings.clever.client_secret

    def client_secret_hint(self) -> str:
        return hint(self.client_secret())


def confirm_district(store: ConfigStore, district_id: str, name: str, token: str) -> IntegrationConfig:
    """Record a confirmed district (its name, when, its district-app token), as the page's "Yes".

    A different district than before forgets the chosen schools (they belong to the other one).
    """
    config = store.load()
    if config.district_id != district_id:
        config.schools, config.school_mode = {}, ""
    config.district_id, config.district_name = district_id, name
    config.confirmed_at = datetime.now(UTC).isoformat(timespec="seconds")
    store.save(config)
    store.secrets.put(district_token_name(district_id), token)
    return config


def effective_settings(settings: Settings, config: IntegrationConfig, client_secret: str) -> Settings:
    """``settings`` with the page's Clever app, district and options in place."""
    clever = replace(
        settings.clever,
        client_id=config.clever_client_id or settings.clever.client_id,
        client_secret=client_secret or settings.clever.client_secret,
        district_id=config.district_id or settings.clever.district_id,
    )
    admin_run = config.admin_run_name_providers
    return replace(settings, clever=clever).with_options(
        timezone=config.weekly_schedule(settings.options.timezone).timezone,
        match_users_by_name=config.match_users_by_name,
        force_unique_class_names=config.force_unique_class_names,
        sync_parent_data=config.sync_parent_data,
        use_preferred_names=config.use_preferred_names,
        admin_run_name_providers=settings.options.admin_run_name_providers
        if admin_run is None
        else tuple(admin_run),
        **_saved(config, ("continuous", "continuous_minutes", "retention_days")),
    )


def _saved(config: IntegrationConfig, names: tuple[str, ...]) -> dict[str, Any]:
    """The options among ``names`` the page has saved (None: the environment's stay)."""
    return {name: value for name in names if (value := getattr(config, name)) is not None}


def settings_for(redis: Redis, settings: Settings) -> Settings:
    """The Settings a job should run with for this realm (the page's choices applied)."""
    store = ConfigStore(redis, settings)
    return effective_settings(settings, store.load(), store.client_secret())
