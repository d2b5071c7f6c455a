"""What every ``keycloak-clever`` command shares: the settings it runs with, read once, and where it
logs (``load_settings``). Kept apart from ``plugin.commands.cli``, which imports every command."""

from __future__ import annotations

import click

from model.base import ConfigError
from plugin.commands.errors import setup_logging
from plugin.config.settings import Settings

SETTINGS_KEY = "keycloak_clever.settings"
LOG_KEY = "keycloak_clever.log_file"


def load_settings() -> Settings:
    """Settings from the environment, or a clean exit naming every problem; from here on the
    command logs to the terminal (warnings, no tracebacks) and to ``settings.log_file``."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx = click.get_current_context(silent=True)
    log_file = setup_logging(settings.log_file)
    if ctx is not None:
        root = ctx.find_root()
        root.meta[SETTINGS_KEY], root.meta[LOG_KEY] = settings, log_file
    return settings
