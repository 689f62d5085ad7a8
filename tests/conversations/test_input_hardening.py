"""Odd input reaches the API and the services as a clear refusal, never a 500 (review findings)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import services
from conversations.exceptions import ConversationError
from conversations.models import Message
from tests.conversations.conftest import bearer, receive

URL = "/api/v1/conversations"


@pytest.fixture
def conversation(number):
    return receive(number, at=timezone.now() - timedelta(hours=1)).conversation


def post_json(client, path, body, user):
    return client.post(path, body, content_type="application/json", **bearer(user))


@pytest.mark.django_db
def test_a_far_future_snooze_is_refused_so_the_thread_stays_readable(client, agent, conversation):
    # 9999-12-31 in New York is year 10000 in UTC: stored, it could not be read back by anyone.
    response = post_json(
        client,
        f"{URL}/{conversation.pk}/status",
        {"status": "snoozed", "snooze_until": "9999-12-31T23:59:00-05:00"},
        agent,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert client.get(URL, **bearer(agent)).status_code == 200
    with pytest.raises(ConversationError, match="a year"):
        services.conversation_status_set(
            conversation=conversation, status="snoozed", by=agent, snooze_until=timezone.now() + timedelta(days=400)
        )


@pytest.mark.django_db
@pytest.mark.parametrize("assignee", ["²", "٣", "99999999999999999999999"])
def test_non_ascii_or_huge_ids_in_filters_are_a_validation_error(client, agent, conversation, assignee):
    response = client.get(URL, {"assignee": assignee}, **bearer(agent))
    assert response.status_code == 422


@pytest.mark.django_db
def test_a_cursor_with_an_infinite_id_is_a_validation_error(client, agent, conversation):
    cursor = base64.urlsafe_b64encode(b'{"t": null, "id": Infinity}').decode().rstrip("=")
    response = client.get(URL, {"cursor": cursor}, **bearer(agent))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
def test_nul_characters_are_refused_or_dropped_not_a_500(client, agent, conversation):
    base = f"{URL}/{conversation.pk}"
    assert post_json(client, f"{base}/notes", {"text": "a\x00b"}, agent).status_code == 422
    assert post_json(client, f"{base}/messages", {"text": "a\x00b"}, agent).status_code == 422
    assert post_json(client, f"{base}/labels", {"name": "vip\x00"}, agent).json() == ["vip"]
    assert client.get("/api/v1/search", {"q": "a\x00b"}, **bearer(agent)).status_code == 200


@pytest.mark.django_db
def test_removing_a_blank_label_is_a_validation_error(client, agent, conversation):
    response = client.delete(f"{URL}/{conversation.pk}/labels/%20", **bearer(agent))
    assert response.status_code == 422


@pytest.mark.django_db
def test_a_client_id_reused_for_another_conversation_is_refused(agent, number, conversation):
    other = receive(number, at=timezone.now() - timedelta(hours=1), wa_id="4915199999999").conversation
    first = services.message_send_text(conversation=conversation, sender=agent, text="Hallo", client_id="1" * 32)
    assert (
        services.message_send_text(conversation=conversation, sender=agent, text="Hallo", client_id="1" * 32) == first
    )
    with pytest.raises(ConversationError, match="another conversation"):
        services.message_send_text(conversation=other, sender=agent, text="Hallo", client_id="1" * 32)
    assert not Message.objects.filter(conversation=other, direction="out").exists()


@pytest.mark.django_db
def test_an_upload_with_a_long_or_odd_content_type_is_stored_as_a_plain_file(agent, conversation):
    message = services.message_send_media(
        conversation=conversation, sender=agent, content=b"%PDF-1.4", mime_type="x" * 300, filename="a.pdf"
    )
    assert message.media_mime_type == "application/octet-stream"
    assert message.type == "document"


@pytest.mark.django_db
def test_assigning_an_outsider_does_not_reveal_their_username(client, agent, outsider, conversation):
    response = post_json(client, f"{URL}/{conversation.pk}/assign", {"assignee": outsider.pk}, agent)
    assert response.status_code == 422
    assert outsider.username not in response.content.decode()
