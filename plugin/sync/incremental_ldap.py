"""The LDAP side of an incremental run: the school and class ``groupOfNames`` its events touch.

A class group lists the DNs of its people (from the accounts read, else from ``plugin.sync.applied``);
a school group keeps its members, except the people whose schools changed, who join or leave it.
Only the difference is written (``connectors.ldap.diff_groups``).
"""

from __future__ import annotations

from typing import Any

from connectors.ldap import LdapGroup, diff_groups
from connectors.records import Section
from connectors.state import CurrentUser, GroupSpec
from connectors.text import ldap_rdn
from plugin.sync.events import people_of, people_of_key
from plugin.sync.incremental_reads import IncrementalReads


def ldap_plan(
    run: IncrementalReads,
    school_specs: dict[str, GroupSpec],
    section_specs: dict[str, GroupSpec],
    users: Any,
    current_users: dict[str, CurrentUser],
) -> Any:
    groups_dn = run.settings.ldap.groups_dn
    dns = {cid: u.ldap_dn for cid, u in current_users.items() if u.ldap_dn}
    movers = {cid: dn for cid, dn in dns.items()}  # people with a DN whose schools may change
    keys = set(school_specs) | {
        f"section:{e.record.clever_id}" for e in run.changes.sections.values() if e.record
    }
    school_keys = {f"school:{s}" for s in run.schools} if movers else set()
    for spec in section_specs.values():
        school_keys.add(spec.parent.rsplit(":", 1)[0] if spec.parent else "")
    keys |= school_keys
    current = run.ldap.current(keys)
    dns.update(
        run.applied.dns(
            {
                m
                for e in run.changes.sections.values()
                if isinstance(e.record, Section)
                for m in people_of(e.record)
            }
        )
    )
    wanted: dict[str, LdapGroup] = {}
    run._prefetch(school_keys | set(school_specs))
    for key in sorted(school_keys | set(school_specs)):
        have = current.get(key)
        group = run._group(key)
        name = school_specs[key].name if key in school_specs else group.name if group else ""
        if not name or have is None:
            continue
        kept = set(have.members)
        for cid, dn in movers.items():
            spec = users.get(cid)
            inside = spec is not None and any(g.startswith(key + ":") for g in spec.groups)
            (kept.add if inside else kept.discard)(dn)
        wanted[key] = LdapGroup(key, f"{ldap_rdn(name)},{groups_dn}", frozenset(kept), name=name)
    for key, spec in section_specs.items():
        school = wanted.get((spec.parent or "").rsplit(":", 1)[0])
        if school is None:
            continue
        people = spec.attributes.get("clever_teachers", ()) + tuple(people_of_key(run.changes, key))
        members = frozenset({groups_dn, *(dns[p] for p in people if p in dns)})
        owners = frozenset(dns[t] for t in spec.attributes.get("clever_teachers", ()) if t in dns)
        wanted[key] = LdapGroup(key, f"{ldap_rdn(spec.name)},{school.dn}", members, owners, spec.name)
    for key in keys:  # sections gone: in current, not wanted → emptied by diff_groups
        if key not in wanted and key in current and not key.startswith("section:"):
            wanted[key] = current[key]
    return diff_groups(wanted, {k: v for k, v in current.items() if k in keys}, groups_dn)
