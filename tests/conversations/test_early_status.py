"""Meta's status webhook can arrive before the delivery task has stored the wamid it got back.

Such statuses are parked and applied when the wamid is recorded, so a fast `failed` is never
lost (the message would otherwise look sent).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.models import EarlyStatus, Message
from tests.conversations.conftest import receive
from whatsapp.schemas import Status


def status_part(wamid: str, value: str, at, **extra) -> Status:
    """A status as webhook processing hands it over: parsed from Meta's own shape."""
    return Status.from_wire(
        {"id": wamid, "status": value, "timestamp": str(int(at.timestamp())), "recipient_id": "4915112345678", **extra}
    )


@pytest.fixture
def sending(number, agent):
    """An agent's reply that the delivery task has claimed but whose wamid is not stored yet."""
    now = timezone.now()
    conversation = receive(number, at=now - timedelta(minutes=5)).conversation
    message = Message.objects.create(
        conversation=conversation,
        direction="out",
        type="text",
        text="Ihr Paket ist unterwegs.",
        status=Message.Status.SENDING,
        sender=agent,
    )
    return message


def test_a_failed_status_before_the_wamid_is_stored_is_applied_when_it_is(sending):
    now = timezone.now()
    failed = status_part(
        "wamid.EARLY1",
        "failed",
        now,
        errors=[{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "not on WhatsApp"}}],
    )
    assert services.message_status_apply(status=failed) is None
    assert EarlyStatus.objects.filter(wamid="wamid.EARLY1", status="failed").exists()

    message = services.message_sent_record(message_id=sending.pk, wamid="wamid.EARLY1", payload={})

    assert message.status == Message.Status.FAILED
    assert message.error_code == 131026
    assert message.failed_at is not None
    assert not EarlyStatus.objects.exists()


def test_early_statuses_in_any_order_end_in_the_latest_state(sending):
    now = timezone.now()
    for value, seconds in (("read", 3), ("sent", 1), ("delivered", 2), ("read", 3)):  # read twice: Meta retried
        services.message_status_apply(status=status_part("wamid.EARLY2", value, now + timedelta(seconds=seconds)))
    assert EarlyStatus.objects.filter(wamid="wamid.EARLY2").count() == 3

    message = services.message_sent_record(message_id=sending.pk, wamid="wamid.EARLY2", payload={})

    assert message.status == Message.Status.READ
    assert message.sent_at and message.delivered_at and message.read_at
    assert message.delivered_at < message.read_at


def test_a_status_for_a_wamid_that_never_becomes_ours_is_purged_later(db):
    old = timezone.now() - timedelta(days=3)
    services.message_status_apply(status=status_part("wamid.OTHERAPP", "sent", old))
    EarlyStatus.objects.update(received_at=old)
    services.message_status_apply(status=status_part("wamid.FRESH", "sent", timezone.now()))

    assert services.early_statuses_purge(now=timezone.now()) == 1
    assert list(EarlyStatus.objects.values_list("wamid", flat=True)) == ["wamid.FRESH"]
