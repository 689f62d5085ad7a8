from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine

from conversations import services, tasks
from conversations.exceptions import ConversationError, NotAllowed, WindowClosed
from conversations.models import BusinessNumber, CannedResponse, Conversation, Message
from conversations.services import delivery
from tests.conversations.conftest import receive, utc
from whatsapp.errors import CloudApiError

T0 = utc(2026, 6, 1, 10, 0, 0)
EDGE = T0 + timedelta(hours=23, minutes=59, seconds=59)
LATE = T0 + timedelta(hours=24, seconds=1)


@pytest.fixture
def conversation(number):
    return receive(number, at=T0).conversation


def _deliver(message_id: int):
    return tasks.message_deliver.apply(args=[message_id])


@pytest.mark.django_db
def test_send_inside_window_records_then_delivers(conversation, agent, fake_client, django_capture_on_commit_callbacks):
    with time_machine.travel(EDGE, tick=False), django_capture_on_commit_callbacks(execute=True):
        message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo Jana")
        assert message.status == "queued"
    message.refresh_from_db()
    assert message.status == "sent" and message.wamid.startswith("wamid.OUT")
    assert fake_client.sent == [
        (
            conversation.number.phone_number_id,
            {
                "recipient_type": "individual",
                "to": "+4915112345678",
                "type": "text",
                "text": {"body": "Hallo Jana", "preview_url": False},
            },
        )
    ]


@pytest.mark.django_db
def test_service_refuses_outside_window(conversation, agent, fake_client):
    with pytest.raises(WindowClosed) as excinfo:
        services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=LATE)
    assert excinfo.value.expired_at == T0 + timedelta(hours=24)
    assert not Message.objects.filter(direction="out").exists()
    assert fake_client.sent == []


@pytest.mark.django_db
def test_queued_at_23_59_59_picked_up_after_close_is_not_sent(conversation, agent, fake_client):
    message = services.message_send_text(conversation=conversation, sender=agent, text="Gleich", now=EDGE)
    with time_machine.travel(LATE, tick=False):
        _deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "failed"
    assert "window closed" in message.error_details
    assert fake_client.sent == []


@pytest.mark.django_db
def test_task_run_twice_sends_once(conversation, agent, fake_client):
    message = services.message_send_text(conversation=conversation, sender=agent, text="Einmal", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(message.pk)
        _deliver(message.pk)
    assert len(fake_client.sent) == 1


@pytest.mark.django_db
def test_retried_send_with_same_client_id_sends_once(
    conversation, agent, fake_client, django_capture_on_commit_callbacks
):
    client_id = uuid.uuid4()
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        first = services.message_send_text(conversation=conversation, sender=agent, text="Hi", client_id=client_id)
        second = services.message_send_text(conversation=conversation, sender=agent, text="Hi", client_id=client_id)
    assert first.pk == second.pk
    assert len(fake_client.sent) == 1


@pytest.mark.django_db
def test_permanent_error_fails_with_plain_reason(conversation, agent, fake_client):
    fake_client.fail_with.append(CloudApiError(code=131026, title="Message undeliverable", http_status=400))
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", 131026)
    assert "could not be delivered" in message.error_details


@pytest.mark.django_db
def test_131047_from_send_closes_window(conversation, agent, fake_client):
    fake_client.fail_with.append(CloudApiError(code=131047, title="Re-engagement message", http_status=400))
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        _deliver(message.pk)
    conversation.refresh_from_db()
    assert conversation.window_closed_at == T0 + timedelta(hours=2)
    with pytest.raises(WindowClosed):
        services.message_send_text(conversation=conversation, sender=agent, text="Noch?", now=T0 + timedelta(hours=3))


@pytest.mark.django_db
def test_no_answer_from_meta_fails_the_message_instead_of_sending_it_again(conversation, agent, fake_client):
    # A read timeout: Meta may have accepted the message; a retry could reach the customer twice.
    fake_client.fail_with.append(CloudApiError(title="The Cloud API timed out", transient=True, maybe_delivered=True))
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "failed"
    assert "may or may not have reached the customer" in message.error_details
    assert fake_client.sent == []  # not tried again (a retry would have succeeded)


@pytest.mark.django_db
def test_transient_error_retries_then_sends_once(conversation, agent, fake_client, monkeypatch):
    monkeypatch.setattr(delivery, "backoff_delay", lambda *a, **k: 0)
    fake_client.fail_with.append(CloudApiError(code=130429, title="Rate limit hit", http_status=400))
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(fake_client.sent) == 1


@pytest.mark.django_db
def test_stops_channel_error_marks_number_and_refuses_further_sends(conversation, agent, fake_client):
    fake_client.fail_with.append(CloudApiError(code=190, title="Invalid OAuth access token", http_status=401))
    message = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(message.pk)
    number = BusinessNumber.objects.get(pk=conversation.number_id)
    assert number.stopped_at is not None and "access token" in number.stopped_reason
    with pytest.raises(ConversationError):
        services.message_send_text(conversation=conversation, sender=agent, text="Noch einmal", now=T0)


@pytest.mark.django_db
def test_media_uploaded_by_task_then_sent(conversation, agent, fake_client):
    message = services.message_send_media(
        conversation=conversation,
        sender=agent,
        content=b"%PDF-1.4 invoice",
        mime_type="application/pdf",
        filename="Rechnung 42.pdf",
        caption="Ihre Rechnung",
        now=T0,
    )
    assert message.type == "document" and message.media_state == "stored"
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(message.pk)
    assert fake_client.uploads == [("application/pdf", "Rechnung 42.pdf")]
    payload = fake_client.sent[0][1]
    assert payload["type"] == "document"
    assert payload["document"]["caption"] == "Ihre Rechnung"
    assert payload["document"]["filename"] == "Rechnung 42.pdf"


@pytest.mark.django_db
def test_media_outside_window_refused(conversation, agent):
    with pytest.raises(WindowClosed):
        services.message_send_media(
            conversation=conversation, sender=agent, content=b"x", mime_type="image/png", filename="a.png", now=LATE
        )


@pytest.mark.django_db
def test_reply_quoting_and_reaction(conversation, agent, fake_client):
    customer = conversation.messages.get()
    reply = services.message_send_text(conversation=conversation, sender=agent, text="Gern", reply_to=customer, now=T0)
    react = services.message_react(conversation=conversation, sender=agent, message=customer, emoji="👍", now=T0)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        _deliver(reply.pk)
        _deliver(react.pk)
    assert fake_client.sent[0][1]["context"] == {"message_id": customer.wamid}
    assert fake_client.sent[1][1]["reaction"] == {"message_id": customer.wamid, "emoji": "👍"}


@pytest.mark.django_db
def test_quote_from_another_conversation_refused(conversation, agent, number):
    other = receive(number, at=T0, wa_id="447700900123").conversation.messages.get()
    with pytest.raises(NotAllowed):
        services.message_send_text(conversation=conversation, sender=agent, text="x", reply_to=other, now=T0)


@pytest.mark.django_db
def test_note_is_never_sent(conversation, agent, fake_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = services.note_add(conversation=conversation, author=agent, text="VIP, bitte freundlich")
    assert (note.type, note.status) == ("note", "note")
    assert fake_client.sent == []
    # Notes are allowed outside the window too.
    services.note_add(conversation=conversation, author=agent, text="später")


@pytest.mark.django_db
def test_mark_read_sends_receipt_once(conversation, agent, fake_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_mark_read(conversation=conversation, user=agent)
        services.conversation_mark_read(conversation=conversation, user=agent)
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert fake_client.read == [conversation.messages.get().wamid]


@pytest.mark.django_db
def test_assign_to_self_teammate_and_not_outsider(conversation, agent, teammate, outsider):
    services.conversation_assign(conversation=conversation, assignee=agent, by=agent)
    services.conversation_assign(conversation=conversation, assignee=teammate, by=agent)
    conversation.refresh_from_db()
    assert conversation.assignee == teammate
    with pytest.raises(NotAllowed):
        services.conversation_assign(conversation=conversation, assignee=outsider, by=agent)
    services.conversation_assign(conversation=conversation, assignee=None, by=agent)
    conversation.refresh_from_db()
    assert conversation.assignee is None


@pytest.mark.django_db
def test_status_changes_and_snooze_wakes(conversation, agent):
    services.conversation_status_set(conversation=conversation, status="resolved", by=agent, now=T0)
    with pytest.raises(ConversationError):
        services.conversation_status_set(conversation=conversation, status="snoozed", by=agent, now=T0)
    with pytest.raises(ConversationError):
        services.conversation_status_set(
            conversation=conversation, status="snoozed", by=agent, snooze_until=T0 - timedelta(hours=1), now=T0
        )
    services.conversation_status_set(
        conversation=conversation, status="snoozed", by=agent, snooze_until=T0 + timedelta(hours=2), now=T0
    )
    assert services.conversations_wake_snoozed(now=T0 + timedelta(hours=1)) == 0
    assert services.conversations_wake_snoozed(now=T0 + timedelta(hours=2)) == 1
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("open", None)


@pytest.mark.django_db
def test_labels(conversation, agent):
    services.conversation_label_add(conversation=conversation, name=" Refund ", by=agent)
    services.conversation_label_add(conversation=conversation, name="refund", by=agent)
    services.conversation_label_add(conversation=conversation, name="VIP", by=agent)
    assert sorted(conversation.labels.values_list("name", flat=True)) == ["Refund", "VIP"]
    services.conversation_label_remove(conversation=conversation, name="vip", by=agent)
    assert list(conversation.labels.values_list("name", flat=True)) == ["Refund"]


@pytest.mark.django_db
def test_canned_shortcut_expands(conversation, agent):
    services.canned_response_save(shortcut="/danke", text="Vielen Dank für Ihre Nachricht!")
    assert services.canned_expand(text="/danke") == "Vielen Dank für Ihre Nachricht!"
    assert services.canned_expand(text="/danke Bis bald.") == "Vielen Dank für Ihre Nachricht! Bis bald."
    assert services.canned_expand(text="/unbekannt hi") == "/unbekannt hi"
    assert services.canned_expand(text="siehe /danke") == "siehe /danke"
    message = services.message_send_text(conversation=conversation, sender=agent, text="/danke", now=T0)
    assert message.text == "Vielen Dank für Ihre Nachricht!"
    assert CannedResponse.objects.count() == 1


@pytest.mark.django_db
def test_naive_now_raises(conversation, agent):
    from datetime import datetime

    with pytest.raises(ValueError):
        services.message_send_text(conversation=conversation, sender=agent, text="x", now=datetime(2026, 6, 1, 11))
    assert Conversation.objects.count() == 1


@pytest.mark.django_db
def test_client_id_as_string_from_a_form_is_idempotent_and_junk_ignored(conversation, agent):
    key = str(uuid.uuid4())
    first = services.message_send_text(conversation=conversation, sender=agent, text="a", client_id=key, now=T0)
    again = services.message_send_text(conversation=conversation, sender=agent, text="a", client_id=key, now=T0)
    assert first.pk == again.pk and str(first.client_id) == key
    services.message_send_text(conversation=conversation, sender=agent, text="b", client_id="not-a-uuid", now=T0)
    assert Message.objects.filter(direction="out").count() == 2


@pytest.mark.django_db
def test_a_claim_whose_worker_died_is_failed_honestly_not_resent(conversation, agent, fake_client):
    stuck = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", now=T0)
    fresh = services.message_send_text(conversation=conversation, sender=agent, text="Noch da?", now=T0)
    for message in (stuck, fresh):
        assert services.message_claim(message_id=message.pk)  # claimed, then the worker died
    Message.objects.filter(pk=stuck.pk).update(claimed_at=T0)
    Message.objects.filter(pk=fresh.pk).update(claimed_at=T0 + timedelta(minutes=9))

    assert services.messages_stuck_sending_fail(now=T0 + timedelta(minutes=11)) == 1

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == "failed"
    assert "may or may not have reached the customer" in stuck.error_details
    assert fresh.status == "sending"
    assert fake_client.sent == []
