"""Realtime pushes reuse one Redis connection per process instead of opening one per batch."""

from __future__ import annotations

import redis
from django.conf import settings

from conversations import events
from inbox import groups


def _connections_accepted() -> int:
    return int(redis.Redis.from_url(settings.REDIS_URL).info("stats")["total_connections_received"])


def test_twenty_batches_are_pushed_over_the_same_connection():
    events._publish([(groups.number(1), (("type", "conversation.updated"),))])  # the process's first push
    before = _connections_accepted()
    for index in range(20):
        with events.batched():
            events._push([groups.number(1)], {"type": "conversation.updated", "conversation_id": index})
    # One for this measurement's own client; async_to_sync opened a new connection per batch.
    assert _connections_accepted() - before <= 2


def test_a_push_that_cannot_finish_is_given_up_without_failing_the_write(monkeypatch, caplog):
    class StuckLayer:
        async def group_send(self, name, message):
            import asyncio

            await asyncio.sleep(60)

    monkeypatch.setattr(events, "get_channel_layer", lambda: StuckLayer())
    monkeypatch.setattr(events, "PUSH_TIMEOUT_SECONDS", 0.2)
    events._publish([(groups.number(1), (("type", "conversation.updated"),))])  # returns, logs
    assert "realtime pushes failed" in caplog.text
