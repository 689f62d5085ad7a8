"""The agent pages page by the shared cursor (core.cursors); a tampered one shows the top."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from conversations.models import Conversation
from core import cursors
from inbox import queries
from tests.conversations.conftest import receive, utc

T0 = utc(2026, 6, 1, 10, 0, 0)

pytestmark = pytest.mark.django_db


@pytest.fixture
def threads(number):
    for i in range(5):
        receive(number, at=T0 + timedelta(hours=i), wa_id=f"49151000000{i}")
    # One thread without messages: it sorts first on the pages (DESC NULLS FIRST).
    Conversation.objects.filter(pk=Conversation.objects.order_by("id").first().pk).update(last_message_at=None)
    return list(Conversation.objects.order_by("-last_message_at", "-id").values_list("pk", flat=True))


def test_the_list_pages_through_every_thread_once(agent, threads):
    seen, cursor = [], None
    while True:
        page = queries.conversation_list(agent, queries.ListFilters(), cursor=cursor, limit=2)
        seen += [c.pk for c in page.conversations]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == threads


@pytest.mark.parametrize("cursor", ["garbage", "x" * 500, cursors.encode(T0, 1)[:-3]])
def test_a_tampered_cursor_shows_the_first_page(agent, threads, cursor):
    page = queries.conversation_list(agent, queries.ListFilters(), cursor=cursor, limit=2)
    assert [c.pk for c in page.conversations] == threads[:2]


def test_a_cursor_in_the_pages_earlier_form_still_pages(agent, threads):
    # bench/inbox.py builds later-page URLs with base64 of "ISO|id".
    second = Conversation.objects.get(pk=threads[1])
    earlier = base64.urlsafe_b64encode(f"{second.last_message_at.isoformat()}|{second.pk}".encode()).decode()
    page = queries.conversation_list(agent, queries.ListFilters(), cursor=earlier.rstrip("="), limit=2)
    assert [c.pk for c in page.conversations] == threads[2:4]


def test_the_thread_pages_towards_older_messages(agent, number):
    conversation = receive(number, at=T0).conversation
    for i in range(4):
        receive(number, at=T0 + timedelta(minutes=i + 1), text=f"m{i}")
    first = queries.thread_messages(conversation, limit=3)
    older = queries.thread_messages(conversation, before=first.older_cursor, limit=3)
    assert [m.text for m in first.messages] == ["m1", "m2", "m3"]
    assert [m.text for m in older.messages] == ["Hallo", "m0"] and older.older_cursor is None
    assert queries.thread_messages(conversation, before="garbage", limit=3).messages == first.messages
