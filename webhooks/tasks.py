"""Celery tasks: the purge. Events are applied by `process_webhooks`, not by tasks; a customer's
media is downloaded by `conversations.tasks.media_download`."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from webhooks import retention


@shared_task
def webhook_events_purge() -> int:
    """Run by beat: stored events past the retention period are deleted."""
    return retention.events_purge(older_than_days=settings.WEBHOOK_RETENTION_DAYS)
