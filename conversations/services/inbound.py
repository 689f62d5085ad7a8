"""Receiving from Meta: the number a webhook is for, the thread (got or created, and locked),
customers' messages, status webhooks on our messages, and what a refusal means for the thread.

Called by webhook processing inside its transaction; idempotent (a message's wamid is unique, a
status never moves backwards).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conversations import events, window
from conversations.models import BusinessNumber, Contact, Conversation, EarlyStatus, Message
from conversations.services._common import _require_aware
from conversations.services.activity import Kind, activity_record
from conversations.services.contacts import _message_asks_opt_out, contact_for_identity, contact_opt_out
from whatsapp import errors

# Types that should not raise the unread count (nothing for an agent to answer).
NON_UNREAD_TYPES = frozenset({"reaction", "system"})

# Outbound status order; a status webhook never moves a message back down this list.
STATUS_RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.READ: 4,
    Message.Status.PLAYED: 5,
}
STATUS_TIME_FIELD = {
    Message.Status.SENT: "sent_at",
    Message.Status.DELIVERED: "delivered_at",
    Message.Status.READ: "read_at",
    Message.Status.PLAYED: "played_at",
    Message.Status.FAILED: "failed_at",
}


def number_for_phone_number_id(phone_number_id: str) -> BusinessNumber | None:
    return BusinessNumber.objects.filter(phone_number_id=phone_number_id).first()


def _conversation_locked(*, number: BusinessNumber, contact: Contact) -> Conversation:
    """The (number, contact) thread, created if new, locked for this transaction."""
    conversation = Conversation.objects.select_for_update(no_key=True).filter(number=number, contact=contact).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            Conversation.objects.create(number=number, contact=contact)
    except IntegrityError:
        pass  # created concurrently; lock that one
    return Conversation.objects.select_for_update(no_key=True).get(number=number, contact=contact)


def conversation_get_or_create(*, number: BusinessNumber, contact: Contact) -> Conversation:
    """The thread of this number and customer, created if new (for business-initiated sends),
    locked for the caller's transaction."""
    return _conversation_locked(number=number, contact=contact)


@transaction.atomic
def inbound_message_receive(*, number: BusinessNumber, message: Any, profile: Any | None) -> Message | None:
    """Store a customer's message in its thread; None when this wamid was already stored.

    `message` is a `whatsapp.schemas.InboundMessage`, `profile` its `ContactProfile`.
    """
    timestamp = _require_aware(message.timestamp, "message.timestamp")

    def fitted(value: str | None, field: str) -> str:
        """Meta's value cut to its column. An over-long wamid keeps its start and a digest of the
        whole, so it stays unique and Meta's retry of it is still recognised."""
        value = value or ""
        limit = Message._meta.get_field(field).max_length
        if len(value) <= limit:
            return value
        if field not in ("wamid", "context_wamid"):
            return value[:limit]
        import hashlib

        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{value[: limit - len(digest) - 1]}~{digest}"

    wamid = fitted(message.id, "wamid")
    if Message.objects.filter(wamid=wamid).exists():
        return None
    contact = contact_for_identity(
        wa_id=message.from_wa_id or (profile.wa_id if profile else None),
        user_id=message.from_user_id or (profile.user_id if profile else None),
        name=(profile.name if profile else "") or "",
        username=(getattr(profile, "username", "") if profile else "") or "",
    )
    # Lock the contact before the thread, always: a profile update and a STOP keyword for the
    # same customer arriving at once would otherwise take the two locks in opposite orders.
    Contact.objects.select_for_update(no_key=True).filter(pk=contact.pk).first()
    conversation = _conversation_locked(number=number, contact=contact)

    quoted_wamid = fitted(message.reaction_to if message.type == "reaction" else message.context_id, "context_wamid")
    reply_to = None
    if quoted_wamid:
        reply_to = Message.objects.filter(conversation=conversation, wamid=quoted_wamid).first()
    media = getattr(message, "media", None)
    fields: dict[str, Any] = {
        "conversation": conversation,
        "direction": Message.Direction.IN,
        "type": message.type,
        "text": message.text or "",
        "payload": getattr(message, "raw", None) or {},
        "wamid": wamid,
        "status": Message.Status.RECEIVED,
        "sent_at": timestamp,
        "context_wamid": quoted_wamid or "",
        "reply_to": reply_to,
    }
    if media is not None:
        fields.update(
            media_id=fitted(media.id, "media_id"),
            media_mime_type=fitted(media.mime_type, "media_mime_type"),
            media_filename=fitted(getattr(media, "filename", ""), "media_filename"),
            media_state=Message.MediaState.PENDING,
        )
    try:
        # The wamid constraint is the real dedupe: a concurrent replay loses here, quietly.
        with transaction.atomic():
            stored = Message.objects.create(**fields)
    except IntegrityError:
        if Message.objects.filter(wamid=wamid).exists():
            return None
        raise

    changed = ["updated_at"]
    if window.renews_window(message.type) and (
        conversation.last_inbound_at is None or timestamp > conversation.last_inbound_at
    ):
        # Only forward and only by Meta's clock: a late webhook cannot reopen a closed window.
        conversation.last_inbound_at = timestamp
        changed.append("last_inbound_at")
    if conversation.last_message_at is None or timestamp > conversation.last_message_at:
        conversation.last_message_at = timestamp
        changed.append("last_message_at")
    if message.type not in NON_UNREAD_TYPES:
        conversation.unread_count += 1
        changed.append("unread_count")
        # A customer writing again needs an answer: resolved threads reopen, snoozed ones wake,
        # and "pending" (waiting for the customer) is over.
        if conversation.status != Conversation.Status.OPEN:
            conversation.status = Conversation.Status.OPEN
            conversation.snoozed_until = None
            changed += ["status", "snoozed_until"]
            # By our clock, not Meta's: a late webhook's reopen comes after what agents did meanwhile.
            activity_record(conversation_id=conversation.pk, actor=None, kind=Kind.REOPENED, at=timezone.now())
    conversation.save(update_fields=changed)

    if _message_asks_opt_out(message):
        source = Contact.OptOutSource.KEYWORD if message.type == "text" else Contact.OptOutSource.BUTTON
        contact_opt_out(contact=contact, source=source, at=timestamp)

    events.message_changed(stored, created=True)
    events.conversation_changed(conversation)
    return stored


def _lock_wamid(wamid: str) -> None:
    """Serialise "is this wamid ours?" with "record this wamid" until the transaction ends.

    A status webhook can race the delivery task that stores the wamid Meta returned; with this
    lock either the status sees the stored wamid, or the task sees the parked status.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [wamid])


@transaction.atomic
def message_status_apply(*, status: Any) -> Message | None:
    """Apply Meta's status webhook to our outbound message.

    Returns None when no message has this wamid yet: the status is parked (EarlyStatus) and
    applied when the delivery task records the wamid, since Meta's webhook can beat our commit.
    """
    timestamp = _require_aware(status.timestamp, "status.timestamp")
    _lock_wamid(status.id)
    message = (
        Message.objects.select_for_update(no_key=True)
        .select_related("conversation")
        .filter(wamid=status.id, direction=Message.Direction.OUT)
        .first()
    )
    if message is None:
        if getattr(status, "raw", None):
            EarlyStatus.objects.get_or_create(wamid=status.id, status=status.status, defaults={"raw": status.raw})
        return None
    new = status.status
    changed: list[str] = []
    time_field = STATUS_TIME_FIELD.get(new)
    # Each step's time is recorded even when it arrives late (read before delivered).
    if time_field and getattr(message, time_field) is None:
        setattr(message, time_field, timestamp)
        changed.append(time_field)

    if new == Message.Status.FAILED:
        # A failure after the phone showed the message is not believable; otherwise it is final.
        if message.status != Message.Status.FAILED and STATUS_RANK.get(message.status, 0) < STATUS_RANK["delivered"]:
            error = status.errors[0] if status.errors else None
            message.status = Message.Status.FAILED
            message.error_code = getattr(error, "code", None)
            message.error_title = (getattr(error, "title", "") or getattr(error, "message", "") or "")[:255]
            message.error_details = getattr(error, "details", "") or getattr(error, "message", "") or ""
            changed += ["status", "error_code", "error_title", "error_details"]
            _refusal_meaning_apply(message.conversation, message.error_code, at=timestamp)
    elif (
        new in STATUS_RANK
        and message.status != Message.Status.FAILED
        and STATUS_RANK[new] > STATUS_RANK.get(message.status, -1)
    ):
        message.status = new
        changed.append("status")
    if changed:
        message.save(update_fields=changed)
        events.message_changed(message)
    if "status" in changed and message.status == Message.Status.FAILED:
        _after_failure(message, code=message.error_code, at=timestamp)
    elif new != Message.Status.FAILED:
        from billing import services as billing

        # Meta's own word on what the message cost: the first `pricing` sets the record, later
        # ones confirm; a delivery without one still tells billing it was delivered. The raw
        # object is passed on whole, so fields we do not know are kept.
        raw = (getattr(status, "raw", None) or {}).get("pricing")
        pricing = raw if isinstance(raw, dict) else (status.pricing.model_dump() if status.pricing else None)
        billing.billing_status_apply(message_id=message.pk, status=new, pricing=pricing, at=timestamp)
    return message


def _window_close(*, conversation: Conversation, at: datetime) -> None:
    """Meta said 131047: the window is closed whatever we computed (until the customer writes)."""
    locked = Conversation.objects.select_for_update(no_key=True).get(pk=conversation.pk)
    if locked.window_closed_at is None or at > locked.window_closed_at:
        locked.window_closed_at = at
        locked.save(update_fields=["window_closed_at", "updated_at"])
        events.conversation_changed(locked)
    conversation.window_closed_at = locked.window_closed_at


def _refusal_meaning_apply(conversation: Conversation, code: int | None, *, at: datetime) -> None:
    """What Meta's refusal says beyond the message: the window is closed, or the customer
    stopped marketing from this business."""
    meaning = errors.classify(code) if code is not None else None
    if meaning is None:
        return
    if meaning.closes_window:
        _window_close(conversation=conversation, at=at)
    elif meaning.stops_marketing:
        contact_opt_out(contact=conversation.contact, source=Contact.OptOutSource.META_ERROR, at=at)


def _after_failure(message: Message, *, code: int | None, at: datetime) -> None:
    """A message that will never be delivered costs nothing; a refusal that says the template
    itself is paused or disabled since we checked it is applied to the template, so nobody
    else picks it."""
    from billing import services as billing

    billing.billing_status_apply(message_id=message.pk, status=Message.Status.FAILED, pricing=None, at=at)
    if message.type == "template" and code is not None and errors.classify(code).stops_template:
        from templates_app import services as templates

        templates.template_send_error_apply(
            waba_id=message.conversation.number.waba_id,
            name=message.template_name,
            language=message.template_language,
            code=code,
            now=at,
        )
