"""Downloading a customer's media right after it arrives (the URL lives 5 minutes, the id 7 days).

Always asks Meta for a fresh URL (`media_info`), then downloads with a size limit. Transient
errors are retried here with backoff; what is still transient afterwards is left to the
Celery task's own retry, and a permanent error (or the last try) is recorded on the message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings

from conversations.models import Message
from conversations.services_media import media_failed, media_store
from whatsapp.client import CloudApiClient, get_client
from whatsapp.errors import CloudApiError
from whatsapp.retry import call_with_retry

logger = logging.getLogger(__name__)

# Meta refuses inbound media over 100 MB (131052); keep the same ceiling unless configured.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024


def max_media_bytes() -> int:
    return int(getattr(settings, "WHATSAPP_MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES))


def message_media_download(
    *,
    message_id: int,
    client: CloudApiClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 3,
    final: bool = True,
) -> Message | None:
    """Fetch and store the media of an inbound message.

    With `final=False` a transient error is raised (so the caller can retry later) instead of
    being recorded as a failure.
    """
    message = Message.objects.filter(pk=message_id).first()
    if message is None or not message.media_id or message.media_state == Message.MediaState.STORED:
        return message
    client = client or get_client()
    try:
        info = call_with_retry(lambda: client.media_info(media_id=message.media_id), attempts=attempts, sleep=sleep)
        content = call_with_retry(
            lambda: client.download_media(url=info["url"], max_bytes=max_media_bytes()), attempts=attempts, sleep=sleep
        )
    except CloudApiError as exc:
        if exc.transient and not final:
            raise
        logger.warning("media of message %s not downloaded: %s", message_id, exc)
        reason = str(exc.reason) if exc.code is not None else str(exc)
        return media_failed(message=message, reason=reason)
    return media_store(
        message=message,
        content=content,
        mime_type=info.get("mime_type") or message.media_mime_type,
        filename=message.media_filename,
    )
