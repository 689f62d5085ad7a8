"""All realtime broadcasting for conversations goes through here (small dicts, on commit).

Events go to `number.<id>` (every agent working that inbox) and to `agent.<id>` for the
assignee, as {"type": "inbox.event", "payload": {...}}. The consumer turns them into
htmx out-of-band swaps; a browser that missed events re-fetches on reconnect.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from inbox import groups

if TYPE_CHECKING:
    from conversations.models import Conversation, Message

log = logging.getLogger(__name__)

MESSAGE_NEW = "message.new"
MESSAGE_UPDATED = "message.updated"
CONVERSATION_UPDATED = "conversation.updated"


def _groups_for(conversation: Conversation) -> list[str]:
    names = [groups.number(conversation.number_id)]
    if conversation.assignee_id:
        names.append(groups.agent(conversation.assignee_id))
    return names


def _push(names: list[str], payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for name in names:
        try:
            async_to_sync(layer.group_send)(name, {"type": "inbox.event", "payload": payload})
        except Exception:  # a lost push only delays a browser until it re-fetches; never fail the write
            log.exception("realtime push to %s failed", name)


def _send_on_commit(names: list[str], payload: dict) -> None:
    transaction.on_commit(lambda: _push(names, payload))


def message_changed(message: Message, *, created: bool = False) -> None:
    """A message was added to a thread (created=True) or changed (status, media, error)."""
    conversation = message.conversation
    payload = {
        "type": MESSAGE_NEW if created else MESSAGE_UPDATED,
        "conversation_id": conversation.pk,
        "message_id": message.pk,
    }
    _send_on_commit(_groups_for(conversation), payload)


def conversation_changed(conversation: Conversation, *, previous_assignee_id: int | None = None) -> None:
    """A thread's status, assignee, window, unread count or contact changed."""
    names = _groups_for(conversation)
    # The agent who just lost the thread must hear about it too, to drop it from "mine".
    if previous_assignee_id and previous_assignee_id != conversation.assignee_id:
        names.append(groups.agent(previous_assignee_id))
    _send_on_commit(names, {"type": CONVERSATION_UPDATED, "conversation_id": conversation.pk})
