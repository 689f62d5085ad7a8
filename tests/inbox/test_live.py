"""Live updates: conversations events reach the browser as htmx out-of-band swaps of the page's partials."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from conversations import services
from core import groups
from tests.conversations.conftest import inbound, profile, status
from tests.inbox.test_websocket import ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _receive(number, text: str, wamid: str | None = None):
    return services.inbound_message_receive(
        number=number,
        message=inbound(at=timezone.now() - timedelta(minutes=5), text=text, wamid=wamid),
        profile=profile(name="Jana Schmidt"),
    )


async def _socket(client, user) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie)(client, user)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN, cookie])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _watch(communicator, conversation_id: int | None, after: int | None = None) -> None:
    """What inbox.js sends when a thread is on screen.

    In a browser this message and a server event may cross; these tests want the watch taken
    first, so they give the consumer a moment to read it (it sends no answer to wait for)."""
    await communicator.send_json_to({"watch": conversation_id, **({"after": after} if after is not None else {})})
    await asyncio.sleep(0.3)


async def _frames_until(communicator, wanted, *, seconds: float = 5) -> list[str]:
    """Frames received until one satisfies `wanted` (or the deadline passes)."""
    frames: list[str] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            frame = await communicator.receive_from(timeout=left)
        except TimeoutError:
            break
        frames.append(frame)
        if wanted(frame):
            break
    return frames


async def test_a_new_message_arrives_as_the_threads_message_partial(client, agent, number):
    communicator = await _socket(client, agent)
    first = await sync_to_async(_receive)(number, "Erste Nachricht")
    await _frames_until(communicator, lambda f: "Erste Nachricht" in f)  # the thread exists now
    conversation_id = first.conversation_id
    await _watch(communicator, conversation_id)

    message = await sync_to_async(_receive)(number, "Wo ist mein Paket?")
    frames = await _frames_until(communicator, lambda f: f'id="msg-{message.pk}"' in f)
    frame = next(f for f in frames if f'id="msg-{message.pk}"' in f)
    # Appended to the open thread, rendered by the same partial as the page...
    assert f'<div hx-swap-oob="beforeend:#thread-{conversation_id}-messages">' in frame
    assert f'<li id="msg-{message.pk}" class="msg msg-in"' in frame
    # ...and the conversation row for the list.
    assert '<div hx-swap-oob="afterbegin:#conversation-rows">' in frame
    assert f'id="conv-row-{conversation_id}"' in frame
    await communicator.disconnect()


async def _reply_sent(number, agent, monkeypatch, text: str):
    """The customer wrote, the agent answered, and Meta (a fake client) took the reply."""
    from tests.conversations.conftest import FakeClient

    fake = FakeClient()
    monkeypatch.setattr("whatsapp.client.get_client", lambda: fake)
    received = await sync_to_async(_receive)(number, "Hallo")
    sent = await sync_to_async(services.message_send_text)(conversation=received.conversation, sender=agent, text=text)
    await sync_to_async(sent.refresh_from_db)()
    return received, sent


async def test_a_status_update_replaces_the_message_row_with_new_ticks(client, agent, number, monkeypatch):
    received, sent = await _reply_sent(number, agent, monkeypatch, "Hallo zurück")
    communicator = await _socket(client, agent)
    await _watch(communicator, received.conversation_id)
    await sync_to_async(services.message_status_apply)(status=status(wamid=sent.wamid, value="read", at=timezone.now()))
    frames = await _frames_until(communicator, lambda f: f'id="msg-{sent.pk}"' in f)
    frame = next(f for f in frames if f'id="msg-{sent.pk}"' in f)
    assert 'hx-swap-oob="true"' in frame
    assert 'class="ticks ticks-read"' in frame
    await communicator.disconnect()


async def test_times_and_language_follow_the_viewers_browser(client, agent, number):
    cookie = await sync_to_async(session_cookie)(client, agent)
    headers = [ORIGIN, (cookie[0], cookie[1] + b"; tz=Asia/Tokyo; django_language=de")]
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    assert (await communicator.connect())[0]
    first = await sync_to_async(_receive)(number, "Ohayo")
    await _frames_until(communicator, lambda f: "Ohayo" in f)
    await _watch(communicator, first.conversation_id)
    message = await sync_to_async(_receive)(number, "Konnichiwa")
    frames = await _frames_until(communicator, lambda f: "Konnichiwa" in f)
    frame = next(f for f in frames if "Konnichiwa" in f)
    tokyo = timezone.localtime(message.sent_at, __import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert f">{tokyo:%H:%M}</time>" in frame
    assert "Antworten" in frame  # "Reply" in German
    await communicator.disconnect()


async def test_an_outsider_hears_nothing_even_if_an_event_reaches_their_socket(client, outsider, number):
    communicator = await _socket(client, outsider)
    message = await sync_to_async(_receive)(number, "Nur für Support DE")
    assert await communicator.receive_nothing(timeout=1)
    # Even an event addressed to them by mistake renders nothing: the consumer checks access itself.
    payload = {"type": "message.new", "conversation_id": message.conversation_id, "message_id": message.pk}
    await get_channel_layer().group_send(groups.agent(outsider.pk), {"type": "inbox.event", "payload": payload})
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_a_socket_that_watches_no_thread_gets_the_row_once_and_no_bubble(client, agent, number):
    """The list is on every screen, the thread only on the watcher's: a new message is one row
    per batch for the others (message.new and conversation.updated share it), never the bubble."""
    from conversations import events

    def receive_in_a_batch():  # as the webhook processor applies messages
        with events.batched():
            return _receive(number, "Nur die Zeile")

    communicator = await _socket(client, agent)
    message = await sync_to_async(receive_in_a_batch)()
    frames = await _frames_until(communicator, lambda f: "Nur die Zeile" in f)
    frame = next(f for f in frames if "Nur die Zeile" in f)
    assert frame.count(f'id="conv-row-{message.conversation_id}"') == 1
    assert f'id="msg-{message.pk}"' not in frame
    assert "beforeend:#thread-" not in frame and "thread-header" not in frame
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_watching_another_thread_sends_only_that_threads_parts(client, agent, number):
    communicator = await _socket(client, agent)
    first = await sync_to_async(_receive)(number, "Hallo")
    await _frames_until(communicator, lambda f: "Hallo" in f)
    await _watch(communicator, first.conversation_id)
    await _watch(communicator, None)  # the agent went back to the list
    message = await sync_to_async(_receive)(number, "Noch eine Frage")
    frames = await _frames_until(communicator, lambda f: "Noch eine Frage" in f)
    assert not any(f'id="msg-{message.pk}"' in f for f in frames)
    await communicator.disconnect()


async def test_a_socket_that_starts_watching_catches_up_on_newer_messages(client, agent, number):
    """A message that arrived between the thread page's query and the socket's `watch` is sent."""
    first = await sync_to_async(_receive)(number, "Seite geladen")
    later = await sync_to_async(_receive)(number, "Dazwischen gekommen")
    communicator = await _socket(client, agent)
    await _watch(communicator, first.conversation_id, after=first.pk)
    frames = await _frames_until(communicator, lambda f: f'id="msg-{later.pk}"' in f)
    assert any(f'id="msg-{later.pk}"' in f for f in frames)
    assert not any(f'id="msg-{first.pk}"' in f for f in frames)
    await communicator.disconnect()


async def test_watching_a_thread_one_may_not_see_sends_nothing(client, outsider, number):
    message = await sync_to_async(_receive)(number, "Nur für Support DE")
    communicator = await _socket(client, outsider)
    await _watch(communicator, message.conversation_id, after=0)
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_odd_frames_from_the_browser_are_ignored(client, agent, number):
    communicator = await _socket(client, agent)
    await communicator.send_to(text_data="not json")
    await communicator.send_to(bytes_data=b"\x00\x01")
    await communicator.send_json_to({"watch": "1; DROP TABLE"})
    await communicator.send_json_to([1, 2, 3])
    message = await sync_to_async(_receive)(number, "Noch da")
    frames = await _frames_until(communicator, lambda f: "Noch da" in f)
    assert any(f'id="conv-row-{message.conversation_id}"' in f for f in frames)
    await communicator.disconnect()


async def test_a_failed_last_message_shows_in_the_list_row_live(client, agent, number, monkeypatch):
    """Every agent's list says "Not delivered" as soon as Meta fails the thread's last message."""
    received, sent = await _reply_sent(number, agent, monkeypatch, "Leider nicht zustellbar")
    communicator = await _socket(client, agent)  # watches no thread: the list only
    failed = status(wamid=sent.wamid, value="failed", at=timezone.now(), code=131026, title="Undeliverable")
    await sync_to_async(services.message_status_apply)(status=failed)
    row = f'id="conv-row-{received.conversation_id}"'
    frames = await _frames_until(communicator, lambda f: row in f and "Not delivered" in f)
    assert any(row in f and "Not delivered" in f for f in frames)
    await communicator.disconnect()
