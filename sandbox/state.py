"""The running sandbox's state: roster, tokens, codes, signing key, events; one lock guards it.

Tests reach it as ``app.extensions["clever_sandbox"]``: ``district_token``, ``badge_code(user_id)``,
``mutate({...})`` and the convenience ``create``/``update``/``delete``/``move_student``;
``rotate_district_token()`` (the old token is refused from then on); ``tamper_id_token`` (id_tokens
signed with a key not in the JWKS); ``sign_in``/``signed_in``/``sign_out`` (Clever's browser sessions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.config import SandboxConfig
from sandbox.events import EventLog, MutationError, Mutator
from sandbox.ids import iso
from sandbox.roster_file import check_object
from sandbox.store import Obj, RosterStore

CODE_LIFETIME = 60  # seconds; Clever's authorization codes live one minute
ID_TOKEN_LIFETIME = 3600
# Which role a multi-role person logs in as, and the user_type Clever puts in the id_token.
USER_TYPES = {
    "district_admin": "district admin",
    "teacher": "teacher",
    "staff": "staff",
    "student": "student",
    "contact": "contact",
}
DISTRICT_SCOPES = [
    "read:district_admins",
    "read:districts",
    "read:resources",
    "read:school_admins",
    "read:schools",
    "read:sections",
    "read:student_contacts",
    "read:students",
    "read:teachers",
    "read:user_id",
]


@dataclass(frozen=True)
class Grant:
    """An authorization code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    user_id: str
    user_type: str
    district: str
    nonce: str
    issued_at: float
    code_challenge: str = ""  # PKCE (RFC 7636), when the authorize request carried one
    code_challenge_method: str = ""  # "S256" or "plain"


@dataclass(frozen=True)
class UserToken:
    """An SSO (user) bearer token."""

    user_id: str
    district: str
    user_type: str


@dataclass(frozen=True)
class DistrictToken:
    """A district-app bearer token as ``GET /oauth/tokens`` lists it."""

    access_token: str
    created: str


@dataclass(frozen=True)
class Session:
    """A browser signed in to Clever: who, and the role they signed in as."""

    user_id: str
    role: str
    signed_in_at: float


@dataclass(frozen=True)
class Caller:
    """Who is asking: a district-app token (no ``user_id``) or a user (SSO) token."""

    district: str
    user_id: str = ""


class SandboxState:
    """Everything the sandbox knows, shared by its request handlers."""

    def __init__(self, config: SandboxConfig, roster: dict[str, list[Obj]]) -> None:
        self.config = config
        self.clock = config.clock
        self.lock = threading.RLock()
        self.store = RosterStore()
        self.store.load(roster)
        self.district_ids: list[str] = sorted(self.store.raw["districts"])
        self.events = EventLog()
        self.mutator = Mutator(self.store, self.events, self.clock, self._validate, self.district_ids[0])
        self.codes: dict[str, Grant] = {}
        self.user_tokens: dict[str, UserToken] = {}
        self._badges: dict[str, str] | None = None
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self.signing_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = hashlib.sha256(public_der).hexdigest()[:16]
        self.district_tokens = {d: self._district_token(d) for d in self.district_ids}
        self.token_created = {d: "2021-02-24T22:24:55.985Z" for d in self.district_ids}
        self.sessions: dict[str, Session] = {}
        # Broker tests: id_tokens signed with a key that is not in the JWKS (under the JWKS's kid).
        self.tamper_id_token = config.tamper_id_token
        self._bad_signature = random.Random(config.fault_spec().seed)
        self._rogue_key: rsa.RSAPrivateKey | None = None

    # --- tokens -------------------------------------------------------------------------------

    @property
    def district_id(self) -> str:
        """The (first) district's id."""
        return self.district_ids[0]

    @property
    def district_token(self) -> str:
        """The district-app bearer token of the (first) district, as ``GET /oauth/tokens`` lists it."""
        return self.district_tokens[self.district_id]

    def district_for_token(self, token: str) -> str | None:
        """The district a district-app token belongs to."""
        for district, known in self.district_tokens.items():
            if hmac.compare_digest(known, token):
                return district
        return None

    def caller_for_token(self, token: str) -> Caller | None:
        """Who holds a district-app or user token, or None for an unknown token."""
        district = self.district_for_token(token)
        if district is not None:
            return Caller(district)
        with self.lock:
            user = self.user_tokens.get(token)
        return Caller(user.district, user.user_id) if user else None

    def check_client(self, client_id: str, client_secret: str) -> bool:
        """True for the registered app's credentials."""
        return hmac.compare_digest(client_id, self.config.client_id) and hmac.compare_digest(
            client_secret, self.config.client_secret
        )

    def redirect_allowed(self, redirect_uri: str) -> bool:
        """Registered redirect URIs must match exactly; with none registered, any URI is accepted."""
        return not self.config.redirect_uris or redirect_uri in self.config.redirect_uris

    def rotate_district_token(self, district: str | None = None) -> str:
        """Give a district a new district-app token, as Clever does on rotation; returns it.

        The old token gets 401 from then on; ``GET /oauth/tokens?owner_type=district`` lists the new one.
        """
        district = district or self.district_id
        if district not in self.district_tokens:
            raise MutationError(f"no district with id {district!r}")
        token = secrets.token_hex(20)
        with self.lock:
            self.district_tokens[district] = token
            self.token_created[district] = iso(self.clock())
        return token

    def listed_district_tokens(self) -> dict[str, DistrictToken]:
        """District id -> its current district-app token and when it was made."""
        with self.lock:
            return {
                d: DistrictToken(token, self.token_created[d]) for d, token in self.district_tokens.items()
            }

    def id_token_key(self) -> rsa.RSAPrivateKey:
        """The key to sign the next id_token with: the JWKS key, or a rogue one when tampering."""
        rate = self.config.fault_spec().bad_signature
        with self.lock:
            tamper = self.tamper_id_token or (rate > 0 and self._bad_signature.random() < rate)
            if not tamper:
                return self.signing_key
            if self._rogue_key is None:
                self._rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._rogue_key

    # --- Clever's browser sessions ---------------------------------------------------------------

    def sign_in(self, user_id: str, role: str = "") -> str:
        """A new signed-in browser session for ``user_id``; returns its id (the cookie's value)."""
        user = self.store.get("users", user_id)
        if user is None:
            raise MutationError(f"no user with id {user_id!r}")
        session_id = secrets.token_urlsafe(24)
        role = role if role in (user.get("roles") or {}) else primary_role(user)
        with self.lock:
            self.sessions[session_id] = Session(user_id, role, self.clock())
        return session_id

    def signed_in(self, session_id: str) -> Session | None:
        """The session behind a cookie, if it is still good (its person still in the roster)."""
        with self.lock:
            session = self.sessions.get(session_id) if session_id else None
            if session is not None and self.store.get("users", session.user_id) is None:
                del self.sessions[session_id]
                session = None
        return session

    def sign_out(self, session_id: str | None = None) -> None:
        """End one browser session, or every one with no argument."""
        with self.lock:
            if session_id is None:
                self.sessions.clear()
            else:
                self.sessions.pop(session_id, None)

    # --- codes and user tokens -------------------------------------------------------------------

    def issue_code(
        self,
        user_id: str,
        redirect_uri: str,
        nonce: str = "",
        role: str = "",
        *,
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> str:
        """A single-use authorization code for ``user_id`` (PKCE-bound when given a challenge)."""
        user = self.store.get("users", user_id)
        if user is None:
            raise MutationError(f"no user with id {user_id!r}")
        code = secrets.token_hex(10)
        with self.lock:
            self.codes[code] = Grant(
                self.config.client_id,
                redirect_uri,
                user_id,
                USER_TYPES[role if role in (user.get("roles") or {}) else primary_role(user)],
                str(user.get("district", "")),
                nonce,
                self.clock(),
                code_challenge,
                (code_challenge_method or "plain") if code_challenge else "",
            )
        return code

    def redeem_code(
        self, code: str, redirect_uri: str | None, code_verifier: str | None = None
    ) -> Grant | None:
        """The grant of a code, once; expired, replayed or mismatched codes give None.

        A code issued with a PKCE challenge needs the matching ``code_verifier``; without a
        challenge a verifier is ignored (a Clever-initiated login never carries one).
        """
        with self.lock:
            grant = self.codes.pop(code, None)  # popped even when refused: a code is never good twice
        if grant is None or self.clock() - grant.issued_at > CODE_LIFETIME:
            return None
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            return None
        if grant.code_challenge and not pkce_matches(grant, code_verifier or ""):
            return None
        return grant

    def issue_user_token(self, grant: Grant) -> str:
        """A new SSO bearer token for the grant's person."""
        token = secrets.token_hex(20)
        with self.lock:
            self.user_tokens[token] = UserToken(grant.user_id, grant.district, grant.user_type)
        return token

    # --- badges -------------------------------------------------------------------------------

    def badge_code(self, user_id: str) -> str:
        """The Clever Badge code of a student: deterministic from the seed and the id."""
        digest = hmac.new(f"badge:{self.config.seed}".encode(), user_id.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:5]).decode()

    def user_for_badge(self, code: str) -> str | None:
        """The student whose badge this is (badges are for students only, as at Clever)."""
        code = code.strip().upper().replace("-", "").replace(" ", "")
        with self.lock:
            if self._badges is None:
                self._badges = {
                    self.badge_code(uid): uid
                    for d in self.district_ids
                    for uid in self.store.ids("role", "student", d)
                }
            user_id = self._badges.get(code)
        user = self.store.get("users", user_id) if user_id else None
        return user_id if user and (user.get("roles") or {}).get("student") else None

    # --- mutations ----------------------------------------------------------------------------

    def mutate(self, ops: Obj | Sequence[Obj]) -> list[Obj]:
        """Apply one change or a list of them (JSON as for ``POST /sandbox/mutations``); returns events."""
        events: list[Obj] = []
        with self.lock:
            for op in [ops] if isinstance(ops, dict) else ops:
                events.extend(self.mutator.apply(op))
            self._badges = None
        return events

    def create(self, kind: str, obj: Obj) -> Obj:
        """Add an object; returns it as stored."""
        return dict(self.mutate({"op": "create", "kind": kind, "object": obj})[-1]["data"]["object"])

    def update(self, kind: str, object_id: str, changes: Obj) -> list[Obj]:
        """Merge ``changes`` into an object (``None`` deletes a field)."""
        return self.mutate({"op": "update", "kind": kind, "id": object_id, "changes": changes})

    def delete(self, kind: str, object_id: str) -> list[Obj]:
        """Remove an object."""
        return self.mutate({"op": "delete", "kind": kind, "id": object_id})

    def move_student(self, student: str, from_section: str, to_section: str) -> list[Obj]:
        """Move a student between sections."""
        return self.mutate(
            {"op": "move_student", "student": student, "from_section": from_section, "to_section": to_section}
        )

    def people(self, role: str, limit: int | None = None) -> list[Obj]:
        """Users of a role in the first district, ascending by id."""
        ids = self.store.ids("role", role, self.district_id)
        return [u for u in (self.store.get("users", i) for i in ids[:limit]) if u]

    def _district_token(self, district: str) -> str:
        seed = f"district-token:{self.config.client_id}:{self.config.client_secret}:{district}"
        return hashlib.sha1(seed.encode()).hexdigest()

    def _validate(self, kind: str, obj: Obj) -> None:
        try:
            check_object(kind, obj, self.store.get)
        except ValueError as exc:
            raise MutationError(str(exc)) from exc


PKCE_METHODS = ("S256", "plain")
_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def pkce_matches(grant: Grant, verifier: str) -> bool:
    """RFC 7636: a 43-128 character verifier whose S256 hash (or itself, for plain) is the challenge."""
    if not 43 <= len(verifier) <= 128 or not set(verifier) <= _VERIFIER_CHARS:
        return False
    if grant.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        derived = verifier
    return hmac.compare_digest(derived, grant.code_challenge)


def legacy_id(user: Obj, role: str) -> str:
    """The pre-v3 id of a person in a role (OIDC ``user_id``), else their v3 id."""
    return str(((user.get("roles") or {}).get(role) or {}).get("legacy_id") or user["id"])


def role_of(user_type: str) -> str:
    """The role key behind an id_token ``user_type``."""
    return next((r for r, t in USER_TYPES.items() if t == user_type), "")


def primary_role(user: Obj) -> str:
    """The role a multi-role person logs in as by default."""
    roles: dict[str, Any] = user.get("roles") or {}
    return next((r for r in USER_TYPES if roles.get(r)), "student")
