"""The channel layer: channels_redis, with its blocking wait shorter than the Redis client's read timeout."""

from __future__ import annotations

from channels_redis.core import RedisChannelLayer


class InboxChannelLayer(RedisChannelLayer):
    """channels_redis waits for a process's messages with BZPOPMIN for `brpop_timeout` seconds
    (5 by default), and redis-py gives up reading after its default socket timeout, also 5 s.
    An idle wait then raced its own timeout and the socket's consumer died with "Timeout
    reading" (seen under bench/live.py). A 2-second wait is answered well before that."""

    brpop_timeout = 2
