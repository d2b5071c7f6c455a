"""The kill switch: end every session and offline token of accounts the sync took from their person.

Keycloak does not end sessions when an account is disabled: its refresh tokens are refused from
then on, but the session stays listed, access tokens already issued work until they expire, and the
applications behind Keycloak are never told. So for each account the sync disables or unlinks
(``plugin.sync.pipeline``), in the same run, after that write:

1. ``GET users/{id}/sessions``: how many sessions there are (the report counts them);
2. ``POST users/{id}/logout``: Keycloak removes every session of the account, sends an OIDC
   back-channel logout (a ``logout_token``) to each client of those sessions that registered a
   back-channel logout URL, and sets the account's "not before" to now, so no token issued before
   (an offline token included) is accepted any more;
3. ``GET users/{id}/consents`` and ``DELETE users/{id}/consents/{client}`` for each client that
   holds an offline token of the account: the offline sessions themselves are removed.

Access tokens already handed out stay valid until they expire (Keycloak's access token lifespan,
5 minutes by default): a resource server that checks them locally cannot be reached; one that
introspects them is told they are no longer active. Every call is one the service account's
``manage-users`` allows. Settings: none (``KeycloakDirectory.http`` and its workers). Example::

    ended = end_access(directory.http, ["<keycloak id>", ...], workers=4)
    ended.people, ended.sessions, ended.offline_tokens, ended.failures
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from connectors.keycloak_http import KeycloakHttp
from connectors.pooling import bounded_map
from model.base import RecordError, TransientError

OFFLINE_TOKEN = "Offline Token"  # the ``additionalGrants`` key of a client holding an offline token


@dataclass
class AccessEnded:
    """What the kill switch ended: people (accounts), their sessions and offline tokens."""

    people: int = 0
    sessions: int = 0
    offline_tokens: int = 0
    failures: list[tuple[str, RecordError]] = field(default_factory=list)  # (Keycloak id, why)

    def to_dict(self) -> dict[str, int]:
        return {
            "people": self.people,
            "sessions": self.sessions,
            "offline_tokens": self.offline_tokens,
            "failed": len(self.failures),
        }


def end_access(http: KeycloakHttp, keycloak_ids: Iterable[str], workers: int = 4) -> AccessEnded:
    """End the sessions and offline tokens of each account (each once). An account Keycloak refuses,
    or does not answer for after the retries, is a failure (the run says so and goes on); wrong
    credentials (``ConfigError``) stop the run."""
    ids = list(dict.fromkeys(keycloak_ids))
    ended = AccessEnded()

    def one(keycloak_id: str) -> tuple[str, tuple[int, int] | RecordError]:
        try:
            return keycloak_id, _end_one(http, keycloak_id)
        except RecordError as exc:
            return keycloak_id, exc
        except TransientError as exc:  # after the retries: this account's, the others go on
            return keycloak_id, RecordError(str(exc))

    for keycloak_id, result in bounded_map(one, ids, workers if len(ids) > 1 else 1):
        if isinstance(result, RecordError):
            ended.failures.append((keycloak_id, result))
            continue
        ended.people += 1
        ended.sessions += result[0]
        ended.offline_tokens += result[1]
    return ended


def _end_one(http: KeycloakHttp, keycloak_id: str) -> tuple[int, int]:
    """(sessions ended, offline tokens revoked) of one account; an account already gone is (0, 0)."""
    path = f"users/{keycloak_id}"
    listed = http.call("GET", f"{path}/sessions", ok=(404,))
    if listed.status_code == 404:
        return 0, 0
    sessions = len(listed.json())
    http.call("POST", f"{path}/logout", ok=(404,))
    revoked = 0
    consents = http.call("GET", f"{path}/consents", ok=(404,))
    for consent in consents.json() if consents.status_code == 200 else []:
        grants = consent.get("additionalGrants") or []
        if any(grant.get("key") == OFFLINE_TOKEN for grant in grants):
            client = quote(str(consent.get("clientId", "")), safe="")
            http.call("DELETE", f"{path}/consents/{client}", ok=(404,))
            revoked += 1
    return sessions, revoked


def access_words(ended: Mapping[str, int]) -> str:
    """ "ended 3 sessions and 1 offline token of 2 departed people" (``SyncReport.access_ended``)."""
    people, sessions, offline = (
        ended.get("people", 0),
        ended.get("sessions", 0),
        ended.get("offline_tokens", 0),
    )
    words = (
        f"ended {sessions} session{'' if sessions == 1 else 's'} and {offline} offline "
        f"token{'' if offline == 1 else 's'} of {people} departed {'person' if people == 1 else 'people'}"
    )
    failed = ended.get("failed", 0)
    return words + (f"; {failed} could not be logged out (see errors)" if failed else "")
