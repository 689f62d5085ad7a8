"""Storing a webhook delivery: one INSERT, deduplicated by the body's hash, nothing else.

Kept apart from processing so the view's path to "200 OK" stays short (Meta's latency target
is a median under 250 ms) and cannot fail on anything a payload contains.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

# Headers worth keeping next to the raw body (for support and for re-checking the signature).
KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Hub-Signature-256", "X-Forwarded-For")
_REFUSALS_KEY = "webhooks:signature-refusals"
_REFUSALS_LAST_KEY = "webhooks:signature-refusals:last"


def dedupe_key(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def clean_text(value: str, limit: int) -> str:
    """Text safe for PostgreSQL (no NUL characters) and bounded."""
    return value.replace("\x00", "\ufffd")[:limit]


def headers_of_interest(request_headers) -> dict[str, str]:
    return {name: clean_text(str(request_headers[name]), 512) for name in KEPT_HEADERS if request_headers.get(name)}


def event_store(
    *, body: bytes, headers: dict[str, str], state: str = WebhookEvent.State.RECEIVED, reason: str = ""
) -> tuple[int | None, bool]:
    """Insert the raw event unless this exact body is already stored.

    Returns (event id, created). One statement with ON CONFLICT DO NOTHING, so two concurrent
    deliveries of the same body cannot both insert and neither raises.
    """
    table = WebhookEvent._meta.db_table
    now = timezone.now()
    finished = state != WebhookEvent.State.RECEIVED
    sql = (
        f"INSERT INTO {table} (body, dedupe_key, headers, received_at, state, reason, fields, notes, "
        "processed_at, attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    params = [
        body,
        dedupe_key(body),
        json.dumps(headers),
        now,
        state,
        clean_text(reason, 2000),
        "[]",
        "[]",
        now if finished else None,
        0,
    ]
    # One autocommit statement (no BEGIN/COMMIT round trips) unless the caller holds a transaction.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is not None:
        return row[0], True
    existing = WebhookEvent.objects.filter(dedupe_key=params[1]).values_list("id", flat=True).first()
    return existing, False


def signature_refusal_record() -> None:
    """Count a refused delivery (bad or missing signature); shown on the admin page."""
    try:
        cache.add(_REFUSALS_KEY, 0, timeout=None)
        cache.incr(_REFUSALS_KEY)
        cache.set(_REFUSALS_LAST_KEY, timezone.now().isoformat(), timeout=None)
    except Exception:  # the counter is a diagnostic; a cache outage must not turn a 401 into a 500
        logger.exception("could not count a webhook signature refusal")


def signature_refusals() -> tuple[int, str | None]:
    """(count, ISO time of the last refusal)."""
    try:
        return int(cache.get(_REFUSALS_KEY) or 0), cache.get(_REFUSALS_LAST_KEY)
    except Exception:
        logger.exception("could not read the webhook signature refusal count")
        return 0, None
