"""Keycloak through its admin REST API: the admin client and ``KeycloakDirectory``.

``KeycloakDirectory`` reads the sync's scope (the ``/Clever`` group tree, its members, the realm's
users) and applies a ``model.state.Plan``. Every HTTP call goes through ``KeycloakHttp.call``
(``connectors.keycloak_http``), the one place where library and HTTP errors become
``TransientError`` / ``RecordError`` / ``ConfigError`` and where calls are counted
(``directory.calls``: reads and writes, for the no-op check).

Settings: ``settings.keycloak`` (url, the service account or an admin user, realm). Example::

    directory = KeycloakDirectory(admin_client(settings.keycloak), workers=4, root_name="Clever")
    state = directory.current()
    failures = directory.apply(plan, desired)

Design notes (Keycloak quirks):

* A new person is one ``POST /users`` carrying attributes, group paths and the federated
  identity link, and the created mark (``model.state.CREATED_MARK``); 409 means it exists
  already and is reconciled, not an error (nothing is written to the account then: no mark).
* ``PUT /users/{id}`` drops editable attributes left out (24.0.4+): always GET, merge, PUT.
* Group children are paged with a default ``max`` of 10: every listing passes ``first``/``max``.
* Users are listed page by page with full representations (attributes) once per run instead of
  ``q=`` attribute searches, which Keycloak cannot index.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakConnectionError, KeycloakError
from requests import Response

from connectors import keycloak_bulk
from connectors.keycloak_account import check_service_account
from connectors.keycloak_http import KeycloakHttp, keycloak_unreachable
from connectors.keycloak_read import read_known, read_members, read_state, read_users
from connectors.keycloak_rows import read_members_rows
from connectors.keycloak_words import in_words
from connectors.pooling import bounded_map
from model.base import ConfigError, RecordError, TransientError
from model.config import KeycloakSettings
from model.ownership import owned_link, owner_of_link
from model.state import (
    CREATED_MARK,
    IDP_ALIAS,
    REALM_ROLE_ATTRIBUTE,
    CurrentGroup,
    CurrentUser,
    DesiredState,
    GroupSpec,
    Membership,
    Plan,
    UserSpec,
    UserUpdate,
)


def admin_client(
    settings: KeycloakSettings, realm: str | None = None, *, check_roles: bool = True
) -> KeycloakAdmin:
    """An admin client for ``realm`` (the configured realm by default): the realm's service account
    (client credentials, its roles checked first: ``connectors.keycloak_account``) when configured,
    else signed in as the admin user."""
    if settings.service_account:
        admin = KeycloakAdmin(
            server_url=settings.url,
            client_id=settings.client_id,
            client_secret_key=settings.client_secret,
            realm_name=realm or settings.realm,
            pool_maxsize=16,
        )
        try:
            admin.connection.get_token()
        except KeycloakConnectionError as exc:
            raise TransientError(keycloak_unreachable(settings.url, exc)) from exc
        except KeycloakError as exc:
            raise ConfigError(
                f"Keycloak refused the service account {settings.client_id} (HTTP {exc.response_code}): "
                "check KCC_KEYCLOAK_CLIENT_ID and KCC_KEYCLOAK_CLIENT_SECRET"
            ) from exc
        if check_roles:
            check_service_account(admin, settings.client_id)
        return admin
    admin = KeycloakAdmin(
        server_url=settings.url,
        username=settings.admin_user,
        password=settings.admin_password,
        realm_name=realm or settings.realm,
        user_realm_name=settings.admin_realm,
        pool_maxsize=16,
    )
    try:
        admin.connection.get_token()  # here, so an unreachable Keycloak is named at once
    except KeycloakConnectionError as exc:
        raise TransientError(keycloak_unreachable(settings.url, exc)) from exc
    except KeycloakError as exc:
        raise ConfigError(
            f"Keycloak refused the admin {settings.admin_user} of realm {settings.admin_realm} "
            f"(HTTP {exc.response_code}): check KCC_KEYCLOAK_ADMIN_USER and KCC_KEYCLOAK_ADMIN_PASSWORD"
        ) from exc
    return admin


class Failure(RecordError):
    """A record the directory could not write (kept in the report; the run goes on)."""


# From this many member lists on, one read of the rows of every membership under the root costs less
# than a listing per group (an estimate: one listing is about as dear as a few thousand rows).
MEMBER_ROWS_FROM = 100
# Membership writes that are worth a batch of the extension (fewer go one REST call each).
BULK_MEMBERSHIPS = 20


GroupWrite = tuple[str, GroupSpec]  # (keycloak id, the group as it is to be)
Tick = Callable[[int], None]


class KeycloakDirectory:
    """The realm as the sync sees it: read the ``/Clever`` scope, apply a plan (idempotent writes)."""

    name = "keycloak"

    def __init__(
        self,
        admin: KeycloakAdmin,
        *,
        workers: int = 4,
        root_name: str = "Clever",
        bulk: bool = True,
        health_url: str = "",
    ) -> None:
        self.admin = admin
        self.http = KeycloakHttp(admin, health_url)
        self.workers = workers
        self.root_name = root_name
        # New accounts through the clever-sync extension when the realm's Keycloak has it
        # (``connectors.keycloak_bulk``); asked once, at the first plan with new people.
        self.bulk: bool | None = None if bulk else False
        self.extension: keycloak_bulk.Probe | None = None  # what the probe answered, when it was asked
        self.new_accounts = keycloak_bulk.NewAccounts()  # how the extension wrote the new people
        self.group_ids: dict[str, str] = {}  # group key -> Keycloak id, filled by current()/apply()
        self.created: dict[str, str] = {}  # Clever id -> Keycloak id of accounts created by apply()
        self.failed_groups: set[str] = set()  # keys of groups a membership write failed on
        self.refused_emails: dict[str, str] = {}  # Clever id -> address Keycloak refused
        self.email_reasons: dict[str, str] = {}  # Clever id -> why, when not "another account holds it"
        # Clever id -> Keycloak id: departed people whose read-only account Keycloak would not disable
        # (their Clever link is taken off instead: a Clever login no longer reaches the account).
        self.undisablable: dict[str, str] = {}
        self._role_ids: dict[str, dict[str, Any]] = {}
        # apply() writes on several threads: this guards the bookkeeping above (KeycloakHttp's own
        # lock guards only its call counts).
        self._lock = threading.Lock()
        self.paths: dict[str, str] = {}  # group key -> Keycloak path, when the desired tree is partial
        # ``id()`` of each plan item written (the plan holds them all run long): ``written``.
        self._done: set[int] = set()
        # The created mark of this directory's new accounts (``model.state.CREATED_MARK``): when
        # the run began to write, so Keycloak's own ``createdTimestamp`` of each is at or after it.
        self.created_at = datetime.now(UTC).isoformat(timespec="seconds")

    @property
    def calls(self) -> Counter[str]:
        return self.http.calls

    def current(self, *, with_accounts: bool = True, with_members: bool = True) -> Any:
        """The scope's state, plus the realm's other accounts (name-match candidates); whose account
        is whose is the ownership rule's answer (``keycloak_read.read_state``)."""
        state = read_state(
            self.http,
            self.root_name,
            workers=self.workers,
            with_accounts=with_accounts,
            with_members=with_members,
            extension=self.uses_extension(),
        )
        self.group_ids = {key: group.keycloak_id for key, group in state.directory.groups.items()}
        return state

    def current_known(self, *, ids: Mapping[str, str], others: set[str], dns: Mapping[str, str]) -> Any:
        """The cheap read (``keycloak_read.read_known``); None when the realm has unknown accounts.
        With the extension's rows (``connectors.keycloak_rows``) the full read is the cheap one:
        attributes and all, a few queries a page, so nothing is left to complete later."""
        if self.reads_rows():
            return self.current(with_members=False)
        state = read_known(
            self.http,
            self.root_name,
            ids=ids,
            others=others,
            dns=dns,
            workers=self.workers,
            extension=self.uses_extension(),
        )
        if state is not None:
            self.group_ids = {key: group.keycloak_id for key, group in state.directory.groups.items()}
        return state

    def users(self, users: list[CurrentUser]) -> dict[str, CurrentUser]:
        """Full state (attributes, link) of a few accounts."""
        return read_users(self.http, users, self.workers)

    def members(self, groups: Mapping[str, CurrentGroup], keys: set[str]) -> dict[str, frozenset[str]]:
        """The member ids of the groups ``keys`` only: many of them (a verify run's) as the
        extension's rows of every membership under the root, a few one listing each."""
        if len(keys) >= MEMBER_ROWS_FROM and self.reads_rows():
            every = read_members_rows(self.http, self.root_name, groups)
            return {key: ids for key, ids in every.items() if key in keys}
        return read_members(self.http, groups, keys, self.workers)

    # -- apply ---------------------------------------------------------------------------------------

    def apply(
        self, plan: Plan, desired: DesiredState, progress: Callable[[int], None] | None = None
    ) -> list[RecordError]:
        """Write the plan; return the records that failed (the run goes on without them)."""
        failures: list[RecordError] = []
        tick = progress or (lambda n: None)
        for level in _levels(plan.create_groups):
            self._create_groups(level, failures, tick)
        self._update_groups(plan.update_groups, failures, tick)
        self._create_users(plan.create_users, desired, failures, tick)
        self._each(plan.update_users, self._update_user, failures, tick)
        self._memberships(plan.add_members, True, failures, tick)
        self._memberships(plan.remove_members, False, failures, tick)
        self._each(plan.disable_users, self._update_user, failures, tick)
        self._each(plan.retire_groups, self._write_group, failures, tick)
        return failures

    def _each(
        self,
        items: tuple[Any, ...] | list[Any],
        write: Callable[[Any], None],
        failures: list[RecordError],
        tick: Callable[[int], None],
    ) -> None:
        def one(item: Any) -> RecordError | None:
            try:
                write(item)
            except RecordError as exc:
                if not exc.clever_id:
                    exc.clever_id = getattr(item, "clever_id", "") or getattr(item, "key", "")
                return exc
            finally:
                tick(1)
            with self._lock:
                self._done.add(id(item))
            return None

        workers = self.workers if len(items) > 1 else 1
        failures.extend(result for result in bounded_map(one, items, workers) if result is not None)

    def written(self, plan: Plan) -> Plan:
        """The part of ``plan`` this directory wrote: what a run that stopped midway reports."""
        done, created = self._done, self.created
        return Plan(
            create_groups=tuple(spec for spec in plan.create_groups if spec.key in self.group_ids),
            update_groups=tuple(item for item in plan.update_groups if id(item) in done),
            create_users=tuple(spec for spec in plan.create_users if spec.clever_id in created),
            update_users=tuple(item for item in plan.update_users if id(item) in done),
            add_members=tuple(item for item in plan.add_members if id(item) in done),
            remove_members=tuple(item for item in plan.remove_members if id(item) in done),
            disable_users=tuple(item for item in plan.disable_users if id(item) in done),
            retire_groups=tuple(item for item in plan.retire_groups if id(item) in done),
        )

    def _bulk(self) -> bool:
        """True when the realm's Keycloak has the extension (asked once, when first needed)."""
        if self.bulk is None:
            self.extension = keycloak_bulk.probe(self.http)
            self.bulk = self.extension is not None
        return self.bulk

    def uses_extension(self) -> bool:
        """True when the sync uses the clever-sync extension (it is there, and not turned off)."""
        return self._bulk()

    def reads_rows(self) -> bool:
        """True when the sync uses the extension and its jar serves the realm's state as rows."""
        return self.uses_extension() and self.extension is not None and "state" in self.extension.reads

    def reads_scope_rows(self) -> bool:
        """True when the jar also serves the rows of given accounts and groups (``state/scope``)."""
        return self.reads_rows() and self.extension is not None and "scope" in self.extension.reads

    def writer(self) -> dict[str, Any]:
        """How this run wrote to Keycloak, for the run report (``keycloak_bulk.writer``)."""
        return keycloak_bulk.writer(self.bulk, self.extension, self.new_accounts)

    def _create_groups(
        self, level: list[GroupSpec], failures: list[RecordError], tick: Callable[[int], None]
    ) -> None:
        """One level of new groups: through the extension when it is there, under their parent's
        id (a role group's realm role made first, once, through REST, so batches running at once
        never both create it); the root and whoever it did not write through REST."""
        parents = self.group_ids
        bulkable = [(spec, parent_id) for spec in level if (parent_id := parents.get(spec.parent or ""))]
        written: dict[str, str] = {}
        if bulkable and self._bulk():
            for name in {_role_of(spec) for spec, _ in bulkable} - {""}:
                self._realm_role(name)
            written = keycloak_bulk.create_groups(self.http, bulkable, tick)
            with self._lock:
                self.group_ids.update(written)
        rest = [spec for spec in level if spec.key not in written]
        self._each(rest, self._create_group, failures, tick)

    def _memberships(
        self,
        items: tuple[Membership, ...],
        add: bool,
        failures: list[RecordError],
        tick: Callable[[int], None],
    ) -> None:
        """Membership adds or removes: in batches through the extension when there are enough to
        be worth a batch (``BULK_MEMBERSHIPS``) and it is there; whatever it did not write, or all of
        them without it, one call each through REST."""
        rest = list(items)
        if len(items) >= BULK_MEMBERSHIPS and self._bulk():
            resolved = [(m, self._member_ids(m)) for m in items]
            known = [(i, m, ids) for i, (m, ids) in enumerate(resolved) if ids]
            done = keycloak_bulk.memberships(self.http, [(m, *ids) for _, m, ids in known], add, tick)
            written = {known[n][0] for n in done}
            with self._lock:
                self._done.update(id(items[i]) for i in written)
            rest = [m for i, m in enumerate(items) if i not in written]
        method = "PUT" if add else "DELETE"
        self._each(rest, lambda m: self._member(method, m), failures, tick)

    def _member_ids(self, membership: Membership) -> tuple[str, str] | None:
        group_id = self.group_ids.get(membership.group)
        user_id = membership.keycloak_id or self.created.get(membership.clever_id, "")
        return (user_id, group_id) if group_id and user_id else None

    def _create_users(
        self,
        specs: tuple[UserSpec, ...],
        desired: DesiredState,
        failures: list[RecordError],
        tick: Callable[[int], None],
    ) -> None:
        """New people: in batches through the extension when it is there; whoever it did not
        write (or every one, without it) through ``POST /users``."""
        rest = list(specs)
        if specs and self._bulk():
            written = keycloak_bulk.create_users(
                self.http,
                specs,
                lambda s: self._group_ids_or_paths(s, desired),
                tick,
                self.created_at,
                self.new_accounts,
            )
            rest = [spec for spec in specs if spec.clever_id not in written]
            with self._lock:
                for spec in specs:
                    if answer := written.get(spec.clever_id):
                        self.created[spec.clever_id] = answer.keycloak_id
                        if answer.email_refused:
                            self.refused_emails[spec.clever_id] = spec.email
        self._each(rest, lambda spec: self._create_user(spec, desired), failures, tick)

    def _group_ids_or_paths(self, spec: UserSpec, desired: DesiredState) -> list[str]:
        """The person's groups for the extension: Keycloak ids when all are known (a lookup in
        Keycloak's cache; a path is looked up a level at a time), else paths."""
        ids = [self.group_ids.get(key, "") for key in spec.groups]
        return sorted(ids) if all(ids) else self._paths(spec, desired)

    def _paths(self, spec: UserSpec, desired: DesiredState) -> list[str]:
        return sorted(self.paths.get(key) or group_path(desired.groups, key) for key in spec.groups)

    def _create_group(self, spec: GroupSpec) -> None:
        body = {"name": spec.name, "attributes": _lists(spec.attributes)}
        parent_id = self.group_ids.get(spec.parent) if spec.parent else None
        if spec.parent and parent_id is None:
            raise RecordError(f"group {spec.key}: parent {spec.parent} is missing", kind="groups")
        path = f"groups/{parent_id}/children" if parent_id else "groups"
        response = self.http.call("POST", path, body, ok=(409,))
        if response.status_code == 409:
            # A group of that name exists where ours belongs (made by hand, or a retried POST): adopt it.
            siblings = self.http.pages(path, search=spec.name, exact="true", briefRepresentation="true")
            found = next((g for g in siblings if g["name"] == spec.name), None)
            if found is None:
                raise RecordError(f"group {spec.key}: name {spec.name!r} is taken", kind="groups")
            self.group_ids[spec.key] = found["id"]
            self.http.call(
                "PUT", f"groups/{found['id']}", {"name": spec.name, "attributes": body["attributes"]}
            )
        else:
            self.group_ids[spec.key] = _location_id(response)
        self._grant_realm_role(self.group_ids[spec.key], spec)

    def _grant_realm_role(self, group_id: str, spec: GroupSpec) -> None:
        """A role group's members get its ``clever-*`` realm role through the group (no per-user call)."""
        name = _role_of(spec)
        if name:
            self.http.call("POST", f"groups/{group_id}/role-mappings/realm", [self._realm_role(name)])

    def _realm_role(self, name: str) -> dict[str, Any]:
        """The realm role ``name`` (made when missing) as a role-mapping body names it."""
        with self._lock:
            role = self._role_ids.get(name)
        if role is None:
            response = self.http.call("GET", f"roles/{quote(name, safe='')}", ok=(404,))
            if response.status_code == 404:
                self.http.call("POST", "roles", {"name": name, "description": "Given by Clever"}, ok=(409,))
                response = self.http.call("GET", f"roles/{quote(name, safe='')}")
            found = response.json()
            role = {"id": found["id"], "name": found["name"]}
            with self._lock:
                self._role_ids[name] = role
        return role

    def _update_groups(
        self, items: tuple[GroupWrite, ...] | list[GroupWrite], failures: list[RecordError], tick: Tick
    ) -> None:
        """Write group updates. A group renamed to the name a sibling gives up in the same plan (two
        namesake classes, and the one with the plain name renamed: the other loses its suffix) is
        refused (409) while the sibling still has it: those are written again once the others are,
        pass after pass while any goes through; what is refused still is a failure."""
        pending = self._update_pass(items, failures, tick)
        while pending:
            refused = self._update_pass(pending, failures, _no_tick)  # each update ticks once
            if len(refused) == len(pending):  # no progress: one last pass says why, as failures
                self._each(refused, self._write_group, failures, _no_tick)
                return
            pending = refused

    def _update_pass(
        self, items: tuple[GroupWrite, ...] | list[GroupWrite], failures: list[RecordError], tick: Tick
    ) -> list[GroupWrite]:
        """One pass of ``_update_groups``: the updates refused for a sibling's name (not written)."""
        refused: list[GroupWrite] = []

        def write(item: GroupWrite) -> None:
            if not self._update_group(*item, taken_ok=True):
                with self._lock:
                    refused.append(item)

        self._each(items, write, failures, tick)
        with self._lock:
            self._done.difference_update(id(item) for item in refused)
        return refused

    def _write_group(self, item: GroupWrite) -> None:
        self._update_group(*item)

    def _update_group(self, keycloak_id: str, spec: GroupSpec, *, taken_ok: bool = False) -> bool:
        """Write one group; False (``taken_ok``) when a sibling has its new name (Keycloak's 409)."""
        body = {"name": spec.name, "attributes": _lists(spec.attributes)}
        parent_id = self.group_ids.get(spec.parent) if spec.parent else None
        if parent_id:
            group = self.http.get(f"groups/{keycloak_id}")
            if group.get("parentId") not in (None, parent_id):
                self.http.call("POST", f"groups/{parent_id}/children", {"id": keycloak_id, "name": spec.name})
        response = self.http.call("PUT", f"groups/{keycloak_id}", body, ok=(409,) if taken_ok else ())
        if response.status_code == 409:
            return False
        self._grant_realm_role(keycloak_id, spec)
        return True

    def _create_user(self, spec: UserSpec, desired: DesiredState) -> None:
        body: dict[str, Any] = {
            "username": spec.username,
            "enabled": True,
            "firstName": spec.first_name,
            "lastName": spec.last_name,
            "attributes": {**_lists(spec.attributes), CREATED_MARK: [self.created_at]},
            "groups": self._paths(spec, desired),
            "federatedIdentities": [owned_link(spec.clever_id)],  # the account and its owner at once
        }
        if spec.email:
            body["email"] = spec.email
        try:
            response = self.http.call("POST", "users", body, ok=(409,))
        except RecordError as exc:
            if "email" not in body or not str(exc).startswith("the email "):
                raise RecordError(
                    f"no account was made: {exc}", kind=spec.kind, clever_id=spec.clever_id
                ) from exc
            # An address Keycloak will not take (Clever's are unverified): the account without it.
            del body["email"]
            with self._lock:
                self.refused_emails[spec.clever_id] = spec.email
                self.email_reasons[spec.clever_id] = "it is not an address the realm accepts"
            try:
                response = self.http.call("POST", "users", body, ok=(409,))
            except RecordError as again:
                raise RecordError(
                    f"no account was made: {again}", kind=spec.kind, clever_id=spec.clever_id
                ) from again
        if response.status_code == 409:
            self.created[spec.clever_id] = self._reconcile_conflict(spec, body, response)
            return
        self.created[spec.clever_id] = _location_id(response)

    def _reconcile_conflict(self, spec: UserSpec, body: dict[str, Any], response: Response) -> str:
        """409 on create: our own earlier (retried) POST, or a taken email; anything else is reported."""
        found = self.http.get("users", username=spec.username, exact="true", briefRepresentation="true")
        for user in found:
            links = self.http.get(f"users/{user['id']}/federated-identity")
            if any(owner_of_link(link) == spec.clever_id for link in links):
                return str(user["id"])
        if "email" in response.text.lower() and "email" in body:
            # Clever emails are unverified and shared (siblings' parents): keep it as an attribute only.
            del body["email"]
            retry = self.http.call("POST", "users", body, ok=(409,))
            if retry.status_code != 409:
                with self._lock:
                    self.refused_emails[spec.clever_id] = spec.email
                return _location_id(retry)
        raise RecordError(
            f"no account was made: {in_words(response.text)} (Keycloak answered 409)",
            kind=spec.kind,
            clever_id=spec.clever_id,
        )

    def _update_user(self, update: UserUpdate) -> None:
        if update.link:
            self._link(update)
        if not update.fields and not update.attributes:
            return
        user = self.http.get(f"users/{update.keycloak_id}", userProfileMetadata="false")
        for name, value in update.fields.items():
            user[name] = value
        attributes: dict[str, list[str]] = user.get("attributes") or {}
        for name, values in update.attributes.items():
            if values:
                attributes[name] = list(values)
            else:
                attributes.pop(name, None)
        user["attributes"] = attributes
        response = self.http.call("PUT", f"users/{update.keycloak_id}", user, ok=(400, 409))
        if response.status_code == 409 and "email" in update.fields:
            # The address belongs to another account: remember it (one warning), write the rest.
            with self._lock:
                self.refused_emails[update.clever_id] = str(update.fields["email"])
            user.pop("email", None)
            response = self.http.call("PUT", f"users/{update.keycloak_id}", user, ok=(400,))
        elif response.status_code == 409:
            raise RecordError(
                f"Keycloak refused the update: {in_words(response.text)}",
                kind=update.kind,
                clever_id=update.clever_id,
            )
        if response.status_code == 400:
            # Read-only LDAP accounts refuse their LDAP-mapped fields: keep the Clever attributes only.
            for name in ("firstName", "lastName", "email"):
                if name in update.fields:
                    user.pop(name, None)
            if not update.read_only:  # a read-only account refuses this mark too
                unwritable = sorted(name for name in update.fields if name != "enabled")
                attributes["clever_unwritable"] = unwritable or ["profile"]
            retry = self.http.call("PUT", f"users/{update.keycloak_id}", user, ok=(400,))
            if retry.status_code == 400 and update.read_only and update.fields.get("enabled") is False:
                self._unlink(update)
                with self._lock:
                    self.undisablable[update.clever_id] = update.keycloak_id
                raise RecordError(
                    f"Keycloak would not disable the read-only directory account: {in_words(retry.text)}",
                    kind=update.kind,
                    clever_id=update.clever_id,
                )
            if retry.status_code == 400:
                raise RecordError(
                    f"account is read-only: {in_words(retry.text)}",
                    kind=update.kind,
                    clever_id=update.clever_id,
                )

    def _link(self, update: UserUpdate) -> None:
        """The owned link: the link and the ownership record in one call (``model.ownership``)."""
        path = f"users/{update.keycloak_id}/federated-identity/{IDP_ALIAS}"
        response = self.http.call("POST", path, owned_link(update.clever_id), ok=(409,))
        if response.status_code == 409:
            links = self.http.get(f"users/{update.keycloak_id}/federated-identity")
            if not any(owner_of_link(link) == update.clever_id for link in links):
                raise RecordError(
                    "the account already has a Clever link the sync did not make",
                    kind=update.kind,
                    clever_id=update.clever_id,
                )

    def _unlink(self, update: UserUpdate) -> None:
        self.http.call("DELETE", f"users/{update.keycloak_id}/federated-identity/{IDP_ALIAS}", ok=(404,))

    def _member(self, method: str, membership: Membership) -> None:
        try:
            ids = self._member_ids(membership)
            if ids is None:
                raise RecordError(f"membership {membership.group}: group or user missing", kind="memberships")
            user_id, group_id = ids
            self.http.call(
                method, f"users/{user_id}/groups/{group_id}", ok=(404,) if method == "DELETE" else ()
            )
        except RecordError:
            with self._lock:
                self.failed_groups.add(membership.group)
            raise


def write_owned_link(admin: KeycloakAdmin, keycloak_id: str, clever_id: str) -> None:
    """An admin's decision: the account's ``clever`` link replaced by the owned link of
    ``clever_id`` (``model.ownership``). Two calls: a failure between them leaves the account
    unlinked, never owned by the wrong person."""
    http = KeycloakHttp(admin)
    path = f"users/{keycloak_id}/federated-identity/{IDP_ALIAS}"
    http.call("DELETE", path, ok=(404,))
    http.call("POST", path, owned_link(clever_id))


def email_warning(directory: KeycloakDirectory, clever_id: str) -> str:
    """The report's words for an address Keycloak refused (one line for many: same words)."""
    why = directory.email_reasons.get(clever_id, "another account holds it")
    return (
        f"{clever_id}: Keycloak refused the email address ({why}): "
        "the account has none; not retried until the address changes in Clever"
    )


def group_path(groups: Mapping[str, GroupSpec], key: str) -> str:
    """The Keycloak path of a group; names come from ``mappers.classes.group_name_safe`` (no ``/``)."""
    parts: list[str] = []
    spec: GroupSpec | None = groups[key]
    while spec is not None:
        parts.append(spec.name)
        spec = groups.get(spec.parent) if spec.parent else None
    return "/" + "/".join(reversed(parts))


def _role_of(spec: GroupSpec) -> str:
    """The ``clever-*`` realm role a role group's members get through it, or ""."""
    wanted = spec.attributes.get(REALM_ROLE_ATTRIBUTE, ())
    return wanted[0] if wanted else ""


def _no_tick(n: int) -> None:
    """Progress already counted."""


def _levels(specs: tuple[GroupSpec, ...]) -> list[list[GroupSpec]]:
    """Groups to create, split so each level's parents exist before it (levels run in parallel)."""
    keys = {spec.key for spec in specs}
    done: set[str] = set()
    levels: list[list[GroupSpec]] = []
    remaining = list(specs)
    while remaining:
        level = [s for s in remaining if s.parent is None or s.parent not in keys or s.parent in done]
        if not level:
            level = remaining
        levels.append(level)
        done.update(s.key for s in level)
        remaining = [s for s in remaining if s.key not in done]
    return levels


def _lists(attributes: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {name: list(values) for name, values in attributes.items() if values}


def _location_id(response: Response) -> str:
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
