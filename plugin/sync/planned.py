"""What the read, map and plan stages of a run hand to the brake, apply and report stages.

A full run (``plugin.sync.full_read``) and an incremental run (``plugin.sync.incremental``) read differently
(the whole roster and realm, or only what Clever's events touch) but end in the same ``Planned``;
``plugin.sync.pipeline`` then brakes, applies and reports it along one path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.keycloak import KeycloakDirectory
from connectors.ldap import LdapDirectory, LdapPlan
from connectors.state import DirectoryState, Plan
from plugin.sync.desired import Mapped


@dataclass
class Planned:
    """One run's plan for Keycloak and LDAP, what it was made from, and how to remember it."""

    plan: Plan
    ldap_plan: LdapPlan
    mapped: Mapped  # the desired state and what the report says about how it was made
    current: DirectoryState  # the directory as read (the plan's other side)
    keycloak: KeycloakDirectory
    ldap: LdapDirectory
    brake: list[str]  # why the brake holds the run ("" reasons: it does not)
    remember: Callable[[set[str]], None]  # after applying (the Clever ids whose writes failed)
    event_cursor: str  # where the next incremental run starts, once this one ends ``ok``
    roster_notes: Any = field(default=None)  # the roster's own warnings and bad records (full runs)
