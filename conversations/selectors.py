"""Reads of numbers, conversations and messages, scoped to what a user may see, and the
delivery sweep's read of queued messages no worker took.

Agents see only the conversations of the numbers whose inbox they work, everywhere; admins
(and agents set to all numbers) see every number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from conversations import window as window_rules
from conversations.models import BusinessNumber, Contact, Conversation, ConversationActivity, Message
from core.params import positive_int
from core.roles import ADMIN, role_of


def sees_every_number(user) -> bool:
    """Admins, and agents set to all numbers, see every number (those added later too)."""
    profile = getattr(user, "profile", None)
    return role_of(user) == ADMIN or (profile is not None and profile.all_numbers)


def numbers_for_user(user) -> QuerySet[BusinessNumber]:
    """Every number for those who see every number; others see the numbers they are members of."""
    if sees_every_number(user):
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
    qs = Conversation.objects.all()
    if not sees_every_number(user):  # every thread has a number: no filter at all for the others
        qs = qs.filter(number__in=numbers_for_user(user))
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


# Digits, spaces and what people write between them: "+49 151 234-56", "(151) 23456", "49.151".
PHONE_NUMBER_LIKE = re.compile(r"\+?[\d\s()./-]+")


def _contact_match(query: str) -> Q | None:
    query = query.replace("\x00", "").strip()  # PostgreSQL refuses NUL even in a LIKE pattern
    if not query:
        return None
    digits = re.sub(r"\D", "", query)
    # Names by substring (trigram GIN indexes: the WhatsApp profile name and the name an agent
    # gave), numbers by their digits ("+49 151" finds 49151…). Only a query written as a phone
    # number is one: an order number ("B4700") is not a search for every customer whose number
    # holds 4700 (thousands, read thread by thread: 50 of the search's 61 ms on bench/inbox.py).
    q = Q(profile_name__icontains=query) | Q(name__icontains=query)
    if len(digits) >= 3 and PHONE_NUMBER_LIKE.fullmatch(query):
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


# The inbox's order: newest activity first (threads without messages first, as the index sorts).
RECENT_FIRST = (F("last_message_at").desc(nulls_first=True), F("id").desc())
# How many of a list's first threads a search probes one by one (each thread's messages read by
# its conversation id) before it asks the text index for every message with the words instead.
# A page (31 rows) is found among 60 for a word in most threads; a rarer word (a name, an order
# number: what agents mostly search for) pays these 60 probes before the index answers.
SEARCH_PROBE_ROWS = 60


def search(
    user, query: str, *, within: QuerySet[Conversation] | None = None, order_by=RECENT_FIRST, limit: int | None = None
) -> QuerySet[Conversation]:
    """Conversations whose messages or contact (name, number) match `query`, newest activity first.

    `within` narrows the search to a filtered list (the user's conversations by default). With
    `limit`, only the first `limit` matches in `order_by` order are wanted (a page), and each way
    of matching stops at its own first `limit` rows (bench/inbox.py measures why).
    """
    base = conversations_for_user(user) if within is None else within
    match = _message_text_match(query)
    contact_q = _contact_match(query)
    if match is None and contact_q is None:
        return base.none()
    # One id set as a UNION of two lookups. An OR of the two instead makes PostgreSQL test every
    # conversation against both (a full scan).
    branches = []
    if contact_q is not None:
        branches.append(base.filter(contact__in=Contact.objects.filter(contact_q).values("pk")))
    if connection.vendor != "postgresql":
        limit = None  # SQLite (make run) cannot limit the parts of a UNION; its data is small
    if match is not None and limit is not None and order_by is RECENT_FIRST:
        return base.filter(pk__in=_page_of_matches(base, tsquery_for(query), branches, limit))
    if limit is None:
        branches = [branch.order_by().values("pk") for branch in branches]
    else:
        branches = [branch.order_by(*order_by).values("pk")[:limit] for branch in branches]
    if match is not None:
        # The threads of every matching message, collected from the text index as one set: as a
        # join instead, PostgreSQL may read every thread's messages for a word found in none.
        branches.append(Message.objects.filter(match).values("conversation_id"))
    ids = branches[0].union(*branches[1:]) if len(branches) > 1 else branches[0]
    return base.filter(pk__in=ids)


@contextmanager
def searching() -> Iterator[None]:
    """Evaluate a search's queryset inside: its queries are planned without parallel workers.

    PostgreSQL cannot estimate a prefix query ("wagner:*"): it expects tens of thousands of
    matching messages and starts parallel workers, whose start costs more than the scan of the
    few messages there are (an order number: 28 ms with workers, 10 ms without, bench/inbox.py's
    data). And each run is planned for its own words, even inside a page that lets PostgreSQL
    reuse plans (inbox.middleware.ReadsPlannedOnceMiddleware): one plan for every word made a
    common word's search 149 ms at p50 instead of about 30. SET LOCAL (set_config's `true`)
    needs a transaction: one of its own, or the caller's; it lasts until that one ends.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
                " set_config('plan_cache_mode', 'force_custom_plan', true)"
            )
        yield


def _page_of_matches(base: QuerySet[Conversation], tsquery: str, others: list, limit: int) -> RawSQL:
    """The ids of the first `limit` threads of `base` (newest first) with a message matching
    `tsquery`, united with the first `limit` of each queryset in `others`.

    Which plan is fast depends on how common the words are, and PostgreSQL cannot tell for a
    prefix query ("rechnung:*"): it once probed all 30,000 open threads for a name found in no
    message (9.6 s). So both are written out and the first decides: probe the list's first
    SEARCH_PROBE_ROWS threads one by one (a word most threads have: done after a few dozen);
    only when that finds fewer than `limit` does the second branch run (a one-time filter), which
    collects the threads of every matching message from the text index once (a rarer word: few
    messages), looks them up by id and keeps the list's first `limit` of them.
    """
    messages = Message._meta.db_table
    text_match = "to_tsvector('simple'::regconfig, m.text) @@ to_tsquery('simple'::regconfig, %s)"
    ordered, ordered_params = base.order_by(*RECENT_FIRST).values("id", "last_message_at").query.sql_with_params()
    # Driven from the hits (a few threads looked up by id), not from the list: PostgreSQL cannot
    # know how few they are and would otherwise sort every thread of the list to join them.
    found = base.filter(pk__in=RawSQL("SELECT conversation_id FROM hits", ())).order_by(*RECENT_FIRST)
    found_sql, found_params = found.values("id")[:limit].query.sql_with_params()
    sql = f"""
        WITH probed AS MATERIALIZED (
            SELECT r.id, r.last_message_at FROM ({ordered} LIMIT %s) r
            WHERE EXISTS (SELECT 1 FROM {messages} m WHERE m.conversation_id = r.id AND {text_match})
            ORDER BY last_message_at DESC NULLS FIRST, id DESC LIMIT %s
        ), hits AS MATERIALIZED (
            SELECT m.conversation_id FROM {messages} m WHERE {text_match}
        )
        (SELECT id FROM probed WHERE (SELECT count(*) FROM probed) >= %s)
        UNION ALL
        (SELECT id FROM ({found_sql}) found WHERE (SELECT count(*) FROM probed) < %s)
    """  # table names come from the model; every value is a parameter
    params = [*ordered_params, SEARCH_PROBE_ROWS, tsquery, limit, tsquery, limit, *found_params, limit]
    for other in others:
        other_sql, other_params = other.order_by(*RECENT_FIRST).values("id").query.sql_with_params()
        sql += f" UNION ({other_sql} LIMIT %s)"
        params += [*other_params, limit]
    return RawSQL(sql, params)


# A queued message this old was not taken by any worker (its publish was lost). Messages that
# wait for a retry after a transient error were claimed recently and are left to their retry.
RETRY_WAIT_AT_MOST = timedelta(minutes=6)


def messages_queued_unclaimed(*, now: datetime, limit: int = 500) -> list[int]:
    """Ids of queued messages no worker is about to send (uses the msg_queued_idx index).

    "Unclaimed" means older than DELIVERY_SWEEP_AFTER_SECONDS (default 60) without a claim.
    """
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    unclaimed_after = timedelta(seconds=getattr(settings, "DELIVERY_SWEEP_AFTER_SECONDS", 60))
    return list(
        Message.objects.filter(status=Message.Status.QUEUED, created_at__lt=now - unclaimed_after)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RETRY_WAIT_AT_MOST))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def conversation_history(conversation: Conversation, *, limit: int = 10) -> list[ConversationActivity]:
    """The thread's latest history entries, newest first, with their actor and assignee: one query."""
    return list(
        ConversationActivity.objects.filter(conversation=conversation)
        .select_related("actor", "assignee")
        .order_by("-at", "-id")[:limit]
    )
