"""The channel layer: channels_redis's pub/sub layer, which fans a group message out in each process."""

from __future__ import annotations

from channels_redis.pubsub import RedisPubSubChannelLayer


class InboxChannelLayer(RedisPubSubChannelLayer):
    """Why pub/sub rather than channels_redis's default (list) layer:

    With the list layer every socket pops its own copy of every group message from Redis, one
    round trip each, in turn, per process: 25 agents at 50 messages/s were 1,250 pops a second,
    and a batch waited 20 ms at the median (280 ms at p95) before a socket heard it
    (bench/live.py). Here each process subscribes once per group and hands a message to its
    sockets in memory: 1.7 ms at the median, 18 ms at p95, in the same run.

    What it gives up we did not use: a group message was already at most once (a browser
    re-fetches what it missed when it reconnects), and there is no group expiry for a long-lived
    socket to outlive. A dropped Redis connection is reconnected and its subscriptions renewed
    by redis-py; the consumers still join their groups again every REJOIN_SECONDS.
    """
