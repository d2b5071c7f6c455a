"""The ``keycloak-clever`` command: one entry point, subcommands filled in by their owners.

Every subcommand is imported here, so the import layers (``tests/unit/test_layers.py``) see them
all. The stand-in Clever is not one of them: it has a command of its own, ``keycloak-clever-sandbox``
(``sandbox.cli``), and nothing in production imports it. ``keycloak-clever --version`` prints the
installed version.

Errors: a command that fails prints one line, ``Error: <what failed, where, what to check>``, and
exits 1 (``plugin.commands.errors``); the traceback is only in the log file the line names.
``keycloak-clever sync`` has exit codes of its own (``plugin.commands.sync_cli.EXIT_CODES``).
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click

from plugin.commands.broker_cli import broker
from plugin.commands.context import LOG_KEY, SETTINGS_KEY
from plugin.commands.demo import demo
from plugin.commands.errors import explain
from plugin.commands.sync_cli import status, sync
from plugin.sso.setup import setup

log = logging.getLogger(__name__)
DISTRIBUTION = "keycloak-clever"


class CommandGroup(click.Group):
    """The ``keycloak-clever`` group: a failing subcommand ends in one line and exit code 1."""

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


def installed_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


@click.group(cls=CommandGroup)
@click.version_option(
    installed_version(), "--version", prog_name=DISTRIBUTION, message="%(prog)s %(version)s"
)
def cli() -> None:
    """keycloak-clever: Clever SSO and rostering for a Keycloak realm."""


for command in (demo, broker, sync, status, setup):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="keycloak-clever")
