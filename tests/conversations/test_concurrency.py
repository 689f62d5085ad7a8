"""Races against the real PostgreSQL: real transactions, real row locks, real threads."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from conversations import services, tasks
from conversations.models import Message
from tests.conversations.conftest import receive, utc

T0 = utc(2026, 6, 1, 10, 0, 0)


def _in_threads(*targets):
    errors = []
    barrier = threading.Barrier(len(targets))

    def run(target):
        try:
            barrier.wait()
            target()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_two_agents_reply_at_once_each_reply_sent_once(number, agent, teammate, fake_client):
    conversation = receive(number, at=T0).conversation
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        _in_threads(
            lambda: services.message_send_text(conversation=conversation, sender=agent, text="Von Alice"),
            lambda: services.message_send_text(conversation=conversation, sender=teammate, text="Von Bob"),
        )
        # Eager Celery ran the deliveries on commit; a redelivered job must not send again.
        for pk in Message.objects.filter(direction="out").values_list("pk", flat=True):
            tasks.message_deliver.apply(args=[pk])
    bodies = sorted(payload["text"]["body"] for _pid, payload in fake_client.sent)
    assert bodies == ["Von Alice", "Von Bob"]
    assert set(Message.objects.filter(direction="out").values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_same_task_in_two_workers_sends_once(number, agent, fake_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    conversation = receive(number, at=T0).conversation
    message = services.message_send_text(conversation=conversation, sender=agent, text="Einmal", now=T0)
    # Committed already, and the eager run on commit delivered it; re-queue to race two workers.
    fake_client.sent.clear()
    Message.objects.filter(pk=message.pk).update(status="queued", wamid=None)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _in_threads(*[lambda: tasks.message_deliver.apply(args=[message.pk])] * 4)
    assert len(fake_client.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_double_submitted_client_id_sends_once(number, agent, fake_client):
    conversation = receive(number, at=T0).conversation
    client_id = uuid.uuid4()
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _in_threads(
            *[
                lambda: services.message_send_text(
                    conversation=conversation, sender=agent, text="Doppelklick", client_id=client_id
                )
            ]
            * 3
        )
    assert Message.objects.filter(direction="out").count() == 1
    assert len(fake_client.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_same_webhook_processed_twice_at_once_stores_once(number):
    from conversations.services import inbound_message_receive
    from tests.conversations.conftest import inbound, profile

    m = inbound(at=T0, wamid="wamid.RACE", wa_id="491700000001")
    _in_threads(*[lambda: inbound_message_receive(number=number, message=m, profile=profile(wa_id="491700000001"))] * 3)
    assert Message.objects.filter(wamid="wamid.RACE").count() == 1
