"""The periodic webhook job: old events are purged."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.webhooks.helpers import envelope, fresh_wamid, messages_change, text_message
from webhooks import intake, tasks
from webhooks.models import WebhookEvent


def stored_event(number, *, received_minutes_ago: float) -> tuple[WebhookEvent, str]:
    """An event stored as the view stores it, whose processing task never ran."""
    wamid = fresh_wamid()
    body = json.dumps(envelope(messages_change(number, messages=[text_message(wamid)]))).encode()
    event_id, _ = intake.event_store(body=body, headers={})
    WebhookEvent.objects.filter(pk=event_id).update(
        received_at=timezone.now() - timedelta(minutes=received_minutes_ago)
    )
    return WebhookEvent.objects.get(pk=event_id), wamid


@pytest.mark.django_db
def test_the_beat_purge_keeps_the_retention_period(number, settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    old, _ = stored_event(number, received_minutes_ago=31 * 24 * 60)
    kept, _ = stored_event(number, received_minutes_ago=29 * 24 * 60)

    assert tasks.webhook_events_purge() == 1

    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not WebhookEvent.objects.filter(pk=old.pk).exists()
