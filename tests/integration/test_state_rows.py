"""The full read through the clever-sync extension's rows equals the admin REST API's read.

``connectors.keycloak_read.read_state`` reads the realm through the extension's
``clever-sync/state`` rows when Keycloak has the jar, through ``GET users``, the group tree and one
member listing per group when not. The planner diffs what it reads, so both must give the same
``KeycloakState``: here on a realm after a real sync (people, classes, a person in two schools), with
a READ_ONLY LDAP federation (a directory account the sync took over by name, one it left alone), an
account nobody owns, an account whose ``clever`` link owns nothing, and an attribute the User Profile
does not declare, read with and without the realm letting admins see such attributes.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import Connection

from connectors import keycloak, keycloak_rows
from connectors.keycloak import KeycloakDirectory, admin_client, write_owned_link
from connectors.keycloak_http import READ_POST
from connectors.keycloak_people import ldap_providers
from connectors.keycloak_read import KeycloakState, owners, read_links, read_state
from connectors.keycloak_rows import RowsMissing, every_row, read_rows_of, read_tree_rows
from connectors.keycloak_scope import Asked
from plugin.config.settings import Settings
from plugin.sync.current_scoped import _by_calls, _by_rows
from plugin.sync.pipeline import run_sync
from tests.conftest import LdapOu
from tests.factories import make_school, make_section, make_staff, make_student, make_teacher
from tests.idp import register_idp
from tests.integration.test_link_candidates import account, federate_subtree
from tests.sync_roster import MemoryRoster, MemorySource

pytestmark = pytest.mark.integration

SCHOOL, ANNEX = "5f00000000000000000000a1", "5f00000000000000000000a2"
LATE = "5f00000000000000000000b7"  # a person whose account is deleted while a run reads


def _realm_after_a_sync(
    settings: Settings, admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> dict[str, str]:
    for uid, cn, sn in (("pkim", "Pat Kim", "Kim"), ("lmoss", "Lee Moss", "Moss")):
        assert ldap_conn.add(f"uid={uid},{ldap_ou.people_dn}", ["inetOrgPerson"], {"cn": cn, "sn": sn})
    register_idp(admin)
    federate_subtree(admin, settings, ldap_ou.people_dn)
    unowned = account(admin, "aking", "Ada", "King")
    suspicious = account(admin, "self.linked", "Sam", "Self")
    admin.add_user_social_login(suspicious, "clever", "5f00000000000000000000ff", "sam@clever")
    teacher = make_teacher("Maeve", "Obi", school=SCHOOL)
    staff = make_staff("Pat", "Kim", school=SCHOOL)  # takes the directory account pkim by name
    students = [make_student("Jess", f"Datos{n}", school=SCHOOL) for n in range(4)]
    both = make_student("Rio", "Two", schools=(SCHOOL, ANNEX))
    sections = [
        make_section(
            "Math 7", school=SCHOOL, teachers=[teacher.clever_id], students=[s.clever_id for s in students]
        ),
        make_section("Art", school=ANNEX, students=[both.clever_id]),
        make_section("Empty", school=SCHOOL, teachers=[teacher.clever_id]),
    ]
    roster = MemoryRoster(
        [make_school("Lincoln", clever_id=SCHOOL), make_school("Annex", clever_id=ANNEX)],
        [teacher, staff, both, *students],
        sections,
    )
    report = run_sync(settings, source=MemorySource(roster), district_id="d1")
    assert report.status == "ok", report.summary()
    return {"unowned": unowned, "suspicious": suspicious, "staff": staff.clever_id, "both": both.clever_id}


def _both_reads(settings: Settings) -> tuple[KeycloakState, KeycloakState, int]:
    directory = KeycloakDirectory(admin_client(settings.keycloak))
    rest = read_state(directory.http, "Clever", extension=False)
    before = directory.http.calls["GET"]
    rows = read_state(directory.http, "Clever", extension=True)
    return rest, rows, directory.http.calls["GET"] - before


def _same(rest: KeycloakState, rows: KeycloakState) -> None:
    assert rows.root_id == rest.root_id
    assert rows.directory.groups == rest.directory.groups
    assert rows.directory.members == rest.directory.members
    assert rows.directory.users == rest.directory.users
    assert rows.accounts == rest.accounts
    assert rows.usernames == rest.usernames
    assert rows.suspicious == rest.suspicious


def test_the_rows_read_gives_the_state_the_rest_read_gives(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    made = _realm_after_a_sync(settings, keycloak_admin, ldap_conn, ldap_ou)
    directory = KeycloakDirectory(admin_client(settings.keycloak))
    assert read_tree_rows(directory.http, "Clever") is not None  # the jar has the endpoint

    rest, rows, calls = _both_reads(settings)

    _same(rest, rows)
    # Not vacuous: the realm holds what the read must get right.
    users, accounts = rest.directory.users, {a.username: a for a in rest.accounts}
    staff = users[made["staff"]]
    assert (
        staff.read_only
        and staff.ldap_dn.startswith("uid=pkim,")
        and (staff.first_name, staff.last_name)
        == (
            "Pat",
            "Kim",
        )
    )
    assert len(users[made["both"]].attributes["clever_school_ids"]) == 2
    assert accounts["lmoss"].source == "ldap" and accounts["lmoss"].read_only and accounts["lmoss"].ldap_dn
    assert accounts["lmoss"].first_name == "Lee"  # Keycloak's cn mapper undone (``person_names``)
    assert "aking" in accounts and rest.suspicious == {made["suspicious"]: "5f00000000000000000000ff"}
    assert any(key.startswith("section:") for key in rest.directory.groups)
    assert any(not members for members in rest.directory.members.values())  # an empty class
    # A few pages, where REST lists a page per group: the tree, the members, links, providers, users.
    assert calls <= 8, calls


@pytest.fixture
def synced(settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu) -> None:
    """The realm after a sync (``_realm_after_a_sync``)."""
    _realm_after_a_sync(settings, keycloak_admin, ldap_conn, ldap_ou)


@pytest.mark.usefixtures("synced")
def test_many_member_lists_are_read_as_rows_and_equal_the_listings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = KeycloakDirectory(admin_client(settings.keycloak))
    groups = read_state(directory.http, "Clever", extension=False).directory.groups
    some = {key for key in groups if key.startswith("section:")}
    listed = directory.members(groups, some)  # a few: one listing each
    assert directory.reads_rows()  # the probe says the jar serves the rows
    before = directory.http.calls["GET"]
    monkeypatch.setattr(keycloak, "MEMBER_ROWS_FROM", 1)

    assert directory.members(groups, some) == listed
    assert directory.http.calls["GET"] - before == 1


@pytest.mark.usefixtures("synced")
def test_the_rows_read_a_few_rows_a_page_gives_the_same_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of two rows: the users' and the members' pages start after the last row's keys (keyset
    paging), the groups' at an offset; nothing is lost or read twice at a page's edge."""
    _, _, whole_pages = _both_reads(settings)
    for page in ("USERS_PAGE", "GROUPS_PAGE", "MEMBERS_PAGE"):
        monkeypatch.setattr(keycloak_rows, page, 2)

    rest, rows, paged = _both_reads(settings)

    _same(rest, rows)
    # Not vacuous: about 10 accounts, 15 groups and 20 memberships, two a page.
    assert paged >= whole_pages + 15, (paged, whole_pages)
    http = KeycloakDirectory(admin_client(settings.keycloak)).http
    members = http.get("clever-sync/state/members", root="Clever", max="2")
    assert set(members["next"]) == {"afterGroup", "afterUser"}  # keyset: after the page's last row
    assert members["next"]["afterGroup"] == members["members"][-1][0]
    assert set(http.get("clever-sync/state/users", max="2")["next"]) == {"after"}


def _scope_of_a_class(settings: Settings, admin: KeycloakAdmin) -> tuple[KeycloakDirectory, Asked]:
    """An incremental run's question on the synced realm: three people decided (a student in two
    schools, the staff member on a directory account, one whose account is gone), Math 7's whole
    member list (it also holds an account nobody owns) and the accounts of the people it lists."""
    directory = KeycloakDirectory(admin_client(settings.keycloak))
    tree = read_tree_rows(directory.http, "Clever")
    assert tree is not None
    math = next(group for group in tree[0].values() if group.name.startswith("Math 7"))
    admin.group_user_add(admin.get_user_id("aking"), math.keycloak_id)  # made by the sync's fixture
    gone = account(admin, "gone.soon", "Gus", "Gone")
    write_owned_link(admin, gone, LATE)
    owned, _ = owners(read_links(directory.http, extension=True))
    admin.delete_user(gone)  # after the links were read: asked for, no longer there
    account_of = {clever_id: keycloak_id for keycloak_id, clever_id in owned.items()}
    people = [m["id"] for m in admin.get_group_members(math.keycloak_id) if m["id"] in owned]
    decided = {owned[i]: i for i in people[:1]} | {LATE: gone}
    decided |= {c: account_of[c] for c in account_of if c not in {owned[i] for i in people}}  # both, staff
    listed = {owned[i]: i for i in people}
    return directory, Asked(decided=decided, lists=frozenset({math.key}), owner_of=owned, listed=listed)


@pytest.mark.usefixtures("synced")
def test_the_rows_of_a_scope_give_what_its_calls_give(
    settings: Settings, keycloak_admin: KeycloakAdmin
) -> None:
    """An incremental run reads its part of the realm as the extension's rows of just those accounts
    and classes (``POST state/scope``), or without the jar a call at a time: the same answer, in
    two requests (the tree, the scope) where the calls make two a person and one a class."""
    directory, asked = _scope_of_a_class(settings, keycloak_admin)
    providers = ldap_providers(directory.http)
    schools = {
        group.key.removeprefix("school:")
        for group in read_state(directory.http, "Clever", extension=True).directory.groups.values()
        if group.key.startswith("school:")
    }
    calls = _by_calls(directory, asked, providers, schools)
    before = sum(directory.http.calls.values())

    rows = _by_rows(directory, asked, providers)

    assert sum(directory.http.calls.values()) - before == 2
    assert (rows.users, rows.members, rows.lists) == (calls.users, calls.members, calls.lists)
    # The accounts read besides (the class's people): the calls also keep the decided ones there.
    assert {**rows.context, **rows.users} == {**calls.context, **calls.users}
    assert rows.root_id == calls.root_id
    assert {key: rows.groups[key] for key in calls.groups} == calls.groups
    # Not vacuous: what the rows had to get right.
    assert LATE not in rows.users and len(rows.users) == len(asked.decided) - 1
    assert any(user.read_only and user.ldap_dn for user in rows.users.values())  # the directory account
    (members,) = rows.lists.values()
    assert len(members) == len(asked.listed) + 1  # the class's people and the account nobody owns
    assert rows.context and sum(len(ids) for ids in rows.members.values()) >= len(rows.users)


@pytest.mark.usefixtures("synced")
def test_a_scope_asked_a_few_ids_a_request_gives_the_same_rows(
    settings: Settings, keycloak_admin: KeycloakAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, asked = _scope_of_a_class(settings, keycloak_admin)
    users = {*asked.decided.values(), *asked.listed.values()}
    whole = read_rows_of(directory.http, "Clever", users, asked.lists)
    monkeypatch.setattr(keycloak_rows, "SCOPE_IDS", 2)
    before = directory.http.calls[READ_POST]

    paged = read_rows_of(directory.http, "Clever", users, asked.lists)

    assert directory.http.calls[READ_POST] - before == math.ceil((len(users) + 1) / 2) >= 3
    assert directory.http.writes == 0  # a question in a POST's body, not a write
    assert paged.members == whole.members and paged.members
    assert sorted(paged.users) == sorted(whole.users) and whole.users


def test_a_scope_of_another_shape_is_refused_with_what_is_wrong(settings: Settings) -> None:
    http = KeycloakDirectory(admin_client(settings.keycloak)).http
    for body, error in (
        ({"users": "u1"}, "users: must be a list of ids"),
        ({"users": ["u1", 7]}, "users[1]: must be an id (a string of 1 to 255 characters)"),
        ({"people": []}, "people: unknown field"),
    ):
        response = http.call("POST", "clever-sync/state/scope", body, ok=(400,), root="Clever")
        assert (response.status_code, response.json()) == (400, {"error": error})
    empty = http.call("POST", "clever-sync/state/scope", {}, root="Clever").json()
    assert empty == {"members": [], "users": []}


def test_a_rows_endpoint_the_jar_does_not_answer_stops_the_read(settings: Settings) -> None:
    """Once the jar answered its tree, a rows endpoint it does not answer (a jar of another
    version) stops the read with what to do: it is never read as an empty realm."""
    http = KeycloakDirectory(admin_client(settings.keycloak)).http
    with pytest.raises(RowsMissing, match="did not answer clever-sync/state/nothing"):
        every_row(http, "nothing", 10)


def _set_profile(admin: KeycloakAdmin, policy: str | None) -> None:
    profile = admin.get_realm_users_profile()
    profile.pop("unmanagedAttributePolicy", None)
    admin.update_realm_users_profile({**profile, **({"unmanagedAttributePolicy": policy} if policy else {})})


def test_attributes_the_user_profile_hides_stay_hidden_and_shown_ones_shown(
    settings: Settings, keycloak_admin: KeycloakAdmin, ldap_conn: Connection, ldap_ou: LdapOu
) -> None:
    made = _realm_after_a_sync(settings, keycloak_admin, ldap_conn, ldap_ou)
    _set_profile(keycloak_admin, "ADMIN_EDIT")  # only then does Keycloak store an undeclared attribute
    rest, _, _ = _both_reads(settings)
    synced = rest.directory.users[made["both"]].keycloak_id
    rep: dict[str, Any] = keycloak_admin.get_user(synced)
    keycloak_admin.update_user(synced, {"attributes": {**rep["attributes"], "locker": ["12"]}})

    for policy in (None, "ADMIN_VIEW"):
        _set_profile(keycloak_admin, policy)

        rest, rows, _ = _both_reads(settings)

        _same(rest, rows)
        assert ("locker" in rest.directory.users[made["both"]].attributes) == (policy is not None), policy
