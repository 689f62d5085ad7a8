"""The webhook processor: the stored events are the queue.

The intake view only INSERTs the raw event (a trigger then NOTIFYs `webhook_events`). This loop
claims up to `batch` received events with `SELECT ... FOR UPDATE SKIP LOCKED`, applies them in
one transaction (each event in its own savepoint, each part in its own savepoint below that, so
one bad part or event cannot sink the rest), and commits. Any number of processors may run:
SKIP LOCKED hands each event to exactly one of them, and a processor killed mid-batch loses
nothing, because its transaction rolls back and the events are still `received`.

Nothing depends on a publish to a broker, so a Redis outage or a lost message cannot strand a
stored event. Applying is idempotent (a wamid is unique, statuses never move backwards), so an
event applied twice after a crash between commit and acknowledgement changes nothing.

Order: events are claimed in id (arrival) order. Two processors may apply events of the same
conversation in parallel; the conversation row lock serialises them, and every rule is
order-independent (the window follows the latest customer timestamp, statuses are monotonic,
early statuses wait for their wamid).
"""

from __future__ import annotations

import logging
import select
import threading
from collections import defaultdict

import psycopg
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from conversations import events as live_events
from conversations import inbound_batch
from conversations import services as conversations
from webhooks.models import WebhookEvent
from webhooks.processing import RETRYABLE_DB_ERRORS, _finish, event_apply
from whatsapp import schemas

logger = logging.getLogger(__name__)

CHANNEL = "webhook_events"
DEFAULT_BATCH = 200


def batch_process(*, limit: int = DEFAULT_BATCH) -> int:
    """Claim and apply up to `limit` received events in one transaction; returns how many.

    Agents' browsers hear about the batch once it committed, in one coalesced push.
    """
    with live_events.batched(), transaction.atomic():
        events = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(state=WebhookEvent.State.RECEIVED)
            .order_by("id")[:limit]
        )
        envelopes = {event.pk: _parsed(event) for event in events}
        # Typed once per event: the batch path, the check below and the one-by-one path share them.
        received_at = {event.pk: event.received_at for event in events}
        changes = {
            pk: list(schemas.iter_changes(env, now=received_at[pk])) for pk, env in envelopes.items() if env is not None
        }
        received = _receive_plain_messages(changes.values())
        done: dict[tuple, list[int]] = defaultdict(list)
        for event in events:
            summary = _fully_received(changes.get(event.pk), received)
            if summary is not None:
                done[summary].append(event.pk)
            else:
                _apply_one(event, envelopes[event.pk], changes.get(event.pk), received)
        _finish_received(done)
    return len(events)


def _fully_received(changes: list | None, received: dict) -> tuple | None:
    """(fields, counts) when the batch path stored everything this event holds, else None."""
    if not changes:
        return None
    new = duplicate = 0
    for change in changes:
        if not isinstance(change, schemas.MessagesChange):
            return None
        if change.statuses or change.user_preferences or change.errors or change.invalid:
            return None
        for message in change.messages:
            if message.id not in received:
                return None
            if received[message.id] is None:
                duplicate += 1
            else:
                new += 1
    counts = tuple((key, n) for key, n in (("messages_new", new), ("messages_duplicate", duplicate)) if n)
    return ("messages",), counts


def _finish_received(done: dict[tuple, list[int]]) -> None:
    """Events the batch path applied whole: processed, in one UPDATE per kind of outcome."""
    now = timezone.now()
    for (fields, counts), ids in done.items():
        WebhookEvent.objects.filter(pk__in=ids).update(
            state=WebhookEvent.State.PROCESSED,
            reason="",
            processed_at=now,
            attempts=F("attempts") + 1,
            fields=list(fields),
            notes=[{"counts": dict(counts)}] if counts else [],
        )


def _parsed(event: WebhookEvent) -> schemas.Envelope | None:
    try:
        return schemas.parse_webhook(bytes(event.body))
    except schemas.PayloadError:
        return None  # event_apply parses again and records why


def _receive_plain_messages(change_lists) -> dict:
    """The batch's plain customer messages, stored set-based (conversations.inbound_batch).

    If that fails for any reason, nothing of it stays (a savepoint) and every message takes the
    one-by-one path, which isolates the part at fault.
    """
    numbers: dict[str, object] = {}
    items = []
    for event_changes in change_lists:
        for change in event_changes:
            if not isinstance(change, schemas.MessagesChange) or not change.messages:
                continue
            if change.phone_number_id not in numbers:
                numbers[change.phone_number_id] = conversations.number_for_phone_number_id(change.phone_number_id)
            number = numbers[change.phone_number_id]
            if number is None:
                continue
            for message in change.messages:
                profile = change.profile_for(message)
                if inbound_batch.takes(message, profile):
                    items.append((number, message, profile))
    if not items:
        return {}
    try:
        with transaction.atomic():
            return inbound_batch.receive(items)
    except RETRYABLE_DB_ERRORS:
        raise
    except Exception:
        logger.exception("batch receive of %d messages failed; applying them one by one", len(items))
        return {}


def _apply_one(event: WebhookEvent, envelope: schemas.Envelope | None, changes: list | None, received: dict) -> None:
    try:
        with transaction.atomic():
            event_apply(event, envelope=envelope, received=received, changes=changes)
    except RETRYABLE_DB_ERRORS:
        raise  # the database went away: the whole batch is retried
    except Exception as exc:  # a bug outside the parts: this event fails visibly, the batch goes on
        logger.exception("webhook event %s could not be applied", event.pk)
        with transaction.atomic():
            _finish(event, WebhookEvent.State.FAILED, f"{type(exc).__name__}: {exc}")


def drain(*, limit: int = DEFAULT_BATCH) -> int:
    """Process until nothing is left; returns the number of events applied."""
    total = 0
    while count := batch_process(limit=limit):
        total += count
    return total


class Waiter:
    """Sleeps until the intake's NOTIFY (PostgreSQL) or the poll interval, whichever is first."""

    def __init__(self, poll: float) -> None:
        self.poll = poll
        self._conn = None

    def __enter__(self) -> Waiter:
        if connection.vendor == "postgresql":
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            self._conn = psycopg.connect(**params, autocommit=True)
            self._conn.execute(f"LISTEN {CHANNEL}")
        return self

    def __exit__(self, *exc) -> None:
        if self._conn is not None:
            self._conn.close()

    def wait(self) -> None:
        if self._conn is None:
            threading.Event().wait(self.poll)
            return
        # Readable socket = a notification arrived; drain them all, one wake-up is enough.
        select.select([self._conn.fileno()], [], [], self.poll)
        for _ in self._conn.notifies(timeout=0):
            pass


def run(*, batch: int = DEFAULT_BATCH, poll: float = 1.0, stop: threading.Event | None = None) -> None:
    """The long-running loop of `manage.py process_webhooks`."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            with Waiter(poll) as waiter:
                while not stop.is_set():
                    if drain(limit=batch) == 0:
                        waiter.wait()
        except RETRYABLE_DB_ERRORS + (psycopg.Error, OSError) as exc:
            # PostgreSQL restarted or unreachable: back off and start over with fresh connections.
            logger.warning("webhook processor: database unavailable (%s); retrying in %.0f s", exc, poll * 5)
            connection.close()
            stop.wait(poll * 5)
