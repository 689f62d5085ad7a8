"""Celery tasks: thin wrappers around webhooks.processing and webhooks.media."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import media, processing, retention
from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay

MEDIA_MAX_RETRIES = 5


@shared_task(
    autoretry_for=processing.RETRYABLE_DB_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def webhook_event_process(event_id: int) -> str | None:
    event = processing.event_process(event_id=event_id)
    return event.state if event else None


@shared_task(bind=True, max_retries=MEDIA_MAX_RETRIES, acks_late=True)
def media_download(self, message_id: int) -> str | None:
    final = self.request.retries >= self.max_retries
    try:
        message = media.message_media_download(message_id=message_id, final=final)
    except CloudApiError as exc:  # transient, and retries are left: try again later, backing off
        raise self.retry(exc=exc, countdown=backoff_delay(self.request.retries, base=10, cap=600)) from None
    return message.media_state if message else None


@shared_task
def webhook_events_requeue_stuck() -> int:
    """Run by beat: events stored but never processed are queued again (processing is idempotent).

    Failed and flagged events are left to an admin: they need a fix first, not another try.
    """
    ids = list(retention.events_stuck(now=timezone.now()).values_list("pk", flat=True)[:1000])
    with transaction.atomic():
        return retention.events_reprocess_queue(event_ids=ids)


@shared_task
def webhook_events_purge() -> int:
    """Run by beat: stored events past the retention period are deleted."""
    return retention.events_purge(older_than_days=settings.WEBHOOK_RETENTION_DAYS)
