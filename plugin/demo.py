"""``keycloak-clever demo``: the whole flow on the sandbox district, on the local services."""

from __future__ import annotations

import click


@click.command()
def demo() -> None:
    """Set up the demo realm on the running services and print where to look."""
