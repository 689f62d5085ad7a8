"""The /ws/inbox/ socket through the real ASGI stack and the real channels_redis layer."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from core import groups

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def session_cookie(client, user) -> tuple[bytes, bytes]:
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())


def test_the_channel_layer_is_channels_redis_pub_sub():
    from channels_redis.pubsub import RedisPubSubChannelLayer

    assert isinstance(get_channel_layer(), RedisPubSubChannelLayer)


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
async def test_a_socket_hears_again_after_its_redis_connection_was_dropped(client, agent, number):
    """Redis restarted, or dropped the process's subscriber connection: the layer reconnects and
    subscribes again, so the socket does not stay open and deaf."""
    import asyncio

    import redis
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(session_cookie)(client, agent)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN, cookie])
    connected, _ = await communicator.connect()
    assert connected
    layer = get_channel_layer()
    # This loop's subscriber connection, as Redis sees it (other test runs share the server).
    subscriber = layer._get_layer()._shards[0]._pubsub.connection
    host, port = subscriber._writer.get_extra_info("sockname")[:2]
    assert redis.Redis.from_url(settings.REDIS_URL).client_kill_filter(addr=f"{host}:{port}") == 1

    payload = {"type": "heard again"}
    for _ in range(50):  # the reconnect takes a moment; pushes before it are lost, as in a restart
        await layer.group_send(groups.number(number.pk), {"type": "inbox.event", "payload": payload})
        if not await communicator.receive_nothing(timeout=0.2):
            break
        await asyncio.sleep(0.1)
    assert await communicator.receive_json_from(timeout=5) == payload
    await communicator.disconnect()

