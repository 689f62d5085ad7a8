"""Review findings in the agent pages and the socket: odd input, revoked access, cross-site reads."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile

from conversations.models import Conversation, Message
from inbox.services import user_create_or_update
from tests.inbox.test_inbox_pages import chat
from tests.inbox.test_live import _frames_until, _receive, _socket


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["?number=%C2%B2", "?q=a%00b", "?number=99999999999999999999999999", "?q=%00"])
def test_odd_list_filters_are_ignored_not_a_500(client, agent, number, query):
    chat(number)
    client.force_login(agent)
    assert client.get(f"/inbox/{query}").status_code == 200


@pytest.mark.django_db
def test_odd_ids_in_forms_are_ignored_or_refused_not_a_500(client, agent, number):
    conversation = chat(number)
    client.force_login(agent)
    assert client.get(f"/inbox/c/{conversation.pk}/?reply_to=%C2%B2").status_code == 200
    assert client.post(f"/inbox/c/{conversation.pk}/assign/", {"assignee": "²"}).status_code < 500
    assert client.post(f"/inbox/c/{conversation.pk}/labels/", {"name": "vip\x00"}).status_code < 500
    assert client.post(f"/inbox/c/{conversation.pk}/send/", {"text": "a\x00b"}).status_code < 500
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


@pytest.mark.django_db
def test_a_link_from_another_site_does_not_mark_the_thread_read(client, agent, number):
    conversation = chat(number)
    client.force_login(agent)
    client.get(f"/inbox/c/{conversation.pk}/", headers={"Sec-Fetch-Site": "cross-site"})
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 1
    client.get(f"/inbox/c/{conversation.pk}/", headers={"Sec-Fetch-Site": "same-origin"})
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 0


@pytest.mark.django_db
def test_customers_files_are_not_served_from_a_public_media_url(client, agent, number, settings):
    settings.DEBUG = True
    conversation = chat(number)
    image = Message.objects.create(
        conversation=conversation, direction="in", type="image", status="received", wamid="wi-public",
        media_id="m1", media_mime_type="image/jpeg", media_filename="foto.jpg", media_state="stored",
    )  # fmt: skip
    image.media_file.save("foto.jpg", ContentFile(b"\xff\xd8jpeg"), save=True)
    assert client.get(f"/{settings.MEDIA_URL}{image.media_file.name}").status_code == 404


@pytest.mark.django_db
def test_finance_without_numbers_does_not_work_all_inboxes(number):
    finance = user_create_or_update(username="felix", role="finance")
    assert finance.profile.all_numbers is False


@pytest.mark.django_db(transaction=True)
async def test_a_socket_stops_hearing_messages_once_its_user_is_deactivated(client, agent, number):
    communicator = await _socket(client, agent)
    await sync_to_async(_receive)(number, "Vorher")
    assert any("Vorher" in frame for frame in await _frames_until(communicator, lambda f: "Vorher" in f))

    def deactivate():  # as Django's admin or our services do it: a save, which tells the socket
        agent.is_active = False
        agent.save(update_fields=["is_active"])

    await sync_to_async(deactivate)()
    # Frames of "Vorher" may still be on their way; then the socket closes at once.
    while (output := await communicator.receive_output(timeout=5))["type"] == "websocket.send":
        assert "Vorher" in output.get("text", "")
    assert output == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
