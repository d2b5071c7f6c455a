"""The ``keycloak-clever`` command: one entry point, subcommands filled in by their owners.

``sandbox`` is loaded lazily from the ``sandbox`` package so that production commands never
import the stand-in Clever. ``keycloak-clever --version`` prints the installed version.

Errors: a command that fails prints one line, ``Error: <what failed, where, what to check>``, and
exits 1 (``plugin.commands.errors``); the traceback is only in the log file the line names.
``keycloak-clever sync`` has exit codes of its own (``plugin.commands.sync_cli.EXIT_CODES``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from connectors.base import ConfigError
from plugin.commands.errors import explain, setup_logging
from plugin.config.settings import Settings

log = logging.getLogger(__name__)
DISTRIBUTION = "keycloak-clever"


class LazyGroup(click.Group):
    """A group whose subcommands live in other modules and load only when called."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, _, attr = self._lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; anything it lets escape becomes one line and exit code 1."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:  # the command line's boundary: words on the terminal, the rest in the log
            settings = ctx.meta.get(SETTINGS_KEY)
            log.info("keycloak-clever %s failed", ctx.invoked_subcommand, exc_info=True)
            where = ctx.meta.get(LOG_KEY)
            raise click.ClickException(
                explain(exc, settings) + (f" (details: {where})" if where else "")
            ) from exc


SETTINGS_KEY = "keycloak_clever.settings"
LOG_KEY = "keycloak_clever.log_file"


def installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


LAZY_COMMANDS = {
    "sandbox": "sandbox.cli:sandbox",
    "demo": "plugin.commands.demo:demo",
    "broker": "plugin.commands.broker_cli:broker",
    "sync": "plugin.commands.sync_cli:sync",
    "status": "plugin.commands.sync_cli:status",
    "setup": "plugin.sso.setup:setup",
}


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS)
@click.version_option(
    installed_version(), "--version", prog_name=DISTRIBUTION, message="%(prog)s %(version)s"
)
def cli() -> None:
    """keycloak-clever: Clever SSO and rostering for a Keycloak realm."""


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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="keycloak-clever")
