"""Delivery callbacks: every status change of a business system's notifications, POSTed to it.

The body is JSON `{"id", "status", "timestamp", "error", "billing"}`. It is signed with
HMAC-SHA256 over `timestamp + "." + body` using the callback's own secret; the headers are
`X-Inbox-Timestamp` (Unix seconds) and `X-Inbox-Signature: sha256=<hex>`. The receiver checks
both (docs/notifications.md has the five lines). A delivery that does not get a 2xx answer is
retried with backoff for a day, on its own Celery queue ("callbacks") so a slow receiver never
holds up sending; every attempt is logged (status code, error, duration).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations.models import Message
from notifications.models import Callback, CallbackAttempt, CallbackDelivery

log = logging.getLogger(__name__)

QUEUE = "callbacks"
TIMEOUT = (3.05, 10)
# Waits after attempt 1, 2, ...: about a day in all, then the delivery is given up.
BACKOFF = [10, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800]
GIVE_UP_AFTER = timedelta(days=1)
MAX_LOGGED_ERROR = 500


class CallbackError(Exception):
    pass


# --- registering --------------------------------------------------------------------------------


def callback_register(*, user, url: str) -> tuple[Callback, str]:
    """A new callback for `user`'s notifications; the secret is returned once, to show once."""
    if not url.startswith(("https://", "http://")):
        raise CallbackError(_("The callback URL must start with https:// (or http:// for testing)."))
    secret = "whsec_" + secrets.token_urlsafe(32)
    return Callback.objects.create(user=user, url=url, secret=secret), secret


def callback_delete(*, callback: Callback, now: datetime | None = None) -> None:
    callback.deleted_at = now or timezone.now()
    callback.save(update_fields=["deleted_at"])


def callbacks_for(user):
    return Callback.objects.filter(user=user, deleted_at__isnull=True).order_by("id")


# --- what is sent -------------------------------------------------------------------------------

STATUS_TIME = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at", "played": "played_at"}


def body_for(message: Message) -> dict:
    from notifications.api import notification_out

    answer = notification_out(message)
    at = getattr(message, STATUS_TIME.get(message.status, "failed_at"), None) or timezone.now()
    return {
        "id": message.pk,
        "status": message.status,
        "timestamp": at.astimezone(UTC).isoformat(),
        "error": answer["error"],
        "billing": answer["billing"],
    }


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def status_changed(message: Message) -> None:
    """Called when a template message's status changed: one delivery per live callback of its sender.

    Written in the caller's transaction (the status change and the delivery commit together);
    the POST is published after commit.
    """
    if message.status in (Message.Status.QUEUED, Message.Status.SENDING):
        return
    live = list(Callback.objects.filter(user_id=message.sender_id, deleted_at__isnull=True))
    if not live:
        return
    body = body_for(message)
    for callback in live:
        try:
            with transaction.atomic():
                delivery = CallbackDelivery.objects.create(
                    callback=callback, message=message, status=message.status, body=body, next_attempt_at=timezone.now()
                )
        except IntegrityError:  # this status was already announced (a replayed webhook)
            continue
        transaction.on_commit(lambda pk=delivery.pk: _publish(pk), robust=True)


def _publish(delivery_id: int, countdown: float = 0) -> None:
    from notifications import tasks

    try:
        tasks.callback_deliver.apply_async((delivery_id,), countdown=countdown, queue=QUEUE)
    except Exception as exc:  # the broker is down: the sweep picks it up when due
        log.warning("callback delivery %s not published: %s", delivery_id, exc)


# --- attempts -----------------------------------------------------------------------------------


def _post(url: str, *, body: bytes, headers: dict) -> tuple[int | None, str]:
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_LOGGED_ERROR]
    error = "" if 200 <= response.status_code < 300 else (response.text or "")[:200]
    return response.status_code, error


def callback_attempt(*, delivery_id: int, now: datetime | None = None) -> float | None:
    """POST one delivery now, log the attempt; the seconds until the next try, or None when done."""
    with transaction.atomic():
        delivery = (
            CallbackDelivery.objects.select_for_update(skip_locked=True)
            .select_related("callback")
            .filter(pk=delivery_id, state=CallbackDelivery.State.PENDING)
            .first()
        )
        if delivery is None:  # done already, or another worker is at it
            return None
        now = now or timezone.now()
        body = json.dumps(delivery.body, separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "whatsapp-inbox-callbacks/1",
            "X-Inbox-Timestamp": timestamp,
            "X-Inbox-Signature": sign(secret=delivery.callback.secret, timestamp=timestamp, body=body),
        }
        started = time.monotonic()
        status_code, error = _post(delivery.callback.url, body=body, headers=headers)
        duration = int((time.monotonic() - started) * 1000)
        CallbackAttempt.objects.create(
            delivery=delivery, at=now, status_code=status_code, error=error, duration_ms=duration
        )
        delivery.attempts += 1
        wait = None
        if status_code is not None and 200 <= status_code < 300:
            delivery.state, delivery.next_attempt_at = CallbackDelivery.State.DELIVERED, None
        elif delivery.attempts > len(BACKOFF) or now - delivery.created_at >= GIVE_UP_AFTER:
            delivery.state, delivery.next_attempt_at = CallbackDelivery.State.GAVE_UP, None
        else:
            wait = float(BACKOFF[delivery.attempts - 1])
            delivery.next_attempt_at = now + timedelta(seconds=wait)
        delivery.save(update_fields=["state", "attempts", "next_attempt_at"])
    return wait


def deliveries_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (their publish was lost, or a worker died)."""
    return list(
        CallbackDelivery.objects.filter(state=CallbackDelivery.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
