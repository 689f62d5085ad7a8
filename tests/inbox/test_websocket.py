"""The /ws/inbox/ socket through the real ASGI stack and the real channels_redis layer."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from inbox import groups

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def session_cookie(client, user) -> tuple[bytes, bytes]:
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())


def test_the_channel_layer_is_channels_redis():
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)


@pytest.mark.django_db(transaction=True)
async def test_a_socket_without_a_session_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN])
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_from_a_foreign_origin_is_refused(client, agent):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(session_cookie)(client, agent)
    communicator = WebsocketCommunicator(
        application, "/ws/inbox/", headers=[(b"origin", b"https://evil.example"), cookie]
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_finance_may_not_open_the_inbox_socket(client, finance):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(session_cookie)(client, finance)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN, cookie])
    connected, code = await communicator.connect()
    assert not connected
    assert code == 4401
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_signed_in_agent_connects_and_hears_their_numbers_events(client, agent, number):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(session_cookie)(client, agent)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN, cookie])
    connected, _ = await communicator.connect()
    assert connected
    layer = get_channel_layer()
    # message.* and conversation.* events become HTML (tests/inbox/test_live.py); others pass as JSON.
    payload = {"type": "template.updated", "template_id": 2}
    await layer.group_send(groups.number(number.pk), {"type": "inbox.event", "payload": payload})
    assert await communicator.receive_json_from(timeout=5) == payload
    await layer.group_send(groups.agent(agent.pk), {"type": "inbox.event", "payload": {"type": "ping"}})
    assert await communicator.receive_json_from(timeout=5) == {"type": "ping"}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_hears_again_after_redis_forgot_its_groups(client, agent, number, monkeypatch):
    """Redis restarted without persistence: every group membership is gone. The socket joins
    its groups again by itself instead of staying open and deaf."""
    from asgiref.sync import sync_to_async

    from inbox import consumers

    monkeypatch.setattr(consumers, "REJOIN_SECONDS", 0.2)
    cookie = await sync_to_async(session_cookie)(client, agent)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN, cookie])
    connected, _ = await communicator.connect()
    assert connected
    layer = get_channel_layer()
    import redis

    # What a Redis restart without persistence (or a socket older than the group expiry) leaves:
    # the groups' member lists are gone while the socket stays open.
    store = redis.Redis.from_url(settings.REDIS_URL)
    for key in store.scan_iter(match=f"{layer.prefix}:group:*"):
        store.delete(key)
    await layer.group_send(groups.number(number.pk), {"type": "inbox.event", "payload": {"type": "lost"}})
    assert await communicator.receive_nothing(timeout=0.1)  # deaf: the membership is gone

    payload = {"type": "heard again"}
    for _ in range(30):  # the next rejoin comes within REJOIN_SECONDS
        await layer.group_send(groups.number(number.pk), {"type": "inbox.event", "payload": payload})
        if not await communicator.receive_nothing(timeout=0.2):
            break
    assert await communicator.receive_json_from(timeout=5) == payload
    await communicator.disconnect()


def test_a_socket_waits_for_messages_longer_than_its_read_timeout_allows():
    """channels_redis waits for a socket's messages with BZPOPMIN for brpop_timeout seconds; the
    Redis client must not give up reading before the server answers, or idle sockets die."""
    from channels_redis.core import RedisChannelLayer
    from channels_redis.utils import create_pool

    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    pool = create_pool(layer.hosts[0])
    read_timeout = pool.connection_kwargs.get("socket_timeout") or float("inf")
    assert layer.brpop_timeout < read_timeout - 1
