"""Celery tasks of the notifications app (thin: the services do the work)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from notifications import services


@shared_task
def idempotency_records_purge() -> int:
    """Run by beat: Idempotency-Keys past their 48 hours are forgotten."""
    return services.idempotency_records_purge(now=timezone.now())


@shared_task(acks_late=True)
def callback_deliver(delivery_id: int) -> None:
    """One POST of a callback delivery (queue "callbacks"); schedules its own retry on failure."""
    from notifications import callbacks

    wait = callbacks.callback_attempt(delivery_id=delivery_id)
    if wait is not None:
        callbacks._publish(delivery_id, countdown=wait)


@shared_task
def callbacks_due() -> int:
    """Run by beat: deliveries whose retry publish was lost are tried now."""
    from notifications import callbacks

    ids = callbacks.deliveries_due(now=timezone.now() - timedelta(minutes=1))
    for delivery_id in ids:
        callbacks._publish(delivery_id)
    return len(ids)
