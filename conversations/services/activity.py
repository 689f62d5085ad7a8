"""The thread's history (ConversationActivity): one row per change, written by the service that
made the change, in its transaction, so a change and its history entry commit together."""

from __future__ import annotations

from datetime import datetime

from conversations.models import ConversationActivity

Kind = ConversationActivity.Kind


def activity_record(*, conversation_id: int, actor, kind: str, at: datetime, **detail) -> ConversationActivity:
    """Record that `actor` (None: the system by itself) did `kind` to the thread at `at`.

    `detail`: the kind's own field (assignee, status, snooze_until or label)."""
    return ConversationActivity.objects.create(conversation_id=conversation_id, actor=actor, kind=kind, at=at, **detail)
