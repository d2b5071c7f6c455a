"""``keycloak-clever demo`` finds the checkout's ``var/`` (where ``scripts/services`` writes
``services.env``) from wherever its module sits in ``plugin/``."""

from __future__ import annotations

from pathlib import Path

from plugin.commands import demo

CHECKOUT = Path(__file__).resolve().parents[2]


def test_the_demo_reads_the_services_of_this_checkout() -> None:
    assert demo.ROOT == CHECKOUT
    assert demo.VAR == CHECKOUT / "var"
    assert (demo.ROOT / "scripts" / "services").is_file()
