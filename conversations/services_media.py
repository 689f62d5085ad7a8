"""Writes for a message's media file: stored through Django's storage API, or a visible failure.

Downloading is the webhooks app's job (`webhooks.media`); this module only records the result
so the thread shows the file, or says why it is missing and offers a retry.
"""

from __future__ import annotations

import mimetypes
import os

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import get_valid_filename

from conversations import events
from conversations.models import Message

_MEDIA_FIELDS = ["media_file", "media_mime_type", "media_filename", "media_state", "media_error"]


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
    from webhooks.tasks import media_download

    transaction.on_commit(lambda: media_download.delay(message.pk), robust=True)
    return message
