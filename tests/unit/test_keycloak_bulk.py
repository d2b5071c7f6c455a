"""How the extension path cuts new people into batches (``connectors.keycloak_bulk._batches``)."""

from __future__ import annotations

from connectors import keycloak_bulk
from connectors.state import UserSpec


def _person(n: int, email: str = "") -> UserSpec:
    return UserSpec(f"c{n}", "student", f"u{n}", "A", "B", email, {}, ())


def test_people_who_share_an_address_go_in_one_batch() -> None:
    people = [_person(n, f"p{n}@example.org") for n in range(1200)]
    people[3] = _person(3, "Shared@Example.org")
    people[700] = _person(700, "shared@example.org")  # another batch, if cut in order
    people[1100] = _person(1100, "SHARED@example.org")

    batches = keycloak_bulk._batches(people)

    assert sorted(p.clever_id for batch in batches for p in batch) == sorted(p.clever_id for p in people)
    assert all(len(batch) <= keycloak_bulk.BATCH for batch in batches)
    holding = [i for i, batch in enumerate(batches) for p in batch if p.email.lower() == "shared@example.org"]
    assert len(holding) == 3 and len(set(holding)) == 1
    # The first of them in the roster comes first in its batch: it gets the address, as on REST.
    batch = batches[holding[0]]
    assert [p.clever_id for p in batch if p.email.lower() == "shared@example.org"] == ["c3", "c700", "c1100"]


def test_people_without_an_address_are_not_held_together() -> None:
    people = [_person(n) for n in range(1001)]

    batches = keycloak_bulk._batches(people)

    assert [len(batch) for batch in batches] == [500, 500, 1]


def test_a_placeholder_address_larger_than_a_batch_is_split() -> None:
    people = [_person(n, "none@school.org") for n in range(1200)] + [_person(2000, "x@example.org")]

    batches = keycloak_bulk._batches(people)

    assert all(len(batch) <= keycloak_bulk.BATCH for batch in batches)
    assert sum(len(batch) for batch in batches) == 1201
