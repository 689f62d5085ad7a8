"""The one keyset cursor codec (core.cursors): what it makes round-trips, anything else is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core import cursors
from core.cursors import InvalidCursor, Position


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _json_cursor(**fields) -> str:
    return _b64(json.dumps(fields))


@pytest.mark.parametrize(
    "position",
    [
        Position(datetime(2026, 6, 1, 10, 0, 0, 123456, tzinfo=UTC), 42),
        Position(None, 7),  # a thread without any message
        Position(datetime(2026, 6, 1, 10, tzinfo=UTC), cursors.MAX_ID),
    ],
)
def test_what_it_encodes_decodes_to_the_same_position(position):
    value = cursors.encode(*position)
    assert cursors.decode(value) == position
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")  # as is in a URL


def test_a_time_in_another_zone_decodes_to_the_same_instant_in_utc():
    berlin = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    decoded = cursors.decode(cursors.encode(berlin, 1))
    assert decoded.at == berlin and decoded.at.tzinfo == UTC


def test_a_naive_time_is_never_encoded():
    with pytest.raises(ValueError):
        cursors.encode(datetime(2026, 6, 1, 10), 1)


def test_the_apis_earlier_cursors_still_decode():
    # conversations and billing answered `next` as base64 of json.dumps({"t", "id"}), spaces included.
    earlier = _b64(json.dumps({"t": "2026-06-01T10:00:00+00:00", "id": 5}))
    assert cursors.decode(earlier) == Position(datetime(2026, 6, 1, 10, tzinfo=UTC), 5)
    assert cursors.decode(_b64(json.dumps({"t": None, "id": 5}))) == Position(None, 5)


def test_the_pages_earlier_cursors_still_decode():
    # The agent pages' own "ISO|id" form (bench/inbox.py still builds its later-page URLs so).
    assert cursors.decode(_b64("2026-06-01T10:00:00+00:00|5")) == Position(datetime(2026, 6, 1, 10, tzinfo=UTC), 5)
    assert cursors.decode(_b64("|5")) == Position(None, 5)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage!",
        "a b",
        "x" * (cursors.MAX_LENGTH + 1),
        _b64(json.dumps({"t": None, "id": 5})) + "==",  # padding is not ours
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),  # not text
        _b64("{"),  # broken JSON
        _b64("[]"),
        _b64("{}"),
        _json_cursor(t=None),
        _json_cursor(id=5),
        _json_cursor(t=None, id=5, extra=1),
        _json_cursor(t=None, id="5"),
        _json_cursor(t=None, id=True),
        _json_cursor(t=None, id=1.5),
        _json_cursor(t=None, id=-1),
        _json_cursor(t=None, id=2**63),
        _json_cursor(t=None, id=10**400),
        _b64('{"t": null, "id": Infinity}'),
        _b64('{"t": null, "id": NaN}'),
        _json_cursor(t=12, id=5),
        _json_cursor(t="", id=5),
        _json_cursor(t="yesterday", id=5),
        _json_cursor(t="2026-06-01T10:00:00", id=5),  # naive
        _json_cursor(t="2026-02-31T10:00:00+00:00", id=5),  # no such day
        _json_cursor(t="0001-01-01T00:00:00+14:00", id=5),  # before year 1 in UTC
        _b64("2026-06-01T10:00:00|5"),  # naive, the pages' old form
        _b64("2026-06-01T10:00:00+00:00|"),
        _b64("2026-06-01T10:00:00+00:00|x5"),
        _b64("2026-06-01T10:00:00+00:00|٣"),  # a digit, but not an ASCII one
        _b64("no separator"),
    ],
)
def test_anything_else_is_refused_as_an_invalid_cursor(value):
    with pytest.raises(InvalidCursor):
        cursors.decode(value)


def test_an_invalid_cursor_is_a_value_error():
    assert issubclass(InvalidCursor, ValueError)


def test_split_page_gives_the_next_start_only_when_a_row_is_left_over():
    def position_of(n):
        return Position(None, n)

    assert cursors.split_page([5, 4, 3], 2, position_of) == ([5, 4], Position(None, 4))
    assert cursors.split_page([5, 4], 2, position_of) == ([5, 4], None)
    assert cursors.split_page([], 2, position_of) == ([], None)
