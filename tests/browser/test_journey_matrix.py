"""The journey matrix (issue 26): every kind of Clever person, through every way into Keycloak, into
every kind of account, one after another in ONE Chromium context, as on a shared classroom device.

Rows: role (student, teacher, staff, district admin, parent with Sync Parent Data on) × entry point
(the login page's "Clever" button, the Clever portal's Instant Login, a Clever Badge: students only)
× account kind (one the sync created; a READ_ONLY LDAP account; a WRITABLE LDAP account; a local
account also linked to another identity provider). Each row signs in, lands on the Account Console
showing the person's own username and name (and Keycloak holds a session of that account, no new
account), signs out the way a shared device does ("Sign out" also signs the browser out of Clever:
``plugin.sso.logout``), and the next row's person starts in the same browser.

One realm, one district, one real sync for the whole module: the sandbox's district (30 students,
its teachers and parents; staff and district admins added to the sandbox, as it generates only one
or two of each with a name nobody else has), two LDAP federations under ``KCC_LDAP_PEOPLE_DN``
(``ou=readonly``: READ_ONLY, ``ou=writable``: WRITABLE, each searched as a subtree), and a second,
real OIDC provider ``district-idp`` (another realm of the same Keycloak: ``tests.idp``) with one
local account per role linked to it. The sync (``run_locked``, as ``test_directory_sign_in``)
creates the accounts of everyone else and links the prepared accounts by name: each prepared
person's name is held by nobody else in the district. After the matrix, in the same browser, each
of those local accounts signs in through ``district-idp`` too, and its sign-out leaves no session
there either.

Decisions so every row is meaningful under deny by default (docs/sync.md, "Who may be linked"):

* Students are matched only to accounts known as student accounts, so the district says where it
  keeps them: ``KCC_MATCH_SCOPES`` ``student=`` the ``ou=students`` below each federation's OU, and
  the Keycloak group ``/Students`` (where the local student account is). Other roles keep no scope:
  their accounts hold nothing beyond the realm's defaults, which is enough.
* ``district-idp`` writes names at every login (sync mode FORCE, as a district's Google Workspace
  would), so the district marks it as running those names (``KCC_ADMIN_RUN_NAME_PROVIDERS``);
  otherwise its accounts would only be possible matches, waiting for an admin.
* Sync Parent Data is on, and each parent has an email and a child in the district (a parent
  without either gets no account).
* A row whose sign-in fails leaves the browser as it was; the next row starts from a browser signed
  out of Keycloak and Clever (cookies cleared), so one failure does not fail the rows after it.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from ldap3 import SUBTREE, Connection, Server
from playwright.sync_api import Browser, Page, expect
from redis import Redis

from connectors.keycloak_ldap import federate_ldap
from model.ownership import OWNER_MARK
from model.state import IDP_ALIAS
from plugin.runs import jobs
from plugin.runs.state import SyncState
from plugin.sso.setup import ensure_service_account
from plugin.sync.run_options import RunOptions
from sandbox.config import SandboxConfig
from tests.browser_fixtures import ARTIFACTS, CleverWorld, wire_clever_world
from tests.conftest import TEST_REDIS_DB, LdapOu, realm_admin, settings_for
from tests.idp import RealmIdp, register_realm_idp

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROLES = {  # the row's name -> the Clever role
    "student": "student",
    "teacher": "teacher",
    "staff": "staff",
    "district_admin": "district_admin",
    "parent": "contact",
}
KINDS = ("created", "ldap_read_only", "ldap_writable", "other_idp")
ENTRIES = ("button", "portal", "badge")
OTHER_IDP = "district-idp"
# People the sandbox gets beyond its generated district: it makes one or two staff and district
# admins, and the matrix needs one per account kind whose name nobody else has.
ADDED = {
    "staff": [("Juniper", "Okafor"), ("Tobias", "Lindqvist"), ("Priya", "Ramanathan"), ("Milo", "Brandt")],
    "district_admin": [
        ("Marcus", "Abernathy"),
        ("Delia", "Fontaine"),
        ("Rafael", "Quintero"),
        ("Ines", "Kowal"),
    ],
}
# Rows that fail today for a known product cause: (entry, role, kind) -> the cause.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}


def _rows() -> list[Any]:
    rows = []
    for entry in ENTRIES:  # entry outermost: consecutive rows are always different people
        for role in ROLES:
            if entry == "badge" and role != "student":
                continue
            for kind in KINDS:
                cause = KNOWN_FAILURES.get((entry, role, kind))
                marks = [pytest.mark.xfail(strict=True, reason=cause)] if cause else []
                rows.append(pytest.param(entry, role, kind, id=f"{entry}-{role}-{kind}", marks=marks))
    return rows


@dataclass
class Prepared:
    """One person of the matrix: their Clever record and the account they should land in."""

    person: dict[str, Any]
    kind: str
    keycloak_id: str = ""  # the prepared account (LDAP or local); for ``created``, what the sync made
    idp_login: tuple[str, str] = ("", "")  # ``other_idp``: username and password at the other provider


@dataclass
class Matrix:
    """The module's one realm and district, and the person of each (role, kind)."""

    world: CleverWorld
    page: Page
    idp: RealmIdp
    people: dict[tuple[str, str], Prepared]
    report: str
    last_username: list[str] = field(default_factory=list)


def full_name(person: dict[str, Any]) -> str:
    """A Clever person's first and last name (a contact's whole name is in ``name.last``)."""
    name = person.get("name") or {}
    return " ".join(part for part in (name.get("first"), name.get("last")) if part)


def split_name(person: dict[str, Any]) -> tuple[str, str]:
    """First and last name for a directory or local account of ``person``."""
    first, _, last = full_name(person).rpartition(" ")
    return first, last


def _add_people(world: CleverWorld) -> None:
    sandbox = world.sandbox
    for role, names in ADDED.items():
        template = sandbox.people(role)[0]
        for index, (first, last) in enumerate(names):
            details = dict(template["roles"][role])
            details.pop("legacy_id", None)
            details["credentials"] = {"district_username": f"{first}.{last}".lower()}
            if "staff_id" in details:
                details["staff_id"] = f"S9{index:03d}"
            sandbox.create(
                "users",
                {
                    "email": f"{first}.{last}@district.example.org".lower(),
                    "name": {"first": first, "middle": "", "last": last},
                    "roles": {role: details},
                },
            )


def _pick_people(world: CleverWorld) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (role, kind) a person whose name nobody else in the district has (plain names first);
    parents with an email."""
    sandbox = world.sandbox
    everyone = [p for role in ROLES.values() for p in sandbox.people(role)]
    counts = Counter(full_name(p).casefold() for p in everyone)
    picked: dict[tuple[str, str], dict[str, Any]] = {}
    for role, clever_role in ROLES.items():
        unique = [
            p
            for p in sandbox.people(clever_role)
            if counts[full_name(p).casefold()] == 1
            and " " in full_name(p)
            and (clever_role != "contact" or p.get("email"))
            and len(p["roles"]) == 1
        ]
        unique.sort(key=lambda p: not re.fullmatch(r"[A-Za-z ]+", full_name(p)))
        assert len(unique) >= len(KINDS), f"the sandbox has too few {role}s with a name of their own"
        for kind, person in zip(KINDS, unique, strict=False):
            picked[(role, kind)] = person
    return picked


def _ldap_entry(conn: Connection, base: str, person: dict[str, Any], uid: str) -> None:
    first, last = split_name(person)
    attributes = {"cn": f"{first} {last}", "sn": last, "givenName": first}
    assert conn.add(f"uid={uid},{base}", ["inetOrgPerson"], attributes), conn.result


def _federate(admin: KeycloakAdmin, world: CleverWorld, users_dn: str, mode: str, name: str) -> None:
    """A federation of ``users_dn`` searched as a subtree (its ``ou=students`` too), all imported."""
    ldap = world.settings.ldap
    component_id = federate_ldap(
        admin, ldap, users_dn=users_dn, mode=mode, name=name, given_name_mapper=True, full_sync=False
    )
    component = admin.get_component(component_id)
    component["config"]["searchScope"] = ["2"]
    admin.update_component(component_id, component)
    admin.sync_users(component_id, "triggerFullSync")


def _other_idp_account(admin: KeycloakAdmin, idp: RealmIdp, prepared: Prepared, role: str) -> None:
    first, last = split_name(prepared.person)
    prepared.keycloak_id = admin.create_user(
        {"username": f"local.{role}", "enabled": True, "firstName": first, "lastName": last}
    )
    username = f"district.{role}".replace("_", "-")
    subject, password = idp.add_person(username, first, last)
    admin.add_user_social_login(prepared.keycloak_id, idp.alias, subject, username)
    prepared.idp_login = (username, password)
    if role == "student":
        [group] = [g for g in admin.get_groups() if g["name"] == "Students"]
        admin.group_user_add(prepared.keycloak_id, group["id"])


def _prepare(
    admin: KeycloakAdmin, conn: Connection, ou: LdapOu, world: CleverWorld, idp: RealmIdp
) -> dict[tuple[str, str], Prepared]:
    admin.create_group({"name": "Students"})
    bases = {"ldap_read_only": f"ou=readonly,{ou.people_dn}", "ldap_writable": f"ou=writable,{ou.people_dn}"}
    for base in bases.values():
        for dn in (base, f"ou=students,{base}"):
            assert conn.add(dn, ["organizationalUnit"]), conn.result
    prepared: dict[tuple[str, str], Prepared] = {}
    for (role, kind), person in _pick_people(world).items():
        prepared[(role, kind)] = Prepared(person, kind)
        if kind in bases:
            where = f"ou=students,{bases[kind]}" if role == "student" else bases[kind]
            _ldap_entry(conn, where, person, f"{kind.removeprefix('ldap_')}.{role}".replace("_", "-"))
        elif kind == "other_idp":
            _other_idp_account(admin, idp, prepared[(role, kind)], role)
    _federate(admin, world, bases["ldap_read_only"], "READ_ONLY", "district-ro")
    _federate(admin, world, bases["ldap_writable"], "WRITABLE", "district-rw")
    for (role, kind), entry in prepared.items():
        if kind in bases:
            username = f"{kind.removeprefix('ldap_')}.{role}".replace("_", "-")
            [account] = admin.get_users({"username": username, "exact": True})
            entry.keycloak_id = account["id"]
    return prepared


def _owned_account(admin: KeycloakAdmin, clever_id: str) -> str:
    """The account carrying ``clever_id``'s owned link, or ""."""
    for account in admin.get_users({"idpAlias": IDP_ALIAS, "idpUserId": clever_id}):
        links = admin.get_user_social_logins(account["id"])
        if any(link["userName"] == OWNER_MARK + clever_id for link in links):
            return str(account["id"])
    return ""


@pytest.fixture(scope="module")
def matrix(
    services_env: dict[str, str], keycloak_master: KeycloakAdmin, chromium: Browser
) -> Iterator[Matrix]:
    """The realm, the directory, the district and one sync, made once; one browser context."""
    realm = f"t-{uuid.uuid4().hex[:12]}"
    for name in (realm, f"{realm}-idp"):
        keycloak_master.create_realm({"realm": name, "enabled": True})
    conn = Connection(
        Server(services_env["LDAP_URL"]),
        user=services_env["LDAP_BIND_DN"],
        password=services_env["LDAP_BIND_PASSWORD"],
        auto_bind=True,
    )
    dn = f"ou=t-{uuid.uuid4().hex[:12]},{services_env['LDAP_BASE_DN']}"
    ou = LdapOu(dn=dn, people_dn=f"ou=people,{dn}", groups_dn=f"ou=groups,{dn}")
    for entry in (ou.dn, ou.people_dn, ou.groups_dn):
        assert conn.add(entry, ["organizationalUnit"]), conn.result
    redis_url = services_env["REDIS_URL"].rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"
    Redis.from_url(redis_url).flushdb()
    context = chromium.new_context(locale="en-US")
    context.set_default_timeout(30_000)
    try:
        admin = realm_admin(services_env, realm)
        idp_admin = realm_admin(services_env, f"{realm}-idp")
        idp = register_realm_idp(admin, idp_admin, services_env["KEYCLOAK_URL"], OTHER_IDP)
        settings = settings_for(services_env, realm, ou, redis_url, ensure_service_account(admin))
        students = f"ou=students,ou=readonly,{ou.people_dn}|ou=students,ou=writable,{ou.people_dn}|/Students"
        options = dataclasses.replace(
            settings.options,
            sync_parent_data=True,
            match_scopes=(("student", tuple(students.split("|"))),),
            admin_run_name_providers=(OTHER_IDP,),
        )
        settings = dataclasses.replace(settings, options=options)
        with wire_clever_world(
            settings, admin, SandboxConfig(size=30, seed=4, login_page_limit=200)
        ) as world:
            _add_people(world)
            people = _prepare(admin, conn, ou, world, idp)
            state = SyncState.from_url(redis_url)
            district = world.settings.clever.district_id
            report = jobs.run_locked(world.settings, state, district, "journeys", RunOptions(full=True))
            for prepared in people.values():
                if prepared.kind == "created":
                    prepared.keycloak_id = _owned_account(admin, prepared.person["id"])
            yield Matrix(world, context.new_page(), idp, people, f"{report.status}: {report.summary()}")
    finally:
        context.close()
        for name in (realm, f"{realm}-idp"):
            keycloak_master.delete_realm(name)
        conn.search(ou.dn, "(objectClass=*)", SUBTREE, attributes=[])
        for entry_dn in sorted((e.entry_dn for e in conn.entries), key=lambda d: -d.count("=")):
            conn.delete(entry_dn)
        conn.unbind()
        Redis.from_url(redis_url).flushdb()


@pytest.fixture
def journey(matrix: Matrix, request: pytest.FixtureRequest) -> Iterator[Matrix]:
    """The shared browser for one row; afterwards, if the row left anyone signed in, a clean slate."""
    yield matrix
    world = matrix.world
    if world.sandbox.sessions or world.sessions_of_realm() or _provider_sessions(matrix):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.callspec.id)
        matrix.page.screenshot(path=str(ARTIFACTS / f"journey-{name}-left-signed-in.png"))
        matrix.page.context.clear_cookies()
        world.sandbox.sign_out()
        for session in world.sessions_of_realm():
            world.admin.user_logout(session["userId"])
        for session in _provider_sessions(matrix):
            matrix.idp.admin.user_logout(session["userId"])


def _provider_sessions(matrix: Matrix) -> list[dict[str, Any]]:
    """Every session at the other provider (its one client's)."""
    admin = matrix.idp.admin
    found: list[dict[str, Any]] = admin.get_client_all_sessions(admin.get_client_id(OTHER_IDP))
    return found


def enter(page: Page, world: CleverWorld, entry: str, person: dict[str, Any]) -> None:
    """Sign ``person`` in through ``entry``: the login page's "Clever", the portal, or a Badge."""
    if entry == "portal":
        page.goto(f"{world.sandbox_url}/portal")
        page.click(f"#instant-login-{person['id']}")
        return
    page.goto(world.account_url)
    page.click("#social-clever")
    page.wait_for_url(f"{world.sandbox_url}/oauth/authorize**")
    if entry == "badge":
        page.fill("#badge_code", world.sandbox.badge_code(person["id"]))
        page.click("#badge-submit")
    else:
        page.click(f"#login-{person['id']}")


@pytest.mark.parametrize(("entry", "role", "kind"), _rows())
def test_the_person_lands_in_their_own_account_and_signs_out_for_the_next(
    journey: Matrix, entry: str, role: str, kind: str
) -> None:
    world, page = journey.world, journey.page
    prepared = journey.people[(role, kind)]
    person = prepared.person
    assert prepared.keycloak_id, f"the sync made or linked no account for this {role}: {journey.report}"
    assert _owned_account(world.admin, person["id"]) == prepared.keycloak_id, journey.report
    account = world.admin.get_user(prepared.keycloak_id)
    users = world.user_count()

    enter(page, world, entry, person)

    page.wait_for_url(f"{world.account_url}**", timeout=60_000)
    expect(page.get_by_label("Username")).to_have_value(account["username"])
    expect(page.get_by_label("First name")).to_have_value(account.get("firstName") or "")
    expect(page.get_by_label("Last name")).to_have_value(account.get("lastName") or "")
    shown = f"{account.get('firstName', '')} {account.get('lastName', '')}".strip()
    assert shown.casefold() == full_name(person).casefold()
    for earlier in journey.last_username:
        assert earlier not in page.content(), "the previous person's username is on this person's page"
    assert world.sessions(prepared.keycloak_id), "no Keycloak session for the person's account"
    assert world.user_count() == users, "signing in added an account"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{entry}-{role}-{kind}.png"))

    page.get_by_role("button", name=shown).click()
    page.get_by_role("menuitem", name="Sign out").click()

    page.wait_for_url(f"{world.sandbox_url}/logout**")
    expect(page.locator("#signed-out")).to_be_visible()
    assert not world.sessions(prepared.keycloak_id), "still signed in to Keycloak after Sign out"
    assert not world.sandbox.sessions, "still signed in to Clever after Sign out"
    journey.last_username[:] = [account["username"]]


@pytest.mark.parametrize("role", list(ROLES))
def test_an_account_of_the_other_provider_still_signs_in_through_it(journey: Matrix, role: str) -> None:
    """The Clever link added nothing in the way: the other provider's sign-in lands in the same
    account, and its sign-out signs the browser out of that provider too."""
    world, page = journey.world, journey.page
    prepared = journey.people[(role, "other_idp")]
    account = world.admin.get_user(prepared.keycloak_id)
    username, password = prepared.idp_login
    users = world.user_count()

    page.goto(world.account_url)
    page.click(f"#social-{OTHER_IDP}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")

    page.wait_for_url(f"{world.account_url}**", timeout=60_000)
    expect(page.get_by_label("Username")).to_have_value(account["username"])
    for earlier in journey.last_username:
        assert earlier not in page.content(), "the previous person's username is on this person's page"
    assert world.sessions(prepared.keycloak_id), "no Keycloak session for the person's account"
    assert world.user_count() == users, "signing in added an account"
    links = {link["identityProvider"] for link in world.admin.get_user_social_logins(prepared.keycloak_id)}
    assert links == {IDP_ALIAS, OTHER_IDP}

    shown = f"{account.get('firstName', '')} {account.get('lastName', '')}".strip()
    page.get_by_role("button", name=shown).click()
    page.get_by_role("menuitem", name="Sign out").click()

    page.wait_for_url(f"{world.realm_url}/**")
    expect(page.locator(f"#social-{OTHER_IDP}")).to_be_visible()
    assert not world.sessions(prepared.keycloak_id), "still signed in to Keycloak after Sign out"
    assert not _provider_sessions(journey), "still signed in to the other provider after Sign out"
    journey.last_username[:] = [account["username"]]
