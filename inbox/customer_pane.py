"""What the customer pane shows beside a thread: the customer's other threads, their labels,
notes about them, their likely language, and this thread's history.

Opening a thread reads this every time. Each piece is a small read-only list, and through the
ORM each was a query of its own that cost 0.7-1.5 ms of CPU to build and compile (a plain
statement costs 0.1 ms): about a sixth of the thread pane's CPU. So they come in one statement
written here, one row of JSON lists, on PostgreSQL (on SQLite, `make run`'s embedded database,
the ORM reads the same: conversations.selectors.conversation_history for the history). Which
threads the reader may see stays the ORM's (conversations.selectors.conversations_for_user),
compiled into that statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet

from conversations.models import (
    BusinessNumber,
    ContactNote,
    Conversation,
    ConversationActivity,
    Label,
    Message,
    number_shown,
)
from conversations.selectors import conversation_history, conversations_for_user
from inbox.queries import Teammate


@dataclass(frozen=True, slots=True)
class OtherThread:
    """Another thread of the same customer, as the pane lists it."""

    pk: int
    status: str
    last_message_at: datetime | None
    number: str  # as the pages name the number

    def get_status_display(self) -> str:
        return str(Conversation.Status(self.status).label)


@dataclass(frozen=True, slots=True)
class LabelName:
    name: str


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    created_at: datetime
    author: Teammate | None  # None: the author's account was deleted since


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A ConversationActivity as the pane tells it (history_tags.activity_sentence)."""

    kind: str
    at: datetime
    status: str
    label: str
    snooze_until: datetime | None
    actor: Teammate | None  # None: done by the inbox itself, or by an account deleted since
    assignee: Teammate | None


NOTES_SHOWN = 50
HISTORY_SHOWN = 10


def contact_details(user, conversation: Conversation) -> dict:
    """The pane's context: `other_conversations`, `contact_labels`, `contact_notes`,
    `contact_language` and `thread_history`."""
    visible = conversations_for_user(user).filter(contact_id=conversation.contact_id)
    read = _in_one_statement if connection.vendor == "postgresql" else _by_the_orm
    return read(visible, conversation)


def _in_one_statement(visible: QuerySet[Conversation], conversation: Conversation) -> dict:
    # The scope's list order means nothing inside IN (...): left out, Django compiles it cheaper.
    scope, scope_params = visible.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_details_sql(scope), (*scope_params, conversation.pk, conversation.contact_id, conversation.pk))
        others, labels, language, notes, history = cursor.fetchone()
    return {
        "other_conversations": [
            OtherThread(pk, status, _time(at), number_shown(name, display)) for pk, status, at, name, display in others
        ],
        "contact_labels": [LabelName(name) for name in labels],
        "contact_notes": [Note(text, _time(at), _teammate(author)) for text, at, author in notes],
        "thread_history": [
            HistoryEntry(kind, _time(at), status, label, _time(until), _teammate(actor), _teammate(assignee))
            for kind, at, status, label, until, actor, assignee in history
        ],
        # WhatsApp does not tell a customer's language; the last template language sent is the best hint.
        "contact_language": language or "",
    }


def _by_the_orm(visible: QuerySet[Conversation], conversation: Conversation) -> dict:
    """The same through the ORM in five queries, for SQLite (`make run`'s embedded database),
    which has no json_agg. tests/inbox/test_contact_pane.py holds the two ways equal on PostgreSQL."""
    others = visible.exclude(pk=conversation.pk).select_related("number").order_by("-last_message_at", "-id")
    labels = Label.objects.filter(conversations__in=visible).distinct().order_by("name")
    notes = ContactNote.objects.filter(contact_id=conversation.contact_id).select_related("author")[:NOTES_SHOWN]
    language = (
        Message.objects.filter(conversation__in=visible)
        .exclude(template_language="")
        .order_by("-created_at")
        .values_list("template_language", flat=True)
        .first()
    )
    return {
        "other_conversations": [OtherThread(c.pk, c.status, c.last_message_at, str(c.number)) for c in others],
        "contact_labels": [LabelName(label.name) for label in labels],
        "contact_notes": [Note(n.text, n.created_at, _named(n.author)) for n in notes],
        "contact_language": language or "",
        "thread_history": [
            HistoryEntry(a.kind, a.at, a.status, a.label, a.snooze_until, _named(a.actor), _named(a.assignee))
            for a in conversation_history(conversation, limit=HISTORY_SHOWN)
        ],
    }


def _named(user) -> Teammate | None:
    return None if user is None else Teammate(user.pk, user.username, user.first_name, user.last_name)


def _teammate(names: list[str] | None) -> Teammate | None:
    """[id, username, first name, last name] as the statement gives them; null for no one."""
    return None if names is None else Teammate(*names)


def _details_sql(scope: str) -> str:
    """One statement, one row: the other threads (newest activity first), the labels of every
    thread of the customer's the reader may see (by name), the last template language sent to
    them, the newest notes about them, and this thread's latest history. Lists come as JSON arrays
    of arrays; a teammate as [id, username, first name, last name], or null."""
    conversations, numbers = Conversation._meta.db_table, BusinessNumber._meta.db_table
    activities = ConversationActivity._meta.db_table

    def teammate(alias: str) -> str:
        person = f"{alias}.id, {alias}.username, {alias}.first_name, {alias}.last_name"
        return f"CASE WHEN {alias}.id IS NOT NULL THEN json_build_array({person}) END"

    labels, labelled = Label._meta.db_table, Conversation.labels.through._meta.db_table
    notes, users, messages = ContactNote._meta.db_table, get_user_model()._meta.db_table, Message._meta.db_table
    return f"""
        WITH visible AS ({scope})
        SELECT
          (SELECT COALESCE(json_agg(json_build_array(c.id, c.status, c.last_message_at, n.name, n.display_phone_number)
                                    ORDER BY c.last_message_at DESC NULLS FIRST, c.id DESC), '[]')
             FROM {conversations} c JOIN {numbers} n ON n.id = c.number_id
            WHERE c.id IN (SELECT * FROM visible) AND c.id <> %s),
          ARRAY(SELECT l.name FROM {labels} l
                 WHERE l.id IN (SELECT cl.label_id FROM {labelled} cl
                                 WHERE cl.conversation_id IN (SELECT * FROM visible))
                 ORDER BY l.name),
          (SELECT m.template_language FROM {messages} m
            WHERE m.conversation_id IN (SELECT * FROM visible) AND m.template_language <> ''
            ORDER BY m.created_at DESC LIMIT 1),
          (SELECT COALESCE(json_agg(json_build_array(newest.text, newest.created_at, newest.author)
                                    ORDER BY newest.created_at DESC, newest.id DESC), '[]')
             FROM (SELECT n.id, n.text, n.created_at, {teammate("u")} AS author
                     FROM {notes} n LEFT JOIN {users} u ON u.id = n.author_id
                    WHERE n.contact_id = %s
                    ORDER BY n.created_at DESC, n.id DESC
                    LIMIT {NOTES_SHOWN}) newest),
          (SELECT COALESCE(json_agg(json_build_array(latest.kind, latest.at, latest.status, latest.label,
                                                     latest.snooze_until, latest.actor, latest.assignee)
                                    ORDER BY latest.at DESC, latest.id DESC), '[]')
             FROM (SELECT a.id, a.kind, a.at, a.status, a.label, a.snooze_until,
                          {teammate("actor")} AS actor, {teammate("assignee")} AS assignee
                     FROM {activities} a
                     LEFT JOIN {users} actor ON actor.id = a.actor_id
                     LEFT JOIN {users} assignee ON assignee.id = a.assignee_id
                    WHERE a.conversation_id = %s
                    ORDER BY a.at DESC, a.id DESC
                    LIMIT {HISTORY_SHOWN}) latest)
    """


def _time(value: str | None) -> datetime | None:
    """A timestamptz as JSON gives it (ISO 8601 with the offset)."""
    return datetime.fromisoformat(value) if value else None
