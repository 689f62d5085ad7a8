"""Celery tasks of the notifications app (thin: the services do the work)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from notifications import services


@shared_task
def idempotency_records_purge() -> int:
    """Run by beat: Idempotency-Keys past their 48 hours are forgotten."""
    return services.idempotency_records_purge(now=timezone.now())
