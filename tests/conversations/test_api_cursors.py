"""The conversations API's keyset pages (core.pagination): every row exactly once, `next` null on
the last page, and a cursor the server did not make answered with 422, never a 500."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from conversations.models import Conversation, Message
from conversations.services import message_send_text
from core import cursors
from tests.conversations.conftest import bearer, receive, utc

T0 = utc(2026, 6, 1, 10, 0, 0)
URL = "/api/v1/conversations"

TAMPERED = [
    "garbage",
    "x" * 500,
    base64.urlsafe_b64encode(b'{"t": "2026-06-01T10:00:00", "id": 1}').decode(),  # naive time
    base64.urlsafe_b64encode(b'{"t": null, "id": "1; DROP TABLE"}').decode(),
    base64.urlsafe_b64encode(b'{"t": null, "id": 99999999999999999999}').decode(),
    cursors.encode(T0, 1)[:-3],  # cut short
]


def _all_pages(client, url, headers, limit):
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get(url, {"limit": limit, **({"cursor": cursor} if cursor else {})}, **headers).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            return seen, pages


def _assert_invalid_cursor(response):
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == {"cursor": "invalid"}


@pytest.mark.django_db
def test_the_list_pages_through_every_thread_once_threads_without_messages_last(client, agent, number):
    for i in range(5):
        receive(number, at=T0 + timedelta(hours=i % 3), wa_id=f"49151000000{i}")  # ties on the time
    Conversation.objects.filter(pk__in=Conversation.objects.order_by("id").values("pk")[:2]).update(
        last_message_at=None
    )
    seen, pages = _all_pages(client, URL, bearer(agent), limit=2)
    expected = [
        c.pk
        for c in sorted(
            Conversation.objects.all(),
            key=lambda c: (c.last_message_at is None, -(c.last_message_at or T0).timestamp(), -c.pk),
        )
    ]
    assert seen == expected and len(set(seen)) == 5
    assert pages == 3


@pytest.mark.django_db
def test_the_messages_page_through_every_message_once_towards_older(client, agent, number):
    conversation = receive(number, at=T0).conversation
    for i in range(6):
        message_send_text(conversation=conversation, sender=agent, text=f"r{i}", now=T0 + timedelta(minutes=i // 2))
    seen, pages = _all_pages(client, f"{URL}/{conversation.pk}/messages", bearer(agent), limit=3)
    expected = list(
        Message.objects.filter(conversation=conversation).order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    # Each page is oldest first; the pages go from the newest to the oldest.
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)) == 7
    assert pages == 3


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", TAMPERED)
def test_a_tampered_cursor_is_refused_by_the_list(client, agent, number, cursor):
    receive(number, at=T0)
    _assert_invalid_cursor(client.get(URL, {"cursor": cursor}, **bearer(agent)))


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", [*TAMPERED, cursors.encode(None, 1)])  # every message has a time
def test_a_tampered_cursor_is_refused_by_the_messages(client, agent, number, cursor):
    conversation = receive(number, at=T0).conversation
    _assert_invalid_cursor(client.get(f"{URL}/{conversation.pk}/messages", {"cursor": cursor}, **bearer(agent)))


@pytest.mark.django_db
def test_a_cursor_from_before_the_shared_codec_still_pages(client, agent, number):
    for i in range(3):
        receive(number, at=T0 + timedelta(hours=i), wa_id=f"49151000000{i}")
    newest_two = list(Conversation.objects.order_by("-last_message_at")[:2])
    earlier = (
        base64.urlsafe_b64encode(
            json.dumps({"t": newest_two[1].last_message_at.isoformat(), "id": newest_two[1].pk}).encode()
        )
        .decode()
        .rstrip("=")
    )
    page = client.get(URL, {"cursor": earlier}, **bearer(agent)).json()
    assert [item["id"] for item in page["items"]] == [Conversation.objects.order_by("last_message_at").first().pk]
    assert page["next"] is None
