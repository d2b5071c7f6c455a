"""How the extension path cuts new people into batches (``connectors.keycloak_bulk._batches``)."""

from __future__ import annotations

from connectors import keycloak_bulk
from model.state import UserSpec
from plugin.sync.report import writer_line


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


def test_a_run_report_says_how_new_accounts_were_written_and_counts_fallbacks() -> None:
    probe = keycloak_bulk.Probe(
        "0.1.0", "26.7.3", "rows", "Keycloak 26.7.3 is a version the rows path was verified on"
    )
    tally = keycloak_bulk.NewAccounts()
    tally.note({"newAccounts": {"path": "rows", "rows": 500, "fallback": False}})
    tally.note({"newAccounts": {"path": "model", "rows": 0, "fallback": True, "reason": "verified on"}})

    writer = keycloak_bulk.writer(True, probe, tally)

    assert writer["new_accounts"] == "rows" and writer["rows"] == 500
    assert (writer["batches"], writer["fallbacks"]) == (2, 1)
    line = writer_line(writer)
    assert line.startswith("clever-sync 0.1.0 on Keycloak 26.7.3, new accounts as rows: Keycloak 26.7.3 is")
    assert line.endswith("; 1 batch(es) fell back from rows to the model API")
    assert keycloak_bulk.writer(False, None, tally)["path"] == "rest"
    assert keycloak_bulk.writer(None, None, tally) == {}
