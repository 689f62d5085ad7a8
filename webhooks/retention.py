"""Re-processing and purging stored events (used by the admin and the management commands)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webhooks.models import WebhookEvent

# A "received" event older than this is waiting too long: no processor is running, or it is stuck.
STUCK_AFTER = timedelta(minutes=10)
PURGE_BATCH = 1000


def events_stuck(*, now=None):
    """Stored but not applied after STUCK_AFTER: shown to admins, and re-applied by webhooks_reprocess."""
    now = now or timezone.now()
    return WebhookEvent.objects.filter(state=WebhookEvent.State.RECEIVED, received_at__lt=now - STUCK_AFTER)


def events_needing_reprocess(*, now=None):
    failed_or_flagged = WebhookEvent.objects.filter(state__in=[WebhookEvent.State.FAILED, WebhookEvent.State.FLAGGED])
    return failed_or_flagged | events_stuck(now=now)


def events_reprocess_queue(*, event_ids: list[int]) -> int:
    """Put events back in the processor's queue (`received`); returns how many.

    Without a processor (the single-process default) they are applied after commit instead.
    """
    from django.conf import settings

    from webhooks.processing import event_process

    ids = list(
        WebhookEvent.objects.filter(pk__in=event_ids)
        .exclude(state=WebhookEvent.State.PROCESSED)
        .values_list("pk", flat=True)
    )
    WebhookEvent.objects.filter(pk__in=ids).update(state=WebhookEvent.State.RECEIVED)
    if settings.WEBHOOKS_PROCESS_INLINE:
        for event_id in ids:
            transaction.on_commit(lambda eid=event_id: event_process(event_id=eid), robust=True)
    return len(ids)


def events_purge(*, older_than_days: int, now=None) -> int:
    """Delete events received more than `older_than_days` ago, in batches (short locks)."""
    if older_than_days < 1:
        raise ValueError("keep at least one day of webhook events")
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(WebhookEvent.objects.filter(received_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            return deleted
        deleted += WebhookEvent.objects.filter(pk__in=ids).delete()[0]
