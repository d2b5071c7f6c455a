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

Settings: ``settings.ldap`` (url, bind DN and password, groups_dn). Example::

    directory = LdapDirectory(settings.ldap)
    plan = directory.plan(desired_groups(desired, settings.ldap.groups_dn))
    failures = directory.apply(plan)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, SUBTREE, Connection, Server
from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError
from ldap3.utils.conv import escape_filter_chars

from connectors.base import ConfigError, RecordError, SyncError, TransientError
from connectors.config import LdapSettings
from connectors.state import DesiredState
from connectors.text import ldap_rdn

KEY_ATTRIBUTE = "businessCategory"
# Result codes that mean "already as wanted": entryAlreadyExists, attributeOrValueExists, noSuchAttribute.
ALREADY = {68, 20, 16}


@dataclass(frozen=True, slots=True)
class LdapGroup:
    key: str
    dn: str
    members: frozenset[str]
    owners: frozenset[str] = frozenset()
    name: str = ""


@dataclass(frozen=True, slots=True)
class LdapPlan:
    create: tuple[LdapGroup, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()  # (old dn, new dn)
    add_members: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (group dn after renames, member dns)
    remove_members: tuple[tuple[str, tuple[str, ...]], ...] = ()
    set_owners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    placeholder: str = ""  # the member every group lists so it is never empty (``groups_dn``)

    def people_added(self, failed: frozenset[str] = frozenset()) -> int:
        """Member values naming people that the plan writes: into new groups and existing ones
        (groups whose DN is in ``failed`` were refused: not counted)."""
        added = sum(len(m) for dn, m in self.add_members if dn not in failed)
        return added + sum(len(g.members - {self.placeholder}) for g in self.create if g.dn not in failed)

    def people_removed(self, failed: frozenset[str] = frozenset()) -> int:
        return sum(len(m) for dn, m in self.remove_members if dn not in failed)

    @property
    def empty(self) -> bool:
        return not (self.create or self.rename or self.add_members or self.remove_members or self.set_owners)

    def size(self) -> int:
        return (
            len(self.create)
            + len(self.rename)
            + len(self.add_members)
            + len(self.remove_members)
            + len(self.set_owners)
        )


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


def desired_groups(desired: DesiredState, groups_dn: str) -> dict[str, LdapGroup]:
    """The LDAP groups the desired Keycloak state calls for, with members that have a directory DN."""
    seen: dict[frozenset[str], frozenset[str]] = {}
    school_members: dict[str, set[str]] = {}
    class_members: dict[str, set[str]] = {}
    for user in desired.users.values():
        if not user.ldap_dn:
            continue
        for key in user.groups:
            if key.startswith("section:"):
                class_members.setdefault(key, set()).add(user.ldap_dn)
            elif key.startswith("school:"):
                school_members.setdefault(key.rsplit(":", 1)[0], set()).add(user.ldap_dn)
    dn_of = {u.clever_id: u.ldap_dn for u in desired.users.values() if u.ldap_dn}
    wanted: dict[str, LdapGroup] = {}
    for key, spec in desired.groups.items():
        if spec.kind == "school":
            dn = f"{ldap_rdn(spec.name)},{groups_dn}"
            members = _shared(frozenset({groups_dn, *school_members.get(key, ())}), seen)
            wanted[key] = LdapGroup(key, dn, members, _shared(frozenset(), seen), name=spec.name)
    for key, spec in desired.groups.items():
        if spec.kind == "class" and spec.parent:
            school = wanted.get(spec.parent.rsplit(":", 1)[0])
            if school is None:
                continue
            owners = frozenset(dn_of[t] for t in spec.attributes.get("clever_teachers", ()) if t in dn_of)
            owners = _shared(owners, seen)
            members = _shared(frozenset({groups_dn, *class_members.get(key, ())}), seen)
            wanted[key] = LdapGroup(key, f"{ldap_rdn(spec.name)},{school.dn}", members, owners, spec.name)
    return wanted


def diff_groups(
    wanted: Mapping[str, LdapGroup], current: Mapping[str, LdapGroup], groups_dn: str
) -> LdapPlan:
    """Only the difference: new groups, renamed ones, member and owner changes (pure)."""
    create: list[LdapGroup] = []
    rename: list[tuple[str, str]] = []
    adds: list[tuple[str, tuple[str, ...]]] = []
    removes: list[tuple[str, tuple[str, ...]]] = []
    owners: list[tuple[str, tuple[str, ...]]] = []
    for key in sorted(wanted, key=lambda k: (not k.startswith("school:"), k)):
        group = wanted[key]
        have = current.get(key)
        if have is None:
            create.append(group)
            continue
        if (
            have.dn != group.dn
            and _norm(have.dn) != _norm(group.dn)
            and not _moved_with_parent(have.dn, group.dn, rename)
        ):
            rename.append((have.dn, group.dn))
        if added := sorted(group.members - have.members):
            adds.append((group.dn, tuple(added)))
        if removed := sorted(have.members - group.members):
            removes.append((group.dn, tuple(removed)))
        if group.owners != have.owners:
            owners.append((group.dn, tuple(sorted(group.owners))))
    for key in sorted(set(current) - set(wanted)):
        have = current[key]  # a section gone from Clever (or out of scope): emptied, kept
        if removed := sorted(have.members - {groups_dn}):
            removes.append((have.dn, tuple(removed)))
        if have.owners:
            owners.append((have.dn, ()))
    return LdapPlan(tuple(create), tuple(rename), tuple(adds), tuple(removes), tuple(owners), groups_dn)


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

    def plan(self, wanted: Mapping[str, LdapGroup]) -> LdapPlan:
        return diff_groups(wanted, self.current(), self.settings.groups_dn)

    def apply(self, plan: LdapPlan) -> list[RecordError]:
        """Write the plan; renames first so later changes address the new DNs."""
        failures: list[RecordError] = []
        if plan.empty:
            return failures
        done = self.counts.done
        with self._connection() as conn:
            for old, new in plan.rename:
                if self._write(
                    conn, failures, old, conn.modify_dn, old, _rdn_of(new), new_superior=_parent(new)
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
        **kwargs: object,
    ) -> bool:
        """The one choke point for LDAP writes: result codes become successes (True) or RecordErrors."""
        self.counts.writes += 1
        try:
            ok = operation(*args, **kwargs)  # type: ignore[operator]
        except LDAPSocketOpenError as exc:
            _close(conn)  # ldap3 keeps the socket of a connection that failed to open
            raise TransientError("LDAP connection lost", system="ldap") from exc
        except LDAPException as exc:
            failures.append(RecordError(f"LDAP refused {dn}: {exc}", kind="ldap", clever_id=dn))
            return False
        if ok or conn.result.get("result") in ALREADY:
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


def _norm(dn: str) -> str:
    """A DN for comparison: attribute names lower-cased, values unescaped (``\\,`` and ``\\2C`` alike)."""
    parts = []
    for rdn in _split(dn):
        attr, _, value = rdn.partition("=")
        parts.append(f"{attr.strip().lower()}={_unescape(value)}")
    return ",".join(parts)


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    raw = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 2 < len(value) + 1:
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                raw.append(int(pair, 16))
                i += 3
                continue
            raw.extend(value[i + 1].encode())
            i += 2
            continue
        raw.extend(char.encode())
        i += 1
    return raw.decode("utf-8", "replace")


def _moved_with_parent(old: str, new: str, renames: list[tuple[str, str]]) -> bool:
    """A class whose school is renamed moves with it: no rename of its own."""
    old_parent, new_parent = _parent(old), _parent(new)
    return _rdn_of(old) == _rdn_of(new) and any(
        _norm(o) == _norm(old_parent) and _norm(n) == _norm(new_parent) for o, n in renames
    )


def _split(dn: str) -> list[str]:
    if "\\" not in dn:
        return dn.split(",")
    parts: list[str] = []
    current = ""
    escaped = False
    for char in dn:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _rdn_of(dn: str) -> str:
    return _split(dn)[0]


def _parent(dn: str) -> str:
    return ",".join(_split(dn)[1:])
