"""Names cleaned and cut as Keycloak holds them, the whole kept (``mappers.name_fit``)."""

from __future__ import annotations

from mappers.name_fit import VALUE_MAX, clean_name, cut, fit_names, split_value, units, whole_value


def test_control_characters_are_removed_and_named_by_code_point() -> None:
    assert clean_name("Jo\x00sé\x07") == ("José", ("U+0000", "U+0007"))
    assert clean_name("Smith\tJr\r\n") == ("Smith Jr", ("U+0009", "U+000D", "U+000A"))
    assert clean_name("Zoë O'Neil  ") == ("Zoë O'Neil  ", ())  # a clean name is left exactly as it is


def test_lengths_count_as_keycloak_counts_them() -> None:
    assert units("😀") == 2
    assert cut("😀" * 200, 255) == "😀" * 127  # 254 units: the next emoji would not fit
    assert cut("e\u0301" * 200, 255).endswith("e\u0301")  # never a letter without its accent


def test_a_value_over_the_attribute_limit_is_kept_in_numbered_parts() -> None:
    name = "Ab\u0301c" * 3000  # 12,000 characters with combining accents
    parts = split_value(name)
    assert all(units(p) <= VALUE_MAX for p in parts)
    assert [p.split(":", 1)[0] for p in parts] == [str(n) for n in range(1, len(parts) + 1)]
    assert not any(p.split(":", 1)[1][0] == "\u0301" for p in parts)  # no part starts with a bare accent
    assert whole_value(reversed(parts)) == name
    assert split_value("Short") == ("Short",) and whole_value(["Short"]) == "Short"
    assert split_value("") == ()


def test_fitting_says_what_was_kept_where() -> None:
    fitted = fit_names("A" * 300, "Lee\x00")
    assert (fitted.first, fitted.last) == ("A" * 255, "Lee")
    assert fitted.attributes == {"clever_first_name": ("A" * 300,)}
    assert fitted.notes == (
        "the first name (300 characters) is longer than the 255 Keycloak shows: the account shows its "
        "first 255; the whole name is kept in clever_first_name",
        "the last name held control characters (U+0000), which are no part of a name: they were removed",
    )
    assert fit_names("Ann", "Lee").notes == ()
