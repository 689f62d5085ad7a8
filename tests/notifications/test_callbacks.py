"""Delivery callbacks: registered through the API, signed, verified by a real HTTP receiver with
exactly the recipe in docs/notifications.md, retried with backoff and logged."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

from conversations import services as conversations
from conversations.models import Message
from notifications import callbacks
from notifications.models import CallbackAttempt, CallbackDelivery
from tests.conversations import conftest as conversation_fixtures
from tests.conversations.conftest import bearer, status
from tests.conversations.test_send_template import GOOD

# Sends reach a counting fake Cloud API (the delivery task records the wamid: "sent").
fake_client = conversation_fixtures.fake_client
pytestmark = pytest.mark.usefixtures("fake_client")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
BODY = {"to": "+49 151 23456789", "template": "order_update", "language": "de", "parameters": GOOD}


def documented_verify():
    """The receiver's recipe, taken from the docs as a reader would copy it."""
    text = DOCS.read_text()
    block = re.search(r"<!-- verify-recipe.*?-->\s*```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) == 5  # the docs promise five lines
    namespace: dict = {}
    exec(block, namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


class Receiver:
    """A business system's endpoint: verifies each POST with the recipe, answers from `answers`."""

    def __init__(self, secret_box: dict) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []
        verify = documented_verify()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = verify(
                    secret_box["secret"],
                    self.headers.get("X-Inbox-Timestamp", "0"),
                    body,
                    self.headers.get("X-Inbox-Signature", ""),
                )
                code = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append({"verified": ok, "body": json.loads(body), "answered": code, "raw": body})
                self.send_response(code if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/status"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def secret_box():
    return {}


@pytest.fixture
def receiver(secret_box):
    server = Receiver(secret_box)
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def registered(client, agent, receiver, secret_box):
    headers = bearer(agent)
    response = client.post("/api/v1/callbacks", {"url": receiver.url}, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    secret_box["secret"] = response.json()["secret"]
    return headers


def _send(client, headers, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/notifications", BODY, content_type="application/json", **headers)
    assert response.status_code == 202, response.content
    return response.json()["id"]


@pytest.mark.django_db
def test_each_status_change_is_posted_signed_and_verifies_with_the_documented_recipe(
    client, agent, order_update, registered, receiver, django_capture_on_commit_callbacks
):
    message_id = _send(client, registered, django_capture_on_commit_callbacks)
    message = Message.objects.get(pk=message_id)
    with django_capture_on_commit_callbacks(execute=True):
        conversations.message_status_apply(
            status=status(wamid=message.wamid, value="delivered", at=timezone.now().replace(microsecond=0))
        )
    assert [r["body"]["status"] for r in receiver.received] == ["sent", "delivered"]
    assert all(r["verified"] for r in receiver.received)
    delivered = receiver.received[1]["body"]
    assert set(delivered) == {"id", "status", "timestamp", "error", "billing"}
    assert delivered["id"] == message_id and delivered["error"] is None
    assert delivered["billing"]["category"] == "utility" and isinstance(delivered["billing"]["amount"], str)
    # The log: one attempt each, with the answer and how long it took.
    attempts = CallbackAttempt.objects.order_by("at", "id")
    assert [a.status_code for a in attempts] == [200, 200]
    assert all(a.duration_ms >= 0 and a.error == "" for a in attempts)
    assert set(CallbackDelivery.objects.values_list("state", flat=True)) == {"delivered"}


@pytest.mark.django_db
def test_the_recipe_refuses_a_changed_body_or_another_secret(
    client, agent, order_update, registered, receiver, django_capture_on_commit_callbacks, secret_box
):
    _send(client, registered, django_capture_on_commit_callbacks)
    delivery = CallbackDelivery.objects.get()
    verify = documented_verify()
    raw = receiver.received[0]["raw"]
    import time

    timestamp = str(int(time.time()))
    good = callbacks.sign(secret=secret_box["secret"], timestamp=timestamp, body=raw)
    assert verify(secret_box["secret"], timestamp, raw, good)
    assert not verify(secret_box["secret"], timestamp, raw.replace(b"sent", b"read"), good)
    assert not verify("whsec_other", timestamp, raw, good)
    old = str(int(time.time()) - 3600)
    assert not verify(
        secret_box["secret"], old, raw, callbacks.sign(secret=secret_box["secret"], timestamp=old, body=raw)
    )
    assert delivery.callback.secret == secret_box["secret"]


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_backoff_and_each_attempt_logged(
    client, agent, order_update, registered, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    receiver.answers = [503, 500]
    published: list = []  # attempts are driven by hand below, at chosen times
    monkeypatch.setattr(callbacks, "_publish", lambda pk, countdown=0: published.append((pk, countdown)))
    _send(client, registered, django_capture_on_commit_callbacks)
    delivery = CallbackDelivery.objects.get()
    assert published == [(delivery.pk, 0)]
    start = delivery.created_at
    assert callbacks.callback_attempt(delivery_id=delivery.pk, now=start) == 10.0
    assert callbacks.callback_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=10)) == 30.0
    assert callbacks.callback_attempt(delivery_id=delivery.pk, now=start + timedelta(seconds=40)) is None
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 3
    assert [a.status_code for a in CallbackAttempt.objects.order_by("at")] == [503, 500, 200]
    assert [r["verified"] for r in receiver.received] == [True, True, True]


@pytest.mark.django_db
def test_an_unreachable_receiver_is_given_up_after_a_day(agent, number, order_update):
    callback, _secret = callbacks.callback_register(user=agent, url="http://127.0.0.1:9/nobody-listens")
    from conversations.models import Message

    thread = conversations.conversation_get_or_create(
        number=number, contact=conversations.contact_for_identity(wa_id="4915123456789", user_id=None)
    )
    message = conversations.message_send_template(
        conversation=thread, sender=agent, template="order_update", language="de", parameters=GOOD
    )
    Message.objects.filter(pk=message.pk).update(status="sent")
    message.refresh_from_db()
    callbacks.status_changed(message)
    delivery = CallbackDelivery.objects.get()
    assert callbacks.callback_attempt(delivery_id=delivery.pk, now=delivery.created_at) == 10.0
    attempt = CallbackAttempt.objects.get()
    assert attempt.status_code is None and "Connection" in attempt.error
    late = delivery.created_at + timedelta(days=1, seconds=1)
    assert callbacks.callback_attempt(delivery_id=delivery.pk, now=late) is None
    delivery.refresh_from_db()
    assert delivery.state == "gave_up" and delivery.attempts == 2


@pytest.mark.django_db
def test_callbacks_api_lists_and_deletes_and_hides_the_secret(client, agent, finance):
    headers = bearer(agent)
    created = client.post(
        "/api/v1/callbacks", {"url": "https://shop.example/s"}, content_type="application/json", **headers
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    listed = client.get("/api/v1/callbacks", **headers).json()
    assert [c["url"] for c in listed] == ["https://shop.example/s"] and "secret" not in listed[0]
    assert client.delete(f"/api/v1/callbacks/{listed[0]['id']}", **headers).status_code == 204
    assert client.get("/api/v1/callbacks", **headers).json() == []
    bad = client.post("/api/v1/callbacks", {"url": "ftp://x"}, content_type="application/json", **headers)
    assert bad.status_code == 422
    assert client.get("/api/v1/callbacks", **bearer(finance)).status_code == 403
