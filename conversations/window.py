"""The 24-hour customer service window, as pure functions of time (no ORM, no clock).

The window opens or renews with each inbound customer message, counted from that message's
own timestamp (Meta's, not our arrival time). Meta's 131047 refusal closes it early.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

WINDOW = timedelta(hours=24)


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
