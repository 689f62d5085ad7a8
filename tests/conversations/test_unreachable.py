"""When WhatsApp's Cloud API cannot be reached, agents are told exactly that: the thread shows
the message waiting for its next try, and after the last try an honest reason (not "WhatsApp
refused the message", since WhatsApp never saw it). Real HTTP to a port nothing listens on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from conversations import services, tasks
from conversations.services import delivery
from tests.conversations.conftest import receive, utc

T0 = utc(2026, 11, 30, 9, 0, 0)


@pytest.fixture
def conversation(number):
    return receive(number, at=T0).conversation


@pytest.fixture
def cloud_api_down(settings):
    settings.WHATSAPP_GRAPH_URL = "http://127.0.0.1:1"  # connection refused


@pytest.mark.django_db
def test_the_thread_says_it_is_retrying_then_says_what_happened(
    conversation, agent, cloud_api_down, thread_notes, monkeypatch
):
    notes = thread_notes
    monkeypatch.setattr(delivery, "backoff_delay", lambda *a, **k: 0)
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        tasks.message_deliver.apply(args=[message.pk])

    assert notes[0] == "WhatsApp could not be reached; trying again (attempt 2 of 7)."
    assert len(notes) == tasks.MAX_RETRIES
    message.refresh_from_db()
    assert message.status == "failed" and message.error_code is None
    assert "could not be reached" in message.error_details
    assert "Tried 7 times since" in message.error_details
    assert "refused" not in message.error_details
