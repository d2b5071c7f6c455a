"""Keycloak's paged listings read several pages at a time, against the real Keycloak."""

from __future__ import annotations

import threading

import pytest
from keycloak import KeycloakAdmin

from connectors.keycloak_http import KeycloakHttp

pytestmark = pytest.mark.integration


def test_pages_read_at_once_hand_on_every_account_once_in_order_converted_where_read(
    keycloak_admin: KeycloakAdmin,
) -> None:
    for n in range(11):
        keycloak_admin.create_user({"username": f"person-{n:02d}", "enabled": True})
    http = KeycloakHttp(keycloak_admin)
    one_by_one = [rep["username"] for rep in http.pages("users", 1000, briefRepresentation="true")]
    assert len(one_by_one) == 11

    threads: set[str] = set()

    def brief(rep: dict[str, object]) -> str:
        threads.add(threading.current_thread().name)
        return str(rep["username"]).upper()

    # A count that is too low (5 of 11) still ends with every account: full pages are followed.
    listed = list(http.pages_at_once("users", 5, 2, 3, brief, briefRepresentation="true"))
    assert listed == [name.upper() for name in one_by_one]
    assert any(name != threading.current_thread().name for name in threads)  # the readers' threads
