"""Concurrent deliveries on the real PostgreSQL: every thread commits for real (transactional test)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from conversations.models import Message
from tests.webhooks import helpers as h
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _post_concurrently(bodies: list[bytes]) -> list[int]:
    """POST each body from its own thread (own connection), all released at once."""
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = []
    errors: list[BaseException] = []

    def worker(body: bytes) -> None:
        try:
            barrier.wait(timeout=10)
            codes.append(h.post(Client(), body).status_code)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return codes


def _body(number, *, wamid: str, name: str = "Anna") -> bytes:
    contacts = [{"profile": {"name": name}, "wa_id": "4915112345678"}]
    return json.dumps(
        h.envelope(h.messages_change(number, contacts=contacts, messages=[h.text_message(wamid)]))
    ).encode()


def test_the_same_delivery_concurrently_is_one_event_and_one_message(number):
    wamid = h.fresh_wamid()
    codes = _post_concurrently([_body(number, wamid=wamid)] * 6)
    assert codes == [200] * 6
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert Message.objects.filter(wamid=wamid).count() == 1


def test_the_same_message_in_different_bodies_concurrently_is_one_message(number):
    wamid = h.fresh_wamid()
    codes = _post_concurrently([_body(number, wamid=wamid, name=f"Anna {i}") for i in range(6)])
    assert codes == [200] * 6
    assert WebhookEvent.objects.count() == 6
    # Every copy processed cleanly: the losers of the race saw a duplicate, not an error.
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEvent.State.PROCESSED}
    assert Message.objects.filter(wamid=wamid).count() == 1
    assert Message.objects.get(wamid=wamid).conversation.unread_count == 1


def test_statuses_racing_each_other_end_read(number):
    message = h.outbound_message(number, wamid=h.fresh_wamid())
    bodies = [
        json.dumps(
            h.envelope(h.messages_change(number, statuses=[h.status_part(message.wamid, status, ts=ts)]))
        ).encode()
        for status, ts in (("sent", 1790417300), ("delivered", 1790417310), ("read", 1790417320))
        for _ in range(2)
    ]
    codes = _post_concurrently(bodies)
    assert codes == [200] * 6
    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert message.sent_at and message.delivered_at and message.read_at
