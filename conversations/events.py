"""All realtime broadcasting for conversations goes through here (small dicts, on commit).

Events go to `number.<id>` (every agent working that inbox) and to `agent.<id>` for the
assignee, as {"type": "inbox.events", "payloads": [{...}, ...]} (everything one commit or one
processor batch announced, coalesced). The consumer turns them into
htmx out-of-band swaps; a browser that missed events re-fetches on reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING

from channels.layers import get_channel_layer
from django.db import transaction

from core import groups

if TYPE_CHECKING:
    from conversations.models import Conversation, Message

log = logging.getLogger(__name__)

MESSAGE_NEW = "message.new"
MESSAGE_UPDATED = "message.updated"
CONVERSATION_UPDATED = "conversation.updated"
USER_CHANGED = "user.changed"


def _groups_for(conversation: Conversation) -> list[str]:
    names = [groups.number(conversation.number_id)]
    if conversation.assignee_id:
        names.append(groups.agent(conversation.assignee_id))
    return names


_batch = threading.local()


@contextmanager
def batched():
    """Collect the events committed inside, and publish them once at the end, coalesced.

    The webhook processor wraps each batch in this: a batch of 200 messages then costs one
    push per group instead of two per message, and a thread that
    changed five times in the batch is announced once. Events of a rolled-back transaction were
    never collected (they are sent on commit), so nothing is announced that did not happen.
    """
    outer = getattr(_batch, "pending", None)
    if outer is not None:  # already inside a batch: the outer one publishes
        yield
        return
    _batch.pending = {}
    try:
        yield
    finally:
        pending, _batch.pending = _batch.pending, None
        if pending:
            _publish(list(pending), prerender=True)


def _push(names: list[str], payload: dict) -> None:
    pending = getattr(_batch, "pending", None)
    if pending is not None:
        for name in names:
            # A dict keeps the order of first sight and drops exact repeats.
            pending.setdefault((name, tuple(sorted(payload.items()))), None)
        return
    _publish([(name, tuple(sorted(payload.items()))) for name in names])


# Hooks that compute, once per batch and per conversation, what every receiver would otherwise
# compute for itself (inbox.live renders the list rows); registered by apps when they start.
_prerenderers: list[Callable[[list[dict]], dict[int, dict]]] = []


def prerender_batches_with(hook: Callable[[list[dict]], dict[int, dict]]) -> None:
    """`hook(payloads)` returns {conversation id: {key: value}}; a batch's message to a group
    carries, as "rendered", the entries of the conversations in that group's payloads."""
    if hook not in _prerenderers:
        _prerenderers.append(hook)


def _prerendered(payloads: list[dict]) -> dict[int, dict]:
    rendered: dict[int, dict] = {}
    for hook in _prerenderers:
        try:
            for conversation_id, parts in hook(payloads).items():
                rendered.setdefault(conversation_id, {}).update(parts)
        except Exception:  # the receivers render it themselves, as without the hook
            log.exception("pre-rendering a batch failed")
    return rendered


def _publish(items: list[tuple[str, tuple]], *, prerender: bool = False) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    # One message per group, carrying every event for it in order (the consumer's inbox_events).
    by_group: dict[str, list[dict]] = {}
    for name, payload in items:
        by_group.setdefault(name, []).append(dict(payload))
    # Only the processor's batches (many receivers, no request waiting on them) are pre-rendered.
    rendered = _prerendered(list(map(dict, dict.fromkeys(p for _, p in items)))) if prerender else {}

    # An assignee hears their thread through two groups (number and agent); the shared batch id
    # lets their socket drop the second copy.
    batch = uuid.uuid4().hex

    def message(payloads: list[dict]) -> dict:
        mine = {str(c): rendered[c] for p in payloads if (c := p.get("conversation_id")) in rendered}
        return {"type": "inbox.events", "batch": batch, "payloads": payloads} | ({"rendered": mine} if mine else {})

    async def send_all() -> None:
        for name, payloads in by_group.items():
            try:
                await layer.group_send(name, message(payloads))
            except Exception:  # a lost push only delays a browser until it re-fetches; never fail the write
                log.exception("realtime push to %s failed", name)

    try:
        _publisher().run(send_all(), timeout=PUSH_TIMEOUT_SECONDS)
    except Exception:
        log.exception("realtime pushes failed")


# A push that takes longer than this is given up (Redis unreachable): the write never waits on it.
PUSH_TIMEOUT_SECONDS = 5.0


class _Publisher:
    """One event loop, in a thread of its own, for every push of this process.

    The channel layer keeps a Redis connection pool per event loop, and async_to_sync starts a
    new loop for each call: each batch would open (and drop) its own Redis connections. One
    long-lived loop keeps one connection for the life of the process.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="realtime-publisher", daemon=True).start()

    def run(self, coroutine, *, timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise


_publisher_instance: _Publisher | None = None
_publisher_lock = threading.Lock()


def _publisher() -> _Publisher:
    """This process's publisher (a forked worker starts its own: threads do not survive a fork)."""
    global _publisher_instance
    with _publisher_lock:
        if _publisher_instance is None or _publisher_instance.pid != os.getpid():
            _publisher_instance = _Publisher()
        return _publisher_instance


def _send_on_commit(names: list[str], payload: dict) -> None:
    transaction.on_commit(lambda: _push(names, payload))


def message_changed(message: Message, *, created: bool = False) -> None:
    """A message was added to a thread (created=True) or changed (status, media, error)."""
    conversation = message.conversation
    payload = {
        "type": MESSAGE_NEW if created else MESSAGE_UPDATED,
        "conversation_id": conversation.pk,
        "number_id": conversation.number_id,
        "message_id": message.pk,
    }
    _send_on_commit(_groups_for(conversation), payload)


def conversation_changed(conversation: Conversation, *, previous_assignee_id: int | None = None) -> None:
    """A thread's status, assignee, window, unread count or contact changed."""
    names = _groups_for(conversation)
    # The agent who just lost the thread must hear about it too, to drop it from "mine".
    if previous_assignee_id and previous_assignee_id != conversation.assignee_id:
        names.append(groups.agent(previous_assignee_id))
    _send_on_commit(
        names, {"type": CONVERSATION_UPDATED, "conversation_id": conversation.pk, "number_id": conversation.number_id}
    )


def user_changed(user_id: int) -> None:
    """The user's access changed (active, role, numbers): their open sockets read it again."""
    _send_on_commit([groups.agent(user_id)], {"type": USER_CHANGED, "user_id": user_id})
