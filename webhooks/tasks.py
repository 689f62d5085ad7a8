"""Celery tasks: media downloads and the purge. Events are applied by `process_webhooks`, not by tasks."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from webhooks import media, retention
from whatsapp.errors import CloudApiError
from whatsapp.retry import backoff_delay

MEDIA_MAX_RETRIES = 5


@shared_task(bind=True, max_retries=MEDIA_MAX_RETRIES, acks_late=True)
def media_download(self, message_id: int) -> str | None:
    final = self.request.retries >= self.max_retries
    try:
        message = media.message_media_download(message_id=message_id, final=final)
    except CloudApiError as exc:  # transient, and retries are left: try again later, backing off
        raise self.retry(exc=exc, countdown=backoff_delay(self.request.retries, base=10, cap=600)) from None
    return message.media_state if message else None


@shared_task
def webhook_events_purge() -> int:
    """Run by beat: stored events past the retention period are deleted."""
    return retention.events_purge(older_than_days=settings.WEBHOOK_RETENTION_DAYS)
