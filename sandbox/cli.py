"""``keycloak-clever sandbox ...``: run and change the local Clever."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """The local Clever (Data API, Events, OAuth/OIDC, Badges) for demos and tests."""
