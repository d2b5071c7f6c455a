"""The clever-sync server extension, when the realm's Keycloak has it: new accounts in batches.

``probe`` asks ``GET admin/realms/{realm}/clever-sync`` (``keycloak-extension/README.md``): a 404 means
the extension is not installed, and the sidecar writes through the admin REST API alone, as it always
could. With it, ``KeycloakDirectory.apply`` sends the plan's new people as ``create_user`` operations,
``BATCH`` to a request and one transaction per batch (each person with attributes, group paths and
the Clever link, as the REST path's ``POST /users``), ``PARALLEL`` batches at a time; and the new
groups of each level of the ``/Clever`` tree as ``create_group`` operations under their parent's id
(``create_groups``), a role group with its ``clever-*`` realm role (which the caller made first); and
the plan's membership adds and removes of accounts it owns (``memberships``).

The probe also says which path the extension takes for new accounts on this Keycloak (``rows``, its
fast path, only on the Keycloak versions it was verified on, or ``model``, Keycloak's model API) and
why; each batch answers how its new accounts went, and whether rows failed and the model path took
over (a fallback). ``NewAccounts`` adds those up for the run report.

An item the extension answers with an error (an address it refuses, a username an account the sync
does not own has, ...) is written again through the REST path, which has its own answers for each
case (the account without the address, the conflict reconciled or reported in words): both paths
end in the same Keycloak state and the same report. A batch that fails as a whole (the extension
gone, a 5xx after the retries) falls back to the REST path for all of its people.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.keycloak_http import KeycloakHttp
from connectors.pooling import bounded_map
from model.base import RecordError, SyncError
from model.ownership import OWNER_MARK
from model.state import CREATED_MARK, IDP_ALIAS, REALM_ROLE_ATTRIBUTE, GroupSpec, Membership, UserSpec

PROBE = "clever-sync"
BATCH_PATH = "clever-sync/batch"
BATCH = 500  # people per request (the extension takes up to 1000)
PARALLEL = 4  # requests at a time
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Created:
    """One person the extension wrote: the account's Keycloak id, and whether it refused the address."""

    clever_id: str
    keycloak_id: str = ""
    email_refused: bool = False


@dataclass(frozen=True, slots=True)
class Probe:
    """The extension as the realm's Keycloak has it: its version, Keycloak's, and the new accounts' path."""

    version: str
    keycloak: str = ""
    path: str = ""  # "rows" or "model" (older extensions say nothing)
    reason: str = ""
    reads: tuple[str, ...] = ()  # what it reads: "links", "state", "scope" (``connectors.keycloak_rows``)


@dataclass
class NewAccounts:
    """How the extension wrote a run's new accounts, added up over its batches (thread-safe)."""

    rows: int = 0  # accounts written as rows
    batches: int = 0
    fallbacks: int = 0  # batches whose rows failed and were applied again through the model API
    reasons: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, answer: Mapping[str, Any]) -> None:
        """Count one batch answer's ``newAccounts``."""
        accounts = answer.get("newAccounts") or {}
        with self._lock:
            self.batches += 1
            self.rows += int(accounts.get("rows") or 0)
            self.fallbacks += int(bool(accounts.get("fallback")))
            if accounts.get("path") == "model" and accounts.get("reason"):
                self.reasons.add(str(accounts["reason"]))


def probe(http: KeycloakHttp) -> Probe | None:
    """The extension of the realm's Keycloak, or None when it has none (or one without ``create_user``)."""
    try:
        response = http.call("GET", PROBE, ok=(403, 404))
    except SyncError:
        return None
    if response.status_code != 200:
        return None
    answer = response.json()
    if answer.get("extension") != "clever-sync" or "create_user" not in answer.get("operations", ()):
        return None
    accounts = answer.get("newAccounts") or {}
    return Probe(
        str(answer.get("version", "")),
        str(answer.get("keycloak", "")),
        str(accounts.get("path", "")),
        str(accounts.get("reason", "")),
        tuple(str(read) for read in answer.get("reads") or ()),
    )


def writer(bulk: bool | None, extension: Probe | None, accounts: NewAccounts) -> dict[str, Any]:
    """How a run wrote to Keycloak, for its report: the REST API alone, or the extension, with its
    new accounts' path and why (rows only on the Keycloak versions it was verified on), the accounts
    it wrote as rows, and the batches whose rows failed and went through the model API instead."""
    if extension is None:
        if bulk is None:
            return {}  # never asked: the run had nothing to create
        return {"path": "rest", "reason": "the clever-sync extension is off or not installed"}
    return {
        "path": "extension",
        "extension": extension.version,
        "keycloak": extension.keycloak,
        "new_accounts": extension.path,
        "reason": extension.reason,
        "rows": accounts.rows,
        "batches": accounts.batches,
        "fallbacks": accounts.fallbacks,
        "model_reasons": sorted(accounts.reasons),
    }


def create_users(
    http: KeycloakHttp,
    specs: Sequence[UserSpec],
    groups_of: Callable[[UserSpec], list[str]],
    tick: Callable[[int], None],
    created_at: str,
    tally: NewAccounts | None = None,
) -> dict[str, Created]:
    """Create ``specs`` through the extension; Clever id -> answer of each person it wrote. The
    others are the REST path's to write (it ticks them). ``tally`` counts how they were written.

    Each carries the created mark ``created_at`` (``model.state.CREATED_MARK``). The extension
    merges a ``create_user`` into an account the person already owns (one the plan did not see: a
    link an admin kept during the run) and the mark with it; retention trusts a mark only on an
    account Keycloak says was created at or after it (``plugin.sync.retention.created_by_sync``)."""
    note = tally.note if tally else None
    written = _send(
        http, _batches(specs), lambda spec: _create_user(spec, groups_of(spec), created_at), tick, note
    )
    return {
        spec.clever_id: Created(spec.clever_id, str(result["id"]), bool(result.get("emailRefused")))
        for spec, result in written
    }


def _batches(specs: Sequence[UserSpec]) -> list[list[UserSpec]]:
    """Batches of about ``BATCH`` people, people who share an address in the same one.

    The extension checks an address against the realm as it was when the batch began and against
    the batch's own people: two batches in flight cannot see each other's, and the second to commit
    would fail on the address (and be written again, more slowly, through Keycloak's model API).
    Kept together, the first of them gets the address and the others are told it is taken, as on
    the REST path. A group larger than a batch (a placeholder address) is split; it still ends right.
    """
    together: dict[str, list[UserSpec]] = {}
    for spec in specs:
        together.setdefault(spec.email.lower() if spec.email else "\0" + spec.clever_id, []).append(spec)
    batches: list[list[UserSpec]] = []
    batch: list[UserSpec] = []
    for group in together.values():
        for start in range(0, len(group), BATCH):
            part = group[start : start + BATCH]
            if batch and len(batch) + len(part) > BATCH:
                batches.append(batch)
                batch = []
            batch.extend(part)
    if batch:
        batches.append(batch)
    return batches


def create_groups(
    http: KeycloakHttp, groups: Sequence[tuple[GroupSpec, str]], tick: Callable[[int], None]
) -> dict[str, str]:
    """Create ``groups`` (each with its parent's Keycloak id) through the extension; returns the
    group key -> Keycloak id of those it wrote (made, or an unkeyed sibling of that name adopted).
    The others are the REST path's to write, with its own answers."""
    written = _send(http, _cut(groups), lambda group: _create_group(*group), tick)
    return {spec.key: str(result["id"]) for (spec, _), result in written}


def memberships(
    http: KeycloakHttp, items: Sequence[tuple[Membership, str, str]], add: bool, tick: Callable[[int], None]
) -> set[int]:
    """Add (or remove) each ``(membership, user id, group id)`` through the extension; returns the
    indexes of ``items`` it wrote (or found already so). The extension refuses an account the sync
    does not own (no ``clever_id``, no ``clever`` link): those, and anything else it did not write,
    are the REST path's."""
    kind = "add_member" if add else "remove_member"

    def operation(index: int) -> dict[str, Any]:
        return {"op": kind, "userId": items[index][1], "groupId": items[index][2]}

    return {index for index, _ in _send(http, _cut(range(len(items))), operation, tick)}


def _cut(items: Sequence[T]) -> list[list[T]]:
    return [list(items[i : i + BATCH]) for i in range(0, len(items), BATCH)]


def _send(
    http: KeycloakHttp,
    batches: list[list[T]],
    operation: Callable[[T], dict[str, Any]],
    tick: Callable[[int], None],
    note: Callable[[Mapping[str, Any]], None] | None = None,
) -> list[tuple[T, Mapping[str, Any]]]:
    """Each batch's operations in one request, ``PARALLEL`` at once; ``(item, result)`` of every
    item the extension wrote or found already so. A batch lost as a whole (the extension gone, a 5xx
    after the retries) writes none of its items: they are all the REST path's."""

    def send(batch: list[T]) -> list[tuple[T, Mapping[str, Any]]]:
        try:
            response = http.call("POST", BATCH_PATH, {"operations": [operation(item) for item in batch]})
        except (RecordError, SyncError):
            return []
        answer = response.json()
        if note:
            note(answer)
        results = {result["index"]: result for result in answer["results"]}
        written = [(item, results[n]) for n, item in enumerate(batch) if _written(results.get(n))]
        tick(len(written))
        return written

    done: list[tuple[T, Mapping[str, Any]]] = []
    for written in bounded_map(send, batches, PARALLEL if len(batches) > 1 else 1):
        done.extend(written)
    return done


def _written(result: Mapping[str, Any] | None) -> bool:
    return bool(result and result.get("status") in ("created", "updated", "unchanged") and result.get("id"))


def _create_user(spec: UserSpec, groups: list[str], created_at: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "op": "create_user",
        "ref": spec.clever_id,
        "username": spec.username,
        "firstName": spec.first_name,
        "lastName": spec.last_name,
        "enabled": True,
        "attributes": {
            **{name: list(values) for name, values in spec.attributes.items()},
            CREATED_MARK: [created_at],
        },
        "groups": groups,
        "link": {"alias": IDP_ALIAS, "userId": spec.clever_id, "userName": OWNER_MARK + spec.clever_id},
    }
    if spec.email:
        operation["email"] = spec.email
    return operation


def _create_group(spec: GroupSpec, parent_id: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "op": "create_group",
        "ref": spec.key,
        "name": spec.name,
        "parentId": parent_id,
        "attributes": {name: list(values) for name, values in spec.attributes.items() if values},
    }
    role = spec.attributes.get(REALM_ROLE_ATTRIBUTE, ())
    if role:
        operation["realmRoles"] = [role[0]]
    return operation
