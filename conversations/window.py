"""The 24-hour customer service window, as pure functions of time (no ORM, no clock).

The window opens or renews with each inbound customer message, counted from that message's
own timestamp (Meta's, not our arrival time). Meta's 131047 refusal closes it early. Outside
it only an approved template may be sent (the send services ask `is_open` before anything else).
The same rule in SQL is conversations.selectors.window_open_q; a property test holds them equal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

WINDOW = timedelta(hours=24)

# Inbound types that do not open or renew the window: a reaction, a system notice (the customer
# changed number) or a message type Meta could not show us is not the customer writing to us.
NON_WINDOW_TYPES = frozenset({"reaction", "system", "unsupported"})


def renews_window(message_type: str) -> bool:
    """Whether an inbound message of this type opens or renews the window."""
    return message_type not in NON_WINDOW_TYPES


def _aware(value: datetime, name: str) -> datetime:
    """The value in UTC. Python adds timedeltas to aware datetimes on the wall clock of their own
    zone, so 12:00 Berlin + 24 h is 12:00 the next day even across a DST change (23 or 25 real
    hours); in UTC it is always 24 real hours."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(UTC)


def expires_at(last_inbound_at: datetime | None, *, closed_at: datetime | None = None) -> datetime | None:
    """When the window closes (or closed); None if the customer never wrote."""
    if last_inbound_at is None:
        return None
    start = _aware(last_inbound_at, "last_inbound_at")
    end = start + WINDOW
    if closed_at is not None and _aware(closed_at, "closed_at") >= start:
        return min(end, _aware(closed_at, "closed_at"))
    return end


def is_open(last_inbound_at: datetime | None, now: datetime, *, closed_at: datetime | None = None) -> bool:
    end = expires_at(last_inbound_at, closed_at=closed_at)
    return end is not None and _aware(now, "now") < end


def time_left(last_inbound_at: datetime | None, now: datetime, *, closed_at: datetime | None = None) -> timedelta:
    end = expires_at(last_inbound_at, closed_at=closed_at)
    if end is None:
        return timedelta(0)
    return max(end - _aware(now, "now"), timedelta(0))
