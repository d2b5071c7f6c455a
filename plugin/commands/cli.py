"""The ``keycloak-clever`` command: one entry point, subcommands filled in by their owners.

``sandbox`` is loaded lazily from the ``sandbox`` package so that production commands never
import the stand-in Clever.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from connectors.base import ConfigError
from plugin.config.settings import Settings


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


LAZY_COMMANDS = {
    "sandbox": "sandbox.cli:sandbox",
    "demo": "plugin.commands.demo:demo",
    "broker": "plugin.commands.broker_cli:broker",
    "sync": "plugin.commands.sync_cli:sync",
    "status": "plugin.commands.sync_cli:status",
    "setup": "plugin.sso.setup:setup",
}


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS)
def cli() -> None:
    """keycloak-clever: Clever SSO and rostering for a Keycloak realm."""


def load_settings() -> Settings:
    """Settings from the environment, or a clean exit naming every problem."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="keycloak-clever")
