"""Keycloak's refusals in words: the field and the rule, never the JSON or the value."""

from __future__ import annotations

import json

from connectors.keycloak_words import in_words


def test_a_length_refusal_names_the_field_and_the_limit() -> None:
    body = json.dumps(
        {"field": "username", "errorMessage": "error-invalid-length", "params": ["username", 3, 40]}
    )
    assert in_words(body) == "the username is longer or shorter than the realm allows (3 to 40 characters)"


def test_several_refusals_become_one_sentence_without_the_value() -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "field": "firstName",
                    "errorMessage": "error-person-name-invalid-character",
                    "params": ["x"],
                },
                {"field": "lastName", "errorMessage": "error-invalid-length-too-long", "params": ["y", 255]},
            ]
        }
    )
    words = in_words(body)
    assert words == (
        "the first name holds characters the realm does not allow in a name; "
        "the last name is longer than the realm allows (at most 255 characters)"
    )
    assert "{" not in words


def test_plain_messages_and_bodies_that_are_not_json() -> None:
    assert in_words('{"errorMessage": "User exists with same username"}') == (
        "the username is taken by another account"
    )
    assert in_words("<html>oops</html>") == "Keycloak refused it (<html>oops</html>)"
    assert in_words("") == "Keycloak refused it"
