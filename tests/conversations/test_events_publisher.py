"""Realtime pushes reuse one Redis connection per process instead of opening one per batch."""

from __future__ import annotations

from redis.asyncio.connection import Connection

from conversations import events
from core import groups


def test_twenty_batches_are_pushed_over_the_same_connection(monkeypatch):
    events._publish([(groups.number(1), (("type", "conversation.updated"),))])  # the process's first push
    opened = []
    real_connect = Connection._connect

    async def counting_connect(self):  # the real socket connect, counted (other processes share the server)
        opened.append(self)
        return await real_connect(self)

    monkeypatch.setattr(Connection, "_connect", counting_connect)
    for index in range(20):
        with events.batched():
            events._push([groups.number(1)], {"type": "conversation.updated", "conversation_id": index})
    # async_to_sync started a new event loop, so a new connection pool, for every batch.
    assert len(opened) <= 1


def test_a_push_that_cannot_finish_is_given_up_without_failing_the_write(monkeypatch, caplog):
    class StuckLayer:
        async def group_send(self, name, message):
            import asyncio

            await asyncio.sleep(60)

    monkeypatch.setattr(events, "get_channel_layer", lambda: StuckLayer())
    monkeypatch.setattr(events, "PUSH_TIMEOUT_SECONDS", 0.2)
    events._publish([(groups.number(1), (("type", "conversation.updated"),))])  # returns, logs
    assert "realtime pushes failed" in caplog.text
