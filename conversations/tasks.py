"""Thin tasks: ids in, services do the work. `message_deliver` is the "send" of record-then-send
(`conversations.services.delivery` does the sending; the tasks act on its outcome: a retry, a
later try); `media_download` fetches a customer's media (`conversations.media`). The services
publish these tasks through the seams `ConversationsConfig.ready` fills, never by importing this
module."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from celery import Task, shared_task
from django.utils import timezone

from conversations import events, media, selectors, services
from conversations.services import delivery
from conversations.services.delivery import MAX_RETRIES
from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay

_collecting = threading.local()


class _DeliveryTask(Task):
    """`message_deliver.delay(id)` joins the surrounding `deliveries_collected()` if there is one."""

    def delay(self, *args, **kwargs):
        ids = getattr(_collecting, "ids", None)
        if ids is not None and len(args) == 1 and not kwargs:
            ids.append(args[0])
            return None
        return super().delay(*args, **kwargs)


@contextmanager
def deliveries_collected():
    """Collect the deliveries the block publishes (on commit) instead of one task each; the
    caller hands the list to `messages_deliver` (one task for a campaign's batch of 25, not 25).
    If that publish is lost, the messages are still queued in the table and the sweep sends
    them (once, by the claim)."""
    outer = getattr(_collecting, "ids", None)
    if outer is not None:
        yield outer
        return
    _collecting.ids = ids = []
    try:
        yield ids
    finally:
        _collecting.ids = None


@shared_task(bind=True, base=_DeliveryTask, max_retries=MAX_RETRIES, acks_late=True, ignore_result=True)
def message_deliver(self, message_id: int, paced: bool = False) -> None:
    """Hand one queued outbound message to Meta, at most once.

    Safe to run twice (acks_late, a redelivered job, a double delay): only the run whose claim
    changes the row from queued to sending calls Meta.
    """
    outcome = delivery.message_deliver(message_id=message_id, paced=paced, attempt=self.request.retries)
    if isinstance(outcome, delivery.Retry):
        raise self.retry(exc=outcome.exc, countdown=outcome.countdown, kwargs={"paced": False}) from outcome.exc
    if isinstance(outcome, delivery.Later):
        message_deliver.apply_async((message_id,), {"paced": True}, countdown=outcome.countdown)


@shared_task(acks_late=True, ignore_result=True)
def messages_deliver(message_ids: list[int]) -> int:
    """Hand several queued messages to Meta, one by one on the pacing line, each claimed alone
    (so a killed worker leaves at most the one in flight undecided). Their realtime events go
    out once for the batch. A message that must wait long or be retried continues as its own
    `message_deliver` task. Returns how many were sent."""
    sent = 0
    with events.batched():
        for message_id in sorted(message_ids):
            outcome = delivery.message_deliver(message_id=message_id, paced=False, attempt=0)
            if isinstance(outcome, delivery.Retry):
                message_deliver.apply_async((message_id,), countdown=outcome.countdown)
            elif isinstance(outcome, delivery.Later):
                message_deliver.apply_async((message_id,), {"paced": True}, countdown=outcome.countdown)
            elif outcome is True:
                sent += 1
    return sent


@shared_task
def message_read_receipt(message_id: int) -> None:
    """Tell Meta the customer's message was read (blue ticks). Best effort: a lost receipt is harmless."""
    delivery.message_read_receipt(message_id=message_id)


@shared_task
def conversations_wake_snoozed() -> int:
    """Run by beat: snoozed threads whose time has come reopen."""
    return services.conversations_wake_snoozed()


@shared_task
def early_statuses_purge() -> int:
    """Run by beat: parked statuses that no message of ours claimed are dropped."""
    return services.early_statuses_purge(now=timezone.now())


@shared_task
def messages_stuck_sending_fail() -> int:
    """Run by beat: claims whose worker died are failed with an honest reason (never resent)."""
    return services.messages_stuck_sending_fail(now=timezone.now())


@shared_task
def messages_deliver_queued() -> int:
    """Run by beat: queued messages whose delivery publish was lost are sent now (claimed, so once)."""
    ids = selectors.messages_queued_unclaimed(now=timezone.now())
    for message_id in ids:
        message_deliver.delay(message_id)
    return len(ids)


MEDIA_MAX_RETRIES = 5


# The name it had in webhooks/tasks.py, where it lived first: a download published before a
# deploy may still sit in Redis under that name, and a worker must still know it.
@shared_task(name="webhooks.tasks.media_download", bind=True, max_retries=MEDIA_MAX_RETRIES, acks_late=True)
def media_download(self, message_id: int) -> str | None:
    """Fetch and store one inbound message's media; transient errors retry later, backing off."""
    final = self.request.retries >= self.max_retries
    try:
        message = media.message_media_download(message_id=message_id, final=final)
    except CloudApiError as exc:  # transient, and retries are left: try again later, backing off
        raise self.retry(exc=exc, countdown=backoff_delay(self.request.retries, base=10, cap=600)) from None
    return message.media_state if message else None
