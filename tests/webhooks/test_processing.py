"""Applying stored events: batches, ordering, idempotency, flags, re-processing, retention."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations.models import Message
from conversations.services_numbers import business_number_add
from tests.webhooks import helpers as h
from webhooks.models import WebhookEvent
from webhooks.processing import event_process

pytestmark = pytest.mark.django_db


def _deliver(client, data, capture):
    with capture(execute=True):
        response = h.post(client, data)
    assert response.status_code == 200
    return WebhookEvent.objects.order_by("-id").first()


def test_unknown_phone_number_id_is_flagged_kept_and_applied_after_the_number_is_added(
    client, number, django_capture_on_commit_callbacks
):
    stranger = type(number)(phone_number_id="5550001", display_phone_number="15550001", waba_id="777")
    wamid = h.fresh_wamid()
    data = h.envelope(h.messages_change(stranger, messages=[h.text_message(wamid)]), waba_id="777")
    event = _deliver(client, data, django_capture_on_commit_callbacks)
    assert event.state == WebhookEvent.State.FLAGGED
    assert "unknown phone_number_id 5550001" in event.reason
    assert not Message.objects.filter(wamid=wamid).exists()

    business_number_add(phone_number_id="5550001", display_phone_number="+1 555 0001", waba_id="777")
    call_command("webhooks_reprocess")
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert event.reason == ""
    assert Message.objects.get(wamid=wamid).conversation.number.phone_number_id == "5550001"


def test_processing_an_event_twice_changes_nothing(client, number, django_capture_on_commit_callbacks):
    sent = h.outbound_message(number, wamid=h.fresh_wamid())
    data = h.envelope(
        h.messages_change(
            number, messages=[h.text_message(h.fresh_wamid())], statuses=[h.status_part(sent.wamid, "delivered")]
        )
    )
    event = _deliver(client, data, django_capture_on_commit_callbacks)
    snapshot = list(Message.objects.order_by("pk").values())
    # Force it through the apply path again, as a re-process of a flagged event would.
    WebhookEvent.objects.filter(pk=event.pk).update(state=WebhookEvent.State.FLAGGED)
    event_process(event_id=event.pk)
    event_process(event_id=event.pk)
    assert list(Message.objects.order_by("pk").values()) == snapshot
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert event.attempts == 2
    assert {"counts": {"messages_duplicate": 1, "statuses_applied": 1}} in event.notes


def test_a_batch_of_100_updates_in_one_post_applies_all_100(
    client, number, other_number, django_capture_on_commit_callbacks
):
    sent = [h.outbound_message(number, wamid=h.fresh_wamid(), wa_id=f"49151000{i:04d}") for i in range(50)]
    inbound = [h.text_message(h.fresh_wamid(), wa_id=f"49152000{i:04d}", body=f"#{i}") for i in range(50)]
    statuses = [h.status_part(m.wamid, "delivered") for m in sent]
    # Two entries, two changes each, two numbers: every level of the envelope is iterated.
    data = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": number.waba_id,
                "changes": [
                    h.messages_change(number, messages=inbound[:20]),
                    h.messages_change(number, statuses=statuses[:25]),
                ],
            },
            {
                "id": other_number.waba_id,
                "changes": [
                    h.messages_change(other_number, messages=inbound[20:]),
                    h.messages_change(number, statuses=statuses[25:]),
                ],
            },
        ],
    }
    event = _deliver(client, data, django_capture_on_commit_callbacks)
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    assert Message.objects.filter(direction="in").count() == 50
    assert Message.objects.filter(direction="in", conversation__number=other_number).count() == 30
    assert Message.objects.filter(direction="out", status="delivered").count() == 50
    assert {"counts": {"messages_new": 50, "statuses_applied": 50}} in event.notes


@pytest.mark.parametrize("order", list(itertools.permutations(["sent", "delivered", "read"])))
def test_statuses_in_any_order_end_read(client, number, order, django_capture_on_commit_callbacks):
    message = h.outbound_message(number, wamid=h.fresh_wamid())
    times = {"sent": 1790417300, "delivered": 1790417310, "read": 1790417320}
    for status in order:
        for _ in range(2):  # and each one delivered twice
            _deliver(
                client,
                h.envelope(
                    h.messages_change(number, statuses=[h.status_part(message.wamid, status, ts=times[status])])
                ),
                django_capture_on_commit_callbacks,
            )
    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert h.unix(message.sent_at) == times["sent"]
    assert h.unix(message.delivered_at) == times["delivered"]
    assert h.unix(message.read_at) == times["read"]


@pytest.mark.parametrize("order", [("sent", "failed"), ("failed", "sent")])
def test_failed_is_kept_with_its_code_whatever_the_order(client, number, order, django_capture_on_commit_callbacks):
    message = h.outbound_message(number, wamid=h.fresh_wamid())
    for status in order:
        part = h.status_part(message.wamid, status, code=131026 if status == "failed" else None)
        _deliver(client, h.envelope(h.messages_change(number, statuses=[part])), django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_code == 131026


def test_an_unreadable_part_flags_the_event_and_the_rest_of_the_batch_applies(
    client, number, django_capture_on_commit_callbacks
):
    good = h.fresh_wamid()
    bad = h.text_message(h.fresh_wamid())
    bad["timestamp"] = "<TIMESTAMP>"
    event = _deliver(
        client,
        h.envelope(h.messages_change(number, messages=[bad, h.text_message(good)])),
        django_capture_on_commit_callbacks,
    )
    assert event.state == WebhookEvent.State.FLAGGED
    assert "unreadable message" in event.reason and "timestamp" in event.reason
    assert Message.objects.filter(wamid=good).exists()
    assert not Message.objects.filter(wamid=bad["id"]).exists()


def test_a_part_that_raises_fails_the_event_with_the_reason_and_the_rest_applies(
    client, number, django_capture_on_commit_callbacks
):
    good = h.fresh_wamid()
    # No `from`, no `from_user_id`, no contacts: there is no one to file this message under.
    anonymous = h.text_message(h.fresh_wamid())
    del anonymous["from"]
    event = _deliver(
        client,
        h.envelope(h.messages_change(number, messages=[anonymous, h.text_message(good)])),
        django_capture_on_commit_callbacks,
    )
    assert event.state == WebhookEvent.State.FAILED
    assert f"message {anonymous['id']}" in event.reason
    assert Message.objects.filter(wamid=good).exists()
    # Re-processing it again is safe: the good message stays one message.
    call_command("webhooks_reprocess", "--id", str(event.pk))
    assert Message.objects.filter(wamid=good).count() == 1


def test_a_message_without_from_but_with_a_bsuid_is_received(client, number, django_capture_on_commit_callbacks):
    part = h.text_message(h.fresh_wamid())
    del part["from"]
    part["from_user_id"] = "DE.1234567890"
    contacts = [{"profile": {"name": "Anna", "username": "@anna"}, "user_id": "DE.1234567890"}]
    event = _deliver(
        client,
        h.envelope(h.messages_change(number, contacts=contacts, messages=[part])),
        django_capture_on_commit_callbacks,
    )
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    contact = Message.objects.get(wamid=part["id"]).conversation.contact
    assert (contact.user_id, contact.wa_id, contact.profile_name) == ("DE.1234567890", "", "Anna")


def test_user_preferences_stop_opts_the_contact_out(client, number, django_capture_on_commit_callbacks):
    prefs = [{"wa_id": "4915112345678", "category": "marketing_messages", "value": "stop", "timestamp": 1790417200}]
    change = h.messages_change(number, user_preferences=prefs)
    change["field"] = "user_preferences"
    event = _deliver(client, h.envelope(change), django_capture_on_commit_callbacks)
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    from conversations.models import Contact

    assert Contact.objects.get(wa_id="4915112345678").marketing_opted_out


def test_template_updates_are_kept_as_notes_for_the_templates_app(client, number, django_capture_on_commit_callbacks):
    change = {
        "field": "message_template_status_update",
        "value": {
            "event": "PAUSED",
            "message_template_id": 1689556908129832,
            "message_template_name": "order_update",
            "message_template_language": "en-US",
            "reason": None,
            "other_info": {"title": "FIRST_PAUSE", "description": "quality"},
        },
    }
    event = _deliver(client, h.envelope(change, waba_id=number.waba_id), django_capture_on_commit_callbacks)
    assert event.state == WebhookEvent.State.PROCESSED
    note = next(n for n in event.notes if n.get("kind") == "message_template_status_update")
    assert note["template_id"] == "1689556908129832"
    assert note["language"] == "en_US"
    assert note["event"] == "PAUSED"
    assert note["other_info"]["title"] == "FIRST_PAUSE"
    assert WebhookEvent.objects.filter(fields__contains=["message_template_status_update"]).count() == 1


def test_reprocess_command_picks_failed_flagged_and_stuck_events_only(client, number):
    def stored(state, age_minutes=0):
        body = json.dumps(h.envelope(h.messages_change(number, messages=[h.text_message(h.fresh_wamid())])))
        return WebhookEvent.objects.create(
            body=body.encode(),
            dedupe_key=h.fresh_wamid()[:64],
            received_at=timezone.now() - timedelta(minutes=age_minutes),
            state=state,
        )

    failed, flagged = stored("failed"), stored("flagged")
    stuck, fresh = stored("received", age_minutes=30), stored("received")
    call_command("webhooks_reprocess")
    states = dict(WebhookEvent.objects.values_list("pk", "state"))
    assert states[failed.pk] == states[flagged.pk] == states[stuck.pk] == "processed"
    assert states[fresh.pk] == "received"  # its task is probably still on the way


def test_reprocess_command_refuses_an_unknown_id(db):
    with pytest.raises(CommandError, match="no webhook event with id 424242"):
        call_command("webhooks_reprocess", "--id", "424242")


def test_purge_deletes_events_older_than_the_retention(db):
    now = timezone.now()
    for days in (10, 89, 91, 400):
        WebhookEvent.objects.create(
            body=b"{}", dedupe_key=f"k{days}", received_at=now - timedelta(days=days), state="processed"
        )
    call_command("webhooks_purge")
    assert sorted(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == ["k10", "k89"]
    call_command("webhooks_purge", "--days", "30")
    assert list(WebhookEvent.objects.values_list("dedupe_key", flat=True)) == ["k10"]
    with pytest.raises(CommandError):
        call_command("webhooks_purge", "--days", "0")


def test_a_nul_character_in_a_message_is_replaced_so_it_can_be_stored(
    client, number, django_capture_on_commit_callbacks
):
    # PostgreSQL text and jsonb cannot hold \u0000.
    part = h.text_message(h.fresh_wamid(), body="a\u0000b")
    event = _deliver(client, h.envelope(h.messages_change(number, messages=[part])), django_capture_on_commit_callbacks)
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    stored = Message.objects.get(wamid=part["id"])
    assert stored.text == "a\ufffdb"
    assert stored.payload["text"]["body"] == "a\ufffdb"


def test_nul_characters_anywhere_do_not_break_processing(client, number, django_capture_on_commit_callbacks):
    contacts = [{"profile": {"name": "An\u0000na"}, "wa_id": "4915112345678"}]
    change = h.messages_change(number, contacts=contacts, messages=[h.text_message(h.fresh_wamid())])
    odd = {"field": "odd\u0000field", "value": {"k\u0000": "v\u0000"}}
    template = {"field": "message_template_status_update", "value": {"event": "APPROVED\u0000"}}
    event = _deliver(client, h.envelope(change, odd, template), django_capture_on_commit_callbacks)
    assert event.state == WebhookEvent.State.PROCESSED, event.reason
    assert "odd\ufffdfield" in event.fields
