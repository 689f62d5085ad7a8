"""The webhook POST answered in front of Django (webhooks/asgi_intake.py), over real HTTP on
uvicorn: what it stores, what it refuses, and the headers it answers with."""

from __future__ import annotations

import json

import pytest
import requests

from tests.webhooks.helpers import envelope, fresh_wamid, messages_change, text_message
from webhooks import intake
from webhooks.models import WebhookEvent
from whatsapp.signature import sign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def intake_url(live_asgi, settings):
    settings.WEBHOOKS_PROCESS_INLINE = False  # the production shape: only stored, a processor applies
    return f"{live_asgi}/webhooks/whatsapp/"


def _body(number) -> bytes:
    return json.dumps(envelope(messages_change(number, messages=[text_message(fresh_wamid())]))).encode()


def _post(url, body: bytes, signature: str | None = None, **headers):
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature or sign(body, "dev-app-secret"),
        **headers,
    }
    return requests.post(url, data=body, headers=headers, timeout=10)


def test_a_signed_delivery_is_stored_once_and_answered_200(intake_url, number):
    body = _body(number)
    first = _post(intake_url, body)
    again = _post(intake_url, body)  # Meta's retry of the same delivery
    assert (first.status_code, first.text) == (200, "OK")
    assert again.status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body and event.dedupe_key == intake.dedupe_key(body)
    assert event.state == WebhookEvent.State.RECEIVED
    assert event.headers["X-Hub-Signature-256"] == sign(body, "dev-app-secret")
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["X-Frame-Options"] == "DENY"


def test_a_wrong_or_missing_signature_is_refused_and_nothing_stored(intake_url, number):
    body = _body(number)
    assert _post(intake_url, body, signature="sha256=" + "0" * 64).status_code == 401
    assert requests.post(intake_url, data=body, timeout=10).status_code == 401
    assert not WebhookEvent.objects.exists()


def test_a_body_over_the_limit_is_refused(intake_url, number, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1000
    body = b'{"object":"whatsapp_business_account","entry":[],"pad":"' + b"x" * 2000 + b'"}'
    assert _post(intake_url, body).status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_foreign_host_is_refused(intake_url, number):
    assert _post(intake_url, _body(number), Host="evil.example").status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_signed_body_that_is_not_json_is_stored_for_the_processor(intake_url, number):
    body = b"this is not json"
    assert _post(intake_url, body).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.RECEIVED  # the processor marks it failed


def test_a_delivery_after_postgresql_dropped_the_pools_connections_is_still_stored(intake_url, number):
    """What a PostgreSQL restart leaves: every pooled intake connection dead. The pool does not
    check connections before use (a round trip per webhook), so the intake must notice and retry."""
    from django.db import connection

    from webhooks.asgi_intake import APPLICATION_NAME

    assert _post(intake_url, _body(number)).status_code == 200  # the pool has its connections now
    with connection.cursor() as cursor:
        # Only the intake pool's: the test's own connections must outlive this test.
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [APPLICATION_NAME],
        )
        assert cursor.fetchone()[0] >= 1
    body = _body(number)
    assert _post(intake_url, body).status_code == 200
    assert WebhookEvent.objects.filter(dedupe_key=intake.dedupe_key(body)).exists()


async def _request(app, body: bytes, headers: dict[str, str]) -> list[dict]:
    """One POST of the webhook path straight into the ASGI app; returns what it sent."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/whatsapp/",
        "scheme": "http",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _call(app, body: bytes, headers: dict[str, str]) -> list[dict]:
    """One request on an event loop of its own; returns what the app sent."""
    import asyncio

    async def one():
        try:
            return await _request(app, body, headers)
        finally:
            await _pool_closed(app)

    return asyncio.run(one())


async def _pool_closed(app) -> None:
    """Close the pool the intake opened on this event loop before the loop ends. Left open, its
    workers were cancelled mid-connect at asyncio.run's end, and once on a slow machine that
    teardown outlasted pytest's timeout (CI, 2026-12-02)."""
    import asyncio

    pool = getattr(app, "_pools", {}).pop(id(asyncio.get_running_loop()), None)
    if pool is not None:
        await pool.close()


def test_the_intake_is_answered_without_django(settings, number):
    from webhooks.asgi_intake import WebhookIntake

    settings.WEBHOOKS_PROCESS_INLINE = False

    async def django(scope, receive, send):
        raise AssertionError("the webhook POST reached Django")

    body = _body(number)
    sent = _call(
        WebhookIntake(django), body, {"Host": "127.0.0.1", "X-Hub-Signature-256": sign(body, "dev-app-secret")}
    )
    assert sent[0]["status"] == 200
    assert WebhookEvent.objects.filter(dedupe_key=intake.dedupe_key(body)).count() == 1


def test_a_delivery_that_cannot_be_stored_is_refused_so_meta_retries(settings, number, monkeypatch):
    """PostgreSQL down for longer than the intake waits for its pool: not stored, so never 200."""
    import psycopg

    from webhooks.asgi_intake import WebhookIntake

    settings.WEBHOOKS_PROCESS_INLINE = False

    async def database_down(self):
        raise psycopg.OperationalError("connection failed: Connection refused")

    async def django(scope, receive, send):
        raise AssertionError("the webhook POST reached Django")

    monkeypatch.setattr(WebhookIntake, "_pool", database_down)  # no connection to be had
    body = _body(number)
    sent = _call(
        WebhookIntake(django), body, {"Host": "127.0.0.1", "X-Hub-Signature-256": sign(body, "dev-app-secret")}
    )
    assert sent[0]["status"] == 503
    assert not WebhookEvent.objects.filter(dedupe_key=intake.dedupe_key(body)).exists()


def test_without_a_processor_django_takes_the_intake(settings, number):
    from webhooks.asgi_intake import WebhookIntake

    settings.WEBHOOKS_PROCESS_INLINE = True  # the single-process default applies in the view
    reached = []

    async def django(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"OK"})

    _call(WebhookIntake(django), b"{}", {"Host": "127.0.0.1"})
    assert reached == ["/webhooks/whatsapp/"]


def _call_together(app, bodies: list[bytes]) -> list[int]:
    """Several requests into the ASGI app at once, on one event loop; their statuses in order."""
    import asyncio

    async def one(body: bytes) -> int:
        headers = {"Host": "127.0.0.1", "X-Hub-Signature-256": sign(body, "dev-app-secret")}
        return (await _request(app, body, headers))[0]["status"]

    async def all_of_them():
        try:
            return await asyncio.gather(*(one(body) for body in bodies))
        finally:
            await _pool_closed(app)

    return asyncio.run(all_of_them())


def _no_django(scope, receive, send):
    raise AssertionError("the webhook POST reached Django")


def test_webhooks_arriving_together_are_stored_in_a_few_commits(settings, number):
    from webhooks.asgi_intake import WebhookIntake

    settings.WEBHOOKS_PROCESS_INLINE = False
    app = WebhookIntake(_no_django)
    batches: list[int] = []
    insert = app._insert

    async def counted(rows):
        batches.append(len(rows))
        await insert(rows)

    app._insert = counted
    bodies = [_body(number) for _ in range(40)]
    assert _call_together(app, bodies) == [200] * 40
    assert WebhookEvent.objects.filter(dedupe_key__in=[intake.dedupe_key(b) for b in bodies]).count() == 40
    assert sum(batches) == 40
    assert len(batches) < 40, batches  # rows that waited for a running INSERT went in the next one


def test_a_row_postgresql_refuses_fails_alone_and_its_batch_is_still_stored(settings, number):
    import psycopg

    from webhooks.asgi_intake import WebhookIntake

    settings.WEBHOOKS_PROCESS_INLINE = False
    app = WebhookIntake(_no_django)
    insert = app._insert
    poison = b'{"poison": true}'

    async def refusing(rows):
        if any(row[0] == poison for row in rows):
            raise psycopg.errors.DataError("invalid input")
        await insert(rows)

    app._insert = refusing
    bodies = [_body(number) for _ in range(10)]
    statuses = _call_together(app, [*bodies[:5], poison, *bodies[5:]])
    assert statuses == [200] * 5 + [503] + [200] * 5
    assert WebhookEvent.objects.filter(dedupe_key__in=[intake.dedupe_key(b) for b in bodies]).count() == 10
    assert not WebhookEvent.objects.filter(dedupe_key=intake.dedupe_key(poison)).exists()
