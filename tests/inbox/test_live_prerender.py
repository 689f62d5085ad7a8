"""The processor renders each batch's list rows once, in the (language, zone) pairs that open
sockets announced, and sends them with the batch: the web processes take them instead of
querying and rendering the rows again (inbox.locales, live.rows_for_batch)."""

from __future__ import annotations

import asyncio
import uuid
import zoneinfo
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from conversations import events, services
from core import groups
from inbox import live, locales
from tests.conversations.conftest import inbound, profile
from tests.inbox.test_live import _frames_until
from tests.inbox.test_websocket import ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """A registry key of this test's own (test runs share the Redis server), read afresh."""
    monkeypatch.setattr(locales, "KEY", f"test:locales:{uuid.uuid4().hex}")
    monkeypatch.setattr(locales, "_cached", (float("-inf"), []))


def _receive(number, text: str, wa_id: str = "4915112345678"):
    return services.inbound_message_receive(
        number=number,
        message=inbound(at=timezone.now() - timedelta(minutes=5), text=text, wa_id=wa_id),
        profile=profile(name="Jana Schmidt", wa_id=wa_id),
    )


def test_an_announced_pair_is_in_use_until_nobody_announced_it_for_two_minutes(monkeypatch):
    asyncio.run(locales.announce("de", TOKYO, now=1_000.0))
    asyncio.run(locales.announce("en", None, now=1_050.0))
    assert locales.in_use(now=1_100.0) == [("en", None), ("de", TOKYO)]  # latest first
    monkeypatch.setattr(locales, "_cached", (float("-inf"), []))
    assert locales.in_use(now=1_000.0 + locales.ANNOUNCED_FOR_SECONDS + 1) == [("en", None)]


def test_a_pair_key_that_names_no_zone_or_language_is_ignored():
    assert locales.pair_from_key("de|Asia/Tokyo") == ("de", TOKYO)
    assert locales.pair_from_key("en|") == ("en", None)
    assert locales.pair_from_key("de|Not/AZone") is None
    assert locales.pair_from_key("|Asia/Tokyo") is None


class _Recorder:
    def __init__(self):
        self.sent: list[tuple[str, dict]] = []

    async def group_send(self, name, message):
        self.sent.append((name, message))


def test_a_batch_carries_its_rows_per_pair_and_only_to_the_groups_whose_threads_they_are(
    number, other_number, monkeypatch
):
    recorder = _Recorder()
    monkeypatch.setattr(events, "get_channel_layer", lambda: recorder)
    monkeypatch.setattr(locales, "in_use", lambda: [("de", TOKYO), ("en", None)])
    with events.batched():
        here = _receive(number, "Paket in Berlin?")
        there = _receive(other_number, "Parcel in London?", wa_id="447700900123")
    sent = dict(recorder.sent)
    here_rows = sent[groups.number(number.pk)]["rendered"]
    assert set(here_rows) == {str(here.conversation_id)}
    row = here_rows[str(here.conversation_id)]
    assert set(row) == {"de|Asia/Tokyo", "en|"}
    tokyo = timezone.localtime(here.sent_at, TOKYO)
    assert f"{tokyo:%H:%M}" in row["de|Asia/Tokyo"] and "Paket in Berlin?" in row["en|"]
    assert set(sent[groups.number(other_number.pk)]["rendered"]) == {str(there.conversation_id)}


def test_only_the_processors_batches_are_prerendered_and_a_burst_is_left_to_the_sockets(number, monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(events, "get_channel_layer", lambda: recorder)
    monkeypatch.setattr(locales, "in_use", lambda: [("en", None)])
    _receive(number, "Outside a batch")  # a request's commit: someone waits on it
    monkeypatch.setattr(live, "ROWS_PRERENDERED_MAX", 1)
    with events.batched():
        _receive(number, "Erste", wa_id="4915100000001")
        _receive(number, "Zweite", wa_id="4915100000002")
    assert recorder.sent and not any("rendered" in message for _, message in recorder.sent)


async def test_a_socket_sends_the_row_its_batch_came_with_without_rendering_it(client, agent, number, monkeypatch):
    cookie = await sync_to_async(session_cookie)(client, agent)
    headers = [ORIGIN, (cookie[0], cookie[1] + b"; tz=Asia/Tokyo; django_language=de")]
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    assert (await communicator.connect())[0]  # announces "de|Asia/Tokyo"

    def rendering_here(*args, **kwargs):
        raise AssertionError("the web process rendered a row the batch brought")

    monkeypatch.setattr(live, "_row", rendering_here)

    def receive_in_a_batch():  # as the webhook processor applies messages
        with events.batched():
            return _receive(number, "Schon gerendert")

    message = await sync_to_async(receive_in_a_batch)()
    frames = await _frames_until(communicator, lambda f: "Schon gerendert" in f)
    frame = next(f for f in frames if "Schon gerendert" in f)
    assert f'id="conv-row-{message.conversation_id}"' in frame
    assert f"{timezone.localtime(message.sent_at, TOKYO):%H:%M}" in frame
    await communicator.disconnect()
