"""The ownership rule (``model.ownership``) on the cases the Java rule is tested on too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model.ownership import owned_link, owner_of, owner_of_link

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "ownership_cases.json").read_text())[
    "cases"
]


@pytest.mark.parametrize("case", CASES, ids=[case["why"] for case in CASES])
def test_the_rule_answers_each_case(case: dict[str, Any]) -> None:
    assert owner_of(case["alias"], case["userId"], case["userName"]) == case["owner"]


def test_an_owned_link_as_written_is_owned_as_read() -> None:
    link = owned_link("5f0c1a2b3c4d5e6f7a8b9c0d")

    assert owner_of_link(link) == "5f0c1a2b3c4d5e6f7a8b9c0d"


def test_the_cases_hold_owned_and_unowned_links() -> None:
    assert {bool(case["owner"]) for case in CASES} == {True, False}
