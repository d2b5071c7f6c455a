"""What a run's snapshot covers, and so what its diff may decide (``plugin.sync.plan.diff``).

A full run reads every record: its scope is ``EVERYTHING`` and the diff decides every account,
group and membership. An incremental run reads the records Clever's events touch plus what mapping
them needs (``plugin.sync.snapshot_events``); its scope names what those records decide:

* ``people``: Clever ids whose account (names, attributes, enabled) and *every* membership are
  decided: the people the events name, and with Sync Parent Data the parents or children their
  change reaches;
* ``names``: group keys whose existence and name are decided (the schools and their role groups
  always; a class when its name cannot depend on a class the snapshot does not hold);
* ``attributes``: group keys whose attributes are decided (a class the events touch: its teachers
  were read);
* ``member_lists``: group keys whose whole member list is decided (a class the events touch: its
  people were read).

Anything else keeps what it has: the diff never disables, unlinks or removes members outside its
scope, so an incremental run of a few events cannot undo what it did not read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    """What a snapshot covers (module doc); ``everything`` for a full run."""

    everything: bool = True
    people: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    attributes: frozenset[str] = frozenset()
    member_lists: frozenset[str] = frozenset()

    def person(self, clever_id: str) -> bool:
        """Whether the run decides this person's account and all of their memberships."""
        return self.everything or clever_id in self.people

    def named(self, key: str) -> bool:
        """Whether the run decides whether this group exists, and its name."""
        return self.everything or key in self.names

    def attributed(self, key: str) -> bool:
        """Whether the run decides this group's attributes."""
        return self.everything or key in self.attributes

    def members_of(self, key: str) -> bool:
        """Whether the run decides the whole member list of this group."""
        return self.everything or key in self.member_lists

    def membership(self, key: str, clever_id: str) -> bool:
        """Whether the run decides if this person belongs in this group."""
        return self.members_of(key) or self.person(clever_id)


EVERYTHING = Scope()
