"""The production shape, for real: uvicorn, a Celery worker process on Redis, the webhook
processor, channels_redis, PostgreSQL, and the simulator as Meta. Every other test runs Celery
eagerly and applies webhooks in the request; this one does not.

A customer's message arrives as a signed webhook and is processed by the worker; an agent's
reply is delivered by the worker through the Cloud API client; the status webhooks come back
and are processed by the worker until the message reads "read".
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from conversations import services
from conversations.models import Message
from tests.simulator.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def queue(settings):
    """Tasks go to a queue of this test's own, and are not run eagerly."""
    import redis

    from config.celery import app

    name = f"test-{uuid.uuid4().hex[:8]}"
    before = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, name
    yield name
    app.conf.task_always_eager, app.conf.task_default_queue = before
    redis.Redis.from_url(settings.REDIS_URL).delete(name)  # anything left unconsumed


@pytest.fixture
def simulator(live_simulator):
    return live_simulator(status_delay=0.05, auto_read=True)


@pytest.fixture
def worker(queue, simulator, settings, tmp_path):
    """`celery worker` and the webhook processor in their own processes, on the test database."""
    settings.WEBHOOKS_PROCESS_INLINE = False  # the live server only stores webhooks, as in production
    settings_dict = connection.settings_dict
    database_url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "WHATSAPP_GRAPH_URL": simulator.url,
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The webhook processor: stored events are its queue (webhooks.processor).
    processor_log = (tmp_path / "processor.log").open("w")
    processor = subprocess.Popen(
        [sys.executable, "manage.py", "process_webhooks", "--poll", "0.5"],
        cwd=ROOT,
        env={**env, "WEBHOOKS_PROCESS_INLINE": "false"},
        stdout=processor_log,
        stderr=subprocess.STDOUT,
    )
    yield process
    for proc in (process, processor):
        proc.terminate()
        proc.wait(timeout=20)
    log.close()
    processor_log.close()
    print((tmp_path / "worker.log").read_text()[-4000:])  # shown by pytest when the test fails
    print((tmp_path / "processor.log").read_text()[-4000:])


def test_webhooks_and_replies_flow_through_a_real_worker(live_asgi, simulator, worker, number, agent, settings):
    # The customer writes: the simulator posts a signed webhook to the live server, which stores
    # it and queues processing on Redis; the worker process applies it.
    wamid = simulator.customer_message(
        phone_number_id=number.phone_number_id, wa_id="4915112345678", name="Jana Schmidt", text="Wo ist mein Paket?"
    )
    inbound = wait_for(
        lambda: Message.objects.filter(wamid=wamid).first(), what="the worker to store the message", timeout=30
    )
    assert inbound.text == "Wo ist mein Paket?"
    conversation = inbound.conversation
    assert conversation.window_open(inbound.sent_at or inbound.created_at)

    # The agent replies: queued here, delivered by the worker through the client to the simulator.
    reply = services.message_send_text(conversation=conversation, sender=agent, text="Es ist heute unterwegs.")
    assert reply.status == Message.Status.QUEUED

    def read():
        reply.refresh_from_db()
        return reply.status == Message.Status.READ

    wait_for(read, what="sent, delivered and read status webhooks processed by the worker", timeout=30)
    assert reply.wamid.startswith("wamid.")
    assert reply.sent_at and reply.delivered_at and reply.read_at
    assert [sent["payload"]["text"]["body"] for sent in simulator.sent if sent["type"] == "text"] == [
        "Es ist heute unterwegs."
    ]
