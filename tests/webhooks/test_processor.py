"""The processor: stored events are the queue, claimed in batches with SKIP LOCKED.

These tests store events the way the intake does (one INSERT, nothing queued) and let the
processor apply them: a batch, a poisoned event in a batch, two processors racing over the
same events, a processor killed with SIGKILL mid-batch, and the NOTIFY that wakes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import close_old_connections, connection

from conversations.models import Message
from tests.webhooks.helpers import envelope, fresh_wamid, messages_change, post, text_message
from webhooks import intake, processor
from webhooks.models import WebhookEvent

ROOT = Path(__file__).resolve().parents[2]


def store(number, count: int, *, per_event: int = 1) -> list[str]:
    """`count` events of `per_event` text messages from distinct customers; returns the wamids."""
    wamids = []
    for i in range(count):
        parts = []
        for j in range(per_event):
            wamid = fresh_wamid()
            wamids.append(wamid)
            parts.append(text_message(wamid, wa_id=f"49151{i:04d}{j:03d}", body=f"Nachricht {i}/{j}"))
        body = json.dumps(envelope(messages_change(number, messages=parts))).encode()
        intake.event_store(body=body, headers={})
    return wamids


@pytest.fixture
def queued(settings):
    settings.WEBHOOKS_PROCESS_INLINE = False


@pytest.mark.django_db
def test_the_intake_only_stores_and_the_processor_applies(client, number, queued):
    wamid = fresh_wamid()
    response = post(client, envelope(messages_change(number, messages=[text_message(wamid)])))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.RECEIVED
    assert not Message.objects.exists()

    assert processor.batch_process() == 1
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert Message.objects.get(wamid=wamid).text == "Hallo"


@pytest.mark.django_db
def test_a_batch_applies_many_events_in_one_claim(number, queued):
    wamids = store(number, 30, per_event=3)
    assert processor.batch_process(limit=25) == 25
    assert processor.drain(limit=25) == 5
    assert set(Message.objects.values_list("wamid", flat=True)) == set(wamids)
    assert not WebhookEvent.objects.exclude(state=WebhookEvent.State.PROCESSED).exists()


@pytest.mark.django_db
def test_a_poisoned_event_does_not_sink_its_batch(number, queued):
    good = store(number, 2)
    intake.event_store(body=b'{"object": "whatsapp_business_account", "entry": [', headers={})  # truncated
    good += store(number, 2)

    assert processor.drain() == 5

    states = list(WebhookEvent.objects.values_list("state", flat=True))
    assert states.count(WebhookEvent.State.FAILED) == 1 and states.count(WebhookEvent.State.PROCESSED) == 4
    assert set(Message.objects.values_list("wamid", flat=True)) == set(good)


@pytest.mark.django_db(transaction=True)
def test_two_processors_racing_apply_each_event_once(number, queued):
    wamids = store(number, 120)
    applied: list[int] = []
    errors: list[BaseException] = []

    def work():
        try:
            applied.append(processor.drain(limit=10))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(applied) == 120  # SKIP LOCKED: no event claimed by both
    assert Message.objects.count() == 120 and set(Message.objects.values_list("wamid", flat=True)) == set(wamids)
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}


def _database_url() -> str:
    settings_dict = connection.settings_dict
    return f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_processor_killed_mid_batch_loses_nothing(number, queued, tmp_path):
    wamids = store(number, 600, per_event=2)
    env = {**os.environ, "DATABASE_URL": _database_url(), "WEBHOOKS_PROCESS_INLINE": "false"}
    log = (tmp_path / "processor.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "process_webhooks", "--batch", "200", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Kill it once it has committed at least one batch, while it works on the next ones.
        deadline = time.monotonic() + 60
        while not WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED).exists():
            assert process.poll() is None, (tmp_path / "processor.log").read_text()
            assert time.monotonic() < deadline, "the processor applied nothing"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    left = WebhookEvent.objects.filter(state=WebhookEvent.State.RECEIVED).count()
    assert 0 < left < 600  # killed mid-way: some committed, the open batch rolled back

    processor.drain()  # another processor takes over

    assert not WebhookEvent.objects.exclude(state=WebhookEvent.State.PROCESSED).exists()
    assert Message.objects.count() == len(wamids)
    assert set(Message.objects.values_list("wamid", flat=True)) == set(wamids)


@pytest.mark.django_db(transaction=True)
def test_the_intake_insert_wakes_a_sleeping_processor(number, queued):
    with processor.Waiter(poll=30) as waiter:
        timer = threading.Timer(0.3, lambda: (store(number, 1), connection.close()))
        timer.start()
        started = time.monotonic()
        waiter.wait()
        waited = time.monotonic() - started
        timer.join()
    assert waited < 10  # woken by NOTIFY, not by the 30 s poll
