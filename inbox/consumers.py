"""The agents' live channel: translates group events into htmx swaps for the browser."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox import groups, live
from inbox.roles import perm

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
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def inbox_events(self, event: dict) -> None:
        """High-level events from conversations.events (all of one commit or batch, in order),
        sent on as the partials they changed."""
        # Checked per delivery, not only at connect: a user deactivated or moved to another role
        # while their socket is open must stop hearing customers' messages at once.
        viewer = await database_sync_to_async(live.viewer_refreshed)(self.viewer)
        if viewer is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.viewer = viewer
        for payload in event["payloads"]:
            if payload.get("type") in (live.MESSAGE_NEW, live.MESSAGE_UPDATED, live.CONVERSATION_UPDATED):
                html = await database_sync_to_async(live.render_event)(self.viewer, payload)
                if html:
                    await self.send(text_data=html)
                continue
            # Other events (none yet) go on as JSON for scripts that listen to the socket.
            await self.send_json(payload)

    async def inbox_event(self, event: dict) -> None:
        """One event (the shape before batching; still accepted from older senders)."""
        await self.inbox_events({"payloads": [event["payload"]]})

    @database_sync_to_async
    def _may_work_inbox(self, user) -> bool:
        return user.has_perm(perm("work_inbox"))

    @database_sync_to_async
    def _groups_for(self, user) -> list[str]:
        return groups.for_user(user)
