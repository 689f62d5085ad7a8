"""The agents' live channel: translates group events into htmx swaps for the browser."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import groups
from core.roles import perm
from inbox import live, locales

log = logging.getLogger(__name__)

# A socket joins its groups again this often (Redis may have restarted and forgotten them).
REJOIN_SECONDS = 30.0
# A socket reads its user's access again at least this often, besides on `user.changed` events.
REFRESH_SECONDS = 10.0
# How many recent batches a socket remembers to drop a copy heard through a second group.
RECENT_BATCHES = 32
# Close code for "not signed in / not allowed" (4000-4999 are free for applications).
CLOSE_UNAUTHORIZED = 4401

# Two threads of their own for list-row renders (see _rows_started): at most two database
# connections, whatever the rate of batches.
_row_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-rows")


# The list-row renders of recent batches in this process, by (batch, language, time zone).
_row_renders: OrderedDict[tuple, asyncio.Future] = OrderedDict()
ROW_RENDERS_KEPT = 256


def _rows_started(batch: str, payloads: list[dict], viewer: live.Viewer) -> asyncio.Future:
    """The render of a batch's list rows in this viewer's language and zone, started by the first
    socket of the process that hears the batch (into live's shared cache) and awaited by all.

    It starts when the batch arrives, not when each socket's turn comes, and runs on threads of
    its own rather than the one thread database_sync_to_async shares: batches that arrive close
    together render side by side, and a socket still sending an earlier batch finds the next
    one's rows ready. (Measured with bench/live.py: on the shared thread, rows queued behind
    each other and sockets fell seconds behind.)
    """
    key = (batch, viewer.language, str(viewer.zone))
    render = _row_renders.get(key)
    if render is None:
        rows = DatabaseSyncToAsync(live.rows_prerender, thread_sensitive=False, executor=_row_threads)
        render = _row_renders[key] = asyncio.ensure_future(rows(payloads, batch=batch, like=viewer))
        render.add_done_callback(lambda done: done.cancelled() or done.exception())  # no "never retrieved"
        while len(_row_renders) > ROW_RENDERS_KEPT:
            _row_renders.popitem(last=False)
    return render


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch first closes stale database connections on the one thread that
        thread-sensitive calls share: a hop per event per socket (25 agents at 50 messages/s is
        1,250 hops a second, queued behind every other database call). Every database call here
        goes through database_sync_to_async, which does that check itself around the call."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

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
        await self._announce_locale()
        self._rejoining = asyncio.create_task(self._keep_joined())

    async def _announce_locale(self) -> None:
        """Tell the processor which language and zone this socket shows (see inbox.locales)."""
        try:
            await locales.announce(self.viewer.language, self.viewer.zone)
        except Exception:  # Redis down: the rows are rendered here instead
            log.warning("socket %s could not announce its locale", self.channel_name, exc_info=True)

    async def disconnect(self, code: int) -> None:
        for task in (getattr(self, "_rejoining", None), getattr(self, "_sending", None)):
            if task is not None:
                task.cancel()
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _keep_joined(self) -> None:
        """Join the groups again every REJOIN_SECONDS, and announce the locale again: the layer
        renews its subscriptions after a lost connection, but a socket that heard nothing would
        stay open and silent, so it does not rely on that alone."""
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await self._announce_locale()
            for group in list(getattr(self, "joined", [])):
                try:
                    await self.channel_layer.group_add(group, self.channel_name)
                except Exception:  # Redis still down: try again next round
                    log.warning("socket %s could not rejoin %s", self.channel_name, group, exc_info=True)
                    break

    async def inbox_events(self, event: dict) -> None:
        """High-level events from conversations.events (all of one commit or batch, in order).

        Queued for this socket's sender, so the channel layer's next message is taken at once;
        the batch's list rows start rendering now, once for every socket of this process.
        """
        batch = event.get("batch")
        if batch is not None:
            payloads = event.get("payloads", [])
            # The processor sends its batches' rows along, for the pairs sockets announced.
            if not live.rows_taken(batch, payloads, event.get("rendered") or {}, self.viewer):
                _rows_started(batch, payloads, self.viewer)
        if getattr(self, "_outbox", None) is None:
            self._outbox: asyncio.Queue = asyncio.Queue()
            self._sending = asyncio.create_task(self._send_in_order())
        self._outbox.put_nowait(event)

    async def _send_in_order(self) -> None:
        while True:
            event = await self._outbox.get()
            try:
                await self._deliver(event)
            except Exception:  # one bad batch must not silence the socket
                log.exception("socket %s could not deliver a batch", self.channel_name)

    async def _deliver(self, event: dict) -> None:
        payloads = self._not_yet_delivered(event)
        # What the user may see is cached on the socket, and read again when they were changed
        # (a `user.changed` event: deactivated, another role, other numbers) or every
        # REFRESH_SECONDS at the latest; a user who lost the inbox is disconnected at once.
        changed = any(p.get("type") == live.USER_CHANGED for p in payloads)
        due = changed or time.monotonic() - self.refreshed_at > REFRESH_SECONDS
        if due and not await self._refresh():
            return
        batch = event.get("batch")
        if batch is not None:
            rows = _rows_started(batch, event.get("payloads", []), self.viewer)
            await asyncio.wait([rows])  # its failure only means rendering below, per socket
        watching = getattr(self, "watching", None)
        html = live.batch_html(self.viewer, payloads, batch=batch, watching=watching, render=False)  # no database
        if html is None:
            html = await database_sync_to_async(live.batch_html)(
                self.viewer, payloads, batch=batch, watching=watching, render=True
            )
        if html:
            await self.send(text_data=html)
        for payload in payloads:
            if payload.get("type") not in live.LIVE_KINDS and payload.get("type") != live.USER_CHANGED:
                # Other events (none yet) go on as JSON for scripts that listen to the socket.
                await self.send_json(payload)

    async def receive_json(self, content, **kwargs) -> None:
        """The browser says which thread it shows: {"watch": <conversation id> or null, "after":
        <the newest message id on its page>}. Only that thread's bubbles, header and composer
        are sent to this socket; list rows go to every socket."""
        if not isinstance(content, dict) or "watch" not in content:
            return
        watch, after = content.get("watch"), content.get("after")
        self.watching = watch if type(watch) is int else None
        if self.watching is not None and type(after) is int:
            html = await database_sync_to_async(live.messages_after)(self.viewer, self.watching, after)
            if html:
                await self.send(text_data=html)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data:  # binary frames mean nothing here
            await super().receive(text_data=text_data, **kwargs)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:  # not JSON: ignored like any message the consumer does not understand
            return None

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
