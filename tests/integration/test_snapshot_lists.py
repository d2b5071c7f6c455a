"""An incremental snapshot reads a relation a request at a time, or the district's list of it when
that costs less (``plugin.sync.snapshot_events.listing_cheaper``); both ways give the same records.

Here the students' contacts (Sync Parent Data): ``/users/{id}/mycontacts`` for each student, or
``/users?role=contact`` once (streamed), keeping the contacts whose ``student_relationships`` name
them. The sandbox plays Clever over real HTTP.
"""

from __future__ import annotations

import pytest

from connectors.clever import CleverClient
from plugin.config.settings import Settings
from plugin.sync.snapshot_events import _Reads
from sandbox.state import SandboxState

pytestmark = pytest.mark.integration


def test_the_contacts_of_students_from_the_list_are_those_a_request_each_gives(
    clever_settings: Settings, sandbox_state: SandboxState
) -> None:
    district = sandbox_state.district_id
    students = [s["id"] for s in sandbox_state.people("student")][:25]
    by_request = CleverClient(clever_settings.clever)
    by_list = CleverClient(clever_settings.clever)
    one = _Reads(by_request, district, {"parents": 1_000_000})  # the list would cost more
    other = _Reads(by_list, district, {"parents": 10})  # the list costs less

    asked = one.contacts_of(students)
    listed = other.contacts_of(students)

    assert listed == asked and sum(map(len, asked.values())) >= 5  # not vacuous: they have contacts
    contacts = set().union(*asked.values())
    assert {c: other.users[c] for c in contacts} == {c: one.users[c] for c in contacts}
    assert by_request.requests_made > 25 > by_list.requests_made
    assert set(other.users) == contacts  # only the contacts naming them are kept of the list
