"""Sending a failed message again from the thread, when Meta's error allows it."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.models import Message
from tests.conversations.conftest import FakeClient
from tests.inbox.test_inbox_pages import chat


@pytest.fixture
def fake_client(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr("whatsapp.client.get_client", lambda: client)
    return client


def failed_reply(conversation, agent, *, code):
    sent = services.message_send_text(conversation=conversation, sender=agent, text="Ihr Paket kommt morgen.")
    return services.message_send_failed(message_id=sent.pk, code=code, reason="Meta said no")


@pytest.mark.django_db
def test_a_transient_failure_offers_send_again_and_sends_a_copy(client, agent, number, fake_client):
    conversation = chat(number, hours_ago=1)
    failed = failed_reply(conversation, agent, code=131000)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert f'action="/inbox/c/{conversation.pk}/m/{failed.pk}/retry/"' in html
    # Meta's words for a passing error say "retrying"; a failed message is not being retried.
    assert "retrying" not in html and "passing problem (error 131000) and did not deliver it" in html
    response = client.post(f"/inbox/c/{conversation.pk}/m/{failed.pk}/retry/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    copy = Message.objects.filter(conversation=conversation, direction="out").exclude(pk=failed.pk).get()
    assert copy.text == "Ihr Paket kommt morgen." and copy.sender == agent
    assert f'id="msg-{copy.pk}"' in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == "failed"  # the failed one keeps its reason
    assert copy.status == "queued"  # the delivery task sends it like any reply


@pytest.mark.django_db
def test_a_permanent_failure_is_not_offered_and_a_forged_retry_is_refused(client, agent, number, fake_client):
    conversation = chat(number, hours_ago=1)
    failed = failed_reply(conversation, agent, code=131026)  # not on WhatsApp
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "/retry/" not in html
    response = client.post(f"/inbox/c/{conversation.pk}/m/{failed.pk}/retry/", HTTP_HX_REQUEST="true")
    assert "could not be delivered" in response.content.decode()
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1


@pytest.mark.django_db
def test_a_message_that_may_have_been_delivered_is_not_sent_again_and_the_thread_says_why(
    client, agent, number, fake_client
):
    conversation = chat(number, hours_ago=1)
    sent = services.message_send_text(conversation=conversation, sender=agent, text="Hallo?")
    # What the delivery task records when Meta's answer never came (conversations/services/delivery.py).
    failed = services.message_send_failed(
        message_id=sent.pk, title="No answer from WhatsApp", reason=services.may_have_been_delivered_reason()
    )
    assert failed.status == "failed" and services.message_retry_may_duplicate(failed)
    client.force_login(agent)
    html = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "may already have this message" in html and "/retry/" not in html  # said, and not offered
    url = f"/inbox/c/{conversation.pk}/m/{failed.pk}/retry/"
    for data in ({}, {"confirm": "1"}):  # a forged or an old page's post is refused with the reason
        refused = client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
        assert "may already have this message" in refused
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1
    client.cookies["django_language"] = "de"
    assert "vielleicht schon" in client.get(f"/inbox/c/{conversation.pk}/").content.decode()


@pytest.mark.django_db
def test_a_retry_in_a_closed_window_is_refused_with_the_reason(client, agent, number, fake_client):
    conversation = chat(number, hours_ago=1)
    failed = failed_reply(conversation, agent, code=131000)
    conversation.refresh_from_db()
    conversation.last_inbound_at = conversation.last_inbound_at.replace(year=2020)
    conversation.save(update_fields=["last_inbound_at"])
    client.force_login(agent)
    response = client.post(f"/inbox/c/{conversation.pk}/m/{failed.pk}/retry/", HTTP_HX_REQUEST="true")
    assert "window closed" in response.content.decode()
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1


@pytest.mark.django_db
def test_the_service_itself_refuses_to_resend_a_message_the_customer_may_have(agent, number, fake_client):
    """Not only the thread's button: any caller of message_retry (the API, a script) is refused."""
    from conversations.exceptions import NotAllowed

    conversation = chat(number, hours_ago=1)
    sent = services.message_send_text(conversation=conversation, sender=agent, text="Hallo?")
    failed = services.message_send_failed(
        message_id=sent.pk, title="No answer from WhatsApp", reason=services.may_have_been_delivered_reason()
    )
    with pytest.raises(NotAllowed, match="may already have this message"):
        services.message_retry(message=failed, by=agent)
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1
