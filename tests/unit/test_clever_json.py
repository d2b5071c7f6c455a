"""The item-at-a-time decoder of Clever list pages gives what ``json.loads`` gives, or a clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.clever_json import list_items
from model.base import ConfigError, TransientError
from tests.sandbox_fixtures import shared_dir


def decode(text: str, size: int = 7) -> tuple[list[Any], list[Any]]:
    """Decode ``text`` arriving in chunks of ``size`` bytes (a multi-byte character may be split)."""
    items: list[Any] = []
    page = list_items(chunks(text, size), "GET /v3.0/users")
    while True:
        try:
            items.append(next(page))
        except StopIteration as done:
            return items, done.value


def chunks(text: str, size: int) -> list[bytes]:
    raw = text.encode("utf-8")
    return [raw[i : i + size] for i in range(0, len(raw), size)]


PAGE = {
    "data": [
        {
            "data": {"id": "a1", "name": {"first": "Zoë", "last": "O'Brien"}, "roles": {}},
            "uri": "/v3.0/users/a1",
        },
        {"data": {"id": "a2", "grade": "K", "n": [1, 2.5, None, True, {"x": "}]"}]}},
    ],
    "links": [{"rel": "self", "uri": "/v3.0/users"}, {"rel": "next", "uri": "/v3.0/users?starting_after=a2"}],
}


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 65536])
def test_items_and_links_are_what_json_loads_gives(indent: int | None, size: int) -> None:
    text = json.dumps(PAGE, indent=indent, ensure_ascii=False)
    assert decode(text, size) == (PAGE["data"], PAGE["links"])


def test_numbers_split_between_chunks_are_read_whole() -> None:
    text = '{"data": [1234567, 2.5e10, true, null], "count": 98765}'
    for size in range(1, len(text)):
        assert decode(text, size) == ([1234567, 2.5e10, True, None], [])


def test_key_order_empty_data_and_missing_links() -> None:
    assert decode('{"links": [{"rel": "self"}], "data": [{"a": 1}]}') == ([{"a": 1}], [{"rel": "self"}])
    assert decode(' { "data" : [ ] } \n') == ([], [])


def test_recorded_samples_decode_like_json_loads() -> None:
    pages = [p for p in sorted((shared_dir() / "clever-samples").rglob("*.json")) if _is_list(p)]
    assert pages, "no recorded list answers found in clever-samples"
    for path in pages:
        text = path.read_text(encoding="utf-8")
        whole = json.loads(text)
        assert decode(text) == (whole["data"], whole.get("links") or []), path.name


def _is_list(path: Path) -> bool:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("data"), list)


@pytest.mark.parametrize("cut", [1, 10, 40, -60, -2, -1])
def test_a_truncated_page_is_a_value_error_after_the_items_before_the_break(cut: int) -> None:
    text = json.dumps(PAGE)
    items: list[Any] = []
    with pytest.raises(ValueError):
        for item in list_items(chunks(text[:cut], 5), "GET /v3.0/users"):
            items.append(item)
    assert items == PAGE["data"][: len(items)]


@pytest.mark.parametrize(
    "text", ["<html>busy</html>", '{"data": [1,, 2]}', '{"data": [1] "links": []}', '{"data": []} x']
)
def test_text_that_is_not_json_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        decode(text)


@pytest.mark.parametrize("text", ["[1, 2]", "{}", '{"data": {"id": "a"}}', '{"links": []}', "null"])
def test_json_that_is_not_a_clever_list_is_a_transient_error(text: str) -> None:
    with pytest.raises(TransientError, match="not a Clever list"):
        decode(text)


def _page_with(item: dict[str, Any]) -> str:
    return json.dumps({"data": [{"data": {"id": "a0"}}, {"data": item}], "links": []})


def test_a_record_over_the_cap_is_a_clear_error_not_a_retry() -> None:
    text = _page_with({"id": "a1", "notes": "x" * 5000})
    page = list_items(chunks(text, 256), "GET /v3.0/users", max_item=4096)
    assert next(page) == {"data": {"id": "a0"}}  # the records before it went out
    with pytest.raises(ConfigError, match="one record is larger than 4096 bytes"):
        next(page)


def test_a_page_over_the_cap_is_a_clear_error() -> None:
    text = json.dumps({"data": [{"data": {"id": f"a{i}"}} for i in range(500)], "links": []})
    with pytest.raises(ConfigError, match="the page is larger than 2048 bytes"):
        list(list_items(chunks(text, 256), "GET /v3.0/users", max_page=2048))


def test_a_huge_record_is_decoded_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Characters handed to the C scanner stay a small multiple of the record's size (with a retry
    after every 1 KiB chunk, a 512 KiB record would cost ~256 times its size)."""
    import connectors.clever_json as clever_json

    scanned = [0]
    real = clever_json._scan

    def counting(text: str, at: int) -> Any:
        scanned[0] += len(text) - at
        return real(text, at)

    monkeypatch.setattr(clever_json, "_scan", counting)
    record = {"id": "a1", "sections": [f"{i:024x}" for i in range(18_000)]}  # about 512 KiB
    text = _page_with(record)
    items, _ = decode(text, size=1024)
    assert items[1] == {"data": record}
    assert scanned[0] < 4 * len(text)


def test_bytes_that_are_not_utf8_and_lone_surrogates_are_named_never_replaced() -> None:
    from connectors.clever_json import list_items
    from connectors.clever_text import bad_text, scrubbed

    body = (
        b'{"data":[{"data":{"id":"a1","name":{"first":"Bo\xff","last":"Ro\\ud800"},"ok":"\xc3\xa9"}}],'
        b'"links":[]}'
    )
    items = list(list_items([body[:30], body[30:]], "users"))
    (item,) = [i["data"] for i in items]
    assert "\ufffd" not in repr(item)
    assert bad_text(item) == ["name.first", "name.last"]
    assert scrubbed(item) == {"id": "a1", "name": {"first": None, "last": None}, "ok": "é"}
    assert bad_text({"id": "a2", "name": {"first": "Seán"}, "schools": ["x"]}) == []
