"""The agents' live channel: translates group events into htmx swaps for the browser."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import groups, live
from inbox.roles import perm

log = logging.getLogger(__name__)

# A socket joins its groups again this often (Redis may have restarted and forgotten them).
REJOIN_SECONDS = 30.0
# A socket reads its user's access again at least this often, besides on `user.changed` events.
REFRESH_SECONDS = 10.0
# How many recent batches a socket remembers to drop a copy heard through a second group.
RECENT_BATCHES = 32
# Close code for "not signed in / not allowed" (4000-4999 are free for applications).
CLOSE_UNAUTHORIZED = 4401


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self._may_work_inbox(user):
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.joined = await self._groups_for(user)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.viewer = await database_sync_to_async(live.viewer_for)(self.scope)
        self.refreshed_at = time.monotonic()
        await self.accept()
        self._rejoining = asyncio.create_task(self._keep_joined())

    async def disconnect(self, code: int) -> None:
        rejoining = getattr(self, "_rejoining", None)
        if rejoining is not None:
            rejoining.cancel()
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _keep_joined(self) -> None:
        """Join the groups again every REJOIN_SECONDS: a Redis restart (no persistence) forgets
        every group, and a socket open longer than the layer's group expiry would fall out of
        them; either way it would stay open and silently hear nothing."""
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            for group in list(getattr(self, "joined", [])):
                try:
                    await self.channel_layer.group_add(group, self.channel_name)
                except Exception:  # Redis still down: try again next round
                    log.warning("socket %s could not rejoin %s", self.channel_name, group, exc_info=True)
                    break

    async def inbox_events(self, event: dict) -> None:
        """High-level events from conversations.events (all of one commit or batch, in order),
        sent on as the partials they changed."""
        payloads = self._not_yet_delivered(event)
        # What the user may see is cached on the socket, and read again when they were changed
        # (a `user.changed` event: deactivated, another role, other numbers) or every
        # REFRESH_SECONDS at the latest; a user who lost the inbox is disconnected at once.
        changed = any(p.get("type") == live.USER_CHANGED for p in payloads)
        due = changed or time.monotonic() - self.refreshed_at > REFRESH_SECONDS
        if due and not await self._refresh():
            return
        batch = event.get("batch")
        for payload in payloads:
            kind = payload.get("type")
            if kind in (live.MESSAGE_NEW, live.MESSAGE_UPDATED, live.CONVERSATION_UPDATED):
                html = live.shared_fragment(self.viewer, payload, batch=batch)  # no database, no thread hop
                if html is None:
                    html = await database_sync_to_async(live.render_event)(self.viewer, payload, batch=batch)
                if html:
                    await self.send(text_data=html)
            elif kind != live.USER_CHANGED:
                # Other events (none yet) go on as JSON for scripts that listen to the socket.
                await self.send_json(payload)

    async def _refresh(self) -> bool:
        viewer = await database_sync_to_async(live.viewer_refreshed)(self.viewer)
        if viewer is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return False
        self.viewer = viewer
        self.refreshed_at = time.monotonic()
        groups_now = await self._groups_for(viewer.user)
        for group in set(self.joined) - set(groups_now):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(groups_now) - set(self.joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = groups_now
        return True

    def _not_yet_delivered(self, event: dict) -> list[dict]:
        """The batch's payloads this socket has not had yet (it may hear a batch through two groups)."""
        batch = event.get("batch")
        if batch is None:
            return list(event["payloads"])
        seen = getattr(self, "_batches", None)
        if seen is None:
            seen = self._batches = OrderedDict()
        delivered = seen.setdefault(batch, set())
        while len(seen) > RECENT_BATCHES:
            seen.popitem(last=False)
        fresh = []
        for payload in event["payloads"]:
            key = tuple(sorted(payload.items()))
            if key not in delivered:
                delivered.add(key)
                fresh.append(payload)
        return fresh

    async def inbox_event(self, event: dict) -> None:
        """One event (the shape before batching; still accepted from older senders)."""
        await self.inbox_events({"payloads": [event["payload"]]})

    @database_sync_to_async
    def _may_work_inbox(self, user) -> bool:
        return user.has_perm(perm("work_inbox"))

    @database_sync_to_async
    def _groups_for(self, user) -> list[str]:
        return groups.for_user(user)
