"""The 24-hour customer service window, as pure functions of time (no ORM, no clock).

The window opens or renews with each inbound customer message, counted from that message's
own timestamp (Meta's, not our arrival time). Meta's 131047 refusal closes it early.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def expires_at(last_inbound_at: datetime | None, *, closed_at: datetime | None = None) -> datetime | None:
    """When the window closes (or closed); None if the customer never wrote."""
    if last_inbound_at is None:
        return None
    end = _aware(last_inbound_at, "last_inbound_at") + WINDOW
    if closed_at is not None and _aware(closed_at, "closed_at") >= last_inbound_at:
        return min(end, closed_at)
    return end


def is_open(last_inbound_at: datetime | None, now: datetime, *, closed_at: datetime | None = None) -> bool:
    end = expires_at(last_inbound_at, closed_at=closed_at)
    return end is not None and _aware(now, "now") < end


def time_left(last_inbound_at: datetime | None, now: datetime, *, closed_at: datetime | None = None) -> timedelta:
    end = expires_at(last_inbound_at, closed_at=closed_at)
    if end is None:
        return timedelta(0)
    return max(end - _aware(now, "now"), timedelta(0))
