"""The conversation list's rows, read in one SQL statement into plain objects.

A list row shows a thread, its customer, number, assignee, labels and last message. Read
through the ORM that was four models per row, a prefetch of the labels and a query for the last
messages: two thirds of the list page's CPU went to compiling those queries and building the
models (bench/inbox.py: 9.3 ms of a 26 ms page). The rows are read-only, so they are read here
by hand: which threads, and in which order, is still the ORM's (the filters, the search and the
reader's scope live in conversations.selectors); what a row shows is this one statement, on
PostgreSQL. On SQLite (the embedded database of `make run`) the ORM reads the same rows.

`ListRow` has the attributes the row's markup (inbox.fragments.conversation_row), the live list
and the window rules (inbox.queries.window_state) read of a conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery

from conversations import window
from conversations.models import (
    BusinessNumber,
    Contact,
    Conversation,
    Label,
    Message,
    contact_initial,
    contact_shown,
    number_shown,
)


@dataclass(slots=True)
class ListRow:
    pk: int
    status: str
    unread_count: int
    assignee_id: int | None
    number_id: int
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    window_closed_at: datetime | None
    contact: str  # as the pages name the customer (Contact.display_name)
    contact_initial: str  # the avatar's letter
    number: str  # as the pages name the number (BusinessNumber.__str__)
    assignee: str  # as the pages name the agent (full name, else username); "" when unassigned
    labels: tuple[str, ...]  # names, in alphabetical order
    last_text: str | None
    last_type: str | None
    last_direction: str | None
    last_status: str | None
    last_at: datetime | None  # the last message's own time: Meta's, else when we queued it

    @property
    def id(self) -> int:
        return self.pk

    def get_status_display(self) -> str:
        return str(Conversation.Status(self.status).label)

    def window_expires_at(self) -> datetime | None:
        return window.expires_at(self.last_inbound_at, closed_at=self.window_closed_at)

    def window_open(self, at: datetime) -> bool:
        return window.is_open(self.last_inbound_at, at, closed_at=self.window_closed_at)


def _sql() -> str:
    conversations = Conversation._meta.db_table
    contacts = Contact._meta.db_table
    numbers = BusinessNumber._meta.db_table
    users = get_user_model()._meta.db_table
    messages = Message._meta.db_table
    labels = Label._meta.db_table
    labelled = Conversation.labels.through._meta.db_table
    # The last message is the one the thread ends with (msg_thread_order_idx's order), from
    # either side, notes included. Only a reaction that still stands counts: not an empty one
    # (a reaction taken back), nor one that the same side replaced or took back later.
    return f"""
        SELECT c.id, c.status, c.unread_count, c.assignee_id, c.number_id,
               c.last_message_at, c.last_inbound_at, c.window_closed_at,
               ct.name, ct.profile_name, ct.wa_id, ct.user_id,
               n.name, n.display_phone_number,
               u.first_name, u.last_name, u.username,
               ARRAY(SELECT l.name FROM {labelled} cl JOIN {labels} l ON l.id = cl.label_id
                      WHERE cl.conversation_id = c.id ORDER BY l.name),
               m.text, m.type, m.direction, m.status, COALESCE(m.sent_at, m.created_at)
          FROM {conversations} c
          JOIN {contacts} ct ON ct.id = c.contact_id
          JOIN {numbers} n ON n.id = c.number_id
          LEFT JOIN {users} u ON u.id = c.assignee_id
          LEFT JOIN LATERAL (
                SELECT m.text, m.type, m.direction, m.status, m.sent_at, m.created_at
                  FROM {messages} m
                 WHERE m.conversation_id = c.id
                   AND NOT (m.type = 'reaction' AND m.text = '')
                   AND NOT (m.type = 'reaction' AND EXISTS (
                        SELECT 1 FROM {messages} later
                         WHERE later.conversation_id = m.conversation_id AND later.type = 'reaction'
                           AND later.direction = m.direction AND later.context_wamid = m.context_wamid
                           AND later.created_at > m.created_at))
                 ORDER BY m.created_at DESC, m.id DESC
                 LIMIT 1) m ON TRUE
         WHERE c.id = ANY(%s)
    """


_SQL: str | None = None


def list_rows(ids: list[int]) -> list[ListRow]:
    """The rows of these conversations, in the order of `ids` (none for no ids)."""
    if not ids:
        return []
    found = _rows_in_one_statement(ids) if connection.vendor == "postgresql" else _rows_by_the_orm(ids)
    by_id = {row.pk: row for row in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def _rows_in_one_statement(ids: list[int]) -> list[ListRow]:
    global _SQL
    if _SQL is None:
        _SQL = _sql()
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [list(ids)])
        return [_row(values) for values in cursor.fetchall()]


def _rows_by_the_orm(ids: list[int]) -> list[ListRow]:
    """The same rows through the ORM in three queries, for SQLite (`make run`'s embedded
    database), which has no LATERAL join or arrays. tests/inbox/test_list_row.py holds the two
    ways equal on PostgreSQL."""
    replaced = Message.objects.filter(
        conversation=OuterRef("conversation"),
        type="reaction",
        direction=OuterRef("direction"),
        context_wamid=OuterRef("context_wamid"),
        created_at__gt=OuterRef("created_at"),
    )
    last = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .exclude(type="reaction", text="")
        .exclude(Q(type="reaction") & Exists(replaced))
        .order_by("-created_at", "-id")
    )
    conversations = list(
        Conversation.objects.filter(pk__in=ids)
        .select_related("contact", "number", "assignee")
        .annotate(last_id=Subquery(last.values("pk")[:1]))
        .prefetch_related(Prefetch("labels", queryset=Label.objects.order_by("name")))
    )
    messages = Message.objects.in_bulk([c.last_id for c in conversations if c.last_id is not None])
    return [_row(_values_of(c, messages.get(c.last_id))) for c in conversations]


def _values_of(c: Conversation, last: Message | None) -> tuple:
    """A conversation read by the ORM as the columns of _sql() (what _row reads)."""
    contact, number, assignee = c.contact, c.number, c.assignee
    people = (assignee.first_name, assignee.last_name, assignee.username) if assignee else (None, None, None)
    shown = (None,) * 5
    if last is not None:
        shown = (last.text, last.type, last.direction, last.status, last.sent_at or last.created_at)
    return (
        (c.pk, c.status, c.unread_count, c.assignee_id, c.number_id)
        + (c.last_message_at, c.last_inbound_at, c.window_closed_at)
        + (contact.name, contact.profile_name, contact.wa_id, contact.user_id)
        + (number.name, number.display_phone_number)
        + people
        + ([label.name for label in c.labels.all()],)
        + shown
    )


def _row(values: tuple) -> ListRow:
    (pk, status, unread, assignee_id, number_id, last_message_at, last_inbound_at, window_closed_at,
     contact_name, profile_name, wa_id, user_id, number_name, display_number, first, last, username,
     labels, last_text, last_type, last_direction, last_status, last_at) = values  # fmt: skip
    assignee = "" if assignee_id is None else (f"{first} {last}".strip() or username)
    return ListRow(
        pk=pk,
        status=status,
        unread_count=unread,
        assignee_id=assignee_id,
        number_id=number_id,
        last_message_at=last_message_at,
        last_inbound_at=last_inbound_at,
        window_closed_at=window_closed_at,
        contact=contact_shown(contact_name, profile_name, wa_id, user_id),
        contact_initial=contact_initial(contact_name, profile_name, wa_id),
        number=number_shown(number_name, display_number),
        assignee=assignee,
        labels=tuple(labels),
        last_text=last_text,
        last_type=last_type,
        last_direction=last_direction,
        last_status=last_status,
        last_at=last_at,
    )
