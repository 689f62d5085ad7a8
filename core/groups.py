"""Names of the channel-layer groups realtime events are sent to."""

from __future__ import annotations


def agent(user_id: int) -> str:
    return f"agent.{user_id}"


def number(business_number_id: int) -> str:
    return f"number.{business_number_id}"


def for_user(user) -> list[str]:
    """An agent hears about their own work and the numbers whose inbox they work."""
    from conversations.selectors import numbers_for_user

    return [agent(user.pk)] + [number(n.pk) for n in numbers_for_user(user)]
