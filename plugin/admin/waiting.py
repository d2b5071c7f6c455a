"""The page's waiting list as an admin acts on it: each waiting person as the admin knows them, each
account listed for them with its username, name, where it comes from and why it is listed, and the
rules that confirm possible matches in bulk.

Names are read here, for the page only: accounts from Keycloak (``ACCOUNTS_READ`` at most per page
view), people from what the sync kept of the people it lists (``plugin.sync.resolutions.people``).
The waiting list itself (``plugin.runs.standing``) and the reports hold Clever and Keycloak ids only.
Nothing is chosen for the admin: a person's choices start unselected (``resolutions.CREATE`` is one
of them), and a choice the admin already made is shown beside them, not preselected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from keycloak.exceptions import KeycloakError

from plugin.admin.decisions import HELD
from plugin.admin.services import Services
from plugin.sync import resolutions

SHOWN = 200  # people shown per kind (the rest: ``keycloak-clever status --json``)
ACCOUNTS_READ = 120


def account_details(svc: Services, keycloak_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Keycloak id -> ``{"username", "name", "dn"}`` of the accounts the page names."""
    found: dict[str, dict[str, str]] = {}
    admin = svc.keycloak()
    for keycloak_id in list(dict.fromkeys(keycloak_ids))[:ACCOUNTS_READ]:
        try:
            user = admin.get_user(keycloak_id)
        except KeycloakError:
            found[keycloak_id] = {"username": f"{keycloak_id} (gone)", "name": "", "dn": ""}
            continue
        attributes = user.get("attributes") or {}
        found[keycloak_id] = {
            "username": str(user.get("username") or keycloak_id),
            "name": " ".join(p for p in (user.get("firstName"), user.get("lastName")) if p),
            "dn": str((attributes.get("LDAP_ENTRY_DN") or [""])[0]),
        }
    return found


def labels(details: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Keycloak id -> "username (First Last)", for the lists that name one account per row."""
    return {k: d["username"] + (f" ({d['name']})" if d["name"] else "") for k, d in details.items()}


def _listed(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The accounts listed for a waiting person (a report made before ``listed``: the offered ones)."""
    listed = item.get("listed")
    if listed is not None:
        return list(listed)
    return [{"keycloak_id": k, "why": "", "linkable": True} for k in item.get("candidates", [])]


def _came_from(candidate: Mapping[str, Any], dn: str) -> str:
    source = str(candidate.get("source", "local"))
    if source == "ldap":
        return f"LDAP {dn or candidate.get('base', '')}".strip()
    if source == "local":
        return "local account"
    return f"identity provider {source}"


def held_rows(
    svc: Services, waiting: Iterable[Mapping[str, Any]], chosen: Mapping[str, str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, str]]]:
    """The people an admin answers with a choice, by kind (``decisions.HELD``), each with their
    candidates as the page shows them; and the details of every account named (for ``labels``)."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for item in waiting:
        if item.get("kind") in HELD:
            by_kind.setdefault(str(item["kind"]), []).append(item)
    shown = [item for items in by_kind.values() for item in items[:SHOWN]]
    people = resolutions.people(svc.redis, svc.realm, [str(i["clever_id"]) for i in shown])
    named = [str(c["keycloak_id"]) for i in shown for c in _listed(i)]
    named += [str(i["keycloak_id"]) for i in waiting if i.get("keycloak_id")]
    details = account_details(svc, named)
    rows: dict[str, list[dict[str, Any]]] = {}
    for kind in HELD:
        for item in by_kind.get(kind, [])[:SHOWN]:
            clever_id = str(item["clever_id"])
            candidates = []
            for listed in _listed(item):
                keycloak_id = str(listed["keycloak_id"])
                account = details.get(keycloak_id, {"username": keycloak_id, "name": "", "dn": ""})
                candidates.append(
                    {
                        **account,
                        "keycloak_id": keycloak_id,
                        "from": _came_from(listed, account["dn"]),
                        "why": str(listed.get("why", "")),
                        "linkable": bool(listed.get("linkable", True)),
                        "holds": list(listed.get("holds") or []),
                    }
                )
            reason = str(item.get("reason", ""))
            for keycloak_id, account in details.items():  # the page names accounts by username
                reason = reason.replace(keycloak_id, account["username"])
            rows.setdefault(kind, []).append(
                {
                    "clever_id": clever_id,
                    "kind": kind,
                    "reason": reason,
                    "action": item.get("action", ""),
                    "person": people.get(clever_id, {}),
                    "chosen": chosen.get(clever_id, ""),
                    "candidates": candidates,
                    "run_id": item.get("run_id", ""),
                }
            )
    return rows, details


def rule_rows(
    waiting: Iterable[Mapping[str, Any]], rows: Mapping[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The bulk-confirmation rules of the waiting possible matches, each with the pairs it confirms
    as the admin knows them ("Jess Datos → jdatos")."""
    shown = {row["clever_id"]: row for row in rows.get("possible-match", [])}
    made = []
    for rule in resolutions.rules(waiting):
        pairs = []
        for clever_id, keycloak_id in rule.members:
            row = shown.get(clever_id, {})
            person = (row.get("person") or {}).get("name") or clever_id
            named = [c["username"] for c in row.get("candidates", []) if c["keycloak_id"] == keycloak_id]
            pairs.append((person, named[0] if named else keycloak_id))
        made.append({"key": rule.key, "words": rule.words, "reasons": rule.reasons, "pairs": pairs})
    return made
