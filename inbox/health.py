"""Liveness of the parts the inbox cannot work without."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)


def _probe_postgresql() -> None:
    """A fresh connection with a short timeout, outside the pool.

    Through the pool, a stopped server would keep /healthz waiting for the pool's timeout
    instead of answering 503 at once; a health check should also see new connections work.
    """
    import psycopg

    params = connection.get_connection_params()
    with psycopg.connect(**params, connect_timeout=2) as probe:
        probe.execute("SELECT 1").fetchone()


def database_status() -> str:
    try:
        if connection.vendor == "postgresql":
            _probe_postgresql()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason goes to the log
        log.warning("healthz: database check failed: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def redis_status() -> str:
    if not settings.REDIS_URL:
        return "disabled"
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        log.warning("healthz: redis check failed: %s", exc.__class__.__name__)
        return "down"
    return "ok"


def health() -> tuple[bool, dict[str, str]]:
    parts = {"database": database_status(), "redis": redis_status()}
    healthy = all(value in ("ok", "disabled") for value in parts.values())
    return healthy, parts
