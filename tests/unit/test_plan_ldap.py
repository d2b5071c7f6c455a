"""The LDAP diff's renames (``plugin.sync.plan_ldap``): written in order, a school's first."""

from model.state import LdapGroup
from plugin.sync.plan_ldap import diff_ldap
from plugin.sync.scope import EVERYTHING

BASE = "ou=groups,dc=example,dc=org"


def _group(key: str, dn: str) -> LdapGroup:
    return LdapGroup(key, dn, frozenset({BASE}))


def test_a_class_renamed_in_a_renamed_school_is_renamed_from_where_the_school_took_it() -> None:
    old_school, new_school = f"cn=Roosevelt,{BASE}", f"cn=Roosevelt Middle,{BASE}"
    current = {
        "school:a": _group("school:a", old_school),
        "section:s1": _group("section:s1", f"cn=Math,{old_school}"),
        "section:s2": _group("section:s2", f"cn=Art,{old_school}"),
    }
    wanted = {
        "school:a": _group("school:a", new_school),
        "section:s1": _group("section:s1", f"cn=Math (0001),{new_school}"),
        "section:s2": _group("section:s2", f"cn=Art,{new_school}"),  # moves with its school
    }
    plan = diff_ldap(wanted, current, BASE, EVERYTHING)
    # The school's rename moved Math under the new name: it is renamed from there (the old DN
    # is gone by then: LDAP refused it with noSuchObject); Art needs no rename of its own.
    assert plan.rename == (
        (old_school, new_school),
        (f"cn=Math,{new_school}", f"cn=Math (0001),{new_school}"),
    )


def test_a_class_taking_the_name_its_sibling_gives_up_is_renamed_after_the_sibling() -> None:
    school = f"cn=Roosevelt,{BASE}"
    current = {
        "section:s1": _group("section:s1", f"cn=Art,{school}"),
        "section:s2": _group("section:s2", f"cn=Math,{school}"),
        "section:s3": _group("section:s3", f"cn=Gym,{school}"),
        "section:s4": _group("section:s4", f"cn=Band,{school}"),
    }
    wanted = {
        "section:s1": _group("section:s1", f"cn=Math,{school}"),  # renamed into a collision:
        "section:s2": _group("section:s2", f"cn=Math (s2),{school}"),  # its sibling steps aside
        "section:s3": _group("section:s3", f"cn=Band,{school}"),  # two swapping names
        "section:s4": _group("section:s4", f"cn=Gym,{school}"),
    }
    plan = diff_ldap(wanted, current, BASE, EVERYTHING)
    assert plan.rename == (
        (f"cn=Math,{school}", f"cn=Math (s2),{school}"),
        (f"cn=Art,{school}", f"cn=Math,{school}"),
        (f"cn=Gym,{school}", f"cn=Gym (renaming),{school}"),
        (f"cn=Band,{school}", f"cn=Gym,{school}"),
        (f"cn=Gym (renaming),{school}", f"cn=Band,{school}"),
    )
