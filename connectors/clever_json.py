"""Decode a Clever list answer as it arrives, one item at a time, instead of the whole page at once.

A page of 10,000 users is about 7 MB of JSON. Read whole (``response.content``) and decoded by
``json.loads`` it costs the bytes, their text and about 50 MB of Python dicts at once, and big
blocks that the C allocator keeps after they are freed: most of the worker's peak memory on a big
district. ``list_items`` walks the envelope ``{"data": [...], "links": [...]}`` over the body's
chunks and decodes each value with the standard decoder's C scanner (``JSONDecoder.raw_decode``),
so only a chunk of text and the item being parsed are held, at ``json.loads`` speed. (A push
parser such as ijson holds as little, but decodes three times slower, and the full sync reads
every page.)

Errors keep the two kinds the whole-page decoding had:

* text that is not (complete) JSON raises ``ValueError``: the caller reads the page again;
* complete JSON that is not a Clever list (no ``data`` list) raises ``TransientError``.

Sizes are capped, each a clear ``ConfigError`` that aborts the run (retrying would not help, and
an answer this big is a broken or hostile server, not a district): a page of more than
``MAX_PAGE_BYTES`` (64 MiB; Clever's largest page, 10,000 users, is about 7 MB) and one item of more
than ``MAX_ITEM_BYTES`` (1 MiB; a user is under 1 KB, a section of 500 students about 15 KB). An
incomplete item is decoded again only once the text held for it has doubled, so a huge item costs
linear time (a retry after each 64 KiB chunk would make a 1 MiB item cost 16 decodes of it).

Items are yielded while the rest of the page is still unread, so a truncated page is noticed only
at the break, after the items before it went out. The caller reads the page again and skips the
ids it has already passed on (Clever's lists are in ascending id order).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Generator, Iterable, Iterator
from typing import Any, NoReturn

from model.base import ConfigError, TransientError

_scan = json.JSONDecoder().raw_decode
_space = re.compile(r"[ \t\n\r]*")
MAX_PAGE_BYTES = 64 * 1024 * 1024
MAX_ITEM_BYTES = 1024 * 1024


def list_items(
    chunks: Iterable[bytes],
    what: str,
    *,
    max_page: int = MAX_PAGE_BYTES,
    max_item: int = MAX_ITEM_BYTES,
) -> Generator[Any, None, list[Any]]:
    """Each item of ``data``, decoded one at a time; returns the ``links`` list (``[]`` if none)."""
    return (yield from _envelope(_Text(chunks, what, max_page, max_item), what))


class _Text:
    """The body's text so far, from ``at`` on; ``more()`` appends the next chunk (False at the end)."""

    def __init__(self, chunks: Iterable[bytes], what: str, max_page: int, max_item: int) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        # Not "replace": a byte that is not UTF-8 stays a surrogate, so the record is known bad
        # (``connectors.clever_text``), never stored changed.
        self._utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text = ""
        self.at = 0
        self.ended = False
        self.read = 0
        self._what, self._max_page, self._max_item = what, max_page, max_item

    def _piece(self) -> str | None:
        """The next decoded chunk ("" when it ends inside a character), None at the end."""
        if self.ended:
            return None
        chunk = next(self._chunks, None)
        if chunk is None:
            self.ended = True
            return self._utf8.decode(b"", final=True)
        self.read += len(chunk)
        if self.read > self._max_page:
            raise ConfigError(f"{self._what}: the page is larger than {self._max_page} bytes: refused")
        return self._utf8.decode(chunk)

    def more(self, at_least: int = 1) -> bool:
        """Append chunks until ``at_least`` more characters are held (or the body ends)."""
        pieces: list[str] = []
        got = 0
        while got < at_least:
            piece = self._piece()
            if piece is None:
                break
            pieces.append(piece)
            got += len(piece)
        if not got:
            return False
        self.text = self.text[self.at :] + "".join(pieces)
        self.at = 0
        return True

    def _too_big(self) -> ConfigError:
        return ConfigError(f"{self._what}: one record is larger than {self._max_item} bytes: refused")

    def char(self) -> str:
        """The next character that is not white space (``""`` at the end of the body)."""
        while True:
            space = _space.match(self.text, self.at)
            assert space is not None  # the pattern matches the empty string
            self.at = space.end()
            if self.at < len(self.text) or not self.more():
                return self.text[self.at : self.at + 1]

    def take(self, char: str) -> None:
        if self.char() != char:
            raise ValueError(f"expected {char!r}")
        self.at += 1

    def value(self) -> Any:
        """The JSON value that starts at the next character, reading on until it is complete."""
        self.char()
        while True:
            try:
                value, end = _scan(self.text, self.at)
            except ValueError:
                held = len(self.text) - self.at
                if held > self._max_item:
                    raise self._too_big() from None
                # Decode again only once the held text has doubled: linear time on a huge item.
                if not self.more(at_least=max(1, held)):
                    raise ValueError("truncated or invalid JSON") from None
                continue
            if end - self.at > self._max_item:
                raise self._too_big()
            if self._may_go_on(value, end) and self.more():
                continue  # "12" of "12.5e3": a number may go on in the next chunk
            self.at = end
            return value

    def _may_go_on(self, value: Any, end: int) -> bool:
        if self.ended or isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return end == len(self.text) or self.text[end] in _NUMBER_GOES_ON


_NUMBER_GOES_ON = frozenset("0123456789.eE+-")


def _envelope(text: _Text, what: str) -> Generator[Any, None, list[Any]]:
    if text.char() != "{":
        _not_a_list(text, what)
    text.at += 1
    seen_data = False
    links: list[Any] = []
    while text.char() != "}":
        key = text.value()
        text.take(":")
        if key == "data" and text.char() == "[":
            seen_data = True
            yield from _array(text)
        else:
            value = text.value()
            if key == "links" and isinstance(value, list):
                links = value
        if text.char() == ",":
            text.at += 1
        elif text.char() != "}":
            raise ValueError("expected ',' or '}'")
    text.at += 1
    if text.char():
        raise ValueError("extra data after the answer")
    if not seen_data:
        raise TransientError(f"{what}: the answer is not a Clever list")
    return links


def _array(text: _Text) -> Generator[Any, None, None]:
    """The items of the array that starts at the next character ('['), through its ']'."""
    text.at += 1
    if text.char() == "]":
        text.at += 1
        return
    while True:
        yield text.value()
        if text.char() == "]":
            text.at += 1
            return
        text.take(",")


def _not_a_list(text: _Text, what: str) -> NoReturn:
    while text.more(at_least=len(text.text) - text.at + 1):  # doubling: linear
        pass
    json.loads(text.text[text.at :])  # ValueError when it is not JSON at all
    raise TransientError(f"{what}: the answer is not a Clever list")
