"""A reply whose delivery publish is lost (Redis down, a worker killed with it prefetched) still
goes out, once: the publish only wakes a worker, and the sweep finds queued messages in the table."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from conversations import selectors, services, tasks
from conversations.models import Message
from tests.conversations.conftest import receive, utc

T0 = utc(2026, 11, 30, 9, 0, 0)


@pytest.fixture
def conversation(number):
    return receive(number, at=T0).conversation


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing fails as kombu fails when Redis is unreachable."""
    from kombu.exceptions import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.message_deliver, "delay", refuse)


@pytest.mark.django_db
def test_a_reply_is_accepted_while_the_broker_is_down(
    conversation, agent, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send_text(
            conversation=conversation, sender=agent, text="Wir melden uns", now=T0 + timedelta(minutes=1)
        )
    message.refresh_from_db()
    assert message.status == "queued"  # saved, and nothing raised: the sweep will send it


@pytest.mark.django_db
def test_the_sweep_sends_a_message_whose_publish_was_lost_once(conversation, agent, fake_client):
    # Recorded, but its on-commit publish never ran (captured and dropped: a lost publish).
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    fresh = services.message_send_text(conversation=conversation, sender=agent, text="Gerade eben", now=T0)
    Message.objects.filter(pk=message.pk).update(created_at=T0 - timedelta(minutes=5))
    Message.objects.filter(pk=fresh.pk).update(created_at=T0 + timedelta(seconds=50))

    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert tasks.messages_deliver_queued() == 1  # the fresh one's worker may still be on its way
        assert tasks.messages_deliver_queued() == 0

    message.refresh_from_db()
    assert message.status == "sent"
    assert [payload["text"]["body"] for _pnid, payload in fake_client.sent] == ["Hallo"]


@pytest.mark.django_db
def test_a_message_waiting_for_its_retry_is_left_to_it(conversation, agent):
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    Message.objects.filter(pk=message.pk).update(
        created_at=T0 - timedelta(minutes=5), claimed_at=T0 - timedelta(minutes=1)
    )
    assert selectors.messages_queued_unclaimed(now=T0) == []
    assert selectors.messages_queued_unclaimed(now=T0 + timedelta(minutes=6)) == [message.pk]
