"""Sending: what agents and the API send (text, template, media, reaction) and private notes.

Sending is "record, then send": the checks (window, stopped number, opt-out, budget) run on the
locked thread, the message is saved as queued with its billing record, and a delivery worker
hands it to Meta after commit (`conversations.services.delivery`). A failed message can be sent
again, as a new message, when Meta's reason allows it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from conversations import events
from conversations.exceptions import (
    BudgetExceeded,
    ConversationError,
    InvalidTemplateParameters,
    NotAllowed,
    OptedOut,
    TemplateNotApproved,
    WindowClosed,
)
from conversations.models import Conversation, Message
from conversations.services._common import _now
from conversations.services.activity import Kind, activity_record
from conversations.services.canned import canned_expand
from conversations.services.delivery import delivery_wake, may_have_been_delivered_reason
from whatsapp import errors

MAX_TEXT_LENGTH = 4096  # Meta's limit for a text body
MAX_CAPTION_LENGTH = 1024
# Meta's size limits per media kind (cloud-api.md 2.4).
MEDIA_LIMITS = {"image": 5 * 1024 * 1024, "video": 16 * 1024 * 1024, "audio": 16 * 1024 * 1024}
DOCUMENT_LIMIT = 100 * 1024 * 1024
MEDIA_KINDS = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4", "video/3gpp"),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
}


def _conversation_for_update(conversation: Conversation) -> Conversation:
    # Re-read under lock: the window and the status are decided on the row as it is now.
    return (
        Conversation.objects.select_for_update(no_key=True).select_related("number", "contact").get(pk=conversation.pk)
    )


def _check_can_send(conversation: Conversation, *, now: datetime, needs_window: bool = True) -> None:
    if conversation.number.stopped_at is not None:
        raise ConversationError(
            _("Sending from this number is stopped: %(reason)s") % {"reason": conversation.number.stopped_reason}
        )
    if needs_window and not conversation.window_open(now):
        raise WindowClosed(conversation.window_expires_at())


def _bill(message: Message, *, now: datetime) -> None:
    """The billing record of a chargeable message, in the same transaction as the message.

    billing owns every pricing rule; it decides whether this message costs anything, and
    refuses it when the number's budget would be overshot (the whole send rolls back).
    """
    from billing import exceptions as billing_errors
    from billing import services as billing

    try:
        billing.billing_record_for_message(message=message, now=now)
    except billing_errors.BudgetExceeded as exc:
        raise BudgetExceeded(str(exc), remaining=str(exc.remaining), currency=exc.currency) from exc


def _existing_for_client_id(*, sender, client_id, conversation: Conversation) -> Message | None:
    """The message this sender already recorded under client_id (a retried send), if any."""
    if client_id is None or sender is None:
        return None
    existing = Message.objects.filter(sender=sender, client_id=client_id).first()
    if existing is not None and existing.conversation_id != conversation.pk:
        raise ConversationError(_("This client_id was already used for a message in another conversation."))
    return existing


def _record_outbound(*, conversation: Conversation, sender, now: datetime, client_id=None, **fields: Any) -> Message:
    """Save the outbound message as queued and schedule its delivery after commit."""

    create = {
        "conversation": conversation,
        "direction": Message.Direction.OUT,
        "sender": sender,
        "status": Message.Status.QUEUED,
        **fields,
    }
    if client_id is not None:
        create["client_id"] = client_id
    message = Message.objects.create(**create)
    _bill(message, now=now)
    conversation.last_message_at = max(filter(None, [conversation.last_message_at, now]))
    # Answering the customer means the agent has read the thread.
    conversation.unread_count = 0
    conversation.save(update_fields=["last_message_at", "unread_count", "updated_at"])
    # The publish only wakes a worker: if it is lost (Redis down, a worker killed with it
    # prefetched), the message is still queued in the table and the sweep sends it, once.
    transaction.on_commit(lambda: delivery_wake(message.pk), robust=True)
    events.message_changed(message, created=True)
    events.conversation_changed(conversation)
    return message


def _client_uuid(client_id) -> uuid.UUID | None:
    """The sender's idempotency key; a missing or malformed one just means "no key" (a fresh message)."""
    if client_id in (None, ""):
        return None
    try:
        return client_id if isinstance(client_id, uuid.UUID) else uuid.UUID(str(client_id))
    except ValueError:
        return None


def _send_transaction(*, savepoint: bool):
    """The send's transaction: the caller's when it has one (a savepoint only when asked), else a new one.

    A savepoint is only needed where an error is recovered from inside the send: a client_id
    that collides on its unique index (a racing retry) is answered with the other's message.
    """
    if connection.in_atomic_block and not savepoint:
        return nullcontext()
    return transaction.atomic()


def _send(
    *,
    conversation: Conversation,
    sender,
    client_id,
    now: datetime | None,
    needs_window: bool = True,
    already_locked: bool = False,
    check: Callable[[Conversation], None] | None = None,
    **fields: Any,
) -> Message:
    """`already_locked`: the caller locked `conversation` in this transaction, its number and
    contact loaded (conversation_get_or_create), so it is not read again. `check(locked)` may
    refuse the send on the locked thread (its contact as it is now)."""
    now = _now(now)
    client_id = _client_uuid(client_id)
    existing = _existing_for_client_id(sender=sender, client_id=client_id, conversation=conversation)
    if existing is not None:
        # A retried request (double click, network retry): the first one stands, nothing is sent twice.
        return existing
    try:
        with _send_transaction(savepoint=client_id is not None):
            locked = conversation if already_locked else _conversation_for_update(conversation)
            # Refusals come before any write: the caller's transaction stays usable after one.
            _check_can_send(locked, now=now, needs_window=needs_window)
            if check is not None:
                check(locked)
            # No savepoint: an error from here on (a budget refusal) leaves the caller's
            # transaction only to be rolled back, so half a send (a message without its billing
            # record) can never be committed.
            with transaction.atomic(savepoint=False):
                return _record_outbound(conversation=locked, sender=sender, now=now, client_id=client_id, **fields)
    except IntegrityError:
        # The same client_id raced in from a second request; that one won.
        existing = _existing_for_client_id(sender=sender, client_id=client_id, conversation=conversation)
        if existing is None:
            raise
        return existing


def _clean_text(text: str, *, limit: int, what: str) -> str:
    # PostgreSQL text cannot hold NUL; it would fail the INSERT with a 500.
    if "\x00" in text:
        raise ConversationError(_("The %(what)s contains a character that cannot be sent.") % {"what": what})
    if len(text) > limit:
        raise ConversationError(
            _("The %(what)s is %(length)d characters long; WhatsApp allows %(limit)d.")
            % {"what": what, "length": len(text), "limit": limit}
        )
    return text


@transaction.atomic
def message_send_text(
    *,
    conversation: Conversation,
    sender,
    text: str,
    reply_to: Message | None = None,
    client_id=None,
    now: datetime | None = None,
) -> Message:
    """Queue a free-form text reply; raises WindowClosed outside the customer service window."""

    body = canned_expand(text=text or "").strip()
    if not body:
        raise ConversationError(_("Write a message first."))
    _clean_text(body, limit=MAX_TEXT_LENGTH, what=_("message"))
    if reply_to is not None and (reply_to.conversation_id != conversation.pk or not reply_to.wamid):
        raise NotAllowed(_("You can only quote a message of this conversation that reached WhatsApp."))
    return _send(
        conversation=conversation,
        sender=sender,
        client_id=client_id,
        now=now,
        type="text",
        text=body,
        reply_to=reply_to,
        context_wamid=reply_to.wamid if reply_to else "",
    )


# No atomic block (or savepoint) of its own: the template is read first, then _send runs the
# lock, the checks and the writes in the caller's transaction, or in one of its own.
def message_send_template(
    *,
    conversation: Conversation,
    sender,
    template: str,
    language: str,
    parameters: dict | None = None,
    client_id=None,
    now: datetime | None = None,
    conversation_locked: bool = False,
) -> Message:
    """Queue an approved template; allowed inside and outside the customer service window.

    Refuses a template not approved both by a second admin and by Meta (or paused, disabled),
    parameters that do not fit it (every problem listed), marketing to a customer who opted
    out, and a paid message the number's budget cannot cover. The message stores the template's
    name, language, category at send time and the text the customer sees.
    `conversation_locked`: the caller already holds the thread's lock in this transaction, with
    its number and contact read in it (conversation_get_or_create after contact_for_identity).
    """
    from templates_app import exceptions as template_errors
    from templates_app.selectors import template_prepare_send

    try:
        prepared = template_prepare_send(
            waba_id=conversation.number.waba_id, name=template, language=language or "", parameters=parameters
        )
    except template_errors.TemplateNotApproved as exc:
        raise TemplateNotApproved(template, str(exc)) from exc
    except template_errors.InvalidParameters as exc:
        raise InvalidTemplateParameters(exc.problems) from exc

    def refuse_opted_out(locked: Conversation) -> None:
        # Decided on the contact read with the thread's lock, not on an earlier copy.
        if prepared.category == "MARKETING" and locked.contact.marketing_opted_out:
            raise OptedOut()

    return _send(
        conversation=conversation,
        sender=sender,
        client_id=client_id,
        now=now,
        needs_window=False,
        already_locked=conversation_locked,
        check=refuse_opted_out,
        type="template",
        text=prepared.text,
        template_name=prepared.name,
        template_language=prepared.language,
        template_parameters=prepared.parameters,
        template_category=prepared.category,
        payload={"template": {"components": prepared.send_components}},
    )


_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


def _base_mime_type(mime_type: str) -> str:
    """`type/subtype` from what the browser claimed; anything odd becomes a plain binary file."""
    base = (mime_type or "").split(";")[0].strip().lower()
    return base if _MIME.fullmatch(base) else "application/octet-stream"


def media_kind_for(mime_type: str) -> str:
    base = (mime_type or "").split(";")[0].strip().lower()
    for kind, types in MEDIA_KINDS.items():
        if base in types:
            return kind
    return "document"


@transaction.atomic
def message_send_media(
    *,
    conversation: Conversation,
    sender,
    content: bytes,
    mime_type: str,
    filename: str,
    caption: str = "",
    client_id=None,
    now: datetime | None = None,
) -> Message:
    """Queue a media reply. The file is stored now; the task uploads it to Meta, then sends it."""

    if not content:
        raise ConversationError(_("The file is empty."))
    mime_type = _base_mime_type(mime_type)
    kind = media_kind_for(mime_type)
    limit = MEDIA_LIMITS.get(kind, DOCUMENT_LIMIT)
    if len(content) > limit:
        raise ConversationError(
            _("The file is too large for WhatsApp (%(size)d MB at most for this kind).") % {"size": limit // 2**20}
        )
    caption = _clean_text(caption.strip(), limit=MAX_CAPTION_LENGTH, what=_("caption"))
    safe_name = re.sub(r"[^\w.\- ]", "_", filename or "file")[:200] or "file"
    message = _send(
        conversation=conversation,
        sender=sender,
        client_id=client_id,
        now=now,
        type=kind,
        text=caption,
        media_mime_type=mime_type,
        media_filename=safe_name,
    )
    if not message.media_file:
        message.media_file.save(safe_name, ContentFile(content), save=False)
        message.media_state = Message.MediaState.STORED
        message.save(update_fields=["media_file", "media_state"])
    return message


@transaction.atomic
def message_react(
    *, conversation: Conversation, sender, message: Message, emoji: str, now: datetime | None = None
) -> Message:
    """React to a message of the thread (an empty emoji removes our reaction)."""

    if message.conversation_id != conversation.pk or not message.wamid:
        raise NotAllowed(_("You can only react to a message of this conversation that reached WhatsApp."))
    return _send(
        conversation=conversation,
        sender=sender,
        client_id=None,
        now=now,
        type="reaction",
        text=emoji or "",
        reply_to=message,
        context_wamid=message.wamid,
    )


@transaction.atomic
def note_add(*, conversation: Conversation, author, text: str) -> Message:
    """A private note for colleagues in the thread; never sent to the customer."""

    body = (text or "").strip()
    if not body:
        raise ConversationError(_("Write a note first."))
    _clean_text(body, limit=MAX_TEXT_LENGTH, what=_("note"))
    note = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        type="note",
        text=body,
        status=Message.Status.NOTE,
        sender=author,
    )
    # A note is activity on the thread: the list row shows it as the latest, so the list orders
    # by its time too. A conditional UPDATE: never moves the time back, needs no lock.
    Conversation.objects.filter(pk=conversation.pk).filter(
        Q(last_message_at__isnull=True) | Q(last_message_at__lt=note.created_at)
    ).update(last_message_at=note.created_at, updated_at=note.created_at)
    if conversation.last_message_at is None or conversation.last_message_at < note.created_at:
        conversation.last_message_at = note.created_at
    events.message_changed(note, created=True)
    return note


# --- agents: sending a failed message again -----------------------------------------------------


def message_retry_refusal(*, message: Message, now: datetime | None = None) -> str:
    """Why this failed message may not be sent again (empty when it may).

    Transient errors (Meta busy, unreachable) may be retried. Permanent ones are refused with
    Meta's reason, except 131047 (window closed: a new send re-checks the window) and 131049
    (held-back marketing: after its wait). A message that may have reached the customer (WhatsApp
    never answered, see `message_retry_may_duplicate`) is never sent again: it could arrive twice.
    """
    now = _now(now)
    if message.direction != Message.Direction.OUT or message.status != Message.Status.FAILED:
        return _("Only a failed message can be sent again.")
    if message_retry_may_duplicate(message):
        return _(
            "Not offered again: WhatsApp never answered, so the customer may already have this message "
            "and a second send could reach them twice. Ask the customer, then write again if it did not arrive."
        )
    if message.type != "text":
        return _("Only a text message can be sent again from the thread; choose a template for the others.")
    if message.error_code is None:
        return ""
    kind = errors.classify(message.error_code)
    if kind.closes_window:
        return ""
    if kind.kind is errors.Kind.TRANSIENT:
        return ""
    if kind.defer_seconds and message.failed_at and now >= message.failed_at + timedelta(seconds=kind.defer_seconds):
        return ""
    return str(kind.reason or errors.reason_for(message.error_code))


def message_retry_may_duplicate(message: Message) -> bool:
    """True when WhatsApp never answered the send: the customer may already have this message."""
    from django.utils import translation

    if message.error_code is not None or message.wamid:
        return False
    reasons = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reasons.add(str(may_have_been_delivered_reason()))
    return message.error_details in reasons


@transaction.atomic
def message_retry(*, message: Message, by, now: datetime | None = None) -> Message:
    """Send a failed text message again, as a new message (the failed one keeps its reason),
    and record in the thread's history who did.

    Refused (NotAllowed) when Meta's error says it cannot succeed or when the customer may
    already have it; WindowClosed when the window closed meanwhile.
    """
    now = _now(now)
    refusal = message_retry_refusal(message=message, now=now)
    if refusal:
        raise NotAllowed(refusal)
    conversation = Conversation.objects.select_related("number", "contact").get(pk=message.conversation_id)
    reply_to = message.reply_to if message.reply_to_id and message.reply_to and message.reply_to.wamid else None
    sent = message_send_text(conversation=conversation, sender=by, text=message.text, reply_to=reply_to, now=now)
    activity_record(conversation_id=conversation.pk, actor=by, kind=Kind.RETRIED, at=now)
    return sent
