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

import psycopg
from django.db import connection, transaction

from webhooks.models import WebhookEvent
from webhooks.processing import RETRYABLE_DB_ERRORS, _finish, event_apply

logger = logging.getLogger(__name__)

CHANNEL = "webhook_events"
DEFAULT_BATCH = 200


def batch_process(*, limit: int = DEFAULT_BATCH) -> int:
    """Claim and apply up to `limit` received events in one transaction; returns how many."""
    with transaction.atomic():
        events = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(state=WebhookEvent.State.RECEIVED)
            .order_by("id")[:limit]
        )
        for event in events:
            _apply_one(event)
    return len(events)


def _apply_one(event: WebhookEvent) -> None:
    try:
        with transaction.atomic():
            event_apply(event)
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
