"""The broker's two login-path settings: the first-broker-login flow, and self-service linking.

``ensure_first_login_flow``: the flow ``clever first broker login`` Keycloak runs for a Clever person
with no linked account (rules in ``plugin.sso.broker``'s docstring). ``ensure_self_linking``: users do
not link identity providers to their own accounts by themselves (see there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from keycloak import KeycloakAdmin

FLOW_ALIAS = "clever first broker login"
LINK_ACTION = "idp_link"  # the required action behind the Account Console's "Link account"
DENY_UNKNOWN_MESSAGE = (
    "Your Clever account is not connected to an account here yet. "
    "Please ask your school's IT team to run the Clever sync, then sign in again."
)
DENY_DUPLICATE_MESSAGE = (
    "An account with your username or email already exists here, and it is not connected to Clever. "
    "Please ask your school's IT team to connect it."
)


class Changes(Protocol):
    """Where an ensure writes what it changed (``plugin.sso.broker.BrokerReport``)."""

    changes: list[str]


@dataclass(frozen=True, slots=True)
class Execution:
    """One step of the first-broker-login flow (``message`` goes into a Deny access config)."""

    provider: str
    requirement: str
    message: str | None = None


def desired_executions(create_unknown_users: bool) -> list[Execution]:
    """The first-broker-login steps: refuse unknown people, or create them when unique."""
    if create_unknown_users:
        # An ALTERNATIVE that is only "attempted" (a duplicate username/email) falls through to the
        # next one: refuse, never link.
        return [
            Execution("idp-create-user-if-unique", "ALTERNATIVE"),
            Execution("deny-access-authenticator", "ALTERNATIVE", DENY_DUPLICATE_MESSAGE),
        ]
    return [Execution("deny-access-authenticator", "REQUIRED", DENY_UNKNOWN_MESSAGE)]


def ensure_self_linking(admin: KeycloakAdmin, allow: bool, report: Changes) -> None:
    """Disable Keycloak's "Linking identity provider" required action (``idp_link``), unless ``allow``.

    Keycloak lets any user holding ``account/manage-account`` (a default role of every realm) link an
    identity provider to their own account: the Account Console's "Link account" button starts the
    ``kc_action=idp_link:<alias>`` application-initiated action. Taking ``manage-account`` (or
    ``manage-account-links``, which Keycloak does not even need when ``manage-account`` is held) out of
    the default roles breaks the whole Account Console ("Something went wrong"), so the cleaner way is
    two settings: the Clever provider is never shown in the Account Console
    (``showInAccountConsole=NEVER``, ``plugin.sso.broker.desired_idp``) and the ``idp_link`` action is
    disabled for the realm (it serves every provider: a realm that needs users to link, say, Google
    themselves opts out with ``KCC_ALLOW_SELF_LINKING=true``). Keycloak's older, deprecated linking
    endpoint (``/broker/<alias>/link`` with a hash from the Account REST API) still answers to a
    hand-crafted request; a link made that way is not ours, so the sync gives the account nothing and
    reports it (``plugin.sso.links``). With ``allow``, the action is left as an admin set it.
    """
    if allow:
        return
    for action in admin.get_required_actions():
        if action.get("alias") == LINK_ACTION and action.get("enabled", True):
            admin.update_required_action(LINK_ACTION, {**action, "enabled": False})
            report.changes.append(f"required action {LINK_ACTION}: disabled (no self-service linking)")


def ensure_first_login_flow(admin: KeycloakAdmin, create_unknown_users: bool, report: Changes) -> None:
    """Create the flow when missing; rebuild its steps when they differ from the desired ones."""
    flows = {flow["alias"]: flow for flow in admin.get_authentication_flows()}
    if FLOW_ALIAS not in flows:
        admin.create_authentication_flow(
            {
                "alias": FLOW_ALIAS,
                "description": "Clever logins of people the roster sync has not linked (keycloak-clever)",
                "providerId": "basic-flow",
                "topLevel": True,
                "builtIn": False,
            },
            skip_exists=True,
        )
        report.changes.append(f"flow {FLOW_ALIAS!r}: created")
    desired = desired_executions(create_unknown_users)
    held = admin.get_authentication_flow_executions(FLOW_ALIAS)
    priorities = [e.get("priority", 0) for e in held]
    if _held_executions(admin, held) == desired and priorities == sorted(set(priorities)):
        return  # (equal priorities, as an earlier version left them, run in no fixed order: rebuilt)
    for execution in held:
        if execution.get("level", 0) == 0:
            admin.delete_authentication_flow_execution(execution["id"])
    for index, step in enumerate(desired):
        # An explicit priority: the order of the steps is the flow's meaning (create, then deny),
        # and executions of equal priority come back in no fixed order.
        admin.create_authentication_flow_execution(
            {"provider": step.provider, "priority": 10 * (index + 1)}, FLOW_ALIAS
        )
        created = next(
            e
            for e in admin.get_authentication_flow_executions(FLOW_ALIAS)
            if e.get("providerId") == step.provider and e.get("level", 0) == 0
        )
        # The whole representation goes back: Keycloak sets every field of the PUT, and a missing
        # priority would become 0 (both steps at 0 come back in no fixed order).
        admin.update_authentication_flow_executions({**created, "requirement": step.requirement}, FLOW_ALIAS)
        if step.message is not None:
            admin.create_execution_config(
                created["id"],
                {"alias": f"clever-{step.provider}", "config": {"denyErrorMessage": step.message}},
            )
    _put_in_order(admin, [step.provider for step in desired])
    mode = "create unknown people" if create_unknown_users else "refuse unknown people"
    report.changes.append(f"flow {FLOW_ALIAS!r}: steps set to {mode}")


def _put_in_order(admin: KeycloakAdmin, providers: list[str]) -> None:
    """Raise each step above the ones that should follow it (Keycloak's own raise-priority), in case
    the priority sent at creation was not kept; fail loudly when the order cannot be made (a flow in
    the wrong order would refuse everyone or create the wrong people)."""
    realm = admin.connection.realm_name
    for _ in range(len(providers) ** 2 + 1):
        held = [e for e in admin.get_authentication_flow_executions(FLOW_ALIAS) if e.get("level", 0) == 0]
        order = [e.get("providerId", "") for e in held]
        if order == providers:
            return
        wrong = next(i for i, (have, want) in enumerate(zip(order, providers, strict=False)) if have != want)
        moving = next(e for e in held[wrong:] if e.get("providerId") == providers[wrong])
        admin.connection.raw_post(
            f"admin/realms/{realm}/authentication/executions/{moving['id']}/raise-priority", data="{}"
        )
    raise RuntimeError(f"flow {FLOW_ALIAS!r}: Keycloak keeps its steps as {order}, not {providers}")


def _held_executions(admin: KeycloakAdmin, held: list[dict[str, Any]]) -> list[Execution]:
    steps = []
    for execution in held:
        message = None
        if execution.get("authenticationConfig"):
            config = admin.get_authenticator_config(execution["authenticationConfig"])
            message = config.get("config", {}).get("denyErrorMessage")
        steps.append(Execution(execution.get("providerId", ""), execution.get("requirement", ""), message))
    return steps
