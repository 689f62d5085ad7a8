from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conversations import window
from conversations.models import Message
from conversations.services import inbound_message_receive, message_send_text
from tests.conversations.conftest import inbound, receive, utc

T0 = utc(2026, 6, 1, 10, 0, 0)
BERLIN = ZoneInfo("Europe/Berlin")


def test_open_at_23_59_59_closed_at_24_00_01():
    assert window.is_open(T0, T0 + timedelta(hours=23, minutes=59, seconds=59))
    assert not window.is_open(T0, T0 + timedelta(hours=24))
    assert not window.is_open(T0, T0 + timedelta(hours=24, seconds=1))
    assert window.expires_at(T0) == T0 + timedelta(hours=24)
    assert window.time_left(T0, T0 + timedelta(hours=23, minutes=59, seconds=59)) == timedelta(seconds=1)
    assert window.time_left(T0, T0 + timedelta(hours=24, seconds=1)) == timedelta(0)


def test_never_wrote_means_closed():
    assert window.expires_at(None) is None
    assert not window.is_open(None, T0)


def test_naive_datetimes_raise():
    with pytest.raises(ValueError):
        window.is_open(datetime(2026, 6, 1, 10), T0)
    with pytest.raises(ValueError):
        window.is_open(T0, datetime(2026, 6, 1, 11))


def test_dst_change_is_still_24_real_hours():
    # Europe/Berlin springs forward on 2026-03-29 at 02:00: the local clock shows 25 hours later.
    written = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    expires = window.expires_at(written)
    assert expires.astimezone(UTC) - written.astimezone(UTC) == timedelta(hours=24)
    assert expires.tzinfo == UTC
    assert expires.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 13, 0)
    assert window.is_open(written, datetime(2026, 3, 29, 12, 59, 59, tzinfo=BERLIN))
    assert not window.is_open(written, datetime(2026, 3, 29, 13, 0, 1, tzinfo=BERLIN))
    # And back in autumn (2026-10-25, 03:00 -> 02:00): the local clock shows 23 hours later.
    autumn = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)
    assert window.expires_at(autumn).astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 10, 25, 11, 0)


@pytest.mark.django_db
def test_service_window_at_the_edges(number):
    conversation = receive(number, at=T0).conversation
    assert conversation.window_open(T0 + timedelta(hours=23, minutes=59, seconds=59))
    assert not conversation.window_open(T0 + timedelta(hours=24, seconds=1))


@pytest.mark.django_db
def test_late_webhook_does_not_move_window_back_or_reopen(number):
    conversation = receive(number, at=T0).conversation
    # A webhook for an older message arrives late: the window keeps counting from T0.
    inbound_message_receive(number=number, message=inbound(at=T0 - timedelta(hours=3)), profile=None)
    conversation.refresh_from_db()
    assert conversation.last_inbound_at == T0
    # A closed window stays closed when a message from before the close arrives a day later.
    late = T0 + timedelta(hours=30)
    inbound_message_receive(number=number, message=inbound(at=T0 + timedelta(minutes=5)), profile=None)
    conversation.refresh_from_db()
    assert conversation.last_inbound_at == T0 + timedelta(minutes=5)
    assert not conversation.window_open(late)
    assert Message.objects.filter(conversation=conversation).count() == 3


@pytest.mark.django_db
def test_outbound_message_in_between_does_not_move_window(number, agent, django_capture_on_commit_callbacks):
    conversation = receive(number, at=T0).conversation
    message_send_text(conversation=conversation, sender=agent, text="Wir kümmern uns", now=T0 + timedelta(hours=20))
    conversation.refresh_from_db()
    assert conversation.last_inbound_at == T0
    assert conversation.window_expires_at() == T0 + timedelta(hours=24)
    assert not conversation.window_open(T0 + timedelta(hours=24, seconds=1))


@pytest.mark.django_db
def test_newer_customer_message_renews_window(number):
    conversation = receive(number, at=T0).conversation
    receive(number, at=T0 + timedelta(hours=20))
    conversation.refresh_from_db()
    assert conversation.window_open(T0 + timedelta(hours=43, minutes=59))
