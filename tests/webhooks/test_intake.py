"""The endpoint itself: verification, signatures, size, storing, duplicates, the admin."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from conversations.models import Message
from tests.webhooks import helpers as h
from webhooks import intake
from webhooks.models import WebhookEvent
from whatsapp.signature import sign

pytestmark = pytest.mark.django_db


# --- GET verification -----------------------------------------------------------------------


def test_verify_answers_the_challenge_as_plain_text(client, settings):
    settings.WHATSAPP_VERIFY_TOKEN = "let-me-in"
    response = client.get(h.url(), {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1158"})
    assert response.status_code == 200
    assert response.content == b"1158"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1"},
        {"hub.verify_token": "let-me-in", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_verify_refuses_anything_else(client, settings, params):
    settings.WHATSAPP_VERIFY_TOKEN = "let-me-in"
    response = client.get(h.url(), params)
    assert response.status_code == 403
    assert b"1" not in response.content


def test_verify_refuses_everything_without_a_configured_token(client, settings):
    settings.WHATSAPP_VERIFY_TOKEN = ""
    response = client.get(h.url(), {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert response.status_code == 403


# --- POST: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_header",
    [
        lambda body: None,  # no header at all
        lambda body: "",
        lambda body: sign(body, "another-apps-secret"),
        lambda body: sign(body + b" ", "dev-app-secret"),  # signature of other bytes
        lambda body: sign(body, "dev-app-secret").removeprefix("sha256="),  # no prefix
        lambda body: "sha256=" + "0" * 64,
        lambda body: "sha256=ünïcödé",
    ],
)
def test_missing_or_wrong_signature_is_401_counted_and_not_stored(client, settings, number, make_header):
    settings.WHATSAPP_APP_SECRET = "dev-app-secret"
    body = json.dumps(h.envelope(h.messages_change(number, messages=[h.text_message(h.fresh_wamid())]))).encode()
    before, _ = intake.signature_refusals()
    header = make_header(body)
    headers = {} if header is None else {"X-Hub-Signature-256": header}
    response = client.post(h.url(), data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    after, last = intake.signature_refusals()
    assert after == before + 1
    assert last is not None


def test_an_empty_app_secret_refuses_even_a_matching_signature(client, settings):
    settings.WHATSAPP_APP_SECRET = ""
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    response = h.post(client, body, signature=sign(body, ""))
    assert response.status_code == 401


def test_body_over_the_limit_is_413_and_not_stored(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    body = json.dumps({"object": "whatsapp_business_account", "entry": [], "pad": "x" * 200}).encode()
    response = h.post(client, body)
    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


def test_body_at_the_limit_is_accepted(client, settings):
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    settings.WEBHOOK_MAX_BODY_BYTES = len(body)
    assert h.post(client, body).status_code == 200


def test_other_methods_are_405(client):
    assert client.put(h.url(), data=b"{}").status_code == 405


def test_the_url_keeps_its_name():
    assert reverse("webhooks:whatsapp") == "/webhooks/whatsapp/"


# --- POST: storing --------------------------------------------------------------------------


def test_signed_body_is_stored_raw_with_its_headers_and_nothing_else(client, number, settings):
    settings.WEBHOOKS_PROCESS_INLINE = False  # the production shape: a processor applies it later
    wamid = h.fresh_wamid()
    body = json.dumps(h.envelope(h.messages_change(number, messages=[h.text_message(wamid)]))).encode()
    response = h.post(client, body)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    # Stored and answered before any processing: the processor claims it from the table.
    assert event.state == WebhookEvent.State.RECEIVED
    assert bytes(event.body) == body
    assert event.dedupe_key == intake.dedupe_key(body)
    assert event.headers["X-Hub-Signature-256"] == sign(body, "dev-app-secret")
    assert not Message.objects.filter(wamid=wamid).exists()


def test_without_a_processor_the_request_applies_what_it_stored(client, number):
    wamid = h.fresh_wamid()
    body = json.dumps(h.envelope(h.messages_change(number, messages=[h.text_message(wamid)]))).encode()
    assert h.post(client, body).status_code == 200
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    assert Message.objects.filter(wamid=wamid).exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[1, 2, 3]", "the body is a JSON list"),
        (b'{"object": "whatsapp_business_account"}', "entry"),
        (b'{"entry": [{"changes": [{"value": {}}]}]}', "field"),
        (b"", "not JSON"),
    ],
)
def test_signed_but_unparseable_body_is_stored_failed_and_answered_200(
    client, body, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = h.post(client, body)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.FAILED
    assert reason in event.reason
    assert bytes(event.body) == body
    assert callbacks == []  # nothing to process


def test_the_same_delivery_three_times_is_one_event_and_one_message(client, number, django_capture_on_commit_callbacks):
    wamid = h.fresh_wamid()
    body = json.dumps(h.envelope(h.messages_change(number, messages=[h.text_message(wamid)]))).encode()
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert h.post(client, body).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert Message.objects.filter(wamid=wamid).count() == 1
    assert WebhookEvent.objects.get().attempts == 1  # the processed event was not applied again


def test_the_same_message_in_different_bodies_is_one_message(client, number, django_capture_on_commit_callbacks):
    wamid = h.fresh_wamid()
    for name in ("Anna", "Anna M.", "A."):  # Meta's retry need not be byte-identical
        contacts = [{"profile": {"name": name}, "wa_id": "4915112345678"}]
        data = h.envelope(h.messages_change(number, contacts=contacts, messages=[h.text_message(wamid)]))
        with django_capture_on_commit_callbacks(execute=True):
            assert h.post(client, data).status_code == 200
    assert WebhookEvent.objects.count() == 3
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEvent.State.PROCESSED}
    assert Message.objects.filter(wamid=wamid).count() == 1


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture(params=["superuser", "admin_role"])
def admin_client(request, client, django_user_model):
    """The Django superuser and the inbox's admin role both see and re-process events."""
    from django.test import Client

    if request.param == "superuser":
        user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    else:
        user = request.getfixturevalue("admin_user")
    staff = Client()
    staff.force_login(user)
    return staff


def test_agents_do_not_see_webhook_events(client, agent):
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    assert client.get(reverse("admin:webhooks_webhookevent_changelist")).status_code == 403


def test_admin_lists_events_with_reason_and_the_refusal_count(admin_client, client):
    h.post(client, b"not json")
    h.post(client, b"{}", signature="sha256=bad")
    count, _ = intake.signature_refusals()
    response = admin_client.get(reverse("admin:webhooks_webhookevent_changelist"), {"state__exact": "failed"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "not JSON" in html
    assert f"{count} deliveries refused" in html or f"{count} delivery refused" in html


def test_admin_action_reprocesses_selected_events(admin_client, client, number, django_capture_on_commit_callbacks):
    wamid = h.fresh_wamid()
    data = h.envelope(h.messages_change(number, messages=[h.text_message(wamid)]))
    data["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    with django_capture_on_commit_callbacks(execute=True):
        h.post(client, data)
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.FLAGGED
    WebhookEvent.objects.filter(pk=event.pk).update(
        body=json.dumps(h.envelope(h.messages_change(number, messages=[h.text_message(wamid)]))).encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:webhooks_webhookevent_changelist"),
            {"action": "reprocess", "_selected_action": [event.pk]},
            follow=True,
        )
    assert "1 event queued for re-processing" in response.content.decode()
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert Message.objects.filter(wamid=wamid).exists()


def test_admin_shows_one_event_read_only(admin_client, client):
    h.post(client, b'{"object":"whatsapp_business_account","entry":[]}')
    event = WebhookEvent.objects.get()
    response = admin_client.get(reverse("admin:webhooks_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert "whatsapp_business_account" in response.content.decode()
