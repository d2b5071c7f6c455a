"""Where Clever lands in LDAP: one ``groupOfNames`` per school and per class, as in Keycloak's tree.

::

    cn=<School>,<groups_dn>                      members: the school's people
    cn=<class>,cn=<School>,<groups_dn>           members: students and teachers; owner: teachers

A group's members are the DNs of the directory people the roster maps to (a name match with an
LDAP-federated account, or an account Keycloak federates from LDAP: its ``LDAP_ENTRY_DN``); people
without an entry are not listed. ``groupOfNames`` requires a ``member``: every group also lists
``groups_dn`` itself as a placeholder, so an emptied class stays valid. Example::

    desired_groups(desired, "ou=groups,dc=example,dc=org")["section:5f...a1"]
    # LdapGroup(key="section:5f...a1", dn="cn=Math 7,cn=Lincoln High,ou=groups,...", members=...)
"""

from __future__ import annotations

from model.state import DesiredState, LdapGroup
from model.text import ldap_rdn


def desired_groups(desired: DesiredState, groups_dn: str) -> dict[str, LdapGroup]:
    """The LDAP groups the desired Keycloak state calls for, with members that have a directory DN."""
    # Memory: one object per distinct member or owner set (most groups hold only the placeholder).
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
            members = frozenset({groups_dn, *school_members.get(key, ())})
            dn = f"{ldap_rdn(spec.name)},{groups_dn}"
            wanted[key] = LdapGroup(key, dn, seen.setdefault(members, members), _none(seen), spec.name)
    for key, spec in desired.groups.items():
        school = wanted.get((spec.parent or "").rsplit(":", 1)[0]) if spec.kind == "class" else None
        if school is None:
            continue
        owners = frozenset(dn_of[t] for t in spec.attributes.get("clever_teachers", ()) if t in dn_of)
        members = frozenset({groups_dn, *class_members.get(key, ())})
        dn = f"{ldap_rdn(spec.name)},{school.dn}"
        shared = seen.setdefault(members, members), seen.setdefault(owners, owners)
        wanted[key] = LdapGroup(key, dn, *shared, spec.name)
    return wanted


def _none(seen: dict[frozenset[str], frozenset[str]]) -> frozenset[str]:
    empty: frozenset[str] = frozenset()
    return seen.setdefault(empty, empty)
