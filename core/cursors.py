"""The one keyset cursor of every paged list, agent pages and JSON API alike.

A cursor says where the next page starts: the position (time, id) of the last row shown, in
the list's own order. The time may be None (a thread without any message has no
last_message_at). Callers treat it as opaque; it is urlsafe base64, unpadded, of
{"t": ISO time | null, "id": n}, the form the API's `next` always had, so a cursor handed out
before this module still works.

Decoding trusts nothing: anything but a well-formed position (garbage, a naive or impossible
time, an id that is no database id, extra keys) raises `InvalidCursor`, which the API answers
with 422 and the pages with their first page, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from django.utils.dateparse import parse_datetime

# Far beyond any real cursor (about 80 characters); a longer value is refused before decoding.
MAX_LENGTH = 200
MAX_ID = 2**63 - 1  # PostgreSQL's bigint
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


class InvalidCursor(ValueError):
    """The value is not a cursor this server made (tampered, truncated, or not one at all)."""


class Position(NamedTuple):
    """Where a keyset page ends: the last row's time (None for rows without one) and its id."""

    at: datetime | None
    pk: int


def encode(at: datetime | None, pk: int) -> str:
    """The opaque cursor of a position."""
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError("a cursor's time must be aware")
    raw = json.dumps({"t": at.isoformat() if at else None, "id": pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def split_page(
    rows: Sequence[Any], limit: int, position_of: Callable[[Any], Position]
) -> tuple[list[Any], Position | None]:
    """Split `limit + 1` rows, read in the list's order, into the page and where the next page
    starts (the last row shown); None when the extra row is missing: this is the last page."""
    page = list(rows[:limit])
    return page, position_of(page[-1]) if len(rows) > limit else None


def decode(value: str) -> Position:
    """The position in a cursor; raises InvalidCursor for anything else."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_LENGTH or not _ALPHABET.fullmatch(value):
        raise InvalidCursor("not a cursor")
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("not a cursor") from exc
    at_text, pk = _legacy_page_fields(text) if not text.startswith("{") else _fields(text)
    return Position(_time(at_text), _id(pk))


def _fields(text: str) -> tuple[str | None, object]:
    try:
        data = json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise InvalidCursor("not a cursor") from exc
    if not isinstance(data, dict) or set(data) != {"t", "id"}:
        raise InvalidCursor("not a cursor")
    if data["t"] is not None and not isinstance(data["t"], str):
        raise InvalidCursor("not a cursor")
    return data["t"], data["id"]


def _legacy_page_fields(text: str) -> tuple[str | None, object]:
    # The agent pages' own cursors were base64 of "ISO|id" (an empty ISO for no time); links
    # still open in a browser and bench/inbox.py's later-page URLs carry them. Read, never made.
    at_text, sep, pk_text = text.rpartition("|")
    if not sep or not pk_text.isascii() or not pk_text.isdigit():
        raise InvalidCursor("not a cursor")
    return at_text or None, int(pk_text)


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = parse_datetime(text)
    except ValueError as exc:  # well formed, but no such time (a 31st of February)
        raise InvalidCursor("the cursor's time is not a time") from exc
    if at is None or at.utcoffset() is None:
        raise InvalidCursor("the cursor's time is not an aware time")
    try:
        # In UTC: an offset that carries the time past year 1 or 9999 is refused here, not by
        # the database driver later.
        return at.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidCursor("the cursor's time is out of range") from exc


def _id(value: object) -> int:
    # bool is an int to Python, and a float such as 1e300 or Infinity is none: only a real id.
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise InvalidCursor("the cursor's id is not an id")
    return value
