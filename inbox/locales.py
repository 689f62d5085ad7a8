"""Which (language, time zone) pairs the open inbox sockets show, kept in Redis for all processes.

The webhook processor renders each batch's list rows once per pair in use and sends them with
the batch (see live.rows_for_batch), so the web processes do not each query and render them
again. Every socket announces its pair when it connects and then every REJOIN_SECONDS; a pair
nobody announced for ANNOUNCED_FOR_SECONDS drops out. A socket whose pair is missing from a
batch (it connected a moment ago) renders its rows itself, as before.

Without Redis (the single-process default) nothing is announced and nothing is pre-rendered.
"""

from __future__ import annotations

import asyncio
import threading
import time
import zoneinfo

import redis
import redis.asyncio
from django.conf import settings

KEY = "inbox:live:locales"
ANNOUNCED_FOR_SECONDS = 120.0
# A process reads the pairs at most this often (they change when an agent in a new zone connects).
READ_EVERY_SECONDS = 5.0
# Rendering rows costs the processor about a millisecond per pair and thread: pairs beyond the
# most recently announced this many are left to the sockets.
MOST_PAIRS = 8


def pair_key(language: str, zone: zoneinfo.ZoneInfo | None) -> str:
    return f"{language}|{zone.key if zone else ''}"


def pair_from_key(key: str) -> tuple[str, zoneinfo.ZoneInfo | None] | None:
    language, _, zone_name = key.partition("|")
    if not language:
        return None
    try:
        return language, (zoneinfo.ZoneInfo(zone_name) if zone_name else None)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


_async_clients: dict[int, redis.asyncio.Redis] = {}


async def announce(language: str, zone: zoneinfo.ZoneInfo | None, *, now: float | None = None) -> None:
    """Say that a socket shows this pair (a failure only means its rows are rendered locally)."""
    if not settings.REDIS_URL:
        return
    loop_id = id(asyncio.get_running_loop())
    client = _async_clients.get(loop_id)
    if client is None:
        client = _async_clients[loop_id] = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    now = time.time() if now is None else now
    await client.zadd(KEY, {pair_key(language, zone): now + ANNOUNCED_FOR_SECONDS})


_cached: tuple[float, list[tuple[str, zoneinfo.ZoneInfo | None]]] = (float("-inf"), [])
_cache_lock = threading.Lock()
_client: redis.Redis | None = None


def in_use(*, now: float | None = None) -> list[tuple[str, zoneinfo.ZoneInfo | None]]:
    """The pairs announced within ANNOUNCED_FOR_SECONDS (at most MOST_PAIRS), read again every
    READ_EVERY_SECONDS; none if Redis cannot be reached."""
    global _cached, _client
    if not settings.REDIS_URL:
        return []
    now = time.time() if now is None else now
    with _cache_lock:
        if now - _cached[0] < READ_EVERY_SECONDS:
            return _cached[1]
        try:
            _client = _client or redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1)
            _client.zremrangebyscore(KEY, "-inf", now)
            keys = _client.zrevrangebyscore(KEY, "+inf", now, start=0, num=MOST_PAIRS)
        except redis.RedisError:
            keys = []
        pairs = [pair for key in keys if (pair := pair_from_key(key.decode())) is not None]
        _cached = (now, pairs)
        return pairs
