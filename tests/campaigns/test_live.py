"""The campaign page's socket (/ws/campaigns/<id>/) through the real ASGI stack and channels_redis:
who may open it, what it pushes, and that a storm of changes reaches the page as a few pushes."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator

from campaigns import live, services
from config.asgi import application
from inbox.services import user_campaigns_allow, user_create_or_update
from tests.conversations.test_send_template import ORDER_UPDATE, _template
from tests.inbox.test_websocket import ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _campaign(number, admin_user, recipients: int = 3):
    from templates_app.models import Template

    if not Template.objects.filter(waba_id=number.waba_id, name="order_update").exists():  # numbers may share it
        _template(number, name="order_update", components=ORDER_UPDATE, category="UTILITY", parameter_format="named")
    rows = [
        services.Row(phone=f"+49151400000{i:02d}", values={"first_name": "K", "order_id": "1", "button_0": "1"})
        for i in range(recipients)
    ]
    return services.campaign_create(
        name="Live", number=number, template="order_update", language="de", created_by=admin_user, rows=rows
    )


async def _open(client, user, campaign_id: int) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [ORIGIN]
    if user is not None:
        headers.append(await sync_to_async(session_cookie)(client, user))
    communicator = WebsocketCommunicator(application, f"/ws/campaigns/{campaign_id}/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_signed_out_agents_and_finance_are_refused(client, number, admin_user, agent, finance):
    campaign = await sync_to_async(_campaign)(number, admin_user)
    for who in (None, agent, finance):
        communicator, connected, code = await _open(client, who, campaign.pk)
        assert not connected and code == 4401, who
        await communicator.disconnect()


async def test_an_allowed_agent_gets_their_numbers_campaign_and_not_another_numbers(
    client, number, other_number, admin_user, agent
):
    ours = await sync_to_async(_campaign)(number, admin_user)
    theirs = await sync_to_async(_campaign)(other_number, admin_user)
    await sync_to_async(user_campaigns_allow)(user=agent, allowed=True)
    communicator, connected, _ = await _open(client, agent, ours.pk)
    assert connected
    assert 'id="cmp-progress"' in await communicator.receive_from(timeout=5)
    await communicator.disconnect()
    # Another number's campaign: closed like one that does not exist, its bar never sent.
    communicator, connected, _ = await _open(client, agent, theirs.pk)
    assert connected
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


async def test_withdrawing_the_grant_closes_the_agents_open_socket(client, number, admin_user, agent):
    campaign = await sync_to_async(_campaign)(number, admin_user)
    await sync_to_async(user_campaigns_allow)(user=agent, allowed=True)
    communicator, connected, _ = await _open(client, agent, campaign.pk)
    assert connected
    await communicator.receive_from(timeout=5)  # the bar as it is
    # As the team page records it (its transaction's commit tells the user's sockets).
    await sync_to_async(user_create_or_update)(
        username=agent.username, role="agent", number_ids=[number.phone_number_id], may_run_campaigns=False
    )
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_taking_the_number_away_closes_the_agents_open_socket(client, number, other_number, admin_user, agent):
    campaign = await sync_to_async(_campaign)(number, admin_user)
    await sync_to_async(user_campaigns_allow)(user=agent, allowed=True)
    communicator, connected, _ = await _open(client, agent, campaign.pk)
    assert connected
    await communicator.receive_from(timeout=5)
    await sync_to_async(user_create_or_update)(
        username=agent.username, role="agent", number_ids=[other_number.phone_number_id]
    )
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4404}
    await communicator.disconnect()


async def test_an_unknown_campaign_is_closed(client, admin_user):
    communicator, connected, _ = await _open(client, admin_user, 987654)
    assert connected  # accepted, then closed: the page then polls, which answers 404
    assert (await communicator.receive_output(timeout=5))["type"] == "websocket.close"
    await communicator.disconnect()


async def test_an_admin_gets_the_bar_at_once_and_again_when_it_moved(client, number, admin_user, fake_client):
    campaign = await sync_to_async(_campaign)(number, admin_user)
    communicator, connected, _ = await _open(client, admin_user, campaign.pk)
    assert connected
    first = await communicator.receive_from(timeout=5)
    assert 'id="cmp-progress"' in first and 'data-count="pending">3<' in first
    # Sending moves the bar: the sender's batch nudges the page after its commit.
    await sync_to_async(services.campaign_transition)(campaign=campaign, action="start")
    moved = await communicator.receive_from(timeout=5)
    assert 'data-count="pending">0<' in moved
    await communicator.disconnect()


async def test_a_storm_of_changes_is_a_few_pushes(client, number, admin_user, monkeypatch):
    campaign = await sync_to_async(_campaign)(number, admin_user)
    communicator, connected, _ = await _open(client, admin_user, campaign.pk)
    assert connected
    await communicator.receive_from(timeout=5)  # the bar as it is
    renders = []
    real = live.progress_html

    def counting(campaign_id, *, language):
        renders.append(campaign_id)
        return real(campaign_id, language=language) + f"<!-- {len(renders)} -->"

    # Every render differs (so each one would be sent): only the coalescing limits the pushes.
    monkeypatch.setattr(live, "progress_html", counting)
    layer = get_channel_layer()
    started = asyncio.get_running_loop().time()
    for _ in range(100):  # 100 nudges in 2 seconds, as a busy campaign's deliveries would send
        await layer.group_send(live.group(campaign.pk), {"type": "campaign.progress", "campaign": campaign.pk})
        await asyncio.sleep(0.02)
    pushes = []
    while not await communicator.receive_nothing(timeout=1.5):
        pushes.append(await communicator.receive_from())
    elapsed = asyncio.get_running_loop().time() - started
    # At most one push per PUSH_EVERY (0.5 s), plus the one at the first nudge.
    assert 2 <= len(pushes) <= elapsed / live.PUSH_EVERY + 1, (len(pushes), elapsed)
    await communicator.disconnect()


def test_notices_of_one_campaign_are_coalesced_across_calls(number, admin_user, monkeypatch):
    campaign = _campaign(number, admin_user)
    sent = []

    class Layer:
        async def group_send(self, group, message):
            sent.append(group)

    monkeypatch.setattr(live, "get_channel_layer", lambda: Layer())
    live._announced.clear()
    for _ in range(50):
        live._notice(campaign.pk)
    assert sent == [live.group(campaign.pk)]
