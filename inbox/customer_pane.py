"""What the customer pane shows beside a thread: the customer's other threads, their labels,
notes about them, their likely language, and this thread's history.

Opening a thread reads this every time. Each piece is a small read-only list, and through the
ORM each cost 0.7-1.5 ms of CPU to build and compile (a plain statement costs 0.1 ms), about a
sixth of the thread pane's CPU; so the pieces are read here by hand. Which threads the reader
may see stays the ORM's (conversations.selectors.conversations_for_user), compiled once and
used by the three statements that need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection

from conversations.models import BusinessNumber, ContactNote, Conversation, Label, Message, number_shown
from conversations.selectors import conversation_history, conversations_for_user


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
class NoteAuthor:
    username: str
    first_name: str
    last_name: str

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    created_at: datetime
    author: NoteAuthor | None  # None: the author's account was deleted since


NOTES_SHOWN = 50


def contact_details(user, conversation: Conversation) -> dict:
    """The pane's context: `other_conversations`, `contact_labels`, `contact_notes`,
    `contact_language` and `thread_history`."""
    scope, scope_params = (
        conversations_for_user(user).filter(contact_id=conversation.contact_id).values("pk").query.sql_with_params()
    )
    others = _other_threads(scope, scope_params, conversation.pk)
    # Most customers write to one number: their labels are this thread's, already read with it
    # (by name, as _labels reads them).
    labels = _labels(scope, scope_params) if others else [LabelName(label.name) for label in conversation.labels.all()]
    return {
        "other_conversations": others,
        "contact_labels": labels,
        "contact_notes": _notes(conversation.contact_id),
        # WhatsApp does not tell a customer's language; the last template language sent is the best hint.
        "contact_language": _language(scope, scope_params),
        "thread_history": conversation_history(conversation),
    }


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _other_threads(scope: str, params, this_pk: int) -> list[OtherThread]:
    sql = f"""
        SELECT c.id, c.status, c.last_message_at, n.name, n.display_phone_number
          FROM {Conversation._meta.db_table} c
          JOIN {BusinessNumber._meta.db_table} n ON n.id = c.number_id
         WHERE c.id IN ({scope}) AND c.id <> %s
         ORDER BY c.last_message_at DESC NULLS FIRST, c.id DESC
    """
    return [
        OtherThread(pk, status, at, number_shown(name, display))
        for pk, status, at, name, display in _rows(sql, (*params, this_pk))
    ]


def _labels(scope: str, params) -> list[LabelName]:
    """The labels of every thread of the customer's that the reader may see, by name."""
    labelled = Conversation.labels.through._meta.db_table
    sql = f"""
        SELECT l.name FROM {Label._meta.db_table} l
         WHERE l.id IN (SELECT cl.label_id FROM {labelled} cl WHERE cl.conversation_id IN ({scope}))
         ORDER BY l.name
    """
    return [LabelName(name) for (name,) in _rows(sql, params)]


def _notes(contact_id: int) -> list[Note]:
    """The newest notes about the customer first (ContactNote's order)."""
    sql = f"""
        SELECT n.text, n.created_at, u.username, u.first_name, u.last_name
          FROM {ContactNote._meta.db_table} n
          LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = n.author_id
         WHERE n.contact_id = %s
         ORDER BY n.created_at DESC, n.id DESC
         LIMIT {NOTES_SHOWN}
    """
    return [
        Note(text, created_at, None if username is None else NoteAuthor(username, first, last))
        for text, created_at, username, first, last in _rows(sql, (contact_id,))
    ]


def _language(scope: str, params) -> str:
    sql = f"""
        SELECT m.template_language FROM {Message._meta.db_table} m
         WHERE m.conversation_id IN ({scope}) AND m.template_language <> ''
         ORDER BY m.created_at DESC
         LIMIT 1
    """
    found = _rows(sql, params)
    return found[0][0] if found else ""
