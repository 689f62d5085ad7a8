"""The campaign page's socket: its progress bar, pushed when the campaign's progress moves.

Admitted like the page itself (signed in, allowed to run campaigns, the campaign of one of the
user's numbers; another number's campaign is closed like an unknown one). The socket receives
nudges (`campaign.progress`, from campaigns.live) and answers them with the progress bar as it
is now, at most once per PUSH_EVERY seconds. The page polls instead while its socket is closed.
It also hears its user's `user.changed` (conversations.events: an admin withdrew campaigns,
changed the role or numbers, deactivated them) and closes when the user may no longer see it.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model

from campaigns import live, selectors
from campaigns.views import CAPABILITY
from conversations.events import USER_CHANGED
from core import groups
from core.roles import has_capability

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
# Besides the nudges, a socket looks again this often (a nudge lost with a restarted Redis, a
# status that arrived before this process knew the campaign was live).
SAFETY_EVERY = 5.0


class CampaignProgressConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        self.campaign_id = int(self.scope["url_route"]["kwargs"]["pk"])
        if user is None or not user.is_authenticated or not await self._allowed(user):
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        if not await self._visible(user):
            await self.accept()  # then closed, exactly as for a campaign that does not exist
            await self.close(code=CLOSE_NOT_FOUND)
            return
        from inbox.live import viewer_for

        self.language = (await database_sync_to_async(viewer_for)(self.scope)).language
        self.sent_html: str | None = None
        self.follow_until = 0.0
        self.pusher: asyncio.Task | None = None
        self.user_group = groups.agent(user.pk)
        await self.channel_layer.group_add(live.group(self.campaign_id), self.channel_name)
        await self.channel_layer.group_add(self.user_group, self.channel_name)
        await self.accept()
        if not await self._push():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.safety = asyncio.create_task(self._safety_net())

    async def disconnect(self, code: int) -> None:
        for task in (getattr(self, "pusher", None), getattr(self, "safety", None)):
            if task is not None:
                task.cancel()
        if hasattr(self, "sent_html"):
            await self.channel_layer.group_discard(live.group(self.campaign_id), self.channel_name)
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        pass  # the page sends nothing

    async def campaign_progress(self, event: dict) -> None:
        """A nudge: push now (or when PUSH_EVERY allows) and keep looking for FOLLOW seconds."""
        loop = asyncio.get_running_loop()
        self.follow_until = loop.time() + live.FOLLOW
        if self.pusher is None or self.pusher.done():
            self.pusher = asyncio.create_task(self._push_while_following())

    async def inbox_events(self, event: dict) -> None:
        """The user's inbox events (their group's): only `user.changed` matters here."""
        if not any(p.get("type") == USER_CHANGED for p in event.get("payloads", ())):
            return
        user = self.scope["user"]
        if not await self._allowed(user):
            await self.close(code=CLOSE_UNAUTHORIZED)
        elif not await self._visible(user):
            await self.close(code=CLOSE_NOT_FOUND)

    async def _push_while_following(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._push()
            if loop.time() >= self.follow_until:
                return
            await asyncio.sleep(live.PUSH_EVERY)

    async def _safety_net(self) -> None:
        while True:
            await asyncio.sleep(SAFETY_EVERY)
            try:
                await self._push()
            except Exception:  # the database blinked: try again next round
                log.warning("campaign %s: progress refresh failed", self.campaign_id, exc_info=True)

    async def _push(self) -> bool:
        """Send the progress bar if it changed since the last one; False when the campaign is gone."""
        html = await database_sync_to_async(live.progress_html)(self.campaign_id, language=self.language)
        if html is None:
            return False
        if html != self.sent_html:
            self.sent_html = html
            await self.send(text_data=html)
        return True

    @database_sync_to_async
    def _allowed(self, user) -> bool:
        # Read afresh: the session's user object caches its permissions and profile.
        fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
        return fresh is not None and has_capability(fresh, CAPABILITY)

    @database_sync_to_async
    def _visible(self, user) -> bool:
        fresh = get_user_model().objects.select_related("profile").get(pk=user.pk)
        return selectors.campaigns_for_user(fresh).filter(pk=self.campaign_id).exists()
