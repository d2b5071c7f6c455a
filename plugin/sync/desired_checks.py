"""Records of the roster that refer to what the district's roster does not hold (issue 17, point 4).

Clever (or a partial export) can send a person whose schools are none of the district's, and a
section whose teacher is no user of the roster. Neither is lost in silence, and nothing Clever
did not send is written:

* a person in no school of the district gets no account, is skipped with the school id and the
  sections they are left out of, and waits on the page (an account they already have is kept:
  they are still in Clever);
* a class group's ``clever_teachers`` lists only people of the roster; each unknown one is named
  in the report's skipped records (``plugin.sync.desired._dangling``).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import replace

from connectors.base import RecordError
from connectors.records import User
from connectors.state import GroupSpec


def schoolless(user: User, sections: Iterable[str], person: str = "") -> RecordError:
    """A person whose schools are none of the district's (not shared with the app, or a bad id)."""
    where = (
        f"school {', '.join(user.schools)} is not in the district" if user.schools else "Clever sends none"
    )
    classes = sorted({key.removeprefix("section:") for key in sections})
    left_out = f"; left out of section {', '.join(classes)}" if classes else ""
    return RecordError(
        f"in no school of the district's roster ({where}){left_out}",
        kind="users",
        clever_id=user.clever_id,
        person=person,
    )


def known_teachers(groups: dict[str, GroupSpec], known: Set[str]) -> None:
    """A class lists as teachers only people Clever sent (``plugin.sync.desired._dangling`` names others)."""
    for key, group in groups.items():
        teachers = group.attributes.get("clever_teachers")
        if teachers and any(t not in known for t in teachers):
            attributes = {**group.attributes, "clever_teachers": tuple(t for t in teachers if t in known)}
            groups[key] = replace(group, attributes=attributes)
