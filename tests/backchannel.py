"""A tiny relying party for the tests: a client with a back-channel logout URL, served on a real
socket, that records every ``logout_token`` Keycloak posts to it, and a session of one person in it."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from keycloak import KeycloakAdmin, KeycloakOpenID

CLIENT_ID = "gradebook"
PASSWORD = "Pa55word-for-tests"


@dataclass
class Receiver:
    """What Keycloak sent to the back-channel logout URL: each logout token's claims."""

    url: str
    claims: list[dict[str, Any]] = field(default_factory=list)

    def wait_for(self, subject: str, timeout: float = 20.0) -> dict[str, Any] | None:
        """The claims of the first logout token about ``subject`` (a Keycloak user id), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((c for c in self.claims if c.get("sub") == subject), None)
            if found is not None:
                return found
            time.sleep(0.2)
        return None


@contextmanager
def receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 that takes back-channel logouts (``POST`` with ``logout_token``)."""
    got = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            token = (parse_qs(body).get("logout_token") or [""])[0]
            if token:
                payload = token.split(".")[1]
                got.claims.append(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/backchannel-logout"
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


def make_client(admin: KeycloakAdmin, logout_url: str) -> str:
    """A confidential client with the password grant and a back-channel logout URL; its secret."""
    client = admin.create_client(
        {
            "clientId": CLIENT_ID,
            "enabled": True,
            "publicClient": False,
            "directAccessGrantsEnabled": True,
            "standardFlowEnabled": False,
            "attributes": {
                "backchannel.logout.url": logout_url,
                "backchannel.logout.session.required": "true",
            },
        }
    )
    return str(admin.get_client_secrets(client)["value"])


def sign_in(
    server_url: str, realm: str, secret: str, username: str, *, offline: bool = False
) -> dict[str, Any]:
    """A session of ``username`` in the client: the token answer (``refresh_token`` ...)."""
    oidc = KeycloakOpenID(
        server_url=server_url, realm_name=realm, client_id=CLIENT_ID, client_secret_key=secret
    )
    scope = "openid offline_access" if offline else "openid"
    answer: dict[str, Any] = oidc.token(username, PASSWORD, scope=scope)
    return answer


def refresh_refused(server_url: str, realm: str, secret: str, refresh_token: str) -> bool:
    """True when Keycloak refuses the refresh token (or offline token)."""
    oidc = KeycloakOpenID(
        server_url=server_url, realm_name=realm, client_id=CLIENT_ID, client_secret_key=secret
    )
    try:
        oidc.refresh_token(refresh_token)
    except Exception:  # python-keycloak raises KeycloakPostError (400 invalid_grant)
        return True
    return False
