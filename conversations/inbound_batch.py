"""Receiving a batch of plain customer messages with set-based SQL.

`inbound_message_receive` handles one message with every rule (identity changes, quotes,
reactions, media, opt-out keywords) in about twenty statements. Most of what Meta posts is
simpler: a text (or a button or list reply) from a customer we know by phone number. For those,
a batch of hundreds costs a handful of statements: find the contacts, create the missing ones,
lock them and their threads in id order, insert the messages, and move every thread's window,
counters and status in one UPDATE. The result is the same rows and the same events as the
one-by-one path; anything this module does not take (`takes` says no) goes that way instead.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from conversations import events
from conversations.models import BusinessNumber, Contact, Conversation, ConversationActivity, Message
from conversations.services.contacts import _message_asks_opt_out, market_for
from conversations.services.inbound import NON_UNREAD_TYPES
from conversations.window import renews_window

PLAIN_TYPES = frozenset({"text", "button", "interactive", "location", "contacts", "order", "unsupported"})
_WAMID_MAX = Message._meta.get_field("wamid").max_length
_WA_ID_MAX = Contact._meta.get_field("wa_id").max_length
_NAME_MAX = Contact._meta.get_field("profile_name").max_length


def takes(message: Any, profile: Any | None) -> bool:
    """Whether a message is plain enough for the batch path (else: inbound_message_receive)."""
    wa_id = message.from_wa_id or (profile.wa_id if profile else None)
    user_id = message.from_user_id or (profile.user_id if profile else None)
    return (
        message.type in PLAIN_TYPES
        and getattr(message, "media", None) is None
        and not message.context_id
        and bool(wa_id)
        and not user_id  # identity merges (BSUID and number) take the careful path
        and len(wa_id) <= _WA_ID_MAX
        and 0 < len(message.id or "") <= _WAMID_MAX
        and timezone.is_aware(message.timestamp)
        and not getattr(message, "timestamp_clamped_from", None)  # noted on its event one by one
        and not _message_asks_opt_out(message)
    )


def receive(items: list[tuple[BusinessNumber, Any, Any | None]]) -> dict[str, Message | None]:
    """Store plain messages (each `takes`); returns wamid -> the stored message, or None for a
    wamid already stored (a duplicate). Call inside a transaction (the processor's batch)."""
    by_wamid: dict[str, tuple[BusinessNumber, Any, Any | None]] = {}
    for number, message, profile in items:
        by_wamid.setdefault(message.id, (number, message, profile))
    existing = set(Message.objects.filter(wamid__in=list(by_wamid)).values_list("wamid", flat=True))
    result: dict[str, Message | None] = dict.fromkeys(existing)
    fresh = [item for wamid, item in by_wamid.items() if wamid not in existing]
    if not fresh:
        return result

    contacts = _contacts_for(fresh)
    threads = _threads_locked({(number.pk, contacts[_wa_id(m, p)].pk) for number, m, p in fresh})
    now = timezone.now()
    rows = []
    for number, message, profile in fresh:
        thread = threads[(number.pk, contacts[_wa_id(message, profile)].pk)]
        rows.append(
            Message(
                conversation=thread,
                direction=Message.Direction.IN,
                type=message.type,
                text=message.text or "",
                payload=getattr(message, "raw", None) or {},
                wamid=message.id,
                status=Message.Status.RECEIVED,
                sent_at=message.timestamp,
                created_at=now,
            )
        )
    stored = Message.objects.bulk_create(rows)
    _threads_move(stored)
    for message in stored:
        result[message.wamid] = message
        events.message_changed(message, created=True)
    for thread in {message.conversation_id: message.conversation for message in stored}.values():
        events.conversation_changed(thread)
    return result


def _wa_id(message: Any, profile: Any | None) -> str:
    return (message.from_wa_id or (profile.wa_id if profile else "") or "").lstrip("+")


def _contacts_for(items) -> dict[str, Contact]:
    """wa_id -> contact: found, created (racing creators are fine: ON CONFLICT DO NOTHING),
    their profile name brought up to date, locked in id order like the one-by-one path."""
    names: dict[str, str] = {}
    for _number, message, profile in items:
        name = ((profile.name if profile else "") or "")[:_NAME_MAX]
        names[_wa_id(message, profile)] = name or names.get(_wa_id(message, profile), "")
    found = {c.wa_id: c for c in Contact.objects.filter(wa_id__in=list(names))}
    missing = [wa_id for wa_id in names if wa_id not in found]
    if missing:
        Contact.objects.bulk_create(
            [Contact(wa_id=w, profile_name=names[w], market=market_for(wa_id=w)) for w in missing],
            ignore_conflicts=True,
        )
    locked = {
        c.wa_id: c for c in Contact.objects.select_for_update(no_key=True).filter(wa_id__in=list(names)).order_by("pk")
    }
    renamed = [c for w, c in locked.items() if names[w] and c.profile_name != names[w]]
    for contact in renamed:
        contact.profile_name = names[contact.wa_id]
        contact.updated_at = timezone.now()
    if renamed:
        Contact.objects.bulk_update(renamed, ["profile_name", "updated_at"])
    return locked


def _threads_locked(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Conversation]:
    """The (number, contact) threads, created where new, locked in id order."""

    def locked(wanted: set[tuple[int, int]]) -> dict[tuple[int, int], Conversation]:
        threads = (
            Conversation.objects.select_for_update(no_key=True)
            .filter(number_id__in={n for n, _ in wanted}, contact_id__in={c for _, c in wanted})
            .order_by("pk")
        )
        return {(t.number_id, t.contact_id): t for t in threads if (t.number_id, t.contact_id) in wanted}

    found = locked(pairs)
    missing = pairs - found.keys()
    if missing:
        # Racing creators are fine: the loser's row is skipped, and both lock the winner's.
        Conversation.objects.bulk_create(
            [Conversation(number_id=number_id, contact_id=contact_id) for number_id, contact_id in missing],
            ignore_conflicts=True,
        )
        found |= locked(missing)
    return found


def _threads_move(stored: list[Message]) -> None:
    """Window, latest activity, unread count and status of every thread, in one UPDATE.

    The same rules as inbound_message_receive: the window moves only forward and only for
    types that renew it, by Meta's clock; a message worth answering reopens the thread, and the
    same statement records each reopen in the thread's history (ConversationActivity).
    """
    moves: dict[int, dict[str, Any]] = defaultdict(lambda: {"inbound": None, "latest": None, "unread": 0})
    for message in stored:
        move = moves[message.conversation_id]
        at: datetime = message.sent_at
        move["latest"] = max(filter(None, [move["latest"], at]))
        if renews_window(message.type):
            move["inbound"] = max(filter(None, [move["inbound"], at]))
        if message.type not in NON_UNREAD_TYPES:
            move["unread"] += 1
    values = ", ".join(["(%s::bigint, %s::timestamptz, %s::timestamptz, %s::integer)"] * len(moves))
    params: list[Any] = []
    for thread_id, move in moves.items():
        params += [thread_id, move["inbound"], move["latest"], move["unread"]]
    table = Conversation._meta.db_table
    activity = ConversationActivity._meta.db_table
    # The INSERT's SELECT and the UPDATE read the same snapshot, so the INSERT sees each thread's
    # status from before this UPDATE: it records exactly the threads this statement reopens.
    sql = f"""
        WITH v(id, inbound, latest, unread) AS (VALUES {values}),
        reopened AS (
            INSERT INTO {activity} (conversation_id, actor_id, kind, assignee_id, status, snooze_until, label, at)
            SELECT c.id, NULL, %s, NULL, '', NULL, '', %s
            FROM {table} AS c JOIN v ON c.id = v.id
            WHERE v.unread > 0 AND c.status <> 'open'
        )
        UPDATE {table} AS c SET
            last_inbound_at = GREATEST(c.last_inbound_at, v.inbound),
            last_message_at = GREATEST(c.last_message_at, v.latest),
            unread_count = c.unread_count + v.unread,
            status = CASE WHEN v.unread > 0 THEN 'open' ELSE c.status END,
            snoozed_until = CASE WHEN v.unread > 0 THEN NULL ELSE c.snoozed_until END,
            updated_at = %s
        FROM v
        WHERE c.id = v.id
        RETURNING c.id, c.last_inbound_at, c.last_message_at, c.unread_count, c.status, c.snoozed_until
    """  # noqa: S608 (the table names are ours; values are parameters)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, ConversationActivity.Kind.REOPENED, now, now])
        rows = cursor.fetchall()
    threads = {message.conversation_id: message.conversation for message in stored}
    for thread_id, inbound, latest, unread, status, snoozed_until in rows:
        thread = threads[thread_id]
        thread.last_inbound_at, thread.last_message_at, thread.unread_count = inbound, latest, unread
        thread.status, thread.snoozed_until = status, snoozed_until
