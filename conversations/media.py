"""A customer's media file: fetched from Meta right after it arrives, then stored, or a visible failure.

An inbound message brings only Meta's media id (valid 7 days); the URL it resolves to lives 5
minutes. So a download always asks Meta for a fresh URL (`media_info`), then downloads with a
size limit. Transient errors are retried here with backoff; what is still transient afterwards
is left to the Celery task's own retry, and a permanent error (or the last try) is recorded on
the message, so the thread shows the file, or says why it is missing and offers a retry.

Downloads run in a worker: `download_later(message_id)` publishes one when the transaction
commits, through the task `ConversationsConfig.ready` registers (`conversations.tasks`
imports this module, so this module never imports the tasks).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import get_valid_filename

from conversations import events
from conversations.models import Message
from whatsapp.client import CloudApiClient, get_client
from whatsapp.errors import CloudApiError
from whatsapp.retry import call_with_retry

logger = logging.getLogger(__name__)

# Meta refuses inbound media over 100 MB (131052); keep the same ceiling unless configured.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024

_MEDIA_FIELDS = ["media_file", "media_mime_type", "media_filename", "media_state", "media_error"]


def max_media_bytes() -> int:
    return int(getattr(settings, "WHATSAPP_MEDIA_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- publishing a download ------------------------------------------------------------------------


def _not_registered(message_id: int) -> object:
    raise RuntimeError("media downloads are not registered (ConversationsConfig.ready has not run)")


_publish: Callable[[int], object] = _not_registered


def downloader_register(publish: Callable[[int], object]) -> None:
    """`publish(message_id)` hands one message's download to a worker (now, not on commit)."""
    global _publish
    _publish = publish


def download_later(message_id: int) -> None:
    """Download the message's media in a worker once the current transaction commits.

    Robust: a broker that is down is logged, not raised at a caller whose work has committed
    (and the other on-commit callbacks still run); the message stays pending, to be retried.
    """
    transaction.on_commit(lambda: _publish(message_id), robust=True)


# --- downloading ----------------------------------------------------------------------------------


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


# --- recording the result -------------------------------------------------------------------------


def _storage_name(message: Message, mime_type: str, filename: str) -> str:
    """Our own name for the file: the message id plus a cleaned name, never the sender's path."""
    base = os.path.basename(filename or "")
    try:
        base = get_valid_filename(base)[:80] if base else ""
    except Exception:  # get_valid_filename refuses names like ".." with SuspiciousFileOperation
        base = ""
    stem, ext = os.path.splitext(base)
    if not ext:
        ext = mimetypes.guess_extension((mime_type or "").split(";")[0].strip()) or ""
    return f"{message.pk}-{stem or message.type or 'media'}{ext}"


def media_store(*, message: Message, content: bytes, mime_type: str, filename: str) -> Message:
    """Save the downloaded file on the message and mark it stored."""
    if message.media_file:
        message.media_file.delete(save=False)
    message.media_file.save(_storage_name(message, mime_type, filename), ContentFile(content), save=False)
    message.media_mime_type = (mime_type or message.media_mime_type)[:255]
    message.media_filename = (filename or message.media_filename)[:255]
    message.media_state = Message.MediaState.STORED
    message.media_error = ""
    message.save(update_fields=_MEDIA_FIELDS)
    events.message_changed(message)
    return message


def media_failed(*, message: Message, reason: str) -> Message:
    """Record why the file could not be fetched; the thread shows it and offers a retry."""
    message.media_state = Message.MediaState.FAILED
    message.media_error = str(reason)[:255]
    message.save(update_fields=["media_state", "media_error"])
    events.message_changed(message)
    return message


def media_retry(*, message: Message) -> Message:
    """Try the download again (an agent's or admin's retry); Meta keeps inbound media ids 7 days."""
    if not message.media_id:
        raise ValueError("this message has no media to download")
    message.media_state = Message.MediaState.PENDING
    message.media_error = ""
    message.save(update_fields=["media_state", "media_error"])
    events.message_changed(message)
    download_later(message.pk)
    return message
