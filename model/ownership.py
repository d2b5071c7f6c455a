"""Who owns an account: the one rule every part reads (``../DESIGN.md`` "Who owns an account").

An account belongs to a Clever person if and only if it carries the *owned link*: the ``clever``
federated identity link whose ``userId`` is the person's Clever id and whose ``userName`` is
``OWNER_MARK`` + that id. Nothing else is evidence: not the ``clever_id`` attribute (data the sync
writes; a login used to write it too), not a ``clever`` link without the mark (made by a user, an
opt-out, or Keycloak's first-login flow before our step), not the sync's memory in Redis (a cache).

Why the link's ``userName``:

* it lives in Keycloak, so it is backed up with the realm and survives a lost Redis;
* Keycloak accepts links on READ_ONLY directory accounts, which refuse every attribute;
* it is written in the same call as the link (REST ``POST users/{id}/federated-identity/clever``,
  ``POST users`` with ``federatedIdentities``, the extension's ``addFederatedIdentity``), so a run
  that dies half-way leaves no link without its record;
* Keycloak rewrites a link's ``userName`` only at a login through a provider in sync mode FORCE
  (``IdentityBrokerService.updateFederatedIdentity``): the Clever provider is IMPORT, and the
  extension's guard refuses logins while it is not (``plugin.sso.broker``);
* a link a user makes for themselves carries what Clever's id token says (its email or ``sub``),
  never the mark.

The same rule is written once in Java (``keycloak-extension``: ``Ownership.ownerOf``); both are run
on the cases in ``tests/ownership_cases.json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

IDP_ALIAS = "clever"
OWNER_MARK = "clever-sync:"
# On the ``/Clever`` root group: this realm's links are ownership records (``plugin.sso.links``).
ROOT_MARK = "clever_ownership"
ROOT_MARK_VERSION = "1"
_CLEVER_ID = re.compile(r"\S+")  # Clever ids are 24 hex digits; anything without white space is taken


def owner_of(alias: str, user_id: str, user_name: str | None) -> str:
    """The Clever id that owns an account through this link, or "" (not an owned link)."""
    if alias != IDP_ALIAS or not _CLEVER_ID.fullmatch(user_id or ""):
        return ""
    return user_id if user_name == OWNER_MARK + user_id else ""


def owner_of_link(link: Mapping[str, Any]) -> str:
    """``owner_of`` for a link as Keycloak's admin API shows it
    (``{"identityProvider", "userId", "userName"}``)."""
    return owner_of(
        str(link.get("identityProvider") or ""), str(link.get("userId") or ""), link.get("userName")
    )


def owned_link(clever_id: str) -> dict[str, str]:
    """The owned link of ``clever_id`` as the admin API takes it."""
    return {"identityProvider": IDP_ALIAS, "userId": clever_id, "userName": OWNER_MARK + clever_id}
