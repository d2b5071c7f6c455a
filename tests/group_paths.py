"""Keycloak paths of the groups the sync makes (``mappers.layout``'s tree), for tests that look a
group up by path (``GET /group-by-path{path}``, URL-quoted: ``quote(path, safe="/")``).

The sync itself builds paths from the desired groups (``connectors.keycloak.group_path``); these
name them from a school's and a class's names::

    class_path("Lincoln", "Math 7")   # "/Clever/Lincoln/Classes/Math 7"
"""

from __future__ import annotations

from mappers.classes import group_name_safe
from mappers.layout import CLASSES_GROUP, ROLE_GROUPS, ROOT_GROUP
from model.records import Role


def group_path(*names: str) -> str:
    """The Keycloak path of nested group names, each cleaned: ``/Clever/<a>/<b>``."""
    return "/" + "/".join(group_name_safe(n) for n in names)


def root_path() -> str:
    """``/Clever``: the parent of every school group."""
    return group_path(ROOT_GROUP)


def school_path(school_name: str) -> str:
    """``/Clever/<School>``."""
    return group_path(ROOT_GROUP, school_name)


def role_group(role: Role) -> str:
    """The role group's name under a school ("Students", ...); ``ValueError`` for district admins."""
    try:
        return ROLE_GROUPS[role]
    except KeyError:
        raise ValueError(f"no school group for role {role.value!r}") from None


def role_path(school_name: str, role: Role) -> str:
    """``/Clever/<School>/Students`` (or Teachers, Staff, Parents)."""
    return group_path(ROOT_GROUP, school_name, role_group(role))


def classes_path(school_name: str) -> str:
    """``/Clever/<School>/Classes``."""
    return group_path(ROOT_GROUP, school_name, CLASSES_GROUP)


def class_path(school_name: str, class_name: str) -> str:
    """``/Clever/<School>/Classes/<class>``."""
    return group_path(ROOT_GROUP, school_name, CLASSES_GROUP, class_name)
