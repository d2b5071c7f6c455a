"""Keycloak's refusals in plain words: reports and the admin page never show its raw JSON.

Keycloak answers a refused user write (400, 409) with ``{"field": "lastName", "errorMessage":
"error-invalid-length-too-long", "params": ["lastName", 255]}``, or ``{"errors": [<that>, ...]}``,
or ``{"errorMessage": "User exists with same username"}``. ``in_words(body)`` makes one sentence
of it, naming the field and the rule but never the value (a student's name does not belong in
a report that more people read than the roster).
"""

from __future__ import annotations

import json
from typing import Any

FIELDS = {"username": "username", "firstName": "first name", "lastName": "last name", "email": "email"}
RULES = {
    "error-invalid-length": "is longer or shorter than the realm allows",
    "error-invalid-length-too-long": "is longer than the realm allows",
    "error-invalid-length-too-short": "is shorter than the realm allows",
    "error-person-name-invalid-character": "holds characters the realm does not allow in a name",
    "error-username-invalid-character": "holds characters the realm does not allow in a username",
    "error-invalid-email": "is not an email address the realm accepts",
    "error-invalid-value": "is a value the realm does not accept",
    "error-pattern-no-match": "does not match the pattern the realm asks for",
    "error-user-attribute-required": "is empty, and the realm requires it",
    "error-user-attribute-read-only": "is read-only in the realm",
    "usernameExistsMessage": "is taken by another account",
    "emailExistsMessage": "is held by another account",
}
PHRASES = {
    "user exists with same username": "the username is taken by another account",
    "user exists with same email": "the email is held by another account",
}


def in_words(body: str) -> str:
    """One sentence for a Keycloak error body (JSON or not); never the raw JSON."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        text = " ".join(body.split())[:120]
        return f"Keycloak refused it ({text})" if text and "{" not in text else "Keycloak refused it"
    listed = data.get("errors")
    errors: list[Any] = listed if isinstance(listed, list) else [data]
    sentences = list(dict.fromkeys(_one(e) for e in errors if isinstance(e, dict)))
    return "; ".join(s for s in sentences if s) or "Keycloak refused it"


def _one(error: dict[str, Any]) -> str:
    message = str(error.get("errorMessage") or error.get("error") or "")
    field = str(error.get("field") or "")
    if message.lower() in PHRASES:
        return PHRASES[message.lower()]
    rule = RULES.get(message, f"breaks the realm's rule {message!r}" if message else "was refused")
    limit = _limit(message, error.get("params"))
    if field:
        return f"the {FIELDS.get(field, field)} {rule}{limit}"
    return f"Keycloak refused it: {message}" if message else ""


def _limit(message: str, params: Any) -> str:
    """``(at most 20 characters)`` from the params of a length rule."""
    if not message.startswith("error-invalid-length") or not isinstance(params, list):
        return ""
    numbers = [str(p) for p in params[1:] if isinstance(p, int | str) and str(p).isdigit()]
    if message.endswith("too-long") and numbers:
        return f" (at most {numbers[-1]} characters)"
    if len(numbers) >= 2:
        return f" ({numbers[0]} to {numbers[1]} characters)"
    return ""
