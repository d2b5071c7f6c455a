"""LDAP through ldap3: the school and class groups as ``groupOfNames`` under ``settings.ldap.groups_dn``.

Layout (mirrors Keycloak's tree, so class names only need to be unique inside a school)::

    cn=<School>,<groups_dn>                      members: the school's people
    cn=<class>,cn=<School>,<groups_dn>           members: students and teachers; owner: teachers

Each group carries its sync key (``school:<id>`` / ``section:<id>``) in ``businessCategory``, so a
rename in Clever renames the entry (``modify_dn``) instead of making a new one. Members are the DNs
of directory people the roster maps to (a name match with an LDAP-federated account, or an account
Keycloak federates from LDAP: its ``LDAP_ENTRY_DN``); people without an LDAP entry are not listed.

``groupOfNames`` requires at least one ``member``: every group also lists ``groups_dn`` itself as
a placeholder member, so a class stays valid when empty. Consumers should ignore that value.

Which groups the roster wants is policy (``mappers.ldap_layout``), the difference is the plan
stage's (``plugin.sync.plan_ldap``); this module reads and writes.

Settings: ``settings.ldap`` (url, bind DN and password, groups_dn). Example::

    directory = LdapDirectory(settings.ldap)
    current = directory.current()
    failures = directory.apply(plan)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE, Connection, Server
from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError
from ldap3.utils.conv import escape_filter_chars

from model.base import ConfigError, RecordError, SyncError, TransientError
from model.config import LdapSettings
from model.state import LdapGroup, LdapPlan
from model.text import dn_parent, rdn_of

KEY_ATTRIBUTE = "businessCategory"
# Result codes that mean "already as wanted": entryAlreadyExists, attributeOrValueExists, noSuchAttribute.
ALREADY = {68, 20, 16}


@dataclass(slots=True)
class LdapCounts:
    writes: int = 0
    reads: int = 0
    failures: list[RecordError] = field(default_factory=list)
    # What the writes did, as the report counts it (groups_created, members_added, ...): what a run
    # that stopped midway had written.
    done: Counter[str] = field(default_factory=Counter)


def _shared(found: frozenset[str], seen: dict[frozenset[str], frozenset[str]]) -> frozenset[str]:
    """One object per distinct member or owner set. Memory: a frozenset is 216 bytes even empty
    or with one DN, and most groups hold only the placeholder member and no owner (15,764 groups
    at 50,000 students: two sets each, about 7 MB, in the wanted and in the read state alike)."""
    return seen.setdefault(found, found)


class LdapDirectory:
    """The groups OU as the sync sees it: read the ``groupOfNames`` entries, apply an ``LdapPlan``."""

    name = "ldap"

    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings
        self.counts = LdapCounts()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        conn: Connection | None = None
        try:
            conn = Connection(
                Server(self.settings.url, connect_timeout=10),
                user=self.settings.bind_dn,
                password=self.settings.bind_password,
                receive_timeout=30,
            )
            if not conn.bind():
                raise ConfigError(
                    f"LDAP bind as {self.settings.bind_dn} failed: {conn.result['description']}",
                    system="ldap",
                )
        except LDAPSocketOpenError as exc:
            _close(conn)  # ldap3 keeps the socket of a connection that failed to open
            raise TransientError(
                f"LDAP is not reachable at {self.settings.url} ({type(exc).__name__}): check KCC_LDAP_URL "
                "and that the directory runs",
                system="ldap",
            ) from exc
        except LDAPException as exc:
            raise TransientError(f"LDAP error: {exc}", system="ldap") from exc
        try:
            yield conn
        finally:
            conn.unbind()

    def reachable(self) -> bool:
        """Whether the directory takes a bind now (asked when a run failed: ``plugin.sync.failures``)."""
        try:
            with self._connection():
                return True
        except SyncError:
            return False

    def current(self, only: set[str] | None = None) -> dict[str, LdapGroup]:
        """Groups under ``groups_dn`` that carry a sync key (only those keyed ``only`` when given)."""
        found: dict[str, LdapGroup] = {}
        seen: dict[frozenset[str], frozenset[str]] = {}
        if only is not None and not only:
            return found
        search = "(objectClass=groupOfNames)"
        if only is not None:
            wanted = "".join(f"({KEY_ATTRIBUTE}={escape_filter_chars(key)})" for key in sorted(only))
            search = f"(&{search}(|{wanted}))"
        with self._connection() as conn:
            self.counts.reads += 1
            entries = conn.extend.standard.paged_search(
                self.settings.groups_dn,
                search,
                SUBTREE,
                attributes=["member", "owner", KEY_ATTRIBUTE],
                paged_size=500,
                generator=True,
            )
            for entry in entries:
                if entry.get("type") != "searchResEntry":
                    continue
                attributes = entry["attributes"]
                keys = attributes.get(KEY_ATTRIBUTE) or []
                if not keys:
                    continue
                found[keys[0]] = LdapGroup(
                    keys[0],
                    entry["dn"],
                    _shared(frozenset(attributes.get("member") or ()), seen),
                    _shared(frozenset(attributes.get("owner") or ()), seen),
                )
        return found

    def apply(self, plan: LdapPlan) -> list[RecordError]:
        """Write the plan; renames first so later changes address the new DNs."""
        failures: list[RecordError] = []
        if plan.empty:
            return failures
        done = self.counts.done
        with self._connection() as conn:
            for old, new in plan.rename:
                if self._write(
                    conn,
                    failures,
                    old,
                    conn.modify_dn,
                    old,
                    rdn_of(new),
                    new_superior=dn_parent(new),
                    taken_is_done=False,  # another group holds the new DN: not this one renamed
                ):
                    done["groups_renamed"] += 1
            for group in plan.create:
                attributes: dict[str, object] = {
                    "cn": group.name,
                    "member": sorted(group.members),
                    KEY_ATTRIBUTE: group.key,
                }
                if group.owners:
                    attributes["owner"] = sorted(group.owners)
                if self._write(
                    conn, failures, group.dn, conn.add, group.dn, ["groupOfNames", "top"], attributes
                ):
                    done["groups_created"] += 1
            for dn, members in plan.add_members:
                if self._write(
                    conn, failures, dn, conn.modify, dn, {"member": [(MODIFY_ADD, list(members))]}
                ):
                    done["members_added"] += len(members)
            for dn, members in plan.remove_members:
                if self._write(
                    conn, failures, dn, conn.modify, dn, {"member": [(MODIFY_DELETE, list(members))]}
                ):
                    done["members_removed"] += len(members)
            for dn, owners in plan.set_owners:
                self._write(conn, failures, dn, conn.modify, dn, {"owner": [(MODIFY_REPLACE, list(owners))]})
        self.counts.failures.extend(failures)
        return failures

    def _write(
        self,
        conn: Connection,
        failures: list[RecordError],
        dn: str,
        operation: object,
        *args: object,
        taken_is_done: bool = True,
        **kwargs: object,
    ) -> bool:
        """The one choke point for LDAP writes: result codes become successes (True) or RecordErrors;
        an entry or value already there is the write done (``ALREADY``), but for a rename
        (``taken_is_done`` False) whose new DN another entry holds."""
        self.counts.writes += 1
        try:
            ok = operation(*args, **kwargs)  # type: ignore[operator]
        except LDAPSocketOpenError as exc:
            _close(conn)  # ldap3 keeps the socket of a connection that failed to open
            raise TransientError("LDAP connection lost", system="ldap") from exc
        except LDAPException as exc:
            failures.append(RecordError(f"LDAP refused {dn}: {exc}", kind="ldap", clever_id=dn))
            return False
        done = ALREADY if taken_is_done else ALREADY - {68}
        if ok or conn.result.get("result") in done:
            return True
        code = conn.result.get("result")
        if code in (51, 52, 80):  # busy, unavailable, other
            raise TransientError(f"LDAP answered {conn.result.get('description')} for {dn}", system="ldap")
        failures.append(
            RecordError(
                f"LDAP refused {dn}: {conn.result.get('description')} {conn.result.get('message')}",
                kind="ldap",
                clever_id=dn,
            )
        )
        return False


def _close(conn: Connection | None) -> None:
    sock = getattr(conn, "socket", None) if conn is not None else None
    if sock is not None:
        with suppress(OSError):
            sock.close()
