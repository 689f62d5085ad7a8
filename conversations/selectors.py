"""Reads of numbers, conversations and messages, scoped to what a user may see.

Agents see only the conversations of the numbers whose inbox they work, everywhere; admins
(and agents set to all numbers) see every number.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from conversations import window as window_rules
from conversations.models import BusinessNumber, Contact, Conversation, Message
from inbox.params import positive_int
from inbox.roles import ADMIN, role_of


def numbers_for_user(user) -> QuerySet[BusinessNumber]:
    """Admins, and agents set to all numbers, see every number; others see their members' numbers."""
    profile = getattr(user, "profile", None)
    if role_of(user) == ADMIN or (profile is not None and profile.all_numbers):
        return BusinessNumber.objects.all()
    return BusinessNumber.objects.filter(members=user)


def window_open_q(now: datetime) -> Q:
    """conversations/window.py in SQL: the last inbound message is under 24 h old and no 131047 since."""
    return Q(last_inbound_at__gt=now - window_rules.WINDOW) & (
        Q(window_closed_at__isnull=True) | Q(window_closed_at__lt=F("last_inbound_at")) | Q(window_closed_at__gt=now)
    )


def conversations_for_user(
    user,
    *,
    status: str | None = None,
    assignee: str | int | None = None,
    window: str | None = None,
    number: BusinessNumber | int | None = None,
    now: datetime | None = None,
) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first, optionally filtered.

    `assignee` is a user id, "me" or "none"; `window` is "open" or "closed".
    """
    qs = Conversation.objects.filter(number__in=numbers_for_user(user))
    if status:
        qs = qs.filter(status=status)
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee not in (None, ""):
        qs = qs.filter(assignee_id=positive_int(assignee))
    if window in ("open", "closed"):
        open_q = window_open_q(now or timezone.now())
        qs = qs.filter(open_q if window == "open" else ~open_q)
    if number is not None:
        qs = qs.filter(number=number)
    return qs.select_related("contact", "number", "assignee").order_by("-last_message_at", "-id")


def conversation_for_user(user, pk: int) -> Conversation:
    """One conversation, or Http404 when it does not exist or the user may not see it."""
    conversation = conversations_for_user(user).filter(pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def messages_page(
    conversation: Conversation, *, before: tuple[datetime, int] | None = None, limit: int = 50
) -> tuple[list[Message], bool]:
    """Up to `limit` messages older than the `before` keyset (created_at, id), newest last.

    Returns the messages and whether older ones exist. One query (sender and quoted message joined).
    """
    qs = Message.objects.filter(conversation=conversation).select_related("sender", "reply_to")
    if before is not None:
        created_at, pk = before
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    return list(reversed(rows[:limit])), more


_WORD = re.compile(r"\w+", re.UNICODE)


def tsquery_for(query: str) -> str:
    """User input to a safe prefix tsquery: "anna bestel" -> "anna:* & bestel:*" (no operators pass)."""
    words = _WORD.findall(query or "")[:8]
    return " & ".join(f"{w.lower()}:*" for w in words)


class TextMatches(Func):
    """`to_tsvector('simple', text) @@ to_tsquery('simple', q)`: the exact expression of the
    msg_text_fts_idx GIN index (migration 0003), so the index serves it. (Django's SearchVector
    wraps the column in COALESCE, which the index would not match.)"""

    template = "(to_tsvector('simple'::regconfig, %(expressions)s))"
    arg_joiner = ") @@ to_tsquery('simple'::regconfig, "
    output_field = BooleanField()


def _message_text_match(query: str) -> Q | TextMatches | None:
    if connection.vendor == "postgresql":
        tsquery = tsquery_for(query)
        return TextMatches(F("text"), Value(tsquery)) if tsquery else None
    query = query.replace("\x00", "")
    return Q(text__icontains=query) if query.strip() else None


def _contact_match(query: str) -> Q | None:
    query = query.replace("\x00", "").strip()  # PostgreSQL refuses NUL even in a LIKE pattern
    if not query:
        return None
    digits = re.sub(r"\D", "", query)
    # Names by substring (trigram GIN indexes: the WhatsApp profile name and the name an agent
    # gave), numbers by their digits ("+49 151" finds 49151…).
    q = Q(profile_name__icontains=query) | Q(name__icontains=query)
    if len(digits) >= 3:
        q |= Q(wa_id__contains=digits)
    return q


def message_search(user, query: str, *, limit: int = 20) -> list[Message]:
    """Messages whose text matches, newest first, only in conversations the user may see."""
    match = _message_text_match(query)
    if match is None:
        return []
    return list(
        Message.objects.filter(match, conversation__number__in=numbers_for_user(user))
        .exclude(type="note")
        .select_related("conversation__contact")
        .order_by("-created_at", "-id")[:limit]
    )


def search(user, query: str) -> QuerySet[Conversation]:
    """Conversations whose messages or contact (name, number) match `query`, newest activity first."""
    match = _message_text_match(query)
    contact_q = _contact_match(query)
    if match is None and contact_q is None:
        return Conversation.objects.none()
    # One id set as a UNION of two index-served lookups. An OR of two IN-subqueries instead
    # makes PostgreSQL test every conversation against both (a full scan; bench/search.py).
    id_sets = []
    if match is not None:
        id_sets.append(Message.objects.filter(match).values("conversation_id"))
    if contact_q is not None:
        id_sets.append(
            Conversation.objects.filter(contact__in=Contact.objects.filter(contact_q).values("pk")).values("pk")
        )
    ids = id_sets[0].union(*id_sets[1:]) if len(id_sets) > 1 else id_sets[0]
    return conversations_for_user(user).filter(pk__in=ids)
