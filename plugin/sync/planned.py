"""What the read, map and plan stages of a run hand to the brake, apply, remember and report stages.

A full run and an incremental run read differently (the whole roster and realm, or what Clever's
events touch: ``plugin.sync.snapshot``), then map and diff alike (``plugin.sync.planner``) and end
in the same ``Planned``; ``plugin.sync.pipeline`` brakes, applies, remembers and reports it along
one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors.keycloak import KeycloakDirectory
from connectors.ldap import LdapDirectory
from model.state import DirectoryState, LdapPlan, Plan
from plugin.sync.current import Current
from plugin.sync.desired import Mapped
from plugin.sync.scope import Scope
from plugin.sync.snapshot import Snapshot


@dataclass
class Planned:
    """One run's plan for Keycloak and LDAP, and what it was made from."""

    plan: Plan
    ldap_plan: LdapPlan
    mapped: Mapped  # the desired state and what the report says about how it was made
    current: DirectoryState  # the directory as read and completed (the plan's other side)
    read: Current  # how the directory was read (what the memory keeps of it: ``plugin.sync.memory``)
    snapshot: Snapshot  # the Clever side: its scope, its event cursor, its notes
    keycloak: KeycloakDirectory
    ldap: LdapDirectory
    brake: list[str]  # why the brake holds the run ("" reasons: it does not)
    started: datetime

    @property
    def scope(self) -> Scope:
        return self.snapshot.scope

    @property
    def event_cursor(self) -> str:
        """Where the next incremental run starts, once this one ends ``ok``."""
        return self.snapshot.event_cursor
